"""Helpers for the TUI tests: small fake steps, sessions on the simulated host, and waiting for the UI."""

from __future__ import annotations

import io
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

from wizard.actions import Run, WriteFile
from wizard.session import Options, Session
from wizard.steps.base import Check, Context, Step

# the cniVersion error as current CNI plugins print it (see the known-error catalogue)
CNI_VERSION_ERROR = ('plugin type="flannel" failed (add): incompatible CNI versions; config is "1.0.0", '
                     'plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0"]')


class FakeStep(Step):
    """A step that runs `argv` (and writes `files`), verified when `verified_when` (a sandbox path) exists,
    or always when it is None."""

    def __init__(self, step_id: str, argv: list[str], files: dict[str, str] | None = None,
                 verified_when: str | None = None, title: str = "a fake step") -> None:
        self.id = step_id
        self.title = title
        self.argv = argv
        self.files = files or {}
        self.verified_when = verified_when

    def plan(self, ctx: Context):
        return [Run(self.argv), *(WriteFile(path, content) for path, content in self.files.items())]

    async def verify(self, ctx: Context) -> list[Check]:
        if self.verified_when is None:
            return [Check(f"{self.id} ran", True, "exit 0")]
        seen = ctx.exists(self.verified_when)
        return [Check(f"{self.verified_when} exists", seen, "present" if seen else "missing")]

    async def detect(self, ctx: Context) -> bool:
        if self.verified_when is not None:
            return await super().detect(ctx)
        return False  # nothing shows it ran: it runs every time


class BrokenStep(FakeStep):
    def plan(self, ctx: Context):
        raise RuntimeError("this step cannot plan")


def use_steps(monkeypatch, steps: list[Step]) -> None:
    """Make the executor work on `steps` instead of the recipe's."""
    monkeypatch.setattr("wizard.executor.steps_in_scope", lambda ctx: list(steps))


def open_session(state_dir: Path, lang: str = "en", sim_speed: float = 0, inject: tuple[str, ...] = (),
                 answers_path: str | None = None, jobs: int = 1) -> Session:
    session = Session.open(Options(simulate="rocky9", sim_speed=sim_speed, state_dir=str(state_dir), lang=lang,
                                   inject=inject, answers_path=answers_path, jobs=jobs))
    session.acquire()
    return session


async def until(pilot, condition, timeout: float = 20.0, what: str = "the condition") -> None:
    """Let the app run until `condition()` is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.05)


async def until_idle(pilot, app, timeout: float = 20.0) -> None:
    """Wait until the step screen stops running (failed, done, or waiting for the learner)."""
    await until(pilot, lambda: app.step_screen is not None and app.step_screen.is_mounted
                and app.step_screen.phase != "running", timeout, "the steps to stop running")


def text_of(widget) -> str:
    """The plain text a Static shows (also when it shows a Rich renderable such as a table)."""
    content = widget.content
    if isinstance(content, (str, Text)):
        return str(content)
    console = Console(width=widget.size.width or 120, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()

