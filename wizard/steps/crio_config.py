"""crio-config: crio.conf from crio's own defaults, the 02-crio.conf drop-in minikube edits, and policy.json."""

from __future__ import annotations

import json

from wizard import mirrors
from wizard.actions import Action, Owned, Run, WriteFile
from wizard.steps.base import Check, Context, Step

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

CRIO_CONF = "/etc/crio/crio.conf"
DROP_IN = "/etc/crio/crio.conf.d/02-crio.conf"
POLICY = "/etc/containers/policy.json"
# containers-common's default: accept any image (signature checks are a site decision, not the wizard's)
DEFAULT_POLICY = {
    "default": [{"type": "insecureAcceptAnything"}],
    "transports": {"docker-daemon": {"": [{"type": "insecureAcceptAnything"}]}},
}
# what crio gives its own default runtime handler, so conmon finds helpers the same way for runc
MONITOR_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# minikube's none driver rewrites every line containing "pause_image = " or "cgroup_manager = " with sed and
# deletes lines with "conmon_cgroup = ", so the header must not spell those out or sed would duplicate keys
DROP_IN_HEADER = """\
# Written by crio-wizard. minikube's none driver edits this file in place (pause image, cgroup
# driver), and fails when it is missing. Later files in /etc/crio/crio.conf.d/ override it.
"""


def toml_string(value: str) -> str:
    """A TOML basic string. JSON's escapes are valid TOML; TOML also forbids a raw DEL character."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: str | list[str]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_string(item) for item in value) + "]"
    return toml_string(value)


def cgroup_manager(ctx: Context) -> str:
    """The cgroup driver: the answer, or for `auto` systemd when PID 1 is systemd (else cgroupfs)."""
    chosen = ctx.answers.get("cgroup_manager")
    if chosen == "auto":
        return "systemd" if ctx.host.facts.systemd else "cgroupfs"
    return chosen


def pause_image(ctx: Context) -> str:
    return ctx.answers.get("pause_image") or ctx.answers.pins.pause_image


def drop_in_tables(ctx: Context) -> dict[str, dict[str, str | list[str]]]:
    """The drop-in's settings, table by table."""
    runtime = ctx.answers.get("oci_runtime")
    tables: dict[str, dict[str, str | list[str]]] = {
        "crio.image": {"pause_image": pause_image(ctx)},
        "crio.runtime": {
            "cgroup_manager": cgroup_manager(ctx),
            # "pod" is valid with both drivers; cgroupfs rejects crio's systemd default "system.slice"
            "conmon_cgroup": "pod",
            "default_runtime": runtime,
        },
    }
    if runtime == "runc":
        # crio's defaults define only the crun handler, and refuse a default_runtime without its table;
        # an empty runtime_path makes crio look runc up in $PATH
        tables["crio.runtime.runtimes.runc"] = {
            "runtime_path": "",
            "runtime_type": "oci",
            "runtime_root": "/run/runc",
            "monitor_env": [MONITOR_PATH],
        }
    return tables


def render_drop_in(tables: dict[str, dict[str, str | list[str]]]) -> str:
    sections = []
    for table, settings in tables.items():
        lines = [f"[{table}]"] + [f"{key} = {toml_value(value)}" for key, value in settings.items()]
        sections.append("\n".join(lines) + "\n")
    return DROP_IN_HEADER + "\n" + "\n".join(sections)


def render_policy() -> str:
    return json.dumps(DEFAULT_POLICY, indent=4) + "\n"


def _table(document: dict, dotted: str) -> dict:
    for part in dotted.split("."):
        document = document.get(part, {}) if isinstance(document, dict) else {}
    return document if isinstance(document, dict) else {}


class CrioConfig(Step):
    id = "crio-config"
    title = "CRI-O configuration"
    inputs = ("kubernetes", "pause_image", "cgroup_manager", "oci_runtime", "mirror")
    after = ("crio-build",)
    typical_seconds = 2.0

    def plan(self, ctx: Context) -> list[Action]:
        actions: list[Action] = [
            # the recipe's `crio config --default > /etc/crio/crio.conf`: still valid, changes go in drop-ins
            Run(["crio", "config", "--default"], stdout_to=CRIO_CONF),
            WriteFile(DROP_IN, render_drop_in(drop_in_tables(ctx))),
        ]
        # crio refuses to pull without a policy; containers-common usually ships one, and a site's own
        # policy (signature checks) must not be replaced, so it is written only when missing
        if not ctx.exists(POLICY):
            actions.append(WriteFile(POLICY, render_policy()))
        registry_mirrors = mirrors.registries_conf(ctx.answers)
        if registry_mirrors:
            # image pulls (the pause image, the cluster's images) try the mirror first
            actions.append(WriteFile(mirrors.REGISTRIES_CONF, registry_mirrors))
        return actions

    async def detect(self, ctx: Context) -> bool:
        # without crio.conf or the drop-in the checks cannot pass: no `crio config` is needed to find that out
        # (a fresh build installs crio.conf, not the drop-in)
        return ctx.exists(CRIO_CONF) and ctx.exists(DROP_IN) and await super().detect(ctx)

    async def verify(self, ctx: Context) -> list[Check]:
        checks = []
        crio_conf = ctx.read(CRIO_CONF) or ""
        checks.append(Check(f"{CRIO_CONF} holds crio's configuration", "[crio" in crio_conf,
                            f"{len(crio_conf.splitlines())} lines" if crio_conf else "missing or empty"))
        result = await ctx.probe(["crio", "config"])
        last_line = next((line for line in reversed(result.output.splitlines()) if line.strip()), "")
        checks.append(Check("crio config loads crio.conf and the drop-ins", result.exit_code == 0,
                            "loaded" if result.exit_code == 0 else f"exit code {result.exit_code}: {last_line}"))
        checks += self._drop_in_checks(ctx)
        checks.append(self._policy_check(ctx))
        return checks

    def _drop_in_checks(self, ctx: Context) -> list[Check]:
        text = ctx.read(DROP_IN)
        if text is None:
            return [Check(f"{DROP_IN} exists", False, "missing (minikube's none driver needs it)")]
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            return [Check(f"{DROP_IN} is valid TOML", False, str(error))]
        checks = []
        for table, settings in drop_in_tables(ctx).items():
            found = _table(document, table)
            for key, wanted in settings.items():
                seen = found.get(key)
                checks.append(Check(f"02-crio.conf sets {table}.{key} = {json.dumps(wanted)}", seen == wanted,
                                    f"found {json.dumps(seen)}" if key in found else "not set"))
        return checks

    def _policy_check(self, ctx: Context) -> Check:
        text = ctx.read(POLICY)
        if text is None:
            return Check(f"{POLICY} exists", False, "missing: crio cannot pull images without it")
        try:
            policy = json.loads(text)
        except json.JSONDecodeError as error:
            return Check(f"{POLICY} is valid JSON", False, str(error))
        default = policy.get("default") if isinstance(policy, dict) else None
        return Check(f"{POLICY} has a default policy", isinstance(default, list) and bool(default),
                     json.dumps(default) if default else "no \"default\" entry")

    def owns(self, ctx: Context) -> Owned:
        files = [CRIO_CONF, DROP_IN]
        if mirrors.registries_conf(ctx.answers):
            files.append(mirrors.REGISTRIES_CONF)
        # policy.json is the wizard's only when it is exactly what this step writes (else a package shipped it)
        if ctx.read(POLICY) == render_policy():
            files.append(POLICY)
        return Owned(files=files)
