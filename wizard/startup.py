"""Garbage collection held while the program starts: start-up makes long-lived objects and next to no garbage."""

from __future__ import annotations

import gc

_held = False


def hold_collection() -> None:
    """Pause the collector from the first line of main. Modules, classes, the parsed assets and Textual's
    styles all live as long as the program: collecting while they are made only walks them again and again."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release_collection() -> None:
    """Collect again, once start-up is over (a no-op unless hold_collection paused it). What start-up made is
    frozen out of the collector's way, so later collections (during a flood of output, say) do not walk it."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
