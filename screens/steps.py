"""The step screen: the step list with statuses, live output with progress, the checks, and the failure panel."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass, field

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Log, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from screens.explain import ExplainScreen
from screens.failure import FailurePanel
from screens.fix_preview import FixPreviewDialog
from screens.full_log import FullLogScreen
from screens.skip_confirm import SkipConfirmDialog
from screens.widgets import (STATUS_MARKS, HostBanner, KeyBar, TitleBar, duration_text, localize_bindings, shown_text,
                             status_label, step_title)
from wizard import events
from wizard.actions import Action, WriteFile
from wizard.catalogue import FixError
from wizard.executor import Executor, describe
from wizard.steps.base import Check, Step
from wizard.texts import explanation, t

LOG_LINES = 5000  # on screen; the full output is in the step's log file
FLUSH_INTERVAL = 1 / 30  # one Log write per frame, however fast the command prints
# lines written to the screen per frame: the Log measures every line it is given, so during a flood
# only the newest lines of each frame are shown (the screen shows ~30 anyway; `l` opens the whole log)
FRAME_LINES = 200
PROGRESS_INTERVAL = 0.5
SILENT_AFTER = 10.0  # seconds without output before the progress line says so
LEARN_PREVIEW_LINES = 8  # lines of a file shown before learn mode writes it

# what each phase of the screen allows: True enabled, None shown but disabled
ALLOWED: dict[str, dict[str, bool | None]] = {
    "running": {"continue": None, "retry": None, "fix": None, "skip": None},
    "learn": {"continue": True, "retry": None, "fix": None, "skip": None},
    "failed": {"continue": None, "retry": True, "fix": True, "skip": True},
    "done": {"continue": True, "retry": None, "fix": None, "skip": None},
}
BUTTONS = (("continue", "key.continue"), ("retry", "key.retry"), ("fix", "key.fix"), ("skip", "key.skip"),
           ("explain", "key.explain"), ("log", "key.log"))


class OutputLog(Log):
    """The live output: follows the newest line, also when the panels around it change its height,
    until the user scrolls up (and again once they scroll back to the end)."""

    following = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = new_value >= self.max_scroll_y - 1

    def on_resize(self) -> None:
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def append(self, lines: list[str]) -> None:
        self.write_lines(lines, scroll_end=self.following)


class StepRow(Static):
    """One step in the list: its status as a mark and a word, and its id. A click explains the step."""

    def __init__(self, step: Step, status: str, lang: str) -> None:
        super().__init__(markup=False, id=f"row-{step.id}")
        self.step = step
        self.lang = lang
        self.status = ""
        self.set_status(status)

    def set_status(self, status: str) -> None:
        self.remove_class(f"-{self.status}")
        self.status = status
        self.add_class(f"-{status}")
        self.update(f"{STATUS_MARKS.get(status, '?')} {self.step.id:<14} {t('status.' + status, self.lang)}")

    def on_click(self) -> None:
        self.app.push_screen(ExplainScreen(self.step))


@dataclass
class StepActivity:
    """What the screen shows of one started step: its start, its newest command, its checks, its end."""

    started: events.StepStarted
    started_at: float
    last_output_at: float
    action: events.ActionStarted | None = None
    checks: list[Check] = field(default_factory=list)
    finished_at: float | None = None


class StepScreen(Screen[None]):
    """Runs the steps from a worker, as many at a time as the executor's `jobs` allows; the user decides what
    happens after a failure. One step is shown in detail (progress, command, checks) while it runs, then the
    first one still running, or the last one that ran; n shows the next running one; the others running are
    named on the progress line."""

    BINDINGS = [
        Binding("enter", "continue", "key.continue", id="run"),
        Binding("r", "retry", "key.retry", id="retry"),
        Binding("f", "fix", "key.fix", id="fix"),
        Binding("s", "skip", "key.skip", id="skip"),
        Binding("e", "explain", "key.explain", id="explain"),
        Binding("l", "log", "key.log", id="log"),
        Binding("n", "next_running", "key.next_running", id="next-running"),
    ]

    phase: reactive[str] = reactive("running", init=False)

    def __init__(self, executor: Executor) -> None:
        super().__init__()
        self.executor = executor
        self.worker: Worker | None = None
        # output not on screen yet, in batches of (label, lines): only the newest lines of a frame are shown,
        # so only they get their step's label
        self.pending: list[tuple[str, list[str]]] = []
        self.activities: dict[str, StepActivity] = {}  # the steps started on this screen, by id
        self.current_id: str | None = None  # the step shown in detail
        self.failures: dict[str, events.Failure] = {}  # why each step that failed here failed
        self.failed_step_id: str | None = None  # the failure the run stopped at
        self.failure: events.Failure | None = None
        self.problem: str | None = None  # an engine error or a fix that did not work
        self.learner_ready = asyncio.Event()
        self.learn_explained: set[str] = set()
        self.summary_due = False

    @property
    def lang(self) -> str:
        return self.app.lang

    @property
    def current(self) -> StepActivity | None:
        return self.activities.get(self.current_id) if self.current_id else None

    def running_ids(self) -> list[str]:
        """The steps running now, in the recipe's order."""
        return [step.id for step in self.executor.steps
                if step.id in self.activities and self.activities[step.id].finished_at is None]

    def compose(self) -> ComposeResult:
        localize_bindings(self, self.lang)
        records = self.executor.journal.steps()
        yield TitleBar(t("screen.steps", self.lang))
        yield HostBanner(self.executor.ctx.host.simulated, self.lang)
        with Horizontal(id="body"):
            with VerticalScroll(id="step-list"):
                yield Static(t("screen.steps", self.lang), classes="heading")
                for step in self.executor.steps:
                    record = records.get(step.id)
                    yield StepRow(step, record.status if record else "pending", self.lang)
            with Vertical(id="work"):
                yield Static(id="progress", markup=False)
                yield Static(id="action", markup=False)
                yield Static(id="learn", markup=False)
                yield OutputLog(max_lines=LOG_LINES, id="output")
                yield Static(id="checks", markup=False)
                yield FailurePanel(self.executor, self.lang, id="failure")
                with Horizontal(id="buttons"):
                    for action, label in BUTTONS:
                        button = Button(t(label, self.lang), action=f"screen.{action}", id=f"button-{action}",
                                        compact=True)
                        button.can_focus = False  # the keys act on the screen, not on a focused button
                        yield button
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_interval(FLUSH_INTERVAL, self.flush_output)
        self.set_interval(PROGRESS_INTERVAL, self.refresh_progress)
        self.query_one("#learn").display = False
        self.query_one("#checks").display = False
        self.query_one(Log).focus()
        self.watch_phase(self.phase)
        self.run_steps()

    # -- driving the executor --------------------------------------------------------------------

    def run_steps(self, fix: events.Failure | None = None) -> None:
        self.worker = self.drive(fix)

    @work(group="steps", exclusive=True, exit_on_error=False)
    async def drive(self, fix: events.Failure | None = None) -> None:
        """Apply `fix` first if given, then run every step not done yet; after a failure no step starts, the
        running ones finish, and the screen shows the failure the run stopped at."""
        self.failure = self.problem = self.failed_step_id = None
        self.phase = "running"
        if fix is not None:
            self.say(f"==> {fix.step_id}: " + t("key.fix", self.lang))
            try:
                fixed = await self.executor.apply_fix(fix)
            except FixError as error:
                fixed, self.problem = False, str(error)
            if not fixed:
                self.failure = fix
                self.phase = "failed"
                return
        if not await self.executor.run():
            if self.failed_step_id is not None:
                self.show_in_detail(self.failed_step_id)
            self.failure = self.failures.get(self.failed_step_id)
            self.phase = "failed"
            return
        self.phase = "done"
        if self.app.screen is self:
            self.app.show_summary()
        else:
            self.summary_due = True  # the user is reading help or a log: show it when they come back

    def on_screen_resume(self) -> None:
        if self.summary_due:
            self.summary_due = False
            self.app.show_summary()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "steps" or event.state != WorkerState.ERROR:
            return
        # a bug or a broken host file surfaced as an exception: show it and let the user retry or skip
        self.problem = f"{type(event.worker.error).__name__}: {event.worker.error}"
        if self.current_id is not None:
            self.set_row(self.current_id, "failed")
        self.phase = "failed"

    async def stop(self) -> bool:
        """Cancel a running step (the runner kills its process group). True when one was running."""
        worker = self.worker
        if worker is None or worker.is_finished:
            return False
        worker.cancel()
        with suppress(WorkerCancelled, WorkerFailed):
            await worker.wait()
        return True

    async def wait_for_learner(self, step: Step, action: Action) -> None:
        """Learn mode: show the next command (and why the step exists, once) and wait for Enter."""
        lines = []
        if step.id not in self.learn_explained:
            self.learn_explained.add(step.id)
            with suppress(KeyError):
                lines += [explanation(step.id, self.lang)["why"], ""]
        lines += [t("learn.next_command", self.lang), "  " + shown_text(describe(action))]
        if isinstance(action, WriteFile):
            content = action.content.splitlines()
            lines += ["    " + line for line in content[:LEARN_PREVIEW_LINES]]
            if len(content) > LEARN_PREVIEW_LINES:
                lines.append("    ...")
        lines.append(t("learn.press_enter", self.lang))
        panel = self.query_one("#learn", Static)
        panel.update("\n".join(lines))
        panel.display = True
        self.learner_ready.clear()
        self.phase = "learn"
        try:
            await self.learner_ready.wait()
        finally:
            panel.display = False
        self.phase = "running"

    # -- engine events ---------------------------------------------------------------------------

    def show_event(self, event: events.Event) -> None:
        """Called synchronously by the executor (same event loop): cheap updates only; output is batched."""
        if isinstance(event, events.OutputLines):
            self.pending.append((self.label(event.step_id), event.lines))
            with suppress(KeyError):
                self.activities[event.step_id].last_output_at = self.app.clock()
        elif isinstance(event, events.StepStarted):
            self.step_begins(event)
        elif isinstance(event, events.StepAlreadyDone):
            status = self.executor.journal.record(event.step_id).status
            self.set_row(event.step_id, status)
            self.say(f"==> [{event.index}/{event.total}] {event.step_id}: {event.reason}")
        elif isinstance(event, events.ActionStarted):
            activity = self.activities.get(event.step_id)
            if activity is not None:  # (a fix's commands run before its step starts again)
                activity.action = event
                activity.last_output_at = self.app.clock()
            self.say(shown_text(event.description), self.label(event.step_id))
            self.refresh_action()
        elif isinstance(event, events.ActionFinished):
            if event.timed_out:
                self.say(f"[{t('status.interrupted', self.lang)}: {event.duration:.0f}s]")
            elif event.exit_code not in (0, None):
                self.say(f"[exit {event.exit_code}]")
        elif isinstance(event, events.CheckDone):
            with suppress(KeyError):
                self.activities[event.step_id].checks.append(event.check)
            self.refresh_checks()
        elif isinstance(event, events.StepFinished):
            self.step_ends(event)
        elif isinstance(event, events.RunFinished):
            self.failed_step_id = event.failed_step_id
        elif isinstance(event, events.FixApplied):
            word = t("preflight.pass" if event.ok else "preflight.fail", self.lang)
            self.say(f"==> {event.known_error_id}: {word} ({event.message})")
            if not event.ok:
                self.problem = t("failure.fix_failed", self.lang, message=event.message)

    def step_begins(self, event: events.StepStarted) -> None:
        now = self.app.clock()
        self.activities[event.step_id] = StepActivity(event, started_at=now, last_output_at=now)
        self.failures.pop(event.step_id, None)
        self.set_row(event.step_id, "running")
        if self.current is None or self.current.finished_at is not None:
            self.show_in_detail(event.step_id)  # a step shown in detail keeps its place while it runs
        self.refresh_bindings()  # n is offered while two or more run
        title = step_title(self.executor.step(event.step_id), self.lang)
        self.say(f"==> [{event.index}/{event.total}] {event.step_id}: {title}")
        self.refresh_checks()
        self.refresh_action()
        self.refresh_progress()

    def step_ends(self, event: events.StepFinished) -> None:
        self.set_row(event.step_id, event.status)
        activity = self.activities.get(event.step_id)
        if activity is None:
            return  # a skip of a step that never started here
        activity.finished_at = self.app.clock()
        activity.action = None
        if event.failure is not None:
            self.failures[event.step_id] = event.failure
        word = status_label(event.status, self.lang)
        self.say(f"<== {event.step_id}: {word}" + (f" ({shown_text(event.message)})" if event.message else ""))
        running = self.running_ids()
        if running and event.step_id == self.current_id:
            self.show_in_detail(running[0])  # the first one still running
        self.refresh_bindings()
        self.refresh_checks()
        self.refresh_action()
        self.refresh_progress()

    def show_in_detail(self, step_id: str) -> None:
        if step_id != self.current_id:
            self.current_id = step_id
            self.select_row(step_id)
            self.refresh_checks()
            self.refresh_action()
            self.refresh_progress()

    # -- rendering -------------------------------------------------------------------------------

    def label(self, step_id: str) -> str:
        """What a step's output lines start with: its name when steps may run side by side."""
        return f"[{step_id}] " if self.executor.jobs > 1 else ""

    def say(self, line: str, label: str = "") -> None:
        self.pending.append((label, [line]))

    def flush_output(self) -> None:
        """Put the newest FRAME_LINES lines of what came since the last frame on screen."""
        if not self.pending:
            return
        batches, self.pending = self.pending, []
        newest: list[list[str]] = []
        room = FRAME_LINES
        for label, lines in reversed(batches):
            if room <= 0:
                break
            tail = lines[-room:]
            newest.append([label + line for line in tail] if label else tail)
            room -= len(tail)
        self.query_one(OutputLog).append([line for lines in reversed(newest) for line in lines])

    def set_row(self, step_id: str, status: str) -> None:
        with suppress(Exception):
            self.query_one(f"#row-{step_id}", StepRow).set_status(status)

    def select_row(self, step_id: str) -> None:
        for row in self.query(StepRow):
            row.set_class(row.step.id == step_id, "-current")
        with suppress(Exception):
            self.query_one(f"#row-{step_id}", StepRow).scroll_visible()

    def refresh_progress(self) -> None:
        current = self.current
        if current is None:
            self.query_one("#progress", Static).update("")
            return
        started = current.started
        now = self.app.clock()
        end = current.finished_at if current.finished_at is not None else now
        title = step_title(self.executor.step(started.step_id), self.lang)
        parts = [t("progress.step_of", self.lang, index=started.index, total=started.total, title=title)]
        attempt = self.executor.journal.record(started.step_id).attempts  # counts the one running now
        if attempt > 1:
            parts.append(t("progress.attempt", self.lang, attempt=attempt))
        parts.append(t("progress.elapsed", self.lang, elapsed=duration_text(end - current.started_at)))
        if current.finished_at is None and self.phase == "running":
            silent = now - current.last_output_at
            if silent >= SILENT_AFTER:
                parts.append(t("progress.still_running", self.lang, silent=duration_text(silent)))
            else:
                parts.append(t("progress.last_output", self.lang, ago=duration_text(silent)))
            remaining = (started.estimate or 0) - (now - current.started_at)
            if remaining > 0:
                parts.append(t("progress.estimate_left", self.lang, estimate=duration_text(remaining)))
            else:
                parts.append(t("progress.estimate_unknown", self.lang))
        others = [f"{step_id} {duration_text(now - self.activities[step_id].started_at)}"
                  for step_id in self.running_ids() if step_id != started.step_id]
        if others:
            parts.append(t("progress.also_running", self.lang, steps=", ".join(others)))
        self.query_one("#progress", Static).update(" · ".join(parts))

    def refresh_action(self) -> None:
        action = self.current.action if self.current else None
        label = self.query_one("#action", Static)
        if action is None:
            label.update("")
            return
        counter = t("progress.action_of", self.lang, number=action.number, count=action.count)
        label.update(f"{counter}: {shown_text(action.description)}")

    def refresh_checks(self) -> None:
        checks = self.current.checks if self.current else []
        panel = self.query_one("#checks", Static)
        panel.display = bool(checks) and self.phase != "failed"
        text = Text(t("steps.checks", self.lang) + "\n", style="bold")
        for check in checks:
            mark = "✓ " + t("preflight.pass", self.lang) if check.ok else "✗ " + t("preflight.fail", self.lang)
            text.append(f"{mark}  ", style="bold" if check.ok else "bold reverse")
            text.append(check.name + (f": {check.detail}" if check.detail else "") + "\n")
        text.rstrip()
        panel.update(text)

    def watch_phase(self, phase: str) -> None:
        self.flush_output()  # the output so far is on screen before a failure panel or the summary shows
        self.refresh_bindings()
        for action, _label in BUTTONS:
            allowed = self.check_action(action, ())
            button = self.query_one(f"#button-{action}", Button)
            button.display = allowed is not False
            button.disabled = not allowed
        panel = self.query_one(FailurePanel)
        if phase == "failed":
            panel.show(self.failure, self.problem)
        panel.display = phase == "failed"
        self.refresh_checks()
        self.refresh_progress()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_running":
            return len(self.running_ids()) > 1  # hidden unless steps run side by side
        allowed = ALLOWED.get(self.phase, {})
        if action not in allowed:
            return True
        if action == "fix" and allowed[action]:
            return True if self.failure and any(match.entry.fix for match in self.failure.matches) else None
        return allowed[action]

    # -- keys ------------------------------------------------------------------------------------

    def focus_step(self) -> Step:
        """The step the keys e and l are about: the current one, else the next to run."""
        step_id = self.current_id or self.executor.first_unfinished() or self.executor.steps[0].id
        return self.executor.step(step_id)

    def action_continue(self) -> None:
        if self.phase == "learn":
            self.learner_ready.set()
        elif self.phase == "done":
            self.app.show_summary()

    def action_retry(self) -> None:
        self.run_steps()  # the failed step first: the ones before it are done

    def action_fix(self) -> None:
        failure = self.failure
        if failure is None:
            return

        def answered(apply: bool | None) -> None:
            if apply:
                self.run_steps(fix=failure)

        self.app.push_screen(FixPreviewDialog(failure), answered)

    def action_skip(self) -> None:
        step = self.focus_step()

        def answered(skip: bool | None) -> None:
            if skip:
                self.executor.skip(step.id)
                self.run_steps()

        self.app.push_screen(SkipConfirmDialog(step), answered)

    def action_explain(self) -> None:
        self.app.push_screen(ExplainScreen(self.focus_step()))

    def action_next_running(self) -> None:
        running = self.running_ids()
        if len(running) > 1:
            after = running.index(self.current_id) + 1 if self.current_id in running else 0
            self.show_in_detail(running[after % len(running)])

    def action_log(self) -> None:
        self.app.push_screen(FullLogScreen(self.executor.log_path(self.focus_step())))
