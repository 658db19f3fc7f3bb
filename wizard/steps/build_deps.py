"""build-deps: the recipe's yum list, mapped to today's package names on each distro (DOMAIN.md section 2)."""

from __future__ import annotations

import asyncio
import re

from wizard import mirrors
from wizard.actions import Action, Owned, Run, WriteFile
from wizard.answers import Answers
from wizard.host import HostFacts
from wizard.steps.base import Check, Context, Step
from wizard.steps.source_build import NETWORK_INPUTS, find_on_path, go_needed, network_env

# The recipe's list under today's names on Fedora and EL 8-10. device-mapper-devel is left out (CRI-O
# dropped devicemapper in 1.33); the recipe's runc became crun + runc (crun is CRI-O's default since 1.31).
DNF_PACKAGES = (
    "containers-common",  # /etc/containers/policy.json and registries.conf
    "git",
    "glib2-devel",  # conmon
    "glibc-devel",
    "glibc-static",  # pinns links statically; on EL it is in CRB / PowerTools
    "gpgme-devel",  # on EL it is in CRB / PowerTools
    "libassuan-devel",
    "libgpg-error-devel",
    "libseccomp-devel",
    "libselinux-devel",
    "pkgconf-pkg-config",
    "crun",
    "runc",
    "make",  # make, gcc and the systemd headers are not in the recipe: minimal hosts lack them
    "gcc",
    "systemd-devel",
    "conntrack-tools",  # minikube's none driver refuses to start without conntrack in root's PATH
    "iproute",
    "iptables-nft",
)
APT_PACKAGES = (
    "golang-github-containers-common",  # Debian splits containers-common: policy.json here,
    "golang-github-containers-image",  # registries.conf here
    "git",
    "libglib2.0-dev",
    "libc6-dev",  # also carries the static libc pinns links against
    "libgpgme-dev",
    "libassuan-dev",
    "libgpg-error-dev",
    "libseccomp-dev",
    "libselinux1-dev",
    "libbtrfs-dev",  # optional: without it the build adds exclude_graphdriver_btrfs
    "pkg-config",
    "crun",
    "runc",
    "make",
    "gcc",
    "libsystemd-dev",
    "conntrack",
    "iproute2",
    "iptables",
    "ca-certificates",  # minimal Debian/Ubuntu images lack curl and the CA bundle the downloads need
    "curl",
)
FEDORA_ONLY = ("btrfs-progs-devel",)  # EL 8+ dropped btrfs; optional like libbtrfs-dev
GO_PACKAGE = {"dnf": "golang", "apt": "golang-go"}
PKG_CONFIG_MODULES = ("gpgme", "glib-2.0", "libseccomp")  # what the CRI-O and conmon builds ask pkg-config for
RUNTIME_PROGRAMS = ("runc", "crun", "conntrack")
PACKAGE_TIMEOUT = 1800.0
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}  # no debconf questions in the middle of a run


def package_plan(facts: HostFacts, answers: Answers) -> list[str]:
    """The distro package names build-deps installs on this host."""
    if facts.package_manager == "apt":
        names = list(APT_PACKAGES)
    else:
        names = list(DNF_PACKAGES)
        if facts.family == "fedora":
            names = list(FEDORA_ONLY) + names
    # the distro's Go is only a candidate when the go-toolchain step may reuse it (often too old anyway)
    if answers.get("go.toolchain") != "download" and go_needed(answers):
        names.append(GO_PACKAGE[facts.package_manager])
    return names


def crb_repository(facts: HostFacts) -> str | None:
    """The EL repository holding gpgme-devel and glibc-static: PowerTools on EL8, CRB from EL9 on."""
    if facts.family != "el":
        return None
    return "powertools" if facts.major == 8 else "crb"


class BuildDeps(Step):
    """Installs the build and runtime packages (through the package mirror when one is answered)."""

    id = "build-deps"
    title = "Build dependencies"
    inputs = ("go.toolchain", "install.crio", "install.cni_plugins", "install.crictl", "install.flannel_cni",
              "scope", *NETWORK_INPUTS)
    after = ("host-prep",)
    typical_seconds = 90.0

    def plan(self, ctx: Context) -> list[Action]:
        facts = ctx.host.facts
        actions: list[Action] = []
        mirror_repositories = mirrors.package_repo_file(facts, ctx.answers)
        if mirror_repositories:
            actions.append(WriteFile(*mirror_repositories))  # the distro's repositories through the mirror
        install = package_install(ctx, package_plan(facts, ctx.answers))
        if facts.package_manager == "apt":
            update = Run(["apt-get", "update"], env={**APT_ENV, **network_env(ctx)}, timeout=PACKAGE_TIMEOUT,
                         secret_values=ctx.answers.secret_values())
            return actions + [update, install]
        repository = crb_repository(facts)
        if repository:
            actions += [
                # `dnf config-manager` comes with dnf-plugins-core, which minimal EL images lack
                package_install(ctx, ["dnf-plugins-core"]),
                Run(["dnf", "config-manager", "--set-enabled", repository]),
            ]
        return actions + [install]

    async def verify(self, ctx: Context) -> list[Check]:
        # the two queries only look: they run side by side
        checks = list(await asyncio.gather(self._pkg_config_check(ctx), self._packages_check(ctx)))
        for program in RUNTIME_PROGRAMS:
            found = find_on_path(ctx, program)
            checks.append(Check(f"{program} is on root's PATH", found is not None, found or "not found"))
        return checks

    def owns(self, ctx: Context) -> Owned:
        # packages stay installed on reset (other software may need them); a mirror's repository file
        # is put back as it was
        mirror_repositories = mirrors.package_repo_file(ctx.host.facts, ctx.answers)
        return Owned(files=[mirror_repositories[0]] if mirror_repositories else [])

    async def _pkg_config_check(self, ctx: Context) -> Check:
        result = await ctx.probe(["pkg-config", "--print-errors", "--exists", *PKG_CONFIG_MODULES])
        name = "pkg-config finds " + ", ".join(PKG_CONFIG_MODULES)
        if result.exit_code == 0:
            return Check(name, True, "all found")
        lines = [line for line in result.output.splitlines() if line.strip()]
        return Check(name, False, lines[0] if lines else f"pkg-config exited with {result.exit_code}")

    async def _packages_check(self, ctx: Context) -> Check:
        packages = package_plan(ctx.host.facts, ctx.answers)
        if ctx.host.facts.package_manager == "apt":
            result = await ctx.probe(["dpkg-query", "-W", "-f=${Package} ${Status}\\n", *packages])
            installed = {line.split()[0] for line in result.output.splitlines()
                         if line.strip().endswith("install ok installed")}
            missing = [name for name in packages if name not in installed]
        else:
            result = await ctx.probe(["rpm", "-q", *packages])
            missing = re.findall(r"package (\S+) is not installed", result.output)
            if result.exit_code == 127:
                missing = packages
        name = f"the {len(packages)} packages are installed"
        if missing:
            return Check(name, False, "missing: " + " ".join(missing))
        return Check(name, True, "all installed")


def package_install(ctx: Context, names: list[str] | tuple[str, ...]) -> Run:
    """Install distro packages with the host's package manager (the lists are fresh after build-deps)."""
    network = network_env(ctx)
    if ctx.host.facts.package_manager == "apt":
        return Run(["apt-get", "install", "-y", "--no-install-recommends", *names], env={**APT_ENV, **network},
                   timeout=PACKAGE_TIMEOUT, secret_values=ctx.answers.secret_values())
    return Run(["dnf", "-y", "install", *names], env=network, timeout=PACKAGE_TIMEOUT,
               secret_values=ctx.answers.secret_values())
