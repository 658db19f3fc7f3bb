"""flannel-cni: the flannel CNI plugin in /opt/cni/bin (it left containernetworking/plugins in v1.0.0)."""

from __future__ import annotations

from wizard.actions import Action, Owned, Run
from wizard.steps.base import Check, Context
from wizard.steps.cni_plugins import CNI_BIN, supported_cni_versions
from wizard.steps.source_build import (
    GO_BUILD_INPUTS,
    GO_BUILD_TIMEOUT,
    INSTALL_TIMEOUT,
    GoSourceStep,
    clone_source,
    download_action,
    go_env,
    network_env,
    release_url,
    source_dir,
    source_ref,
)

TREE = "flannel-cni-plugin"
FLANNEL = f"{CNI_BIN}/flannel"


class FlannelCni(GoSourceStep):
    id = "flannel-cni"
    method_answer = "install.flannel_cni"
    title = "flannel CNI plugin"
    scopes = ("cluster+flannel",)
    inputs = ("install.flannel_cni", "sources.flannel_cni.url", "sources.flannel_cni.ref", "downloads.flannel_cni",
              *GO_BUILD_INPUTS)
    after = ("cni-plugins", "go-toolchain")
    typical_seconds = 40.0

    def plan(self, ctx: Context) -> list[Action]:
        method = ctx.answers.get("install.flannel_cni")
        if method == "daemonset":
            return []  # the kube-flannel DaemonSet's init container copies its own binary into /opt/cni/bin
        ref = source_ref(ctx, "flannel_cni", ctx.answers.pins.flannel_cni)
        arch = ctx.host.facts.arch
        if method == "release":
            binary = f"flannel-{arch}"
            return [
                download_action(ctx, release_url(ctx.answers.get("downloads.flannel_cni"), ref, arch), binary),
                Run(["install", "-D", "-m", "0755", binary, FLANNEL], cwd=str(ctx.workdir), timeout=INSTALL_TIMEOUT),
            ]
        tree = str(source_dir(ctx, TREE))
        # Unlike CRI-O and the CNI plugins, this repository has no vendor/ directory: `make build_linux`
        # runs `go mod vendor` and downloads modules, so it needs a reachable Go proxy (go.proxy or the mirror's
        # go_proxy -> GOPROXY, e.g. https://goproxy.cn,direct) and the proxy answers.
        build_env = {**network_env(ctx), **go_env(ctx)}
        return [
            *clone_source(ctx, "flannel_cni", TREE, ctx.answers.pins.flannel_cni),
            Run(["make", "build_linux", f"ARCH={arch}"], cwd=tree, env=build_env, timeout=GO_BUILD_TIMEOUT,
                secret_values=ctx.answers.secret_values()),
            Run(["install", "-D", "-m", "0755", f"dist/flannel-{arch}", FLANNEL], cwd=tree, timeout=INSTALL_TIMEOUT),
        ]

    async def verify(self, ctx: Context) -> list[Check]:
        if ctx.answers.get("install.flannel_cni") == "daemonset":
            return [Check("flannel CNI plugin: nothing to check yet", True,
                          "install.flannel_cni is daemonset: the kube-flannel DaemonSet's init container copies "
                          f"it to {FLANNEL} when flannel starts")]
        present = ctx.executable(FLANNEL)
        checks = [Check(f"{FLANNEL} is executable", present, "present" if present else "missing")]
        if present:
            versions = await supported_cni_versions(ctx, "flannel")
            detail = "supports " + ", ".join(versions) if versions else "no supportedVersions in its answer"
            checks.append(Check("flannel answers CNI_COMMAND=VERSION", bool(versions), detail))
        return checks

    def owns(self, ctx: Context) -> Owned:
        if ctx.answers.get("install.flannel_cni") == "daemonset":
            return Owned()
        return Owned(files=[FLANNEL])
