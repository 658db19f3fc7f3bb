"""Build-side steps (build-deps, go-toolchain, crio-build, conmon, cni-plugins, flannel-cni, crictl): plans per
distro, and runs on the simulated host, including the missing-package, build-failure and hang faults."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.simhost import SubprocessProbeRunner, apply_plan, failed, sim_context
from wizard.actions import Run, Symlink, WriteFile
from wizard.files import FileEffects
from wizard.host import Host
from wizard.simulate import sim
from wizard.simulate.tools import packages as package_tools
from wizard.steps.base import Context, Step
from wizard.steps.build_deps import BuildDeps, crb_repository, package_plan
from wizard.steps.cni_plugins import PLUGINS_CURRENT, PLUGINS_V0, PLUGINS_V1, CniPlugins, supported_cni_versions
from wizard.steps.conmon import Conmon
from wizard.steps.crictl import CRICTL_YAML, Crictl
from wizard.steps.crio_build import CrioBuild
from wizard.steps.flannel_cni import FlannelCni
from wizard.steps.go_toolchain import GoToolchain
from wizard.steps.source_build import GO_BIN_DIR, clone_actions, go_env

PROFILES = ("rocky9", "centos-stream9", "fedora", "debian12", "ubuntu2404")
PIN = {"crio": "v1.35.6", "go": "1.25.7", "conmon": "v2.2.1", "crictl": "v1.35.0"}  # the 1.35 row


def commands(actions: list) -> list[tuple[str, ...]]:
    return [action.argv for action in actions if isinstance(action, Run)]


def run_of(actions: list, *argv_head: str) -> Run:
    return next(action for action in actions if isinstance(action, Run) and action.argv[:len(argv_head)] == argv_head)


def ok_after_apply(results: list) -> None:
    bad = [(argv, code, output[-600:]) for argv, code, output in results if code != 0]
    assert not bad, bad


def sim_env(ctx: Context, monkeypatch) -> None:
    """Let this process use the simulated host's helpers directly (setting up state without subprocesses)."""
    for key, value in ctx.host.env.items():
        if key.startswith("CRIO_WIZARD_SIM_"):
            monkeypatch.setenv(key, value)


def provision(ctx: Context, monkeypatch, go: str | None = PIN["go"]) -> None:
    """The state build-deps and go-toolchain leave, made in-process: the build tests start from there."""
    sim_env(ctx, monkeypatch)
    package_tools._record_installed(package_plan(ctx.host.facts, ctx.answers))
    if go:
        sim.install_binary(f"{GO_BIN_DIR}/go", "go", go)
        ctx.notes["go_toolchain"] = "download"


async def apply_and_verify(step: Step, ctx: Context) -> list:
    await step.prepare(ctx)
    ok_after_apply(apply_plan(step, ctx))
    checks = await step.verify(ctx)
    assert not failed(checks), failed(checks)
    return checks


class Fixed(Step):
    """A step whose plan is given: to apply part of another step's plan."""

    id = "fixed"
    title = "fixed"

    def __init__(self, actions: list):
        self.actions = actions

    def plan(self, ctx: Context) -> list:
        return self.actions


@pytest.fixture
def runner_for():
    def attach(ctx: Context) -> Context:
        ctx.runner = SubprocessProbeRunner(ctx.host)
        return ctx
    return attach


# ---- planning: build-deps ------------------------------------------------------------------------

@pytest.mark.parametrize("profile", PROFILES)
def test_build_deps_maps_the_recipes_yum_list_per_distro(tmp_path, profile):
    ctx = sim_context(tmp_path, profile)
    facts = ctx.host.facts
    actions = BuildDeps().plan(ctx)
    names = package_plan(facts, ctx.answers)
    assert "device-mapper-devel" not in names and "libdevmapper-dev" not in names  # gone since CRI-O 1.33
    assert {"crun", "runc", "git", "make", "gcc"} <= set(names)
    if facts.package_manager == "apt":
        assert commands(actions) == [("apt-get", "update"),
                                     ("apt-get", "install", "-y", "--no-install-recommends", *names)]
        assert all(dict(action.env)["DEBIAN_FRONTEND"] == "noninteractive" for action in actions)
        assert {"libgpgme-dev", "libbtrfs-dev", "libsystemd-dev", "conntrack", "iproute2", "iptables",
                "golang-github-containers-common", "golang-github-containers-image", "golang-go"} <= set(names)
        assert "containers-common" not in names
    else:
        assert {"gpgme-devel", "glibc-static", "systemd-devel", "conntrack-tools", "iproute", "iptables-nft",
                "containers-common", "golang"} <= set(names)
        assert commands(actions)[-1] == ("dnf", "-y", "install", *names)
        if facts.family == "el":
            # CRB first: gpgme-devel and glibc-static live there
            assert commands(actions)[:2] == [("dnf", "-y", "install", "dnf-plugins-core"),
                                             ("dnf", "config-manager", "--set-enabled", "crb")]
            assert "btrfs-progs-devel" not in names
        else:
            assert len(commands(actions)) == 1 and "btrfs-progs-devel" in names


def test_el8_enables_powertools_and_only_el_needs_a_crb(tmp_path):
    ctx = sim_context(tmp_path, "rocky9")
    assert crb_repository(ctx.host.facts) == "crb"
    assert crb_repository(dataclasses.replace(ctx.host.facts, version="8.10")) == "powertools"
    assert crb_repository(dataclasses.replace(ctx.host.facts, family="fedora")) is None


@pytest.mark.parametrize("overrides, has_go_package, go_step_applies", [
    ({}, True, True),
    ({"go": {"toolchain": "download"}}, False, True),
    ({"go": {"toolchain": "path"}}, True, True),
    ({"install": {"crio": "package", "cni_plugins": "release", "crictl": "release", "flannel_cni": "daemonset"}},
     False, False),  # nothing is built from Go sources
])
def test_the_distro_go_is_installed_only_when_it_may_be_used(tmp_path, overrides, has_go_package, go_step_applies):
    ctx = sim_context(tmp_path, "debian12", overrides)
    assert ("golang-go" in package_plan(ctx.host.facts, ctx.answers)) is has_go_package
    assert GoToolchain().applies(ctx) is go_step_applies


def test_a_package_mirror_rewrites_the_repositories_first(tmp_path):
    ctx = sim_context(tmp_path, "debian12", {"mirror": {"preset": "none", "packages": "https://mirror.example"}})
    actions = BuildDeps().plan(ctx)
    assert isinstance(actions[0], WriteFile) and "URIs: https://mirror.example/debian" in actions[0].content
    assert BuildDeps().owns(ctx).files == [actions[0].path]


# ---- planning: Go ----------------------------------------------------------------------------------

def test_go_toolchain_downloads_the_pin_into_usr_local_go(tmp_path):
    ctx = sim_context(tmp_path, "rocky9", {"go": {"toolchain": "download"}})
    actions = GoToolchain().plan(ctx)
    archive = f"go{PIN['go']}.linux-amd64.tar.gz"
    assert commands(actions) == [
        ("curl", "-fsSL", "--retry", "3", "-o", archive, f"https://go.dev/dl/{archive}"),
        ("rm", "-rf", "/usr/local/go"),
        ("tar", "-C", "/usr/local", "-xzf", archive),
    ]
    assert actions[0].cwd == actions[2].cwd == str(ctx.workdir)
    assert GoToolchain().owns(ctx).dirs == ["/usr/local/go"]
    mirrored = sim_context(tmp_path / "cn", "rocky9", {"mirror": "cn"})
    assert commands(GoToolchain().plan(mirrored))[0][-1] == f"https://golang.google.cn/dl/{archive}"


def test_go_toolchain_plans_nothing_when_the_go_on_path_is_used(tmp_path):
    ctx = sim_context(tmp_path, "fedora")
    ctx.notes["go_toolchain"] = "path"  # what prepare() notes when the go on PATH is new enough
    assert GoToolchain().plan(ctx) == []
    assert GoToolchain().plan(sim_context(tmp_path / "p", "fedora", {"go": {"toolchain": "path"}})) == []


def test_go_builds_use_the_chosen_toolchain_and_never_fetch_one(tmp_path):
    ctx = sim_context(tmp_path, "rocky9", {"go": {"toolchain": "download", "proxy": "https://goproxy.io,direct"}})
    env = go_env(ctx)
    assert env["GOTOOLCHAIN"] == "local" and env["GOPROXY"] == "https://goproxy.io,direct"
    launchers, go_dir = env["PATH"].split(":")[:2]
    assert launchers == ctx.host.env["CRIO_WIZARD_SIM_BIN"] and go_dir == GO_BIN_DIR  # stand-ins stay first
    real = Context(answers=ctx.answers, state_dir=tmp_path,
                   host=Host(root=Path("/"), facts=ctx.host.facts, env={"PATH": "/usr/bin:/bin"}))
    assert go_env(real)["PATH"] == "/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    on_path = sim_context(tmp_path / "p", "rocky9", {"go": {"toolchain": "path"}})
    assert "PATH" not in go_env(on_path)
    assert go_env(sim_context(tmp_path / "cn", "rocky9", {"mirror": "cn"}))["GOPROXY"].startswith(
        "https://goproxy.cn")


# ---- planning: sources -----------------------------------------------------------------------------

@pytest.mark.parametrize("profile", PROFILES)
def test_crio_builds_offline_friendly_targets_at_the_pinned_tag(tmp_path, profile):
    ctx = sim_context(tmp_path, profile, {"install": {"prefix": "/usr"}})
    actions = CrioBuild().plan(ctx)
    tree = str(ctx.workdir / "cri-o")
    assert commands(actions) == [
        ("git", "clone", "--no-checkout", "https://github.com/cri-o/cri-o.git", tree),
        ("git", "-C", tree, "checkout", "--force", PIN["crio"]),
        ("make", "binaries", "crio.conf"),
        ("make", "install.bin-nobuild", "install.config-nobuild", "install.systemd", "PREFIX=/usr"),
    ]
    build = run_of(actions, "make", "binaries")
    assert build.cwd == tree and dict(build.env)["GOTOOLCHAIN"] == "local" and build.timeout >= 1800
    owned = CrioBuild().owns(ctx).files
    assert {"/usr/bin/crio", "/usr/bin/pinns", "/usr/lib/systemd/system/crio.service"} <= set(owned)


def test_refs_mirrors_and_packages_change_what_crio_build_does(tmp_path):
    ctx = sim_context(tmp_path, "debian12", {"sources": {"crio": {"url": "https://github.com/cri-o/cri-o.git",
                                                                   "ref": "v1.35.2"}}, "mirror": "cn"})
    argvs = commands(CrioBuild().plan(ctx))
    assert argvs[0][3] == "https://gitclone.com/github.com/cri-o/cri-o.git" and argvs[1][-1] == "v1.35.2"
    rpm = sim_context(tmp_path / "r", "rocky9", {"install": {"crio": "package"}})
    assert commands(CrioBuild().plan(rpm)) == [("dnf", "-y", "install", "cri-o")]
    deb = sim_context(tmp_path / "d", "ubuntu2404", {"install": {"crio": "package"}})
    assert commands(CrioBuild().plan(deb)) == [("apt-get", "install", "-y", "--no-install-recommends", "cri-o")]


def test_an_existing_clone_is_refreshed_not_cloned_again(tmp_path):
    tree = tmp_path / "cri-o"
    assert commands(clone_actions("file:///srv/cri-o", "v1.0.0", tree))[0][:2] == ("git", "clone")
    (tree / ".git").mkdir(parents=True)  # a clone that did not finish: started again
    assert commands(clone_actions("file:///srv/cri-o", "v1.0.0", tree))[:2] == [
        ("rm", "-rf", "--", str(tree)), ("git", "clone", "--no-checkout", "file:///srv/cri-o", str(tree))]
    (tree / ".git/refs/remotes/origin").mkdir(parents=True)
    (tree / ".git/refs/remotes/origin/HEAD").write_text("ref: refs/remotes/origin/main\n")
    assert commands(clone_actions("file:///srv/mirror/cri-o", "v1.0.0", tree)) == [
        ("git", "-C", str(tree), "remote", "set-url", "origin", "file:///srv/mirror/cri-o"),
        ("git", "-C", str(tree), "fetch", "--force", "--tags", "origin"),
        ("git", "-C", str(tree), "checkout", "--force", "v1.0.0"),
    ]


def test_conmon_builds_only_the_binary(tmp_path):
    ctx = sim_context(tmp_path, "fedora")
    argvs = commands(Conmon().plan(ctx))
    assert argvs[1][-1] == PIN["conmon"] and argvs[2:] == [("make",), ("make", "install.bin", "PREFIX=/usr/local")]
    assert commands(Conmon().plan(sim_context(tmp_path / "p", "fedora", {"install": {"conmon": "package"}}))) == [
        ("dnf", "-y", "install", "conmon")]


@pytest.mark.parametrize("ref, legacy, plugins", [
    ("v0.8.1", True, PLUGINS_V0),  # the recipe's tag: no go.mod
    ("", False, PLUGINS_CURRENT),  # the pinned v1.9.1
    ("v1.2.0", False, PLUGINS_V1),
])
def test_cni_plugins_build_per_release_line(tmp_path, ref, legacy, plugins):
    url = "https://github.com/containernetworking/plugins.git"
    ctx = sim_context(tmp_path, "debian12", {"sources": {"cni_plugins": {"url": url, "ref": ref}}})
    actions = CniPlugins().plan(ctx)
    build = run_of(actions, "./build_linux.sh")
    assert (dict(build.env).get("GO111MODULE") == "off") is legacy
    assert dict(build.env)["GOTOOLCHAIN"] == "local"
    install = run_of(actions, "install")
    assert install.argv == ("install", "-D", "-m", "0755", "-t", "/opt/cni/bin", *[f"bin/{p}" for p in plugins])
    assert ("bin/flannel" in install.argv) is legacy  # flannel left the repository in v1.0.0
    assert install.cwd == build.cwd == str(ctx.workdir / "cni-plugins")


def test_cni_plugins_from_a_release_or_a_package(tmp_path):
    release = CniPlugins().plan(sim_context(tmp_path, "rocky9", {"install": {"cni_plugins": "release"}}))
    archive = "cni-plugins-linux-amd64-v1.9.1.tgz"
    assert commands(release) == [
        ("curl", "-fsSL", "--retry", "3", "-o", archive,
         f"https://github.com/containernetworking/plugins/releases/download/v1.9.1/{archive}"),
        ("install", "-d", "-m", "0755", "/opt/cni/bin"),
        ("tar", "-C", "/opt/cni/bin", "-xzf", archive),
    ]
    for profile, package_dir in (("debian12", "/usr/lib/cni"), ("fedora", "/usr/libexec/cni")):
        ctx = sim_context(tmp_path / profile, profile, {"install": {"cni_plugins": "package"}})
        links = [action for action in CniPlugins().plan(ctx) if isinstance(action, Symlink)]
        assert [(link.path, link.target) for link in links] == [
            (f"/opt/cni/bin/{name}", f"{package_dir}/{name}") for name in ("bridge", "host-local", "loopback",
                                                                          "portmap")]


def test_flannel_cni_source_release_and_daemonset(tmp_path):
    ctx = sim_context(tmp_path, "ubuntu2404", {"go": {"proxy": "https://goproxy.cn,direct"}})
    actions = FlannelCni().plan(ctx)
    build = run_of(actions, "make")
    assert build.argv == ("make", "build_linux", "ARCH=amd64")
    assert dict(build.env)["GOPROXY"] == "https://goproxy.cn,direct"  # it downloads modules (no vendor/)
    assert commands(actions)[-1] == ("install", "-D", "-m", "0755", "dist/flannel-amd64", "/opt/cni/bin/flannel")
    release = FlannelCni().plan(sim_context(tmp_path / "r", "rocky9", {"install": {"flannel_cni": "release"}}))
    assert commands(release)[0][-1] == \
        "https://github.com/flannel-io/cni-plugin/releases/download/v1.9.1-flannel1/flannel-amd64"
    daemonset = sim_context(tmp_path / "d", "rocky9", {"install": {"flannel_cni": "daemonset"}})
    assert FlannelCni().plan(daemonset) == []
    assert not FlannelCni().applies(sim_context(tmp_path / "c", "rocky9", {"scope": "cluster"}))


@pytest.mark.parametrize("method", ["release", "source"])
def test_crictl_installs_under_the_prefix_and_points_at_crio(tmp_path, method):
    ctx = sim_context(tmp_path, "rocky9", {"install": {"crictl": method, "prefix": "/usr"}})
    actions = Crictl().plan(ctx)
    if method == "release":
        assert commands(actions)[1:] == [("install", "-d", "-m", "0755", "/usr/bin"),
                                         ("tar", "-C", "/usr/bin", "-xzf", "crictl-v1.35.0-linux-amd64.tar.gz")]
    else:
        assert ("make", "crictl") in commands(actions)
        assert commands(actions)[-1] == ("install", "-D", "-m", "0755", "build/bin/linux/amd64/crictl",
                                         "/usr/bin/crictl")
    config = yaml.safe_load(next(a for a in actions if isinstance(a, WriteFile) and a.path == CRICTL_YAML).content)
    assert config == {"runtime-endpoint": "unix:///var/run/crio/crio.sock",
                      "image-endpoint": "unix:///var/run/crio/crio.sock", "timeout": 10}


# ---- on the simulated host -------------------------------------------------------------------------

async def test_the_build_chain_on_rocky9(tmp_path, runner_for, monkeypatch):
    ctx = runner_for(sim_context(tmp_path, "rocky9"))
    provision(ctx, monkeypatch, go=None)  # build-deps itself runs in the fault tests below
    assert not await CrioBuild().detect(ctx)
    checks = {}
    for step in (GoToolchain(), CrioBuild(), Conmon(), CniPlugins(), FlannelCni()):
        checks[step.id] = await apply_and_verify(step, ctx)
    assert await CrioBuild().detect(ctx)
    assert ctx.notes["go_toolchain"] == "download"  # Rocky's go 1.22.9 is too old for CRI-O 1.35
    assert "go1.22.9 at PATH is older than 1.25.0" in checks["go-toolchain"][0].detail
    version = await ctx.probe(["/usr/local/bin/crio", "--version"])
    assert f"crio version {PIN['crio'][1:]}" in version.output and f"GoVersion:      go{PIN['go']}" in version.output
    assert "flannel answers CNI_COMMAND=VERSION" in [check.name for check in checks["flannel-cni"]]


async def test_debians_packaged_cni_plugins_are_linked_into_opt_cni_bin(tmp_path, runner_for, monkeypatch):
    ctx = runner_for(sim_context(tmp_path, "debian12", {"install": {"cni_plugins": "package"}}))
    provision(ctx, monkeypatch, go=None)
    actions = CniPlugins().plan(ctx)
    ok_after_apply(apply_plan(Fixed([a for a in actions if isinstance(a, Run)]), ctx))
    effects = FileEffects(ctx.host.root, tmp_path / "backup")  # as the engine applies links: inside the root
    for link in (a for a in actions if isinstance(a, Symlink)):
        effects.symlink(link.path, link.target)
    checks = await CniPlugins().verify(ctx)
    assert not failed(checks), failed(checks)
    assert checks[-1].detail.endswith("0.4.0, 1.0.0")  # Debian's plugins 1.1.1 speak CNI up to 1.0.0


async def test_go_on_path_is_reused_when_new_enough_and_refused_when_too_old(tmp_path, runner_for, monkeypatch):
    ctx = runner_for(sim_context(tmp_path, "fedora"))
    sim_env(ctx, monkeypatch)
    sim.install_binary("/usr/bin/go", "go", "1.26.1")
    step = GoToolchain()
    await step.prepare(ctx)
    assert ctx.notes["go_toolchain"] == "path" and step.plan(ctx) == [] and "PATH" not in go_env(ctx)
    assert not failed(await step.verify(ctx))
    old = runner_for(sim_context(tmp_path / "old", "fedora", {"go": {"toolchain": "path"}}))
    sim_env(old, monkeypatch)
    sim.install_binary("/usr/bin/go", "go", "1.23.4")
    [check] = await GoToolchain().verify(old)
    assert not check.ok and "go1.23.4 at PATH, older than 1.25.0" in check.detail


async def test_the_recipes_cni_plugins_v0_8_1_build_in_gopath_mode(tmp_path, runner_for, monkeypatch):
    ref = {"sources": {"cni_plugins": {"url": "https://github.com/containernetworking/plugins.git",
                                       "ref": "v0.8.1"}}}
    ctx = runner_for(sim_context(tmp_path, "ubuntu2404", ref))
    provision(ctx, monkeypatch)
    plan = CniPlugins().plan(ctx)
    build = run_of(plan, "./build_linux.sh")
    ok_after_apply(apply_plan(Fixed(plan[:plan.index(build)]), ctx))
    module_mode = subprocess.run(["./build_linux.sh"], cwd=build.cwd, capture_output=True, text=True,
                                 env={**ctx.host.env, **dict(build.env), "GO111MODULE": "on"})
    assert module_mode.returncode == 1 and "go: go.mod file not found" in module_mode.stderr
    ok_after_apply(apply_plan(Fixed(plan[plan.index(build):]), ctx))  # GO111MODULE=off, as planned
    assert not failed(await CniPlugins().verify(ctx))
    assert await supported_cni_versions(ctx) == ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0"]
    assert ctx.executable("/opt/cni/bin/flannel")


async def test_crictl_release_reaches_crio(tmp_path, runner_for, monkeypatch):
    ctx = runner_for(sim_context(tmp_path, "debian12"))
    sim_env(ctx, monkeypatch)
    step = Crictl()
    ok_after_apply(apply_plan(step, ctx))
    checks = await step.verify(ctx)
    assert not checks[0].ok  # no crio yet
    sim.install_binary("/usr/local/bin/crio", "crio", PIN["crio"])
    sim.write("/var/run/crio/crio.sock", "")  # crio "running" (the service helper's stand-ins start it)
    checks = await step.verify(ctx)
    assert not failed(checks), failed(checks)
    assert [check.detail for check in checks[:3]] == ["RuntimeName: cri-o", "RuntimeVersion: 1.35.6",
                                                      "RuntimeApiVersion: v1"]


async def test_the_cri_o_package_needs_its_repository(tmp_path, runner_for):
    ctx = runner_for(sim_context(tmp_path, "rocky9", {"install": {"crio": "package"}}))
    [(argv, code, output)] = apply_plan(CrioBuild(), ctx)
    assert code == 1 and "No match for argument: cri-o" in output
    assert not (await CrioBuild().verify(ctx))[0].ok


@pytest.mark.parametrize("profile, message, code", [
    ("rocky9", "No match for argument: gpgme-devel", 1),
    ("debian12", "E: Unable to locate package libgpgme-dev", 100),
])
async def test_fault_missing_package_fails_once(tmp_path, runner_for, profile, message, code):
    ctx = runner_for(sim_context(tmp_path, profile, faults=("missing-package",)))
    results = apply_plan(BuildDeps(), ctx)
    assert results[-1][1] == code and message in results[-1][2]
    assert failed(await BuildDeps().verify(ctx))
    await apply_and_verify(BuildDeps(), ctx)  # the retry (CRB enabled / lists updated again) passes


async def test_fault_build_failure_stops_make_with_the_gpgme_error(tmp_path, runner_for, monkeypatch):
    ctx = runner_for(sim_context(tmp_path, "centos-stream9", faults=("build-failure",)))
    provision(ctx, monkeypatch)
    results = apply_plan(CrioBuild(), ctx)
    argv, code, output = results[-1]
    assert argv == ("make", "binaries", "crio.conf") and code == 2
    assert "Package gpgme was not found in the pkg-config search path." in output
    assert "make: *** [Makefile:213: bin/crio] Error 1" in output
    assert not await CrioBuild().detect(ctx)
    assert commands(CrioBuild().plan(ctx))[0][3:5] == ("remote", "set-url")  # the retry reuses the clone
    await apply_and_verify(CrioBuild(), ctx)


async def test_fault_hang_is_stopped_by_the_timeout(tmp_path, runner_for, monkeypatch):
    ctx = runner_for(sim_context(tmp_path, "debian12", faults=("hang",)))
    provision(ctx, monkeypatch, go=None)  # conmon is C
    plan = Conmon().plan(ctx)
    build = run_of(plan, "make")
    assert build.timeout <= 600  # a hung build is killed by the runner after this
    ok_after_apply(apply_plan(Fixed(plan[:plan.index(build)]), ctx))
    env = {**ctx.host.env, **dict(build.env)}
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run(build.argv, cwd=build.cwd, env=env, capture_output=True, timeout=1.5)
    ok_after_apply(apply_plan(Fixed(plan[plan.index(build):]), ctx))  # fired once: the next build finishes
    assert not failed(await Conmon().verify(ctx))


def test_clone_actions_work_with_real_git_and_follow_a_moved_ref(tmp_path):
    """The same argv on a real machine: a local repository, cloned at one tag, then refreshed to another."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    origin = tmp_path / "origin"

    def git(*args: str, cwd: Path = origin) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)

    def run(actions: list) -> None:
        for action in actions:
            done = subprocess.run(action.argv, cwd=action.cwd or tmp_path, env={**env, **dict(action.env)},
                                  capture_output=True, text=True)
            assert done.returncode == 0, (action.argv, done.stderr)

    origin.mkdir()
    git("init", "-q")
    for version in ("1.0.0", "1.1.0"):
        (origin / "VERSION").write_text(version)
        git("add", "VERSION")
        git("commit", "-q", "-m", version)
        git("tag", f"v{version}")
    tree = tmp_path / "work" / "src" / "project"
    run(clone_actions(f"file://{origin}", "v1.0.0", tree))
    assert (tree / "VERSION").read_text() == "1.0.0"
    (origin / "VERSION").write_text("1.2.0")
    git("commit", "-q", "-am", "1.2.0")
    git("tag", "v1.2.0")
    run(clone_actions(f"file://{origin}", "v1.2.0", tree))  # an existing clone: fetch, then check out
    assert (tree / "VERSION").read_text() == "1.2.0"
