"""Stand-ins for the kernel tools: modprobe, lsmod and sysctl.

Loaded modules and sysctl values live where the kernel shows them, in the sandbox's /proc/modules and
/proc/sys, so a check that reads those files (as on a real host) sees what these tools did.
"""

from __future__ import annotations

from pathlib import Path

from wizard.simulate import sim

KERNEL_RELEASE = "6.1.0-27-amd64"
# module -> (size as lsmod shows it, modules it pulls in)
MODULES = {
    "overlay": (163840, ()),
    "br_netfilter": (32768, ("bridge",)),
    "bridge": (311296, ("stp", "llc")),
    "stp": (16384, ("llc",)),
    "llc": (16384, ()),
    "vxlan": (94208, ("ip6_udp_tunnel", "udp_tunnel")),
    "ip6_udp_tunnel": (16384, ()),
    "udp_tunnel": (28672, ()),
    "wireguard": (98304, ("curve25519_x86_64", "libchacha20poly1305")),
    "curve25519_x86_64": (36864, ()),
    "libchacha20poly1305": (16384, ()),
    "veth": (36864, ()),
    "nf_conntrack": (188416, ()),
    "ip_tables": (36864, ("x_tables",)),
    "x_tables": (53248, ()),
    "ext4": (1015808, ()),
}
ALWAYS_LOADED = ("ext4", "ip_tables", "x_tables")
# sysctls with a value other than 0 on a fresh host; other net./kernel./vm./fs. keys exist with 0
SYSCTL_DEFAULTS = {
    "kernel.pid_max": "4194304",
    "fs.protected_regular": "2",
    "fs.protected_symlinks": "1",
    "fs.protected_hardlinks": "1",
    "vm.swappiness": "60",
    "net.ipv4.ip_forward": "0",
    "net.ipv4.conf.all.rp_filter": "2",
}
SYSCTL_FAMILIES = ("net.ipv4.", "net.ipv6.", "net.core.", "net.netfilter.", "kernel.", "vm.", "fs.")
# br_netfilter creates these, with 1 as its default
BRIDGE_SYSCTLS = ("net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables",
                  "net.bridge.bridge-nf-call-arptables")
# where `sysctl --system` reads its files, in procps' order (a file name found twice is read once: the first wins)
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")


MODULES_FILE = "/proc/modules"


def loaded_modules() -> list[str]:
    """The loaded modules, the most recently loaded first (the order of /proc/modules)."""
    path = sim.host_path(MODULES_FILE)
    text = path.read_text(errors="replace") if path.is_file() else "".join(f"{name}\n" for name in ALWAYS_LOADED)
    return [line.split()[0] for line in text.splitlines() if line.strip()]


def _write_modules(names: list[str]) -> None:
    """/proc/modules for these modules: name, size, use count, the modules using it, state, address."""
    lines = []
    for name in names:
        users = [other for other in names if name in MODULES.get(other, (0, ()))[1]]
        used_by = "".join(f"{user}," for user in users) or "-"
        lines.append(f"{name} {MODULES.get(name, (16384,))[0]} {len(users)} {used_by} Live 0x0000000000000000\n")
    sim.write(MODULES_FILE, "".join(lines))


def _sysctl_path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def _with_dependencies(name: str) -> list[str]:
    """The module after what it needs, in load order, each once."""
    found: list[str] = []
    for dependency in MODULES[name][1]:
        found += [m for m in _with_dependencies(dependency) if m not in found]
    return found + [name]


def modprobe(argv: list[str]) -> int:
    names = [arg for arg in argv if not arg.startswith("-")]
    if "-r" in argv or "--remove" in argv:
        with sim.state():  # the state lock also guards /proc/modules
            _write_modules([m for m in loaded_modules() if m not in names])
            if "br_netfilter" in names:
                for key in BRIDGE_SYSCTLS:
                    sim.host_path(_sysctl_path(key)).unlink(missing_ok=True)
        return 0
    if not names:
        sim.say("modprobe: ERROR: missing module name.", err=True)
        return 1
    # without -a only the first name is a module; the rest are its parameters
    if "-a" not in argv and "--all" not in argv:
        names = names[:1]
    for name in names:
        module = name.replace("-", "_")
        if module not in MODULES:
            sim.say(f"modprobe: FATAL: Module {name} not found in directory /lib/modules/{KERNEL_RELEASE}", err=True)
            return 1
        with sim.state():  # the state lock also guards /proc/modules
            modules = loaded_modules()
            _write_modules([m for m in reversed(_with_dependencies(module)) if m not in modules] + modules)
            if module == "br_netfilter":
                # br_netfilter creates its sysctls, with 1 as their default
                for key in BRIDGE_SYSCTLS:
                    if not sim.host_path(_sysctl_path(key)).exists():
                        sim.write(_sysctl_path(key), "1\n")
        sim.pace(0.05)
    return 0


def lsmod(argv: list[str]) -> int:
    modules = loaded_modules()
    sim.say(f"{'Module':<19} {'Size':>8}  Used by")
    for name in modules:
        users = [other for other in modules if name in MODULES.get(other, (0, ()))[1]]
        used_by = f"{len(users)} {','.join(users)}".rstrip()
        sim.say(f"{name:<19} {MODULES.get(name, (16384,))[0]:>8}  {used_by}")
    return 0


def _exists(key: str) -> bool:
    if sim.host_path(_sysctl_path(key)).is_file():
        return True
    if key.startswith("net.bridge."):
        return False  # only br_netfilter creates them
    return key in SYSCTL_DEFAULTS or key.startswith(SYSCTL_FAMILIES)


def _value(key: str) -> str:
    path = sim.host_path(_sysctl_path(key))
    return path.read_text().strip() if path.is_file() else SYSCTL_DEFAULTS.get(key, "0")


def _cannot_stat(key: str) -> None:
    sim.say(f"sysctl: cannot stat {_sysctl_path(key)}: No such file or directory", err=True)


def _set(key: str, value: str, quiet: bool, ignore_unknown: bool) -> bool:
    with sim.state():  # the state lock also guards /proc/sys
        if not _exists(key):
            if not ignore_unknown:
                _cannot_stat(key)
            return ignore_unknown
        sim.write(_sysctl_path(key), value + "\n")
    if not quiet:
        sim.say(f"{key} = {value}")
    return True


def _settings(path: Path) -> list[tuple[str, str, bool]]:
    """(key, value, ignore errors) from a sysctl.conf file; a leading '-' means 'ignore if unknown'."""
    found = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        found.append((key.lstrip("-"), value, key.startswith("-")))
    return found


def _system_files() -> list[tuple[str, Path]]:
    chosen: dict[str, tuple[str, Path]] = {}
    for directory in SYSCTL_DIRS:
        folder = sim.host_path(directory)
        if folder.is_dir():
            for path in sorted(folder.glob("*.conf")):
                chosen.setdefault(path.name, (f"{directory}/{path.name}", path))
    ordered = [chosen[name] for name in sorted(chosen)]
    if sim.host_path("/etc/sysctl.conf").is_file():
        ordered.append(("/etc/sysctl.conf", sim.host_path("/etc/sysctl.conf")))
    return ordered


def _load(files: list[tuple[str, Path]], quiet: bool, announce: bool) -> int:
    if announce:
        for shown, _ in files:
            sim.say(f"* Applying {shown} ...")
    code = 0
    for shown, path in files:
        if not path.is_file():
            sim.say(f"sysctl: cannot open \"{shown}\": No such file or directory", err=True)
            code = 1
            continue
        for key, value, ignore in _settings(path):
            if not _set(key, value, quiet, ignore):
                code = 1
    return code


def _load_argument(argv: list[str]) -> str | None:
    """The file named by -p/--load (/etc/sysctl.conf when none is given), or None when not loading."""
    for index, arg in enumerate(argv):
        if arg in ("-p", "-f", "--load"):
            following = argv[index + 1:index + 2]
            return following[0] if following and not following[0].startswith("-") else "/etc/sysctl.conf"
        if arg.startswith("--load="):
            return arg.split("=", 1)[1]
        if arg.startswith("-p"):
            return arg[2:]
    return None


def sysctl(argv: list[str]) -> int:
    quiet = "-q" in argv or "--quiet" in argv
    values_only = "-n" in argv or "--values" in argv
    ignore_unknown = "-e" in argv or "--ignore" in argv
    if "--system" in argv:
        return _load(_system_files(), quiet, announce=True)
    load_file = _load_argument(argv)
    if load_file is not None:
        return _load([(load_file, sim.host_path(load_file))], quiet, announce=False)
    names = [arg for arg in argv if not arg.startswith("-")]
    if not names:
        sim.say("sysctl: no variables specified", "Try `sysctl --help' for more information.", err=True)
        return 1
    code = 0
    for name in names:
        if "=" in name:
            key, value = name.split("=", 1)
            if not _set(key.strip(), value.strip(), quiet, ignore_unknown):
                code = 1
        elif not _exists(name):
            if not ignore_unknown:
                _cannot_stat(name)
                code = 1
        else:
            sim.say(_value(name) if values_only else f"{name} = {_value(name)}")
    return code


TOOLS = {
    "modprobe": sim.Tool(modprobe),
    "lsmod": sim.Tool(lsmod),
    "sysctl": sim.Tool(sysctl),
}
