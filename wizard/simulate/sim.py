"""What every stand-in shares: the sandbox root, pacing, injected faults and the shared state file."""

from __future__ import annotations

# Every stand-in call is a new interpreter that imports this module: only cheap imports here (dataclasses and
# typing alone would double a stand-in's start-up; `python -X importtime` shows what a change costs).
import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT_ENV = "CRIO_WIZARD_SIM_ROOT"
PROFILE_ENV = "CRIO_WIZARD_SIM_PROFILE"
SPEED_ENV = "CRIO_WIZARD_SIM_SPEED"
FAULTS_ENV = "CRIO_WIZARD_SIM_FAULTS"
BIN_ENV = "CRIO_WIZARD_SIM_BIN"  # the stand-in launcher directory (skipped when resolving PATH in the sandbox)
ARGV0_ENV = "CRIO_WIZARD_SIM_ARGV0"  # set when a command was called by absolute path, e.g. /opt/cni/bin/bridge
SELF_ENV = "CRIO_WIZARD_SIM_SELF"  # the host path the running stand-in was found at (for installable tools)
STANDARD_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")

FAULTS = {
    "missing-package": "a build dependency cannot be found by the package manager",
    "build-failure": "the CRI-O build fails (gpgme is not found by pkg-config)",
    "cni-version": "flannel's conflist carries a cniVersion the CNI library cannot convert (the recipe's error)",
    "stray-conflist": "a bridge conflist sorts before flannel's and shadows it",
    "crio-start": "crio fails to start (its OCI runtime is not in $PATH)",
    "hang": "a build command never ends (stopped by its timeout)",
}


class Tool:
    """A stand-in: `main(argv)` returns the exit code. An `installable` tool exists only once something
    put it on PATH inside the sandbox (see install_binary); until then it is "command not found"."""

    def __init__(self, main: Callable[[list[str]], int], installable: bool = False) -> None:
        self.main = main
        self.installable = installable


def root() -> Path:
    return Path(os.environ[ROOT_ENV])


def profile() -> str:
    return os.environ.get(PROFILE_ENV, "rocky9")


def host_path(path: str) -> Path:
    """Map an absolute host path into the sandbox; relative paths stay relative to the cwd."""
    if not path.startswith("/"):
        return Path(path)
    return root() / path.lstrip("/")


def pace(seconds: float) -> None:
    """Sleep a realistic duration, scaled by --sim-speed (0 = no delay)."""
    factor = float(os.environ.get(SPEED_ENV, "0"))
    if factor > 0 and seconds > 0:
        time.sleep(seconds * factor)


def utc_time(pattern: str, seconds: float | None = None) -> str:
    """`seconds` (default: now) in UTC as time.strftime formats it, with datetime's %f for the microseconds
    (the datetime module itself is not worth importing in every stand-in)."""
    moment = time.time() if seconds is None else seconds
    return time.strftime(pattern.replace("%f", f"{int(moment % 1 * 1_000_000):06d}"), time.gmtime(moment))


def say(*lines: str, delay: float = 0.0, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    for line in lines:
        stream.write(line + "\n")
        stream.flush()
        pace(delay)


def active_faults() -> set[str]:
    return {name for name in os.environ.get(FAULTS_ENV, "").split(",") if name}


def fault(name: str) -> bool:
    """Is this fault injected and not yet fired? Faults fire once per sandbox, so a fix or a retry can pass."""
    if name not in active_faults():
        return False
    with state() as data:
        return name not in data.setdefault("faults_fired", [])


def fire(name: str) -> None:
    with state() as data:
        fired = data.setdefault("faults_fired", [])
        if name not in fired:
            fired.append(name)


def leave_artifact(data: dict, fault_name: str, path: str, restore: str | None = None) -> None:
    """Record what an injected fault left on the host (inside a `state()` block): once the fault is no
    longer injected, the next stand-in puts the file back (`restore`) or removes it."""
    data.setdefault("fault_artifacts", {}).setdefault(fault_name, []).append({"path": path, "restore": restore})


def clear_removed_faults() -> None:
    """A fault that is no longer injected leaves nothing behind: run once at the start of every stand-in."""
    leftovers = peek().get("fault_artifacts", {})
    if not set(leftovers) - active_faults():
        return
    with state() as data:
        artifacts = data.get("fault_artifacts", {})
        for fault_name in sorted(set(artifacts) - active_faults()):
            for artifact in artifacts.pop(fault_name):
                if artifact["restore"] is None:
                    host_path(artifact["path"]).unlink(missing_ok=True)
                else:
                    write(artifact["path"], artifact["restore"])


@contextmanager
def state() -> Iterator[dict]:
    """The simulated host's shared state (services, cluster objects...), read-modify-written under a lock."""
    path = root() / ".sim/state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(root() / ".sim/state.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {}
        before = json.dumps(data, sort_keys=True)
        yield data
        if json.dumps(data, sort_keys=True) != before:
            temp = path.with_suffix(".tmp")
            temp.write_text(json.dumps(data, indent=1, sort_keys=True))
            os.replace(temp, path)


def peek() -> dict:
    """The shared state, read only."""
    path = root() / ".sim/state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def which(name: str) -> str | None:
    """The host path of `name` on PATH inside the sandbox, as a shell on the simulated host would find it."""
    launcher_dir = os.environ.get(BIN_ENV)
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and d != launcher_dir]
    dirs += [d for d in STANDARD_PATH if d not in dirs]
    for directory in dirs:
        if directory.startswith("/") and host_path(f"{directory}/{name}").is_file():
            return f"{directory}/{name}"
    return None


def self_version(name: str) -> str | None:
    """The version of the running installable stand-in, from the marker it was found at."""
    where = os.environ.get(SELF_ENV)
    return installed_version(name, where) if where else None


def install_binary(path: str, name: str, version: str) -> None:
    """Put a stand-in binary marker on the sandbox (what `make install` or a package would leave)."""
    target = host_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"#!/bin/false\n# simulated {name} {version}\n")
    target.chmod(0o755)


def installed_version(name: str, *paths: str) -> str | None:
    """The version recorded in the first installed marker among `paths` (None when not installed)."""
    for path in paths:
        target = host_path(path)
        if target.is_file():
            for line in target.read_text(errors="replace").splitlines():
                if line.startswith(f"# simulated {name} "):
                    return line.split()[-1]
            return "unknown"
    return None


def write(path: str, content: str, mode: int = 0o644) -> None:
    target = host_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp")
    temp.write_text(content)
    temp.chmod(mode)
    os.replace(temp, target)
