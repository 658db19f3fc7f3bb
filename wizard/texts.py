"""The words the wizard shows: UI strings (assets/i18n.yaml) and teaching texts (assets/explanations.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from wizard import yamlio
from wizard.assets import asset_path

LANGUAGES = ("en", "zh")
DEFAULT_LANG = "en"
STEP_FIELDS = ("title", "why", "seed", "changed", "verify")
TOPIC_FIELDS = ("title", "text")
# POSIX precedence: the first of these that is set and non-empty decides the message language
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    """The UI string table per language, with nested groups flattened to dotted keys ("status.verified")."""
    raw = yamlio.load(asset_path("i18n.yaml").read_text(encoding="utf-8"))
    return {lang: _flatten(table) for lang, table in raw.items()}


@lru_cache(maxsize=1)
def explanations() -> dict:
    """The whole explanations file: {"steps": {step_id: {lang: fields}}, "topics": {name: {lang: fields}}}."""
    return yamlio.load(asset_path("explanations.yaml").read_text(encoding="utf-8"))


def t(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The UI string `key` in `lang` (else English, else the key itself), with {name} placeholders filled.

    A placeholder without a value is left as it is, so a missing value shows up on screen
    instead of crashing the UI.
    """
    for candidate in (lang, DEFAULT_LANG):
        template = strings().get(candidate, {}).get(key)
        if template is not None:
            return template.format_map(_KeepMissing(values))
    return key


def explanation(step_id: str, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """A step's title, why, seed, changed and verify in `lang`, each field falling back to English.

    KeyError for a step id the explanations file does not know.
    """
    return _pick(explanations()["steps"], step_id, lang, STEP_FIELDS, "step")


def topic(name: str, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """A topic's title and text in `lang`, each field falling back to English. KeyError for an unknown topic."""
    return _pick(explanations()["topics"], name, lang, TOPIC_FIELDS, "topic")


def step_ids() -> list[str]:
    """The step ids the explanations file covers, in its (execution) order."""
    return list(explanations()["steps"])


def topic_names() -> list[str]:
    return list(explanations()["topics"])


def detect_lang(environ: Mapping[str, str]) -> str:
    """"zh" when the locale that decides messages (LC_ALL, then LC_MESSAGES, then LANG) is Chinese, else "en"."""
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if value:
            return "zh" if value.lower().startswith("zh") else DEFAULT_LANG
    return DEFAULT_LANG


def _pick(entries: dict, name: str, lang: str, fields: tuple[str, ...], kind: str) -> dict[str, str]:
    if name not in entries:
        raise KeyError(f"no explanation for {kind} {name!r}; known: {', '.join(entries)}")
    english = entries[name][DEFAULT_LANG]
    chosen = entries[name].get(lang) or {}
    # a fresh dict, so a caller changing it cannot change the cached file contents
    return {field: chosen.get(field) or english[field] for field in fields}


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = str(value)
    return flat


class _KeepMissing(dict):
    """format_map values that render an unknown placeholder as itself ("{step}")."""

    def __missing__(self, name: str) -> str:
        return "{" + name + "}"
