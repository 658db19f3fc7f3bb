"""What the reliability tests share: the CLI in a subprocess, simulated hosts, the process table and file trees."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from wizard.journal import Journal
from wizard.simulate.sandbox import prepare

WIZARD = [sys.executable, "-m", "wizard.cli"]
PROFILE = "rocky9"
REPO = Path(__file__).resolve().parents[2]

# The figures the suite proves, filled in by the tests and printed at the end of the run (see conftest.py).
FIGURES: dict[str, int] = {}

# The temp files the wizard's atomic writes use next to their target: mkstemp's ".NAME.XXXXXXXX.tmp"
# (wizard.files.atomic_write) and ".NAME.<12 hex>.tmp" (symlinks). The stand-ins' own ".NAME.tmp" differ.
WIZARD_TEMP = re.compile(r"^\..+\.(?:[a-z0-9_]{8}|[0-9a-f]{12})\.tmp$")

# Pre-existing files of the simulated host: (content, mode, uid, gid). The replaced ones are rewritten by the
# wizard (so they must be backed up and restored byte for byte); the unrelated ones must never change. A
# site's policy.json is among the latter: the wizard writes one only where there is none.
REPLACED_FILES = {
    "/etc/crio/crio.conf.d/02-crio.conf": (b'# an older drop-in\n[crio.runtime]\ncgroup_manager = "cgroupfs"\n',
                                           0o640, 0, 10),
    "/etc/crictl.yaml": (b"runtime-endpoint: unix:///run/containerd/containerd.sock\ntimeout: 2\n", 0o600, 0, 0),
}
UNRELATED_FILES = {
    "/etc/cni/net.d/site-notes.txt": (b"the admin's notes about this node's network\n", 0o640, 1000, 1000),
    "/etc/crio/site-notes.txt": (b"do not touch\n\x00\xff binary tail", 0o600, 4321, 4321),
    "/etc/containers/policy.json": (b'{"default": [{"type": "insecureAcceptAnything"}], "transports": {}}\n',
                                    0o644, 0, 0),
    "/etc/containers/registries.conf": (b'unqualified-search-registries = ["registry.example.org"]\n',
                                        0o644, 0, 0),
    "/etc/containers/storage.conf": (b'[storage]\ndriver = "overlay"\n', 0o644, 0, 0),
}


def cli(*args: str, timeout: float = 240, env: dict[str, str] | None = None,
        cwd: Path | str = REPO) -> subprocess.CompletedProcess:
    """`crio-wizard ARGS` in a subprocess, stdin closed (so nothing waits for a person)."""
    return subprocess.run([*WIZARD, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=env, cwd=cwd)


def sim_args(state_dir: Path, speed: float = 0) -> list[str]:
    return ["--simulate", PROFILE, "--sim-speed", str(speed), "--state-dir", str(state_dir)]


def output_of(result: subprocess.CompletedProcess) -> str:
    return (result.stdout or "") + (result.stderr or "")


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in output_of(result), output_of(result)[-4000:]


def make_sandbox(state_dir: Path) -> Path:
    """Create the simulated host's root (as the first run would) and return it."""
    return prepare(PROFILE, state_dir, speed=0).root


def host_file(root: Path, host_path: str) -> Path:
    return root / host_path.lstrip("/")


def plant(root: Path, files: dict[str, tuple[bytes, int, int, int]]) -> None:
    for host_path, (content, mode, uid, gid) in files.items():
        target = host_file(root, host_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        os.chown(target, uid, gid)
        os.chmod(target, mode)


@dataclass(frozen=True)
class FileState:
    """What `reset` must put back: the bytes, permission bits and owner (or a symlink's target)."""

    content: bytes | None
    mode: int
    uid: int
    gid: int
    link: str | None = None


def file_state(path: Path) -> FileState | None:
    try:
        status = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(status.st_mode):
        return FileState(None, 0, status.st_uid, status.st_gid, os.readlink(path))
    content = path.read_bytes() if stat.S_ISREG(status.st_mode) else None
    return FileState(content, stat.S_IMODE(status.st_mode), status.st_uid, status.st_gid)


def wizard_temp_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob(".*.tmp") if WIZARD_TEMP.match(path.name))


def journal_steps(state_dir: Path) -> dict:
    return Journal.load(state_dir).steps()


def journal_statuses(state_dir: Path) -> dict[str, str]:
    return {step_id: record.status for step_id, record in journal_steps(state_dir).items()}


def manifest_entries(state_dir: Path) -> list[dict]:
    path = state_dir / "backups" / "manifest.yaml"
    return yaml.safe_load(path.read_text())["entries"] if path.exists() else []


# -- the process table -------------------------------------------------------------------------

def _process_state(pid: str) -> bytes:
    with open(f"/proc/{pid}/stat", "rb") as stat_file:
        text = stat_file.read()
    return text[text.rfind(b")") + 2:].split()[0]


def processes_with(marker: str) -> list[tuple[int, str]]:
    """Live processes (not zombies) whose command line or environment mentions `marker` (e.g. a sandbox path)."""
    needle = marker.encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if _process_state(entry) in (b"Z", b"X"):
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline_file:
                cmdline = cmdline_file.read()
            with open(f"/proc/{entry}/environ", "rb") as environ_file:
                environ = environ_file.read()
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if needle in cmdline or needle in environ:
            found.append((int(entry), cmdline.replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


def kill_processes_with(marker: str, limit: float = 5.0) -> int:
    """SIGKILL every process that mentions `marker` until none is left; return how many there were."""
    seen: set[int] = set()
    deadline = time.monotonic() + limit
    while True:
        alive = processes_with(marker)
        if not alive:
            return len(seen)
        if time.monotonic() > deadline:
            raise AssertionError(f"processes survive SIGKILL: {alive}")
        for pid, _ in alive:
            seen.add(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


def wait_for_no_processes_with(marker: str, limit: float = 5.0) -> list[tuple[int, str]]:
    """Wait up to `limit` seconds for processes mentioning `marker` to end; return those still alive."""
    deadline = time.monotonic() + limit
    while True:
        alive = processes_with(marker)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def count(name: str, amount: int) -> None:
    """Add to one of the suite's figures."""
    FIGURES[name] = FIGURES.get(name, 0) + amount
