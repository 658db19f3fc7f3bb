"""minikube: install it and start Kubernetes with the none driver on CRI-O (DOMAIN.md steps 10 and 12)."""

from __future__ import annotations

import asyncio
import os
import re

from wizard import mirrors
from wizard.actions import Action, Owned, RemoveFile, Run, Symlink, WriteFile
from wizard.answers import Answers
from wizard.steps import flannel
from wizard.steps.base import Check, Context, Step
from wizard.steps.kube import KUBECTL, MINIKUBE, MINIKUBE_POD_CIDR, cluster_pod_cidr, inside, kubectl_json, last_line
from wizard.steps.source_build import release_url

# what `minikube delete` (none driver) leaves behind: it removes only /var/tmp/minikube,
# /etc/kubernetes/manifests and /var/lib/minikube (DOMAIN.md section 13)
CNI_LEFTOVER_FILES = (
    "/etc/cni/net.d/1-k8s.conflist",  # minikube's bridge CNI
    f"{flannel.CNI_CONFIG_DIR}/{flannel.FLANNEL_CONFLIST_NAME}",
    flannel.SUBNET_ENV,
)
FLANNEL_LINKS = ("cni0", "flannel.1")
BRIDGE_CNI_LINK = "bridge"  # the device minikube's bridge CNI (scope cluster) creates
CNI_LEFTOVER_DIRS = ("/var/lib/cni/networks", "/run/flannel")
MINIKUBE_DIRS = ("/var/lib/minikube", "/etc/kubernetes/manifests", "/var/tmp/minikube")
STATUS_WANTED = {"host": "Running", "kubelet": "Running", "apiserver": "Running", "kubeconfig": "Configured"}


def cni_flags(answers: Answers) -> list[str]:
    """minikube's CNI flags for the scope and flannel style. The seed's `--network-plugin=cni` and
    `--extra-config=kubelet.network-plugin=cni` are never used: kubelet lost that flag in 1.24 and
    fails with `unknown flag: --network-plugin` (DOMAIN.md steps 10 and 12)."""
    if answers.scope != "cluster+flannel":
        return ["--cni=bridge"]
    pod_cidr_flag = f"--extra-config=kubeadm.pod-network-cidr={answers.pod_cidr}"
    if answers.get("flannel.style") == "apply-after-start":
        return ["--cni=false", pod_cidr_flag]
    if answers.pod_cidr == MINIKUBE_POD_CIDR and answers.get("flannel.backend") == "vxlan":
        # minikube's built-in flannel manifest: 10.244.0.0/16 with vxlan
        return ["--cni=flannel"]
    return [pod_cidr_flag, f"--cni={flannel.MANIFEST_PATH}"]


def uses_rendered_manifest(answers: Answers) -> bool:
    return f"--cni={flannel.MANIFEST_PATH}" in cni_flags(answers)


def proxy_env(answers: Answers) -> dict[str, str]:
    """The proxy answers as the variables minikube (and curl) read; minikube passes them on to the cluster."""
    names = {"HTTP_PROXY": "proxy.http", "HTTPS_PROXY": "proxy.https", "NO_PROXY": "proxy.no_proxy"}
    return {name: answers.get(key) for name, key in names.items() if answers.get(key)}


def start_argv(answers: Answers) -> list[str]:
    # --driver=none, not the seed's --vm-driver=none: that spelling is deprecated (DOMAIN.md step 10)
    return [MINIKUBE, "start", "--driver=none", "--container-runtime=cri-o",
            f"--kubernetes-version={answers.pins.kubernetes}", *cni_flags(answers), *mirrors.minikube_flags(answers)]


class Minikube(Step):
    id = "minikube"
    title = "minikube (none driver)"
    inputs = ("scope", "kubernetes", "pod_cidr", "flannel.style", "flannel.backend", "downloads.minikube",
              "proxy.http", "proxy.https", "proxy.no_proxy", "mirror")
    # runtime-check's pod must not meet minikube restarting crio; with --cni=flannel the flannel binary must be there
    after = ("crio-config", "crio-service", "crictl", "root-path", "cni-plugins", "runtime-check", "flannel-cni")
    scopes = ("cluster", "cluster+flannel")
    typical_seconds = 180.0

    def plan(self, ctx: Context) -> list[Action]:
        answers = ctx.answers
        pins = answers.pins
        env = proxy_env(answers)
        secrets = answers.secret_values()
        arch = ctx.host.facts.arch
        # downloaded into the work directory (named relative to it), then installed on the host
        download = f"minikube-{pins.minikube}-linux-{arch}"
        workdir = str(ctx.workdir)
        url = mirrors.download_url(answers, release_url(answers.get("downloads.minikube"), pins.minikube, arch))
        actions: list[Action] = [
            Run(("curl", "-fsSL", "-o", download, url), cwd=workdir, env=env, timeout=600, secret_values=secrets),
            Run(("install", "-m", "0755", download, MINIKUBE), cwd=workdir),
        ]
        if answers.scope == "cluster+flannel" and answers.get("flannel.style") == "minikube-cni":
            # minikube applies flannel while it starts: configs in its way must go first
            actions += [RemoveFile(path) for path in flannel.conflicting_conflists(ctx)]
        if uses_rendered_manifest(answers):
            actions.append(WriteFile(flannel.MANIFEST_PATH, flannel.manifest_for(answers)))
        actions.append(Run(tuple(start_argv(answers)), env=env, timeout=900, secret_values=secrets))
        # minikube keeps kubectl with the Kubernetes binaries; a relative link resolves the same on
        # a real host and inside the simulated host's sandbox
        kubectl_target = f"/var/lib/minikube/binaries/{pins.kubernetes}/kubectl"
        actions.append(Symlink(KUBECTL, os.path.relpath(kubectl_target, os.path.dirname(KUBECTL))))
        return actions

    async def detect(self, ctx: Context) -> bool:
        # without the binary the checks cannot pass: a fresh host needs no process start to find that out
        return ctx.executable(MINIKUBE) and await super().detect(ctx)

    async def verify(self, ctx: Context) -> list[Check]:
        # three independent questions to the cluster, asked side by side
        version, status, node = await asyncio.gather(self._version(ctx), self._status(ctx), self._node(ctx))
        return [version, status, *node]

    def owns(self, ctx: Context) -> Owned:
        files = [MINIKUBE, KUBECTL, *CNI_LEFTOVER_FILES]
        links = [BRIDGE_CNI_LINK] if ctx.answers.scope == "cluster" else list(FLANNEL_LINKS)
        if uses_rendered_manifest(ctx.answers) or (
                ctx.answers.scope == "cluster+flannel" and ctx.answers.get("flannel.style") == "apply-after-start"):
            files.append(flannel.MANIFEST_PATH)
        # kubelet: the none driver installs and enables its systemd unit
        return Owned(files=files, units=["kubelet"], links=links, dirs=[*CNI_LEFTOVER_DIRS, *MINIKUBE_DIRS])

    async def _version(self, ctx: Context) -> Check:
        wanted = ctx.answers.pins.minikube
        result = await ctx.probe([MINIKUBE, "version", "--short"])
        found = last_line(result.output)
        return Check(f"minikube version is {wanted}", result.exit_code == 0 and found == wanted, found)

    async def _status(self, ctx: Context) -> Check:
        result = await ctx.probe([MINIKUBE, "status"])
        seen = dict(re.findall(r"^(\w+): (\w+)\s*$", result.output, re.M))
        ok = all(seen.get(key) == value for key, value in STATUS_WANTED.items())
        detail = ", ".join(f"{key} {seen.get(key, '?')}" for key in STATUS_WANTED) if seen \
            else last_line(result.output)
        return Check("minikube status: host, kubelet, apiserver Running, kubeconfig Configured", ok, detail)

    async def _node(self, ctx: Context) -> list[Check]:
        nodes, problem = await kubectl_json(ctx, "get", "nodes")
        items = (nodes or {}).get("items", [])
        if not items:
            return [Check("kubectl get nodes lists the node", False, problem or "no nodes")]
        node = items[0]
        name = node.get("metadata", {}).get("name", "?")
        conditions = {c.get("type"): c for c in node.get("status", {}).get("conditions", [])}
        ready = conditions.get("Ready", {})
        runtime = node.get("status", {}).get("nodeInfo", {}).get("containerRuntimeVersion", "")
        pod_cidr = node.get("spec", {}).get("podCIDR", "")
        network = cluster_pod_cidr(ctx.answers)
        return [
            Check(f"node {name} Ready", ready.get("status") == "True",
                  ready.get("message", "") or f"Ready={ready.get('status', 'unknown')}"),
            Check("node runs on CRI-O", runtime.startswith("cri-o://"), runtime or "no containerRuntimeVersion"),
            Check(f"node podCIDR inside {network}", inside(pod_cidr, network), pod_cidr or "no podCIDR assigned"),
        ]
