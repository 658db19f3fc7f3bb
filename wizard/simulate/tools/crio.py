"""Stand-ins for the CRI-O binaries as built or packaged: crio (--version, version, config), conmon and pinns.

crio's daemon and service behaviour are not here: these answer what the build steps and the config step ask.
"""

from __future__ import annotations

import sys

from wizard.simulate import sim

# Heavier modules (tomllib, hashlib) are imported by the functions that need them: every stand-in call is a
# new interpreter, and `crio --version` should not pay for parsing TOML.

CONFIG_FILE = "/etc/crio/crio.conf"
CONFIG_DIR = "/etc/crio/crio.conf.d"
# `crio config --default`, shortened from 832 lines to its head and the tables the wizard's steps touch
DEFAULT_CONFIG = '''\
# The CRI-O configuration file specifies all of the available configuration
# options and command-line flags for the crio(8) OCI Kubernetes Container Runtime
# daemon, but in a TOML format that can be more easily modified and versioned.
#
# Please refer to crio.conf(5) for details of all configuration options.

# CRI-O supports partial configuration reload during runtime, which can be
# done by sending SIGHUP to the running process. Currently supported options
# are explicitly mentioned with: 'This option supports live configuration
# reload'.

# CRI-O reads its storage defaults from the containers-storage.conf(5) file
# located at /etc/containers/storage.conf. Modify this storage configuration if
# you want to change the system's defaults. If you want to modify storage just
# for CRI-O, you can change the storage configuration options here.
[crio]

# Path to the "root directory". CRI-O stores all of its data, including
# containers images, in this directory.
root = "/var/lib/containers/storage"

# Path to the "run directory". CRI-O stores all of its state in this directory.
runroot = "/run/containers/storage"

# Storage driver used to manage the storage of images and containers. Please
# refer to containers-storage.conf(5) to see all available storage drivers.
storage_driver = ""

# The default log directory where all logs will go unless directly specified by
# the kubelet. The log directory specified must be an absolute directory.
log_dir = "/var/log/crio/pods"

# Location for CRI-O to lay down the temporary version file.
# It is used to check if crio wipe should wipe containers, which should
# always happen on a node reboot
version_file = "/var/run/crio/version"

# InternalWipe is whether CRI-O should wipe containers and images after a reboot when the server starts.
# If set to false, one must use the external command 'crio wipe' to wipe the containers and images in these situations.
internal_wipe = true

# The crio.api table contains settings for the kubelet/gRPC interface.
[crio.api]

# Path to AF_LOCAL socket on which CRI-O will listen.
listen = "/var/run/crio/crio.sock"

# IP address on which the stream server will listen.
stream_address = "127.0.0.1"

# The port on which the stream server will listen. If the port is set to "0", then
# CRI-O will allocate a random free port number.
stream_port = "0"

# The crio.runtime table contains settings pertaining to the OCI runtime used
# and options for how to set up and manage the OCI runtime.
[crio.runtime]

# default_runtime is the _name_ of the OCI runtime to be used as the default.
# The name is matched against the runtimes map below.
default_runtime = "crun"

# If true, the runtime will not use pivot_root, but instead use MS_MOVE.
no_pivot = false

# Path to the conmon binary, used for monitoring the OCI runtime.
# Will be searched for using $PATH if empty.
# This option is currently deprecated, and will be replaced with RuntimeHandler.MonitorPath.
conmon = ""

# Cgroup setting for conmon
# This option is currently deprecated, and will be replaced with RuntimeHandler.MonitorCgroup.
conmon_cgroup = ""

# Cgroup management implementation used for the runtime.
cgroup_manager = "systemd"

# If true, SELinux will be used for pod separation on the host.
# This option supports live configuration reload.
selinux = false

# The "crio.runtime.runtimes" table defines a list of OCI compatible runtimes.
[crio.runtime.runtimes.crun]
runtime_path = ""
runtime_type = "oci"
runtime_root = "/run/crun"
monitor_path = ""
monitor_cgroup = "system.slice"
allowed_annotations = [
\t"io.containers.trace-syscall",
]

[crio.runtime.runtimes.runc]
runtime_path = ""
runtime_type = "oci"
runtime_root = "/run/runc"
monitor_path = ""
monitor_cgroup = "system.slice"

# The crio.image table contains settings pertaining to the management of OCI images.
[crio.image]

# Default transport for pulling images from a remote container storage.
default_transport = "docker://"

# The image used to instantiate infra containers.
# This option supports live configuration reload.
pause_image = "registry.k8s.io/pause:3.10.1"

# Path to the file which decides what sort of policy we use when deciding
# whether or not to trust an image that we've pulled.
signature_policy = ""

# The crio.network table containers settings pertaining to the management of
# CNI plugins.
[crio.network]

# The default CNI network name to be selected. If not set or "", then
# CRI-O will pick-up the first one found in network_dir.
# cni_default_network = ""

# Path to the directory where CNI configuration files are located.
network_dir = "/etc/cni/net.d/"

# Paths to directories where CNI plugin binaries are located.
plugin_dirs = [
\t"/opt/cni/bin/",
]

# A necessary configuration for Prometheus based metrics retrieval
[crio.metrics]

# Globally enable or disable metrics support.
enable_metrics = false

# Port on which the metrics server will listen.
metrics_port = 9090

[crio.stats]

# The number of seconds between collecting pod and container stats.
stats_collection_period = 0
'''
BUILD_TAGS = ("containers_image_ostree_stub", "seccomp", "selinux")


def _timestamp() -> str:
    return sim.utc_time("%Y-%m-%dT%H:%M:%S.%f000Z")


def _version() -> str:
    return (sim.self_version("crio") or "unknown").removeprefix("v")


def _build_info(repo: str, version: str) -> dict:
    """How the binary was built: recorded by the make stand-in, or a distro package's typical values."""
    built = sim.peek().get("builds", {}).get(repo)
    if built and built["ref"].removeprefix("v") == version:
        return built
    import hashlib

    return {"commit": hashlib.sha1(f"{repo}@{version}".encode()).hexdigest(), "go": "1.24.6",
            "date": "2026-08-21T15:09:13Z"}


def _version_fields() -> list[tuple[str, str]]:
    version = _version()
    info = _build_info("cri-o", version)
    return [("GitCommit", info["commit"]), ("GitCommitDate", info["date"]), ("GitTreeState", "clean"),
            ("BuildDate", info["date"]), ("GoVersion", f"go{info['go']}"), ("Compiler", "gc"),
            ("Platform", "linux/amd64"), ("Linkmode", "dynamic")]


def _config_files() -> list[str]:
    """The files crio reads, in its order: crio.conf, then the drop-ins in lexical order."""
    files = [CONFIG_FILE] if sim.host_path(CONFIG_FILE).is_file() else []
    drop_in_dir = sim.host_path(CONFIG_DIR)
    if drop_in_dir.is_dir():
        files += [f"{CONFIG_DIR}/{path.name}" for path in sorted(drop_in_dir.iterdir()) if path.suffix == ".conf"]
    return files


def _log_config_sources(files: list[str]) -> None:
    """The `Updating config from ...` lines every crio subcommand writes to stderr first."""
    lines = []
    if CONFIG_FILE in files:
        lines += [f"single file: {CONFIG_FILE}", f"drop-in file: {CONFIG_FILE}"]
    if sim.host_path(CONFIG_DIR).is_dir():
        lines.append(f"path: {CONFIG_DIR}")
    lines += [f"drop-in file: {path}" for path in files if path != CONFIG_FILE]
    for line in lines:
        sim.say(f'time="{_timestamp()}" level=info msg="Updating config from {line}"', err=True)


def _version_flag() -> int:
    sim.say(f"crio version {_version()}")
    for name, value in _version_fields():
        sim.say(f"   {name + ':':<16}{value}")
    sim.say("   BuildTags:", *[f"     {tag}" for tag in BUILD_TAGS])
    sim.say("   LDFlags:          unknown", "   SeccompEnabled:   true", "   AppArmorEnabled:  false")
    return 0


def _version_command(args: list[str]) -> int:
    _log_config_sources(_config_files())
    sim.say(f"{'Version:':<16}{_version()}")
    for name, value in _version_fields():
        sim.say(f"{name + ':':<16}{value}")
    sim.say("BuildTags:", *[f"  {tag}" for tag in BUILD_TAGS])
    sim.say("LDFlags:          unknown", "SeccompEnabled:   true", "AppArmorEnabled:  false")
    return 0


def _config_command(args: list[str]) -> int:
    if "--default" in args or "-d" in args:
        sim.say(f'time="{_timestamp()}" level=info msg="Using default capabilities: CAP_CHOWN, CAP_DAC_OVERRIDE, '
                'CAP_FSETID, CAP_FOWNER, CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_KILL"',
                err=True)
        sys.stdout.write(DEFAULT_CONFIG)
        return 0
    files = _config_files()
    _log_config_sources(files)
    for path in files:
        problem = _toml_problem(path)
        if problem:
            sim.say(f'time="{_timestamp()}" level=fatal msg="validating root config: failed to load config '
                    f'{path}: {problem}"', err=True)
            return 1
    sys.stdout.write(DEFAULT_CONFIG)
    return 0


def _toml_problem(path: str) -> str | None:
    try:  # Python 3.11+; the stand-ins run without site-packages, so no tomli fallback here
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10: config files are then not parsed
        return None
    try:
        tomllib.loads(sim.host_path(path).read_text(errors="replace"))
    except (OSError, ValueError) as error:
        return f"toml: {error}"
    return None


# value-taking global options that may come before the subcommand (crio --config "" config ...)
GLOBAL_OPTIONS = ("--config", "-c", "--config-dir", "-d", "--log-level", "-l", "--root", "-r", "--runroot")


def _status_command(args: list[str]) -> int:
    # `crio status` asks the running daemon, whose simulation lives with the service stand-ins (imported
    # only here: every other crio call stays quick)
    from wizard.simulate.tools import service

    return service.status(args)


SUBCOMMANDS = {"version": _version_command, "config": _config_command, "status": _status_command}


def crio_main(argv: list[str]) -> int:
    if argv[:1] in (["--version"], ["-v"]):
        return _version_flag()
    args = list(argv)
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if option in GLOBAL_OPTIONS and args:
            args.pop(0)
    if args and args[0] in SUBCOMMANDS:
        return SUBCOMMANDS[args[0]](args[1:])
    sim.say(f"crio {' '.join(argv)}: not simulated here (the simulated crio answers --version, version, config and status)",
            err=True)
    return 1


def conmon_main(argv: list[str]) -> int:
    if argv[:1] == ["--version"]:
        version = (sim.self_version("conmon") or "unknown").removeprefix("v")
        sim.say(f"conmon version {version}", f"commit: {_build_info('conmon', version)['commit']}")
        return 0
    sim.say("[conmon:e]: Container ID not provided. Use --cid", err=True)
    return 1


def pinns_main(argv: list[str]) -> int:
    # pinns has no version flag (samples/pinns-v.txt)
    for arg in argv:
        if arg.startswith("--"):
            sim.say(f"pinns: unrecognized option '{arg}'", err=True)
            return 1
        if arg.startswith("-") and arg[1:2] not in ("d", "f", "i", "m", "n", "p", "u", "U", "s"):
            sim.say(f"pinns: invalid option -- '{arg[1:2]}'", err=True)
            return 1
    sim.say("[pinns:e] Path for pinning namespaces not specified", err=True)
    return 1


TOOLS = {
    "crio": sim.Tool(crio_main, installable=True),
    "conmon": sim.Tool(conmon_main, installable=True),
    "pinns": sim.Tool(pinns_main, installable=True),
}
