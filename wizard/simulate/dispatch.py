"""Entry point of every stand-in executable: finds the tool by name and runs it in the sandbox."""

from __future__ import annotations

import importlib
import os
import sys

from wizard.simulate import sim


def main(module: str, name: str) -> None:
    tool: sim.Tool = importlib.import_module(f"wizard.simulate.tools.{module}").TOOLS[name]
    sim.clear_removed_faults()
    called_as = os.environ.pop(sim.ARGV0_ENV, "")
    if called_as:
        # called by absolute path: that file must exist in the sandbox
        if not sim.host_path(called_as).is_file():
            sys.stderr.write(f"{called_as}: No such file or directory\n")
            sys.exit(127)
        os.environ[sim.SELF_ENV] = called_as
    elif tool.installable:
        found = sim.which(name)
        if found is None:
            sys.stderr.write(f"{name}: command not found\n")
            sys.exit(127)
        os.environ[sim.SELF_ENV] = found
    try:
        code = tool.main(sys.argv[1:])
    except BrokenPipeError:
        code = 141
    sys.stdout.flush()
    sys.exit(code)
