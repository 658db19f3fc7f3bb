"""go-toolchain: a Go new enough for the CRI-O tag's go.mod: the go on PATH, or the pinned release."""

from __future__ import annotations

import asyncio

from wizard.actions import Action, Owned, Run
from wizard.pins import version_at_least
from wizard.steps.base import Check, Context, Step
from wizard.steps.source_build import (
    GO_BIN_DIR,
    GO_ROOT,
    INSTALL_TIMEOUT,
    NETWORK_INPUTS,
    choose_go,
    download_action,
    go_needed,
    go_version,
    release_url,
)


def _seen(version: str | None, where: str) -> str:
    return f"go{version} at {where}" if version else f"no working go at {where}"


class GoToolchain(Step):
    id = "go-toolchain"
    title = "Go toolchain"
    inputs = ("go.toolchain", "kubernetes", "downloads.go", "install.crio", "install.cni_plugins",
              "install.crictl", "install.flannel_cni", "scope", *NETWORK_INPUTS)
    after = ("build-deps",)
    typical_seconds = 40.0

    def applies(self, ctx: Context) -> bool:
        return super().applies(ctx) and go_needed(ctx.answers)

    async def prepare(self, ctx: Context) -> None:
        await choose_go(ctx)

    def plan(self, ctx: Context) -> list[Action]:
        if ctx.answers.get("go.toolchain") == "path":
            return []  # only the go on PATH may be used; verify says whether it is new enough
        if ctx.answers.get("go.toolchain") == "auto" and ctx.notes.get("go_toolchain") == "path":
            return []  # the go on PATH is new enough for this CRI-O tag
        pin = ctx.answers.pins.go_pin
        arch = ctx.host.facts.arch
        archive = f"go{pin}.linux-{arch}.tar.gz"
        return [
            download_action(ctx, release_url(ctx.answers.get("downloads.go"), pin, arch), archive),
            # unpacking over an older release would mix two standard libraries in one GOROOT
            Run(["rm", "-rf", GO_ROOT]),
            Run(["tar", "-C", "/usr/local", "-xzf", archive], cwd=str(ctx.workdir), timeout=INSTALL_TIMEOUT),
        ]

    async def verify(self, ctx: Context) -> list[Check]:
        """Checks the go the builds will use, and notes which one that is (for go_env)."""
        mode = ctx.answers.get("go.toolchain")
        pins = ctx.answers.pins
        needed = f"the go line of CRI-O {pins.crio}'s go.mod"
        downloaded_go = f"{GO_BIN_DIR}/go"
        if mode == "download":
            ctx.notes["go_toolchain"] = "download"
            seen = await go_version(ctx, downloaded_go)
            return [Check(f"Go {pins.go_pin} (pinned) is in {GO_ROOT}", seen == pins.go_pin,
                          _seen(seen, downloaded_go))]
        if mode == "path":
            on_path, seen = await go_version(ctx, "go"), None
        else:  # auto: either go may be the one, so both are asked, side by side (a missing one is not started)
            on_path, seen = await asyncio.gather(go_version(ctx, "go"), go_version(ctx, downloaded_go))
        path_is_good = on_path is not None and version_at_least(on_path, pins.go_min)
        if mode == "path" or path_is_good:
            ctx.notes["go_toolchain"] = "path"
            detail = _seen(on_path, "PATH")
            if on_path and not path_is_good:
                detail += f", older than {pins.go_min} ({needed}); choose go.toolchain auto or download"
            return [Check(f"go on PATH is >= {pins.go_min} with GOTOOLCHAIN=local", path_is_good, detail)]
        ctx.notes["go_toolchain"] = "download"
        ok = seen is not None and version_at_least(seen, pins.go_min)
        detail = _seen(seen, downloaded_go) + f"; {_seen(on_path, 'PATH')}"
        if on_path:
            detail += f" is older than {pins.go_min} ({needed})"
        return [Check(f"go in {GO_ROOT} is >= {pins.go_min} with GOTOOLCHAIN=local", ok, detail)]

    def owns(self, ctx: Context) -> Owned:
        if ctx.answers.get("go.toolchain") == "path":
            return Owned()
        return Owned(dirs=[GO_ROOT])
