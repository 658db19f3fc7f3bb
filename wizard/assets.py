"""Where the shipped data files live (the top-level `assets` package, in a checkout or a wheel)."""

from __future__ import annotations

from pathlib import Path

import assets

ASSETS_DIR = Path(assets.__file__).resolve().parent


def asset_path(*parts: str) -> Path:
    return ASSETS_DIR.joinpath(*parts)
