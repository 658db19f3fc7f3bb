"""Step cni-config: a bridge network for pods before any cluster CNI, checked against the plugins first."""

from __future__ import annotations

import json

from wizard import cni
from wizard.actions import Action, Owned, WriteFile
from wizard.steps.base import Check, Context, PlanRefused, Step

SUPPORTED_NOTE = "cni_supported_versions"


async def supported_versions(ctx: Context, plugin: str = "bridge") -> list[str]:
    """Ask the installed plugin which CNI spec versions it accepts (CNI_COMMAND=VERSION)."""
    result = await ctx.probe([f"{cni.PLUGIN_DIR}/{plugin}"], env={"CNI_COMMAND": "VERSION"})
    if result.exit_code != 0:
        raise PlanRefused(f"{cni.PLUGIN_DIR}/{plugin} did not answer CNI_COMMAND=VERSION "
                          f"(exit {result.exit_code}): {result.output.strip()[:200]}")
    try:
        return cni.parse_version_result(result.output)
    except ValueError as error:
        raise PlanRefused(str(error)) from None


class CniConfig(Step):
    id = "cni-config"
    title = "Write a CNI bridge network for pods"
    after = ("cni-plugins",)
    typical_seconds = 1.0

    def cni_version(self, ctx: Context) -> str:
        return ctx.answers.pins.cni_version

    async def prepare(self, ctx: Context) -> None:
        # the recipe's "cannot convert version" error came from a conflist the plugins could not read:
        # ask them first and refuse to write such a file
        supported = await supported_versions(ctx)
        try:
            cni.require_supported(self.cni_version(ctx), supported)
        except cni.UnsupportedCniVersion as error:
            raise PlanRefused(str(error)) from None
        ctx.notes[SUPPORTED_NOTE] = supported

    def plan(self, ctx: Context) -> list[Action]:
        return [WriteFile(cni.BRIDGE_CONFLIST, cni.bridge_conflist(self.cni_version(ctx)))]

    async def verify(self, ctx: Context) -> list[Check]:
        text = ctx.read(cni.BRIDGE_CONFLIST)
        if text is None:
            return [Check(f"{cni.BRIDGE_CONFLIST} exists", False, "missing")]
        try:
            document = json.loads(text)
        except ValueError as error:
            return [Check(f"{cni.BRIDGE_CONFLIST} is valid JSON", False, str(error))]
        version = document.get("cniVersion", "")
        checks = [Check(f"{cni.BRIDGE_CONFLIST} is valid JSON", True, f"cniVersion {version}")]
        try:
            supported = await supported_versions(ctx)
        except PlanRefused as error:
            supported, seen = [], str(error)
        else:
            seen = "supports " + ", ".join(supported)
        checks.append(Check(f'the bridge plugin supports cniVersion "{version}"', version in supported, seen))
        return checks

    def owns(self, ctx: Context) -> Owned:
        return Owned(files=[cni.BRIDGE_CONFLIST], links=[cni.BRIDGE_NAME])
