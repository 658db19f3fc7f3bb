"""One at a time: a second wizard on the same state directory is refused and told who holds it; a lock left by a
wizard killed with -9 (or a lock file with anything in it) is taken over, through the real CLI."""

from __future__ import annotations

import os
import re
import signal
import subprocess

from tests.reliability.harness import (
    WIZARD, assert_no_traceback, cli, journal_statuses, kill_processes_with, output_of, sim_args,
)


def test_a_second_wizard_is_refused_and_a_killed_holders_lock_is_taken_over(tmp_path):
    state = tmp_path / "state"
    holder = subprocess.Popen([*WIZARD, "run", *sim_args(state, speed=1), "--yes"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert holder.stdout is not None
        for line in holder.stdout:
            if line.startswith("==> [1/"):
                break
        second = cli("run", *sim_args(state), "--yes")
        assert second.returncode == 3, output_of(second)
        assert re.search(rf"another crio-wizard \(pid {holder.pid}, since \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d", second.stderr)
        assert_no_traceback(second)
        # reset would change the host under the running wizard: refused the same way
        reset = cli("reset", *sim_args(state), "--yes")
        assert reset.returncode == 3 and f"pid {holder.pid}" in reset.stderr, output_of(reset)
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    kill_processes_with(str(state / "sim" / "root"))
    lock_text = (state / "lock").read_text()
    assert f"pid: {holder.pid}" in lock_text  # what the dead holder wrote is still there: a stale lock
    left_running = [step for step, status in journal_statuses(state).items() if status == "running"]
    assert left_running, journal_statuses(state)

    taken_over = cli("run", *sim_args(state), "--yes", "--only", "host-prep")
    assert taken_over.returncode == 0, output_of(taken_over)[-3000:]
    assert "another crio-wizard" not in output_of(taken_over)
    statuses = journal_statuses(state)
    assert statuses["host-prep"] == "verified"
    # what the killed wizard was doing is known to have been cut short
    assert all(statuses[step] == "interrupted" for step in left_running if step != "host-prep"), statuses
    assert (state / "lock").read_text() == ""  # released: nobody's pid is left in it

    # whatever is in the file, only the kernel's lock counts
    (state / "lock").write_text(f"pid: {os.getpid()}\nsince: yesterday\n\x00garbage")
    again = cli("run", *sim_args(state), "--yes", "--only", "host-prep")
    assert again.returncode == 0, output_of(again)[-3000:]
