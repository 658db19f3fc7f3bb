"""The `crio-wizard` command: the TUI by default, and headless subcommands for scripts and CI."""

from __future__ import annotations

# `crio-wizard --version` and `--help` must start about as fast as Python itself: everything beyond argparse
# (asyncio, the engine, Textual) is imported by the code that needs it (check with `python -X importtime`).
import argparse
import os
import sys

from wizard import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

EPILOG = """\
commands:
  (none)      the interactive wizard (plain line mode with --plain or when stdout is not a terminal)
  run         run every step headless, one line per event
  plan        print the resolved plan (--format sh: a runnable POSIX script)
  status      the journal as a table
  doctor      verify everything again and name what is wrong
  validate    check an answers file
  reset       undo what the wizard did

exit codes: 0 verified, 1 a step failed, 2 bad usage or a bad answers file,
            3 preflight refused (or another wizard holds the state directory), 130 interrupted

examples:
  crio-wizard --simulate rocky9                 practise on a simulated Rocky Linux 9 host
  crio-wizard run --simulate debian12 --sim-speed 0 --yes
  crio-wizard plan --answers my.yaml --format sh > setup.sh
"""


def _terminal_columns() -> int:
    """The terminal's width as shutil.get_terminal_size() finds it, without importing shutil (which loads the
    bz2 and lzma modules: a tenth of `--help`'s time)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, width=_terminal_columns() - 2)


class _Parser(argparse.ArgumentParser):
    """argparse with _help_formatter, for the parser and (as their class) its subcommands."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _help_formatter)
        super().__init__(*args, **kwargs)


def _common_options() -> argparse.ArgumentParser:
    # SUPPRESS keeps a value given before the subcommand from being reset by the subcommand's defaults
    common = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--answers", metavar="FILE|URL",
                        help="answers file (YAML, a path or an http(s) URL a teacher hands out); "
                             "defaults follow the 2019 recipe")
    common.add_argument("--state-dir", metavar="DIR",
                        help="journal, logs and backups (root: /var/lib/crio-wizard; else the XDG state dir)")
    common.add_argument("--simulate", metavar="PROFILE",
                        help="work on a simulated host: rocky9, centos-stream9, fedora, debian12, ubuntu2404, "
                             "debian12-container")
    common.add_argument("--sim-speed", metavar="FACTOR", type=float,
                        help="simulated durations x FACTOR (1 = real life, 0 = no delay; default 0.1)")
    common.add_argument("--inject", metavar="FAULT", action="append",
                        help="simulate a known failure (repeatable): missing-package, build-failure, cni-version, "
                             "stray-conflist, crio-start, hang")
    common.add_argument("--lang", choices=("en", "zh"), help="language of texts (default: from the locale)")
    common.add_argument("--timeout", metavar="SECONDS", type=float,
                        help="stop any command that runs longer than this")
    common.add_argument("--ignore-check", metavar="NAME", action="append",
                        help="waive a preflight check by name (or 'all')")
    common.add_argument("--plain", action="store_true", help="plain line output instead of the full-screen UI")
    common.add_argument("--learn", action="store_true",
                        help="learn mode: show each command before it runs and wait (for workshops)")
    common.add_argument("--jobs", metavar="N", type=_job_count,
                        help="run up to N independent steps at once, e.g. the conmon and CNI builds while CRI-O "
                             f"builds (default: the number of cores, {default_jobs()}; 1 runs them one by one)")
    return common


def _job_count(text: str) -> int:
    count = int(text)
    if count < 1:
        raise argparse.ArgumentTypeError(f"{count}: at least 1 step runs at a time")
    return count


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = _Parser(
        prog="crio-wizard", parents=[common], epilog=EPILOG,
        description="Set up CRI-O (from source), crictl, minikube with the none driver and flannel, step by "
                    "step: every step is verified before the next one starts, and a stopped run resumes.")
    parser.add_argument("--version", action="version", version=f"crio-wizard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", parents=[common], help="run the steps headless")
    run.add_argument("--yes", action="store_true", help="do not ask before starting or on failure")
    run.add_argument("--from", dest="from_step", metavar="STEP", help="start at STEP (it runs again even if done)")
    run.add_argument("--only", metavar="STEP", help="run only STEP")
    run.add_argument("--fix", action="store_true", help="apply the fix of a matched known error and retry once")
    plan = sub.add_parser("plan", parents=[common], help="print the resolved plan")
    plan.add_argument("--format", choices=("text", "sh"), default="text")
    sub.add_parser("status", parents=[common], help="the journal as a table")
    sub.add_parser("doctor", parents=[common], help="verify everything again and name what is wrong")
    validate = sub.add_parser("validate", parents=[common], help="check an answers file")
    validate.add_argument("file", metavar="FILE")
    reset = sub.add_parser("reset", parents=[common], help="undo what the wizard did")
    reset.add_argument("--yes", action="store_true", help="do not ask")
    reset.add_argument("--dry-run", action="store_true", help="only list what would be undone")
    reset.add_argument("--journal-only", action="store_true", help="only forget the journal (e.g. a corrupt one)")
    return parser


def _options(args: argparse.Namespace):
    from wizard.session import DEFAULT_SIM_SPEED, Options
    from wizard.texts import detect_lang

    return Options(
        answers_path=getattr(args, "answers", None),
        state_dir=getattr(args, "state_dir", None),
        simulate=getattr(args, "simulate", None),
        sim_speed=getattr(args, "sim_speed", DEFAULT_SIM_SPEED),
        inject=tuple(getattr(args, "inject", None) or ()),
        lang=getattr(args, "lang", None) or detect_lang(os.environ),
        timeout_cap=getattr(args, "timeout", None),
        ignore_checks=frozenset(getattr(args, "ignore_check", None) or ()),
        learn=getattr(args, "learn", False),
        jobs=getattr(args, "jobs", None) or default_jobs(),
    )


def main(argv: list[str] | None = None) -> int:
    from wizard.startup import hold_collection

    hold_collection()  # released once the session is open, or once the TUI's first screen is shown
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C before a run's own handling starts (or after it ends): nothing was in progress
        print("crio-wizard: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command
    if command == "validate":
        return _validate(args.file)
    from wizard.answers import AnswersError
    from wizard.host import UnsupportedHost
    from wizard.simulate.sandbox import SimulationError
    from wizard.session import Session

    options = _options(args)
    from wizard.preflight import CHECKS

    unknown_checks = sorted(options.ignore_checks - set(CHECKS) - {"all"})
    if unknown_checks:
        parser.error(f"--ignore-check: no check named {', '.join(unknown_checks)}; "
                     f"the checks are: {', '.join(CHECKS)}, all")
    try:
        session = Session.open(options)
    except AnswersError as error:
        for problem in error.problems:
            print(f"crio-wizard: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except (SimulationError, UnsupportedHost, OSError) as error:
        print(f"crio-wizard: {error}", file=sys.stderr)
        return EXIT_USAGE
    from wizard.files import BackupManifestCorrupt

    try:
        return _dispatch(command, args, session)
    except BackupManifestCorrupt as error:
        print(f"crio-wizard: {error}. The originals of the files the wizard replaced are still in "
              f"{session.state_dir / 'backups' / 'files'}; move the manifest aside only if you accept that "
              "`reset` cannot restore them", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        # e.g. a full disk while saving the journal or writing a log: every save is atomic, so the
        # journal on disk is the last one that was complete
        print(f"crio-wizard: cannot write {error.filename or session.state_dir}: {error.strerror or error}. "
              "Nothing was lost: the journal keeps the last state saved in full; free some space (or fix "
              "the cause) and run the same command again", file=sys.stderr)
        return EXIT_FAILED


def _dispatch(command: str | None, args: argparse.Namespace, session) -> int:
    from wizard import commands
    from wizard.startup import release_collection

    if command is None and not getattr(args, "plain", False) and sys.stdout.isatty():
        return commands.tui(session)  # the app releases the collector once its first screen is shown
    release_collection()
    if command == "plan":
        return commands.plan(session, args.format)
    if command == "status":
        return commands.status(session)
    if command == "doctor":
        return commands.doctor(session)
    if command == "reset":
        return commands.reset(session, yes=args.yes, dry_run=args.dry_run, journal_only=args.journal_only)
    if command == "run":
        return commands.run(session, yes=args.yes, from_step=args.from_step, only=args.only, fix=args.fix)
    return commands.run(session, yes=False, from_step=None, only=None, fix=False)  # --plain, or not a terminal


def _validate(path: str) -> int:
    from wizard.answers import AnswersError, load

    try:
        answers = load(path)
    except AnswersError as error:
        for problem in error.problems:
            # a problem with the file itself names it already; one with a key gets the file's name in front
            print(problem if problem.startswith(f"{path}: ") else f"{path}: {problem}")
        return EXIT_USAGE
    print(f"{path}: valid (scope {answers.scope}, Kubernetes {answers.pins.kubernetes}, CRI-O {answers.pins.crio})")
    return EXIT_OK


def run_cancellable(coroutine) -> int:
    """Run the coroutine; SIGINT, SIGTERM and SIGHUP (an ssh drop) cancel it cleanly: exit 130."""
    import asyncio
    import signal

    stopping = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    # a signal while asyncio sets up its loop is remembered, and acted on once the handlers are in place
    arrived: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, _frame: arrived.append(signum)) for signum in stopping}

    async def guarded():
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for signum in stopping:
            loop.add_signal_handler(signum, task.cancel)
        try:
            if arrived:
                coroutine.close()  # never started: nothing to undo
                return EXIT_INTERRUPTED
            return await coroutine
        except asyncio.CancelledError:
            return EXIT_INTERRUPTED

    try:
        return asyncio.run(guarded())
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
