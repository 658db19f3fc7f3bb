"""The answers file: defaults, loading, validation with key paths, and per-step fingerprints."""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from wizard import mirrors, pins, yamlio
from wizard.assets import asset_path


# An answers file has about a hundred values a few levels deep. Much more is a mistake or an attack (YAML
# aliases that expand a hundred million times), and must be refused before anything walks or prints it.
MAX_FILE_BYTES = 64 << 10  # ten times the documented defaults file; the YAML library reads a few ten KB/s
MAX_FLOW_BRACKETS = 1000  # "[" and "{": the YAML library's scanner is quadratic in how deeply they nest
MAX_VALUES = 10_000
MAX_NESTING = 20
MAX_INTEGER_BITS = 256
# "scheme://userinfo@" anywhere in a value (GOPROXY lists several URLs); userinfo ends at the first "@"
CREDENTIALS = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^/?#@\s]+)@")
MIN_TOKEN_LENGTH = 16  # shorter user names without a password are plain names (git@, user@), not tokens


class AnswersError(Exception):
    """A bad answers file; `problems` has one line per problem, naming the key path and value."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@lru_cache(maxsize=1)
def default_answers() -> dict:
    return yamlio.load(asset_path("answers.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _schema() -> dict:
    return yamlio.load(asset_path("answers.schema.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Answers:
    """Validated answers. Read values by dotted key path: `answers.get("flannel.backend")`."""

    data: dict

    def get(self, key_path: str) -> Any:
        value: Any = self.data
        for part in key_path.split("."):
            value = value[part]
        return value

    @property
    def scope(self) -> str:
        return self.data["scope"]

    @property
    def pins(self) -> pins.Pins:
        return pins.pins_for(self.data["kubernetes"])

    @property
    def pod_cidr(self) -> str:
        return self.data["pod_cidr"]

    def secret_values(self) -> tuple[str, ...]:
        """Credentials in any URL of the answers (proxies, sources, downloads, mirrors), to be masked wherever
        text is written or shown: passwords (`user:PASSWORD@`, a token as in `oauth2:TOKEN@`), and a long
        user name alone in an http(s) URL, which is a token by convention (`https://TOKEN@github.com/...`)."""
        found: list[str] = []
        for text in _strings(self.data):
            for scheme, userinfo in CREDENTIALS.findall(text):
                user, has_password, password = userinfo.partition(":")
                if has_password and password:
                    secrets = [password, userinfo]
                elif scheme.lower() in ("http", "https") and len(user) >= MIN_TOKEN_LENGTH:
                    secrets = [user]
                else:
                    continue
                for secret in secrets:
                    found += [secret, unquote(secret)]
        # longest first, so that masking in this order hides "user:pass" whole rather than leaving "user:"
        return tuple(sorted(set(secret for secret in found if secret), key=lambda secret: (-len(secret), secret)))

    def fingerprint(self, key_paths: list[str] | tuple[str, ...]) -> str:
        """A short hash of the values at these key paths: a step's inputs."""
        chosen = {key: self.get(key) for key in sorted(key_paths)}
        return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:16]

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True)


def _strings(value: Any) -> list[str]:
    return [text for _, text in _strings_with_paths(value)]


def _strings_with_paths(value: Any, key_path: str = "") -> list[tuple[str, str]]:
    """Every text value with its dotted key path (lists add their index)."""
    if isinstance(value, str):
        return [(key_path, value)]
    if isinstance(value, dict):
        items = [(_key_text(key), child) for key, child in value.items()]
    elif isinstance(value, list):
        items = [(str(index), child) for index, child in enumerate(value)]
    else:
        return []
    return [found for key, child in items
            for found in _strings_with_paths(child, f"{key_path}.{key}" if key_path else key)]


def merge_over(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_over(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _key_text(key: Any) -> str:
    """A key as a key path shows it: as it is when printable text, else quoted (no newlines or escapes in output)."""
    return key if isinstance(key, str) and key.isprintable() and key else _describe(key)


def _shape_problem(value: Any) -> str | None:
    """Why `value` is too big to validate (or even print), or None. Shared parts (YAML aliases) are counted as
    often as they are used, since that is how often printing them would repeat them."""
    weights: dict[int, tuple[int, int]] = {}  # id -> (values, nesting) of containers measured already

    def measure(node: Any, depth: int) -> tuple[int, int]:
        if isinstance(node, int) and abs(node).bit_length() > MAX_INTEGER_BITS:
            raise _TooBig(f"an integer of more than {MAX_INTEGER_BITS} bits")
        if not isinstance(node, (dict, list)):
            return 1, 0
        if id(node) in weights:
            values, nesting = weights[id(node)]
        else:
            if depth > MAX_NESTING:
                raise _TooBig(f"nested more than {MAX_NESTING} levels deep")
            values, nesting = 1, 0
            for child in (list(node) + list(node.values())) if isinstance(node, dict) else node:
                child_values, child_nesting = measure(child, depth + 1)
                values, nesting = values + child_values, max(nesting, child_nesting + 1)
                if values > MAX_VALUES:
                    raise _TooBig(f"more than {MAX_VALUES} values")
            weights[id(node)] = values, nesting
        if depth + nesting > MAX_NESTING:
            raise _TooBig(f"nested more than {MAX_NESTING} levels deep")
        return values, nesting

    try:
        measure(value, 0)
    except _TooBig as too_big:
        return str(too_big)
    return None


class _TooBig(Exception):
    pass


def from_mapping(overrides: Any, source: str = "answers") -> Answers:
    """Validate `overrides` (a parsed YAML document) merged over the defaults."""
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        raise AnswersError([f"{source}: the top level must be a mapping of keys, not {type(overrides).__name__}"])
    bad_keys = [key for key in overrides if not isinstance(key, str)]
    if bad_keys:
        raise AnswersError([f"{_describe(key)}: keys must be text" for key in bad_keys])
    too_big = [(key, _shape_problem(value)) for key, value in overrides.items()]
    if any(problem for _, problem in too_big):
        raise AnswersError([f"{_key_text(key)}: bad value: {problem}" for key, problem in too_big if problem])
    data = merge_over(default_answers(), overrides)
    data["mirror"] = mirrors.normalize(data["mirror"])
    # the shipped defaults alone need no schema check at every start (the tests check them), nor its imports
    problems = _schema_problems(data) if overrides else []
    problems += [problem for problem in _semantic_problems(data)
                 if problem.split(":")[0] not in {p.split(":")[0] for p in problems}]
    if problems:
        raise AnswersError(problems)
    return Answers(data)


def _schema_problems(data: dict) -> list[str]:
    import jsonschema  # imported here: only validation needs it, and start-up stays fast

    validator = jsonschema.Draft202012Validator(_schema())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        key_path = ".".join(_key_text(part) for part in error.absolute_path) or "(top level)"
        if error.validator == "additionalProperties":
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})), key=str)
            for key in unknown:
                where = f"{key_path}.{_key_text(key)}" if error.absolute_path else _key_text(key)
                problems.append(f"{where}: unknown key")
            continue
        problems.append(f"{key_path}: bad value {_describe(error.instance)}: {_reason(error)}")
    return problems


def _reason(error: Any) -> str:
    if error.validator == "enum":
        return "must be one of " + ", ".join(map(str, error.validator_value))
    if error.validator == "pattern":
        return "not of the expected form"
    if error.validator == "type":
        return f"must be {error.validator_value}"
    if error.validator == "maxLength":
        return f"longer than {error.validator_value} characters"
    if error.validator == "anyOf":
        return "not of the expected form"
    return error.message


def _semantic_problems(data: dict) -> list[str]:
    """What a schema cannot say. Runs on unvalidated data too, so every access checks its type."""
    problems = []
    if isinstance(data.get("kubernetes"), str) and data["kubernetes"] not in pins.kubernetes_minors():
        problems.append(
            f"kubernetes: bad value {_describe(data['kubernetes'])}: the pinning table knows "
            + ", ".join(pins.kubernetes_minors())
        )
    try:
        network = ipaddress.ip_network(data.get("pod_cidr"), strict=True) if isinstance(data.get("pod_cidr"), str) \
            else None
    except ValueError as error:
        problems.append(f"pod_cidr: bad value {_describe(data['pod_cidr'])}: {error}")
    else:
        if network is None:
            pass  # not text: the schema says so
        elif network.version != 4:
            problems.append(f"pod_cidr: bad value {_describe(data['pod_cidr'])}: flannel here needs an IPv4 network")
        elif network.prefixlen > 24:
            problems.append(f"pod_cidr: bad value {_describe(data['pod_cidr'])}: needs room for /24 node subnets")
        elif network.overlaps(ipaddress.ip_network("10.96.0.0/12")):
            problems.append(
                f"pod_cidr: bad value {_describe(data['pod_cidr'])}: overlaps the service network 10.96.0.0/12"
            )
    for key_path, text in _strings_with_paths(data):
        if not text.isprintable():
            # control characters (NUL cannot even be passed to a command) and invisible ones have no place
            # in a URL, a path or a name; they would also garble every line that prints the value
            problems.append(f"{key_path}: bad value {_describe(text)}: contains control or invisible characters")
    images = data.get("images") if isinstance(data.get("images"), dict) else {}
    for key, value in (("pause_image", data.get("pause_image")), ("images.test", images.get("test"))):
        if isinstance(value, str) and value.startswith("-"):
            # an image is a command's argument (`crictl pull IMAGE`): a leading dash would make it an option
            problems.append(f"{key}: bad value {_describe(value)}: must not start with '-'")
    install = data.get("install") if isinstance(data.get("install"), dict) else {}
    for key, value in (("install.prefix", install.get("prefix")), ("workdir", data.get("workdir"))):
        if isinstance(value, str) and ".." in value.split("/"):
            problems.append(f"{key}: bad value {_describe(value)}: must not climb out with '..'")
    proxy = data.get("proxy") if isinstance(data.get("proxy"), dict) else {}
    for key in ("http", "https"):
        url = proxy.get(key)
        if isinstance(url, str) and url and not _has_host(url):
            problems.append(f"proxy.{key}: bad value {_describe(url)}: no host name")
    return problems


def _has_host(url: str) -> bool:
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:
        return False


def fetch(url: str, timeout: float = 15.0, limit: int = MAX_FILE_BYTES) -> str:
    """The text of an answers file a teacher published (http/https); AnswersError when it cannot be had."""
    from urllib.request import urlopen

    try:
        with urlopen(url, timeout=timeout) as response:  # noqa: S310 - the scheme is checked by the caller
            body = response.read(limit + 1)
    except (OSError, ValueError) as error:
        raise AnswersError([f"{url}: cannot download: {error}"]) from None
    if len(body) > limit:
        raise AnswersError([f"{url}: larger than {limit} bytes: not an answers file"])
    return body.decode("utf-8", errors="replace")


def load(path: str | Path | None) -> Answers:
    """Load an answers file, a path or an http(s) URL (or only the defaults when `path` is None)."""
    if path is None:
        return from_mapping({})
    if isinstance(path, str) and path.startswith(("http://", "https://")):
        return _parse(fetch(path), path)
    path = Path(path)
    try:
        with open(path, "rb") as answers_file:
            data = answers_file.read(MAX_FILE_BYTES + 1)  # bounded: `--answers /dev/zero` must not fill memory
        if len(data) > MAX_FILE_BYTES:
            raise AnswersError([f"{path}: larger than {MAX_FILE_BYTES} bytes: not an answers file"])
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AnswersError([f"{path}: cannot read: {error}"]) from None
    return _parse(text, str(path))


def _parse(text: str, source: str) -> Answers:
    if text.count("[") + text.count("{") > MAX_FLOW_BRACKETS:
        raise AnswersError([f"{source}: not an answers file: more than {MAX_FLOW_BRACKETS} '[' and '{{'"])
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise AnswersError([f"{source}: not valid YAML: {str(error).splitlines()[0]}"]) from None
    except RecursionError:
        raise AnswersError([f"{source}: not an answers file: nested too deeply"]) from None
    except ValueError as error:  # what the YAML library's own conversions raise, e.g. an integer of 5000 digits
        raise AnswersError([f"{source}: not valid YAML: {error}"]) from None
    return from_mapping(document, source=source)
