"""`crio-wizard reset`: undo what the steps own, plus what `minikube delete` leaves behind."""

from __future__ import annotations

import asyncio
import sys

from wizard.actions import Run
from wizard.files import CREATED_DIRECTORY, CREATED_FILE, FileEffects, RestoreIncomplete
from wizard.journal import Journal
from wizard.steps import steps_in_scope
from wizard.steps.runtime_check import REMOVE_EARLIER_POD

CRIO_SOCKET = "/var/run/crio/crio.sock"

# what the none driver's `minikube delete` does not remove (it only cleans /var/tmp/minikube,
# /etc/kubernetes/manifests and /var/lib/minikube): left behind, they break the next run
LEFTOVER_LINKS = ("cni0", "flannel.1")
LEFTOVER_DIRS = ("/var/lib/cni/networks", "/run/flannel")


def reset_plan(session) -> tuple[list[Run], list[str]]:
    """The commands to run, and the host files to remove that no backup restores."""
    ctx = session.context()
    commands: list[Run] = []
    files: list[str] = []
    links: list[str] = []
    dirs: list[str] = list(LEFTOVER_DIRS)
    units: list[str] = []
    steps = steps_in_scope(ctx)
    for step in steps:
        owned = step.owns(ctx)
        files += [path for path in owned.files if path not in files]
        links += [link for link in owned.links if link not in links]
        dirs += [path for path in owned.dirs if path not in dirs]
        units += [unit for unit in owned.units if unit not in units]
    if any(step.id == "minikube" for step in steps) and ctx.exists("/usr/local/bin/minikube"):
        commands.append(Run(("minikube", "delete"), timeout=300, ok_codes=(0, 1)))
    if any(step.id == "runtime-check" for step in steps) and ctx.exists(CRIO_SOCKET):
        # the test pod the runtime check keeps for the user to inspect (a fixed script, no answer values in it)
        commands.append(Run(("sh", "-c", REMOVE_EARLIER_POD), timeout=120, ok_codes=(0, 1)))
    if session.host.facts.systemd:
        commands += [Run(("systemctl", "disable", "--now", unit), ok_codes=(0, 1, 5)) for unit in units]
    else:
        # without systemd crio was started in the background: nothing else would stop it
        commands.append(Run(("pkill", "-x", "crio"), ok_codes=(0, 1)))
    for link in links:
        if ctx.exists(f"/sys/class/net/{link}") or session.host.simulated:
            commands.append(Run(("ip", "link", "delete", link), ok_codes=(0, 1)))
    commands += [Run(("rm", "-rf", "--", path)) for path in dirs if ctx.exists(path)]
    backed_up = {entry.get("path") for entry in FileEffects(ctx.host.root, session.state_dir / "backups").manifest()}
    removable = [path for path in files if path not in backed_up and ctx.exists(path)]
    return commands, removable


def reset_host(session, yes: bool, dry_run: bool, journal_only: bool) -> int:
    if journal_only:
        Journal.remove(session.state_dir)
        print(f"forgot the journal in {session.state_dir}; the host is unchanged")
        return 0
    commands, removable = reset_plan(session)
    effects = FileEffects(session.host.root, session.state_dir / "backups")
    manifest = effects.manifest()
    print("reset will:")
    for command in commands:
        print("  $ " + " ".join(command.argv))
    for path in removable:
        print(f"  remove {path}")
    verbs = {CREATED_FILE: "remove (the wizard created it)", CREATED_DIRECTORY: "remove if empty"}
    for entry in reversed(manifest):
        print(f"  {verbs.get(entry['kind'], 'restore the original of')} {entry['path']}")
    print("  forget the journal")
    if dry_run:
        return 0
    if not yes:
        try:
            if input("Go ahead? [y/N] ").strip().lower() not in ("y", "yes"):
                return 1
        except EOFError:
            return 1
    try:
        session.acquire()
    except Exception as error:  # LockHeld or a corrupt journal: say it, change nothing
        print(f"crio-wizard: {error}", file=sys.stderr)
        return 3
    try:
        return asyncio.run(_apply(session, commands, removable, effects))
    finally:
        session.release()


async def _apply(session, commands: list[Run], removable: list[str], effects: FileEffects) -> int:
    runner = session.runner()
    log_path = session.state_dir / "logs" / "reset.log"
    log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    problems = []
    for command in commands:
        argv, extra_env = session.host.command(command.argv)
        result = await runner.run(Run(argv, env=extra_env, timeout=command.timeout, ok_codes=command.ok_codes),
                                  log_path, on_lines=lambda lines: None)
        if result.exit_code not in command.ok_codes:
            problems.append(f"{' '.join(command.argv)} exited with {result.exit_code}")
    for path in removable:
        session.host.path(path).unlink(missing_ok=True)
    try:
        effects.restore_all()
    except RestoreIncomplete as error:
        problems += error.problems
    if problems:
        for problem in problems:
            print(f"crio-wizard: reset: {problem}", file=sys.stderr)
        print(f"see {log_path}; run reset again after fixing the cause", file=sys.stderr)
        return 1
    Journal.remove(session.state_dir)
    print("reset done: the host is back as it was before the wizard (see the log for details)")
    return 0
