"""The one command runner: streams output as lines, tees it to a log, times out, heartbeats and kills whole groups."""

from __future__ import annotations

import asyncio
import fcntl
import math
import os
import re
import shlex
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from wizard.actions import Run

if TYPE_CHECKING:
    from wizard.leftovers import LeftoverRegistry

TAIL_LINES = 200
# A line longer than this is handed on in pieces of this size, so output without newlines cannot exhaust memory.
MAX_LINE_BYTES = 4 * 1024 * 1024
TERM_GRACE = 2.0  # seconds between SIGTERM and SIGKILL
KILL_GRACE = 1.0  # seconds to wait for a SIGKILLed group to vanish
# After the command itself exits, how long a background process it left may keep our pipe open before we stop reading.
PIPE_GRACE = 1.0
DRAIN_LIMIT = 2.0  # seconds to wait for the leader to be reaped and the pipes to close after a kill
# A command's output pipes hold this much, and each turn of the event loop reads that much (asyncio reads
# 256 KiB, the pipe holds 64 KiB): a busy loop (the TUI drawing a frame) then still drains a flood of output.
PIPE_BYTES = 1024 * 1024
PROBE_TIMEOUT_CODE = 124
NOT_FOUND_CODE = 127
CANNOT_RUN_CODE = 126

# CSI, OSC (ended by BEL or ST), DCS/SOS/PM/APC strings, and two-byte escapes such as ESC ( B or ESC 7.
_ANSI_PATTERN = r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[ -/]*[0-~])"
_ANSI_TEXT = re.compile(_ANSI_PATTERN)
_ANSI_BYTES = re.compile(_ANSI_PATTERN.encode())


@dataclass
class RunResult:
    exit_code: int | None  # None when killed by timeout/cancel; 128+N when the command died of signal N
    duration: float  # seconds
    timed_out: bool
    tail: list[str]  # the last 200 output lines (for known-error matching)
    stdout: bytes | None  # only when action.stdout_to was set: the raw stdout (stderr then goes to the log/lines only)


@dataclass
class ProbeResult:
    exit_code: int  # 127 when the program is not found, 124 on timeout
    output: str  # stdout+stderr combined, decoded (errors="replace")


class _Masker:
    """Replaces secret values with *** in text and in raw bytes."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        # longest first, so a secret containing another is masked whole
        words = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
        self._words = words
        self._encoded = [word.encode() for word in words]
        self.longest_bytes = max((len(word) for word in self._encoded), default=0)

    def text(self, text: str) -> str:
        for word in self._words:
            if word in text:
                text = text.replace(word, "***")
        return text

    def raw(self, data: bytes) -> bytes:
        for word in self._encoded:
            if word in data:
                data = data.replace(word, b"***")
        return data


def _make_private_dirs(directory: Path) -> None:
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


class _Log:
    """The per-step log file: raw output as it arrives (masked), with header and footer lines."""

    def __init__(self, path: Path, masker: _Masker) -> None:
        _make_private_dirs(path.parent)
        self._path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._masker = masker
        # A secret may be split across two chunks: hold back enough bytes to see it whole next time.
        self._hold = max(0, masker.longest_bytes - 1)
        self._held = b""
        self._at_line_start = True

    def output(self, data: bytes) -> None:
        if not self._hold:
            self._write(self._masker.raw(data))
            return
        masked = self._masker.raw(self._held + data)
        cut = max(0, len(masked) - self._hold)
        self._held = masked[cut:]
        self._write(masked[:cut])

    def line(self, text: str) -> None:
        """Write one line of the runner's own (header, footer, message), starting on a fresh line."""
        self.flush()
        prefix = b"" if self._at_line_start else b"\n"
        self._write(prefix + self._masker.text(text).encode() + b"\n")

    def flush(self) -> None:
        held, self._held = self._held, b""
        self._write(held)

    def close(self) -> None:
        self.flush()
        os.close(self._fd)

    def _write(self, data: bytes) -> None:
        if not data:
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as error:  # a full disk: say which file (os.write names none)
            raise OSError(error.errno, error.strerror, str(self._path)) from error
        self._at_line_start = data.endswith(b"\n")


def _visible(segment: bytes) -> bool:
    if b"\x1b" in segment:
        segment = _ANSI_BYTES.sub(b"", segment)
    return bool(segment.strip())


def _last_visible_segment(line: str) -> str:
    """A progress bar redraws with \\r: what the terminal would finally show is the last non-blank segment."""
    for segment in reversed(line.split("\r")):
        if segment.strip():
            return segment
    return ""


def _collapse_progress(partial: bytearray) -> bytearray:
    """Drop redrawn progress segments of an unfinished line, keeping what _last_visible_segment would pick."""
    cut = partial.rfind(b"\r")
    shown = next((segment for segment in reversed(bytes(partial[:cut]).split(b"\r")) if _visible(segment)), b"")
    return bytearray(shown + b"\r") + partial[cut + 1 :]


class _LineSplitter:
    """Turns raw chunks into display lines: whole lines, decoded, ANSI stripped, progress collapsed, masked."""

    def __init__(self, masker: _Masker) -> None:
        self._masker = masker
        self._partial = bytearray()  # the current line, not yet ended by a newline

    def feed(self, data: bytes) -> list[str]:
        end = data.rfind(b"\n")
        if end < 0:
            self._partial += data
            if b"\r" in data:
                self._partial = _collapse_progress(self._partial)
            lines: list[str] = []
            while len(self._partial) > MAX_LINE_BYTES:
                lines += self._display(bytes(self._partial[:MAX_LINE_BYTES]))
                del self._partial[:MAX_LINE_BYTES]
            return lines
        if self._partial:
            self._partial += memoryview(data)[:end]
            block = bytes(self._partial)
        else:
            block = data[:end]
        self._partial = bytearray(memoryview(data)[end + 1 :])
        return self._display(block)

    def finish(self) -> list[str]:
        """The unfinished last line, if any (output that does not end with a newline)."""
        if not self._partial:
            return []
        block, self._partial = bytes(self._partial), bytearray()
        return self._display(block)

    def _display(self, block: bytes) -> list[str]:
        text = block.decode("utf-8", "replace")
        if "\x1b" in text:
            text = _ANSI_TEXT.sub("", text)
        text = self._masker.text(text)
        lines = text.split("\n")
        if "\r" in text:
            lines = [_last_visible_segment(line) if "\r" in line else line for line in lines]
        return lines


class _Child(asyncio.SubprocessProtocol):
    """One child process: hands each chunk of a pipe to its handler and records exit, end of output and errors."""

    def __init__(self, handlers: dict[int, Callable[[bytes], None]]) -> None:
        self._handlers = handlers
        self._open_pipes = set(handlers)
        self.transport: asyncio.SubprocessTransport | None = None
        self.last_output = time.monotonic()
        self.exited_at: float | None = None
        self.error: Exception | None = None  # raised by a handler; run() re-raises it
        self.stop_requested = False  # set by Runner.cancel()
        self.changed = asyncio.Event()  # set whenever one of the above changes
        self.ended = asyncio.Event()  # set when run() is completely done with this child

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.last_output = time.monotonic()
        if self.error is not None:
            return
        try:
            self._handlers[fd](data)
        except Exception as error:  # raised from here it would only reach the event loop's log, not run()
            self.error = error
            self.changed.set()

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self._open_pipes.discard(fd)
        if not self._open_pipes:
            self.changed.set()

    def process_exited(self) -> None:
        self.exited_at = time.monotonic()
        self.changed.set()

    @property
    def finished(self) -> bool:
        """The command exited (and was reaped) and everything it printed has been read."""
        return self.exited_at is not None and not self._open_pipes

    @property
    def exit_code(self) -> int | None:
        code = self.transport.get_returncode() if self.transport else None
        # asyncio reports death by signal N as -N; shells (and users) know it as 128+N
        return 128 - code if code is not None and code < 0 else code

    async def wait_changed(self, limit: float) -> None:
        self.changed.clear()
        try:
            await asyncio.wait_for(self.changed.wait(), None if math.isinf(limit) else limit)
        except asyncio.TimeoutError:
            pass

    async def wait_until_finished(self, limit: float) -> None:
        deadline = time.monotonic() + limit
        while not self.finished and time.monotonic() < deadline:
            await self.wait_changed(deadline - time.monotonic())


def group_alive(pgid: int) -> bool:
    """Whether the process group still has a member that is not a zombie (orphaned zombies may never be reaped)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat_file:
                stat = stat_file.read()
        except OSError:
            continue
        # fields after "(comm)": state ppid pgrp ...
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


async def _wait_group_gone(pgid: int, limit: float) -> bool:
    deadline = time.monotonic() + limit
    pause = 0.005
    while group_alive(pgid):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)
    return True


async def _kill_group(pgid: int) -> None:
    """SIGTERM the whole group, SIGKILL what is left after TERM_GRACE seconds."""
    signal_group(pgid, signal.SIGTERM)
    if not await _wait_group_gone(pgid, TERM_GRACE):
        signal_group(pgid, signal.SIGKILL)
        await _wait_group_gone(pgid, KILL_GRACE)


def _widen(pipe: asyncio.ReadTransport | None) -> None:
    """Let the pipe hold PIPE_BYTES and read it whole in one turn (both best effort: the kernel may cap the size)."""
    if pipe is None or pipe.is_closing():  # a quick command may be done and read already
        return
    try:
        fcntl.fcntl(pipe.get_extra_info("pipe").fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (AttributeError, OSError, ValueError):  # not Linux, above /proc/sys/fs/pipe-max-size, or just closed
        return
    pipe.max_size = PIPE_BYTES  # asyncio's read size for this pipe (a class attribute of its transport)


def _spawn_failure(error: OSError, argv0: str, cwd: str) -> tuple[int, str]:
    """The exit code and message a shell would give for a command that could not be started."""
    if error.filename == cwd and error.filename != argv0:
        return CANNOT_RUN_CODE, f"{argv0}: cannot run in {cwd}: {error.strerror}"
    if isinstance(error, FileNotFoundError):
        return NOT_FOUND_CODE, f"{argv0}: command not found"
    return CANNOT_RUN_CODE, f"{argv0}: {error.strerror or error}"


# How supervision of a running child ended.
_DONE = "done"
_PIPE_HELD = "pipe held"
_TIMED_OUT = "timed out"
_STOPPED = "stopped"


class Runner:
    """Runs commands for real: one at a time or several, each in its own process group."""

    def __init__(
        self,
        env: dict[str, str],
        default_cwd: Path,
        heartbeat_after: float = 10.0,
        secret_values: tuple[str, ...] = (),
        leftovers: LeftoverRegistry | None = None,
    ) -> None:
        self._env = dict(env)
        self._default_cwd = Path(default_cwd)
        self._heartbeat_after = heartbeat_after
        self._secret_values = tuple(secret_values)
        self._running: set[_Child] = set()
        # each command is recorded there while it runs, so a wizard killed meanwhile can be cleaned up after
        self._leftovers = leftovers

    async def run(
        self,
        action: Run,
        log_path: Path,
        on_lines: Callable[[list[str]], None],
        on_heartbeat: Callable[[float], None] | None = None,
    ) -> RunResult:
        argv = list(action.argv)
        cwd = action.cwd or str(self._default_cwd)
        masker = _Masker(self._secret_values + action.secret_values)
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        splitter = _LineSplitter(masker)
        log = _Log(Path(log_path), masker)

        def deliver(lines: list[str]) -> None:
            if lines:
                tail.extend(lines[-TAIL_LINES:])
                on_lines(lines)

        def stream(data: bytes) -> None:
            log.output(data)
            deliver(splitter.feed(data))

        captured = bytearray() if action.stdout_to is not None else None
        handlers = {1: captured.extend, 2: stream} if captured is not None else {1: stream}

        def result(exit_code: int | None, timed_out: bool = False) -> RunResult:
            stdout = bytes(captured) if captured is not None else None
            return RunResult(exit_code, time.monotonic() - started, timed_out, list(tail), stdout)

        try:
            log.line(f"$ {shlex.join(argv)}" + (f" (cwd {action.cwd})" if action.cwd else ""))
            started = time.monotonic()
            try:
                child = await self._spawn(argv, cwd, {**self._env, **dict(action.env)}, handlers)
            except OSError as error:
                exit_code, message = _spawn_failure(error, argv[0], cwd)
                log.line(message)
                log.line(f"[exit {exit_code} after {time.monotonic() - started:.1f}s]")
                deliver([masker.text(message)])
                return result(exit_code)

            self._running.add(child)
            try:
                try:
                    ending = await self._supervise(child, started + action.timeout, on_heartbeat)
                except asyncio.CancelledError:
                    await asyncio.shield(self._wind_down(child, kill=True))
                    log.line("[cancelled: killed]")
                    raise
                except BaseException:
                    await asyncio.shield(self._wind_down(child, kill=True))
                    log.line("[stopped by an error in the runner: killed]")
                    raise
                await asyncio.shield(self._wind_down(child, kill=ending in (_TIMED_OUT, _STOPPED)))
            finally:
                self._running.discard(child)
                child.ended.set()

            if ending == _PIPE_HELD:
                log.line("[a background process still holds the output open: stopped reading]")
            remaining = splitter.finish()
            if ending == _TIMED_OUT:
                log.line(f"[timed out after {action.timeout:g}s: killed]")
            elif ending == _STOPPED:
                log.line("[cancelled: killed]")
            else:
                log.line(f"[exit {child.exit_code} after {time.monotonic() - started:.1f}s]")
        finally:
            log.close()
        deliver(remaining)
        if ending in (_TIMED_OUT, _STOPPED):
            return result(None, timed_out=ending == _TIMED_OUT)
        return result(child.exit_code)

    async def probe(
        self, argv: list[str] | tuple[str, ...], timeout: float = 30.0, log_path: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> ProbeResult:
        """A short check (e.g. `crio --version`): output captured whole; not affected by cancel().
        `env` is added to the runner's environment."""
        argv = list(argv)
        cwd = str(self._default_cwd)
        masker = _Masker(self._secret_values)
        captured = bytearray()
        timed_out = False
        started = time.monotonic()
        try:
            child = await self._spawn(argv, cwd, {**self._env, **(env or {})}, {1: captured.extend})
        except OSError as error:
            exit_code, message = _spawn_failure(error, argv[0], cwd)
            captured += message.encode() + b"\n"
        else:
            try:
                ending = await self._supervise(child, started + timeout, None)
            except BaseException:
                await asyncio.shield(self._wind_down(child, kill=True))
                raise
            timed_out = ending == _TIMED_OUT
            await asyncio.shield(self._wind_down(child, kill=timed_out))
            exit_code = PROBE_TIMEOUT_CODE if timed_out else child.exit_code
        output = masker.text(captured.decode("utf-8", "replace"))
        if log_path is not None:
            log = _Log(Path(log_path), masker)
            try:
                log.line(f"$ {shlex.join(argv)}")
                log.output(output.encode())
                if timed_out:
                    log.line(f"[timed out after {timeout:g}s: killed]")
                else:
                    log.line(f"[exit {exit_code} after {time.monotonic() - started:.1f}s]")
            finally:
                log.close()
        return ProbeResult(exit_code, output)

    async def cancel(self) -> None:
        """Stop every run() in progress (killing each whole process group) and wait until they have."""
        children = list(self._running)
        for child in children:
            child.stop_requested = True
            child.changed.set()
        for child in children:
            await child.ended.wait()

    async def _spawn(
        self, argv: list[str], cwd: str, env: dict[str, str], handlers: dict[int, Callable[[bytes], None]]
    ) -> _Child:
        loop = asyncio.get_running_loop()
        _, child = await loop.subprocess_exec(
            lambda: _Child(handlers),
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if 2 in handlers else subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,  # its own process group, so a kill reaches grandchildren too
        )
        if self._leftovers is not None:
            self._leftovers.add(child.transport.get_pid(), argv[0])
        for fd in handlers:
            _widen(child.transport.get_pipe_transport(fd))
        return child

    async def _supervise(
        self, child: _Child, deadline: float, on_heartbeat: Callable[[float], None] | None
    ) -> str:
        """Wait until the child is done, times out or is stopped; heartbeat while it is silent."""
        silent_since = child.last_output
        beats = 0
        while True:
            if child.error is not None:
                raise child.error
            if child.finished:
                return _DONE
            if child.stop_requested:
                return _STOPPED
            now = time.monotonic()
            if now >= deadline:
                return _TIMED_OUT
            wake = deadline
            if child.exited_at is not None:
                if now >= child.exited_at + PIPE_GRACE:
                    return _PIPE_HELD
                wake = min(wake, child.exited_at + PIPE_GRACE)
            if on_heartbeat is not None:
                if child.last_output != silent_since:
                    silent_since, beats = child.last_output, 0
                due = silent_since + self._heartbeat_after * (beats + 1)
                if now >= due:
                    beats += 1
                    on_heartbeat(now - silent_since)
                    continue
                wake = min(wake, due)
            await child.wait_changed(wake - now)

    async def _wind_down(self, child: _Child, kill: bool) -> None:
        """Kill the group if asked, let the leader be reaped and the pipes drain (bounded), then close."""
        assert child.transport is not None
        pgid = child.transport.get_pid()
        if kill and not child.finished:
            await _kill_group(pgid)
            await child.wait_until_finished(DRAIN_LIMIT)
        child.transport.close()
        if self._leftovers is not None:
            self._leftovers.remove(pgid)
