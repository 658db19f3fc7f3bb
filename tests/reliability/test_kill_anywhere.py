"""Kill anywhere: a headless run on the simulated host is interrupted 26 times at seeded random moments (SIGKILL,
and SIGTERM, SIGINT and SIGHUP as a closed ssh session sends), and after every interruption the state on disk
is checked: the journal parses, no step is verified whose checks fail, no file is half-written, every backup is
intact. Then `run` completes."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.reliability.harness import (
    REPLACED_FILES, UNRELATED_FILES, WIZARD, FileState, cli, count, file_state, host_file, journal_steps,
    make_sandbox, manifest_entries, output_of, plant, processes_with, sim_args,
    wait_for_no_processes_with, wizard_temp_files,
)
from wizard.files import FileEffects
from wizard.journal import Journal
from wizard.session import Options, Session
from wizard.steps import steps_in_scope

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

SEED = 5
SIGKILLS = 20
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
SIGNAL_ROUNDS = 2  # each of SIGNALS this many times
SIM_SPEED = "0.02"  # slow enough that commands take a while, fast enough for the time budget
# the headless lines (with --jobs above 1 the indented ones name their step: "    [crio-build] $ make")
STEP_LINE = re.compile(r"^==> \[(\d+)/\d+\] (\S+): (.*)$")
STEP_END = re.compile(r"^<== (\S+): ")
ACTION_LINE = re.compile(r"^    (\[\S+\] )?(\$ |write |link |remove )")
CHECK = re.compile(r"^    (\[\S+\] )?\[(ok|FAIL)\]")
OUTPUT = re.compile(r"^\[\S+\] ")


@dataclass
class Interruption:
    signum: int
    target: int  # the 1-based index of the step it happens in (or the first one after it that runs)
    phase: str  # command | write | verify | boundary
    early: bool = False  # only the first lines of the step may pass before it


@dataclass
class Witness:
    """What the checks after each interruption have seen, for the final comparison and the figures."""

    verified: set[str] = field(default_factory=set)
    contents: dict[str, set[bytes]] = field(default_factory=dict)  # file -> contents seen (no parser for it)
    backups: dict[str, FileState] = field(default_factory=dict)  # file -> its backup when first seen
    where: dict[str, int] = field(default_factory=dict)
    commands_outlived: int = 0  # SIGKILLs after which the command the wizard ran went on (and finished)
    signals_marked: int = 0  # signals after which the journal said which step was interrupted, and where


def signals_in_order(rng: random.Random) -> list[int]:
    signals = [signal.SIGKILL] * SIGKILLS + [signum for signum in SIGNALS for _ in range(SIGNAL_ROUNDS)]
    rng.shuffle(signals)
    return signals


def next_interruption(rng: random.Random, signum: int, number: int, total: int, first_unfinished: int,
                      steps: int) -> Interruption:
    """Where interruption `number` of `total` goes: spread evenly over the steps (two or three in each), but
    never before the step the run resumes at."""
    target = max(first_unfinished, 1 + (number - 1) * steps // total)
    last = target == steps
    if signum != signal.SIGKILL:
        phases = ["command"] if last else ["command", "verify"]  # signals are for moments inside a step
    else:
        # in the last step only early moments: one after its verification would find the run finished
        phases = ["command", "write"] if last else ["command", "command", "write", "verify", "boundary"]
    return Interruption(signum, target, rng.choice(phases), early=last)


def interrupt(process: subprocess.Popen, plan: Interruption, rng: random.Random) -> tuple[bool, list[str]]:
    """Read the run's lines until the moment `plan` names, then signal its process group.

    Returns (whether the signal was sent, the lines read); False means the run ended first. Steps may run
    side by side (--jobs): then lines name their step, and the moment is in any step running by then."""
    seen: list[str] = []
    current: set[str] = set()  # steps at or after the target that are running
    commands_to_wait = rng.randint(0, 1 if plan.early else 6)
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        started = STEP_LINE.match(line)
        if started and not started.group(3).startswith("done ("):
            if int(started.group(1)) >= plan.target:
                current.add(started.group(2))
            continue
        if not current:
            continue
        ended = STEP_END.match(line)
        action = ACTION_LINE.match(line)
        if ended and ended.group(1) in current:
            if plan.signum != signal.SIGKILL:
                current.discard(ended.group(1))  # a signal is for a moment inside a step: wait for another
                continue
            moment = 0.0  # the step ended before its moment came: kill at the boundary to the next one
        elif plan.phase == "command" and (action or CHECK.match(line) or OUTPUT.match(line)):
            commands_to_wait -= 1
            if commands_to_wait >= 0:
                continue
            moment = rng.uniform(0, 0.02 if plan.early else 0.15)
        elif plan.phase == "write" and action and action.group(2) != "$ ":
            moment = rng.uniform(0, 0.002)
        elif plan.phase == "verify" and CHECK.match(line):
            moment = rng.uniform(0, 0.03)
        else:
            continue
        time.sleep(moment)
        try:
            os.killpg(process.pid, plan.signum)
        except ProcessLookupError:
            return False, seen
        return True, seen
    return False, seen


def _parse_problem(host_path: str, content: bytes) -> str | None:
    """Why `content` is not a whole file of its kind; None if it parses. Raises KeyError for unknown kinds."""
    name = host_path.rsplit("/", 1)[-1]
    try:
        if name.endswith((".json", ".conflist")):
            json.loads(content)
        elif name.endswith((".yaml", ".yml")):
            yaml.safe_load(content)
        elif host_path.startswith("/etc/crio/") and name.endswith(".conf"):
            tomllib.loads(content.decode())
        else:
            raise KeyError(host_path)
    except (ValueError, yaml.YAMLError) as error:
        return f"{host_path} does not parse: {error}"
    return None


def check_state(state: Path, root: Path, originals: dict[str, FileState], witness: Witness,
                answers: Path, verify_log: Path) -> None:
    """Everything the wizard keeps on disk is whole and honest right after an interruption."""
    journal = Journal.load(state)  # raises JournalCorrupt if a write was torn
    FileEffects(root, state / "backups")  # raises BackupManifestCorrupt likewise
    for entry in manifest_entries(state):
        path = entry["path"]
        if entry["kind"] == "file":
            # a file that was there before the run, or that a command of an earlier step put there
            backup = file_state(state / "backups" / entry["backup"])
            original = originals.get(path) or witness.backups.setdefault(path, backup)
            assert backup is not None and (backup.content, backup.mode, backup.uid, backup.gid) == \
                (original.content, original.mode, original.uid, original.gid), f"backup of {path} is not the original"
        if entry["kind"] not in ("file", "created"):
            continue
        current = file_state(host_file(root, path))
        if current is None or current.link is not None or current.content is None:
            continue
        original = originals.get(path) or witness.backups.get(path)
        if original is not None and current.content == original.content:
            continue
        try:
            problem = _parse_problem(path, current.content)
        except KeyError:
            witness.contents.setdefault(path, set()).add(current.content)
            continue
        assert problem is None, problem
    newly_verified = {step_id for step_id, record in journal.steps().items()
                      if record.status == "verified"} - witness.verified
    failing = verify(state, answers, verify_log, newly_verified)
    assert not failing, f"steps marked verified whose checks fail: {failing}"
    witness.verified |= newly_verified


def verify(state: Path, answers: Path, log: Path, step_ids: set[str]) -> dict[str, list[str]]:
    """Run the named steps' checks against the simulated host, as `doctor` does; the failing ones by step."""
    if not step_ids:
        return {}
    session = Session.open(Options(answers_path=str(answers), simulate="rocky9", sim_speed=0, state_dir=str(state)))
    ctx = session.context(session.runner())
    ctx.log_path = log
    steps = {step.id: step for step in steps_in_scope(ctx)}

    async def checks() -> dict[str, list[str]]:
        failing = {}
        for step_id in sorted(step_ids):
            failed = [f"{check.name}: {check.detail}" for check in await steps[step_id].verify(ctx) if not check.ok]
            if failed:
                failing[step_id] = failed
        return failing

    return asyncio.run(checks())


def where_it_landed(state: Path, temps: list[Path]) -> str:
    """Classify an interruption by what it left: a temp file of an atomic write, a step still running with
    a command unfinished, or finished (then in verify or just before it), or no step running."""
    if temps:
        return "kills inside an atomic write"
    running = [record for record in journal_steps(state).values() if record.status == "running"]
    if not running:
        return "kills between steps"
    log = Path(running[0].log_path or "")
    tail = log.read_text(errors="replace").rstrip().rsplit("\n", 1)[-1] if log.exists() else ""
    return "kills after a command (before or during verify)" if tail.startswith("[exit ") else "kills inside commands"


def test_a_run_interrupted_26_times_at_random_moments_still_completes(tmp_path, figures):
    state = tmp_path / "state"
    answers = tmp_path / "answers.yaml"
    answers.write_text("scope: runtime\n")
    root = make_sandbox(state)
    plant(root, {**REPLACED_FILES, **UNRELATED_FILES})
    originals = {"/" + path.relative_to(root).as_posix(): file_state(path)
                 for path in root.rglob("*") if path.is_file() or path.is_symlink()}
    rng = random.Random(SEED)
    step_ids = [step.id for step in steps_in_scope(Session.open(Options(
        answers_path=str(answers), simulate="rocky9", state_dir=str(state))).context())]
    command = [*WIZARD, "run", *sim_args(state, SIM_SPEED), "--answers", str(answers), "--yes"]
    witness = Witness()
    survived = {"SIGKILLs survived": 0, "SIGTERM/SIGINT/SIGHUP survived": 0}
    signals = signals_in_order(rng)
    for number, signum in enumerate(signals, start=1):
        first_unfinished = Journal.load(state).first_unverified(step_ids)
        if first_unfinished is None:
            break
        plan = next_interruption(rng, signum, number, len(signals), step_ids.index(first_unfinished) + 1,
                                 len(step_ids))
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            sent, seen = interrupt(process, plan, rng)
            rest, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        transcript = "".join(seen) + rest
        context = f"interruption {number} ({plan}):\n{transcript[-3000:]}"
        if process.returncode == 0 and transcript.rstrip().endswith("All steps verified."):
            break  # the run finished before the remaining moments came (or just before a signal arrived)
        assert sent, context
        if plan.signum == signal.SIGKILL:
            landed = where_it_landed(state, wizard_temp_files(state))
            witness.where[landed] = witness.where.get(landed, 0) + 1
            # the command it was running has a process group of its own and outlives it, as after `kill -9`
            # on a real host: it finishes (the resumed run runs its step again anyway)
            witness.commands_outlived += bool(processes_with(str(root)))
            assert wait_for_no_processes_with(str(root), 30.0) == [], context
        else:
            assert process.returncode == 130, context
            assert "Traceback" not in transcript, context
            records = journal_steps(state)
            # every step that was in progress says it was interrupted, and where
            assert not [step_id for step_id, record in records.items() if record.status == "running"], context
            for step_id, record in records.items():
                if record.status == "interrupted":
                    assert re.match(r"interrupted at: (\$ \S|verifying|planning|write |link |remove )|the wizard",
                                    record.message or ""), (step_id, record.message)
            witness.signals_marked += any((record.message or "").startswith("interrupted at: ")
                                          for record in records.values() if record.status == "interrupted")
            # cancelled cleanly: the step's command group is gone with the wizard
            left = wait_for_no_processes_with(str(root), 3.0)
            count("orphans left", len(left))
            assert left == [], context
        check_state(state, root, originals, witness, answers, tmp_path / "verify.log")
        survived["SIGKILLs survived" if plan.signum == signal.SIGKILL else "SIGTERM/SIGINT/SIGHUP survived"] += 1

    final = cli("run", *sim_args(state), "--answers", str(answers), "--yes")
    assert final.returncode == 0, output_of(final)[-3000:]
    assert set(record.status for record in journal_steps(state).values()) == {"verified"}
    doctor = cli("doctor", *sim_args(state), "--answers", str(answers))
    assert doctor.returncode == 0, doctor.stdout[-3000:]
    assert wizard_temp_files(state) == [], "temp files of interrupted writes were left behind"
    assert processes_with(str(root)) == []
    for path, contents in witness.contents.items():
        final_state = file_state(host_file(root, path))
        allowed = {final_state.content if final_state else None, originals[path].content if path in originals else None}
        assert contents <= allowed, f"{path} was seen with content that is neither its original nor its final one"
    for path, original in originals.items():
        if path in UNRELATED_FILES:
            assert file_state(host_file(root, path)) == original, f"{path} changed"

    total = sum(survived.values())
    print(f"interruptions survived: {total} ({survived}); where they landed: {witness.where}; "
          f"kills the running command outlived: {witness.commands_outlived}; "
          f"signals after which the journal named the interrupted step: {witness.signals_marked}")
    assert survived["SIGKILLs survived"] >= SIGKILLS - 4, survived
    assert survived["SIGTERM/SIGINT/SIGHUP survived"] >= len(SIGNALS) * SIGNAL_ROUNDS - 2, survived
    assert witness.signals_marked >= survived["SIGTERM/SIGINT/SIGHUP survived"] // 2, witness
    count("kills survived", total)
    for name, amount in {**survived, **witness.where}.items():
        count(name, amount)


# A process that does nothing but the wizard's two kinds of writes, in turn and for ever: journal saves and a
# replaced host file (backed up the first time). Killed at random moments, most kills land inside a write.
WRITER = """
import itertools, sys
from pathlib import Path
from wizard.files import FileEffects
from wizard.journal import Journal
state, root, target = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
versions = [f"# version {n}\\n".encode() + b"log_level = 'info'\\n" * 100000 for n in range(3)]
journal = Journal.load(state)
effects = FileEffects(root, state / "backups")
print("ready", flush=True)
for n in itertools.count():
    journal.mark(f"step-{n % 5}", "running" if n % 2 else "verified", message=f"attempt {n}")
    effects.write_file(target, versions[n % 3], 0o644)
    if len(sys.argv) > 4:
        break
"""
WRITES_KILLED = 25


def test_kills_inside_journal_saves_and_backed_up_writes_leave_whole_files(tmp_path, figures):
    state, root = tmp_path / "state", tmp_path / "root"
    target = "/etc/crio/crio.conf.d/02-crio.conf"
    plant(root, {target: REPLACED_FILES[target]})
    original = file_state(host_file(root, target))
    versions = {f"# version {n}\n".encode() + b"log_level = 'info'\n" * 100000 for n in range(3)}
    writer = [WIZARD[0], "-c", WRITER, str(state), str(root), target]
    rng = random.Random(SEED)
    inside_a_write = 0
    for _ in range(WRITES_KILLED):
        process = subprocess.Popen(writer, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.01, 0.15))
        process.kill()
        process.wait()
        Journal.load(state)  # whole: the old or the new journal, never a torn one
        current = file_state(host_file(root, target))
        assert current is not None and current.content in versions | {original.content}
        entry = next(entry for entry in manifest_entries(state) if entry["path"] == target)
        assert file_state(state / "backups" / entry["backup"]) == original
        inside_a_write += bool(wizard_temp_files(tmp_path))
    # the next writes clean up what the killed ones left half-way
    subprocess.run([*writer, "once"], check=True, cwd=Path(__file__).parents[2], capture_output=True)
    assert wizard_temp_files(tmp_path) == []
    print(f"{WRITES_KILLED} kills of a writer, {inside_a_write} of them inside a write")
    assert inside_a_write >= WRITES_KILLED // 6, "the kills hardly ever landed inside a write: make them denser"
    count("kills survived", WRITES_KILLED)
    count("SIGKILLs survived", WRITES_KILLED)
    count("kills inside an atomic write", inside_a_write)


@pytest.mark.parametrize("moment", ["sim/root/.sim/profile", "lock"])
def test_ctrl_c_while_the_wizard_starts_exits_130_without_a_traceback(tmp_path, moment):
    """Before a run's steps start (the simulated host being made, the lock just taken): Ctrl-C is said
    in one line, not a Python traceback."""
    state = tmp_path / "state"
    if moment == "lock":
        make_sandbox(state)
    process = subprocess.Popen([*WIZARD, "run", *sim_args(state), "--yes"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while not (state / moment).exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    Journal.load(state)
