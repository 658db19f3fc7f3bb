"""Test helpers: a simulated host context, and applying one step's plan on it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from wizard import answers as answers_module
from wizard.actions import RemoveFile, Run, Symlink, WriteFile
from wizard.simulate.sandbox import prepare
from wizard.steps.base import Check, Context, Step


def sim_context(tmp_path: Path, profile: str = "rocky9", overrides: dict | None = None,
                faults: tuple[str, ...] = ()) -> Context:
    host = prepare(profile, tmp_path / "state", speed=0, faults=faults)
    answers = answers_module.from_mapping(overrides or {})
    return Context(answers=answers, host=host, state_dir=tmp_path / "state")


def apply_plan(step: Step, ctx: Context) -> list[tuple[tuple[str, ...], int, str]]:
    """Run a step's planned actions one by one; returns (argv, exit code, output) per command and
    stops at the first failing command. File actions land under the host root."""
    results = []
    for action in step.plan(ctx):
        if isinstance(action, Run):
            argv, extra_env = ctx.host.command(action.argv)
            env = {**ctx.host.env, **dict(action.env), **extra_env}
            cwd = action.cwd or str(ctx.state_dir)
            Path(cwd).mkdir(parents=True, exist_ok=True)
            done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
            if action.stdout_to:
                target = ctx.host.path(action.stdout_to)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(done.stdout)
                output = done.stderr
            else:
                output = done.stdout + done.stderr
            results.append((action.argv, done.returncode, output))
            if done.returncode not in action.ok_codes:
                break
        elif isinstance(action, WriteFile):
            target = ctx.host.path(action.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(action.content)
            target.chmod(action.mode)
        elif isinstance(action, Symlink):
            target = ctx.host.path(action.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            target.symlink_to(action.target)
        elif isinstance(action, RemoveFile):
            ctx.host.path(action.path).unlink(missing_ok=True)
    return results


class SubprocessProbeRunner:
    """A minimal runner for step tests: probes only (the engine's real Runner streams and logs)."""

    def __init__(self, host):
        self.host = host

    async def probe(self, argv, timeout: float = 30.0, log_path=None, env=None):
        from wizard.runner import ProbeResult

        try:
            done = subprocess.run(argv, env={**self.host.env, **(env or {})}, capture_output=True, text=True,
                                  timeout=timeout)
        except FileNotFoundError:
            return ProbeResult(exit_code=127, output=f"{argv[0]}: command not found")
        return ProbeResult(exit_code=done.returncode, output=done.stdout + done.stderr)


def failed(checks: list[Check]) -> list[Check]:
    return [check for check in checks if not check.ok]
