"""One wizard per state directory: an flock on STATE_DIR/lock that also says who holds it."""

from __future__ import annotations

import fcntl
import os
from datetime import datetime, timezone
from pathlib import Path

LOCK_NAME = "lock"


class LockHeld(Exception):
    """Another process holds the state directory; `holder_pid` is None if it had not written its pid yet."""

    def __init__(self, state_dir: Path, holder_pid: int | None, since: str):
        self.state_dir = state_dir
        self.holder_pid = holder_pid
        self.since = since
        holder = f"pid {holder_pid}" if holder_pid is not None else "pid unknown"
        super().__init__(f"another crio-wizard ({holder}, since {since}) is using {state_dir}")


class StateLock:
    """Exclusive lock on a state directory, released by the kernel if the holder dies (even by kill -9)."""

    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # os.open makes a non-inheritable fd, so commands the wizard starts do not keep the lock alive
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder_pid, since = _read_holder(fd)
            os.close(fd)
            raise LockHeld(self.state_dir, holder_pid, since) from None
        except BaseException:
            os.close(fd)
            raise
        # whatever a dead holder left in the file is stale once flock succeeds
        since = datetime.now(timezone.utc).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid: {os.getpid()}\nsince: {since}\n".encode(), 0)
        os.fsync(fd)
        self._fd = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        # emptied before unlocking, so nobody reads our pid after we let go; the file stays (unlinking
        # a flock file lets two processes lock two different inodes)
        os.ftruncate(self._fd, 0)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _read_holder(fd: int) -> tuple[int | None, str]:
    """The pid and start time the holder wrote; it may not have written them yet."""
    fields: dict[str, str] = {}
    for line in os.pread(fd, 4096, 0).decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    pid_text = fields.get("pid", "")
    return (int(pid_text) if pid_text.isdigit() else None), fields.get("since") or "unknown"
