"""The answers file: defaults, loading, validation with key paths, and per-step fingerprints."""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from wizard import mirrors, pins
from wizard.assets import asset_path


class AnswersError(Exception):
    """A bad answers file; `problems` has one line per problem, naming the key path and value."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@lru_cache(maxsize=1)
def default_answers() -> dict:
    return yaml.safe_load(asset_path("answers.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _schema() -> dict:
    return yaml.safe_load(asset_path("answers.schema.yaml").read_text(encoding="utf-8"))


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
        """Passwords in proxy URLs, to be masked wherever text is written or shown."""
        found = []
        for url in (self.data["proxy"]["http"], self.data["proxy"]["https"]):
            parts = urlsplit(url)
            if parts.password:
                found.append(parts.password)
            if parts.username and parts.password:
                found.append(f"{parts.username}:{parts.password}")
        return tuple(found)

    def fingerprint(self, key_paths: list[str] | tuple[str, ...]) -> str:
        """A short hash of the values at these key paths: a step's inputs."""
        chosen = {key: self.get(key) for key in sorted(key_paths)}
        return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:16]

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True)


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


def from_mapping(overrides: Any, source: str = "answers") -> Answers:
    """Validate `overrides` (a parsed YAML document) merged over the defaults."""
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        raise AnswersError([f"{source}: the top level must be a mapping of keys, not {type(overrides).__name__}"])
    bad_keys = [key for key in overrides if not isinstance(key, str)]
    if bad_keys:
        raise AnswersError([f"{_describe(key)}: keys must be text" for key in bad_keys])
    data = merge_over(default_answers(), overrides)
    data["mirror"] = mirrors.normalize(data["mirror"])
    problems = _schema_problems(data)
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
        key_path = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        if error.validator == "additionalProperties":
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})), key=str)
            for key in unknown:
                where = f"{key_path}.{key}" if error.absolute_path else str(key)
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
        network = ipaddress.ip_network(str(data.get("pod_cidr")), strict=True)
    except ValueError as error:
        problems.append(f"pod_cidr: bad value {_describe(data['pod_cidr'])}: {error}")
    else:
        if network.version != 4:
            problems.append(f"pod_cidr: bad value {_describe(data['pod_cidr'])}: flannel here needs an IPv4 network")
        elif network.prefixlen > 24:
            problems.append(f"pod_cidr: bad value {_describe(data['pod_cidr'])}: needs room for /24 node subnets")
        elif network.overlaps(ipaddress.ip_network("10.96.0.0/12")):
            problems.append(
                f"pod_cidr: bad value {_describe(data['pod_cidr'])}: overlaps the service network 10.96.0.0/12"
            )
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


def fetch(url: str, timeout: float = 15.0, limit: int = 1 << 20) -> str:
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
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AnswersError([f"{path}: cannot read: {error}"]) from None
    return _parse(text, str(path))


def _parse(text: str, source: str) -> Answers:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise AnswersError([f"{source}: not valid YAML: {str(error).splitlines()[0]}"]) from None
    return from_mapping(document, source=source)
