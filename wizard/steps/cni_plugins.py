"""cni-plugins: the CNI plugins CRI-O and flannel call, in /opt/cni/bin (from source, a release or a package)."""

from __future__ import annotations

import re

from wizard import cni
from wizard.actions import Action, Owned, Run, Symlink
from wizard.pins import version_at_least
from wizard.steps.base import Check, Context
from wizard.steps.build_deps import package_install
from wizard.steps.source_build import (
    GO_BUILD_INPUTS,
    GO_BUILD_TIMEOUT,
    INSTALL_TIMEOUT,
    GoSourceStep,
    clone_source,
    download_action,
    go_env,
    release_url,
    release_version,
    source_dir,
    source_ref,
)

CNI_BIN = cni.PLUGIN_DIR
TREE = "cni-plugins"
REQUIRED = ("bridge", "host-local", "loopback", "portmap")  # what CRI-O's bridge and flannel's conflist call
# What ./build_linux.sh builds (plugins/meta/*, plugins/main/*, plugins/ipam/*), in its order. The v0.x line
# (the recipe's v0.8.1) still had flannel, which moved to flannel-io/cni-plugin in v1.0.0.
PLUGINS_V0 = ("bandwidth", "firewall", "flannel", "portmap", "sbr", "tuning", "bridge", "host-device", "ipvlan",
              "loopback", "macvlan", "ptp", "vlan", "dhcp", "host-local", "static")
PLUGINS_V1 = ("bandwidth", "firewall", "portmap", "sbr", "tuning", "vrf", "bridge", "host-device", "ipvlan",
              "loopback", "macvlan", "ptp", "vlan", "dhcp", "host-local", "static")
PLUGINS_CURRENT = ("bandwidth", "firewall", "portmap", "sbr", "tuning", "vrf", "bridge", "dummy", "host-device",
                   "ipvlan", "loopback", "macvlan", "ptp", "tap", "vlan", "dhcp", "host-local", "static")
CURRENT_SINCE = "1.4.0"  # dummy and tap are built from here on
# the distro package installs the plugins outside /opt/cni/bin, where CRI-O and flannel look
PACKAGE_DIR = {"apt": cni.DEBIAN_PLUGIN_DIR, "dnf": "/usr/libexec/cni"}


def is_gopath_era(ref: str) -> bool:
    """v0.x (the recipe's v0.8.1) has no go.mod and builds only in GOPATH mode."""
    return re.match(r"v0\.", ref) is not None


def built_plugins(ref: str) -> tuple[str, ...]:
    """The plugins ./build_linux.sh produces at `ref` (a branch or commit is taken to be current)."""
    if is_gopath_era(ref):
        return PLUGINS_V0
    version = release_version(ref)
    if version and not version_at_least(version, CURRENT_SINCE):
        return PLUGINS_V1
    return PLUGINS_CURRENT


def cni_ref(ctx: Context) -> str:
    return source_ref(ctx, "cni_plugins", ctx.answers.pins.cni_plugins)


async def supported_cni_versions(ctx: Context, plugin: str = "bridge") -> list[str]:
    """The CNI spec versions /opt/cni/bin/<plugin> supports (CNI_COMMAND=VERSION); [] when it does not answer."""
    result = await ctx.probe([f"{CNI_BIN}/{plugin}"], env={"CNI_COMMAND": "VERSION"})
    if result.exit_code != 0:
        return []
    try:
        return cni.parse_version_result(result.output)
    except ValueError:
        return []


class CniPlugins(GoSourceStep):
    id = "cni-plugins"
    method_answer = "install.cni_plugins"
    title = "CNI plugins"
    inputs = ("install.cni_plugins", "sources.cni_plugins.url", "sources.cni_plugins.ref", "downloads.cni_plugins",
              *GO_BUILD_INPUTS)
    after = ("build-deps", "go-toolchain")
    typical_seconds = 30.0

    def plan(self, ctx: Context) -> list[Action]:
        method = ctx.answers.get("install.cni_plugins")
        if method == "package":
            package_dir = PACKAGE_DIR[ctx.host.facts.package_manager]
            links: list[Action] = [Symlink(f"{CNI_BIN}/{name}", f"{package_dir}/{name}") for name in REQUIRED]
            return [package_install(ctx, ["containernetworking-plugins"]), *links]
        ref = cni_ref(ctx)
        if method == "release":
            arch = ctx.host.facts.arch
            archive = f"cni-plugins-linux-{arch}-{ref}.tgz"
            return [
                download_action(ctx, release_url(ctx.answers.get("downloads.cni_plugins"), ref, arch), archive),
                Run(["install", "-d", "-m", "0755", CNI_BIN]),
                Run(["tar", "-C", CNI_BIN, "-xzf", archive], cwd=str(ctx.workdir), timeout=INSTALL_TIMEOUT),
            ]
        tree = str(source_dir(ctx, TREE))
        build_env = go_env(ctx)
        if is_gopath_era(ref):
            # No go.mod before v1: modern Go stops with `go: go.mod file not found`. In GOPATH mode the
            # script links the tree into its own gopath/src/github.com/containernetworking/plugins and
            # builds from the vendor/ directory, so no network is needed.
            build_env["GO111MODULE"] = "off"
        built = [f"bin/{name}" for name in built_plugins(ref)]
        return [
            *clone_source(ctx, "cni_plugins", TREE, ctx.answers.pins.cni_plugins),
            Run(["./build_linux.sh"], cwd=tree, env=build_env, timeout=GO_BUILD_TIMEOUT),
            # the recipe's `cp bin/* /opt/cni/bin/`, with the names spelled out (argv, no shell glob)
            Run(["install", "-D", "-m", "0755", "-t", CNI_BIN, *built], cwd=tree, timeout=INSTALL_TIMEOUT),
        ]

    async def detect(self, ctx: Context) -> bool:
        # without the plugins the checks cannot pass: a fresh host needs no process start to find that out
        return all(ctx.executable(f"{CNI_BIN}/{name}") for name in REQUIRED) and await super().detect(ctx)

    async def verify(self, ctx: Context) -> list[Check]:
        checks = []
        for name in REQUIRED:
            path = f"{CNI_BIN}/{name}"
            present = ctx.executable(path)
            checks.append(Check(f"{path} is executable", present, "present" if present else "missing"))
        versions = await supported_cni_versions(ctx)
        detail = "supports " + ", ".join(versions) if versions else "no supportedVersions in its answer"
        checks.append(Check("bridge answers CNI_COMMAND=VERSION", bool(versions), detail))
        return checks

    def owns(self, ctx: Context) -> Owned:
        method = ctx.answers.get("install.cni_plugins")
        if method == "package":
            return Owned(files=[f"{CNI_BIN}/{name}" for name in REQUIRED])
        names = list(built_plugins(cni_ref(ctx)))
        if method == "release":
            names += ["LICENSE", "README.md"]  # the release tarball carries them next to the plugins
        return Owned(files=[f"{CNI_BIN}/{name}" for name in names])
