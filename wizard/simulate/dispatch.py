"""Entry point of every stand-in executable: finds the tool by name and runs it in the sandbox."""

from __future__ import annotations

import importlib
import sys

from wizard.simulate import sim


def main(module: str, name: str) -> None:
    tool: sim.Tool = importlib.import_module(f"wizard.simulate.tools.{module}").TOOLS[name]
    if tool.installed_at and not any(sim.host_path(path).exists() for path in tool.installed_at):
        sys.stderr.write(f"{name}: command not found\n")
        sys.exit(127)
    try:
        code = tool.main(sys.argv[1:])
    except BrokenPipeError:
        code = 141
    sys.stdout.flush()
    sys.exit(code)
