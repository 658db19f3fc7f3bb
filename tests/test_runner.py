"""The command runner against real processes: streaming, logging, masking, timeouts, cancel and probes."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from wizard import runner as runner_module
from wizard.actions import Run
from wizard.runner import MAX_LINE_BYTES, Runner

PY = sys.executable


def make_runner(tmp_path: Path, **kwargs) -> Runner:
    return Runner(dict(os.environ), tmp_path, **kwargs)


def sh(script: str, **kwargs) -> Run:
    return Run(("sh", "-c", script), **kwargs)


async def run_collecting(runner: Runner, action: Run, log: Path, **kwargs):
    lines: list[str] = []
    result = await runner.run(action, log, lines.extend, **kwargs)
    return result, lines


def is_gone(pid: int) -> bool:
    """Dead, or a zombie nobody reaps (PID 1 in a container may not reap orphans)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return status[status.rfind(")") + 2] in "ZX"


async def wait_for_line(lines: list[str], timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while not lines:
        assert time.monotonic() < deadline, "the command printed nothing"
        await asyncio.sleep(0.01)
    return lines[0]


async def test_stdout_and_stderr_both_arrive_in_order(tmp_path):
    result, lines = await run_collecting(
        make_runner(tmp_path), sh("echo out; sleep 0.05; echo err >&2"), tmp_path / "log"
    )
    assert result.exit_code == 0
    assert lines == ["out", "err"]
    assert result.tail == ["out", "err"]
    assert result.stdout is None
    assert not result.timed_out


@pytest.mark.parametrize("ok_codes", [(0,), (0, 3)])
async def test_exit_code_is_reported_as_is(tmp_path, ok_codes):
    result, _ = await run_collecting(make_runner(tmp_path), sh("exit 3", ok_codes=ok_codes), tmp_path / "log")
    assert result.exit_code == 3
    assert "[exit 3 after " in (tmp_path / "log").read_text()


async def test_death_by_signal_reads_as_128_plus_signal(tmp_path):
    result, _ = await run_collecting(make_runner(tmp_path), sh("kill -9 $$"), tmp_path / "log")
    assert result.exit_code == 137


async def test_carriage_return_progress_keeps_last_visible_segment(tmp_path):
    script = r"printf '10%%\r50%%\rdone\n'; printf 'half\r   \r\n'; printf 'a\r\n'; printf '1%%'; sleep 0.1; printf '\r2%%\rok\n'"
    result, lines = await run_collecting(make_runner(tmp_path), sh(script), tmp_path / "log")
    assert lines == ["done", "half", "a", "ok"]
    assert b"10%\r50%\rdone\n" in (tmp_path / "log").read_bytes()  # the log keeps the raw bytes


async def test_one_mebibyte_line_arrives_whole(tmp_path):
    action = Run((PY, "-c", "import sys; sys.stdout.write('x' * 1048576 + '\\nend\\n')"))
    result, lines = await run_collecting(make_runner(tmp_path), action, tmp_path / "log")
    assert result.exit_code == 0
    assert [len(line) for line in lines] == [1048576, 3]
    assert set(lines[0]) == {"x"}


async def test_endless_line_is_handed_on_in_pieces(tmp_path):
    size = MAX_LINE_BYTES + 100
    action = Run((PY, "-c", f"import sys; sys.stdout.write('y' * {size})"))
    _, lines = await run_collecting(make_runner(tmp_path), action, tmp_path / "log")
    assert [len(line) for line in lines] == [MAX_LINE_BYTES, 100]


async def test_output_arrives_in_batches(tmp_path):
    calls: list[int] = []
    result = await make_runner(tmp_path).run(
        Run(("seq", "20000")), tmp_path / "log", lambda batch: calls.append(len(batch))
    )
    assert sum(calls) == 20000
    assert len(calls) < 200
    assert result.tail == [str(n) for n in range(19801, 20001)]


async def test_invalid_utf8_is_replaced(tmp_path):
    _, lines = await run_collecting(make_runner(tmp_path), sh(r"printf 'caf\303\251 \377\n'"), tmp_path / "log")
    assert lines == ["café \ufffd"]


async def test_ansi_escapes_are_stripped_from_lines(tmp_path):
    script = r"printf '\033[1;31mred\033[0m \033]0;title\007plain\033(B\n'"
    _, lines = await run_collecting(make_runner(tmp_path), sh(script), tmp_path / "log")
    assert lines == ["red plain"]
    assert b"\x1b[1;31m" in (tmp_path / "log").read_bytes()


async def test_secrets_are_masked_in_lines_header_and_log(tmp_path):
    runner = make_runner(tmp_path, secret_values=("hunter2",))
    # "tok" + "en-42" arrive in two separate reads: the log must still never hold the secret
    action = sh("echo pw=hunter2; printf 'tok'; sleep 0.2; echo 'en-42 done'; echo hunter2 >&2", secret_values=("token-42",))
    result, lines = await run_collecting(runner, action, tmp_path / "log")
    assert lines == ["pw=***", "*** done", "***"]
    assert result.tail == lines
    log = (tmp_path / "log").read_text()
    assert "hunter2" not in log and "token-42" not in log
    assert "pw=***" in log and "*** done" in log


async def test_log_header_footer_mode_and_append(tmp_path):
    log = tmp_path / "logs" / "step" / "build.log"
    runner = make_runner(tmp_path)
    await run_collecting(runner, Run(("echo", "hello world"), cwd=str(tmp_path)), log)
    await run_collecting(runner, sh("printf 'no newline'; exit 2"), log)
    text = log.read_text().splitlines()
    assert text[0] == f"$ echo 'hello world' (cwd {tmp_path})"
    assert text[1] == "hello world"
    assert text[2].startswith("[exit 0 after ") and text[2].endswith("s]")
    assert text[3] == "$ sh -c 'printf '\"'\"'no newline'\"'\"'; exit 2'"
    assert text[4] == "no newline"
    assert text[5].startswith("[exit 2 after ")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(log.parent.parent.stat().st_mode) == 0o700


async def test_environment_and_working_directories(tmp_path):
    runner = Runner({"PATH": os.environ["PATH"], "BASE": "base"}, tmp_path)
    action = sh('echo "$BASE $EXTRA"; pwd', env={"EXTRA": "extra"})
    _, lines = await run_collecting(runner, action, tmp_path / "log")
    assert lines == ["base extra", str(tmp_path)]
    (tmp_path / "sub").mkdir()
    _, lines = await run_collecting(runner, Run(("pwd",), cwd=str(tmp_path / "sub")), tmp_path / "log")
    assert lines == [str(tmp_path / "sub")]


async def test_stdout_to_captures_stdout_separately(tmp_path):
    action = sh("printf 'key = 1\\n\\000raw'; echo warning >&2", stdout_to="/etc/crio/crio.conf")
    result, lines = await run_collecting(make_runner(tmp_path), action, tmp_path / "log")
    assert result.stdout == b"key = 1\n\x00raw"
    assert lines == ["warning"]
    assert (tmp_path / "log").read_text().splitlines()[1:-1] == ["warning"]


async def test_timeout_kills_and_reports(tmp_path):
    started = time.monotonic()
    result, _ = await run_collecting(make_runner(tmp_path), Run(("sleep", "30"), timeout=0.5), tmp_path / "log")
    assert result.timed_out and result.exit_code is None
    assert 0.5 <= result.duration < 3 and time.monotonic() - started < 3
    assert (tmp_path / "log").read_text().splitlines()[-1] == "[timed out after 0.5s: killed]"


async def test_timeout_escalates_to_sigkill(tmp_path, monkeypatch):
    monkeypatch.setattr(runner_module, "TERM_GRACE", 0.3)  # the real 2 s grace would only slow the suite
    script = "trap '' TERM; echo ready; while :; do sleep 0.05; done"
    lines: list[str] = []
    result = await make_runner(tmp_path).run(sh(script, timeout=0.3), tmp_path / "log", lines.extend)
    assert lines == ["ready"]
    assert result.timed_out and result.duration < 2


GRANDCHILD = "sleep 300 & echo $!; wait"


async def test_task_cancel_kills_grandchild_and_reraises(tmp_path):
    lines: list[str] = []
    task = asyncio.ensure_future(make_runner(tmp_path).run(sh(GRANDCHILD), tmp_path / "log", lines.extend))
    grandchild = int(await wait_for_line(lines))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert is_gone(grandchild)
    assert (tmp_path / "log").read_text().splitlines()[-1] == "[cancelled: killed]"


async def test_runner_cancel_kills_grandchild(tmp_path):
    runner = make_runner(tmp_path)
    lines: list[str] = []
    task = asyncio.ensure_future(runner.run(sh(GRANDCHILD), tmp_path / "log", lines.extend))
    grandchild = int(await wait_for_line(lines))
    await runner.cancel()
    assert is_gone(grandchild)
    result = await task
    assert result.exit_code is None and not result.timed_out
    assert (tmp_path / "log").read_text().splitlines()[-1] == "[cancelled: killed]"


async def test_error_in_line_handler_kills_the_command_and_propagates(tmp_path):
    def explode(batch: list[str]) -> None:
        raise RuntimeError(f"handler failed on {batch[0]}")

    with pytest.raises(RuntimeError, match="handler failed on [0-9]+"):
        await make_runner(tmp_path).run(sh(GRANDCHILD), tmp_path / "log", explode)
    grandchild = int((tmp_path / "log").read_text().splitlines()[1])
    assert is_gone(grandchild)


async def test_background_process_holding_output_does_not_block(tmp_path):
    result, lines = await run_collecting(make_runner(tmp_path), sh("sleep 30 & echo $!"), tmp_path / "log")
    os.kill(int(lines[0]), 9)
    assert result.exit_code == 0 and result.duration < 5
    assert "stopped reading" in (tmp_path / "log").read_text()


async def test_heartbeat_fires_while_silent(tmp_path):
    beats: list[float] = []
    result, _ = await run_collecting(
        make_runner(tmp_path, heartbeat_after=0.2), Run(("sleep", "0.7")), tmp_path / "log", on_heartbeat=beats.append
    )
    assert result.exit_code == 0
    assert len(beats) >= 2
    assert beats == sorted(beats)
    assert 0.2 <= beats[0] < 0.4 and beats[1] >= 0.4


async def test_no_heartbeat_while_output_keeps_coming(tmp_path):
    beats: list[float] = []
    script = "for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.08; done"
    await run_collecting(
        make_runner(tmp_path, heartbeat_after=0.3), sh(script), tmp_path / "log", on_heartbeat=beats.append
    )
    assert beats == []


async def test_missing_program_is_exit_127(tmp_path):
    result, lines = await run_collecting(make_runner(tmp_path), Run(("no-such-program-x", "--v")), tmp_path / "log")
    assert result.exit_code == 127
    assert lines == ["no-such-program-x: command not found"]
    assert result.tail == lines
    log = (tmp_path / "log").read_text().splitlines()
    assert log == ["$ no-such-program-x --v", "no-such-program-x: command not found", log[2]]
    assert log[2].startswith("[exit 127 after ")


async def test_missing_working_directory_fails_cleanly(tmp_path):
    result, lines = await run_collecting(
        make_runner(tmp_path), Run(("true",), cwd=str(tmp_path / "absent")), tmp_path / "log"
    )
    assert result.exit_code == 126
    assert lines == [f"true: cannot run in {tmp_path / 'absent'}: No such file or directory"]


async def test_probe_combines_output_and_logs(tmp_path):
    runner = make_runner(tmp_path, secret_values=("s3cret",))
    result = await runner.probe(["sh", "-c", "echo crio version 1.31.0; echo s3cret >&2; exit 4"], log_path=tmp_path / "p")
    assert result.exit_code == 4
    assert result.output == "crio version 1.31.0\n***\n"
    log = (tmp_path / "p").read_text().splitlines()
    assert log[0].startswith("$ sh -c ") and log[1:3] == ["crio version 1.31.0", "***"]
    assert log[3].startswith("[exit 4 after ")


async def test_probe_times_out_with_124(tmp_path):
    started = time.monotonic()
    result = await make_runner(tmp_path).probe(("sh", "-c", "echo partial; sleep 30"), timeout=0.3)
    assert result.exit_code == 124
    assert result.output == "partial\n"
    assert time.monotonic() - started < 3


async def test_probe_of_missing_program_is_127(tmp_path):
    result = await make_runner(tmp_path).probe(["no-such-program-x", "--version"])
    assert result.exit_code == 127
    assert "command not found" in result.output
