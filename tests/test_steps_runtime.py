"""Steps host-prep, crio-config, crio-service, root-path and runtime-check: plans, and runs on the simulated host."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.simhost import SubprocessProbeRunner, apply_plan, failed, sim_context
from wizard import cni
from wizard.actions import Run, Symlink, WriteFile
from wizard.simulate import sim
from wizard.steps.base import Step
from wizard.steps.crio_config import DROP_IN, POLICY, CrioConfig, render_policy, toml_string
from wizard.steps.crio_service import START_UNSUPERVISED, CrioService
from wizard.steps.host_prep import HostPrep
from wizard.steps.root_path import RootPath
from wizard.steps.runtime_check import CONTAINER_CONFIG, POD_CONFIG, RuntimeCheck

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

RUNTIME_STEPS = (HostPrep, CrioConfig, CrioService, RootPath, RuntimeCheck)


def written(actions: list, path: str) -> str:
    return next(action.content for action in actions if isinstance(action, WriteFile) and action.path == path)


def commands(actions: list) -> list[tuple[str, ...]]:
    return [action.argv for action in actions if isinstance(action, Run)]


# ---- planning ----------------------------------------------------------------------------------

@pytest.mark.parametrize("scope, backend, has_vxlan", [
    ("cluster+flannel", "vxlan", True),
    ("cluster+flannel", "host-gw", False),
    ("runtime", "vxlan", False),
])
def test_host_prep_loads_the_modules_before_applying_the_sysctls(tmp_path, scope, backend, has_vxlan):
    ctx = sim_context(tmp_path, "debian12", {"scope": scope, "flannel": {"backend": backend}})
    actions = HostPrep().plan(ctx)
    argvs = commands(actions)
    assert ("modprobe", "vxlan") in argvs if has_vxlan else ("modprobe", "vxlan") not in argvs
    assert argvs.index(("modprobe", "br_netfilter")) < argvs.index(("sysctl", "--system"))
    assert written(actions, "/etc/modules-load.d/crio-wizard.conf").split() == \
        ["overlay", "br_netfilter"] + (["vxlan"] if has_vxlan else [])
    sysctls = dict(line.split(" = ") for line in written(actions, "/etc/sysctl.d/99-crio-wizard.conf").splitlines()
                   if not line.startswith("#"))
    assert sysctls == {"net.bridge.bridge-nf-call-iptables": "1", "net.bridge.bridge-nf-call-ip6tables": "1",
                       "net.ipv4.ip_forward": "1"}


@pytest.mark.parametrize("profile, overrides, manager, runtime", [
    ("rocky9", {}, "systemd", "crun"),
    ("debian12-container", {}, "cgroupfs", "crun"),
    ("fedora", {"cgroup_manager": "cgroupfs", "oci_runtime": "runc"}, "cgroupfs", "runc"),
    ("debian12-container", {"cgroup_manager": "systemd", "oci_runtime": "runc"}, "systemd", "runc"),
])
def test_crio_drop_in_is_toml_with_the_chosen_driver_and_runtime(tmp_path, profile, overrides, manager, runtime):
    ctx = sim_context(tmp_path, profile, overrides)
    actions = CrioConfig().plan(ctx)
    assert actions[0] == Run(["crio", "config", "--default"], stdout_to="/etc/crio/crio.conf")
    document = tomllib.loads(written(actions, DROP_IN))
    assert document["crio"]["image"]["pause_image"] == ctx.answers.pins.pause_image
    settings = dict(document["crio"]["runtime"])
    runtimes = settings.pop("runtimes", {})
    assert settings == {"cgroup_manager": manager, "conmon_cgroup": "pod", "default_runtime": runtime}
    if runtime == "runc":
        assert runtimes["runc"]["runtime_path"] == "" and runtimes["runc"]["runtime_type"] == "oci"
    else:
        assert runtimes == {}


def test_crio_drop_in_survives_minikubes_sed_edits(tmp_path):
    """minikube's none driver rewrites whole lines matching `pause_image = ` / `cgroup_manager = ` and moves
    conmon_cgroup: the file must stay valid TOML with each key once."""
    ctx = sim_context(tmp_path, "rocky9", {"pause_image": "registry.example.org/pause:3.10"})
    text = written(CrioConfig().plan(ctx), DROP_IN)
    text = re.sub(r"(?m)^.*pause_image = .*$", 'pause_image = "registry.k8s.io/pause:3.10.1"', text)
    text = re.sub(r"(?m)^.*cgroup_manager = .*$", 'cgroup_manager = "cgroupfs"', text)
    text = re.sub(r"(?m)^.*conmon_cgroup = .*\n", "", text)
    text = re.sub(r"(?m)^(.*cgroup_manager = .*)$", r'\1\nconmon_cgroup = "pod"', text)
    document = tomllib.loads(text)
    assert document["crio"]["image"]["pause_image"] == "registry.k8s.io/pause:3.10.1"
    assert document["crio"]["runtime"]["cgroup_manager"] == "cgroupfs"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_toml_string_round_trips_any_text(value):
    assert tomllib.loads(f"key = {toml_string(value)}")["key"] == value


def test_policy_json_is_written_only_when_missing(tmp_path):
    ctx = sim_context(tmp_path, "debian12")
    actions = CrioConfig().plan(ctx)
    assert json.loads(written(actions, POLICY))["default"] == [{"type": "insecureAcceptAnything"}]
    shipped = ctx.host.path(POLICY)
    shipped.parent.mkdir(parents=True)
    shipped.write_text('{"default": [{"type": "reject"}]}\n')
    assert POLICY not in [action.path for action in CrioConfig().plan(ctx) if isinstance(action, WriteFile)]
    assert POLICY not in CrioConfig().owns(ctx).files
    shipped.write_text(render_policy())
    assert POLICY in CrioConfig().owns(ctx).files


def test_crio_service_uses_systemd_when_pid_1_is_systemd(tmp_path):
    ctx = sim_context(tmp_path, "ubuntu2404")
    assert commands(CrioService().plan(ctx)) == [("systemctl", "daemon-reload"), ("systemctl", "enable", "crio"),
                                                 ("systemctl", "restart", "crio")]
    # a failed start job (exit 1) is explained by verify, which reads crio's reason from the journal
    assert CrioService().plan(ctx)[-1].ok_codes == (0, 1)
    assert CrioService().owns(ctx).units == ["crio.service"]


def test_crio_service_without_systemd_starts_crio_in_the_background(tmp_path):
    ctx = sim_context(tmp_path, "debian12-container")
    start = commands(CrioService().plan(ctx))[-1]
    assert start[:5] == ("setsid", "-f", "sh", "-c", START_UNSUPERVISED)
    # the log file is a positional parameter, never part of the script
    assert start[5:] == ("sh", str((tmp_path / "state").absolute() / "crio.log"))
    assert "crio.log" not in START_UNSUPERVISED


@pytest.mark.parametrize("overrides, linked", [
    ({}, ["crio", "pinns", "conmon", "crictl"]),
    ({"install": {"crio": "package", "conmon": "package"}}, ["crictl"]),
    ({"install": {"prefix": "/usr"}}, []),
])
def test_root_path_links_what_the_wizard_installed_under_its_prefix(tmp_path, overrides, linked):
    ctx = sim_context(tmp_path, "rocky9", overrides)
    prefix = ctx.answers.get("install.prefix")
    assert RootPath().plan(ctx) == [Symlink(f"/usr/bin/{name}", f"{prefix}/bin/{name}") for name in linked]


def test_runtime_check_passes_the_image_as_one_argument(tmp_path):
    ctx = sim_context(tmp_path, "fedora", {"images": {"test": "quay.io/example/tool:1.0"}})
    actions = RuntimeCheck().plan(ctx)
    assert ("crictl", "pull", "quay.io/example/tool:1.0") in commands(actions)
    assert ("crictl", "run", "--no-pull", CONTAINER_CONFIG, POD_CONFIG) in commands(actions)
    assert json.loads(written(actions, CONTAINER_CONFIG))["image"] == {"image": "quay.io/example/tool:1.0"}
    assert json.loads(written(actions, POD_CONFIG))["metadata"]["name"] == "crio-wizard-check"


# ---- on the simulated host ---------------------------------------------------------------------

def simulated_host(tmp_path, monkeypatch, profile: str, overrides: dict | None = None, faults: tuple = ()):
    """A simulated host where CRI-O, conmon, crictl and the OCI runtimes are installed under /usr/local
    (what the build steps leave), with crictl.yaml and the wizard's bridge conflist."""
    ctx = sim_context(tmp_path, profile, overrides, faults)
    ctx.runner = SubprocessProbeRunner(ctx.host)
    monkeypatch.setenv(sim.ROOT_ENV, str(ctx.host.root))
    for path, name, version in (("/usr/local/bin/crio", "crio", "v1.35.6"), ("/usr/local/bin/pinns", "pinns", "v1.35.6"),
                                ("/usr/local/bin/conmon", "conmon", "v2.2.1"),
                                ("/usr/local/bin/crictl", "crictl", "v1.35.0"),
                                ("/usr/bin/crun", "crun", "1.19.1"), ("/usr/bin/runc", "runc", "1.2.5")):
        sim.install_binary(path, name, version)
    sim.write("/usr/local/lib/systemd/system/crio.service", "[Unit]\nDescription=Container Runtime Interface for OCI "
              "(CRI-O)\n[Service]\nExecStart=/usr/local/bin/crio\n")
    sim.write("/etc/crictl.yaml", "runtime-endpoint: unix:///var/run/crio/crio.sock\n"
              "image-endpoint: unix:///var/run/crio/crio.sock\n")
    sim.write(cni.BRIDGE_CONFLIST, cni.bridge_conflist("1.0.0"))
    return ctx


def run_on(ctx, *argv: str) -> subprocess.CompletedProcess:
    command, extra_env = ctx.host.command(argv)
    return subprocess.run(command, env={**ctx.host.env, **extra_env}, capture_output=True, text=True, timeout=30)


async def apply_and_verify(step, ctx) -> dict[str, str]:
    """Apply the step's plan, verify it, and return each check's detail by name."""
    results = apply_plan(step, ctx)
    assert all(code == 0 for _, code, _ in results), results
    checks = await step.verify(ctx)
    assert not failed(checks), failed(checks)
    if type(step).detect is not Step.detect:  # the default detect is "all checks pass": shown just above
        assert await step.detect(ctx)
    return {check.name: check.detail for check in checks}


@pytest.mark.parametrize("profile", ["rocky9", "debian12-container"])
async def test_runtime_steps_apply_and_verify_in_order(tmp_path, monkeypatch, profile):
    ctx = simulated_host(tmp_path, monkeypatch, profile)
    for step_class in RUNTIME_STEPS:
        step = step_class()
        # (Debian's secure_path has /usr/local/bin: root-path is satisfied there from the start; and the
        # other steps do not depend on PID 1, so checking them before on one profile is enough)
        if profile == "rocky9" or step_class is CrioService:
            assert not await step.detect(ctx), step.id
        details = await apply_and_verify(step, ctx)
    # the last step is runtime-check: the recipe's process tree, and the pod's address from the bridge conflist
    assert "(conmon)" in details["its parent is conmon"] and details["conmon's parent is PID 1"].endswith("<- pid 1")
    assert "IP 10.85.0.2" in details["pod crio-wizard-check is ready"]


async def test_unsupervised_crio_says_so_and_logs_to_the_state_dir(tmp_path, monkeypatch):
    ctx = simulated_host(tmp_path, monkeypatch, "debian12-container")
    apply_plan(CrioConfig(), ctx)
    details = await apply_and_verify(CrioService(), ctx)
    assert "nothing restarts crio" in details["crio runs in the background (unsupervised)"]
    assert details["crio status info shows cgroup driver cgroupfs"] == "cgroup driver cgroupfs"
    assert "Starting CRI-O, version: 1.35.6" in (tmp_path / "state/crio.log").read_text()
    assert run_on(ctx, "systemctl", "is-active", "crio").returncode == 1  # no systemd to ask
    # a re-run stops the earlier crio first (a second one would find the socket taken)
    await apply_and_verify(CrioService(), ctx)
    assert "already existing connection" not in (tmp_path / "state/crio.log").read_text()


async def test_crio_start_fault_fails_the_service_with_crios_reason(tmp_path, monkeypatch):
    ctx = simulated_host(tmp_path, monkeypatch, "rocky9", faults=("crio-start",))
    monkeypatch.setattr("wizard.steps.crio_service.SOCKET_WAIT_SECONDS", 0.2)
    apply_plan(CrioConfig(), ctx)
    results = apply_plan(CrioService(), ctx)
    argv, code, output = results[-1]
    # the failed start job does not stop the step: verify reports why, from crio's journal
    assert argv == ("systemctl", "restart", "crio") and code == 1
    assert "Job for crio.service failed because the control process exited with error code." in output
    checks = {check.name: check for check in await CrioService().verify(ctx)}
    assert checks["systemctl is-active crio = active"].detail.startswith("failed; ")
    assert '"crun" not found in $PATH' in checks["systemctl is-active crio = active"].detail
    assert not checks["crio listens on /var/run/crio/crio.sock"].ok
    # the fault fires once: a retry (after the user's fix) starts crio
    await apply_and_verify(CrioService(), ctx)


async def test_crio_start_fault_without_systemd_shows_in_the_log(tmp_path, monkeypatch):
    ctx = simulated_host(tmp_path, monkeypatch, "debian12-container", faults=("crio-start",))
    apply_plan(CrioConfig(), ctx)
    assert all(code == 0 for _, code, _ in apply_plan(CrioService(), ctx))  # setsid -f returns at once
    monkeypatch.setattr("wizard.steps.crio_service.SOCKET_WAIT_SECONDS", 0.2)
    checks = {check.name: check for check in await CrioService().verify(ctx)}
    background = checks["crio runs in the background (unsupervised)"]
    assert not background.ok and '"crun" not found in $PATH' in background.detail


async def test_crictl_fails_like_the_real_one_while_crio_is_stopped(tmp_path, monkeypatch):
    ctx = simulated_host(tmp_path, monkeypatch, "rocky9")
    done = run_on(ctx, "crictl", "version")
    assert done.returncode == 1
    assert ('dial unix /var/run/crio/crio.sock: connect: no such file or directory' in done.stderr
            and "validate CRI v1 runtime API" in done.stderr)



async def test_sudo_finds_crictl_only_once_root_path_linked_it(tmp_path, monkeypatch):
    ctx = simulated_host(tmp_path, monkeypatch, "rocky9")
    missing = {check.name: check.detail for check in failed(await RootPath().verify(ctx))}
    assert missing["crictl is found through sudo's secure_path"] == \
        "not in /sbin:/bin:/usr/sbin:/usr/bin (installed at /usr/local/bin/crictl)"
    assert run_on(ctx, "sudo", "crictl", "--version").stderr.strip() == "sudo: crictl: command not found"
    await apply_and_verify(RootPath(), ctx)
    assert run_on(ctx, "sudo", "crictl", "--version").stdout.strip() == "crictl version v1.35.0"


async def test_a_short_image_name_fails_the_pull(tmp_path, monkeypatch):
    ctx = simulated_host(tmp_path, monkeypatch, "debian12", {"images": {"test": "busybox"}})
    for step_class in (CrioConfig, CrioService):
        apply_plan(step_class(), ctx)
    results = apply_plan(RuntimeCheck(), ctx)
    argv, code, output = results[-1]
    assert argv == ("crictl", "pull", "busybox") and code == 1
    assert "initializing source docker://busybox:latest" in output and "no such host" in output
    assert not await RuntimeCheck().detect(ctx)


async def test_crictl_stops_and_removes_the_check_pod_like_the_real_client(tmp_path, monkeypatch):
    ctx = simulated_host(tmp_path, monkeypatch, "debian12-container")
    for step_class in (CrioConfig, CrioService, RuntimeCheck):
        apply_plan(step_class(), ctx)
    pod_id = run_on(ctx, "crictl", "pods", "--name", "^crio-wizard-check$", "-q").stdout.strip()
    container_id = run_on(ctx, "crictl", "ps", "--pod", pod_id, "-q").stdout.strip()
    pid = json.loads(run_on(ctx, "crictl", "inspect", container_id).stdout)["info"]["pid"]
    assert run_on(ctx, "ps", "-o", "ppid=,comm=", "-p", str(pid)).stdout.split() == [str(pid - 1), "sleep"]
    images = run_on(ctx, "crictl", "images").stdout
    assert "docker.io/library/busybox   1.36" in images and "registry.k8s.io/pause" in images
    info = json.loads(run_on(ctx, "crictl", "info").stdout)
    assert {c["type"]: c["status"] for c in info["status"]["conditions"]} == {"RuntimeReady": True,
                                                                              "NetworkReady": True}
    refused = run_on(ctx, "crictl", "rmp", pod_id)
    assert refused.returncode == 1 and f'pod sandbox \\"{pod_id}\\" is running, please stop it first' in refused.stderr
    assert run_on(ctx, "crictl", "stopp", pod_id).stdout.strip() == f"Stopped sandbox {pod_id}"
    assert run_on(ctx, "ps", "-o", "ppid=", "-p", str(pid)).returncode == 1  # the container's process is gone
    assert run_on(ctx, "crictl", "rmp", pod_id).stdout.strip() == f"Removed sandbox {pod_id}"
    assert run_on(ctx, "crictl", "pods", "-q").stdout.strip() == ""
