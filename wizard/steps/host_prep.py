"""host-prep: the kernel modules and sysctls CRI-O and pod networking need, now and after a reboot."""

from __future__ import annotations

from wizard.actions import Action, Owned, Run, WriteFile
from wizard.steps.base import Check, Context, Step

MODULES_FILE = "/etc/modules-load.d/crio-wizard.conf"
SYSCTL_FILE = "/etc/sysctl.d/99-crio-wizard.conf"
MODULES_LIST = "/proc/modules"  # the loaded modules, as lsmod shows them
# bridged pod traffic must pass iptables (kube-proxy's rules), and the node must route pod traffic
SYSCTLS = {
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
    "net.ipv4.ip_forward": "1",
}


def required_modules(ctx: Context) -> list[str]:
    """overlay for container storage, br_netfilter for the bridge sysctls, vxlan for flannel's default backend."""
    modules = ["overlay", "br_netfilter"]
    if ctx.answers.scope == "cluster+flannel" and ctx.answers.get("flannel.backend") == "vxlan":
        modules.append("vxlan")
    return modules


class HostPrep(Step):
    id = "host-prep"
    title = "Kernel modules and sysctls"
    inputs = ("scope", "flannel.backend")
    typical_seconds = 2.0

    def plan(self, ctx: Context) -> list[Action]:
        modules = required_modules(ctx)
        # br_netfilter must be loaded before `sysctl --system`: it creates the net.bridge.* keys
        actions: list[Action] = [Run(["modprobe", module]) for module in modules]
        actions.append(WriteFile(MODULES_FILE, "".join(f"{module}\n" for module in modules)))
        sysctl_lines = "".join(f"{key} = {value}\n" for key, value in SYSCTLS.items())
        actions.append(WriteFile(SYSCTL_FILE, "# Written by crio-wizard for CRI-O and Kubernetes networking.\n"
                                              + sysctl_lines))
        actions.append(Run(["sysctl", "--system"]))
        return actions

    async def verify(self, ctx: Context) -> list[Check]:
        # what `sysctl -n` and `lsmod` print, read where they read it: no process to start per check
        checks = []
        for key, wanted in SYSCTLS.items():
            value = ctx.read("/proc/sys/" + key.replace(".", "/"))
            seen = value.strip() if value is not None else None
            checks.append(Check(f"sysctl {key} = {wanted}", seen == wanted,
                                seen if seen is not None else "no such key (is br_netfilter loaded?)"))
        modules = ctx.read(MODULES_LIST)
        loaded = {line.split()[0] for line in (modules or "").splitlines() if line.strip()}
        for module in required_modules(ctx):
            if modules is None:
                detail = f"{MODULES_LIST} is not readable"
            else:
                detail = f"listed in {MODULES_LIST}" if module in loaded else f"not listed in {MODULES_LIST}"
            checks.append(Check(f"kernel module {module} is loaded", module in loaded, detail))
        return checks

    def owns(self, ctx: Context) -> Owned:
        return Owned(files=[MODULES_FILE, SYSCTL_FILE])
