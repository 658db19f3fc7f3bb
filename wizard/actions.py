"""The things a step plans: commands as argv lists and file effects, all inert data."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Run:
    """Run one command. `argv` is never joined into a shell string by the engine."""

    argv: tuple[str, ...]
    cwd: str | None = None  # a real directory (e.g. a source tree under the state dir); None = state dir
    env: tuple[tuple[str, str], ...] = ()  # extra environment, as pairs so the action stays hashable
    timeout: float = 600.0  # seconds; a command still running then is killed with its whole group
    stdout_to: str | None = None  # host path: stdout becomes this file (written with backup), stderr goes to the log
    ok_codes: tuple[int, ...] = (0,)
    secret_values: tuple[str, ...] = ()  # words masked in logs and output (proxy passwords, tokens)

    def __post_init__(self) -> None:
        object.__setattr__(self, "argv", tuple(self.argv))
        object.__setattr__(self, "env", tuple((str(k), str(v)) for k, v in dict(self.env).items()))
        if not self.argv or not all(isinstance(part, str) for part in self.argv):
            raise ValueError(f"argv must be a non-empty list of strings: {self.argv!r}")


@dataclass(frozen=True)
class WriteFile:
    """Write a whole file on the host, atomically, backing up what it replaces."""

    path: str  # absolute host path, e.g. /etc/crio/crio.conf.d/02-crio.conf
    content: str
    mode: int = 0o644


@dataclass(frozen=True)
class Symlink:
    """Make `path` a symlink to `target` (both host paths), backing up a file it replaces."""

    path: str
    target: str


@dataclass(frozen=True)
class RemoveFile:
    """Remove a host file (backed up first) - used by fixes and reset."""

    path: str


Action = Run | WriteFile | Symlink | RemoveFile


@dataclass
class Owned:
    """What a step owns on the host, so that reset can undo it."""

    files: list[str] = field(default_factory=list)  # host paths it created or replaced
    units: list[str] = field(default_factory=list)  # systemd units it enabled
    links: list[str] = field(default_factory=list)  # network links it (or what it started) created
    dirs: list[str] = field(default_factory=list)  # directories whose contents it created
