"""crio-service: crio running, as a systemd service when PID 1 is systemd, else started in the background."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

from wizard.actions import Action, Owned, Run
from wizard.steps.base import Check, Context, Step
from wizard.steps.crio_config import cgroup_manager

SOCKET = "/var/run/crio/crio.sock"
SOCKET_WAIT_SECONDS = 5.0  # crio started directly is ready in about half a second
# Stops a crio started by an earlier run (a second crio refuses the socket the first one holds):
# pkill answers 0 while a crio was signalled, so the loop ends once none is left. No values go in.
STOP_UNSUPERVISED = "while pkill -x crio; do sleep 0.2; done"
# The log file arrives as $1, never pasted into the script; stdin/stdout/stderr are all redirected
# so the background crio holds none of the runner's pipes.
START_UNSUPERVISED = 'exec crio </dev/null >>"$1" 2>&1'
LOG_MESSAGE = re.compile(r'msg="((?:[^"\\]|\\.)*)"')  # the quoted message of a logrus line


def unsupervised_log(ctx: Context) -> Path:
    """Where a crio started without systemd writes its log (a real file in the state directory)."""
    return ctx.state_dir.absolute() / "crio.log"


def _last_line(text: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")


def crio_message(line: str) -> str:
    """The message of a crio log line without logrus' quoting (`"crun" not found in $PATH...`), else the line."""
    found = LOG_MESSAGE.search(line)
    if not found:
        return line.strip()
    try:
        return json.loads(f'"{found.group(1)}"')
    except json.JSONDecodeError:
        return found.group(1)


class CrioService(Step):
    id = "crio-service"
    title = "Start CRI-O"
    after = ("crio-config", "conmon")  # crio refuses to start without conmon in its PATH
    typical_seconds = 4.0

    def plan(self, ctx: Context) -> list[Action]:
        if ctx.host.facts.systemd:
            # the recipe: make install.systemd (done by the build), daemon-reload, enable, start. restart
            # rather than start, so that a re-run after a configuration change loads the new configuration
            return [
                Run(["systemctl", "daemon-reload"]),
                Run(["systemctl", "enable", "crio"]),
                # exit 1 is "the start job failed", and systemctl only says "see journalctl": let verify run
                # and report crio's own reason from the journal (other codes, e.g. 5 "unit not found", stop here)
                Run(["systemctl", "restart", "crio"], ok_codes=(0, 1)),
            ]
        # no systemd (a container, WSL, a minimal VM): crio runs in its own session, unsupervised:
        # nothing restarts it if it dies, and it does not come back after a reboot
        return [
            Run(["sh", "-c", STOP_UNSUPERVISED], timeout=30),
            Run(["setsid", "-f", "sh", "-c", START_UNSUPERVISED, "sh", str(unsupervised_log(ctx))]),
        ]

    async def verify(self, ctx: Context) -> list[Check]:
        return await self._checks(ctx, SOCKET_WAIT_SECONDS)

    async def detect(self, ctx: Context) -> bool:
        # no waiting for a socket that is not coming: before the run, crio is either up or not; and
        # without the socket the checks cannot pass, so a fresh host needs no probes to find that out
        return ctx.exists(SOCKET) and all(check.ok for check in await self._checks(ctx, 0.0))

    async def _checks(self, ctx: Context, socket_wait: float) -> list[Check]:
        socket_seen = await self._wait_for_socket(ctx, socket_wait)
        running = self._systemd_check(ctx) if ctx.host.facts.systemd else self._background_check(ctx)
        service, cgroup_driver = await asyncio.gather(running, self._cgroup_driver_check(ctx))  # side by side
        socket = Check(f"crio listens on {SOCKET}", socket_seen,
                       "socket present" if socket_seen else f"no socket after {socket_wait:g}s")
        return [service, socket, cgroup_driver]

    async def _wait_for_socket(self, ctx: Context, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not ctx.exists(SOCKET) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return ctx.exists(SOCKET)

    async def _systemd_check(self, ctx: Context) -> Check:
        result = await ctx.probe(["systemctl", "is-active", "crio"])
        state = _last_line(result.output) or f"exit code {result.exit_code}"
        detail = state
        if state != "active":
            # crio's own reason (e.g. `"crun" not found in $PATH`) is in the journal
            journal = await ctx.probe(["journalctl", "-u", "crio", "-n", "20", "--no-pager"])
            fatal = [line for line in journal.output.splitlines() if "level=fatal" in line]
            detail = f"{state}; {crio_message((fatal or [_last_line(journal.output)])[-1])}"
        return Check("systemctl is-active crio = active", state == "active", detail)

    async def _background_check(self, ctx: Context) -> Check:
        log = unsupervised_log(ctx)
        result = await ctx.probe(["ps", "-C", "crio", "-o", "pid="])
        pid = result.output.strip().split()[0] if result.exit_code == 0 and result.output.strip() else ""
        if pid:
            detail = f"pid {pid}, log {log}; no systemd here: nothing restarts crio if it stops or after a reboot"
        else:
            try:
                last = crio_message(_last_line(log.read_text(encoding="utf-8", errors="replace")))
            except OSError:
                last = "no log yet"
            detail = f"not running; last line of {log}: {last}"
        return Check("crio runs in the background (unsupervised)", bool(pid), detail)

    async def _cgroup_driver_check(self, ctx: Context) -> Check:
        # the recipe's crio-status binary is gone since CRI-O 1.29: `crio status` asks the running crio
        expected = cgroup_manager(ctx)
        result = await ctx.probe(["crio", "status", "info"])
        found = re.search(r"^cgroup driver: (\S+)", result.output, re.MULTILINE)
        if found:
            detail = f"cgroup driver {found.group(1)}"
        else:
            detail = f"exit code {result.exit_code}: {crio_message(_last_line(result.output))}"
        return Check(f"crio status info shows cgroup driver {expected}",
                     result.exit_code == 0 and found is not None and found.group(1) == expected, detail)

    def owns(self, ctx: Context) -> Owned:
        # a crio started without systemd is no unit: stopping it is `pkill -x crio`
        return Owned(units=["crio.service"] if ctx.host.facts.systemd else [])
