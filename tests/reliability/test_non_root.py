"""Non-root on the real host: what only reads (plan, status, doctor, validate, reset --dry-run) and the simulated
host work; what would change the machine (run, reset) refuses up front with exit 3 and a clear message, having
changed nothing. The CLI runs as the unprivileged user nobody."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from tests.reliability.harness import REPO

NOBODY = 65534
NEEDS_ROOT = "this changes the machine and needs root"


def interpreters() -> list[str]:
    """The test's own Python, and the system's of the same version (the test's may live where nobody cannot
    read it, e.g. under /root); both are given the repository and this environment's packages on PYTHONPATH."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return [sys.executable] + [path for path in (f"/usr/bin/{version}", f"/usr/local/bin/{version}")
                               if os.path.exists(path)]


@pytest.fixture(scope="module")
def as_nobody():
    if os.geteuid() != 0:
        pytest.skip("switching to the user nobody needs root")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    home = Path(tempfile.mkdtemp(prefix="crio-wizard-nobody-"))
    os.chown(home, NOBODY, NOBODY)
    home.chmod(0o755)
    packages = sysconfig.get_paths()["purelib"]
    env = {"HOME": str(home), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
           "PYTHONPATH": f"{REPO}:{packages}"}

    def run(python: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "/usr/bin/env",
                               "-i", *(f"{key}={value}" for key, value in env.items()), python, *args],
                              capture_output=True, text=True, timeout=timeout, cwd=home, stdin=subprocess.DEVNULL)

    problems = []
    for python in interpreters():
        check = run(python, "-c", "import os, wizard.cli, yaml, jsonschema; assert os.geteuid() != 0")
        if check.returncode == 0:
            break
        problems.append(f"{python}: {check.stderr.strip().splitlines()[-1] if check.stderr.strip() else check}")
    else:
        shutil.rmtree(home, ignore_errors=True)
        pytest.skip("no Python that the user nobody can run with this environment's packages: " + "; ".join(problems))

    def wizard(*args: str) -> subprocess.CompletedProcess:
        return run(python, "-m", "wizard.cli", *args)

    yield wizard, home
    shutil.rmtree(home, ignore_errors=True)


def test_what_only_reads_works_without_root(as_nobody):
    wizard, home = as_nobody
    plan = wizard("plan")
    assert plan.returncode == 0 and "[1/" in plan.stdout, plan.stderr
    script = wizard("plan", "--format", "sh")
    assert script.returncode == 0 and script.stdout.startswith("#!/bin/sh"), script.stderr
    validate = wizard("validate", str(REPO / "assets" / "answers.yaml"))
    assert validate.returncode == 0 and "valid" in validate.stdout, validate.stdout + validate.stderr
    status = wizard("status")
    assert status.returncode == 1 and "pending" in status.stdout, status.stderr  # nothing verified here
    doctor = wizard("doctor")
    assert doctor.returncode in (0, 1) and "doctor report" in doctor.stdout, doctor.stderr
    dry_run = wizard("reset", "--dry-run")
    assert dry_run.returncode == 0 and "reset will:" in dry_run.stdout, dry_run.stderr
    for result in (plan, script, validate, status, doctor, dry_run):
        assert "Traceback" not in result.stdout + result.stderr


def test_a_simulated_host_works_without_root(as_nobody):
    wizard, home = as_nobody
    run = wizard("run", "--simulate", "rocky9", "--sim-speed", "0", "--yes", "--only", "host-prep",
                 "--state-dir", str(home / "practice"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    assert "SIMULATED HOST rocky9" in run.stdout


@pytest.mark.parametrize("command", [["run", "--yes"], ["reset", "--yes"], ["run", "--yes", "--only", "host-prep"]])
def test_what_changes_the_machine_refuses_up_front(as_nobody, command):
    wizard, home = as_nobody
    state = home / ".local" / "state" / "crio-wizard"
    before = sorted(path.name for path in state.rglob("*")) if state.exists() else []
    result = wizard(*command)
    assert result.returncode == 3, result.stdout + result.stderr
    assert NEEDS_ROOT in result.stderr and "Traceback" not in result.stderr
    assert "$ " not in result.stdout, "a command ran before the refusal"
    after = sorted(path.name for path in state.rglob("*")) if state.exists() else []
    assert after == before, "it wrote into the state directory before refusing"
