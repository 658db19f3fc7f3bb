"""The subcommands behind the CLI: run, plan, status, doctor, reset, and the TUI launcher."""

from __future__ import annotations

import sys

from wizard import events
from wizard.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, run_cancellable
from wizard.headless import LinePrinter
from wizard.journal import JournalCorrupt
from wizard.lock import LockHeld
from wizard.session import Session
from wizard.steps import steps_in_scope


def _say(text: str) -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(f"crio-wizard: {text}", file=sys.stderr, flush=True)


def _host_label(session: Session) -> str:
    facts = session.host.facts
    if session.host.simulated:
        return f"SIMULATED HOST {session.host.simulated} ({facts.pretty_name}): nothing on this machine is changed"
    return f"host {facts.pretty_name}"


def _refuse_unsupported_or_unprivileged(session: Session) -> int | None:
    reason = session.host.facts.unsupported_reason()
    if reason:
        _err(reason)
        return EXIT_REFUSED
    if not session.host.is_root_user:
        _err("this changes the machine and needs root: run it with sudo (or as root); "
             "plan, status, doctor and validate work without root")
        return EXIT_REFUSED
    return None


def _lock(session: Session) -> int | None:
    try:
        session.acquire()
    except LockHeld as held:
        _err(str(held))
        return EXIT_REFUSED
    except JournalCorrupt as error:
        session.release()
        _err(str(error))
        return EXIT_USAGE
    if session.stopped_leftovers:
        _err("stopped what a killed wizard left running: " + ", ".join(session.stopped_leftovers))
    return None


# -- run -------------------------------------------------------------------------------------

def run(session: Session, yes: bool, from_step: str | None, only: str | None, fix: bool) -> int:
    refused = _refuse_unsupported_or_unprivileged(session) or _lock(session)
    if refused is not None:
        return refused
    try:
        return run_cancellable(_drive(session, yes, from_step, only, fix))
    finally:
        session.release()


async def _drive(session: Session, yes: bool, from_step: str | None, only: str | None, fix: bool) -> int:
    printer = LinePrinter(lang=session.options.lang)
    failures: dict[str, events.Failure] = {}
    last_failure: list[events.Failure] = []

    def emit(event: events.Event) -> None:
        if isinstance(event, events.StepFinished) and event.failure is not None:
            failures[event.step_id] = event.failure
        elif isinstance(event, events.RunFinished) and event.failed_step_id in failures:
            # with --jobs more than one step may fail: the run names the one that comes first
            last_failure[:] = [failures[event.failed_step_id]]
        printer(event)

    executor = session.executor(emit)
    _say(f"crio-wizard: {_host_label(session)}; scope {session.answers.scope}; state {session.state_dir}")
    refused = await _preflight(session, executor)
    if refused:
        return EXIT_REFUSED
    if not yes and not _ask("Start? [Y/n] ", default="y").startswith("y"):
        return EXIT_FAILED
    fixed_steps: set[str] = set()
    while True:
        failures.clear()
        last_failure.clear()
        if await executor.run(from_step=from_step, only=only):
            return EXIT_OK
        if not last_failure:
            return EXIT_FAILED
        failure = last_failure[0]
        can_fix = any(match.entry.fix for match in failure.matches)
        if yes:
            if fix and can_fix and failure.step_id not in fixed_steps:
                fixed_steps.add(failure.step_id)
                if await executor.apply_fix(failure):
                    from_step = None  # the failed step (and any step the fix invalidated) runs again
                    continue
            return EXIT_FAILED
        choice = _ask("[r]etry, " + ("[f]ix, " if can_fix else "") + "[s]kip, [q]uit? ", default="q")
        if choice.startswith("r"):
            from_step = None  # a failed step is never "done": it runs again, and so does what a fix invalidated
        elif choice.startswith("f") and can_fix:
            await executor.apply_fix(failure)
            from_step = None
        elif choice.startswith("s"):
            executor.skip(failure.step_id)
            from_step = None
        else:
            return EXIT_FAILED
        only = None


def _ask(prompt: str, default: str) -> str:
    try:
        answer = input(prompt).strip().lower()
    except EOFError:
        return default
    return answer or default


async def _preflight(session: Session, executor) -> bool:
    """Run the preflight checks; True when an error-severity check failed and was not waived."""
    from wizard import preflight

    results = await preflight.run_preflight(executor.ctx, ignore=set(session.options.ignore_checks))
    for result in results:
        if result.status != "pass":
            _say(f"preflight {result.status:6} {result.name}: {result.detail}"
                 + (f" (hint: {result.fix_hint})" if result.fix_hint and result.status != "waived" else ""))
    refused = preflight.refused(results)
    if refused:
        _err("preflight refused: " + ", ".join(r.name for r in refused)
             + " (waive with --ignore-check NAME if you know better)")
    return bool(refused)


# -- plan and status -------------------------------------------------------------------------

def plan(session: Session, output_format: str) -> int:
    from wizard.plan_output import render_sh, render_text

    ctx = session.context()
    steps = steps_in_scope(ctx)
    render = render_sh if output_format == "sh" else render_text
    sys.stdout.write(render(ctx, steps))
    return EXIT_OK


def status(session: Session) -> int:
    try:
        journal = session.load_journal()
    except JournalCorrupt as error:
        _err(str(error))
        return EXIT_USAGE
    ctx = session.context()
    steps = steps_in_scope(ctx)
    records = journal.steps()
    _say(_host_label(session))
    _say(f"{'step':16} {'status':12} {'attempts':>8}  note")
    all_verified = True
    for step in steps:
        record = records.get(step.id)
        state = record.status if record else "pending"
        all_verified &= state == "verified"
        note = (record.message or "") if record else ""
        if record and record.duration and state == "verified":
            note = note or f"{record.duration:.1f}s"
        _say(f"{step.id:16} {state:12} {record.attempts if record else 0:>8}  {note}")
    return EXIT_OK if all_verified else EXIT_FAILED


# -- doctor and reset ------------------------------------------------------------------------

def doctor(session: Session) -> int:
    from wizard.doctor import doctor_report

    return run_cancellable(doctor_report(session))


def reset(session: Session, yes: bool, dry_run: bool, journal_only: bool) -> int:
    from wizard.reset import reset_host

    if not dry_run and not journal_only:
        refused = _refuse_unsupported_or_unprivileged(session)
        if refused is not None:
            return refused
    return reset_host(session, yes=yes, dry_run=dry_run, journal_only=journal_only)


def tui(session: Session) -> int:
    refused = _lock(session)
    if refused is not None:
        return refused
    try:
        from screens.app import make_app

        app = make_app(session)
        app.run()
        return app.return_code if app.return_code is not None else EXIT_OK
    finally:
        session.release()


__all__ = ["run", "plan", "status", "doctor", "reset", "tui", "EXIT_INTERRUPTED"]
