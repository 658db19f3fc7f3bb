"""crio-build: CRI-O from source (the recipe's clone + make, with offline-friendly targets) or a package."""

from __future__ import annotations

import re

from wizard.actions import Action, Owned, Run
from wizard.answers import Answers
from wizard.steps.base import Check, Context
from wizard.steps.build_deps import package_install
from wizard.steps.source_build import (
    GO_BUILD_INPUTS,
    GO_BUILD_TIMEOUT,
    INSTALL_TIMEOUT,
    GoSourceStep,
    clone_source,
    first_line,
    go_env,
    install_prefix,
    make_prefix_argument,
    prefix_bin,
    release_version,
    source_dir,
)

TREE = "cri-o"
PACKAGE_BIN = "/usr/bin"  # where the cri-o package puts crio and pinns
_CRIO_VERSION = re.compile(r"^crio version (\S+)", re.MULTILINE)


def crio_ref(answers: Answers) -> str:
    return answers.get("sources.crio.ref") or answers.pins.crio


def wanted_crio_version(answers: Answers) -> str:
    """What crio should report: "1.35.6" for a release tag built from source, "1.35.x" for a package."""
    if answers.get("install.crio") == "package":
        return f"{answers.pins.kubernetes_minor}.x"
    ref = crio_ref(answers)
    return release_version(ref) or ref


def crio_version_ok(seen: str | None, answers: Answers) -> bool:
    """Is `seen` (as crio --version or crictl's RuntimeVersion prints it) the CRI-O this run installs?"""
    if not seen:
        return False
    wanted = wanted_crio_version(answers)
    if wanted.endswith(".x"):
        return seen.startswith(wanted[:-1])  # a package: the Kubernetes minor is what must match
    if release_version(crio_ref(answers)) is None:
        return True  # a branch or commit was built: its version cannot be known in advance
    return seen.removeprefix("v").split("-")[0] == wanted


def crio_binary(ctx: Context) -> str:
    if ctx.answers.get("install.crio") == "package":
        return f"{PACKAGE_BIN}/crio"
    return prefix_bin(ctx, "crio")


class CrioBuild(GoSourceStep):
    id = "crio-build"
    method_answer = "install.crio"
    title = "CRI-O"
    inputs = ("install.crio", "install.prefix", "sources.crio.url", "sources.crio.ref", *GO_BUILD_INPUTS)
    after = ("build-deps", "go-toolchain")
    typical_seconds = 150.0

    def plan(self, ctx: Context) -> list[Action]:
        if ctx.answers.get("install.crio") == "package":
            # The cri-o packages live in the openSUSE build service project isv:cri-o; the wizard does not
            # add that repository, so without it the package manager says plainly that cri-o is not found.
            return [package_install(ctx, ["cri-o"])]
        tree = str(source_dir(ctx, TREE))
        build_env = go_env(ctx)
        return [
            *clone_source(ctx, "crio", TREE, ctx.answers.pins.crio),
            # not plain `make`: its `docs` target builds go-md2man, which needs the network, so build
            # only the binaries and the generated crio.conf (both from vendored sources)
            Run(["make", "binaries", "crio.conf"], cwd=tree, env=build_env, timeout=GO_BUILD_TIMEOUT),
            # the -nobuild install targets do not rebuild; install.systemd puts the units under PREFIX.
            # No man pages: `make install` would build them with go-md2man from the network.
            Run(["make", "install.bin-nobuild", "install.config-nobuild", "install.systemd",
                 make_prefix_argument(ctx)], cwd=tree, env=build_env, timeout=INSTALL_TIMEOUT),
        ]

    async def detect(self, ctx: Context) -> bool:
        # without the binary the checks cannot pass: a fresh host needs no process start to find that out
        return ctx.executable(crio_binary(ctx)) and await super().detect(ctx)

    async def verify(self, ctx: Context) -> list[Check]:
        crio = crio_binary(ctx)
        result = await ctx.probe([crio, "--version"])
        match = _CRIO_VERSION.search(result.output)
        seen = match.group(1) if result.exit_code == 0 and match else None
        wanted = wanted_crio_version(ctx.answers)
        version_detail = f"{crio}: crio version {seen}" if seen else first_line(result.output, crio)
        pinns = crio_binary(ctx).removesuffix("/crio") + "/pinns"
        pinns_ok = ctx.executable(pinns)
        return [
            Check(f"crio --version shows {wanted}", crio_version_ok(seen, ctx.answers), version_detail),
            Check("pinns is installed", pinns_ok, pinns if pinns_ok else f"{pinns} is missing"),
        ]

    def owns(self, ctx: Context) -> Owned:
        if ctx.answers.get("install.crio") == "package":
            return Owned()  # the package manager owns what a package installed
        prefix = install_prefix(ctx)
        return Owned(files=[
            prefix_bin(ctx, "crio"),
            prefix_bin(ctx, "pinns"),
            f"{prefix}/lib/systemd/system/crio.service",
            f"{prefix}/lib/systemd/system/crio-wipe.service",
            f"{prefix}/share/oci-umount/oci-umount.d/crio-umount.conf",
            "/etc/crio/crio.conf",
            "/etc/crictl.yaml",
        ])

