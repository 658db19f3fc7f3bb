"""Whole headless runs on the simulated host, through the real CLI in a subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

WIZARD = [sys.executable, "-m", "wizard.cli"]


def wizard(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*WIZARD, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kwargs)


def journal_statuses(state_dir: Path) -> dict[str, str]:
    data = yaml.safe_load((state_dir / "journal.yaml").read_text())
    return {step_id: record["status"] for step_id, record in data["steps"].items()}


@pytest.mark.parametrize("profile, package_manager", [
    ("rocky9", "dnf"), ("debian12", "apt-get"), ("fedora", "dnf"), ("ubuntu2404", "apt-get"),
])
def test_full_run_verifies_every_step_and_a_rerun_executes_nothing(tmp_path, profile, package_manager):
    state = tmp_path / "state"
    first = wizard("run", "--simulate", profile, "--sim-speed", "0", "--yes", "--state-dir", str(state))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    assert re.search(rf"^    \$ (DEBIAN_FRONTEND=noninteractive )?{package_manager} (-y )?install", first.stdout, re.M)
    assert "All steps verified." in first.stdout
    status = wizard("status", "--simulate", profile, "--state-dir", str(state))
    assert status.returncode == 0, status.stdout
    assert set(journal_statuses(state).values()) == {"verified"}

    started = time.monotonic()
    again = wizard("run", "--simulate", profile, "--sim-speed", "0", "--yes", "--state-dir", str(state))
    elapsed = time.monotonic() - started
    assert again.returncode == 0, again.stdout[-3000:]
    assert "    $ " not in again.stdout, "a verified step was executed again"
    assert again.stdout.count(": done (") == len(journal_statuses(state))
    assert elapsed < 10, f"re-run took {elapsed:.1f}s"


def test_kill_9_in_the_middle_of_a_step_resumes_at_that_step(tmp_path):
    state = tmp_path / "state"
    process = subprocess.Popen(
        [*WIZARD, "run", "--simulate", "rocky9", "--sim-speed", "0.05", "--yes", "--state-dir", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
        start_new_session=True)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("[crio-build] "):
            break
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert journal_statuses(state)["crio-build"] == "running"
    resumed = wizard("run", "--simulate", "rocky9", "--sim-speed", "0", "--yes", "--state-dir", str(state))
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    first_run_step = re.search(r"^==> \[\d+/\d+\] (\S+): (?!done)", resumed.stdout, re.M).group(1)
    assert first_run_step == "crio-build"
    assert journal_statuses(state)["crio-build"] == "verified"


def plan_script(tmp_path: Path, answers_text: str) -> str:
    """`crio-wizard plan --format sh` on the simulated host for these answers."""
    answers = tmp_path / "answers.yaml"
    answers.write_text(answers_text)
    plan = wizard("plan", "--simulate", "rocky9", "--state-dir", str(tmp_path / "s"), "--answers", str(answers),
                  "--format", "sh")
    assert plan.returncode == 0, plan.stderr
    return plan.stdout


def test_plan_as_shell_script(tmp_path):
    script = plan_script(tmp_path, "pod_cidr: 10.233.64.0/18\n")
    syntax = subprocess.run(["sh", "-n"], input=script, text=True, capture_output=True)
    assert syntax.returncode == 0, syntax.stderr
    for needle in ("dnf ", "crio config --default", "02-crio.conf", "/etc/crictl.yaml", "--driver=none",
                   "--container-runtime=cri-o", "10.233.64.0/18"):
        assert needle in script, needle
    assert '"Network": "10.233.64.0/18"' in script  # flannel's net-conf.json carries the same CIDR
    assert "network-plugin" not in script
    assert "--vm-driver" not in script


def test_a_script_with_masked_credentials_refuses_to_run_until_they_are_put_in(tmp_path):
    script = plan_script(tmp_path, "proxy:\n  https: http://builder:s3cret-Pa55@proxy.example.org:3128\n")
    assert "s3cret-Pa55" not in script and "http://***@proxy.example.org:3128" in script
    ran = subprocess.run(["sh", "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert ran.returncode == 2
    assert "credentials are masked as *** in this script" in ran.stderr
    assert not (tmp_path / "s" / "src").exists()  # stopped before its first command
    assert "credentials are masked" not in plan_script(tmp_path, "{}\n")  # no credentials, no guard


@pytest.mark.parametrize("fault, step, cause", [
    ("missing-package", "build-deps", "No match for argument: gpgme-devel"),
    ("build-failure", "crio-build", "Package gpgme was not found in the pkg-config search path"),
    ("crio-start", "crio-service", '"crun" not found in $PATH'),
    ("cni-version", "flannel", 'cannot convert version ["" "0.1.0" "0.2.0"] to 0.4.0'),
    ("stray-conflist", "flannel", "10-crio-bridge.conflist"),
    ("hang", "conmon", "timed out after 3s"),
])
def test_each_injected_fault_stops_at_its_step_and_a_clean_rerun_finishes(tmp_path, fault, step, cause):
    state = tmp_path / "state"
    common = ["--simulate", "rocky9", "--sim-speed", "0", "--state-dir", str(state), "--timeout", "3"]
    failed = wizard("run", *common, "--yes", "--inject", fault)
    assert failed.returncode == 1, failed.stdout[-3000:]
    statuses = journal_statuses(state)
    assert statuses[step] == "failed", statuses
    log_text = (state / "logs" / f"{step}.log").read_text()
    assert cause in log_text or cause in failed.stdout
    finished = wizard("run", *common, "--yes")
    assert finished.returncode == 0, finished.stdout[-3000:]


def test_bad_answers_file_exits_2_naming_each_key(tmp_path):
    answers = tmp_path / "bad.yaml"
    answers.write_text("scope: everything\npod_cidr: 10.0.0.0/33\nflannel: {bakend: vxlan}\n")
    result = wizard("validate", str(answers))
    assert result.returncode == 2
    assert "scope: bad value 'everything'" in result.stdout
    assert "flannel.bakend: unknown key" in result.stdout
    run = wizard("run", "--simulate", "rocky9", "--answers", str(answers), "--yes",
                 "--state-dir", str(tmp_path / "s"))
    assert run.returncode == 2 and "Traceback" not in run.stderr


def test_a_second_wizard_on_the_same_state_dir_is_refused(tmp_path):
    state = tmp_path / "state"
    first = subprocess.Popen(
        [*WIZARD, "run", "--simulate", "rocky9", "--sim-speed", "1", "--yes", "--state-dir", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    try:
        for line in first.stdout:
            if line.startswith("==> "):
                break
        second = wizard("run", "--simulate", "rocky9", "--sim-speed", "0", "--yes", "--state-dir", str(state))
        assert second.returncode == 3
        assert f"pid {first.pid}" in second.stderr
    finally:
        first.terminate()
        first.wait(timeout=30)


def test_the_engine_imports_no_textual():
    code = ("import sys, pkgutil, importlib, wizard\n"
            "for m in pkgutil.walk_packages(wizard.__path__, 'wizard.'):\n"
            "    importlib.import_module(m.name)\n"
            "assert not [n for n in sys.modules if n.split('.')[0] == 'textual'], 'textual imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_plan_with_the_cn_mirror_uses_it_in_every_layer(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("mirror: cn\n")
    plan = wizard("plan", "--simulate", "rocky9", "--state-dir", str(tmp_path / "s"), "--answers", str(answers),
                  "--format", "sh")
    assert plan.returncode == 0, plan.stderr
    layers = {
        "OS packages": "baseurl=https://mirrors.aliyun.com/rockylinux/",
        "git sources": "git clone --no-checkout https://gitclone.com/github.com/cri-o/cri-o.git",
        "Go toolchain": "https://golang.google.cn/dl/go",
        "Go modules": "GOPROXY=https://goproxy.cn,direct GOSUMDB=sum.golang.google.cn",
        "release files": "https://ghfast.top/https://github.com/kubernetes-sigs/cri-tools/releases/",
        "image registries": 'location = "k8s.m.daocloud.io"',
        "minikube's images": "--image-mirror-country=cn",
        "minikube itself": "https://ghfast.top/https://github.com/kubernetes/minikube/releases/",
    }
    missing = [layer for layer, needle in layers.items() if needle not in plan.stdout]
    assert not missing, missing
    assert "https://github.com/cri-o" not in plan.stdout.replace("gitclone.com/github.com", "")
