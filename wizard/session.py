"""One wizard session: options -> host, answers, state directory, journal, lock and runner."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from wizard import answers as answers_module
from wizard.events import EventSink
from wizard.host import Host, real_host
from wizard.journal import Journal
from wizard.leftovers import LeftoverRegistry
from wizard.lock import StateLock
from wizard.runner import Runner
from wizard.steps.base import Context

DEFAULT_SIM_SPEED = 0.1  # a tenth of real-life durations: a simulated build takes seconds, not minutes


@dataclass
class Options:
    """Everything the command line (or a test) chooses."""

    answers_path: str | None = None
    state_dir: str | None = None
    simulate: str | None = None  # a profile name
    sim_speed: float = DEFAULT_SIM_SPEED
    inject: tuple[str, ...] = ()
    lang: str = "en"
    timeout_cap: float | None = None  # upper bound for every command's timeout, in seconds
    ignore_checks: frozenset[str] = field(default_factory=frozenset)
    learn: bool = False  # the TUI shows each command before it runs and waits
    jobs: int = 1  # steps run() may run at once (--jobs), in the TUI too (not in learn mode)


def default_state_dir(simulate: str | None) -> Path:
    if os.geteuid() == 0:
        base = Path("/var/lib/crio-wizard")
    else:
        from platformdirs import user_state_dir

        base = Path(user_state_dir("crio-wizard"))
    return base / "simulate" / simulate if simulate else base


def make_state_dir(path: Path) -> Path:
    """The state directory holds logs and backups of /etc files: only its owner may read it."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _answers_origin(answers_path: str | None) -> str | None:
    if answers_path is None or answers_path.startswith(("http://", "https://")):
        return answers_path
    return str(Path(answers_path).resolve())


class Session:
    """Opened by the CLI and by tests; the TUI and the headless printer use the same one."""

    def __init__(self, options: Options, host: Host, answers: answers_module.Answers, state_dir: Path):
        self.options = options
        self.host = host
        self.user_answers = answers
        self.state_dir = state_dir
        self.lock = StateLock(state_dir)
        self.journal: Journal | None = None
        self.stopped_leftovers: list[str] = []

    @classmethod
    def open(cls, options: Options) -> "Session":
        """Validate the answers and prepare the host; raises AnswersError, SimulationError, UnsupportedHost."""
        answers = answers_module.load(options.answers_path)
        state_dir = make_state_dir(Path(options.state_dir) if options.state_dir
                                   else default_state_dir(options.simulate))
        if options.simulate:
            from wizard.simulate.sandbox import prepare

            host = prepare(options.simulate, state_dir, options.sim_speed, options.inject)
        else:
            host = real_host()
        return cls(options, host, answers, state_dir)

    def acquire(self) -> None:
        """Take the state lock (LockHeld if another wizard has it), stop the commands a killed wizard left
        running (named in `stopped_leftovers`) and load the journal."""
        self.lock.acquire()
        self.stopped_leftovers = self.leftovers.stop_all()
        self.load_journal()
        self.mark_stale_running_interrupted()

    def load_journal(self) -> Journal:
        self.journal = Journal.load(self.state_dir)
        return self.journal

    def mark_stale_running_interrupted(self) -> list[str]:
        """A step still "running" in the journal belonged to a wizard that died (we hold the lock now)."""
        assert self.journal is not None
        stale = [step_id for step_id, record in self.journal.steps().items() if record.status == "running"]
        for step_id in stale:
            self.journal.mark(step_id, "interrupted", message="the wizard stopped during this step (killed?)")
        return stale

    def release(self) -> None:
        self.lock.release()

    @property
    def answers(self) -> answers_module.Answers:
        """The user's answers with the changes accepted fixes made (kept in the journal)."""
        overrides = self.journal.meta.get("answer_overrides") if self.journal else None
        if not overrides:
            return self.user_answers
        from wizard.executor import apply_overrides

        return apply_overrides(self.user_answers, overrides)

    def context(self, runner: Runner | None = None) -> Context:
        return Context(answers=self.answers, host=self.host, state_dir=self.state_dir, runner=runner)

    @property
    def leftovers(self) -> LeftoverRegistry:
        return LeftoverRegistry(self.state_dir / "running")

    def runner(self) -> Runner:
        # only a runner of the lock's holder records its commands: the next holder stops what is recorded
        return Runner(env=self.host.env, default_cwd=self.state_dir, heartbeat_after=10.0,
                      secret_values=self.answers.secret_values(),
                      leftovers=self.leftovers if self.lock.held else None)

    def executor(self, emit: EventSink, before_action=None):
        from wizard.executor import Executor

        assert self.journal is not None, "acquire() the session first"
        self.journal.meta.update({
            "simulated": self.host.simulated,
            "answers": _answers_origin(self.options.answers_path),
            "scope": self.answers.scope,
        })
        runner = self.runner()
        return Executor(self.context(runner), self.journal, runner, emit, before_action=before_action,
                        timeout_cap=self.options.timeout_cap, ignore_checks=self.options.ignore_checks,
                        jobs=1 if before_action else self.options.jobs)  # learn mode: one command at a time
