"""Hangs and leftovers: a hanging command is stopped at its timeout with a clear message and the catalogue's hint;
cancelling leaves no process of the step behind (checked in the process table); a full disk while the journal
or a log is written is said clearly and leaves the journal whole (on a small tmpfs made for the test)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.harness import (
    WIZARD, assert_no_traceback, cli, count, journal_steps, output_of, processes_with, sim_args,
    wait_for_no_processes_with,
)
from wizard.journal import Journal


def forget_fired_fault(root: Path, fault: str) -> None:
    """Faults fire once per simulated host: make this one fire again."""
    state_file = root / ".sim" / "state.json"
    data = json.loads(state_file.read_text())
    data["faults_fired"] = [name for name in data.get("faults_fired", []) if name != fault]
    state_file.write_text(json.dumps(data))


def hanging_conmon_build(state: Path) -> subprocess.Popen:
    """A headless run whose conmon build hangs for ever, returned once the build has started."""
    hanging = subprocess.Popen([*WIZARD, "run", *sim_args(state), "--yes", "--only", "conmon", "--inject", "hang"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    assert hanging.stdout is not None
    for line in hanging.stdout:
        if "mkdir -p bin" in line:  # the build's first line; then it hangs
            break
    return hanging


def test_a_hang_is_cancelled_or_timed_out_and_leaves_no_process(tmp_path, figures):
    state = tmp_path / "state"
    root = state / "sim" / "root"
    prepared = cli("run", *sim_args(state), "--yes", "--only", "build-deps")  # git, make and gcc for conmon
    assert prepared.returncode == 0, output_of(prepared)[-3000:]

    # cancelled (SIGTERM, as a closed terminal or `kill` sends) while conmon's build hangs
    hanging = hanging_conmon_build(state)
    time.sleep(0.5)
    assert processes_with(str(root)), "the hanging command is not running: the test would prove nothing"
    started = time.monotonic()
    os.killpg(hanging.pid, signal.SIGTERM)
    rest, _ = hanging.communicate(timeout=30)
    assert hanging.returncode == 130, rest
    assert time.monotonic() - started < 10
    left = wait_for_no_processes_with(str(root), 1.0)
    count("orphans left", len(left))
    assert left == [], f"left running after the cancel: {left}"
    record = journal_steps(state)["conmon"]
    assert record.status == "interrupted" and record.message.startswith("interrupted at: $ (cd ") \
        and record.message.endswith("conmon && make)"), record

    # stopped by its timeout
    forget_fired_fault(root, "hang")
    started = time.monotonic()
    timed_out = cli("run", *sim_args(state), "--yes", "--only", "conmon", "--inject", "hang", "--timeout", "2")
    elapsed = time.monotonic() - started
    assert timed_out.returncode == 1, output_of(timed_out)[-3000:]
    assert_no_traceback(timed_out)
    assert "did not finish within 2s and was stopped" in timed_out.stdout
    assert "A command hung and was stopped by its timeout [command-timeout]" in timed_out.stdout
    assert elapsed < 20, f"took {elapsed:.1f}s to stop a 2s timeout"
    left = processes_with(str(root))
    count("orphans left", len(left))
    assert left == [], f"left running after the timeout: {left}"
    record = journal_steps(state)["conmon"]
    assert record.status == "failed" and "did not finish within 2s" in record.message



def test_a_command_that_outlived_a_killed_wizard_is_stopped_by_the_next_one(tmp_path, figures):
    state = tmp_path / "state"
    root = state / "sim" / "root"
    prepared = cli("run", *sim_args(state), "--yes", "--only", "build-deps")
    assert prepared.returncode == 0, output_of(prepared)[-3000:]
    hanging = hanging_conmon_build(state)
    hanging.kill()  # the wizard alone, as the OOM killer would: its command has a process group of its own
    hanging.communicate(timeout=30)
    time.sleep(0.5)
    outlived = processes_with(str(root))
    assert outlived, "the build did not outlive the wizard: the test would prove nothing"

    resumed = cli("run", *sim_args(state), "--yes", "--only", "conmon")
    assert resumed.returncode == 0, output_of(resumed)[-3000:]
    assert "crio-wizard: stopped what a killed wizard left running: make (process group " in resumed.stderr
    left = processes_with(str(root))
    count("orphans left", len(left))
    assert left == [], f"still running beside the resumed build: {left}"
    assert journal_steps(state)["conmon"].status == "verified"
    assert not list((state / "running").iterdir()), "a finished command is still recorded as running"

@pytest.fixture
def tmpfs():
    """Mounts small tmpfs file systems (root only), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted: list[Path] = []

    def mount(where: Path, size: str) -> Path:
        where.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], capture_output=True)  # the test may have unmounted it


def fill(disk: Path) -> Path:
    """Fill the file system up."""
    filler = disk / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 16))
                handle.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def test_a_full_disk_is_said_clearly_and_the_journal_stays_whole(tmp_path, tmpfs):
    disk = tmpfs(tmp_path / "disk", "1m")
    state = disk / "state"
    # preflight refuses a disk this small up front: waived, as if the disk filled up during the run
    run = ["run", *sim_args(state), "--yes", "--ignore-check", "disk"]
    first = cli(*run, "--only", "host-prep")
    assert first.returncode == 0, output_of(first)[-3000:]
    journal_before = (state / "journal.yaml").read_bytes()

    # no room at all: nothing can be recorded when the step starts
    filler = fill(disk)
    full = cli(*run, "--only", "build-deps")
    assert full.returncode == 1, output_of(full)[-3000:]
    assert_no_traceback(full)
    assert "No space left on device" in full.stderr and "run the same command again" in full.stderr, full.stderr
    assert (state / "journal.yaml").read_bytes() == journal_before
    filler.unlink()

    # the logs' disk fills up while a command writes its output
    logs = tmpfs(state / "logs", "4k")
    log_full = cli(*run, "--only", "build-deps")
    assert log_full.returncode == 1, output_of(log_full)[-3000:]
    assert_no_traceback(log_full)
    said = output_of(log_full)
    assert "No space left on device" in said and str(logs / "build-deps.log") in said, said[-3000:]
    # said honestly in the journal: the step failed (or, if that could not be saved, is still "running")
    assert Journal.load(state).steps()["build-deps"].status in ("failed", "running")
    assert processes_with(str(state / "sim" / "root")) == []  # its command was stopped

    # space again: the same command goes on from there
    subprocess.run(["umount", "-l", str(logs)], check=True)
    again = cli(*run, "--only", "build-deps")
    assert again.returncode == 0, output_of(again)[-3000:]
    assert Journal.load(state).steps()["build-deps"].status == "verified"
