"""Stand-ins for the build tools: git, make, go, curl, tar, install and rm.

Source trees are real directories (the wizard's work directory), so git and make work on real paths.
Every other absolute path is a host path and lands in the sandbox; relative paths stay relative to the
current directory, which is how plans name files in the work directory. Builds leave binary markers
(`# simulated NAME VERSION`, the version being the ref that was checked out) that installs copy.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

from wizard.simulate import sim

# hashlib and shutil are imported by the functions that need them: every stand-in call is a new interpreter,
# and most calls (git checkout, tar, install -d) need neither.

ARCH = "amd64"  # every simulated profile is an x86_64 machine
TREE_MARKER = ".git/sim-source.json"  # what a fake clone is: {"repo", "url", "ref"}
TARBALL_HEADER = "# simulated tarball"
# directories every real host has; the sandbox root starts sparse, so they are made on first use
STANDARD_DIRS = ("/usr/local", "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib", "/usr/bin", "/usr/sbin",
                 "/usr/lib", "/usr/libexec", "/opt", "/etc", "/var", "/run", "/tmp")
_MARKER_LINE = re.compile(r"^# simulated (\S+) (\S+)$", re.MULTILINE)


# ---------------------------------------------------------------- shared helpers

def _err(*lines: str, delay: float = 0.0) -> None:
    sim.say(*lines, delay=delay, err=True)


def _commit(repo: str, ref: str) -> str:
    """A stable fake commit id for a ref of a repository."""
    import hashlib

    return hashlib.sha1(f"{repo}@{ref}".encode()).hexdigest()


def _now() -> str:
    return sim.utc_time("%Y-%m-%dT%H:%M:%SZ")


def _local(path: str) -> Path:
    """A path as a tool on the simulated host sees it: absolute = host path (sandbox), relative = cwd."""
    local = sim.host_path(path)
    for directory in STANDARD_DIRS:
        if path.rstrip("/") == directory or path.startswith(directory + "/"):
            sim.host_path(directory).mkdir(parents=True, exist_ok=True)
    return local


def _write_marker(path: Path, name: str, version: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/false\n# simulated {name} {version}\n")
    path.chmod(0o755)


def _marker_of(path: Path) -> tuple[str, str] | None:
    try:
        match = _MARKER_LINE.search(path.read_text(errors="replace"))
    except OSError:
        return None
    return (match.group(1), match.group(2)) if match else None


def _tree(directory: Path) -> dict | None:
    try:
        return json.loads((directory / TREE_MARKER).read_text())
    except (OSError, ValueError):
        return None


def _has_package(*names: str) -> bool:
    installed = set(sim.peek().get("packages", []))
    return any(name in installed for name in names)


def _record_build(repo: str, ref: str) -> None:
    """What `crio --version` and friends report about how they were built."""
    go_path = sim.which("go")
    go_version = sim.installed_version("go", go_path) if go_path else None
    with sim.state() as data:
        data.setdefault("builds", {})[repo] = {
            "ref": ref, "commit": _commit(repo, ref), "go": (go_version or "unknown").removeprefix("go"),
            "date": _now(),
        }


def _go_found() -> bool:
    return sim.which("go") is not None


# ---------------------------------------------------------------- git

REPO_FILES = {
    "cri-o": {"Makefile": "# cri-o Makefile (simulated)\n", "go.mod": "module github.com/cri-o/cri-o\n",
              "crictl.yaml": "runtime-endpoint: unix:///var/run/crio/crio.sock\n",
              "crio-umount.conf": "/var/lib/containers/storage/overlay-containers/*/userdata/shm\n"},
    "conmon": {"Makefile": "# conmon Makefile (simulated)\n", "src/conmon.c": "/* simulated */\n"},
    "plugins": {"build_linux.sh": "#!/bin/sh\n# simulated: the go stand-in builds the plugins\n"
                                  "exec go __build_linux \"$@\"\n"},
    "cri-tools": {"Makefile": "# cri-tools Makefile (simulated)\n", "go.mod": "module sigs.k8s.io/cri-tools\n"},
    "cni-plugin": {"Makefile": "# flannel cni-plugin Makefile (simulated)\n",
                   "go.mod": "module github.com/flannel-io/cni-plugin\n"},
}
CLONE_SECONDS = {"cri-o": 20.0, "plugins": 6.0, "cri-tools": 6.0}  # others: about 2 s


def repo_name(url: str) -> str:
    """cri-o from https://github.com/cri-o/cri-o.git (the URL's last part)."""
    return url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")


def _checkout_files(directory: Path, repo: str, ref: str) -> None:
    for relative, content in REPO_FILES.get(repo, {"README.md": f"# {repo} (simulated)\n"}).items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        if relative.endswith(".sh"):
            target.chmod(0o755)
    if repo == "plugins":
        # the v0.x line had no go.mod (GOPATH mode only); v1 and later are modules with vendor/
        go_mod = directory / "go.mod"
        if re.match(r"v0\.", ref):
            go_mod.unlink(missing_ok=True)
        else:
            go_mod.write_text("module github.com/containernetworking/plugins\n")


def git_main(argv: list[str]) -> int:
    directory = Path.cwd()
    while argv and argv[0] == "-C" and len(argv) > 1:
        directory = directory / argv[1]
        argv = argv[2:]
    if not argv:
        sim.say("usage: git [-C <path>] <command> [<args>]")
        return 1
    command, args = argv[0], argv[1:]
    if command == "--version":
        sim.say("git version 2.43.5")
        return 0
    if command == "clone":
        return _git_clone(directory, args)
    marker = _tree(directory)
    if marker is None:
        _err("fatal: not a git repository (or any of the parent directories): .git")
        return 128
    if command == "checkout":
        return _git_checkout(directory, marker, [a for a in args if a not in ("--force", "-f", "--detach")])
    if command == "fetch":
        sim.pace(2.0)
        _err(f"From {marker['url']}", " * [new tag]         (tags up to date)")
        return 0
    if command == "remote" and args[:2] == ["set-url", "origin"] and len(args) == 3:
        marker["url"] = args[2]
        (directory / TREE_MARKER).write_text(json.dumps(marker))
        return 0
    if command == "rev-parse" and args == ["HEAD"]:
        sim.say(_commit(marker["repo"], marker.get("ref") or "main"))
        return 0
    if command == "describe":
        sim.say(marker.get("ref") or "main")
        return 0
    _err(f"git: '{command}' is not a git command. See 'git --help'.")
    return 1


def _git_clone(cwd: Path, args: list[str]) -> int:
    positional = []
    remaining = list(args)
    while remaining:
        arg = remaining.pop(0)
        if arg in ("-b", "--branch", "--depth", "-o", "--origin", "--reference") and remaining:
            remaining.pop(0)
        elif not arg.startswith("-"):
            positional.append(arg)
    if not positional:
        _err("fatal: You must specify a repository to clone.")
        return 129
    url = positional[0]
    repo = repo_name(url)
    target = cwd / (positional[1] if len(positional) > 1 else repo)
    if target.exists() and any(target.iterdir()):
        _err(f"fatal: destination path '{positional[-1]}' already exists and is not an empty directory.")
        return 128
    _err(f"Cloning into '{target if len(positional) < 2 else positional[1]}'...")
    seconds = CLONE_SECONDS.get(repo, 2.0)
    objects = int(seconds * 7000) + 1234
    _err(f"remote: Enumerating objects: {objects}, done.",
         f"remote: Counting objects: 100% ({objects // 40}/{objects // 40}), done.",
         f"remote: Compressing objects: 100% ({objects // 80}/{objects // 80}), done.", delay=seconds * 0.2)
    _err(f"remote: Total {objects} (delta {objects // 3}), reused {objects // 50} (delta {objects // 90}), "
         f"pack-reused {objects - objects // 50}", delay=seconds * 0.6)
    _err(f"Receiving objects: 100% ({objects}/{objects}), {seconds * 4.9:.2f} MiB | 8.20 MiB/s, done.",
         f"Resolving deltas: 100% ({objects // 3}/{objects // 3}), done.", delay=seconds * 0.1)
    (target / ".git/refs/remotes/origin").mkdir(parents=True, exist_ok=True)
    (target / ".git/refs/remotes/origin/HEAD").write_text("ref: refs/remotes/origin/main\n")
    (target / TREE_MARKER).write_text(json.dumps({"repo": repo, "url": url, "ref": None}))
    if "--no-checkout" not in args and "-n" not in args:
        _checkout_files(target, repo, "main")
        (target / TREE_MARKER).write_text(json.dumps({"repo": repo, "url": url, "ref": "main"}))
    return 0


def _git_checkout(directory: Path, marker: dict, args: list[str]) -> int:
    if len(args) != 1:
        _err("fatal: the simulated git checks out exactly one ref")
        return 128
    ref = args[0]
    if ref.startswith("-"):
        _err(f"error: unknown switch `{ref.lstrip('-')}'")
        return 129
    _checkout_files(directory, marker["repo"], ref)
    marker["ref"] = ref
    (directory / TREE_MARKER).write_text(json.dumps(marker))
    commit = _commit(marker["repo"], ref)
    _err(f"Note: switching to '{ref}'.", "",
         "You are in 'detached HEAD' state. You can look around, make experimental",
         "changes and commit them, and you can discard any commits you make in this",
         "state without impacting any branches by switching back to a branch.", "",
         f"HEAD is now at {commit[:7]} Merge pull request #{int(commit[:4], 16) % 9000 + 1000} ({ref})")
    return 0


# ---------------------------------------------------------------- make

def make_main(argv: list[str]) -> int:
    directory = Path.cwd()
    variables: dict[str, str] = {}
    targets: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "-C" and args:
            directory = directory / args.pop(0)
        elif arg.startswith("-"):
            continue  # -j2, -s, ...: no effect on what is built
        elif "=" in arg:
            name, _, value = arg.partition("=")
            variables[name] = value
        else:
            targets.append(arg)
    marker = _tree(directory)
    builders = MAKEFILES.get(marker["repo"]) if marker else None
    if builders is None or not (directory / "Makefile").exists():
        if targets:
            _err(f"make: *** No rule to make target '{targets[0]}'.  Stop.")
        else:
            _err("make: *** No targets specified and no makefile found.  Stop.")
        return 2
    context = MakeRun(directory, marker, variables)
    for target in targets or ["all"]:
        builder = builders.get(target)
        if builder is None:
            _err(f"make: *** No rule to make target '{target}'.  Stop.")
            return 2
        code = builder(context)
        if code:
            return code
    return 0


class MakeRun:
    """One make invocation in a fake tree: where, what ref, which variables (PREFIX, ARCH...)."""

    def __init__(self, directory: Path, marker: dict, variables: dict[str, str]):
        self.directory = directory
        self.repo = marker["repo"]
        self.ref = marker.get("ref") or "main"
        self.variables = variables

    def variable(self, name: str, default: str) -> str:
        return self.variables.get(name) or os.environ.get(name) or default

    @property
    def prefix(self) -> str:
        return self.variable("PREFIX", "/usr/local").rstrip("/")

    def built(self, relative: str, name: str) -> None:
        _write_marker(self.directory / relative, name, self.ref)

    def install(self, relative: str, host_path: str, mode: int = 0o755) -> bool:
        """`install -D -m MODE relative host_path` as the Makefile runs it; False (and make's error) if missing."""
        source = self.directory / relative
        sim.say(f"install  -D -m {mode:o} {relative} {host_path}")
        if not source.is_file():
            _err(f"install: cannot stat '{relative}': No such file or directory")
            return False
        target = sim.host_path(host_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        target.chmod(mode)
        return True

    def fail(self, target: str, line: int, code: int = 1) -> int:
        _err(f"make: *** [Makefile:{line}: {target}] Error {code}")
        return 2

    def go_missing(self, target: str, line: int) -> int | None:
        if _go_found():
            return None
        _err("make: go: No such file or directory")
        return self.fail(target, line, 127)


CRIO_BUILD_TAGS = "containers_image_ostree_stub seccomp selinux"


def _crio_binaries(make: MakeRun) -> int:
    missing = make.go_missing("bin/crio", 213)
    if missing is not None:
        return missing
    commit = _commit("cri-o", make.ref)
    sim.say(f"go build -trimpath  -ldflags '-s -w -X github.com/cri-o/cri-o/internal/version.buildDate='{_now()}' "
            f"-X github.com/cri-o/cri-o/internal/version.buildCommit={commit} ' -tags \"{CRIO_BUILD_TAGS}\"  "
            "-o bin/crio ./cmd/crio", delay=2.0)
    injected = sim.fault("build-failure")
    if injected or not _has_package("gpgme-devel", "libgpgme-dev"):
        if injected:
            sim.fire("build-failure")
        sim.pace(20.0)
        sim.say("# github.com/proglottis/gpgme", "# [pkg-config --cflags  -- gpgme]",
                "Package gpgme was not found in the pkg-config search path.",
                "Perhaps you should add the directory containing `gpgme.pc'",
                "to the PKG_CONFIG_PATH environment variable",
                "Package 'gpgme', required by 'virtual:world', not found")
        return make.fail("bin/crio", 213)
    # the real go build is silent for over a minute: the runner's heartbeat shows it is alive
    sim.pace(72.0)
    make.built("bin/crio", "crio")
    tree = make.directory
    sim.say("make -C pinns", f"make[1]: Entering directory '{tree}/pinns'", delay=1.0)
    sim.say("cc -std=c99 -Os -Wall -Werror -Wextra -static -O3 -o src/pinns.o -c src/pinns.c",
            "cc -std=c99 -Os -Wall -Werror -Wextra -static -O3 -o src/sysctl.o -c src/sysctl.c",
            "cc -o ../bin/pinns src/pinns.o src/sysctl.o -std=c99 -Os -Wall -Werror -Wextra -static  ",
            "strip -s ../bin/pinns", delay=1.0)
    make.built("bin/pinns", "pinns")
    sim.say(f"make[1]: Leaving directory '{tree}/pinns'")
    _record_build("cri-o", make.ref)
    return 0


def _crio_conf(make: MakeRun) -> int:
    if not (make.directory / "bin/crio").is_file():
        code = _crio_binaries(make)
        if code:
            return code
    from wizard.simulate.tools.crio import DEFAULT_CONFIG  # a sibling stand-in: stdlib only

    sim.say('./bin/crio -d "" --config=""  config > crio.conf')
    _err(f'time="{_now()}" level=info msg="Using default capabilities: CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, '
         'CAP_FOWNER, CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_KILL"', delay=0.5)
    (make.directory / "crio.conf").write_text(DEFAULT_CONFIG)
    return 0


def _crio_install_bin(make: MakeRun) -> int:
    for name in ("crio", "pinns"):
        if not make.install(f"bin/{name}", f"{make.prefix}/bin/{name}"):
            return make.fail("install.bin-nobuild", 330)
    return 0


def _crio_install_config(make: MakeRun) -> int:
    sim.say(f"install  -d {make.prefix}/share/containers/oci/hooks.d", "install  -d /etc/crio/crio.conf.d")
    sim.host_path(f"{make.prefix}/share/containers/oci/hooks.d").mkdir(parents=True, exist_ok=True)
    sim.host_path("/etc/crio/crio.conf.d").mkdir(parents=True, exist_ok=True)
    installs = (("crio.conf", "/etc/crio/crio.conf"),
                ("crio-umount.conf", f"{make.prefix}/share/oci-umount/oci-umount.d/crio-umount.conf"),
                ("crictl.yaml", "/etc/crictl.yaml"))
    for relative, host_path in installs:
        if not make.install(relative, host_path, 0o644):
            return make.fail("install.config-nobuild", 352)
    return 0


def _crio_unit(prefix: str, description: str, exec_start: str) -> str:
    return (f"[Unit]\nDescription={description}\nDocumentation=https://github.com/cri-o/cri-o\n"
            "Wants=network-online.target\nBefore=kubelet.service\nAfter=network-online.target\n\n"
            f"[Service]\nType=notify\nEnvironmentFile=-/etc/sysconfig/crio\nEnvironment=GOTRACEBACK=crash\n"
            f"ExecStart={exec_start}\nExecReload=/bin/kill -s HUP $MAINPID\nTasksMax=infinity\n"
            "LimitNOFILE=1048576\nLimitNPROC=1048576\nLimitCORE=infinity\nOOMScoreAdjust=-999\n"
            "TimeoutStartSec=0\nRestart=on-failure\nRestartSec=10\n\n[Install]\nWantedBy=multi-user.target\n"
            "Alias=cri-o.service\n")


def _crio_install_systemd(make: MakeRun) -> int:
    units = {
        "crio.service": _crio_unit(make.prefix, "Container Runtime Interface for OCI (CRI-O)",
                                   f"{make.prefix}/bin/crio $CRIO_CONFIG_OPTIONS $CRIO_RUNTIME_OPTIONS "
                                   "$CRIO_STORAGE_OPTIONS $CRIO_NETWORK_OPTIONS $CRIO_METRICS_OPTIONS"),
        "crio-wipe.service": _crio_unit(make.prefix, "CRI-O Auto Update Script",
                                        f"{make.prefix}/bin/crio $CRIO_CONFIG_OPTIONS wipe"),
    }
    for name, content in units.items():
        host_path = f"{make.prefix}/lib/systemd/system/{name}"
        sim.say(f"install  -D -m 644 contrib/systemd/{name} {host_path}", delay=0.1)
        sim.write(host_path, content)
    return 0


def _crio_install_all(make: MakeRun) -> int:
    for step in (_crio_binaries, _crio_conf, _crio_install_bin, _crio_install_config, _crio_install_systemd):
        code = step(make)
        if code:
            return code
    return 0


CONMON_CC = ("cc -std=c99 -Os -Wall -Wextra -Werror -I/usr/include/glib-2.0 "
             "-I/usr/lib/x86_64-linux-gnu/glib-2.0/include  -DVERSION=\\\"{version}\\\" "
             "-DGIT_COMMIT=\\\"\"{commit}\"\\\"  -D USE_JOURNALD=1  -o src/{name}.o -c src/{name}.c")
CONMON_SOURCES = ("conmon", "cmsg", "ctr_logging", "utils", "cli", "globals", "cgroup", "conn_sock", "oom", "ctrl",
                  "ctr_stdio", "parent_pipe_fd", "ctr_exit", "runtime_args", "close_fds", "self_pipe")


def _conmon_build(make: MakeRun) -> int:
    sim.say("mkdir -p bin")
    if sim.fault("hang"):
        sim.fire("hang")
        while True:  # a build that never ends: only the runner's timeout or a cancel stops it
            time.sleep(60)
    if not _has_package("glib2-devel", "libglib2.0-dev"):
        _err("Package glib-2.0 was not found in the pkg-config search path.",
             "Perhaps you should add the directory containing `glib-2.0.pc'",
             "to the PKG_CONFIG_PATH environment variable",
             "Package 'glib-2.0', required by 'virtual:world', not found")
        sim.say(CONMON_CC.format(version=make.ref.lstrip("v"), commit=_commit("conmon", make.ref), name="conmon"))
        _err("src/conmon.c:5:10: fatal error: glib.h: No such file or directory", "compilation terminated.")
        return make.fail("src/conmon.o", 58)
    version, commit = make.ref.lstrip("v"), _commit("conmon", make.ref)
    for name in CONMON_SOURCES:
        sim.say(CONMON_CC.format(version=version, commit=commit, name=name), delay=0.06)
    objects = " ".join(f"src/{name}.o" for name in CONMON_SOURCES)
    sim.say(f"cc  -std=c99 -Os -Wall -Wextra -Werror -o bin/conmon {objects} -lglib-2.0  -lsystemd ")
    make.built("bin/conmon", "conmon")
    _record_build("conmon", make.ref)
    return 0


def _conmon_install_bin(make: MakeRun) -> int:
    sim.say(f"install  -d -m 755 {make.prefix}/bin")
    if not make.install("bin/conmon", f"{make.prefix}/bin/conmon"):
        return make.fail("install.bin", 94)
    return 0


def _crictl_build(make: MakeRun) -> int:
    missing = make.go_missing("crictl", 81)
    if missing is not None:
        return missing
    arch = make.variable("GOARCH", ARCH)
    output = f"{make.directory}/build/bin/linux/{arch}/crictl"
    sim.say(f"CGO_ENABLED=0 GO111MODULE=on GOARCH={arch} GOOS=linux go build -mod=vendor -o {output} \\",
            f"\t-ldflags ' -X sigs.k8s.io/cri-tools/pkg/version.Version={make.ref.lstrip('v')}' \\",
            "\tsigs.k8s.io/cri-tools/cmd/crictl")
    sim.pace(40.0)  # silent while go compiles
    make.built(f"build/bin/linux/{arch}/crictl", "crictl")
    return 0


def _flannel_build(make: MakeRun) -> int:
    missing = make.go_missing("vendor", 39)
    if missing is not None:
        return missing
    arch = make.variable("ARCH", ARCH)
    sim.say("go mod tidy")
    modules = ("github.com/containernetworking/cni v1.3.0", "github.com/containernetworking/plugins v1.9.1",
               "github.com/onsi/ginkgo/v2 v2.28.2", "github.com/onsi/gomega v1.41.0")
    if os.environ.get("GOPROXY") == "off":
        _err(*[f"go: downloading {module}" for module in modules])
        _err("go: github.com/flannel-io/cni-plugin imports",
             "\tgithub.com/containernetworking/cni/pkg/invoke: module lookup disabled by GOPROXY=off")
        return make.fail("vendor", 39)
    _err(*[f"go: downloading {module}" for module in modules], delay=2.0)
    sim.say("go mod vendor", delay=4.0)
    sim.say(f"GOOS=linux GOARCH={arch} scripts/build_flannel.sh", f"Building flannel for linux in {arch}", "")
    sim.pace(25.0)
    make.built(f"dist/flannel-{arch}", "flannel")
    return 0


MAKEFILES = {
    "cri-o": {"all": _crio_install_all, "binaries": _crio_binaries, "bin/crio": _crio_binaries,
              "crio.conf": _crio_conf, "install.bin-nobuild": _crio_install_bin,
              "install.config-nobuild": _crio_install_config, "install.systemd": _crio_install_systemd,
              "install": _crio_install_all},
    "conmon": {"all": _conmon_build, "bin/conmon": _conmon_build, "install.bin": _conmon_install_bin},
    "cri-tools": {"all": _crictl_build, "binaries": _crictl_build, "crictl": _crictl_build},
    "cni-plugin": {"build_linux": _flannel_build},
}


# ---------------------------------------------------------------- go

PLUGINS_V0 = ("bandwidth", "firewall", "flannel", "portmap", "sbr", "tuning", "bridge", "host-device", "ipvlan",
              "loopback", "macvlan", "ptp", "vlan", "dhcp", "host-local", "static", "sample")
PLUGINS_CURRENT = ("bandwidth", "firewall", "portmap", "sbr", "tuning", "vrf", "bridge", "dummy", "host-device",
                   "ipvlan", "loopback", "macvlan", "ptp", "tap", "vlan", "dhcp", "host-local", "static")


def _plugin_names(ref: str) -> tuple[str, ...]:
    return PLUGINS_V0 if re.match(r"v0\.", ref) else PLUGINS_CURRENT


def go_main(argv: list[str]) -> int:
    version = (sim.self_version("go") or "unknown").removeprefix("go")
    if argv == ["version"]:
        sim.say(f"go version go{version} linux/{ARCH}")
        return 0
    if argv[:1] == ["env"]:
        where = os.environ.get(sim.SELF_ENV, "/usr/bin/go")
        values = {"GOVERSION": f"go{version}", "GOARCH": ARCH, "GOOS": "linux",
                  "GOROOT": str(Path(where).parent.parent) if where.endswith("/bin/go") else "/usr/lib/go",
                  "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "auto"),
                  "GOPROXY": os.environ.get("GOPROXY", "https://proxy.golang.org,direct"),
                  "GO111MODULE": os.environ.get("GO111MODULE", "")}
        for name in argv[1:] or sorted(values):
            sim.say(values.get(name, "") if argv[1:] else f"{name}='{values[name]}'")
        return 0
    if argv[:1] == ["get"]:
        _err("go: go.mod file not found in current directory or any parent directory.",
             "\t'go get' is no longer supported outside a module.",
             "\tTo build and install a command, use 'go install' with a version,",
             "\tlike 'go install example.com/cmd@latest'")
        return 1
    if argv[:1] == ["__build_linux"]:
        return _build_cni_plugins(Path.cwd())
    _err(f"go {' '.join(argv[:1])}: the simulated go answers version and env (builds run through make)")
    return 2


def _build_cni_plugins(directory: Path) -> int:
    """containernetworking/plugins' ./build_linux.sh: one go build per plugin."""
    marker = _tree(directory)
    if marker is None:
        _err("build_linux.sh: not a containernetworking/plugins tree")
        return 1
    ref = marker.get("ref") or "main"
    gopath_era = not (directory / "go.mod").exists()
    module_mode = os.environ.get("GO111MODULE", "") != "off"
    sim.say("Building plugins " + os.environ.get("GOOS", ""))
    names = _plugin_names(ref)
    for name in names:
        sim.say(f"  {name}", delay=1.1)
        if gopath_era and module_mode:
            # v0.x has no go.mod: a modern go refuses unless GO111MODULE=off
            _err("go: go.mod file not found in current directory or any parent directory; see 'go help modules'")
            return 1
        if not gopath_era and not module_mode:
            _err(f"plugins/meta/{name}/main.go:20:2: cannot find package "
                 "\"github.com/containernetworking/cni/pkg/skel\" in any of:",
                 "\t/usr/local/go/src/github.com/containernetworking/cni/pkg/skel (from $GOROOT)",
                 f"\t{directory}/gopath/src/github.com/containernetworking/cni/pkg/skel (from $GOPATH)")
            return 1
        _write_marker(directory / "bin" / name, name, ref)
    return 0


# ---------------------------------------------------------------- curl

CNI_RELEASE_EXTRAS = ("LICENSE", "README.md")


def _download_members(name: str, version: str) -> list[dict] | None:
    """What a release tarball holds (path inside, tool name, version); None when the file is no tarball."""
    go = re.fullmatch(r"go(\d+(?:\.\d+)*)\.linux-\w+\.tar\.gz", name)
    if go:
        return [{"path": "go/bin/go", "name": "go", "version": go.group(1)},
                {"path": "go/bin/gofmt", "name": "gofmt", "version": go.group(1)}]
    if re.fullmatch(r"crictl-.*\.tar\.gz", name):
        return [{"path": "crictl", "name": "crictl", "version": version}]
    if re.fullmatch(r"cni-plugins-linux-.*\.tgz", name):
        members = [{"path": f"./{plugin}", "name": plugin, "version": version} for plugin in _plugin_names(version)]
        return members + [{"path": f"./{extra}", "name": "", "version": ""} for extra in CNI_RELEASE_EXTRAS]
    if name.endswith((".tar.gz", ".tgz")):
        return []
    return None


def curl_main(argv: list[str]) -> int:
    output, url = None, None
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-o", "--output") and args:
            output = args.pop(0)
        elif arg in ("--retry", "-x", "--proxy", "--connect-timeout", "-m", "--max-time") and args:
            args.pop(0)
        elif not arg.startswith("-"):
            url = arg
    if url is None:
        _err("curl: no URL specified!", "curl: try 'curl --help' or 'curl --manual' for more information")
        return 2
    if "{" in url or "}" in url:
        _err("curl: (22) The requested URL returned error: 404")
        return 22
    name = url.rstrip("/").rsplit("/", 1)[-1]
    tag = re.search(r"/download/([^/]+)/", url)
    version = tag.group(1) if tag else "unknown"
    members = _download_members(name, version)
    sim.pace(8.0 if name.startswith("go") else 3.0)
    if members is not None:
        content = f"{TARBALL_HEADER}\n{json.dumps({'url': url, 'members': members})}\n"
    elif name.endswith((".yml", ".yaml", ".json", ".txt")):
        content = f"# simulated download of {url}\n"
    else:
        program = re.sub(r"(-linux)?-(amd64|arm64|arm|ppc64le|s390x)$", "", name)
        content = f"#!/bin/false\n# simulated {program} {version}\n"
    if output is None:
        sys.stdout.write(content)
        return 0
    target = _local(output)
    if not target.parent.is_dir():
        _err("curl: (23) Failure writing output to destination")
        return 23
    target.write_text(content)
    return 0


# ---------------------------------------------------------------- tar

def tar_main(argv: list[str]) -> int:
    args = list(argv)
    directory, archive, mode = ".", None, ""
    while args:
        arg = args.pop(0)
        if arg == "-C" and args:
            directory = args.pop(0)
        elif arg.startswith("--directory="):
            directory = arg.split("=", 1)[1]
        elif arg.startswith("--"):
            continue  # --strip-components, --no-same-owner...: nothing to simulate
        elif arg.startswith("-") or (not mode and re.fullmatch(r"[xzvfc]+", arg)):
            mode += arg.lstrip("-")
            if "f" in arg and args:
                archive = args.pop(0)
    if "x" not in mode or archive is None:
        _err("tar: the simulated tar only extracts (-x -f FILE)")
        return 2
    source, destination = _local(archive), _local(directory)
    if not destination.is_dir():
        _err(f"tar: {directory}: Cannot open: No such file or directory", "tar: Error is not recoverable: exiting now")
        return 2
    if not source.is_file():
        _err(f"tar (child): {archive}: Cannot open: No such file or directory",
             "tar (child): Error is not recoverable: exiting now", "tar: Child returned status 2",
             "tar: Error is not recoverable: exiting now")
        return 2
    lines = source.read_text(errors="replace").splitlines()
    if not lines or lines[0] != TARBALL_HEADER:
        _err("gzip: stdin: not in gzip format", "tar: Child returned status 1", "tar: Error is not recoverable: exiting now")
        return 2
    members = json.loads(lines[1])["members"]
    sim.pace(0.05 * len(members) + 1.0)
    for member in members:
        target = destination / member["path"].removeprefix("./")
        if member["name"]:
            _write_marker(target, member["name"], member["version"])
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"{target.name} (simulated)\n")
        if "v" in mode:
            sim.say(member["path"])
    return 0


# ---------------------------------------------------------------- install

def install_main(argv: list[str]) -> int:
    args = list(argv)
    mode, make_dirs, directories_only, target_dir = 0o755, False, False, None
    operands: list[str] = []
    while args:
        arg = args.pop(0)
        if arg == "-m" and args:
            mode = int(args.pop(0), 8)
        elif arg.startswith("--mode="):
            mode = int(arg.split("=", 1)[1], 8)
        elif arg == "-t" and args:
            target_dir = args.pop(0)
        elif arg.startswith("--target-directory="):
            target_dir = arg.split("=", 1)[1]
        elif arg in ("-o", "-g", "--owner", "--group") and args:
            args.pop(0)
        elif arg in ("-d", "--directory"):
            directories_only = True
        elif arg == "-D":
            make_dirs = True
        elif arg.startswith("-") and len(arg) > 1:
            continue  # -p, -v, -Z, -c, -s: no effect here
        else:
            operands.append(arg)
    if directories_only:
        for directory in operands:
            path = _local(directory)
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(mode)
        return 0
    if target_dir is None:
        if len(operands) < 2:
            _err("install: missing destination file operand after " + (f"'{operands[0]}'" if operands else "''"))
            return 1
        *sources, destination = operands
        if len(sources) > 1 or _local(destination).is_dir():
            target_dir = destination
            pairs = [(source, f"{destination.rstrip('/')}/{Path(source).name}") for source in sources]
        else:
            pairs = [(sources[0], destination)]
    else:
        pairs = [(source, f"{target_dir.rstrip('/')}/{Path(source).name}") for source in operands]
    if target_dir is not None and make_dirs:
        _local(target_dir).mkdir(parents=True, exist_ok=True)
    for source, destination in pairs:
        source_path, destination_path = _local(source), _local(destination)
        if not source_path.is_file():
            _err(f"install: cannot stat '{source}': No such file or directory")
            return 1
        if make_dirs:
            destination_path.parent.mkdir(parents=True, exist_ok=True)
        if not destination_path.parent.is_dir():
            _err(f"install: cannot create regular file '{destination}': No such file or directory")
            return 1
        destination_path.unlink(missing_ok=True)
        destination_path.write_bytes(source_path.read_bytes())
        destination_path.chmod(mode)
    return 0


# ---------------------------------------------------------------- rm

def rm_main(argv: list[str]) -> int:
    recursive = force = False
    paths = []
    for arg in argv:
        if arg in ("--recursive", "-r", "-R"):
            recursive = True
        elif arg == "--force":
            force = True
        elif arg.startswith("-") and len(arg) > 1 and not arg.startswith("--"):
            recursive = recursive or "r" in arg or "R" in arg
            force = force or "f" in arg
        else:
            paths.append(arg)
    code = 0
    for path in paths:
        if path.rstrip("/") in ("", "."):
            _err(f"rm: it is dangerous to operate recursively on '{path}'", "rm: use --no-preserve-root to override")
            code = 1
            continue
        target = _local(path)
        if target.is_dir() and not target.is_symlink():
            if not recursive:
                _err(f"rm: cannot remove '{path}': Is a directory")
                code = 1
                continue
            import shutil

            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        elif not force:
            _err(f"rm: cannot remove '{path}': No such file or directory")
            code = 1
    return code


TOOLS = {
    "git": sim.Tool(git_main, installable=True),
    "make": sim.Tool(make_main, installable=True),
    "go": sim.Tool(go_main, installable=True),
    "curl": sim.Tool(curl_main),
    "tar": sim.Tool(tar_main),
    "install": sim.Tool(install_main),
    "rm": sim.Tool(rm_main),
}
