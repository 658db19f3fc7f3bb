"""Preflight checks on the simulated profiles, on machine files changed in a sandbox, and on this real machine."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from wizard import answers as answers_module
from wizard import mirrors, preflight
from wizard.host import real_host
from wizard.simulate.sandbox import profile_names
from wizard.steps.base import Context

from tests.simhost import sim_context

# the warnings each simulated machine is expected to give (everything else passes)
EXPECTED_WARNINGS = {
    "rocky9": {"selinux", "root-path"},
    "centos-stream9": {"selinux", "root-path"},
    "fedora": {"selinux", "root-path"},
    "debian12": set(),
    "ubuntu2404": set(),
    "debian12-container": {"systemd", "time-sync"},
}
V1_MOUNTS = """\
tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0
cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0
"""


def sandbox(tmp_path: Path, profile: str = "rocky9", overrides: dict | None = None,
            files: dict[str, str] | None = None) -> Context:
    """A simulated host whose machine files are replaced or added by `files` (host path -> content)."""
    ctx = sim_context(tmp_path, profile, overrides)
    for host_path, content in (files or {}).items():
        target = ctx.host.path(host_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return ctx


def by_name(results: list[preflight.PreflightResult]) -> dict[str, preflight.PreflightResult]:
    return {result.name: result for result in results}


async def only(ctx: Context, name: str) -> preflight.PreflightResult:
    results = await preflight.run_preflight(ctx, only={name})
    assert [result.name for result in results] == [name]
    return results[0]


def assert_well_formed(results: list[preflight.PreflightResult]) -> None:
    assert [result.name for result in results] == list(preflight.CHECKS)
    for result in results:
        assert result.severity in ("error", "warning"), result
        assert result.status in ("pass", "warn", "fail", "waived"), result
        assert result.detail.strip(), result
        if result.status in ("warn", "fail"):
            assert result.fix_hint.strip(), result


# -- the simulated machines -----------------------------------------------------------------------

def test_every_profile_has_expected_warnings():
    assert set(EXPECTED_WARNINGS) == set(profile_names())


@pytest.mark.parametrize("profile", list(EXPECTED_WARNINGS))
async def test_simulated_profiles_pass_with_only_the_expected_warnings(tmp_path, profile):
    # without systemd the none driver cannot run the kubelet, so that profile is for scope runtime
    overrides = {"scope": "runtime"} if profile == "debian12-container" else None
    results = await preflight.run_preflight(sim_context(tmp_path, profile, overrides))
    assert_well_formed(results)
    assert {result.name for result in results if result.status != "pass"} == EXPECTED_WARNINGS[profile]
    assert {result.status for result in results} <= {"pass", "warn"}
    assert preflight.refused(results) == []
    seen = by_name(results)
    assert "4 CPUs" in seen["cpu"].detail and "7.8 GiB" in seen["memory"].detail
    assert "not connecting" in seen["sources"].detail and "github.com:443" in seen["sources"].detail


# -- this real machine (Debian 12 without systemd as PID 1, run as root) -------------------------------------

def real_context(tmp_path: Path, overrides: dict | None = None) -> Context:
    return Context(answers=answers_module.from_mapping(overrides or {}), host=real_host(), state_dir=tmp_path)


async def test_without_systemd_the_runtime_scope_is_only_warned(tmp_path):
    ctx = real_context(tmp_path, {"scope": "runtime"})
    (result,) = await preflight.run_preflight(ctx, only={"systemd"})
    assert result.status == ("pass" if ctx.host.facts.systemd else "warn")


async def test_real_machine_results_are_stable_and_explained(tmp_path):
    ctx = real_context(tmp_path)
    first = await preflight.run_preflight(ctx)
    second = await preflight.run_preflight(ctx)
    assert_well_formed(first)
    # the network decides `sources`; everything else reads this machine's files and must not change
    assert [(r.name, r.status) for r in first if r.name != "sources"] == \
        [(r.name, r.status) for r in second if r.name != "sources"]
    seen = by_name(first)
    assert seen["distro"].status == "pass" and ctx.host.facts.pretty_name in seen["distro"].detail
    # the default scope starts minikube, whose none driver needs systemd
    assert seen["systemd"].status == ("pass" if ctx.host.facts.systemd else "fail")
    if os.geteuid() == 0:
        assert seen["root"] == preflight.PreflightResult("root", "error", "pass", "running as root (euid 0)", "")
    else:  # no runner here, so sudo is not tried
        assert seen["root"].status == "fail"
    assert seen["arch"].status == "pass"
    assert seen["sources"].status in ("pass", "warn")


async def test_a_listener_on_8443_fails_ports(tmp_path):
    ctx = real_context(tmp_path)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 8443))
        listener.listen()
        held_here = True
    except OSError as error:  # something else holds it: the check must report that just the same
        assert error.errno == errno.EADDRINUSE
        held_here = False
    try:
        result = await only(ctx, "ports")
    finally:
        listener.close()
    assert result.status == "fail" and "8443/tcp in use" in result.detail, result
    if held_here and os.geteuid() == 0:
        assert f"(pid {os.getpid()})" in result.detail  # the owner is found through /proc/PID/fd
    assert preflight.refused([result]) == [result]


async def test_a_bound_vxlan_port_fails_ports_only_with_the_vxlan_backend(tmp_path):
    ctx = real_context(tmp_path)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp.bind(("0.0.0.0", 8472))
    except OSError:
        udp.close()
        pytest.skip("UDP 8472 is taken on this machine by something else")
    try:
        vxlan = await only(ctx, "ports")
        ctx.answers = answers_module.from_mapping({"flannel": {"backend": "host-gw"}})
        host_gw = await only(ctx, "ports")
    finally:
        udp.close()
    assert vxlan.status == "fail" and "8472/udp in use" in vxlan.detail
    assert "8472" not in host_gw.detail


# -- machine files changed in the sandbox ---------------------------------------------------------------

async def test_one_gib_of_memory_fails_memory(tmp_path):
    ctx = sandbox(tmp_path, files={"/proc/meminfo": "MemTotal:        1015808 kB\nMemFree:          512000 kB\n"})
    result = await only(ctx, "memory")
    assert result.status == "fail" and "1.0 GiB" in result.detail
    ctx.answers = answers_module.from_mapping({"scope": "runtime"})
    assert (await only(ctx, "memory")).status == "warn"


async def test_waiving_turns_a_failure_into_waived_and_stops_refusing(tmp_path):
    ctx = sandbox(tmp_path, files={"/proc/meminfo": "MemTotal:        1015808 kB\n"})
    results = await preflight.run_preflight(ctx)
    assert [result.name for result in preflight.refused(results)] == ["memory"]
    waived = await preflight.run_preflight(ctx, ignore={"memory", "selinux"})
    memory, selinux, cpu = (by_name(waived)[name] for name in ("memory", "selinux", "cpu"))
    assert memory.status == "waived" and memory.detail.endswith("(waived)") and memory.fix_hint
    assert selinux.status == "waived"
    assert cpu.status == "pass"  # waiving a check that passes changes nothing
    assert preflight.refused(waived) == []
    everything = await preflight.run_preflight(ctx, ignore={"all"})
    assert {result.status for result in everything} == {"pass", "waived"}


async def test_unknown_check_names_are_a_clear_error(tmp_path):
    ctx = sim_context(tmp_path)
    with pytest.raises(preflight.UnknownCheck, match="memroy.*the checks are: root"):
        await preflight.run_preflight(ctx, ignore={"memroy"})
    with pytest.raises(preflight.UnknownCheck):
        await preflight.run_preflight(ctx, only={"nope"})


async def test_a_listener_in_the_sandbox_and_a_running_cluster(tmp_path):
    listening = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
                 "   0: 00000000:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
                 "48151 1 0000000000000000 100 0 0 10 0\n")
    ctx = sandbox(tmp_path, files={"/proc/net/tcp": listening})
    result = await only(ctx, "ports")
    assert result.status == "fail" and result.detail == "8443/tcp in use"
    # the same port held by kube-apiserver (found through its fd) is a cluster from an earlier run
    (ctx.host.path("/proc/2101")).mkdir(parents=True)
    ctx.host.path("/proc/2101/comm").write_text("kube-apiserver\n")
    ctx.host.path("/proc/2101/fd").mkdir()
    ctx.host.path("/proc/2101/fd/7").symlink_to("socket:[48151]")
    result = await only(ctx, "ports")
    assert result.status == "warn" and "kube-apiserver (pid 2101)" in result.detail


async def test_cgroup_v1_with_systemd_and_kubernetes_135_fails(tmp_path):
    ctx = sandbox(tmp_path, "rocky9", files={"/proc/mounts": V1_MOUNTS})
    result = await only(ctx, "cgroup")
    assert result.status == "fail" and "cgroup v1 (hybrid) with the systemd driver" in result.detail
    ctx.answers = answers_module.from_mapping({"kubernetes": "1.34"})
    assert (await only(ctx, "cgroup")).status == "warn"
    ctx.answers = answers_module.from_mapping({"cgroup_manager": "cgroupfs"})
    assert (await only(ctx, "cgroup")).status == "warn"


async def test_missing_kernel_modules_fail(tmp_path):
    ctx = sandbox(tmp_path, "debian12", files={"/lib/modules/6.1.0-27-amd64/modules.dep": ""})
    result = await only(ctx, "kernel-modules")
    assert result.status == "fail"
    assert result.detail == "overlay missing, br_netfilter missing, vxlan missing (kernel 6.1.0-27-amd64)"
    ctx.answers = answers_module.from_mapping({"scope": "runtime"})
    assert "vxlan" not in (await only(ctx, "kernel-modules")).detail


async def test_missing_cap_sys_resource_warns_about_oom_score_adj(tmp_path):
    ctx = sandbox(tmp_path, files={"/proc/self/status": "Name:\tx\nCapEff:\t000001fffeffffff\n"})
    result = await only(ctx, "capabilities")
    assert result.status == "warn" and "oom_score_adj" in result.detail


async def test_other_runtimes_and_clusters(tmp_path):
    ctx = sandbox(tmp_path, "ubuntu2404", files={"/proc/880/comm": "dockerd\n", "/var/run/docker.sock": ""})
    result = await only(ctx, "conflicting-runtimes")
    assert result.status == "warn" and "Docker (pid 880)" in result.detail and "/var/run/docker.sock" in result.detail
    ctx.host.path("/proc/901").mkdir()
    ctx.host.path("/proc/901/comm").write_text("k3s-server\n")
    assert (await only(ctx, "conflicting-runtimes")).status == "fail"


async def test_a_kubelet_on_crio_is_an_earlier_run_not_a_conflict(tmp_path):
    ctx = sandbox(tmp_path, files={
        "/proc/777/comm": "kubelet\n",
        "/proc/777/cmdline": "/var/lib/minikube/binaries/v1.35.1/kubelet\0"
                             "--container-runtime-endpoint=unix:///var/run/crio/crio.sock\0",
    })
    result = await only(ctx, "conflicting-runtimes")
    assert result.status == "warn" and "earlier run" in result.detail


async def test_cni_leftovers_and_swap_and_selinux(tmp_path):
    ctx = sandbox(tmp_path, files={
        "/etc/cni/net.d/10-crio-bridge.conflist": "{}",
        "/sys/class/net/cni0/address": "ee:ee:ee:00:00:01\n",
        "/proc/swaps": "Filename\tType\tSize\tUsed\tPriority\n/dev/dm-1 partition\t2097148\t0\t-2\n",
        "/sys/fs/selinux/enforce": "0\n",
    })
    results = by_name(await preflight.run_preflight(ctx, only={"cni-leftovers", "swap", "selinux"}))
    assert results["cni-leftovers"].status == "warn"
    assert results["cni-leftovers"].detail == "/etc/cni/net.d: 10-crio-bridge.conflist; links: cni0"
    assert results["swap"].status == "warn" and "/dev/dm-1 (2.0 GiB)" in results["swap"].detail
    assert results["selinux"] == preflight.PreflightResult("selinux", "warning", "pass", "SELinux is permissive", "")


async def test_hostname_must_resolve_and_be_a_node_name(tmp_path):
    ctx = sandbox(tmp_path, files={"/etc/hostname": "Build_Box\n"})
    result = await only(ctx, "hostname")
    assert result.status == "warn"
    assert "not a lowercase RFC 1123 name" in result.detail and "does not resolve" in result.detail


async def test_proxy_needs_no_proxy_to_cover_the_cluster_networks(tmp_path):
    proxy = {"http": "http://alice:s3cret@proxy.example:3128", "https": "", "no_proxy": "localhost"}
    ctx = sandbox(tmp_path, overrides={"proxy": proxy})
    result = await only(ctx, "proxy")
    assert result.status == "fail" and "10.96.0.0/12, 10.233.64.0/18" in result.detail
    assert "s3cret" not in result.detail and "http://proxy.example:3128" in result.detail
    ctx.answers = answers_module.from_mapping(
        {"proxy": {**proxy, "no_proxy": "localhost,10.96.0.0/12,10.233.0.0/16,192.168.122.10"}})
    assert (await only(ctx, "proxy")).status == "pass"


async def test_proxy_from_the_environment(tmp_path):
    ctx = sandbox(tmp_path)
    ctx.host.env = {**ctx.host.env, "HTTPS_PROXY": "http://proxy.example:8080", "NO_PROXY": "10.0.0.0/8"}
    for key in ("HTTP_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        ctx.host.env.pop(key, None)
    result = await only(ctx, "proxy")
    assert result.status == "pass" and "from the environment" in result.detail


async def test_disk_below_ten_gib_fails_for_source_builds(tmp_path, monkeypatch):
    real_statvfs = os.statvfs

    def small_disk(path):
        stats = real_statvfs(path)
        return os.statvfs_result((*stats[:4], 4 * 1024**3 // stats.f_frsize, *stats[5:]))

    monkeypatch.setattr(preflight.os, "statvfs", small_disk)
    ctx = sandbox(tmp_path)
    result = await only(ctx, "disk")
    assert result.status == "fail" and "4.0 GiB free" in result.detail
    ctx.answers = answers_module.from_mapping({"install": {"crio": "package", "conmon": "package",
                                                           "cni_plugins": "release", "crictl": "release",
                                                           "flannel_cni": "release"}})
    assert (await only(ctx, "disk")).status == "pass"


def test_sources_follow_the_mirrors(tmp_path):
    ctx = sim_context(tmp_path)
    assert preflight._source_endpoints(ctx) == [
        ("github.com", 443), ("go.dev", 443), ("docker.io", 443), ("registry.k8s.io", 443)]
    ctx.answers = answers_module.from_mapping({"mirror": "cn", "sources": {"crio": {"url": "file:///srv/git/cri-o", "ref": ""}}})
    endpoints = preflight._source_endpoints(ctx)
    go_proxy = urlsplit(mirrors.go_env(ctx.answers)["GOPROXY"].split(",")[0]).hostname
    registry_mirrors = mirrors.mirror(ctx.answers)["registries"]
    assert ("github.com", 443) not in endpoints and (go_proxy, 443) in endpoints
    assert (registry_mirrors["docker.io"], 443) in endpoints and (registry_mirrors["registry.k8s.io"], 443) in endpoints


async def test_source_reachability_is_a_real_connect():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        assert await preflight._connect_problem("127.0.0.1", port) is None
    finally:
        listener.close()
    assert "refused" in await preflight._connect_problem("127.0.0.1", port)
