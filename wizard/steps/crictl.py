"""crictl: the CRI command line client (release file or source build) and /etc/crictl.yaml."""

from __future__ import annotations

import re

import yaml

from wizard.actions import Action, Owned, Run, WriteFile
from wizard.steps.base import Check, Context
from wizard.steps.crio_build import crio_version_ok, wanted_crio_version
from wizard.steps.source_build import (
    GO_BUILD_INPUTS,
    GO_BUILD_TIMEOUT,
    INSTALL_TIMEOUT,
    GoSourceStep,
    clone_source,
    download_action,
    go_env,
    install_prefix,
    prefix_bin,
    release_url,
    source_dir,
    source_ref,
)

CRIO_ENDPOINT = "unix:///var/run/crio/crio.sock"
CRICTL_YAML = "/etc/crictl.yaml"
# Without this file crictl tries containerd's socket first and warns that default endpoints are deprecated.
CRICTL_CONFIG = f"runtime-endpoint: {CRIO_ENDPOINT}\nimage-endpoint: {CRIO_ENDPOINT}\ntimeout: 10\n"
TREE = "cri-tools"
_FIELD = re.compile(r"^(\w+):\s+(\S+)\s*$", re.MULTILINE)


class Crictl(GoSourceStep):
    id = "crictl"
    method_answer = "install.crictl"
    title = "crictl"
    inputs = ("install.crictl", "install.prefix", "sources.cri_tools.url", "sources.cri_tools.ref",
              "downloads.crictl", *GO_BUILD_INPUTS)
    after = ("crio-service",)
    typical_seconds = 15.0

    def plan(self, ctx: Context) -> list[Action]:
        # crictl follows the Kubernetes minor, like CRI-O
        ref = source_ref(ctx, "cri_tools", ctx.answers.pins.crictl)
        arch = ctx.host.facts.arch
        config = WriteFile(CRICTL_YAML, CRICTL_CONFIG)
        if ctx.answers.get("install.crictl") == "release":
            archive = f"crictl-{ref}-linux-{arch}.tar.gz"
            bin_dir = f"{install_prefix(ctx)}/bin"
            return [
                download_action(ctx, release_url(ctx.answers.get("downloads.crictl"), ref, arch), archive),
                Run(["install", "-d", "-m", "0755", bin_dir]),
                Run(["tar", "-C", bin_dir, "-xzf", archive], cwd=str(ctx.workdir), timeout=INSTALL_TIMEOUT),
                config,
            ]
        # The recipe's `go get github.com/kubernetes-sigs/cri-tools/cmd/crictl` fails since Go 1.18 ('go get'
        # is no longer supported outside a module). cri-tools vendors its modules, so `make crictl` builds offline.
        tree = str(source_dir(ctx, TREE))
        return [
            *clone_source(ctx, "cri_tools", TREE, ctx.answers.pins.crictl),
            Run(["make", "crictl"], cwd=tree, env=go_env(ctx), timeout=GO_BUILD_TIMEOUT),
            Run(["install", "-D", "-m", "0755", f"build/bin/linux/{arch}/crictl", prefix_bin(ctx, "crictl")],
                cwd=tree, timeout=INSTALL_TIMEOUT),
            config,
        ]

    async def detect(self, ctx: Context) -> bool:
        # without the binary the checks cannot pass: a fresh host needs no process start to find that out
        return ctx.executable(prefix_bin(ctx, "crictl")) and await super().detect(ctx)

    async def verify(self, ctx: Context) -> list[Check]:
        crictl = prefix_bin(ctx, "crictl")
        result = await ctx.probe([crictl, "--runtime-endpoint", CRIO_ENDPOINT, "version"])
        fields = dict(_FIELD.findall(result.output)) if result.exit_code == 0 else {}
        failure = _last_line(result.output, crictl) if not fields else ""
        name = fields.get("RuntimeName")
        version = fields.get("RuntimeVersion")
        api = fields.get("RuntimeApiVersion")
        wanted = wanted_crio_version(ctx.answers)
        return [
            Check("crictl version reaches cri-o", name == "cri-o", f"RuntimeName: {name}" if name else failure),
            Check(f"the runtime is CRI-O {wanted}", crio_version_ok(version, ctx.answers),
                  f"RuntimeVersion: {version}" if version else failure),
            # the recipe shows v1alpha1; kubelets since 1.26 speak only v1
            Check("the CRI API is v1", api == "v1", f"RuntimeApiVersion: {api}" if api else failure),
            self._config_check(ctx),
        ]

    def _config_check(self, ctx: Context) -> Check:
        text = ctx.read(CRICTL_YAML)
        name = f"{CRICTL_YAML} points at crio.sock"
        if text is None:
            return Check(name, False, "missing")
        try:
            config = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            return Check(name, False, f"not valid YAML: {str(error).splitlines()[0]}")
        if not isinstance(config, dict):
            return Check(name, False, "not a mapping of settings")
        wrong = [f"{key}: {config.get(key)}" for key in ("runtime-endpoint", "image-endpoint")
                 if config.get(key) != CRIO_ENDPOINT]
        return Check(name, not wrong, "; ".join(wrong) or f"both endpoints {CRIO_ENDPOINT}")

    def owns(self, ctx: Context) -> Owned:
        return Owned(files=[prefix_bin(ctx, "crictl"), CRICTL_YAML])


def _last_line(output: str, program: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else f"{program} printed nothing"
