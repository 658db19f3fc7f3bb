"""Preflight: named checks of the machine before anything changes it, each with a severity, what was seen and a hint."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from contextlib import suppress
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import urlsplit

from wizard import mirrors
from wizard.host import GO_ARCH
from wizard.pins import version_at_least
from wizard.steps.base import Context
from wizard.steps.crio_config import cgroup_manager, pause_image

GIB = 1024**3
MIB = 1024**2
CONNECT_TIMEOUT = 3.0  # seconds per source host
RESOLVE_TIMEOUT = 2.0  # seconds for the hostname lookup
SERVICE_NETWORK = "10.96.0.0/12"  # Kubernetes' default service CIDR (kubeadm, minikube)
# ports the cluster binds: apiserver (minikube's), kubelet, controller-manager, scheduler, etcd
CLUSTER_TCP_PORTS = (8443, 10250, 10257, 10259, 2379, 2380)
FLANNEL_TCP_PORTS = (8081,)  # flannel's health endpoint
VXLAN_UDP_PORT = 8472
KUBE_COMPONENTS = {"kube-apiserver", "kubelet", "etcd", "kube-controller", "kube-scheduler", "flanneld", "kube-proxy"}
# process name (as /proc/PID/comm shows it, 15 characters at most) -> what it is
OTHER_RUNTIMES = {"dockerd": "Docker", "containerd": "containerd", "containerd-shim": "containerd",
                  "cri-dockerd": "cri-dockerd"}
OTHER_CLUSTERS = {"k3s": "k3s", "k3s-server": "k3s", "k3s-agent": "k3s", "rke2": "RKE2", "kubelet": "a kubelet"}
OTHER_SOCKETS = ("/run/containerd/containerd.sock", "/var/run/docker.sock", "/run/k3s/containerd/containerd.sock",
                 "/run/cri-dockerd.sock")
TIME_DAEMONS = {"chronyd", "ntpd", "systemd-timesyn", "openntpd", "timesyncd"}
REQUIRED_SYSCTLS = ("net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables", "net.ipv4.ip_forward")
CAP_SYS_RESOURCE = 24
SOURCE_BUILT = ("crio", "conmon", "cni_plugins", "crictl", "flannel_cni")
# install.<component> answer -> the sources.<key> it clones when built from source
SOURCE_KEYS = {"crio": "crio", "conmon": "conmon", "cni_plugins": "cni_plugins", "crictl": "cri_tools",
               "flannel_cni": "flannel_cni"}
DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22, "git": 9418}


class UnknownCheck(ValueError):
    """A check name given to waive or select is not one of CHECKS."""


@dataclass(frozen=True)
class PreflightResult:
    name: str
    severity: str  # error (a failure refuses the run unless waived) | warning
    status: str  # pass | warn | fail | waived
    detail: str  # what was seen, never empty
    fix_hint: str  # what to do about it ("" when there is nothing to do)


@dataclass(frozen=True)
class Finding:
    """What a check function returns; severity and waiving are applied around it."""

    status: str  # pass | warn | fail
    detail: str
    fix_hint: str = ""


@dataclass(frozen=True)
class PreflightCheck:
    name: str
    severity: str
    function: Callable[[Context], Awaitable[Finding]]

    async def __call__(self, ctx: Context) -> PreflightResult:
        try:
            finding = await self.function(ctx)
        except Exception as error:  # one broken check must not hide the others' results
            finding = Finding("warn", f"could not check: {type(error).__name__}: {error}",
                              "run `crio-wizard doctor` and report this line")
        status = "warn" if finding.status == "fail" and self.severity == "warning" else finding.status
        return PreflightResult(self.name, self.severity, status, finding.detail or "nothing to report",
                               finding.fix_hint)


CHECKS: dict[str, PreflightCheck] = {}


def _check(name: str, severity: str) -> Callable:
    def register(function: Callable[[Context], Awaitable[Finding]]) -> Callable:
        CHECKS[name] = PreflightCheck(name, severity, function)
        return function

    return register


async def run_preflight(ctx: Context, ignore: set[str] = frozenset(),
                        only: set[str] | None = None) -> list[PreflightResult]:
    """Run the checks (all, or `only` these), concurrently; results come in CHECKS order. A check named in
    `ignore` (or every check, for "all") that does not pass is reported as waived."""
    unknown = (set(ignore) | set(only or ())) - set(CHECKS) - {"all"}
    if unknown:
        raise UnknownCheck(f"unknown preflight check {', '.join(sorted(unknown))}; the checks are: "
                           + ", ".join(CHECKS))
    chosen = [check for name, check in CHECKS.items() if only is None or name in only]
    results = await asyncio.gather(*(check(ctx) for check in chosen))
    waived = set(CHECKS) if "all" in ignore else set(ignore)
    return [_waive(result) if result.name in waived and result.status != "pass" else result for result in results]


def _waive(result: PreflightResult) -> PreflightResult:
    return PreflightResult(result.name, result.severity, "waived", f"{result.detail} (waived)", result.fix_hint)


def refused(results: list[PreflightResult]) -> list[PreflightResult]:
    """The failed error-severity checks that were not waived: any of them stops the run."""
    return [result for result in results if result.severity == "error" and result.status == "fail"]


# -- helpers -------------------------------------------------------------------------------------

def _simulated(ctx: Context) -> bool:
    return ctx.host.simulated is not None


def _cluster(ctx: Context) -> bool:
    return ctx.answers.scope != "runtime"


def _flannel(ctx: Context) -> bool:
    return ctx.answers.scope == "cluster+flannel"


def _processes(ctx: Context) -> list[tuple[int, str, str]]:
    """(pid, comm, command line) of every process visible in the host's /proc."""
    try:
        pids = [entry.name for entry in ctx.host.path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return []
    found = []
    for pid in pids:
        comm = ctx.read(f"/proc/{pid}/comm")
        if comm is not None:
            cmdline = (ctx.read(f"/proc/{pid}/cmdline") or "").replace("\0", " ").strip()
            found.append((int(pid), comm.strip(), cmdline))
    return sorted(found)


def _gib(size: float) -> str:
    return f"{size / GIB:.1f} GiB"


def _listing(ctx: Context, host_dir: str) -> list[str]:
    try:
        return sorted(entry.name for entry in ctx.host.path(host_dir).iterdir())
    except OSError:
        return []


# -- the checks, in the order they are reported ----------------------------------------------------------------

@_check("root", "error")
async def check_root(ctx: Context) -> Finding:
    if _simulated(ctx):
        return Finding("pass", "simulated host: commands run as the sandbox's root")
    euid = os.geteuid()
    if euid == 0:
        return Finding("pass", "running as root (euid 0)")
    if ctx.runner is not None:
        probe = await ctx.probe(["sudo", "-n", "true"], timeout=10)
        if probe.exit_code == 0:
            return Finding("pass", f"euid {euid}, and passwordless sudo works")
        seen = probe.output.strip().splitlines()[-1] if probe.output.strip() else f"exit {probe.exit_code}"
        return Finding("fail", f"euid {euid}, and `sudo -n true` fails: {seen}",
                       "run crio-wizard as root (sudo crio-wizard ...); it never asks for a password itself")
    return Finding("fail", f"euid {euid} (not root)", "run crio-wizard as root (sudo crio-wizard ...)")


@_check("distro", "error")
async def check_distro(ctx: Context) -> Finding:
    facts = ctx.host.facts
    reason = facts.unsupported_reason()
    if reason:
        return Finding("fail", reason, "use a supported distribution (a VM is fine), or the simulated host to practise")
    return Finding("pass", f"{facts.pretty_name} ({facts.family} family, {facts.package_manager})")


@_check("arch", "error")
async def check_arch(ctx: Context) -> Finding:
    machine = ctx.host.facts.machine
    if machine not in GO_ARCH:
        return Finding("fail", f"{machine}: no Go toolchain or release files for it",
                       "supported: " + ", ".join(GO_ARCH))
    return Finding("pass", f"{machine} (release files: {GO_ARCH[machine]})")


@_check("systemd", "error")
async def check_systemd(ctx: Context) -> Finding:
    if ctx.host.facts.systemd:
        return Finding("pass", "PID 1 is systemd")
    init = (ctx.read("/proc/1/comm") or "unknown").strip()
    if _cluster(ctx):
        # minikube's none driver runs the kubelet as a systemd unit: without systemd it cannot start
        return Finding("fail", f"PID 1 is {init}, not systemd: minikube's none driver runs the kubelet as a "
                               "systemd service and cannot start here",
                       "answer scope: runtime (CRI-O and crictl only), or use a host that boots with systemd")
    return Finding("warn", f"PID 1 is {init}, not systemd: crio runs in the background without a unit, "
                           "with the cgroupfs driver",
                   "fine for practice and containers; on a server prefer a systemd host")


def _module_presence(ctx: Context, name: str, loaded: set[str], release: str) -> str | None:
    """How a kernel module is available ("loaded", "built in", "loadable"), or None."""
    if name in loaded:
        return "loaded"
    if ctx.exists(f"/sys/module/{name}"):
        return "present"
    if name == "br_netfilter" and ctx.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
        return "present"  # built in: its sysctls exist without a module to load
    if name == "overlay" and re.search(r"\soverlay$", ctx.read("/proc/filesystems") or "", re.M):
        return "present"
    if release:
        module_file = re.compile(rf"/{re.escape(name)}\.ko(?:\.\w+)?:?(?:\s|$)", re.M)
        if module_file.search(ctx.read(f"/lib/modules/{release}/modules.builtin") or ""):
            return "built in"
        if module_file.search(ctx.read(f"/lib/modules/{release}/modules.dep") or ""):
            return "loadable"
    return None


@_check("kernel-modules", "error")
async def check_kernel_modules(ctx: Context) -> Finding:
    release = (ctx.read("/proc/sys/kernel/osrelease") or "").strip()
    modules_text = ctx.read("/proc/modules")
    loaded = {line.split()[0] for line in (modules_text or "").splitlines() if line.strip()}
    wanted = ["overlay", "br_netfilter"]
    if _flannel(ctx) and ctx.answers.get("flannel.backend") == "vxlan":
        wanted.append("vxlan")
    states = {name: _module_presence(ctx, name, loaded, release) for name in wanted}
    seen = ", ".join(f"{name} {state or 'missing'}" for name, state in states.items())
    detail = f"{seen} (kernel {release or 'unknown'})"
    missing = [name for name, state in states.items() if state is None]
    if missing:
        return Finding("fail", detail,
                       f"{', '.join(missing)} is neither loaded nor in /lib/modules/{release}: install the kernel's "
                       "extra modules (kernel-modules-extra, linux-modules-extra-$(uname -r)); in a container the "
                       "host must load them")
    return Finding("pass", detail + ("; host-prep loads the loadable ones" if "loadable" in states.values() else ""))


@_check("sysctls", "warning")
async def check_sysctls(ctx: Context) -> Finding:
    values = {key: (ctx.read("/proc/sys/" + key.replace(".", "/")) or "").strip() for key in REQUIRED_SYSCTLS}
    unset = {key: value for key, value in values.items() if value != "1"}
    if not unset:
        return Finding("pass", ", ".join(f"{key}=1" for key in values))
    seen = ", ".join(f"{key}={value or 'absent (br_netfilter not loaded)'}" for key, value in unset.items())
    ip_forward = ctx.host.path("/proc/sys/net/ipv4/ip_forward")
    if not _simulated(ctx) and ip_forward.exists() and not os.access(ip_forward, os.W_OK):
        return Finding("warn", f"{seen}, and /proc/sys is read-only here",
                       "set them on the machine that runs this container (host-prep cannot)")
    return Finding("pass", f"{seen}: host-prep sets them (/etc/sysctl.d)")


def _cgroup_mount_type(ctx: Context) -> tuple[str | None, bool]:
    """The filesystem type mounted at /sys/fs/cgroup, and whether a v2 hierarchy is mounted below it (hybrid)."""
    mounts: dict[str, str] = {}
    mountinfo = ctx.read("/proc/self/mountinfo")
    if mountinfo:
        for line in mountinfo.splitlines():
            fields, _, after = line.partition(" - ")
            if len(fields.split()) > 4 and after:
                mounts[fields.split()[4]] = after.split()[0]
    else:
        for line in (ctx.read("/proc/mounts") or "").splitlines():
            fields = line.split()
            if len(fields) > 2:
                mounts[fields[1]] = fields[2]
    hybrid = any(point.startswith("/sys/fs/cgroup/") and kind == "cgroup2" for point, kind in mounts.items())
    return mounts.get("/sys/fs/cgroup"), hybrid


@_check("cgroup", "error")
async def check_cgroup(ctx: Context) -> Finding:
    kind, hybrid = _cgroup_mount_type(ctx)
    driver = cgroup_manager(ctx)
    if kind == "cgroup2":
        return Finding("pass", f"cgroup v2 (cgroup2fs), driver {driver}")
    if kind is None:
        return Finding("fail", "no cgroup filesystem is mounted at /sys/fs/cgroup",
                       "mount cgroup2 at /sys/fs/cgroup (containers: run with --cgroupns=host or privileged)")
    version = "cgroup v1 (hybrid)" if hybrid else "cgroup v1"
    kubernetes = ctx.answers.pins.kubernetes
    newer_kubelet = version_at_least(kubernetes, "1.35")
    if _cluster(ctx) and newer_kubelet and driver == "systemd":
        return Finding("fail", f"{version} with the systemd driver: the kubelet of Kubernetes {kubernetes} refuses "
                               "to start there",
                       "boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2), or answer cgroup_manager: cgroupfs, "
                       'or kubernetes: "1.34"')
    note = ("minikube lets the kubelet run on it with the cgroupfs driver" if _cluster(ctx) and newer_kubelet
            else "CRI-O still supports it")
    return Finding("warn", f"{version}, driver {driver}: {note}; upstream is removing cgroup v1 support",
                   "prefer cgroup v2 (systemd.unified_cgroup_hierarchy=1 on the kernel command line)")


@_check("swap", "warning")
async def check_swap(ctx: Context) -> Finding:
    text = ctx.read("/proc/swaps")
    if text is None:
        return Finding("pass", "no /proc/swaps: the kernel has no swap support")
    active = [line.split() for line in text.splitlines()[1:] if line.strip()]
    if not active:
        return Finding("pass", "no swap in use")
    seen = ", ".join(f"{fields[0]} ({_gib(int(fields[2]) * 1024)})" for fields in active if len(fields) > 2)
    return Finding("warn", f"swap is on: {seen}",
                   "minikube tolerates swap, but the kubelet's memory accounting assumes none: "
                   "`swapoff -a` and remove the swap line from /etc/fstab")


@_check("selinux", "warning")
async def check_selinux(ctx: Context) -> Finding:
    enforce = ctx.read("/sys/fs/selinux/enforce")
    if enforce is None:
        return Finding("pass", "SELinux is not enabled")
    if enforce.strip() == "0":
        return Finding("pass", "SELinux is permissive")
    return Finding("warn", "SELinux is enforcing",
                   "binaries installed under /usr/local carry a generic label, and crio or conmon may be denied: "
                   "`restorecon -Rv /usr/local/bin` after installing, or `setenforce 0` while practising")


@_check("cpu", "error")
async def check_cpu(ctx: Context) -> Finding:
    if _simulated(ctx):
        count = len(re.findall(r"^processor\s*:", ctx.read("/proc/cpuinfo") or "", re.M))
        source = "/proc/cpuinfo"
    else:
        count = len(os.sched_getaffinity(0))
        source = "usable by this process"
    detail = f"{count} CPU{'s' if count != 1 else ''} ({source})"
    if count >= 2:
        return Finding("pass", detail)
    if _cluster(ctx):
        return Finding("fail", f"{detail}: minikube needs at least 2", "give the machine 2 or more CPUs")
    return Finding("warn", f"{detail}: builds will be slow", "2 or more CPUs make the builds much faster")


@_check("memory", "error")
async def check_memory(ctx: Context) -> Finding:
    found = re.search(r"^MemTotal:\s+(\d+)\s+kB", ctx.read("/proc/meminfo") or "", re.M)
    if not found:
        return Finding("warn", "no MemTotal in /proc/meminfo", "make sure the machine has at least 2 GiB of memory")
    total = int(found.group(1)) * 1024
    detail = f"{_gib(total)} of memory"
    # a "2 GB" VM shows a little less than 2 GiB (the kernel keeps some); minikube refuses below 1800 MB
    if total >= 2 * GIB:
        return Finding("pass", detail)
    if total >= 1800 * MIB:
        return Finding("warn", f"{detail}: just enough", "2 GiB or more leaves room for the builds and the cluster")
    return Finding("fail" if _cluster(ctx) else "warn", f"{detail}: at least 2 GiB are needed",
                   "give the machine 2 GiB of memory or more")


@_check("disk", "error")
async def check_disk(ctx: Context) -> Finding:
    where = ctx.workdir
    while not where.exists() and where != where.parent:
        where = where.parent
    stats = os.statvfs(where)
    free = stats.f_bavail * stats.f_frsize
    builds = any(ctx.answers.get(f"install.{component}") == "source" for component in SOURCE_BUILT)
    needed = 10 * GIB if builds else 2 * GIB
    reason = "source builds and the Go cache" if builds else "binaries and images"
    detail = f"{_gib(free)} free under {where} ({reason} need about {_gib(needed)})"
    if free >= needed:
        return Finding("pass", detail)
    return Finding("fail", detail, "free some space, or answer `workdir:` with a directory on a larger disk")


def _bound_ports(ctx: Context) -> dict[tuple[str, int], int]:
    """(tcp|udp, port) -> socket inode, for TCP listeners and bound UDP sockets (IPv4 and IPv6)."""
    bound: dict[tuple[str, int], int] = {}
    for table, protocol, state in (("tcp", "tcp", "0A"), ("tcp6", "tcp", "0A"), ("udp", "udp", None),
                                   ("udp6", "udp", None)):
        for line in (ctx.read(f"/proc/net/{table}") or "").splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and ":" in fields[1] and (state is None or fields[3] == state):
                bound[(protocol, int(fields[1].rsplit(":", 1)[1], 16))] = int(fields[9])
    return bound


def _socket_owners(ctx: Context, inodes: set[int]) -> dict[int, str]:
    """Socket inode -> "name (pid N)" of a process holding it, from /proc/PID/fd."""
    owners: dict[int, str] = {}
    for pid, comm, _ in _processes(ctx):
        fd_dir = ctx.host.path(f"/proc/{pid}/fd")
        with suppress(OSError):
            for fd in fd_dir.iterdir():
                with suppress(OSError):
                    found = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(fd))
                    if found and int(found.group(1)) in inodes:
                        owners.setdefault(int(found.group(1)), f"{comm} (pid {pid})")
    return owners


@_check("ports", "error")
async def check_ports(ctx: Context) -> Finding:
    if not _cluster(ctx):
        return Finding("pass", "the runtime scope binds no fixed ports")
    wanted = [("tcp", port) for port in CLUSTER_TCP_PORTS]
    if _flannel(ctx):
        wanted += [("tcp", port) for port in FLANNEL_TCP_PORTS]
        if ctx.answers.get("flannel.backend") == "vxlan":
            wanted.append(("udp", VXLAN_UDP_PORT))
    bound = _bound_ports(ctx)
    busy = [key for key in wanted if key in bound]
    if not busy:
        return Finding("pass", "free: " + " ".join(f"{port}/{protocol}" for protocol, port in wanted))
    owners = _socket_owners(ctx, {bound[key] for key in busy})
    seen = ", ".join(f"{port}/{protocol} in use" + (f" by {owners[bound[(protocol, port)]]}"
                                                     if bound[(protocol, port)] in owners else "")
                     for protocol, port in busy)
    owner_names = {owners[bound[key]].split(" (")[0] for key in busy if bound[key] in owners}
    if owner_names and owner_names <= KUBE_COMPONENTS:
        return Finding("warn", f"{seen}: a cluster is already running (an earlier run?)",
                       "`crio-wizard reset` (or `minikube delete`) before a fresh run")
    return Finding("fail", seen, "stop what holds these ports, or waive `ports` if it is this wizard's own cluster")


@_check("conflicting-runtimes", "error")
async def check_conflicting_runtimes(ctx: Context) -> Finding:
    clusters, runtimes, ours = [], [], []
    for pid, comm, cmdline in _processes(ctx):
        if comm == "kubelet" and "crio.sock" in cmdline:
            ours.append(f"kubelet on CRI-O (pid {pid})")
        elif comm in OTHER_CLUSTERS:
            clusters.append(f"{OTHER_CLUSTERS[comm]} (pid {pid})")
        elif comm in OTHER_RUNTIMES:
            runtimes.append(f"{OTHER_RUNTIMES[comm]} (pid {pid})")
    sockets = [path for path in OTHER_SOCKETS if ctx.exists(path)]
    seen = "; ".join(part for part in (
        ", ".join(clusters), ", ".join(runtimes), ", ".join(ours),
        ("sockets: " + ", ".join(sockets)) if sockets else "") if part)
    if clusters:
        return Finding("fail" if _cluster(ctx) else "warn", f"running: {seen}",
                       "stop and disable the other Kubernetes (it holds the kubelet's ports and /etc/cni/net.d)")
    if runtimes:
        return Finding("warn", f"running: {seen}",
                       "minikube's none driver stops other container runtimes when it starts CRI-O; crictl needs "
                       "--runtime-endpoint or /etc/crictl.yaml to pick CRI-O")
    if ours:
        return Finding("warn", f"running: {seen}: a cluster from an earlier run",
                       "`crio-wizard reset` before a fresh run")
    if sockets:
        return Finding("warn", f"no other runtime runs, but these sockets exist: {', '.join(sockets)}",
                       "left over from an uninstalled runtime; remove them to keep tools from picking them")
    return Finding("pass", "no docker, containerd, kubelet or k3s running, and no other CRI socket")


@_check("cni-leftovers", "warning")
async def check_cni_leftovers(ctx: Context) -> Finding:
    files = _listing(ctx, "/etc/cni/net.d")
    links = [name for name in ("cni0", "flannel.1", "cni-podman0") if ctx.exists(f"/sys/class/net/{name}")]
    if not files and not links:
        return Finding("pass", "/etc/cni/net.d is empty and there is no cni0 or flannel.1 link")
    seen = "; ".join(part for part in (
        ("/etc/cni/net.d: " + ", ".join(files)) if files else "", ("links: " + ", ".join(links)) if links else "")
        if part)
    return Finding("warn", seen,
                   "CRI-O uses the lexically first conflist, and a stale cni0 keeps its old address: "
                   "`crio-wizard reset` removes what the wizard made; remove other files and links yourself")


def _secure_path(ctx: Context) -> tuple[str | None, bool]:
    """sudo's secure_path (the last one set wins), and whether any sudoers file exists."""
    texts = [ctx.read("/etc/sudoers")]
    texts += [ctx.read(f"/etc/sudoers.d/{name}") for name in _listing(ctx, "/etc/sudoers.d")]
    present = [text for text in texts if text is not None]
    value = None
    for text in present:
        for found in re.finditer(r"^\s*Defaults\s+secure_path\s*=\s*\"?([^\"\n]+?)\"?\s*$", text, re.M):
            value = found.group(1).strip()
    return value, bool(present)


@_check("root-path", "warning")
async def check_root_path(ctx: Context) -> Finding:
    secure_path, has_sudoers = _secure_path(ctx)
    bin_dir = ctx.answers.get("install.prefix").rstrip("/") + "/bin"
    if not has_sudoers:
        return Finding("pass", "no /etc/sudoers (sudo is not installed): root's own PATH applies")
    if secure_path is None:
        return Finding("pass", "sudo sets no secure_path: it keeps the caller's PATH")
    if bin_dir in secure_path.split(":"):
        return Finding("pass", f"sudo's secure_path includes {bin_dir}")
    return Finding("warn", f"sudo's secure_path ({secure_path}) lacks {bin_dir}, where the builds install",
                   "the root-path step links crio, crictl and conmon into /usr/bin so minikube finds them "
                   "(or answer install.prefix: /usr)")


@_check("time-sync", "warning")
async def check_time_sync(ctx: Context) -> Finding:
    if ctx.exists("/run/systemd/timesync/synchronized"):
        return Finding("pass", "systemd-timesyncd reports the clock synchronized")
    daemons = sorted({comm for _, comm, _ in _processes(ctx) if comm in TIME_DAEMONS})
    if daemons:
        return Finding("pass", f"time sync running: {', '.join(daemons)}")
    if ctx.exists("/run/chrony/chronyd.pid"):
        return Finding("pass", "chronyd is running (/run/chrony/chronyd.pid)")
    return Finding("warn", "no chronyd, ntpd or systemd-timesyncd seen",
                   "certificates and image pulls fail when the clock is off: install chrony (in a container the "
                   "host's clock applies)")


def _hosts_names(ctx: Context) -> set[str]:
    names = set()
    for line in (ctx.read("/etc/hosts") or "").splitlines():
        fields = line.split("#", 1)[0].split()
        names.update(fields[1:])
    return names


@_check("hostname", "warning")
async def check_hostname(ctx: Context) -> Finding:
    if _simulated(ctx):
        name = (ctx.read("/etc/hostname") or "").strip()
    else:
        name = socket.gethostname()
    if not name:
        return Finding("warn", "the machine has no hostname", "set one with hostnamectl set-hostname NAME")
    problems = []
    if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", name):
        problems.append("not a lowercase RFC 1123 name, which the node name must be")
    if name in _hosts_names(ctx):
        how = "in /etc/hosts"
    elif _simulated(ctx):
        how = None
    else:
        try:
            infos = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(name, None), RESOLVE_TIMEOUT)
            how = f"by DNS ({infos[0][4][0]})"
        except (asyncio.TimeoutError, OSError):
            how = None
    if how is None:
        problems.append("does not resolve")
    if problems:
        return Finding("warn", f"hostname {name!r}: " + "; ".join(problems),
                       f"add `127.0.1.1 {name.lower()}` to /etc/hosts (and use a lowercase name)")
    return Finding("pass", f"hostname {name!r} resolves {how}")


def _proxy_settings(ctx: Context) -> tuple[list[str], str, str]:
    """(proxy URLs, NO_PROXY, where they came from): the answers first, else the environment."""
    answered = [url for url in (ctx.answers.get("proxy.http"), ctx.answers.get("proxy.https")) if url]
    if answered:
        return answered, ctx.answers.get("proxy.no_proxy"), "the answers"
    env = ctx.host.env
    found = [env[key] for key in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy") if env.get(key)]
    return found, env.get("NO_PROXY") or env.get("no_proxy") or "", "the environment"


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or url
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "") if parts.scheme else host


@_check("proxy", "error")
async def check_proxy(ctx: Context) -> Finding:
    proxies, no_proxy, source = _proxy_settings(ctx)
    if not proxies:
        return Finding("pass", "no HTTP(S) proxy configured")
    shown = ", ".join(sorted({_without_credentials(url) for url in proxies}))
    if not _cluster(ctx):
        return Finding("pass", f"proxy {shown} from {source}")
    entries = [entry.strip() for entry in no_proxy.split(",") if entry.strip()]
    networks = []
    for entry in entries:
        with suppress(ValueError):
            networks.append(ipaddress.ip_network(entry, strict=False))
    needed = [SERVICE_NETWORK, ctx.answers.pod_cidr]
    uncovered = [cidr for cidr in needed
                 if not any(ipaddress.ip_network(cidr).subnet_of(network) for network in networks
                            if network.version == 4)]
    if uncovered:
        return Finding("fail", f"proxy {shown} from {source}, but NO_PROXY does not cover {', '.join(uncovered)}",
                       f"add {','.join(uncovered)} and the node's IP to proxy.no_proxy, or cluster traffic goes "
                       "through the proxy and fails")
    return Finding("pass", f"proxy {shown} from {source}; NO_PROXY covers {', '.join(needed)}")


@_check("capabilities", "warning")
async def check_capabilities(ctx: Context) -> Finding:
    found = re.search(r"^CapEff:\s*([0-9a-fA-F]+)", ctx.read("/proc/self/status") or "", re.M)
    if not found:
        return Finding("warn", "no CapEff line in /proc/self/status: capabilities unknown",
                       "if pause containers fail on oom_score_adj, the host lacks CAP_SYS_RESOURCE")
    effective = int(found.group(1), 16)
    if effective >> CAP_SYS_RESOURCE & 1:
        return Finding("pass", f"CAP_SYS_RESOURCE present (CapEff {found.group(1)})")
    return Finding("warn", f"CAP_SYS_RESOURCE missing (CapEff {found.group(1)}): pods asking for a negative "
                           "oom_score_adj (pause/infra containers) will fail with `failed to update "
                           "/proc/self/oom_score_adj: Permission denied`",
                   "run on a VM or host with full capabilities (a privileged container), or use a runtime wrapper "
                   "that clamps negative oomScoreAdj values to 0")


def _endpoint(url: str) -> tuple[str, int] | None:
    """(host, port) a git or download URL connects to; None for local copies (file://)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]


def _image_registry(reference: str, registry_mirrors: dict) -> str | None:
    first = reference.split("/", 1)[0]
    if "/" not in reference or not ("." in first or ":" in first or first == "localhost"):
        first = "docker.io"
    if first == "localhost" or first.startswith("localhost:"):
        return None
    return registry_mirrors.get(first, first)


def _source_endpoints(ctx: Context) -> list[tuple[str, int]]:
    """Where this run will fetch from (after mirrors): git hosts, release files, Go modules, images, packages."""
    answers = ctx.answers
    urls = []
    in_scope = {"flannel_cni": _flannel(ctx)}
    for component, source_key in SOURCE_KEYS.items():
        method = answers.get(f"install.{component}")
        if not in_scope.get(component, True):
            continue
        if method == "source":
            urls.append(mirrors.git_url(answers, answers.get(f"sources.{source_key}.url")))
        elif method == "release":
            urls.append(mirrors.download_url(answers, answers.get(f"downloads.{component}")))
    if _cluster(ctx):
        urls.append(mirrors.download_url(answers, answers.get("downloads.minikube")))
    if answers.get("go.toolchain") != "path":
        urls.append(mirrors.download_url(answers, answers.get("downloads.go")))
    go_proxy = mirrors.go_env(answers).get("GOPROXY", "")
    urls += [entry for entry in re.split(r"[,|]", go_proxy) if entry and entry not in ("direct", "off")]
    settings = mirrors.mirror(answers)
    if settings["packages"]:
        urls.append(settings["packages"])
    endpoints = [_endpoint(url) for url in urls]
    for reference in (answers.get("images.test"), pause_image(ctx)):
        registry = _image_registry(reference, settings["registries"])
        if registry:
            endpoints.append(_endpoint(f"https://{registry}"))
    unique: list[tuple[str, int]] = []
    for endpoint in endpoints:
        if endpoint and endpoint not in unique:
            unique.append(endpoint)
    return unique


async def _connect_problem(host: str, port: int) -> str | None:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
    except asyncio.TimeoutError:
        return f"no answer within {CONNECT_TIMEOUT:g} s"
    except socket.gaierror as error:
        return error.strerror
    except OSError as error:
        return os.strerror(error.errno) if error.errno else str(error)
    writer.close()
    with suppress(OSError):
        await writer.wait_closed()
    return None


@_check("sources", "warning")
async def check_sources(ctx: Context) -> Finding:
    endpoints = _source_endpoints(ctx)
    listed = ", ".join(f"{host}:{port}" for host, port in endpoints)
    if not endpoints:
        return Finding("pass", "every source is a local copy")
    if _simulated(ctx):
        return Finding("pass", f"simulated host: not connecting (a real run checks {listed})")
    problems = await asyncio.gather(*(_connect_problem(host, port) for host, port in endpoints))
    unreachable = [f"{host}:{port} ({problem})" for (host, port), problem in zip(endpoints, problems) if problem]
    if not unreachable:
        return Finding("pass", f"reachable: {listed}")
    return Finding("warn", "unreachable: " + ", ".join(unreachable),
                   "behind a firewall or in mainland China answer `mirror: cn` (or per-layer mirrors), set "
                   "proxy.http/https, or point sources.*.url at local copies")
