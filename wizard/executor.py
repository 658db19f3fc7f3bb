"""Runs steps: plan, run each action through the runner, verify, and record it all in the journal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Awaitable, Callable

from wizard import answers as answers_module
from wizard import events
from wizard.actions import Action, RemoveFile, Run, Symlink, WriteFile
from wizard.files import FileEffects
from wizard.journal import Journal
from wizard.runner import Runner
from wizard.steps import steps_in_scope
from wizard.steps.base import Check, Context, PlanRefused, Step

# the journal statuses that mean "this step needs no more work"
DONE = ("verified", "skipped")
# package managers hold a machine-wide lock (a second apt-get fails at once): with --jobs, one at a time
PACKAGE_MANAGERS = frozenset({"apt", "apt-get", "dpkg", "dnf", "yum", "rpm"})


def describe(action: Action) -> str:
    """One line a person can read (and paste): the command, or the file effect."""
    if isinstance(action, Run):
        text = shlex.join(action.argv)
        if action.env:
            text = shlex.join(f"{key}={value}" for key, value in action.env) + " " + text
        if action.stdout_to:
            text += f" > {shlex.quote(action.stdout_to)}"
        if action.cwd:
            text = f"(cd {shlex.quote(action.cwd)} && {text})"
        return "$ " + text
    if isinstance(action, WriteFile):
        return f"write {action.path}"
    if isinstance(action, Symlink):
        return f"link {action.path} -> {action.target}"
    return f"remove {action.path}"


def mask(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


@dataclass
class StepOutcome:
    status: str  # verified | failed | interrupted
    failure: events.Failure | None = None
    checks: list[Check] = field(default_factory=list)


class Executor:
    """Drives the steps in scope for one context. The headless CLI and the TUI share it.

    run() starts a step once every step it comes `after` is done, up to `jobs` steps at a time (the builds
    of conmon and the CNI plugins can run while CRI-O builds); with jobs=1 the steps run in their order.
    """

    def __init__(self, ctx: Context, journal: Journal, runner: Runner, emit: events.EventSink,
                 before_action: Callable[[Step, Action], Awaitable[None]] | None = None,
                 timeout_cap: float | None = None, ignore_checks: frozenset[str] = frozenset(),
                 jobs: int = 1, steps: list[Step] | None = None):
        self.ctx = ctx
        self.journal = journal
        self.runner = runner
        self.emit = emit
        self.before_action = before_action  # learn mode: show each command and wait for the learner
        self.timeout_cap = timeout_cap
        self.ignore_checks = ignore_checks
        self.jobs = max(1, jobs)
        self.files = FileEffects(ctx.host.root, ctx.state_dir / "backups")
        self.ctx.runner = runner
        # the recipe's steps in scope, unless the caller brings its own (benchmarks, tests)
        self.steps: list[Step] = steps if steps is not None else steps_in_scope(ctx)
        self._package_manager = asyncio.Lock()
        # detect() answers gathered `jobs` at a time at the start of run(); trusted until a step runs
        self._detected_ahead: dict[str, bool] = {}
        self._invalidate_changed_inputs()

    # -- what to run -------------------------------------------------------------------------

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"no step {step_id!r} in scope {self.ctx.answers.scope!r}; steps: "
                       + ", ".join(s.id for s in self.steps))

    def fingerprint(self, step: Step) -> str:
        return self.ctx.answers.fingerprint(step.inputs)

    def _invalidate_changed_inputs(self) -> None:
        """A step whose answers changed since it was verified must run again, and so must its dependents."""
        order = [step.id for step in self.steps]
        changed = set()
        for step in self.steps:
            record = self.journal.steps().get(step.id)
            if record and record.status in DONE and record.fingerprint not in (None, self.fingerprint(step)):
                changed.add(step.id)
        if changed:
            depends = {step.id: step.after for step in self.steps}
            self.journal.invalidate_from(order, changed, depends)

    def first_unfinished(self) -> str | None:
        return self.journal.first_unverified([step.id for step in self.steps])

    def log_path(self, step: Step) -> Path:
        return self.ctx.state_dir / "logs" / f"{step.id}.log"

    def context_for(self, step: Step) -> Context:
        """The shared context with this step's log for its probes (steps may run side by side)."""
        return replace(self.ctx, log_path=self.log_path(step))

    def estimate(self, step: Step) -> float:
        record = self.journal.steps().get(step.id)
        if record and record.duration:
            return record.duration
        return step.typical_seconds

    # -- running -----------------------------------------------------------------------------

    async def run(self, from_step: str | None = None, only: str | None = None) -> bool:
        """Run every step in scope that is not done, each once the steps it comes `after` are done, up to
        `jobs` at a time. After a failure no step starts and the running ones finish. True when all are verified."""
        if only is not None:
            outcome = await self.run_step(self.step(only))
            return self._finish(outcome.status == "verified", only if outcome.status != "verified" else None)
        order = [step.id for step in self.steps]
        if from_step is not None and from_step not in order:
            raise KeyError(f"no step {from_step!r} in scope; steps: " + ", ".join(order))
        # --from: the steps before it are not looked at, and it runs again even when verified
        first = order.index(from_step) if from_step is not None else 0
        done = set(order[:first])
        waiting = self.steps[first:]
        if self.jobs > 1:
            self._detected_ahead = await self._detect_ahead([step for step in waiting if step.id != from_step])
        running: dict[asyncio.Task[bool], Step] = {}
        failed: list[str] = []
        try:
            while waiting or running:
                if not failed:
                    for step in self._ready(waiting, done, self.jobs - len(running)):
                        waiting.remove(step)
                        running[asyncio.create_task(self._settle(step, again=step.id == from_step))] = step
                if not running:
                    if waiting and not failed:  # an `after` naming a later step that in turn waits: a defect
                        raise RuntimeError("no step can start: " + ", ".join(
                            f"{step.id} waits for {', '.join(step.after)}" for step in waiting))
                    break
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    step = running.pop(task)
                    if task.result():
                        done.add(step.id)
                    else:
                        failed.append(step.id)
        except BaseException:
            # interrupted (Ctrl-C) or an error outside any step: the running steps stop too
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise
        finally:
            self._detected_ahead = {}
        if failed:
            return self._finish(False, min(failed, key=order.index))  # the one a sequential run meets first
        return self._finish(True, None)

    def _ready(self, waiting: list[Step], done: set[str], free: int) -> list[Step]:
        """Up to `free` waiting steps whose `after` steps are done (steps out of scope do not hold one up)."""
        in_scope = {step.id for step in self.steps}
        ready = [step for step in waiting if all(dep in done or dep not in in_scope for dep in step.after)]
        return ready[:max(0, free)]

    async def _settle(self, step: Step, again: bool = False) -> bool:
        """Bring one step to done: detected as done already, or run (`again`: run even when verified)."""
        if not again and await self.already_done(step):
            return True
        return (await self.run_step(step)).status == "verified"

    async def _detect_ahead(self, steps: list[Step]) -> dict[str, bool]:
        """detect() for the steps the journal says are verified, `jobs` at a time: on a re-run that is most of
        them, and detecting only looks at the host. The answers hold while no step has run since."""
        records = self.journal.steps()
        verified = [step for step in steps if step.id in records and records[step.id].status == "verified"]
        gate = asyncio.Semaphore(self.jobs)

        async def detect(step: Step) -> bool:
            async with gate:
                return await self._detect(step)

        return dict(zip((step.id for step in verified), await asyncio.gather(*map(detect, verified))))

    def _finish(self, ok: bool, failed_step_id: str | None) -> bool:
        self.emit(events.RunFinished(ok=ok, failed_step_id=failed_step_id))
        return ok

    def _position(self, step: Step) -> tuple[int, int]:
        return self.steps.index(step) + 1, len(self.steps)

    async def already_done(self, step: Step) -> bool:
        """Skipped steps stay skipped; verified ones (and never-run ones) are re-detected, not re-run."""
        record = self.journal.record(step.id)
        index, total = self._position(step)
        if record.status == "skipped":
            self.emit(events.StepAlreadyDone(step.id, step.title, index, total, "skipped by the user"))
            return True
        if record.status not in ("verified", "pending"):
            return False
        satisfied = self._detected_ahead.pop(step.id, None)
        if satisfied is None:
            satisfied = await self._detect(step)
        if not satisfied:
            return False
        reason = "verified earlier, still satisfied" if record.status == "verified" else "already satisfied on this host"
        if record.status == "pending":
            self.journal.mark(step.id, "verified", fingerprint=self.fingerprint(step), message=reason)
        self.emit(events.StepAlreadyDone(step.id, step.title, index, total, reason))
        return True

    async def _detect(self, step: Step) -> bool:
        try:
            return await step.detect(self.context_for(step))
        except Exception:  # noqa: BLE001 - run_step will meet the same error and report it as a failure
            return False

    async def run_step(self, step: Step) -> StepOutcome:
        """Plan, run and verify one step, whatever the journal says."""
        self._detected_ahead.clear()  # the host changes from here on: detect again what was detected ahead
        record = self.journal.record(step.id)
        log_path = self.log_path(step)
        log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        ctx = self.context_for(step)
        index, total = self._position(step)
        estimate = self.estimate(step)
        self.journal.mark(step.id, "running", fingerprint=self.fingerprint(step), log_path=str(log_path),
                          exit_code=None, message=None)
        self.emit(events.StepStarted(step.id, step.title, index, total, record.attempts, estimate))
        started = time.monotonic()
        current = "planning"
        try:
            try:
                await self._step_preflight(step, ctx)
                await step.prepare(ctx)
                actions = step.plan(ctx)
            except PlanRefused as refusal:
                failure = events.Failure(step.id, f"refused before any change: {refusal}", log_path,
                                         self._match(step, [str(refusal)]))
                return self._failed(step, failure, started)
            # commands (make install, tar, curl) replace files too: keep the originals first, so that
            # reset can put back what was there before the wizard, whichever action wrote over it
            for path in step.owns(ctx).files:
                self.files.preserve(path)
            for number, action in enumerate(actions, start=1):
                current = describe(action)
                failure = await self._perform(step, action, number, len(actions), log_path)
                if failure is not None:
                    return self._failed(step, failure, started)
            current = "verifying"
            checks = await self._verify(step, ctx)
        except asyncio.CancelledError:
            self.journal.mark(step.id, "interrupted", message=f"interrupted at: {mask(current, self._secrets())}")
            self.emit(events.StepFinished(step.id, "interrupted", time.monotonic() - started,
                                          message=f"interrupted at: {current}"))
            raise
        except Exception as error:  # a defect or an unexpected host state: the step fails, the run survives
            failure = events.Failure(step.id, f"{current}: unexpected {type(error).__name__}: {error}", log_path,
                                     self._match(step, [str(error)]))
            return self._failed(step, failure, started)
        failed_checks = [check for check in checks if not check.ok]
        if failed_checks:
            reason = "verification failed: " + "; ".join(f"{c.name} ({c.detail})" for c in failed_checks)
            lines = [f"{check.name}: {check.detail}" for check in failed_checks]
            failure = events.Failure(step.id, reason, log_path, self._match(step, lines + self._log_tail(log_path)),
                                     failed_checks)
            outcome = self._failed(step, failure, started)
            outcome.checks = checks
            return outcome
        duration = time.monotonic() - started
        self.journal.mark(step.id, "verified", duration=round(duration, 2), exit_code=0, message=None)
        self.emit(events.StepFinished(step.id, "verified", duration))
        return StepOutcome("verified", checks=checks)

    async def _step_preflight(self, step: Step, ctx: Context) -> None:
        """The step's own preflight checks, again, right before it changes anything."""
        if not step.preflight:
            return
        from wizard import preflight

        results = await preflight.run_preflight(ctx, ignore=set(self.ignore_checks), only=set(step.preflight))
        for result in results:
            self.emit(events.CheckDone(step.id, Check(f"preflight {result.name}", result.status != "fail",
                                                      result.detail)))
        refused = preflight.refused(results)
        if refused:
            raise PlanRefused("preflight: " + "; ".join(
                f"{r.name}: {r.detail}" + (f" (hint: {r.fix_hint})" if r.fix_hint else "") for r in refused))

    async def _verify(self, step: Step, ctx: Context) -> list[Check]:
        checks = await step.verify(ctx)
        for check in checks:
            self.emit(events.CheckDone(step.id, check))
        return checks

    def _failed(self, step: Step, failure: events.Failure, started: float) -> StepOutcome:
        duration = time.monotonic() - started
        self.journal.mark(step.id, "failed", message=mask(failure.reason, self._secrets()),
                          exit_code=failure.exit_code)
        self.emit(events.StepFinished(step.id, "failed", duration, failure=failure, message=failure.reason))
        return StepOutcome("failed", failure=failure)

    def _secrets(self) -> tuple[str, ...]:
        return self.ctx.answers.secret_values()

    async def _perform(self, step: Step, action: Action, number: int, count: int,
                       log_path: Path) -> events.Failure | None:
        description = mask(describe(action), self._secrets())
        if self.before_action is not None:
            await self.before_action(step, action)
        self.emit(events.ActionStarted(step.id, number, count, description))
        started = time.monotonic()
        if not isinstance(action, Run):
            backup = self._file_effect(action)
            self.emit(events.ActionFinished(step.id, description, 0, time.monotonic() - started, backup=backup))
            return None
        argv, extra_env = self.ctx.host.command(action.argv)
        timeout = min(action.timeout, self.timeout_cap) if self.timeout_cap else action.timeout
        to_run = Run(argv, cwd=action.cwd, env=dict(action.env) | extra_env, timeout=timeout,
                     stdout_to=action.stdout_to, ok_codes=action.ok_codes,
                     secret_values=action.secret_values + self._secrets())
        if action.cwd:
            Path(action.cwd).mkdir(parents=True, exist_ok=True)
        exclusive = os.path.basename(action.argv[0]) in PACKAGE_MANAGERS
        async with self._package_manager if exclusive else contextlib.nullcontext():
            result = await self.runner.run(
                to_run, log_path,
                on_lines=lambda lines: self.emit(events.OutputLines(step.id, lines)),
                on_heartbeat=lambda silent: self.emit(events.Heartbeat(step.id, silent)),
            )
        self.emit(events.ActionFinished(step.id, description, result.exit_code, result.duration, result.timed_out))
        if result.timed_out:
            reason = f"{description} did not finish within {timeout:g}s and was stopped"
        elif result.exit_code not in action.ok_codes:
            reason = f"{description} exited with {result.exit_code}"
        else:
            if action.stdout_to is not None:
                self.files.write_file(action.stdout_to, result.stdout or b"", 0o644)
            return None
        lines = list(result.tail)
        if result.timed_out:
            lines.append(f"[timed out after {timeout:g}s: killed]")
        return events.Failure(step.id, reason, log_path, self._match(step, lines), output_tail=lines[-40:],
                              exit_code=result.exit_code)

    def _file_effect(self, action: Action) -> Path | None:
        if isinstance(action, WriteFile):
            return self.files.write_file(action.path, action.content, action.mode)
        if isinstance(action, Symlink):
            return self.files.symlink(action.path, action.target)
        assert isinstance(action, RemoveFile)
        return self.files.remove(action.path)

    def _log_tail(self, log_path: Path, count: int = 200) -> list[str]:
        try:
            return log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-count:]
        except OSError:
            return []

    def _match(self, step: Step, lines: list[str]) -> list:
        from wizard import catalogue

        return catalogue.match(step.id, lines)

    # -- decisions the user makes ------------------------------------------------------------

    def skip(self, step_id: str, reason: str = "skipped by the user") -> None:
        step = self.step(step_id)
        self.journal.mark(step.id, "skipped", fingerprint=self.fingerprint(step), message=reason)
        self.emit(events.StepFinished(step.id, "skipped", 0.0, message=reason))

    async def apply_fix(self, failure: events.Failure) -> bool:
        """Run the first matched known error's fix (after the user saw its preview). True when it ran cleanly."""
        from wizard import catalogue

        match = next((m for m in failure.matches if m.entry.fix), None)
        if match is None:
            return False
        step = self.step(failure.step_id)
        try:
            actions, answer_updates = catalogue.fix_plan(match, self.ctx)
        except catalogue.FixError as error:
            self.emit(events.FixApplied(step.id, match.entry.id, False, str(error)))
            return False
        if not actions and not answer_updates:
            if catalogue.retry_only(match.entry):
                self.emit(events.FixApplied(step.id, match.entry.id, True, "nothing to change: the step runs again"))
                return True
            self.emit(events.FixApplied(step.id, match.entry.id, False,
                                        "no automatic fix applies on this host; follow the explanation"))
            return False
        if answer_updates:
            self._update_answers(answer_updates)
            self._invalidate_changed_inputs()  # e.g. a new oci_runtime: crio-config must run again
        for number, action in enumerate(actions, start=1):
            problem = await self._perform(step, action, number, len(actions), failure.log_path)
            if problem is not None:
                self.emit(events.FixApplied(step.id, match.entry.id, False, problem.reason))
                return False
        self.emit(events.FixApplied(step.id, match.entry.id, True, "fix applied"))
        return True

    def _update_answers(self, updates: dict) -> None:
        """A fix may change an answer (e.g. oci_runtime: runc); it is kept in the journal for later runs."""
        overrides = dict(self.journal.meta.get("answer_overrides", {}))
        overrides.update(updates)
        self.journal.meta["answer_overrides"] = overrides
        self.journal.save()
        self.ctx.answers = apply_overrides(self.ctx.answers, overrides)


def apply_overrides(answers: answers_module.Answers, overrides: dict) -> answers_module.Answers:
    """The answers with dotted-key overrides (from fixes) applied on top."""
    data: dict = {}
    for dotted, value in overrides.items():
        node = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    merged = answers_module.merge_over(answers.data, data)
    return answers_module.from_mapping(merged)
