"""Commands a killed wizard left running: each is recorded while it runs, and the next wizard stops them.

Every command runs in its own process group, so that stopping it reaches what it started; the same makes
it outlive a wizard killed with SIGKILL (or by the OOM killer) in the middle of a build. A resumed run would
then build again beside the old build, in the same directory.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from wizard.runner import KILL_GRACE, TERM_GRACE, group_alive, signal_group


def start_time(pid: int) -> str | None:
    """When process `pid` started (clock ticks after boot, from /proc), or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            stat = stat_file.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2 :].split()[19].decode()  # field 22, the 20th after "(comm)"


class LeftoverRegistry:
    """A file per running command in `directory`, named by its process group and holding the group leader's
    start time (so that a process id used again by the system is never taken for ours) and its program."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def add(self, pgid: int, program: str) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.directory / str(pgid)).write_text(f"{start_time(pgid) or '-'} {Path(program).name}\n")

    def remove(self, pgid: int) -> None:
        (self.directory / str(pgid)).unlink(missing_ok=True)

    def stop_all(self) -> list[str]:
        """Stop every recorded command that still runs (SIGTERM, then SIGKILL what is left after a grace) and
        forget all records; "PROGRAM (process group N)" of each one stopped. Call it holding the state lock:
        then no other wizard's command is recorded here."""
        try:
            records = sorted(self.directory.iterdir())
        except FileNotFoundError:
            return []
        stopping = []
        for record in records:
            try:
                pgid = int(record.name)
                started, program = record.read_text().split(maxsplit=1)
            except (OSError, ValueError):
                record.unlink(missing_ok=True)
                continue
            leader = start_time(pgid)
            # the leader gone with members left is still our group: Linux gives no new process that id then
            if (leader is None or leader == started) and group_alive(pgid):
                stopping.append((pgid, program.strip()))
                signal_group(pgid, signal.SIGTERM)
            else:
                record.unlink(missing_ok=True)
        _wait_gone([pgid for pgid, _ in stopping], TERM_GRACE)
        for pgid, _ in stopping:
            if group_alive(pgid):
                signal_group(pgid, signal.SIGKILL)
        _wait_gone([pgid for pgid, _ in stopping], KILL_GRACE)
        for pgid, _ in stopping:
            self.remove(pgid)
        return [f"{program} (process group {pgid})" for pgid, program in stopping]


def _wait_gone(groups: list[int], limit: float) -> None:
    deadline = time.monotonic() + limit
    while any(group_alive(pgid) for pgid in groups) and time.monotonic() < deadline:
        time.sleep(0.05)
