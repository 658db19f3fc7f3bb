"""root-path: the binaries the wizard installed under its prefix, reachable through sudo's secure_path."""

from __future__ import annotations

import os
import re

from wizard.actions import Action, Owned, Symlink
from wizard.steps.base import Check, Context, Step

# binary -> the answer saying how it is installed (anything but a distro package lands under the prefix)
BINARIES = {"crio": "install.crio", "pinns": "install.crio", "conmon": "install.conmon", "crictl": "install.crictl"}
LINK_DIR = "/usr/bin"
# root's PATH when sudo is absent or keeps the caller's PATH (no secure_path)
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SECURE_PATH_LINE = re.compile(r"^Value to override user's \$PATH with: (\S+)", re.MULTILINE)


def prefix(ctx: Context) -> str:
    return ctx.answers.get("install.prefix").rstrip("/")


def linked_binaries(ctx: Context) -> list[str]:
    """The binaries to link into /usr/bin: those installed under a prefix other than /usr."""
    if prefix(ctx) == "/usr":
        return []
    return [name for name, answer in BINARIES.items() if ctx.answers.get(answer) != "package"]


def resolve(ctx: Context, host_path: str) -> str | None:
    """The host path `host_path` leads to through symlinks, or None when it leads nowhere. A link's absolute
    target is a host path, or (as the engine writes links on the simulated host) a path under the host root."""
    root = str(ctx.host.root).rstrip("/")
    for _ in range(10):
        real = ctx.host.path(host_path)
        if not real.is_symlink():
            return host_path if ctx.executable(host_path) else None
        target = os.readlink(real)
        if root and target.startswith(root + "/"):
            target = target[len(root):]
        host_path = target if target.startswith("/") else os.path.normpath(f"{os.path.dirname(host_path)}/{target}")
    return None


def _first_in(ctx: Context, name: str, directories: list[str]) -> tuple[str, str] | None:
    """(where `name` is found, what it resolves to) for the first directory holding it, as a PATH search."""
    for directory in directories:
        resolved = resolve(ctx, f"{directory}/{name}")
        if resolved:
            return f"{directory}/{name}", resolved
    return None


class RootPath(Step):
    id = "root-path"
    title = "Binaries in root's PATH"
    inputs = ("install.prefix", "install.crio", "install.conmon", "install.crictl")
    after = ("crio-build", "conmon", "crictl")
    typical_seconds = 1.0

    def plan(self, ctx: Context) -> list[Action]:
        # `make install` puts binaries in <prefix>/bin; RHEL-family sudo's secure_path leaves out /usr/local/bin,
        # so `sudo crictl` (and minikube, which runs crictl and crio through sudo) would not find them.
        # A link in /usr/bin replaces (with a backup) a packaged copy that would otherwise shadow the wizard's.
        return [Symlink(f"{LINK_DIR}/{name}", f"{prefix(ctx)}/bin/{name}") for name in linked_binaries(ctx)]

    async def verify(self, ctx: Context) -> list[Check]:
        result = await ctx.probe(["sudo", "-V"])
        secure_path = SECURE_PATH_LINE.search(result.output) if result.exit_code == 0 else None
        if secure_path:
            search, where = secure_path.group(1), "sudo's secure_path"
        else:
            search, where = ROOT_PATH, "root's PATH"
        directories = [d for d in search.split(":") if d.startswith("/")]
        checks = []
        for name in BINARIES:
            found = _first_in(ctx, name, directories)
            if found:
                shown, resolved = found
                detail = shown if shown == resolved else f"{shown} -> {resolved}"
            else:
                detail = f"not in {search}"
                installed = resolve(ctx, f"{prefix(ctx)}/bin/{name}")
                if installed:
                    detail += f" (installed at {installed})"
            checks.append(Check(f"{name} is found through {where}", found is not None, detail))
        return checks

    def owns(self, ctx: Context) -> Owned:
        return Owned(files=[f"{LINK_DIR}/{name}" for name in linked_binaries(ctx)])
