"""The crio-wizard Textual app: one session, its executor, the screens, and the exit code."""

from __future__ import annotations

import time
from typing import Callable

from textual.app import App
from textual.binding import Binding

from screens.help import HelpScreen
from screens.resume import ResumeDialog
from screens.steps import StepScreen
from screens.summary import SummaryScreen
from screens.welcome import WelcomeScreen
from screens.widgets import localize_bindings
from wizard import events
from wizard.actions import Action
from wizard.assets import asset_path
from wizard.executor import Executor
from wizard.session import Session
from wizard.startup import release_collection
from wizard.steps.base import Step

EXIT_OK, EXIT_STOPPED, EXIT_INTERRUPTED = 0, 1, 130


class CrioWizardApp(App[None]):
    """Welcome -> (choices, plan) -> steps -> summary; a stopped run is offered for resuming at start-up."""

    CSS_PATH = str(asset_path("wizard.tcss"))
    TITLE = "crio-wizard"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "key.quit", id="quit"),
        Binding("question_mark", "help", "key.help", key_display="?", id="help"),
        Binding("f1", "help", "key.help", show=False, id="help-f1"),
    ]

    def __init__(self, session: Session, learn: bool = False) -> None:
        super().__init__()
        self.session = session
        self.lang = session.options.lang
        self.learn = learn
        # elapsed times on screen come from this clock, so tests can freeze it
        self.clock: Callable[[], float] = time.monotonic
        self.executor: Executor | None = None
        self.step_screen: StepScreen | None = None
        self.run_started_at: float | None = None
        self.run_finished_at: float | None = None
        localize_bindings(self, self.lang)
        self.build_executor()

    def get_default_screen(self) -> WelcomeScreen:
        # the welcome screen is the bottom of the stack itself: no blank screen is laid out before it
        return WelcomeScreen()

    def on_mount(self) -> None:
        self.call_after_refresh(release_collection)  # start-up is over once the first screen is shown
        resume_at = self.resume_candidate()
        if resume_at is not None:
            self.push_screen(ResumeDialog(self.executor.step(resume_at)), self._resume_answered)

    # -- the engine ------------------------------------------------------------------------------

    def build_executor(self) -> Executor:
        """A new executor for the session's current answers (again after the choices were saved)."""
        self.executor = self.session.executor(self._engine_event,
                                              before_action=self._before_action if self.learn else None)
        self.step_screen = None
        return self.executor

    def _engine_event(self, event: events.Event) -> None:
        # the executor runs in a worker on this event loop: events arrive here synchronously
        if self.step_screen is not None:
            self.step_screen.show_event(event)

    async def _before_action(self, step: Step, action: Action) -> None:
        if self.step_screen is not None:
            await self.step_screen.wait_for_learner(step, action)

    def resume_candidate(self) -> str | None:
        """The step to offer resuming at: the first one not done, when an earlier run got anywhere."""
        assert self.executor is not None
        records = self.executor.journal.steps()
        if not any(record.status != "pending" for record in records.values()):
            return None
        return self.executor.first_unfinished()

    def all_done(self) -> bool:
        return self.executor is not None and self.executor.first_unfinished() is None

    def run_elapsed(self) -> float:
        """Seconds from the first step started in this session to the last one done (by `clock`)."""
        if self.run_started_at is None:
            return 0.0
        end = self.run_finished_at if self.run_finished_at is not None else self.clock()
        return end - self.run_started_at

    # -- moving between screens ------------------------------------------------------------------

    def start_steps(self) -> None:
        """Show the step screen and run the steps in order; verified ones are detected again, not re-run,
        so a resumed run starts working at the first step that is not done."""
        assert self.executor is not None
        if self.run_started_at is None:
            self.run_started_at = self.clock()
        self.step_screen = StepScreen(self.executor)
        self.push_screen(self.step_screen)

    def show_summary(self) -> None:
        self.run_finished_at = self.clock()
        if not isinstance(self.screen, SummaryScreen):
            self.push_screen(SummaryScreen())

    def _resume_answered(self, resume: bool | None) -> None:
        if resume:
            self.start_steps()

    # -- keys ------------------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        """Stop a running step (its process group is killed, the journal says interrupted), then exit."""
        if self.step_screen is not None and await self.step_screen.stop():
            code = EXIT_INTERRUPTED
        else:
            code = EXIT_OK if self.all_done() else EXIT_STOPPED
        self.exit(return_code=code)


def make_app(session: Session, learn: bool | None = None) -> CrioWizardApp:
    """The app for an acquired session (the CLI and the tests both build it here); learn mode as the
    session's options say (--learn) unless `learn` is given."""
    return CrioWizardApp(session, learn=session.options.learn if learn is None else learn)
