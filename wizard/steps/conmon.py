"""conmon: the container monitor CRI-O starts every container under, from source (C) or a package."""

from __future__ import annotations

import re

from wizard.actions import Action, Owned, Run
from wizard.steps.base import Check, Context, Step
from wizard.steps.build_deps import package_install
from wizard.steps.source_build import (
    INSTALL_TIMEOUT,
    NETWORK_INPUTS,
    clone_source,
    first_line,
    make_prefix_argument,
    prefix_bin,
    release_version,
    source_dir,
    source_ref,
    version_matches,
)

TREE = "conmon"
PACKAGE_BINARY = "/usr/bin/conmon"
BUILD_TIMEOUT = 600.0  # about a second of C on a normal machine; a stuck build is stopped after this
_CONMON_VERSION = re.compile(r"^conmon version (\S+)", re.MULTILINE)


def conmon_binary(ctx: Context) -> str:
    # CRI-O finds conmon on its PATH (monitor_path is left empty), so any of these works for it
    return PACKAGE_BINARY if ctx.answers.get("install.conmon") == "package" else prefix_bin(ctx, "conmon")


class Conmon(Step):
    id = "conmon"
    title = "conmon"
    inputs = ("install.conmon", "install.prefix", "sources.conmon.url", "sources.conmon.ref", "workdir",
              *NETWORK_INPUTS)
    after = ("build-deps",)
    typical_seconds = 10.0

    def plan(self, ctx: Context) -> list[Action]:
        if ctx.answers.get("install.conmon") == "package":
            return [package_install(ctx, ["conmon"])]
        tree = str(source_dir(ctx, TREE))
        return [
            *clone_source(ctx, "conmon", TREE, ctx.answers.pins.conmon),
            Run(["make"], cwd=tree, timeout=BUILD_TIMEOUT),
            # install.bin only: the docs target needs go-md2man from the network
            Run(["make", "install.bin", make_prefix_argument(ctx)], cwd=tree, timeout=INSTALL_TIMEOUT),
        ]

    async def detect(self, ctx: Context) -> bool:
        # without the binary the checks cannot pass: a fresh host needs no process start to find that out
        return ctx.executable(conmon_binary(ctx)) and await super().detect(ctx)

    async def verify(self, ctx: Context) -> list[Check]:
        conmon = conmon_binary(ctx)
        result = await ctx.probe([conmon, "--version"])
        match = _CONMON_VERSION.search(result.output)
        seen = match.group(1) if result.exit_code == 0 and match else None
        if ctx.answers.get("install.conmon") == "package":
            return [Check("conmon --version answers", seen is not None, _detail(conmon, seen, result.output))]
        ref = source_ref(ctx, "conmon", ctx.answers.pins.conmon)
        wanted = release_version(ref) or ref
        ok = seen is not None and version_matches(seen, ref)
        return [Check(f"conmon --version shows {wanted}", ok, _detail(conmon, seen, result.output))]

    def owns(self, ctx: Context) -> Owned:
        if ctx.answers.get("install.conmon") == "package":
            return Owned()
        return Owned(files=[prefix_bin(ctx, "conmon")])


def _detail(program: str, seen: str | None, output: str) -> str:
    if seen:
        return f"{program}: conmon version {seen}"
    return first_line(output, program)
