"""Stand-ins for running services: systemctl, journalctl, setsid (crio without systemd), pkill, ps and sudo."""

from __future__ import annotations

import importlib
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from wizard.simulate import sim

CRIO_SOCKET = "/var/run/crio/crio.sock"
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
             "/usr/lib/systemd/system", "/lib/systemd/system")
FIRST_PID = 8100
JOURNAL_LINES_KEPT = 300
CONMON_PATHS = ("/usr/local/libexec/crio/conmon", "/usr/libexec/crio/conmon")
# sudo's secure_path as the distributions ship /etc/sudoers (RHEL-family hosts leave out /usr/local/*)
SECURE_PATHS = {
    "el": "/sbin:/bin:/usr/sbin:/usr/bin",
    "fedora": "/sbin:/bin:/usr/sbin:/usr/bin",
    "debian": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ubuntu": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin",
}
SUDO_VERSIONS = {"el": "1.9.5p2", "fedora": "1.9.15p5", "debian": "1.9.13p3", "ubuntu": "1.9.15p5"}


# ---- shared with the crio and crictl stand-ins -------------------------------------------------

def log_line(level: str, message: str) -> str:
    """A line as crio and crictl log it (logrus text format)."""
    return f'time="{sim.utc_time("%Y-%m-%dT%H:%M:%S.%f")}000Z" level={level} msg={json.dumps(message)}'


def has_systemd() -> bool:
    return sim.host_path("/run/systemd/system").is_dir()


def crio_running() -> bool:
    """crio answers on its socket (whoever started it made the socket; stopping it removes it)."""
    return sim.host_path(CRIO_SOCKET).exists()


def allocate_pids(data: dict, count: int) -> int:
    """The first of `count` consecutive new process ids."""
    first = data.get("next_pid", FIRST_PID)
    data["next_pid"] = first + count + 3
    return first


def crio_config_files() -> list[str]:
    """crio.conf, then the drop-ins in lexical order (a later file wins), as host paths."""
    files = ["/etc/crio/crio.conf"] if sim.host_path("/etc/crio/crio.conf").is_file() else []
    folder = sim.host_path("/etc/crio/crio.conf.d")
    if folder.is_dir():
        files += [f"/etc/crio/crio.conf.d/{path.name}" for path in sorted(folder.glob("*.conf"))]
    return files


def config_banner() -> list[str]:
    """The 'Updating config' lines every crio command logs first."""
    lines = []
    if sim.host_path("/etc/crio/crio.conf").is_file():
        lines += [log_line("info", "Updating config from single file: /etc/crio/crio.conf"),
                  log_line("info", "Updating config from drop-in file: /etc/crio/crio.conf")]
    if sim.host_path("/etc/crio/crio.conf.d").is_dir():
        lines.append(log_line("info", "Updating config from path: /etc/crio/crio.conf.d"))
        lines += [log_line("info", f"Updating config from drop-in file: {path}")
                  for path in crio_config_files() if path.startswith("/etc/crio/crio.conf.d/")]
    return lines


def crio_setting(key: str, default: str) -> str:
    """The effective string value of a crio.conf key (the last file setting it wins)."""
    pattern = re.compile(rf'^\s*{re.escape(key)}\s*=\s*"((?:[^"\\]|\\.)*)"', re.MULTILINE)
    value = default
    for path in crio_config_files():
        for match in pattern.finditer(sim.host_path(path).read_text(errors="replace")):
            value = json.loads(f'"{match.group(1)}"')
    return value


def running_cgroup_manager() -> str:
    """The cgroup driver of the running crio: the one its configuration had when it started."""
    running = sim.peek().get("services", {}).get("crio", {})
    return running.get("cgroup_manager") or crio_setting("cgroup_manager", "systemd")


def crio_version() -> str:
    found = sim.which("crio")
    version = sim.installed_version("crio", found) if found else None
    return (version or "unknown").removeprefix("v")


def status(argv: list[str]) -> int:
    """`crio status info` (the recipe's crio-status became this subcommand in 1.28; call it with the
    arguments after "status"). It asks the running crio over its socket."""
    socket = CRIO_SOCKET
    topics = []
    index = 0
    while index < len(argv):
        if argv[index] in ("-s", "--socket"):
            socket = argv[index + 1] if index + 1 < len(argv) else socket
            index += 1
        elif not argv[index].startswith("-"):
            topics.append(argv[index])
        index += 1
    sim.say(*config_banner(), err=True)
    if topics[:1] != ["info"]:
        sim.say(log_line("fatal", f"unsupported in the simulated host: crio status {' '.join(topics)}"), err=True)
        return 1
    if not sim.host_path(socket).exists():
        escaped = socket.replace("/", "%2F")
        sim.say(log_line("fatal", f'do get request: Get "http://{escaped}/info": dial unix {socket}: '
                                  "connect: no such file or directory"), err=True)
        return 1
    sim.say(f"cgroup driver: {running_cgroup_manager()}",
            "storage driver: overlay",
            "storage graph root: /var/lib/containers/storage",
            "storage image: ",
            "default GID mappings (format <container>:<host>:<size>):",
            "  0:0:4294967295",
            "default UID mappings (format <container>:<host>:<size>):",
            "  0:0:4294967295")
    return 0


# ---- starting and stopping crio ----------------------------------------------------------------

def _conmon_path() -> str | None:
    return sim.which("conmon") or next((p for p in CONMON_PATHS if sim.host_path(p).is_file()), None)


def _cni_network_lines() -> list[str]:
    folder = sim.host_path("/etc/cni/net.d")
    if not folder.is_dir():
        return []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".conf", ".conflist", ".json"):
            continue
        try:
            config = json.loads(path.read_text(errors="replace"))
        except json.JSONDecodeError:
            continue
        plugin = (config.get("plugins") or [config])[0]
        name = config.get("name", "")
        host_file = f"/etc/cni/net.d/{path.name}"
        return [log_line("info", f"Found CNI network {name} (type={plugin.get('type', '')}) at {host_file}"),
                log_line("info", f"Updated default CNI network name to {name}")]
    return []


def start_crio(emit: Callable[[str], None], supervisor: str) -> bool:
    """Start the simulated crio daemon: validate as crio does, log as it does, then listen on its socket.
    `emit` receives each log line; `supervisor` is "systemd" or "none" (started in the background)."""
    for line in config_banner():
        emit(line)
    version = crio_version()
    emit(log_line("info", f"Starting CRI-O, version: {version}, git: 3d0bb6a5e51c2b4bd6f0a6e3f6c2d3a4b5c6d7e8(clean)"))
    sim.pace(0.1)
    runtime = crio_setting("default_runtime", "crun")
    injected = sim.fault("crio-start")
    failure = None
    if sim.peek().get("services", {}).get("crio", {}).get("active"):
        failure = f"validating api config: already existing connection on {CRIO_SOCKET}"
    elif injected or sim.which(runtime) is None:
        if injected:
            sim.fire("crio-start")
        failure = (f'validating runtime config: runtime validation: "{runtime}" not found in $PATH: '
                   f'exec: "{runtime}": executable file not found in $PATH')
    elif _conmon_path() is None:
        failure = (f"validating runtime config: monitor fields translation: failed to translate monitor fields "
                   f'for runtime {runtime}: exec: "conmon": executable file not found in $PATH')
    if failure:
        emit(log_line("fatal", failure))
        return False
    emit(log_line("info", "Node configuration value for cgroup v2 is true"))
    emit(log_line("info", "Using default capabilities: CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, "
                          "CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_KILL"))
    emit(log_line("info", f'Runtime handler "{runtime}" container create timeout not set, using default: 240 seconds'))
    runtime_version = sim.installed_version(runtime, sim.which(runtime) or "") or "unknown"
    emit(log_line("info", f"Using runtime handler {runtime} version {runtime_version.removeprefix('v')}"))
    emit(log_line("info", "Using the internal default seccomp profile"))
    emit(log_line("info", "Conmon does support the --sync option"))
    emit(log_line("info", f"Using conmon executable: {_conmon_path()}"))
    emit(log_line("info", "Checkpoint/restore support disabled: CRIU binary not found in $PATH"))
    for line in _cni_network_lines():
        emit(line)
    sim.pace(0.3)
    with sim.state() as data:
        pid = allocate_pids(data, 1)
        crio = data.setdefault("services", {}).setdefault("crio", {"enabled": False})
        crio.update({"active": True, "failed": False, "pid": pid, "supervisor": supervisor,
                     "since": time.time(), "path": sim.which("crio"),
                     "cgroup_manager": crio_setting("cgroup_manager", "systemd")})
    socket = sim.host_path(CRIO_SOCKET)
    socket.parent.mkdir(parents=True, exist_ok=True)
    socket.write_text("")
    emit(log_line("info", "Registered SIGHUP reload watcher"))
    emit(log_line("info", "Create NRI interface"))
    emit(log_line("info", "Synchronizing NRI (plugin) with current runtime state"))
    emit(log_line("info", "No systemd watchdog enabled"))
    return True


def stop_crio(emit: Callable[[str], None]) -> None:
    emit(log_line("info", "Received signal terminated, shutting down"))
    sim.host_path(CRIO_SOCKET).unlink(missing_ok=True)
    with sim.state() as data:
        crio = data.setdefault("services", {}).setdefault("crio", {"enabled": False})
        crio.update({"active": False, "pid": None})


# ---- systemctl and journalctl ------------------------------------------------------------------

def _journal(unit: str, line: str, by_systemd: bool = False) -> None:
    """Add a line to the unit's journal, as the unit's process or as systemd itself logged it."""
    with sim.state() as data:
        pid = data.get("services", {}).get(unit, {}).get("pid") or data.get("next_pid", FIRST_PID)
        stamp = sim.utc_time("%b %d %H:%M:%S")
        source = "systemd[1]" if by_systemd else f"{unit}[{pid}]"
        kept = data.setdefault("journal", {}).setdefault(unit, [])
        kept.append(f"{stamp} node1 {source}: {line}")
        del kept[:-JOURNAL_LINES_KEPT]


def _journal_writer(unit: str) -> Callable[[str], None]:
    return lambda line: _journal(unit, line)


def _unit_file(unit: str) -> str | None:
    return next((f"{d}/{unit}.service" for d in UNIT_DIRS if sim.host_path(f"{d}/{unit}.service").is_file()), None)


def _unit_name(arg: str) -> str:
    return arg.removesuffix(".service")


def _start(unit: str) -> int:
    """Start a unit; crio really starts (validation, socket), any other unit is simply marked active."""
    if _unit_file(unit) is None:
        sim.say(f"Failed to start {unit}.service: Unit {unit}.service not found.", err=True)
        return 5
    service = sim.peek().get("services", {}).get(unit, {})
    if service.get("active"):
        return 0
    if unit == "crio":
        _journal(unit, f"Starting {unit}.service - Container Runtime Interface for OCI (CRI-O)...", by_systemd=True)
        started = start_crio(_journal_writer(unit), supervisor="systemd")
        if not started:
            with sim.state() as data:
                data.setdefault("services", {}).setdefault("crio", {"enabled": False}).update(
                    {"active": False, "failed": True})
            _journal(unit, f"{unit}.service: Main process exited, code=exited, status=1/FAILURE", by_systemd=True)
            _journal(unit, f"{unit}.service: Failed with result 'exit-code'.", by_systemd=True)
            sim.say(f"Job for {unit}.service failed because the control process exited with error code.",
                    f'See "systemctl status {unit}.service" and "journalctl -xeu {unit}.service" for details.',
                    err=True)
            return 1
        _journal(unit, f"Started {unit}.service - Container Runtime Interface for OCI (CRI-O).", by_systemd=True)
        return 0
    with sim.state() as data:
        data.setdefault("services", {}).setdefault(unit, {"enabled": False}).update(
            {"active": True, "failed": False, "since": time.time()})
    return 0


def _stop(unit: str) -> int:
    if unit == "crio" and sim.peek().get("services", {}).get("crio", {}).get("active"):
        stop_crio(_journal_writer(unit))
        return 0
    with sim.state() as data:
        if unit in data.get("services", {}):
            data["services"][unit].update({"active": False, "failed": False})
    return 0


def _enable(unit: str, enable: bool) -> int:
    unit_file = _unit_file(unit)
    if unit_file is None:
        sim.say(f"Failed to {'enable' if enable else 'disable'} unit: Unit file {unit}.service does not exist.",
                err=True)
        return 1
    wants = sim.host_path(f"/etc/systemd/system/multi-user.target.wants/{unit}.service")
    if enable and not wants.is_symlink():
        wants.parent.mkdir(parents=True, exist_ok=True)
        wants.symlink_to(unit_file)
        sim.say(f"Created symlink /etc/systemd/system/multi-user.target.wants/{unit}.service \u2192 {unit_file}.",
                err=True)
    elif not enable and wants.is_symlink():
        wants.unlink()
        sim.say(f"Removed \"/etc/systemd/system/multi-user.target.wants/{unit}.service\".", err=True)
    with sim.state() as data:
        data.setdefault("services", {}).setdefault(unit, {"active": False})["enabled"] = enable
    return 0


def _active_state(unit: str) -> str:
    service = sim.peek().get("services", {}).get(unit, {})
    if service.get("failed"):
        return "failed"
    # a crio started by hand in the background is not systemd's: systemd calls the unit inactive
    running = service.get("active") and service.get("supervisor", "systemd") == "systemd"
    return "active" if running else "inactive"


def _status(unit: str) -> int:
    unit_file = _unit_file(unit)
    if unit_file is None:
        sim.say(f"Unit {unit}.service could not be found.", err=True)
        return 4
    service = sim.peek().get("services", {}).get(unit, {})
    state = _active_state(unit)
    since = sim.utc_time("%a %Y-%m-%d %H:%M:%S", service.get("since", time.time()))
    enabled = "enabled" if service.get("enabled") else "disabled"
    described = {"active": "active (running)", "failed": "failed (Result: exit-code)", "inactive": "inactive (dead)"}
    mark = {"active": "\u25cf", "failed": "\u00d7", "inactive": "\u25cb"}[state]
    lines = [f"{mark} {unit}.service - {'Container Runtime Interface for OCI (CRI-O)' if unit == 'crio' else unit}",
             f"     Loaded: loaded ({unit_file}; {enabled}; preset: disabled)",
             f"     Active: {described[state]} since {since} UTC"]
    if state == "active" and service.get("pid"):
        lines.append(f"   Main PID: {service['pid']} ({unit})")
    sim.say(*lines, "", *sim.peek().get("journal", {}).get(unit, [])[-10:])
    return 0 if state == "active" else 3


def systemctl(argv: list[str]) -> int:
    if not has_systemd():
        sim.say("System has not been booted with systemd as init system (PID 1). Can't operate.",
                "Failed to connect to bus: Host is down", err=True)
        return 1
    words = [arg for arg in argv if not arg.startswith("-")]
    if not words:
        sim.say("systemctl: simulated host: a command is needed", err=True)
        return 1
    command, units = words[0], [_unit_name(arg) for arg in words[1:]]
    quiet = "-q" in argv or "--quiet" in argv
    if command == "daemon-reload":
        sim.pace(0.3)
        return 0
    code = 0
    for unit in units:
        result = _unit_command(command, unit, argv, quiet)
        code = code or result
    return code


def _unit_command(command: str, unit: str, argv: list[str], quiet: bool) -> int:
    if command in ("enable", "disable"):
        code = _enable(unit, command == "enable")
        if code == 0 and "--now" in argv:
            code = _start(unit) if command == "enable" else _stop(unit)
        return code
    if command == "start":
        return _start(unit)
    if command == "stop":
        return _stop(unit)
    if command == "restart":
        _stop(unit)
        return _start(unit)
    if command == "is-active":
        state = _active_state(unit)
        if not quiet:
            sim.say(state)
        return 0 if state == "active" else 3
    if command == "is-enabled":
        if _unit_file(unit) is None:
            sim.say(f"Failed to get unit file state for {unit}.service: No such file or directory", err=True)
            return 1
        enabled = sim.peek().get("services", {}).get(unit, {}).get("enabled", False)
        if not quiet:
            sim.say("enabled" if enabled else "disabled")
        return 0 if enabled else 1
    if command == "status":
        return _status(unit)
    if command == "reset-failed":
        with sim.state() as data:
            if unit in data.get("services", {}):
                data["services"][unit]["failed"] = False
        return 0
    sim.say(f"Unknown command verb {command}.", err=True)
    return 1


def journalctl(argv: list[str]) -> int:
    units = [_unit_name(argv[i + 1]) for i, arg in enumerate(argv[:-1]) if arg in ("-u", "--unit")]
    units += [_unit_name(arg.split("=", 1)[1]) for arg in argv if arg.startswith("--unit=")]
    count = None
    for index, arg in enumerate(argv[:-1]):
        if arg in ("-n", "--lines"):
            count = int(argv[index + 1])
    journal = sim.peek().get("journal", {})
    lines = [line for unit in (units or sorted(journal)) for line in journal.get(unit, [])]
    if not lines:
        sim.say("-- No entries --")
    sim.say(*(lines[-count:] if count else lines))
    return 0


# ---- crio without systemd: setsid, pkill -----------------------------------------------------

def _real_program(name: str) -> str | None:
    """The machine's own program (for commands the simulated host does not stand in for)."""
    launcher_dir = os.environ.get(sim.BIN_ENV, "")
    search = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep) if d and d != launcher_dir)
    import shutil  # only here: the other service stand-ins start quicker without it

    return shutil.which(name, path=search)


def _crio_log_target(command: list[str]) -> tuple[bool, str | None]:
    """Is this command crio itself, and where does its output go? Understands `crio ...` and the wizard's
    `sh -c 'exec crio </dev/null >>"$1" 2>&1' sh LOGFILE` (the log file passed as a positional parameter)."""
    if Path(command[0]).name == "crio":
        return True, None
    if Path(command[0]).name in ("sh", "bash", "dash") and command[1:2] == ["-c"] and len(command) > 2:
        script, positional = command[2], command[4:]
        if re.match(r"\s*exec\s+crio(\s|$)", script):
            redirect = re.search(r'>>\s*"\$(\d)"', script)
            if redirect and int(redirect.group(1)) <= len(positional):
                return True, positional[int(redirect.group(1)) - 1]
            return True, None
    return False, None


def setsid(argv: list[str]) -> int:
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        index += 1
    command = argv[index:]
    if not command:
        sim.say("setsid: no command specified", err=True)
        return 1
    is_crio, log_file = _crio_log_target(command)
    if not is_crio:
        real = _real_program("setsid")
        if real is None:
            sim.say("setsid: not available on this machine", err=True)
            return 127
        os.execv(real, ["setsid", *argv])
    forked = "-f" in argv or "--fork" in argv

    def emit(line: str) -> None:
        if log_file:
            with open(log_file, "a", encoding="utf-8") as log:
                log.write(line + "\n")
        else:
            sim.say(line, err=True)

    if sim.which("crio") is None:
        via_shell = Path(command[0]).name != "crio"
        emit("sh: 1: exec: crio: not found" if via_shell else "setsid: failed to execute crio: No such file or directory")
        return 0 if forked else 127
    started = start_crio(emit, supervisor="none")
    # with --fork the caller gets 0 at once: a crio that dies right after starting shows only in its log
    return 0 if started or forked else 1


def pkill(argv: list[str]) -> int:
    """pkill; only crio is modelled as a process that can be signalled (it stops: the socket goes away)."""
    patterns = [arg for arg in argv if not arg.startswith("-")]
    exact = "-x" in argv or "--exact" in argv
    crio = sim.peek().get("services", {}).get("crio", {})
    matches = any(p == "crio" if exact else p in "crio" for p in patterns)
    if not (matches and crio.get("active")):
        return 1
    if crio.get("supervisor") == "systemd":
        stop_crio(_journal_writer("crio"))
    else:
        stop_crio(lambda line: None)
    return 0


# ---- ps ----------------------------------------------------------------------------------------

def process_table() -> dict[int, dict]:
    """pid -> {"ppid", "comm", "args"}: PID 1, crio, and per running container its conmon and its process.
    conmon double-forks, so its parent is PID 1; the container's process is conmon's child."""
    data = sim.peek()
    init = ("systemd", "/sbin/init") if has_systemd() else ("sh", "/bin/sh")
    table = {1: {"ppid": 0, "comm": init[0], "args": init[1]}}
    crio = data.get("services", {}).get("crio", {})
    if crio.get("active") and crio.get("pid"):
        table[crio["pid"]] = {"ppid": 1, "comm": "crio", "args": crio.get("path") or "/usr/local/bin/crio"}
    conmon = _conmon_path() or "/usr/local/bin/conmon"
    for pod in data.get("pods", []):
        for container in pod.get("containers", []):
            pid = container.get("pid")
            if not pid or container.get("state") != "CONTAINER_RUNNING":
                continue
            table[pid - 1] = {"ppid": 1, "comm": "conmon",
                              "args": f"{conmon} -b /run/containers/storage/overlay-containers/{container['id']}"
                                      f"/userdata -c {container['id']} --exit-dir /var/run/crio/exits"}
            command = container.get("command") or [container.get("name", "container")]
            table[pid] = {"ppid": pid - 1, "comm": Path(command[0]).name[:15], "args": " ".join(command)}
    return table


def ps(argv: list[str]) -> int:
    columns, pids, names, every = ["pid", "tty", "time", "cmd"], None, None, False
    index = 0
    while index < len(argv):
        arg, following = argv[index], argv[index + 1] if index + 1 < len(argv) else ""
        if arg in ("-o", "-p", "-C", "--pid"):
            if arg == "-o":
                columns = following.split(",")
            elif arg == "-C":
                names = following.split(",")
            else:
                pids = [int(p) for p in following.split(",") if p.strip().isdigit()]
            index += 1
        elif arg in ("-e", "-A"):
            every = True
        else:
            sim.say(f"error: unsupported option {arg} (simulated ps knows -o, -p, -C, -e)", err=True)
            return 1
        index += 1
    table = process_table()
    chosen = sorted(table) if every or (pids is None and names is None) else []
    if pids is not None:
        chosen = [pid for pid in pids if pid in table]
    if names is not None:
        chosen = [pid for pid in sorted(table) if table[pid]["comm"] in names]
    headers = [column.rstrip("=") for column in columns]
    if any(not column.endswith("=") for column in columns):
        sim.say(" ".join(f"{header.upper():>7}" if header in ("pid", "ppid") else header.upper() for header in headers))
    for pid in chosen:
        row = {"pid": pid, "ppid": table[pid]["ppid"], "comm": table[pid]["comm"], "args": table[pid]["args"],
               "cmd": table[pid]["args"], "tty": "?", "time": "00:00:00"}
        sim.say(" ".join(f"{row.get(h, '-'):>7}" if h in ("pid", "ppid") else str(row.get(h, "-")) for h in headers))
    return 0 if chosen else 1


# ---- sudo --------------------------------------------------------------------------------------

def _family() -> str:
    release = sim.host_path("/etc/os-release")
    text = release.read_text(errors="replace") if release.is_file() else ""
    # ID first, then the words of ID_LIKE
    ids = " ".join(re.findall(r'^(?:ID|ID_LIKE)="?([^"\n]*)', text, re.MULTILINE)).split()
    if ids[:1] == ["fedora"]:
        return "fedora"
    if "rhel" in ids or "centos" in ids:
        return "el"
    return "ubuntu" if "ubuntu" in ids else "debian"


def secure_path() -> str:
    """secure_path from /etc/sudoers (and sudoers.d; the last setting wins), else the distribution's default."""
    found = None
    files = [sim.host_path("/etc/sudoers")]
    if sim.host_path("/etc/sudoers.d").is_dir():
        files += sorted(sim.host_path("/etc/sudoers.d").iterdir())
    for path in files:
        if path.is_file():
            for match in re.finditer(r'^\s*Defaults\s+secure_path\s*=\s*"?([^"\n]+)"?', path.read_text(errors="replace"),
                                     re.MULTILINE):
                found = match.group(1).strip()
    return found or SECURE_PATHS[_family()]


def resolve_in_host(host_path: str) -> str | None:
    """The host path a file resolves to inside the simulated host (its symlinks may point at host paths,
    or at sandbox paths as the engine writes them), or None when it leads nowhere."""
    root = str(sim.root())
    for _ in range(10):
        real = sim.host_path(host_path)
        if real.is_symlink():
            target = os.readlink(real)
            if target.startswith(root + "/"):
                target = target[len(root):]
            host_path = target if target.startswith("/") else str(Path(host_path).parent / target)
            continue
        return host_path if real.is_file() else None
    return None


def _stand_in(name: str) -> tuple[Path, bool] | None:
    """The launcher of a stand-in tool and whether the tool must be installed to exist."""
    launcher = Path(os.environ.get(sim.BIN_ENV, "")) / name
    if not launcher.is_file():
        return None
    module = re.search(r"main\('([a-z_]+)', ", launcher.read_text())
    tool = importlib.import_module(f"wizard.simulate.tools.{module.group(1)}").TOOLS[name]
    return launcher, tool.installable


def sudo(argv: list[str]) -> int:
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        if argv[index] in ("-V", "--version"):
            family = _family()
            sim.say(f"Sudo version {SUDO_VERSIONS[family]}", "Sudoers policy plugin version "
                    f"{SUDO_VERSIONS[family]}", "Sudoers file grammar version 50", "",
                    "Sudoers path: /etc/sudoers", "Authentication methods: 'pam'", "Syslog facility if syslog is "
                    "being used for logging: authpriv", "Send mail if the user is not in sudoers",
                    f"Value to override user's $PATH with: {secure_path()}",
                    "Path to authentication timestamp dir: /run/sudo/ts")
            return 0
        index += 2 if argv[index] in ("-u", "-g", "--user", "--group") else 1
    command = argv[index:]
    if not command:
        sim.say("usage: sudo -h | -K | -k | -V", "usage: sudo [-ABbEHknPSV] [-C num] [-D directory] [-g group] "
                "[-h host] [-p prompt] [-R directory] [-T timeout] [-u user] [VAR=value] [-i | -s] [<command>]",
                err=True)
        return 1
    name = command[0]
    candidates = [name] if name.startswith("/") else [f"{d}/{name}" for d in secure_path().split(":") if d]
    found = next((resolved for resolved in map(resolve_in_host, candidates) if resolved), None)
    stand_in = _stand_in(Path(name).name)
    env = dict(os.environ)
    if stand_in is not None and (found or not stand_in[1]):
        if found:
            env[sim.ARGV0_ENV] = found
        os.execve(stand_in[0], [Path(name).name, *command[1:]], env)
    real = None if stand_in is not None else _real_program(name)
    if real is None:
        sim.say(f"sudo: {name}: command not found", err=True)
        return 1
    os.execve(real, command, env)


TOOLS = {
    "systemctl": sim.Tool(systemctl),
    "journalctl": sim.Tool(journalctl),
    "setsid": sim.Tool(setsid),
    "pkill": sim.Tool(pkill),
    "ps": sim.Tool(ps),
    "sudo": sim.Tool(sudo),
}
