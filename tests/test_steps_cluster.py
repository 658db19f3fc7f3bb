"""The cluster steps (minikube, flannel, cluster-check): their plans, and their runs on the simulated host."""

from __future__ import annotations

import json
import os
import subprocess
from itertools import product

import pytest
import yaml

from tests.simhost import SubprocessProbeRunner, apply_plan, failed, sim_context
from wizard import answers as answers_module
from wizard import cni
from wizard.actions import RemoveFile, Run, Symlink, WriteFile
from wizard.assets import asset_path
from wizard.simulate import sim
from wizard.steps.base import Context
from wizard.steps.cluster_check import ClusterCheck, parse_table
from wizard.steps.flannel import MANIFEST_PATH, Flannel, ManifestError, render_manifest
from wizard.steps.minikube import Minikube, start_argv

SEED_CIDR = "10.233.64.0/18"
FLANNEL_STYLES = ("minikube-cni", "apply-after-start")


@pytest.fixture(scope="module")
def planning_host(tmp_path_factory):
    """One simulated host for the planning tests: planning only reads it."""
    return sim_context(tmp_path_factory.mktemp("planning"), "rocky9").host


@pytest.fixture
def plan_context(planning_host, tmp_path):
    def make(**overrides) -> Context:
        return Context(answers=answers_module.from_mapping(overrides), host=planning_host, state_dir=tmp_path)
    return make


def runs(actions) -> list[tuple[str, ...]]:
    return [action.argv for action in actions if isinstance(action, Run)]


def manifest_documents(text: str) -> dict[str, dict]:
    return {document["kind"]: document for document in yaml.safe_load_all(text) if document}


# ---- planning -----------------------------------------------------------------------------------

@pytest.mark.parametrize("scope, style, pod_cidr, backend, expected", [
    ("cluster", "minikube-cni", SEED_CIDR, "vxlan", ["--cni=bridge"]),
    ("cluster+flannel", "minikube-cni", "10.244.0.0/16", "vxlan", ["--cni=flannel"]),
    ("cluster+flannel", "minikube-cni", SEED_CIDR, "vxlan",
     [f"--extra-config=kubeadm.pod-network-cidr={SEED_CIDR}", f"--cni={MANIFEST_PATH}"]),
    # minikube's own flannel is vxlan only: another backend needs the rendered manifest
    ("cluster+flannel", "minikube-cni", "10.244.0.0/16", "host-gw",
     ["--extra-config=kubeadm.pod-network-cidr=10.244.0.0/16", f"--cni={MANIFEST_PATH}"]),
    ("cluster+flannel", "apply-after-start", SEED_CIDR, "vxlan",
     ["--cni=false", f"--extra-config=kubeadm.pod-network-cidr={SEED_CIDR}"]),
])
def test_minikube_start_flags(plan_context, scope, style, pod_cidr, backend, expected):
    ctx = plan_context(scope=scope, pod_cidr=pod_cidr, flannel={"style": style, "backend": backend})
    start = [argv for argv in runs(Minikube().plan(ctx)) if argv[1:2] == ("start",)]
    assert start == [tuple(start_argv(ctx.answers))]
    assert start[0][:5] == ("/usr/local/bin/minikube", "start", "--driver=none", "--container-runtime=cri-o",
                            "--kubernetes-version=v1.35.1")
    assert list(start[0][5:]) == expected


def test_no_removed_flag_in_any_plan(plan_context):
    for scope, style, pod_cidr in product(("cluster", "cluster+flannel"), FLANNEL_STYLES, ("10.244.0.0/16", SEED_CIDR)):
        ctx = plan_context(scope=scope, pod_cidr=pod_cidr, flannel={"style": style})
        words = [word for step in (Minikube(), Flannel()) for argv in runs(step.plan(ctx)) for word in argv]
        assert not [word for word in words if "network-plugin" in word or word.startswith("--vm-driver")]


def test_minikube_download_install_link_and_proxy(plan_context):
    proxy = "http://user:s3cret@proxy.example:3128"
    ctx = plan_context(proxy={"http": proxy, "https": proxy, "no_proxy": "192.168.122.10,10.96.0.0/12"})
    actions = Minikube().plan(ctx)
    curl, install, start = [action for action in actions if isinstance(action, Run)]
    url = "https://github.com/kubernetes/minikube/releases/download/v1.38.1/minikube-linux-amd64"
    assert curl.argv == ("curl", "-fsSL", "-o", "minikube-v1.38.1-linux-amd64", url)
    assert curl.cwd == install.cwd == str(ctx.workdir)
    assert install.argv == ("install", "-m", "0755", "minikube-v1.38.1-linux-amd64", "/usr/local/bin/minikube")
    for action in (curl, start):
        assert dict(action.env) == {"HTTP_PROXY": proxy, "HTTPS_PROXY": proxy,
                                    "NO_PROXY": "192.168.122.10,10.96.0.0/12"}
        assert "s3cret" in action.secret_values
    link = actions[-1]
    assert isinstance(link, Symlink) and link.path == "/usr/local/bin/kubectl"
    assert os.path.normpath(os.path.join("/usr/local/bin", link.target)) == "/var/lib/minikube/binaries/v1.35.1/kubectl"
    written = [action for action in actions if isinstance(action, WriteFile)]
    assert [action.path for action in written] == [MANIFEST_PATH]
    assert actions.index(written[0]) < actions.index(start)


def test_minikube_owns_its_binaries_the_manifest_and_the_cni_leftovers(plan_context):
    seed = Minikube().owns(plan_context(flannel={"style": "apply-after-start"}))
    assert {"/usr/local/bin/minikube", "/usr/local/bin/kubectl", MANIFEST_PATH, "/run/flannel/subnet.env",
            "/etc/cni/net.d/10-flannel.conflist"} <= set(seed.files)
    assert seed.links == ["cni0", "flannel.1"] and seed.units == ["kubelet"]
    assert {"/var/lib/cni/networks", "/run/flannel", "/var/lib/minikube"} <= set(seed.dirs)
    bridge = Minikube().owns(plan_context(scope="cluster"))
    assert bridge.links == ["bridge"] and MANIFEST_PATH not in bridge.files


def test_rendered_manifest_carries_cidr_backend_and_pinned_images(tmp_path):
    template = asset_path("templates", "kube-flannel.yml").read_text()
    text = render_manifest(template, SEED_CIDR, "host-gw", flannel_tag="v9.9.9", cni_plugin_tag="v8.8.8-flannel1")
    documents = manifest_documents(text)
    assert set(documents) == {"Namespace", "ClusterRole", "ClusterRoleBinding", "ServiceAccount", "ConfigMap",
                              "DaemonSet"}
    assert all(document["apiVersion"] in ("v1", "apps/v1", "rbac.authorization.k8s.io/v1")
               for document in documents.values())
    data = documents["ConfigMap"]["data"]
    net_conf = json.loads(data["net-conf.json"])
    assert net_conf["Network"] == SEED_CIDR and net_conf["Backend"] == {"Type": "host-gw"}
    cni_conf = json.loads(data["cni-conf.json"])
    assert cni_conf["cniVersion"] == "0.3.1"
    assert [plugin["type"] for plugin in cni_conf["plugins"]] == ["flannel", "portmap"]
    pod_spec = documents["DaemonSet"]["spec"]["template"]["spec"]
    images = {c["name"]: c["image"] for c in pod_spec["initContainers"] + pod_spec["containers"]}
    assert images == {"install-cni-plugin": "ghcr.io/flannel-io/flannel-cni-plugin:v8.8.8-flannel1",
                      "install-cni": "ghcr.io/flannel-io/flannel:v9.9.9",
                      "kube-flannel": "ghcr.io/flannel-io/flannel:v9.9.9"}
    # everything else stays as flannel ships it
    original = manifest_documents(template)
    assert documents["Namespace"] == original["Namespace"]
    assert documents["ClusterRole"] == original["ClusterRole"]
    assert pod_spec["volumes"] == original["DaemonSet"]["spec"]["template"]["spec"]["volumes"]


def test_rendering_the_seed_cidr_keeps_vxlan_options_and_shipped_images():
    template = asset_path("templates", "kube-flannel.yml").read_text()
    documents = manifest_documents(render_manifest(template, SEED_CIDR, "vxlan"))
    net_conf = json.loads(documents["ConfigMap"]["data"]["net-conf.json"])
    assert net_conf == {"Network": SEED_CIDR, "EnableNFTables": False, "Backend": {"Type": "vxlan"}}
    assert documents["DaemonSet"] == manifest_documents(template)["DaemonSet"]


def test_template_images_match_the_pinning_table(plan_context):
    pins = plan_context().answers.pins
    text = asset_path("templates", "kube-flannel.yml").read_text()
    assert f"ghcr.io/flannel-io/flannel:{pins.flannel}" in text
    assert f"ghcr.io/flannel-io/flannel-cni-plugin:{pins.flannel_cni}" in text


def test_a_manifest_without_flannels_configmap_is_refused():
    with pytest.raises(ManifestError, match="ConfigMap kube-flannel-cfg"):
        render_manifest("kind: Namespace\napiVersion: v1\nmetadata: {name: x}\n", SEED_CIDR, "vxlan")


def test_flannel_plan_per_style_removes_configs_in_flannels_way(tmp_path):
    ctx = sim_context(tmp_path, "rocky9", {"flannel": {"style": "apply-after-start"}})
    net_d = ctx.host.path("/etc/cni/net.d")
    net_d.mkdir(parents=True)
    bridge = {"cniVersion": "1.0.0", "name": "crio", "plugins": [{"type": "bridge", "bridge": "cni0"}]}
    podman = {"cniVersion": "1.0.0", "name": "podman", "plugins": [{"type": "bridge", "bridge": "cni-podman0"}]}
    for name, document in {"1-k8s.conflist": podman, "10-crio-bridge.conflist": bridge,
                           "87-podman-bridge.conflist": podman, "100-crio-bridge.conf": bridge["plugins"][0],
                           "10-flannel.conflist": podman}.items():
        (net_d / name).write_text(json.dumps(document))
    (net_d / "90-crio-wizard-bridge.conflist").write_text(cni.bridge_conflist("0.3.1"))
    actions = Flannel().plan(ctx)
    assert [action.path for action in actions if isinstance(action, RemoveFile)] == [
        "/etc/cni/net.d/1-k8s.conflist", "/etc/cni/net.d/10-crio-bridge.conflist",
        "/etc/cni/net.d/100-crio-bridge.conf"]
    assert runs(actions) == [
        ("/usr/local/bin/kubectl", "apply", "-f", MANIFEST_PATH),
        ("/usr/local/bin/kubectl", "-n", "kube-flannel", "rollout", "status", "ds/kube-flannel-ds", "--timeout=180s"),
        ("/usr/local/bin/kubectl", "-n", "kube-system", "rollout", "restart", "deployment/coredns")]
    minikube_cni = Context(answers=answers_module.from_mapping({}), host=ctx.host, state_dir=tmp_path)
    assert runs(Flannel().plan(minikube_cni)) == runs(actions)[1:]
    assert ClusterCheck().plan(ctx) == []


def test_crictl_tables_are_read_by_their_headers():
    # today's `crictl ps` (samples/crictl-ps.txt): POD ID is no longer the last column, as in the recipe
    text = ("CONTAINER           IMAGE                      CREATED             STATE               NAME"
            "                ATTEMPT             POD ID              POD                 NAMESPACE\n"
            "dda646295f5cf       localhost/busybox:latest   6 seconds ago       Running             httpd"
            "               0                   d68666d872fd8       unknown             unknown\n")
    row = parse_table(text)[0]
    assert (row["CONTAINER"], row["STATE"], row["NAME"], row["POD ID"], row["NAMESPACE"]) == (
        "dda646295f5cf", "Running", "httpd", "d68666d872fd8", "unknown")


# ---- on the simulated host ----------------------------------------------------------------------

@pytest.fixture
def simulated(tmp_path, monkeypatch):
    """A simulated host where the runtime steps are done: crio running with 02-crio.conf, crictl,
    conntrack, the CNI plugins and the wizard's own bridge conflist (what the earlier steps leave)."""

    def make(overrides: dict | None = None, faults: tuple[str, ...] = (), conntrack: bool = True,
             drop_in: bool = True) -> Context:
        ctx = sim_context(tmp_path, "rocky9", overrides, faults)
        monkeypatch.setenv(sim.ROOT_ENV, str(ctx.host.root))
        binaries = [("/usr/local/bin/crio", "crio", "v1.35.6"), ("/usr/local/bin/crictl", "crictl", "v1.35.0"),
                    ("/usr/local/bin/conmon", "conmon", "v2.2.1")]
        binaries += [(f"/opt/cni/bin/{name}", name, "v1.9.1")
                     for name in ("bridge", "host-local", "loopback", "portmap", "firewall")]
        if conntrack:
            binaries.append(("/usr/sbin/conntrack", "conntrack", "1.4.7"))
        for path, name, version in binaries:
            sim.install_binary(path, name, version)
        sim.write("/var/run/crio/crio.sock", "")
        sim.write("/etc/crictl.yaml", "runtime-endpoint: unix:///var/run/crio/crio.sock\n"
                                      "image-endpoint: unix:///var/run/crio/crio.sock\n")
        if drop_in:
            sim.write("/etc/crio/crio.conf.d/02-crio.conf", '[crio.runtime]\ncgroup_manager = "systemd"\n')
        sim.write(cni.BRIDGE_CONFLIST, cni.bridge_conflist("0.3.1"))
        ctx.runner = SubprocessProbeRunner(ctx.host)
        return ctx

    return make


def assert_applied(step, ctx: Context) -> None:
    results = apply_plan(step, ctx)
    assert all(code == 0 for _, code, _ in results), results[-1]


async def assert_verified(step, ctx: Context) -> None:
    checks = await step.verify(ctx)
    assert checks and not failed(checks), failed(checks)


def subnet_env(ctx: Context) -> dict[str, str]:
    return dict(line.split("=", 1) for line in ctx.read("/run/flannel/subnet.env").splitlines())


def run_stand_in(ctx: Context, *argv: str) -> subprocess.CompletedProcess:
    command, extra_env = ctx.host.command(argv)
    return subprocess.run(command, env={**ctx.host.env, **extra_env}, capture_output=True, text=True, timeout=30)


async def test_flannel_through_minikube_with_the_seed_cidr(simulated):
    ctx = simulated()
    minikube, flannel, cluster_check = Minikube(), Flannel(), ClusterCheck()
    assert not await minikube.detect(ctx)
    assert_applied(minikube, ctx)
    await assert_verified(minikube, ctx)
    assert_applied(flannel, ctx)
    await assert_verified(flannel, ctx)
    assert subnet_env(ctx) == {"FLANNEL_NETWORK": SEED_CIDR, "FLANNEL_SUBNET": "10.233.64.1/24",
                               "FLANNEL_MTU": "1450", "FLANNEL_IPMASQ": "true"}
    await assert_verified(cluster_check, ctx)
    assert ctx.host.path("/usr/local/bin/kubectl").is_symlink()


async def test_flannel_applied_after_start_replaces_a_shadowing_bridge(simulated):
    ctx = simulated({"flannel": {"style": "apply-after-start"}})
    assert_applied(Minikube(), ctx)
    # a stray CRI-O example bridge sorting before flannel's: the plan takes it away
    sim.write("/etc/cni/net.d/10-crio-bridge.conflist", json.dumps({
        "cniVersion": "1.0.0", "name": "crio",
        "plugins": [{"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.85.0.0/16"}}]}))
    assert_applied(Flannel(), ctx)
    assert not ctx.exists("/etc/cni/net.d/10-crio-bridge.conflist")
    assert ctx.exists(MANIFEST_PATH)
    await assert_verified(Flannel(), ctx)
    await assert_verified(ClusterCheck(), ctx)


async def test_minikubes_own_flannel_for_the_default_cidr(simulated):
    ctx = simulated({"pod_cidr": "10.244.0.0/16"})
    assert_applied(Minikube(), ctx)
    await assert_verified(Minikube(), ctx)
    assert not ctx.exists(MANIFEST_PATH)
    assert subnet_env(ctx)["FLANNEL_NETWORK"] == "10.244.0.0/16"
    assert json.loads(ctx.read("/etc/cni/net.d/10-flannel.conflist"))["cniVersion"] == "0.3.1"


async def test_minikube_refuses_until_the_runtime_is_ready_then_runs_the_bridge_cluster(simulated):
    ctx = simulated({"scope": "cluster"}, conntrack=False, drop_in=False)
    minikube = Minikube()
    argv, code, output = apply_plan(minikube, ctx)[-1]
    assert (argv[1], code) == ("start", 86)
    assert "Exiting due to GUEST_MISSING_CONNTRACK: Sorry, Kubernetes v1.35.1 requires conntrack to be installed " \
           "in root's path" in output
    sim.install_binary("/usr/sbin/conntrack", "conntrack", "1.4.7")
    again = run_stand_in(ctx, *argv)
    assert again.returncode == 90
    assert "sed: can't read /etc/crio/crio.conf.d/02-crio.conf: No such file or directory" in again.stderr
    sim.write("/etc/crio/crio.conf.d/02-crio.conf", '[crio.image]\npause_image = "registry.k8s.io/pause:3.10.1"\n')
    # the seed's kubelet flag is gone since Kubernetes 1.24
    seed = run_stand_in(ctx, *argv, "--extra-config=kubelet.network-plugin=cni")
    assert seed.returncode == 109 and "unknown flag: --network-plugin" in seed.stderr
    assert_applied(minikube, ctx)
    await assert_verified(minikube, ctx)
    await assert_verified(ClusterCheck(), ctx)
    # the 2019 manifest cannot be applied to current Kubernetes
    sim.write("/root/kube-flannel-2019.yml", "---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\n"
                                             "metadata:\n  name: psp.flannel.unprivileged\n")
    old = run_stand_in(ctx, "kubectl", "apply", "-f", "/root/kube-flannel-2019.yml")
    assert old.returncode == 1
    assert 'no matches for kind "PodSecurityPolicy" in version "policy/v1beta1"' in old.stderr


async def test_cni_version_fault_until_the_conflist_is_fixed(simulated):
    ctx = simulated(faults=("cni-version",))
    assert_applied(Minikube(), ctx)
    assert_applied(Flannel(), ctx)
    checks = {check.name: check for check in failed(await Flannel().verify(ctx))}
    assert 'cannot convert version ["" "0.1.0" "0.2.0"] to 0.4.0' in checks["coredns Ready"].detail
    assert "failed to create pod network sandbox" in checks["coredns Ready"].detail
    assert "10-flannel.conflist has cniVersion 0.3.1" in checks
    conflist = ctx.host.path("/etc/cni/net.d/10-flannel.conflist")
    document = json.loads(conflist.read_text())
    document["cniVersion"] = "0.3.1"
    conflist.write_text(json.dumps(document))
    await assert_verified(Flannel(), ctx)


async def test_stray_conflist_fault_is_named_and_gone_once_removed(simulated):
    ctx = simulated(faults=("stray-conflist",))
    assert_applied(Minikube(), ctx)
    assert_applied(Flannel(), ctx)
    problems = failed(await Flannel().verify(ctx))
    shadowing = [check for check in problems if check.name.startswith("CRI-O uses 10-flannel.conflist")]
    assert shadowing and "/etc/cni/net.d/10-crio-bridge.conflist" in shadowing[0].detail
    assert any(check.detail.startswith("10.85.") for check in problems)
    ctx.host.path("/etc/cni/net.d/10-crio-bridge.conflist").unlink()
    assert_applied(Flannel(), ctx)  # the retry
    await assert_verified(Flannel(), ctx)
