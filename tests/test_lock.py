"""The state-directory lock against real second processes, including one killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from wizard.lock import LockHeld, StateLock

# `python -c` puts its working directory on sys.path, so the children import this checkout's wizard
PROJECT_DIR = Path(__file__).resolve().parents[1]

HOLD_LOCK = """
import sys, time
from wizard.lock import StateLock
lock = StateLock(sys.argv[1])
lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""

TRY_LOCK = """
import sys
from wizard.lock import LockHeld, StateLock
try:
    with StateLock(sys.argv[1]):
        print("acquired")
except LockHeld as held:
    print("held by", held.holder_pid)
"""


@pytest.fixture
def holder(tmp_path: Path):
    """A second real process holding the lock on tmp_path/state until killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path / "state")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_DIR,
    )
    assert process.stdout.readline() == "locked\n"
    yield process
    process.kill()
    process.wait()


def test_second_process_gets_lock_held_with_the_holder_pid(tmp_path: Path, holder: subprocess.Popen) -> None:
    with pytest.raises(LockHeld) as held:
        StateLock(tmp_path / "state").acquire()
    assert held.value.holder_pid == holder.pid
    assert held.value.since.startswith("20") and held.value.since.endswith("+00:00")
    assert str(held.value) == (
        f"another crio-wizard (pid {holder.pid}, since {held.value.since}) is using {tmp_path / 'state'}"
    )


def test_lock_is_freed_when_the_holder_is_killed(tmp_path: Path, holder: subprocess.Popen) -> None:
    lock = StateLock(tmp_path / "state")
    with pytest.raises(LockHeld):
        lock.acquire()
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()

    lock.acquire()  # the dead holder's pid is still in the file; flock is what counts
    try:
        assert (tmp_path / "state" / "lock").read_text().startswith(f"pid: {os.getpid()}\n")
    finally:
        lock.release()


def test_release_lets_another_process_in(tmp_path: Path) -> None:
    def other_process_says() -> str:
        result = subprocess.run(
            [sys.executable, "-c", TRY_LOCK, str(tmp_path / "state")],
            capture_output=True,
            text=True,
            check=True,
            cwd=PROJECT_DIR,
        )
        return result.stdout.strip()

    with StateLock(tmp_path / "state"):
        assert other_process_says() == f"held by {os.getpid()}"
    assert other_process_says() == "acquired"


def test_stale_holder_info_is_overwritten(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o700)
    (state_dir / "lock").write_text("pid: 999999\nsince: 2020-01-01T00:00:00+00:00\nleftover line\n")
    with StateLock(state_dir):
        assert (state_dir / "lock").read_text().splitlines()[0] == f"pid: {os.getpid()}"
        assert "999999" not in (state_dir / "lock").read_text()


def test_lock_creates_a_private_state_dir(tmp_path: Path) -> None:
    with StateLock(tmp_path / "new-state"):
        assert (tmp_path / "new-state").stat().st_mode & 0o777 == 0o700
