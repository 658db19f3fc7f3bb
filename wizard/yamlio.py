"""YAML the wizard reads and writes itself (assets, the journal): through libyaml when PyYAML has it."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml parses and emits the same documents several times faster: start-up reads about ten asset files,
# and the journal is written at every step transition
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load(text: str) -> Any:
    """yaml.safe_load, faster; raises yaml.YAMLError the same way."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader


def dump(data: Any, **options: Any) -> str:
    """yaml.safe_dump, faster."""
    return yaml.dump(data, Dumper=_DUMPER, **options)
