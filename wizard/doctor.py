"""`crio-wizard doctor`: run every verify and preflight check on the live host and report each line."""

from __future__ import annotations

import platform
import sys

from wizard import __version__
from wizard.executor import mask
from wizard.steps import steps_in_scope

MARKS = {"pass": "pass", "warn": "warn", "fail": "FAIL", "waived": "waived"}


async def doctor_report(session, out=None) -> int:
    """Print a report a user can paste into a bug: one line per check with pass / warn / fail and why."""
    from wizard import catalogue, preflight

    out = out or sys.stdout
    runner = session.runner()
    ctx = session.context(runner)
    ctx.log_path = session.state_dir / "logs" / "doctor.log"
    ctx.log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secrets = ctx.answers.secret_values()
    facts = session.host.facts
    lines = [
        f"crio-wizard {__version__} doctor report",
        f"host: {facts.pretty_name} {facts.machine}, systemd {'yes' if facts.systemd else 'no'}"
        + (f", SIMULATED ({session.host.simulated})" if session.host.simulated else "")
        + f", python {platform.python_version()}",
        f"answers: scope {ctx.answers.scope}, Kubernetes {ctx.answers.pins.kubernetes}, CRI-O {ctx.answers.pins.crio}, "
        f"pod CIDR {ctx.answers.pod_cidr}",
        "",
        "preflight:",
    ]
    failures = 0
    for result in await preflight.run_preflight(ctx, ignore=set(session.options.ignore_checks)):
        failures += result.status == "fail"
        lines.append(f"  {MARKS[result.status]:6} {result.name}: {result.detail}")
    for step in steps_in_scope(ctx):
        lines.append("")
        lines.append(f"{step.id}: {step.title}")
        checks = await step.verify(ctx)
        failed_details = []
        for check in checks:
            failures += not check.ok
            lines.append(f"  {'pass' if check.ok else 'FAIL':6} {check.name}: {check.detail or 'no detail'}")
            if not check.ok:
                failed_details.append(f"{check.name}: {check.detail}")
        for match in catalogue.match(step.id, failed_details):
            lines.append(f"  known error {match.entry.id}: {match.entry.text('title', session.options.lang)}")
    lines += ["", f"{failures} failing check(s)" if failures else "every check passes"]
    out.write("\n".join(mask(line, secrets) for line in lines) + "\n")
    return 1 if failures else 0
