"""Stand-ins for the package tools: dnf/yum, rpm, apt-get, dpkg-query and pkg-config.

Installed packages are `packages` in the shared state; a package that ships a program puts its marker on
the sandbox PATH (sim.install_binary). What exists in the repositories is the small catalogue below: the
packages the wizard installs, with the versions of Rocky 9 / Fedora 41 and Debian 12 / Ubuntu 24.04.
"""

from __future__ import annotations

import os
import re
import sys

from wizard.simulate import sim

# dnf: name -> (version-release, repository); EL keeps gpgme-devel and glibc-static in CRB (PowerTools on EL8)
DNF_CATALOGUE = {
    "btrfs-progs-devel": ("6.12-1", "fedora-only"),
    "containers-common": ("1-91", "appstream"),
    "git": ("2.43.5-1", "appstream"),
    "glib2-devel": ("2.68.4-14", "appstream"),
    "glibc-devel": ("2.34-100", "appstream"),
    "glibc-static": ("2.34-100", "crb"),
    "gpgme-devel": ("1.15.1-6", "crb"),
    "libassuan-devel": ("2.5.5-3", "appstream"),
    "libgpg-error-devel": ("1.42-5", "appstream"),
    "libseccomp-devel": ("2.5.2-2", "appstream"),
    "libselinux-devel": ("3.6-1", "appstream"),
    "pkgconf-pkg-config": ("1.7.3-10", "baseos"),
    "crun": ("1.14.3-1", "appstream"),
    "runc": ("1.1.12-2", "appstream"),
    "make": ("4.3-8", "baseos"),
    "gcc": ("11.4.1-3", "appstream"),
    "systemd-devel": ("252-32", "appstream"),
    "conntrack-tools": ("1.4.7-2", "appstream"),
    "iproute": ("6.2.0-6", "baseos"),
    "iptables-nft": ("1.8.10-2", "baseos"),
    "golang": ("1.22.9-2", "appstream"),
    "dnf-plugins-core": ("4.3.0-13", "baseos"),
    "device-mapper-devel": ("1.02.197-2", "crb"),
    "conmon": ("2.1.10-1", "appstream"),
    "containernetworking-plugins": ("1.4.0-2", "appstream"),
    "cri-o": ("1.35.0-150500.1.1", "isv-cri-o"),
}
APT_CATALOGUE = {
    "golang-github-containers-common": "0.50.1+ds1-4",
    "golang-github-containers-image": "5.23.1-4",
    "git": "1:2.39.5-0+deb12u2",
    "libglib2.0-dev": "2.74.6-2+deb12u9",
    "libc6-dev": "2.36-9+deb12u10",
    "libgpgme-dev": "1.18.0-3+b1",
    "libassuan-dev": "2.5.5-5",
    "libgpg-error-dev": "1.46-1",
    "libseccomp-dev": "2.5.4-1+deb12u1",
    "libselinux1-dev": "3.4-1+b6",
    "libbtrfs-dev": "6.2-1+deb12u2",
    "pkg-config": "1.8.1-1",
    "crun": "1.8.1-1+deb12u1",
    "runc": "1.1.5+ds1-1+deb12u1",
    "make": "4.3-4.1",
    "gcc": "4:12.2.0-3",
    "libsystemd-dev": "252.39-1~deb12u2",
    "conntrack": "1:1.4.7-1+b2",
    "iproute2": "6.1.0-3",
    "iptables": "1.8.9-2",
    "ca-certificates": "20230311+deb12u1",
    "curl": "7.88.1-10+deb12u14",
    "golang-go": "2:1.19~1",
    "libdevmapper-dev": "2:1.02.185-2",
    "conmon": "2.1.6+ds1-1",
    "containernetworking-plugins": "1.1.1+ds1-3+b5",
    "cri-o": "1.35.0-1.1",
}
BASE_PACKAGES = {"dnf": ("bash", "curl-minimal", "tar", "systemd", "iproute"), "apt": ("bash", "tar", "systemd")}
GO_BY_FAMILY = {"el": "1.22.9", "fedora": "1.23.4", "debian": "1.19.8", "ubuntu": "1.22.2"}
CNI_PACKAGE_PLUGINS = ("bandwidth", "bridge", "dhcp", "firewall", "host-device", "host-local", "ipvlan", "loopback",
                       "macvlan", "portmap", "ptp", "sbr", "static", "tuning", "vlan", "vrf")
# pkg-config module -> (dnf package, apt package) that ships its .pc file
PC_MODULES = {
    "gpgme": ("gpgme-devel", "libgpgme-dev", "1.15.1"),
    "glib-2.0": ("glib2-devel", "libglib2.0-dev", "2.68.4"),
    "libseccomp": ("libseccomp-devel", "libseccomp-dev", "2.5.2"),
    "libsystemd": ("systemd-devel", "libsystemd-dev", "252"),
    "libselinux": ("libselinux-devel", "libselinux1-dev", "3.6"),
    "gpg-error": ("libgpg-error-devel", "libgpg-error-dev", "1.42"),
    "libassuan": ("libassuan-devel", "libassuan-dev", "2.5.5"),
}
FAULT_PACKAGES = {"dnf": "gpgme-devel", "apt": "libgpgme-dev"}  # what the missing-package fault hides


# ---------------------------------------------------------------- the simulated distro

def _os_release() -> dict[str, str]:
    values = {}
    try:
        text = sim.host_path("/etc/os-release").read_text()
    except OSError:
        return values
    for line in text.splitlines():
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"')
    return values


def family() -> str:
    info = _os_release()
    names = [info.get("ID", "")] + info.get("ID_LIKE", "").split()
    if names[0] in ("debian", "ubuntu", "fedora"):
        return names[0]
    if any(name in ("rhel", "centos", "rocky", "almalinux") for name in names):
        return "el"
    return "debian" if "debian" in names else "unknown"


def manager() -> str:
    return "apt" if family() in ("debian", "ubuntu") else "dnf"


def _major() -> int:
    head = _os_release().get("VERSION_ID", "0").split(".")[0]
    return int(head) if head.isdigit() else 0


def _dist_tag() -> str:
    return f"fc{_major()}" if family() == "fedora" else f"el{_major()}"


def _crb_id() -> str:
    return "powertools" if _major() == 8 else "crb"


def _installed() -> set[str]:
    return set(sim.peek().get("packages", [])) | set(BASE_PACKAGES[manager()])


def _version(name: str) -> str:
    if manager() == "apt":
        version = APT_CATALOGUE.get(name, "1.0-1")
        if name == "golang-go" and family() == "ubuntu":
            version = "2:1.22~2build1"
        return version
    version = DNF_CATALOGUE.get(name, ("1.0-1", ""))[0]
    if name == "golang" and family() == "fedora":
        version = "1.23.4-1"
    return version


def _upstream(version: str) -> str:
    """1.1.5+ds1 from 1.1.5+ds1-1+deb12u1; 1.14.3 from 1.14.3-1."""
    return version.split(":", 1)[-1].rsplit("-", 1)[0]


def _binaries(name: str) -> list[tuple[str, str]]:
    """(host path, program) pairs a package puts on the host."""
    sbin_runc = "/usr/sbin/runc" if manager() == "apt" else "/usr/bin/runc"
    table = {
        "git": [("/usr/bin/git", "git")], "make": [("/usr/bin/make", "make")], "gcc": [("/usr/bin/gcc", "gcc")],
        "golang": [("/usr/bin/go", "go")], "golang-go": [("/usr/bin/go", "go")],
        "runc": [(sbin_runc, "runc")], "crun": [("/usr/bin/crun", "crun")],
        "conntrack-tools": [("/usr/sbin/conntrack", "conntrack")], "conntrack": [("/usr/sbin/conntrack", "conntrack")],
        "pkgconf-pkg-config": [("/usr/bin/pkg-config", "pkg-config")], "pkg-config": [("/usr/bin/pkg-config", "pkg-config")],
        "iptables-nft": [("/usr/sbin/iptables", "iptables")], "iptables": [("/usr/sbin/iptables", "iptables")],
        "conmon": [("/usr/bin/conmon", "conmon")],
        "cri-o": [("/usr/bin/crio", "crio"), ("/usr/bin/pinns", "pinns")],
    }
    if name == "containernetworking-plugins":
        plugin_dir = "/usr/lib/cni" if manager() == "apt" else "/usr/libexec/cni"
        return [(f"{plugin_dir}/{plugin}", plugin) for plugin in CNI_PACKAGE_PLUGINS]
    return table.get(name, [])


def _binary_version(name: str, program: str) -> str:
    if program == "go":
        return GO_BY_FAMILY.get(family(), "1.22.0")
    return _upstream(_version(name))


def _record_installed(names: list[str]) -> None:
    with sim.state() as data:
        installed = data.setdefault("packages", [])
        installed.extend(name for name in names if name not in installed)
    for name in names:
        for path, program in _binaries(name):
            sim.install_binary(path, program, _binary_version(name, program))


def _cri_o_repository(directory: str) -> bool:
    """The cri-o packages come from the isv:cri-o project, which needs its own repository file."""
    folder = sim.host_path(directory)
    return folder.is_dir() and any("cri-o" in path.name or "cri_o" in path.name for path in folder.iterdir())


def _exists_here(tool: str, package_manager: str) -> bool:
    """A Debian host has no dnf or rpm, an EL host no apt-get or dpkg-query: the shell says so."""
    if manager() == package_manager:
        return True
    sys.stderr.write(f"{tool}: command not found\n")
    return False


# ---------------------------------------------------------------- dnf / yum

def _dnf_available(name: str, enabled: set[str]) -> bool:
    entry = DNF_CATALOGUE.get(name)
    if entry is None:
        return False
    repository = entry[1]
    if repository == "fedora-only":
        return family() == "fedora"
    if repository == "crb":
        return family() == "fedora" or _crb_id() in enabled
    if repository == "isv-cri-o":
        return _cri_o_repository("/etc/yum.repos.d")
    return True


def dnf_main(argv: list[str]) -> int:
    if not _exists_here("dnf", "dnf"):
        return 127
    assume_yes = any(arg in ("-y", "--assumeyes") for arg in argv)
    extra_repos = {arg.split("=", 1)[1] for arg in argv if arg.startswith("--enablerepo=")}
    words = [arg for arg in argv if not arg.startswith("-")]
    if not words:
        sim.say("usage: dnf [options] COMMAND", err=True)
        return 1
    command, names = words[0], words[1:]
    if command == "install":
        return _dnf_install(names, assume_yes, extra_repos)
    if command == "config-manager":
        return _dnf_config_manager(argv)
    if command == "repolist":
        enabled = set(sim.peek().get("repos_enabled", []))
        sim.say("repo id                       repo name", "appstream                     AppStream",
                "baseos                        BaseOS", *[f"{repo:<30}{repo.upper()}" for repo in sorted(enabled)])
        return 0
    sim.say(f"No such command: {command}. Please use /usr/bin/dnf --help", err=True)
    return 1


def _dnf_config_manager(argv: list[str]) -> int:
    if family() == "el" and "dnf-plugins-core" not in _installed():
        sim.say("No such command: config-manager. Please use /usr/bin/dnf --help",
                "It could be a DNF plugin command, try: \"dnf install 'dnf-command(config-manager)'\"", err=True)
        return 1
    if "--set-enabled" not in argv:
        return 0
    repositories = argv[argv.index("--set-enabled") + 1:]
    known = {_crb_id()} if family() == "el" else set()
    for repository in repositories:
        if repository not in known:
            sim.say(f"Error: No matching repo to modify: {repository}.", err=True)
            return 1
    with sim.state() as data:
        enabled = data.setdefault("repos_enabled", [])
        enabled.extend(repository for repository in repositories if repository not in enabled)
    return 0


def _dnf_install(names: list[str], assume_yes: bool, extra_repos: set[str]) -> int:
    enabled = set(sim.peek().get("repos_enabled", [])) | extra_repos
    hidden = FAULT_PACKAGES["dnf"]
    if hidden in names and sim.fault("missing-package"):
        # the fault: CRB is not (or no longer) enabled, as on a host where nobody enabled it
        sim.fire("missing-package")
        enabled.discard(_crb_id())
        with sim.state() as data:
            data["repos_enabled"] = [repo for repo in data.get("repos_enabled", []) if repo != _crb_id()]
        missing = [name for name in names if name == hidden or not _dnf_available(name, enabled)]
    else:
        missing = [name for name in names if not _dnf_available(name, enabled)]
    sim.say("Last metadata expiration check: 0:14:07 ago on Thu 26 Nov 2026 21:40:02 UTC.", delay=1.0)
    if missing:
        for name in missing:
            sim.say(f"No match for argument: {name}")
        sim.say(f"Error: Unable to find a match: {' '.join(missing)}", err=True)
        return 1
    installed = _installed()
    for name in names:
        if name in installed:
            sim.say(f"Package {name}-{_version(name)}.{_dist_tag()}.x86_64 is already installed.")
    new = [name for name in names if name not in installed]
    sim.say("Dependencies resolved.")
    if not new:
        sim.say("Nothing to do.", "Complete!")
        return 0
    rule = "=" * 80
    sim.say(rule, " Package                      Arch        Version                 Repository        Size", rule,
            "Installing:")
    for name in new:
        repository = DNF_CATALOGUE[name][1].replace("fedora-only", "fedora").replace("isv-cri-o", "isv_cri-o")
        sim.say(f" {name:<28} x86_64      {_version(name) + '.' + _dist_tag():<23} {repository:<17} 512 k")
    sim.say("", "Transaction Summary", rule, f"Install  {len(new)} Packages", "")
    if not assume_yes:
        sim.say("Is this ok [y/N]: Operation aborted.")
        return 1
    sim.say("Downloading Packages:")
    for number, name in enumerate(new, start=1):
        sim.say(f"({number}/{len(new)}): {name}-{_version(name)}.{_dist_tag()}.x86_64.rpm", delay=0.8)
    sim.say("Running transaction check", "Transaction check succeeded.", "Running transaction test",
            "Transaction test succeeded.", "Running transaction", delay=0.3)
    for number, name in enumerate(new, start=1):
        sim.say(f"  Installing       : {name}-{_version(name)}.{_dist_tag()}.x86_64{number:>12}/{len(new)}",
                delay=0.6)
    _record_installed(new)
    sim.say("", "Installed:", *[f"  {name}-{_version(name)}.{_dist_tag()}.x86_64" for name in new], "", "Complete!")
    return 0


# ---------------------------------------------------------------- rpm

def rpm_main(argv: list[str]) -> int:
    if not _exists_here("rpm", "dnf"):
        return 127
    if argv[:1] == ["--version"]:
        sim.say("RPM version 4.16.1.3")
        return 0
    if argv[:1] == ["-qa"]:
        sim.say(*[f"{name}-{_version(name)}.{_dist_tag()}.x86_64" for name in sorted(_installed())])
        return 0
    if argv[:1] != ["-q"]:
        sim.say("rpm: the simulated rpm answers -q and -qa", err=True)
        return 1
    installed = _installed()
    not_installed = 0
    for name in argv[1:]:
        if name in installed:
            sim.say(f"{name}-{_version(name)}.{_dist_tag()}.x86_64")
        else:
            sim.say(f"package {name} is not installed")
            not_installed += 1
    return min(not_installed, 255)


# ---------------------------------------------------------------- apt-get

def _apt_available(name: str, lists_stale: bool) -> bool:
    if name not in APT_CATALOGUE:
        return False
    if name == "cri-o":
        return _cri_o_repository("/etc/apt/sources.list.d")
    return not (lists_stale and name == FAULT_PACKAGES["apt"])


def apt_get_main(argv: list[str]) -> int:
    if not _exists_here("apt-get", "apt"):
        return 127
    words = [arg for arg in argv if not arg.startswith("-")]
    simulate = any(arg in ("-s", "--simulate", "--dry-run", "--just-print") for arg in argv)
    if not words:
        sim.say("apt 2.6.1 (amd64)", "Usage: apt-get [options] command")
        return 1
    if words[0] == "update":
        return _apt_update()
    if words[0] == "install":
        return _apt_install(words[1:], simulate)
    sim.say(f"E: Invalid operation {words[0]}", err=True)
    return 100


def _suites() -> list[str]:
    codename = _os_release().get("VERSION_CODENAME", "bookworm")
    return [codename, f"{codename}-updates", f"{codename}-security"]


def _apt_update() -> int:
    suites = _suites()
    sim.say(f"Hit:1 {suites[0]} InRelease", f"Get:2 {suites[1]} InRelease [55.4 kB]",
            f"Get:3 {suites[2]} InRelease [48.0 kB]", delay=0.8)
    sim.say("Fetched 103 kB in 2s (51.2 kB/s)", "Reading package lists...", delay=0.5)
    with sim.state() as data:
        data["apt_lists_stale"] = False
    return 0


def _apt_install(names: list[str], simulate: bool) -> int:
    sim.say("Reading package lists...", "Building dependency tree...", "Reading state information...", delay=0.3)
    stale = bool(sim.peek().get("apt_lists_stale"))
    if FAULT_PACKAGES["apt"] in names and sim.fault("missing-package"):
        # the fault: package lists older than the package, until `apt-get update` runs again
        sim.fire("missing-package")
        stale = True
        with sim.state() as data:
            data["apt_lists_stale"] = True
    missing = [name for name in names if not _apt_available(name, stale)]
    if missing:
        sim.say(*[f"E: Unable to locate package {name}" for name in missing], err=True)
        return 100
    installed = _installed()
    for name in names:
        if name in installed:
            sim.say(f"{name} is already the newest version ({_version(name)}).")
    new = [name for name in names if name not in installed]
    if new:
        sim.say("The following NEW packages will be installed:", "  " + " ".join(new))
    sim.say(f"0 upgraded, {len(new)} newly installed, 0 to remove and 0 not upgraded.")
    if simulate:
        release = "Ubuntu:24.04/noble" if family() == "ubuntu" else "Debian:12.15/oldstable"
        for name in new:
            sim.say(f"Inst {name} ({_version(name)} {release} [amd64])")
        for name in new:
            sim.say(f"Conf {name} ({_version(name)} {release} [amd64])")
        return 0
    if not new:
        return 0
    suite = _suites()[0]
    for number, name in enumerate(new, start=1):
        sim.say(f"Get:{number} {suite}/main amd64 {name} amd64 {_version(name)} [412 kB]", delay=0.5)
    if os.environ.get("DEBIAN_FRONTEND") != "noninteractive":
        sim.say("debconf: unable to initialize frontend: Dialog",
                "debconf: (TERM is not set, so the dialog frontend is not usable.)",
                "debconf: falling back to frontend: Readline", err=True)
    for name in new:
        sim.say(f"Selecting previously unselected package {name}.",
                f"Unpacking {name} ({_version(name)}) ...", delay=0.2)
    for name in new:
        sim.say(f"Setting up {name} ({_version(name)}) ...", delay=0.4)
    _record_installed(new)
    sim.say("Processing triggers for man-db (2.11.2-2) ...")
    return 0


# ---------------------------------------------------------------- dpkg-query

def dpkg_query_main(argv: list[str]) -> int:
    if not _exists_here("dpkg-query", "apt"):
        return 127
    show_format = "${binary:Package}\t${Version}\n"
    names = []
    for arg in argv:
        if arg.startswith(("-f=", "--showformat=")):
            show_format = arg.split("=", 1)[1]
        elif arg in ("-W", "--show"):
            continue
        else:
            names.append(arg)
    show_format = show_format.replace("\\n", "\n").replace("\\t", "\t")
    installed = _installed()
    code = 0
    for name in names:
        if name not in installed:
            sim.say(f"dpkg-query: no packages found matching {name}", err=True)
            code = 1
            continue
        fields = {"Package": name, "binary:Package": name, "Version": _version(name),
                  "Status": "install ok installed"}
        sys.stdout.write(re.sub(r"\$\{([^}]+)\}", lambda match: fields.get(match.group(1), ""), show_format))
    return code


# ---------------------------------------------------------------- pkg-config

def pkg_config_main(argv: list[str]) -> int:
    options = [arg for arg in argv if arg.startswith("--")]
    modules = [arg for arg in argv if not arg.startswith("--")]
    if "--version" in options:
        sim.say("1.8.1")
        return 0
    column = 1 if manager() == "apt" else 0
    installed = _installed()
    found = {module: module in PC_MODULES and PC_MODULES[module][column] in installed for module in modules}
    missing = [module for module, present in found.items() if not present]
    quiet = "--exists" in options and "--print-errors" not in options
    if missing:
        if not quiet:
            for module in missing:
                sim.say(f"Package {module} was not found in the pkg-config search path.",
                        f"Perhaps you should add the directory containing `{module}.pc'",
                        "to the PKG_CONFIG_PATH environment variable",
                        f"Package '{module}', required by 'virtual:world', not found", err=True)
        return 1
    if "--modversion" in options:
        sim.say(*[PC_MODULES[module][2] for module in modules])
    elif "--cflags" in options:
        sim.say(" ".join(f"-I/usr/include/{module}" for module in modules if module == "glib-2.0"))
    elif "--libs" in options:
        sim.say(" ".join(f"-l{module.removeprefix('lib')}" for module in modules))
    return 0


TOOLS = {
    "dnf": sim.Tool(dnf_main),
    "yum": sim.Tool(dnf_main),  # on EL 8+ yum is dnf
    "rpm": sim.Tool(rpm_main),
    "apt-get": sim.Tool(apt_get_main),
    "dpkg-query": sim.Tool(dpkg_query_main),
    "pkg-config": sim.Tool(pkg_config_main, installable=True),
}
