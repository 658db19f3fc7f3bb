"""The resolved plan as text for people, or as a runnable POSIX shell script."""

from __future__ import annotations

import shlex

from wizard import __version__
from wizard.actions import Action, RemoveFile, Run, Symlink, WriteFile
from wizard.executor import describe, mask
from wizard.steps.base import Context, Step

HEREDOC_END = "CRIO_WIZARD_EOF"
# a script whose credentials are masked would send *** to a proxy or a git server: it stops first
MASKED_GUARD = [
    "# The answers hold credentials: this script shows each of them as ***. Put them in where *** stands,",
    "# then delete the next line.",
    "echo 'crio-wizard plan: credentials are masked as *** in this script: put them in, then delete this line'"
    " >&2; exit 2",
]


def render_text(ctx: Context, steps: list[Step]) -> str:
    secrets = ctx.answers.secret_values()
    facts = ctx.host.facts
    where = f"simulated {ctx.host.simulated}" if ctx.host.simulated else "this host"
    lines = [f"# crio-wizard {__version__} plan for {facts.pretty_name} ({where}), scope {ctx.answers.scope}", ""]
    for index, step in enumerate(steps, start=1):
        lines.append(f"[{index}/{len(steps)}] {step.id}: {step.title}")
        actions = step.plan(ctx)
        if not actions:
            lines.append("    (checks only)")
        for action in actions:
            lines.append("    " + mask(describe(action), secrets))
            if isinstance(action, WriteFile):
                lines.extend("      | " + mask(line, secrets) for line in action.content.splitlines())
        lines.append("")
    return "\n".join(lines)


def render_sh(ctx: Context, steps: list[Step]) -> str:
    """A script of the same commands and file writes. Every value is quoted with shlex.quote. Credentials
    are masked as ***, and then the script refuses to run until someone has put them in."""
    secrets = ctx.answers.secret_values()
    body = []
    for step in steps:
        body += ["", f"# --- {step.id}: {step.title}"]
        body += [line for action in step.plan(ctx) for line in _sh_lines(action)]
    masked = [mask(line, secrets) for line in body]
    out = [
        "#!/bin/sh",
        f"# crio-wizard {__version__}: the plan for {ctx.host.facts.pretty_name}, scope {ctx.answers.scope}.",
        "# Run as root. It stops at the first failing command; the wizard also verifies each step.",
        "set -eu",
    ]
    if masked != body:
        out += MASKED_GUARD
    out += [f"mkdir -p {shlex.quote(str(ctx.state_dir))}", f"cd {shlex.quote(str(ctx.state_dir))}", *masked]
    return "\n".join(out) + "\n"


def _sh_lines(action: Action) -> list[str]:
    quote = shlex.quote
    if isinstance(action, Run):
        command = shlex.join(action.argv)
        if action.env:
            command = "env " + " ".join(quote(f"{key}={value}") for key, value in action.env) + " " + command
        if action.stdout_to:
            command += f" > {quote(action.stdout_to)}"
        if action.cwd:
            command = f"(mkdir -p {quote(action.cwd)} && cd {quote(action.cwd)} && {command})"
        if tuple(action.ok_codes) != (0,):
            codes = " ".join(str(code) for code in action.ok_codes)
            command = f"{command} || case $? in {codes.replace(' ', '|')}) ;; *) exit 1 ;; esac"
        return [command]
    if isinstance(action, WriteFile):
        target = quote(action.path)
        lines = [f"mkdir -p {quote(action.path.rsplit('/', 1)[0] or '/')}"]
        if action.content.endswith("\n") and HEREDOC_END not in action.content:
            lines += [f"cat > {target} <<'{HEREDOC_END}'", *action.content.splitlines(), HEREDOC_END]
        else:
            lines.append(f"printf '%s' {quote(action.content)} > {target}")
        lines.append(f"chmod {action.mode:o} {target}")
        return lines
    if isinstance(action, Symlink):
        return [f"ln -sfn {quote(action.target)} {quote(action.path)}"]
    assert isinstance(action, RemoveFile)
    return [f"rm -f {quote(action.path)}"]
