"""The known-error catalogue (assets/known_errors.yaml): failure text -> cause, explanation and a previewable fix."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

import yaml

from wizard import yamlio
from wizard.actions import Action, RemoveFile, Run, Symlink, WriteFile
from wizard.answers import default_answers
from wizard.assets import asset_path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from wizard.host import HostFacts
    from wizard.steps.base import Context

LANGUAGES = ("en", "zh")
TEXT_FIELDS = ("title", "explanation")
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# values the wizard resolves from the answers and the host (see _context_values)
CONTEXT_PLACEHOLDERS = ("pause_image", "cgroup_manager", "cni_version")
# `retry` changes nothing: the fix is to run the step again (a transient hang, a lock released since)
ACTION_KINDS = ("run", "install_packages", "write", "remove", "link", "json_set", "toml_set", "answer", "retry")
RUN_OPTIONS = ("ok_codes", "timeout")
WHEN_KEYS = ("family", "package_manager", "systemd", "major", "min_major")
PREVIEW_LINES = 12  # lines of a written file shown in a fix preview


class CatalogueError(Exception):
    """The catalogue file is malformed; `problems` names the entry and field of each problem."""

    def __init__(self, problems: list[str]):
        super().__init__("known-error catalogue: " + "; ".join(problems))
        self.problems = problems


class FixError(Exception):
    """A fix cannot be prepared on this host (e.g. the JSON file it edits does not parse)."""


@dataclass(frozen=True, eq=False)  # entries are compared by identity (they hold dicts)
class KnownError:
    id: str
    steps: tuple[str, ...]
    patterns: tuple[re.Pattern, ...]
    title: dict
    explanation: dict
    links: tuple[str, ...]
    fix: dict | None

    def text(self, field: str, lang: str) -> str:
        """"title", "explanation" or "fix" (the fix summary) in `lang`, falling back to English."""
        if field == "fix":
            texts = self.fix["summary"] if self.fix else {}
        else:
            texts = getattr(self, field)
        return texts.get(lang) or texts.get("en", "")

    def applies_to(self, step_id: str | None) -> bool:
        return step_id is None or "any" in self.steps or step_id in self.steps


@dataclass(frozen=True)
class Match:
    entry: KnownError
    line: str  # the line that matched
    groups: tuple[str, ...]  # the matching pattern's groups ("" for a group that did not take part)


@lru_cache(maxsize=1)
def load() -> list[KnownError]:
    """The shipped catalogue, validated (CatalogueError names every problem)."""
    path = asset_path("known_errors.yaml")
    try:
        document = yamlio.load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CatalogueError([f"{path}: not valid YAML: {str(error).splitlines()[0]}"]) from None
    return parse(document)


def parse(document: Any) -> list[KnownError]:
    """Validate a parsed catalogue document and build its entries."""
    if not isinstance(document, dict) or not isinstance(document.get("errors"), list):
        raise CatalogueError(["the top level must be a mapping with an `errors` list"])
    problems: list[str] = []
    entries: list[KnownError] = []
    seen_ids: set[str] = set()
    for index, raw in enumerate(document["errors"]):
        where = f"entry {index + 1}"
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            where = raw["id"]
        entry_problems = _entry_problems(raw, seen_ids)
        problems += [f"{where}: {problem}" for problem in entry_problems]
        if not entry_problems:
            seen_ids.add(raw["id"])
            entries.append(_build(raw))
    if problems:
        raise CatalogueError(problems)
    return entries


def _entry_problems(raw: Any, seen_ids: set[str]) -> list[str]:
    if not isinstance(raw, dict):
        return ["must be a mapping"]
    problems = []
    allowed = {"id", "steps", "patterns", "title", "explanation", "links", "fix"}
    problems += [f"unknown field {key!r}" for key in raw if key not in allowed]
    problems += [f"missing field {key!r}" for key in sorted(allowed - {"fix"}) if key not in raw]
    if problems:
        return problems
    if not isinstance(raw["id"], str) or not KEBAB.match(raw["id"]):
        problems.append(f"id {raw['id']!r} is not kebab-case")
    elif raw["id"] in seen_ids:
        problems.append("duplicate id")
    if not _string_list(raw["steps"]) or not all(step == "any" or KEBAB.match(step) for step in raw["steps"]):
        problems.append("steps must be a non-empty list of step ids (or [any])")
    if not _string_list(raw["patterns"]):
        problems.append("patterns must be a non-empty list of regexes")
    else:
        for pattern in raw["patterns"]:
            try:
                re.compile(pattern)
            except re.error as error:
                problems.append(f"pattern {pattern!r} does not compile: {error}")
    for field in TEXT_FIELDS:
        problems += _texts_problems(raw[field], field)
    if not _string_list(raw["links"]) or not all(link.startswith("https://") for link in raw["links"]):
        problems.append("links must be a non-empty list of https:// addresses")
    if raw.get("fix") is not None:
        problems += _fix_problems(raw["fix"])
    return problems


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, str) and item for item in value)


def _texts_problems(texts: Any, field: str) -> list[str]:
    if not isinstance(texts, dict):
        return [f"{field} must be a mapping of languages ({', '.join(LANGUAGES)})"]
    return [
        f"{field}.{lang} is missing or empty"
        for lang in LANGUAGES
        if not isinstance(texts.get(lang), str) or not texts[lang].strip()
    ]


def _fix_problems(fix: Any) -> list[str]:
    if not isinstance(fix, dict) or set(fix) != {"summary", "actions"}:
        return ["fix must be a mapping with `summary` and `actions`"]
    problems = _texts_problems(fix["summary"], "fix.summary")
    if not isinstance(fix["actions"], list) or not fix["actions"]:
        return problems + ["fix.actions must be a non-empty list"]
    for number, action in enumerate(fix["actions"], start=1):
        problems += [f"fix action {number}: {problem}" for problem in _action_problems(action)]
    return problems


def _action_problems(action: Any) -> list[str]:
    if not isinstance(action, dict):
        return ["must be a mapping"]
    kinds = [key for key in action if key in ACTION_KINDS]
    if len(kinds) != 1:
        return [f"must have exactly one of {', '.join(ACTION_KINDS)}"]
    kind = kinds[0]
    extra_allowed = {"when"} | (set(RUN_OPTIONS) if kind == "run" else set())
    problems = [f"unknown key {key!r}" for key in action if key != kind and key not in extra_allowed]
    problems += _when_problems(action.get("when"))
    body = action[kind]
    shape_ok = {
        "run": lambda: _string_list(body),
        "install_packages": lambda: isinstance(body, dict) and bool(body)
        and set(body) <= {"dnf", "apt"} and all(_string_list(names) for names in body.values()),
        "write": lambda: isinstance(body, dict) and {"path", "content"} <= set(body) <= {"path", "content", "mode"}
        and isinstance(body["content"], str),
        "remove": lambda: isinstance(body, str),
        "link": lambda: isinstance(body, dict) and set(body) == {"path", "target"},
        "json_set": lambda: isinstance(body, dict) and set(body) == {"path", "key", "value"},
        "toml_set": lambda: isinstance(body, dict) and set(body) == {"path", "table", "key", "value"},
        "answer": lambda: isinstance(body, dict) and bool(body),
        "retry": lambda: body is True,
    }[kind]()
    if not shape_ok:
        return problems + [f"{kind} has the wrong shape (see the file header)"]
    if kind == "answer":
        problems += [f"answer key {key!r} is not in assets/answers.yaml" for key in body if not _answer_key_exists(key)]
    for text in _strings(body):
        for name in PLACEHOLDER.findall(text):
            if not name.isdigit() and name not in CONTEXT_PLACEHOLDERS:
                problems.append(f"unknown placeholder {{{name}}}")
    return problems


def _when_problems(when: Any) -> list[str]:
    if when is None:
        return []
    if not isinstance(when, dict) or not set(when) <= set(WHEN_KEYS):
        return [f"when must be a mapping of {', '.join(WHEN_KEYS)}"]
    return []


def _answer_key_exists(key_path: str) -> bool:
    value: Any = default_answers()
    for part in key_path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return True


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _build(raw: dict) -> KnownError:
    return KnownError(
        id=raw["id"],
        steps=tuple(raw["steps"]),
        patterns=tuple(re.compile(pattern) for pattern in raw["patterns"]),
        title=dict(raw["title"]),
        explanation=dict(raw["explanation"]),
        links=tuple(raw["links"]),
        fix=raw.get("fix"),
    )


def match(step_id: str | None, lines: Iterable[str]) -> list[Match]:
    """The entries (for `step_id`, or all when None) whose patterns match a line, in catalogue order,
    each with the first line it matched."""
    candidates = [entry for entry in load() if entry.applies_to(step_id)]
    found: dict[str, Match] = {}
    for line in lines:
        line = line.rstrip("\r\n")
        for entry in candidates:
            if entry.id in found:
                continue
            for pattern in entry.patterns:
                hit = pattern.search(line)
                if hit:
                    found[entry.id] = Match(entry, line, tuple(group or "" for group in hit.groups()))
                    break
        if len(found) == len(candidates):
            break
    return [found[entry.id] for entry in candidates if entry.id in found]


class _Unfilled(Exception):
    """A placeholder's regex group did not take part in the match: the action does not apply."""


def fix_plan(match: Match, ctx: Context) -> tuple[list[Action], dict]:
    """The entry's fix resolved for this host: the actions to run and the answer updates for the retry.
    Actions that cannot apply here are left out (another family, a file that is not there)."""
    fix = match.entry.fix
    if not fix:
        return [], {}
    values = _context_values(ctx)
    planned: list[Action | str] = []  # a str stands for a JSON/TOML document edited below, by host path
    documents: dict[str, tuple[str, dict]] = {}  # host path -> (json|toml, document)
    answer_updates: dict = {}
    for spec in fix["actions"]:
        if not _host_matches(spec.get("when"), ctx.host.facts):
            continue
        try:
            spec = _fill(spec, match.groups, values)
        except _Unfilled:
            continue
        kind = next(key for key in spec if key in ACTION_KINDS)
        body = spec[kind]
        if not all(_is_host_path(path) for path in _paths(kind, body)):
            continue  # a path taken from the log text that is not a plain absolute path
        if kind == "run":
            planned.append(Run(tuple(body), ok_codes=tuple(spec.get("ok_codes", (0,))),
                               timeout=float(spec.get("timeout", Run.timeout))))
        elif kind == "install_packages":
            planned += _install(body, ctx.host.facts.package_manager)
        elif kind == "write":
            planned.append(WriteFile(body["path"], body["content"], _mode(body.get("mode", 0o644))))
        elif kind == "remove":
            if ctx.exists(body) or ctx.host.path(body).is_symlink():
                planned.append(RemoveFile(body))
        elif kind == "link":
            if body["path"] != body["target"] and ctx.exists(body["target"]):
                planned.append(Symlink(body["path"], body["target"]))
        elif kind in ("json_set", "toml_set"):
            document = _document(documents, kind, body["path"], ctx)
            if document is None:
                continue
            if kind == "json_set":
                if body["key"] not in document:
                    # a new key goes first (where cniVersion sits in a conflist), so the preview shows it
                    reordered = {body["key"]: body["value"], **document}
                    document.clear()
                    document.update(reordered)
                document[body["key"]] = body["value"]
            else:
                _table(document, body["table"], body["path"])[body["key"]] = body["value"]
            planned.append(body["path"])
        elif kind == "answer":
            answer_updates.update(body)
    return _finish(planned, documents), answer_updates


def _paths(kind: str, body: Any) -> list[str]:
    if kind == "remove":
        return [body]
    if kind == "link":
        return [body["path"], body["target"]]
    if kind in ("write", "json_set", "toml_set"):
        return [body["path"]]
    return []


def _is_host_path(path: str) -> bool:
    return path.startswith("/") and ".." not in path.split("/")


def _context_values(ctx: Context) -> dict[str, str]:
    from wizard.steps.crio_config import cgroup_manager, pause_image  # the values crio-config writes

    return {
        "pause_image": pause_image(ctx),
        "cgroup_manager": cgroup_manager(ctx),
        "cni_version": ctx.answers.pins.cni_version,
    }


def _host_matches(when: dict | None, facts: HostFacts) -> bool:
    if not when:
        return True
    checks = {
        "family": lambda wanted: facts.family in _as_list(wanted),
        "package_manager": lambda wanted: facts.package_manager in _as_list(wanted),
        "systemd": lambda wanted: facts.systemd == bool(wanted),
        "major": lambda wanted: facts.major in _as_list(wanted),
        "min_major": lambda wanted: facts.major >= int(wanted),
    }
    return all(checks[key](wanted) for key, wanted in when.items())


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _fill(value: Any, groups: tuple[str, ...], values: dict[str, str]) -> Any:
    """Fill {1}-style group placeholders and named context placeholders in every string of an action."""
    if isinstance(value, str):
        def replace(found: re.Match) -> str:
            name = found.group(1)
            if name.isdigit():
                number = int(name)
                if number < 1 or number > len(groups) or not groups[number - 1]:
                    raise _Unfilled(name)
                return groups[number - 1]
            return values[name]

        return PLACEHOLDER.sub(replace, value)
    if isinstance(value, dict):
        return {key: _fill(item, groups, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, groups, values) for item in value]
    return value


def _install(packages: dict, package_manager: str) -> list[Action]:
    names = packages.get(package_manager)
    if not names:
        return []
    if package_manager == "apt":
        return [Run(("apt-get", "install", "-y", *names), env={"DEBIAN_FRONTEND": "noninteractive"})]
    return [Run(("dnf", "install", "-y", *names))]


def _mode(mode: Any) -> int:
    return int(mode, 8) if isinstance(mode, str) else int(mode)


def _document(documents: dict, kind: str, path: str, ctx: Context) -> dict | None:
    """The document at `path`, parsed once and shared by all edits of one fix. A JSON file that does not
    exist is left alone (there is nothing to correct); a missing TOML drop-in is created."""
    if path in documents:
        return documents[path][1]
    text = ctx.read(path)
    fmt = "json" if kind == "json_set" else "toml"
    if text is None:
        if fmt == "json":
            return None
        text = ""
    try:
        document = json.loads(text) if fmt == "json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise FixError(f"cannot edit {path}: it is not valid {fmt.upper()} ({error})") from None
    if not isinstance(document, dict):
        raise FixError(f"cannot edit {path}: the top level is not an object")
    documents[path] = (fmt, document)
    return document


def _table(document: dict, dotted: str, path: str) -> dict:
    table = document
    for part in dotted.split("."):
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise FixError(f"cannot edit {path}: {dotted} is not a table")
    return table


def _finish(planned: list[Action | str], documents: dict) -> list[Action]:
    """Replace document markers by one WriteFile per document, at its first edit; drop repeated actions."""
    actions: list[Action] = []
    for item in planned:
        if isinstance(item, str):
            fmt, document = documents[item]
            content = json.dumps(document, indent=2) + "\n" if fmt == "json" else render_toml(document)
            item = WriteFile(item, content)
        if item in actions or (isinstance(item, (WriteFile, Symlink, RemoveFile))
                               and any(getattr(done, "path", None) == item.path for done in actions)):
            continue  # the same file twice: the first action wins
        actions.append(item)
    return actions


def render_toml(document: dict) -> str:
    """A tiny TOML writer for the wizard's drop-ins: nested tables of strings, numbers, booleans and lists."""
    lines: list[str] = []

    def emit(prefix: str, table: dict) -> None:
        scalars = {key: value for key, value in table.items() if not isinstance(value, dict)}
        if scalars and prefix:
            if lines:
                lines.append("")
            lines.append(f"[{prefix}]")
        for key, value in scalars.items():
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
        for key, value in table.items():
            if isinstance(value, dict):
                emit(f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key), value)

    emit("", document)
    return "\n".join(lines) + "\n"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise FixError(f"cannot write {type(value).__name__} values into TOML")


def retry_only(entry: KnownError) -> bool:
    """Is the entry's fix only to run the step again?"""
    return bool(entry.fix) and all("retry" in spec for spec in entry.fix["actions"])


def describe_fix(actions: list[Action], answer_updates: dict) -> list[str]:
    """Preview lines for the user: commands as they would be typed, files with their new content."""
    lines: list[str] = []
    for action in actions:
        if isinstance(action, Run):
            env = [f"{key}={shlex.quote(value)}" for key, value in action.env]
            lines.append("$ " + " ".join(env + [shlex.join(action.argv)]))
        elif isinstance(action, WriteFile):
            content = action.content.splitlines()
            lines.append(f"write {action.path} (mode {action.mode:04o}):")
            lines += ["    " + line for line in content[:PREVIEW_LINES]]
            if len(content) > PREVIEW_LINES:
                lines.append(f"    ... ({len(content) - PREVIEW_LINES} more lines)")
        elif isinstance(action, RemoveFile):
            lines.append(f"remove {action.path} (a backup is kept)")
        elif isinstance(action, Symlink):
            lines.append(f"link {action.path} -> {action.target}")
    for key, value in answer_updates.items():
        lines.append(f"answer {key}: {json.dumps(value, ensure_ascii=False)}")
    return lines or ["nothing to change: run the step again"]
