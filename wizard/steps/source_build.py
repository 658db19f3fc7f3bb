"""What the build steps share: cloning a ref, the Go build environment, release downloads, install paths."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import ClassVar

from wizard import mirrors
from wizard.actions import Run
from wizard.answers import Answers
from wizard.pins import version_at_least
from wizard.steps.base import Context, Step

GO_ROOT = "/usr/local/go"  # where the downloaded Go toolchain is unpacked (tar -C /usr/local)
GO_BIN_DIR = f"{GO_ROOT}/bin"
ROOT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
CLONE_TIMEOUT = 1800.0  # the CRI-O history is large and git hosts can be slow from some networks
DOWNLOAD_TIMEOUT = 900.0
GO_BUILD_TIMEOUT = 3600.0  # a cold Go build cache on 2 cores; CRI-O alone takes 70-90 s when it is warm
INSTALL_TIMEOUT = 120.0
# answers every network-using step depends on, and those of every Go build on top
NETWORK_INPUTS = ("proxy.http", "proxy.https", "proxy.no_proxy", "mirror")
GO_BUILD_INPUTS = ("kubernetes", "go.toolchain", "go.proxy", "workdir", *NETWORK_INPUTS)
_RELEASE_TAG = re.compile(r"v?(\d+\.\d+\.\d+)")
_GO_VERSION = re.compile(r"\bgo version go(\d+(?:\.\d+)*)")


def install_prefix(ctx: Context) -> str:
    """install.prefix without a trailing slash ("" for "/"), so f"{prefix}/bin/crio" is always clean."""
    return ctx.answers.get("install.prefix").rstrip("/")


def prefix_bin(ctx: Context, program: str) -> str:
    return f"{install_prefix(ctx)}/bin/{program}"


def make_prefix_argument(ctx: Context) -> str:
    return f"PREFIX={install_prefix(ctx) or '/'}"


def source_ref(ctx: Context, source_key: str, pinned: str) -> str:
    """The ref to build: sources.<key>.ref from the answers, or the pinned release when it is empty."""
    return ctx.answers.get(f"sources.{source_key}.ref") or pinned


def source_url(ctx: Context, source_key: str) -> str:
    """sources.<key>.url, through the git mirror when one is answered."""
    return mirrors.git_url(ctx.answers, ctx.answers.get(f"sources.{source_key}.url"))


def source_dir(ctx: Context, name: str) -> Path:
    """The (real) directory a component's source tree is cloned into."""
    return ctx.workdir / name


def release_version(ref: str) -> str | None:
    """The version a release tag names ("1.35.6" for "v1.35.6"); None for branches and commits."""
    match = _RELEASE_TAG.fullmatch(ref)
    return match.group(1) if match else None


def release_url(template: str, version: str, arch: str) -> str:
    # str.format would trip over any other brace in a user's mirror URL
    return template.replace("{version}", version).replace("{arch}", arch)


def network_env(ctx: Context) -> dict[str, str]:
    """The proxy answers as the variables curl, git and go read (both spellings: tools disagree)."""
    proxy = ctx.answers.get("proxy")
    env: dict[str, str] = {}
    for key in ("http", "https", "no"):
        value = proxy["no_proxy" if key == "no" else key]
        if value:
            env[f"{key}_proxy"] = value
            env[f"{key.upper()}_PROXY"] = value
    return env


def clone_complete(git_dir: Path) -> bool:
    """Did a clone finish? git writes the remote's HEAD ref last, after every object arrived."""
    return (git_dir / "refs/remotes/origin/HEAD").exists()


def clone_actions(url: str, ref: str, directory: Path | str, env: dict[str, str] | None = None,
                  secret_values: tuple[str, ...] = ()) -> list[Run]:
    """Clone `url` into `directory` (or refresh an earlier clone) and check out `ref`.

    Refs are release tags (pinned, or from the answers); an existing clone gets its origin pointed at `url`
    (the user may have switched to a mirror) and its tags refreshed instead of being cloned again. Looking
    at the work directory is the only thing planning reads: it is the wizard's own directory, not the host.
    """
    directory = str(directory)
    network = dict(env or {})
    git_dir = Path(directory, ".git")
    if clone_complete(git_dir):
        fetch = [
            Run(["git", "-C", directory, "remote", "set-url", "origin", url]),
            Run(["git", "-C", directory, "fetch", "--force", "--tags", "origin"], env=network,
                timeout=CLONE_TIMEOUT, secret_values=secret_values),
        ]
    else:
        # a clone killed half-way leaves a directory git refuses to clone into: start it again
        fresh = [Run(["rm", "-rf", "--", directory])] if Path(directory).exists() else []
        fetch = fresh + [Run(["git", "clone", "--no-checkout", url, directory], env=network, timeout=CLONE_TIMEOUT,
                             secret_values=secret_values)]
    return fetch + [Run(["git", "-C", directory, "checkout", "--force", ref])]


def clone_source(ctx: Context, source_key: str, directory_name: str, pinned: str) -> list[Run]:
    """clone_actions for sources.<key>, with the proxy answers."""
    return clone_actions(source_url(ctx, source_key), source_ref(ctx, source_key, pinned),
                         source_dir(ctx, directory_name), env=network_env(ctx),
                         secret_values=ctx.answers.secret_values())


async def go_version(ctx: Context, program: str) -> str | None:
    """The version `program version` reports as its own ("1.25.7"), or None when it cannot run.

    GOTOOLCHAIN=local makes a go report itself: with auto, a go.mod nearby could make it switch toolchains.
    """
    if program.startswith("/") and not ctx.executable(program):
        return None  # not installed: nothing to start
    result = await ctx.probe([program, "version"], env={"GOTOOLCHAIN": "local"})
    match = _GO_VERSION.search(result.output)
    return match.group(1) if result.exit_code == 0 and match else None


async def choose_go(ctx: Context) -> str:
    """Decide which Go the builds use and note it in ctx.notes["go_toolchain"]: "path" or "download".

    go.toolchain auto takes the go on PATH when it is new enough for the CRI-O tag, else the pinned
    download; the probe runs once per run (in prepare(), right before a step plans).
    """
    mode = ctx.answers.get("go.toolchain")
    if mode == "auto" and "go_toolchain" not in ctx.notes:
        found = await go_version(ctx, "go")
        good = found is not None and version_at_least(found, ctx.answers.pins.go_min)
        ctx.notes["go_toolchain"] = "path" if good else "download"
    elif mode != "auto":
        ctx.notes["go_toolchain"] = mode
    return ctx.notes["go_toolchain"]


class GoSourceStep(Step):
    """A step whose install method (the answer named by `method_answer`) may be "source": then it builds Go
    code, with the toolchain choose_go() picks right before it runs."""

    method_answer: ClassVar[str]

    async def prepare(self, ctx: Context) -> None:
        if ctx.answers.get(self.method_answer) == "source":
            await choose_go(ctx)  # which Go go_env() puts on PATH


def uses_downloaded_go(ctx: Context) -> bool:
    """Do builds use the Go toolchain unpacked in /usr/local/go (rather than the go on PATH)?

    For go.toolchain auto, choose_go() decided it; before that (a plan preview) the download is assumed,
    because the pinned toolchain is what the go-toolchain step installs when it has anything to do.
    """
    mode = ctx.answers.get("go.toolchain")
    if mode == "auto":
        return ctx.notes.get("go_toolchain", "download") == "download"
    return mode == "download"


def path_with_go_first(ctx: Context) -> str:
    """/usr/local/go/bin, then root's standard PATH: a build needs nothing from a user's own PATH."""
    # on the simulated host the stand-in launchers must stay first, or a go installed on this machine would run
    launchers = ctx.host.env.get("PATH", "").split(os.pathsep)[:1] if ctx.host.simulated else []
    return os.pathsep.join([*launchers, GO_BIN_DIR, *ROOT_PATH])


def go_env(ctx: Context) -> dict[str, str]:
    """The environment of every Go build: the chosen toolchain only; GOPROXY/GOSUMDB from the answers."""
    # GOTOOLCHAIN=local: Go >= 1.21 would otherwise download the toolchain a go.mod asks for by itself,
    # behind the wizard's back (and fail offline); the go-toolchain step has verified the local one
    env = {"GOTOOLCHAIN": "local", **mirrors.go_env(ctx.answers)}
    if uses_downloaded_go(ctx):
        env["PATH"] = path_with_go_first(ctx)
    return env


def download_action(ctx: Context, url: str, file_name: str) -> Run:
    """Download `url` (through the release mirror, if any) to `file_name` in the work directory."""
    url = mirrors.download_url(ctx.answers, url)
    return Run(["curl", "-fsSL", "--retry", "3", "-o", file_name, url], cwd=str(ctx.workdir),
               env=network_env(ctx), timeout=DOWNLOAD_TIMEOUT, secret_values=ctx.answers.secret_values())


def find_on_path(ctx: Context, program: str) -> str | None:
    """The host path of `program` in root's usual PATH (and the wizard's own), or None."""
    directories = [d for d in ctx.host.env.get("PATH", "").split(os.pathsep) if d.startswith("/")]
    directories += [d for d in ROOT_PATH if d not in directories]
    for directory in directories:
        candidate = f"{directory.rstrip('/')}/{program}"
        if ctx.executable(candidate):
            return candidate
    return None


def version_matches(seen: str, expected_ref: str) -> bool:
    """Does a version a program printed ("1.35.6", "v1.35.6-dirty") belong to the ref that was built?"""
    wanted = release_version(expected_ref)
    if wanted is None:
        return bool(seen)  # a branch or commit: any version shows the program runs
    seen_match = _RELEASE_TAG.match(seen.strip())
    return seen_match is not None and seen_match.group(1) == wanted



def go_needed(answers: Answers) -> bool:
    """Is anything built from Go sources? (conmon is C; packages and release files need no Go.)"""
    return (
        answers.get("install.crio") == "source"
        or answers.get("install.cni_plugins") == "source"
        or answers.get("install.crictl") == "source"
        or (answers.scope == "cluster+flannel" and answers.get("install.flannel_cni") == "source")
    )


def first_line(output: str, program: str) -> str:
    """The first non-empty line of a program's output, for a check's detail."""
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[0] if lines else f"{program} printed nothing"
