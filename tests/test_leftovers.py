"""The record of running commands: what a killed wizard left is stopped by the next one, and nothing else."""

from __future__ import annotations

import asyncio
import signal
import subprocess

from wizard.actions import Run
from wizard.leftovers import LeftoverRegistry, start_time
from wizard.runner import Runner


def test_only_a_group_whose_leader_started_when_recorded_is_stopped(tmp_path):
    records = tmp_path / "running"
    registry = LeftoverRegistry(records)
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        records.mkdir()
        # the same process id, but a process that started at another moment: the system's now, not ours
        (records / str(sleeper.pid)).write_text(f"{int(start_time(sleeper.pid)) - 1} sleep\n")
        assert registry.stop_all() == []
        assert sleeper.poll() is None and not list(records.iterdir())

        registry.add(sleeper.pid, "/usr/bin/sleep")
        assert registry.stop_all() == [f"sleep (process group {sleeper.pid})"]
        assert sleeper.wait(timeout=5) == -signal.SIGTERM
        assert not list(records.iterdir())
    finally:
        sleeper.kill()
        sleeper.wait()


def test_records_of_finished_commands_are_forgotten(tmp_path):
    registry = LeftoverRegistry(tmp_path / "running")
    registry.add(2**22 + 12345, "gone")  # no such process
    assert registry.stop_all() == []
    assert not list((tmp_path / "running").iterdir())
    assert LeftoverRegistry(tmp_path / "never-made").stop_all() == []


def test_the_runner_records_a_command_while_it_runs(tmp_path):
    records = tmp_path / "running"
    runner = Runner(env={"PATH": "/usr/bin:/bin"}, default_cwd=tmp_path, leftovers=LeftoverRegistry(records))

    async def while_it_runs() -> dict[str, str]:
        task = asyncio.create_task(runner.run(Run(["sleep", "0.5"]), tmp_path / "log", lambda lines: None))
        await asyncio.sleep(0.2)
        recorded = {path.name: path.read_text() for path in records.iterdir()}
        await task
        return recorded

    recorded = asyncio.run(while_it_runs())
    [(pgid, record)] = recorded.items()
    assert pgid.isdigit() and record.split()[1] == "sleep"
    assert not list(records.iterdir())
