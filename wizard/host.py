"""The machine the wizard works on: its facts (distro, package manager, systemd) and its root."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import distro

# distro id -> family; ID_LIKE decides for ids not listed here
FAMILIES = {
    "fedora": "fedora",
    "rhel": "el",
    "centos": "el",
    "rocky": "el",
    "almalinux": "el",
    "ol": "el",
    "debian": "debian",
    "ubuntu": "ubuntu",
}
MINIMUM_MAJOR = {"el": 8, "debian": 12, "ubuntu": 22, "fedora": 39}
GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "ppc64le": "ppc64le", "s390x": "s390x", "armv7l": "arm"}


class UnsupportedHost(Exception):
    """The host is not one the wizard can plan for; the message says why and what is supported."""


@dataclass(frozen=True)
class HostFacts:
    distro_id: str  # "rocky", "debian", ...
    version: str  # "9.4", "12", "24.04"
    pretty_name: str
    family: str  # fedora | el | debian | ubuntu | unknown
    machine: str  # uname -m: x86_64, aarch64
    systemd: bool  # PID 1 is systemd

    @property
    def major(self) -> int:
        head = self.version.split(".")[0]
        return int(head) if head.isdigit() else 0

    @property
    def package_manager(self) -> str:
        return "apt" if self.family in ("debian", "ubuntu") else "dnf"

    @property
    def arch(self) -> str:
        """The architecture as Go and release files name it (amd64, arm64)."""
        return GO_ARCH.get(self.machine, self.machine)

    def unsupported_reason(self) -> str | None:
        supported = "Fedora, RHEL/CentOS Stream/Rocky/Alma 8-10, Debian 12+, Ubuntu 22.04+"
        if self.family == "unknown":
            return f"{self.pretty_name or self.distro_id or 'this system'} is not supported (supported: {supported})"
        if self.major < MINIMUM_MAJOR[self.family]:
            return f"{self.pretty_name} is too old (supported: {supported})"
        if self.machine not in GO_ARCH:
            return f"the {self.machine} architecture is not supported"
        return None


def read_facts(root: Path, machine: str | None = None, systemd: bool | None = None) -> HostFacts:
    """Read the facts from `root`/etc/os-release (root is "/" on a real host)."""
    os_release = root / "etc/os-release"
    if not os_release.exists():
        os_release = root / "usr/lib/os-release"
    info = distro.LinuxDistribution(
        include_lsb=False, include_uname=False, include_oslevel=False,
        os_release_file=str(os_release), distro_release_file=os.devnull,
    )
    distro_id = info.id()
    family = FAMILIES.get(distro_id)
    if family is None:
        like = info.like().split()
        family = next((FAMILIES[name] for name in like if name in FAMILIES), "unknown")
    if systemd is None:
        systemd = (root / "run/systemd/system").is_dir()
    return HostFacts(
        distro_id=distro_id,
        version=info.version(best=True),
        pretty_name=info.name(pretty=True),
        family=family,
        machine=machine or platform.machine(),
        systemd=systemd,
    )


@dataclass
class Host:
    """Where effects land: `root` is "/" on a real host and a sandbox on the simulated one."""

    root: Path
    facts: HostFacts
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))  # the environment for every command
    simulated: str | None = None  # the profile name when simulated

    def path(self, host_path: str) -> Path:
        """Map an absolute host path to where it lives (under the sandbox root when simulated)."""
        if not host_path.startswith("/") or ".." in Path(host_path).parts:
            raise ValueError(f"not an absolute host path: {host_path!r}")
        return self.root / host_path.lstrip("/")

    def command(self, argv: tuple[str, ...] | list[str]) -> tuple[tuple[str, ...], dict[str, str]]:
        """The argv to execute and extra environment. A program named by absolute path (/opt/cni/bin/bridge)
        is looked up under the root; on the simulated host its stand-in runs and checks the file exists."""
        argv = tuple(argv)
        if argv[0].startswith("/"):
            if self.simulated:
                return (Path(argv[0]).name, *argv[1:]), {"CRIO_WIZARD_SIM_ARGV0": argv[0]}
            if self.root != Path("/"):
                # a real host staged under another root (tests, image builds): run the program found there
                return (str(self.path(argv[0])), *argv[1:]), {}
        return argv, {}

    @property
    def is_root_user(self) -> bool:
        return self.simulated is not None or os.geteuid() == 0


def real_host() -> Host:
    return Host(root=Path("/"), facts=read_facts(Path("/")))
