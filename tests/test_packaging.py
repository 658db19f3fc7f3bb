"""The wheel: it carries the assets and the stand-ins, and its console script starts."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = out.glob("crio_wizard-*.whl")
    return found


def test_the_wheel_carries_the_assets_and_every_package(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ("assets/versions.yaml", "assets/answers.yaml", "assets/answers.schema.yaml",
                  "assets/known_errors.yaml", "assets/explanations.yaml", "assets/i18n.yaml", "assets/wizard.tcss",
                  "assets/mirrors.yaml", "assets/sim/profiles.yaml", "assets/templates/kube-flannel.yml"):
        assert asset in names, asset
    assert "screens/app.py" in names and "wizard/simulate/tools/cluster.py" in names
    assert not [name for name in names if name.startswith("tests/")]


def test_the_installed_wheel_runs_from_a_fresh_environment(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run([str(venv / "bin/pip"), "install", "-q", str(wheel)],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr
    version = subprocess.run([str(venv / "bin/crio-wizard"), "--version"], capture_output=True, text=True,
                             cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("crio-wizard ")
    plan = subprocess.run([str(venv / "bin/crio-wizard"), "plan", "--simulate", "debian12",
                           "--state-dir", str(tmp_path / "s")], capture_output=True, text=True, cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert "apt-get" in plan.stdout
