"""What the executor reports while it works; the headless printer and the TUI both render these."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from wizard.steps.base import Check


@dataclass(frozen=True)
class StepStarted:
    step_id: str
    title: str
    index: int  # 1-based position among the steps in scope
    total: int
    attempt: int  # 1 for the first attempt
    estimate: float | None  # seconds, from the previous run (or the step's typical duration)


@dataclass(frozen=True)
class StepAlreadyDone:
    """Detected as satisfied: nothing to run (a re-run, or something installed before the wizard)."""

    step_id: str
    title: str
    index: int
    total: int
    reason: str


@dataclass(frozen=True)
class ActionStarted:
    step_id: str
    number: int  # 1-based within the step
    count: int
    description: str  # "$ make install ..." or "write /etc/crio/crio.conf.d/02-crio.conf"


@dataclass(frozen=True)
class OutputLines:
    step_id: str
    lines: list[str]


@dataclass(frozen=True)
class Heartbeat:
    """The running command has printed nothing for a while (still running)."""

    step_id: str
    silent_seconds: float


@dataclass(frozen=True)
class ActionFinished:
    step_id: str
    description: str
    exit_code: int | None
    duration: float
    timed_out: bool = False
    backup: Path | None = None  # where the replaced file was saved, for file actions


@dataclass(frozen=True)
class CheckDone:
    step_id: str
    check: Check


@dataclass(frozen=True)
class Failure:
    """Why a step failed, with the matched known errors (catalogue Match objects) and the log."""

    step_id: str
    reason: str
    log_path: Path
    matches: list[Any] = field(default_factory=list)
    failed_checks: list[Check] = field(default_factory=list)
    output_tail: list[str] = field(default_factory=list)
    exit_code: int | None = None  # of the failing command (None: killed, or a verification failure)


@dataclass(frozen=True)
class StepFinished:
    step_id: str
    status: str  # verified | failed | skipped | interrupted
    duration: float
    failure: Failure | None = None
    message: str = ""


@dataclass(frozen=True)
class FixApplied:
    step_id: str
    known_error_id: str
    ok: bool
    message: str


@dataclass(frozen=True)
class RunFinished:
    ok: bool
    failed_step_id: str | None = None
    message: str = ""


Event = (
    StepStarted | StepAlreadyDone | ActionStarted | OutputLines | Heartbeat | ActionFinished | CheckDone
    | StepFinished | FixApplied | RunFinished
)
EventSink = Callable[[Event], None]
