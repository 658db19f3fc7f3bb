"""Each injected fault: the run stops at its step, names the known error (en or zh), and --fix completes it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from wizard import catalogue

WIZARD = [sys.executable, "-m", "wizard.cli"]

FAULTS = [
    # fault, the step it stops, the catalogue entry it names
    ("missing-package", "build-deps", "dnf-no-match"),
    ("build-failure", "crio-build", "gpgme-missing"),
    ("hang", "conmon", "command-timeout"),
    ("crio-start", "crio-service", "crun-not-found"),
    ("cni-version", "flannel", "cni-version-convert"),
    ("stray-conflist", "flannel", "cni-conflist-shadowed"),
]


@pytest.mark.parametrize("fault, step, entry_id", FAULTS)
def test_fault_is_named_and_fixed(tmp_path, fault, step, entry_id):
    def common(name):
        return ["--simulate", "rocky9", "--sim-speed", "0", "--state-dir", str(tmp_path / name), "--timeout", "3"]

    stopped = subprocess.run([*WIZARD, "run", *common("stops"), "--yes", "--inject", fault],
                             capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert stopped.returncode == 1, stopped.stdout[-2000:]
    assert f"<== {step}: FAILED" in stopped.stdout
    entry = next(e for e in catalogue.load() if e.id == entry_id)
    assert f"{entry.text('title', 'en')} [{entry_id}]" in stopped.stdout
    assert entry.text("explanation", "en") in stopped.stdout
    assert "fix: " + entry.fix["summary"]["en"] in stopped.stdout

    # a fresh host with the same fault: --fix applies the previewed fix and the run completes
    fixed = subprocess.run([*WIZARD, "run", *common("fixed"), "--yes", "--fix", "--inject", fault],
                           capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert fixed.returncode == 0, fixed.stdout[-3000:]
    assert f"fix {entry_id}: applied" in fixed.stdout
    journal = yaml.safe_load((tmp_path / "fixed" / "journal.yaml").read_text())
    assert {record["status"] for record in journal["steps"].values()} == {"verified"}


def test_the_recipes_cni_error_is_explained_in_chinese(tmp_path):
    entry = next(e for e in catalogue.load() if e.id == "cni-version-convert")
    stopped = subprocess.run(
        [*WIZARD, "run", "--simulate", "rocky9", "--sim-speed", "0", "--state-dir", str(tmp_path / "s"), "--yes",
         "--inject", "cni-version", "--lang", "zh"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert stopped.returncode == 1
    assert entry.text("title", "zh") in stopped.stdout
    assert entry.text("explanation", "zh") in stopped.stdout
    assert "已知错误" in stopped.stdout and "停在 flannel" in stopped.stdout
