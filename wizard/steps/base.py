"""What a step is: detect, plan, verify and what it owns, over a shared context."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from wizard.actions import Action, Owned
from wizard.answers import Answers
from wizard.host import Host

if TYPE_CHECKING:
    from wizard.runner import ProbeResult, Runner


@dataclass(frozen=True)
class Check:
    """One postcondition of a step, as seen on the host."""

    name: str  # what is checked, e.g. "crio --version shows v1.35.6"
    ok: bool
    detail: str = ""  # what was seen (the value, the error line)


@dataclass
class Context:
    """Everything a step needs to look at the host and plan for it."""

    answers: Answers
    host: Host
    state_dir: Path
    runner: "Runner | None" = None  # None while only planning (crio-wizard plan)
    log_path: Path | None = None  # the current step's log, where probes are recorded
    notes: dict = field(default_factory=dict)  # facts found by earlier steps in this run (e.g. the go binary)

    @property
    def workdir(self) -> Path:
        """Where sources are cloned and built (a real directory, also for the simulated host)."""
        configured = self.answers.get("workdir")
        return Path(configured) if configured else self.state_dir / "src"

    async def probe(self, argv: list[str], timeout: float = 30.0, env: dict[str, str] | None = None) -> "ProbeResult":
        """Run a short check command (logged to the step's log); `env` adds variables (e.g. CNI_COMMAND)."""
        assert self.runner is not None, "probe() needs a runner"
        command, extra_env = self.host.command(argv)
        return await self.runner.probe(command, timeout=timeout, log_path=self.log_path,
                                       env={**(env or {}), **extra_env})

    def read(self, host_path: str) -> str | None:
        """The text of a host file, or None when it is missing or unreadable."""
        try:
            return self.host.path(host_path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def exists(self, host_path: str) -> bool:
        return self.host.path(host_path).exists()

    def executable(self, host_path: str) -> bool:
        path = self.host.path(host_path)
        return path.is_file() and bool(path.stat().st_mode & 0o111)


class PlanRefused(Exception):
    """The step cannot be planned safely on this host (e.g. the CNI plugins reject the cniVersion);
    nothing was changed, and the message says why."""


class Step:
    """One unit the user sees. Subclasses set the class attributes and implement plan/verify."""

    id: ClassVar[str]
    title: ClassVar[str]
    # answer key paths this step's plan depends on: a change invalidates the step and its dependents
    inputs: ClassVar[tuple[str, ...]] = ()
    # ids of earlier steps this one builds on
    after: ClassVar[tuple[str, ...]] = ()
    # the scopes that include this step
    scopes: ClassVar[tuple[str, ...]] = ("runtime", "cluster", "cluster+flannel")
    # a rough duration on a 2-core machine, for the first estimate before any run was recorded
    typical_seconds: ClassVar[float] = 5.0
    # preflight checks (wizard/preflight.py names) run again right before this step: the host may have
    # changed since the first preflight (a port taken, a disk filled by the builds)
    preflight: ClassVar[tuple[str, ...]] = ()

    def applies(self, ctx: Context) -> bool:
        return ctx.answers.scope in self.scopes

    async def detect(self, ctx: Context) -> bool:
        """Is the step already satisfied? By default: do all its checks pass?"""
        return all(check.ok for check in await self.verify(ctx))

    async def prepare(self, ctx: Context) -> None:
        """Look at the host right before the step runs (probes allowed) and keep what plan() needs in
        ctx.notes. Raise PlanRefused to stop before any change. `crio-wizard plan` does not call it."""

    def plan(self, ctx: Context) -> list[Action]:
        raise NotImplementedError(f"{type(self).__name__} must plan its actions")

    async def verify(self, ctx: Context) -> list[Check]:
        raise NotImplementedError(f"{type(self).__name__} must say how it is verified")

    def owns(self, ctx: Context) -> Owned:
        return Owned()
