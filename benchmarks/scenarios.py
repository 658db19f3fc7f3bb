"""What the benchmark measures inside a fresh process: `python -m benchmarks.scenarios NAME RESULT_FILE ARGS...`.

Each scenario drives the real engine (a session, the executor, the runner, the line printer or the Textual
app) and writes its timings as JSON to RESULT_FILE; the parent process adds wall time and peak memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path

from wizard.actions import Run
from wizard.executor import Executor
from wizard.headless import LinePrinter
from wizard.session import Options, Session
from wizard.steps.base import Check, Context, Step

# a line as a C build prints it, numbered by seq (its one %-directive)
FLOOD_LINE = "CC      src/libcrio/ctr_logging_%.0f.o -O2 -g -Wall -Wextra -std=gnu99 -D_GNU_SOURCE"
KEY_INTERVAL = 0.05  # seconds between two key presses during the flood
KEY_GIVE_UP = 5.0  # a key not handled after this long counts as this long
BUILD_PREPARATION = ("host-prep", "build-deps", "go-toolchain")
BUILD_PHASE = ("crio-build", "conmon", "cni-plugins", "cni-config", "flannel-cni")


def flood_command(lines: int) -> list[str]:
    return ["seq", "-f", FLOOD_LINE, "1", str(lines)]


class FloodStep(Step):
    """One command that prints `lines` lines as fast as it can."""

    id = "flood"
    title = "a command that prints a lot"

    def __init__(self, lines: int) -> None:
        self.lines = lines

    def plan(self, ctx: Context) -> list[Run]:
        return [Run(flood_command(self.lines), timeout=600)]

    async def detect(self, ctx: Context) -> bool:
        return False  # it prints every time

    async def verify(self, ctx: Context) -> list[Check]:
        return [Check("the command printed", True)]


class MakeStep(Step):
    """A real `make -j2` of a generated C project."""

    id = "make"
    title = "a small C build"

    def __init__(self, project: Path) -> None:
        self.project = project

    def plan(self, ctx: Context) -> list[Run]:
        return [Run(["make", "-j2"], cwd=str(self.project), timeout=600)]

    async def detect(self, ctx: Context) -> bool:
        return False

    async def verify(self, ctx: Context) -> list[Check]:
        return [Check("the program was linked", (self.project / "app").is_file())]


def open_session(state_dir: str, simulate: str | None = "rocky9", sim_speed: float = 0, jobs: int = 1) -> Session:
    session = Session.open(Options(simulate=simulate, sim_speed=sim_speed, state_dir=state_dir, jobs=jobs))
    session.acquire()
    return session


def executor_for(session: Session, emit, steps: list[Step], jobs: int = 1) -> Executor:
    runner = session.runner()
    return Executor(session.context(runner), session.journal, runner, emit, steps=steps, jobs=jobs)


def count_lines(path: Path) -> int:
    lines = 0
    with open(path, "rb") as log:
        while chunk := log.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


# -- scenarios ---------------------------------------------------------------------------------

def flood_headless(state_dir: str, lines: str) -> dict:
    """The headless path: runner -> events -> LinePrinter (to /dev/null), the full output teed to the step log."""
    session = open_session(state_dir)
    step = FloodStep(int(lines))
    with open(os.devnull, "w") as devnull:
        executor = executor_for(session, LinePrinter(stream=devnull), [step])
        began = time.monotonic()
        ok = asyncio.run(executor.run())
        seconds = time.monotonic() - began
    return {"ok": ok, "seconds": seconds, "log_lines": count_lines(executor.log_path(step))}


def flood_tui(state_dir: str, lines: str) -> dict:
    """The same step on the step screen (Textual's headless harness), timed from the step's start to its end;
    from its first output line on, End is pressed every KEY_INTERVAL and each press timed until the log handles it."""
    import wizard.executor as executor_module
    from screens import steps as step_screen
    from screens.app import make_app
    from textual import events as textual_events

    from wizard.cli import default_jobs

    session = open_session(state_dir, jobs=default_jobs())  # as `crio-wizard` starts it: output lines are labelled
    step = FloodStep(int(lines))
    # the app builds its executor from the recipe's steps: the tests' seam hands it the flood step instead
    executor_module.steps_in_scope = lambda ctx: [step]
    handled: list[float] = []
    scroll_end = step_screen.OutputLog.action_scroll_end

    def timed_scroll_end(self, *args, **kwargs):
        handled.append(time.monotonic())
        return scroll_end(self, *args, **kwargs)

    step_screen.OutputLog.action_scroll_end = timed_scroll_end
    app = make_app(session)

    def running() -> bool:
        screen = app.step_screen
        return screen is None or not screen.is_mounted or screen.phase == "running"

    def flooding() -> bool:  # the step's command has started
        screen = app.step_screen
        return screen is not None and screen.current is not None and screen.current.action is not None

    async def drive() -> dict:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            app.start_steps()
            while running() and not flooding():
                await asyncio.sleep(0.001)
            latencies = []
            while running():
                await asyncio.sleep(KEY_INTERVAL)
                before, pressed = len(handled), time.monotonic()
                app.post_message(textual_events.Key("end", None))
                while len(handled) == before and time.monotonic() - pressed < KEY_GIVE_UP:
                    await asyncio.sleep(0.001)
                if len(handled) == before and not running():
                    break  # the step ended and the summary took the key
                answered = handled[-1] if len(handled) > before else time.monotonic()
                latencies.append((pressed - app.step_screen.current.started_at, answered - pressed))
            step_run = app.step_screen.current
            seconds = (step_run.finished_at or time.monotonic()) - step_run.started_at  # StepStarted to StepFinished
            verified = app.executor.journal.record(step.id).status == "verified"
        # (seconds into the step, seconds until handled) per press
        return {"ok": verified, "seconds": seconds, "key_presses": latencies,
                "screen_lines": step_screen.LOG_LINES}

    result = asyncio.run(drive())
    result["log_lines"] = count_lines(Path(state_dir) / "logs" / f"{step.id}.log")
    return result


def write_c_project(directory: Path, files: int = 16, functions: int = 30) -> Path:
    """A C program whose -O2 build takes a few seconds on two cores."""
    source = directory / "src"
    source.mkdir(parents=True, exist_ok=True)
    for number in range(files):
        body = [f"#include <math.h>\n\ndouble part_{number}(double x);\n"]
        for function in range(functions):
            body.append(
                f"static double f{function}(double x, int n) {{\n"
                f"    double total = 0;\n"
                f"    for (int i = 0; i < n; i++) {{\n"
                f"        total += sin(x * i + {function}) / (1.0 + i % {function % 7 + 2});\n"
                f"        if (total > {function + 10}.0) total = sqrt(total) - {number}.5;\n"
                f"    }}\n"
                f"    return total;\n}}\n")
        calls = " + ".join(f"f{function}(x, {function % 13 + 3})" for function in range(functions))
        body.append(f"double part_{number}(double x) {{\n    return {calls};\n}}\n")
        (source / f"part{number}.c").write_text("".join(body))
    declarations = "".join(f"double part_{number}(double x);\n" for number in range(files))
    total = " + ".join(f"part_{number}(1.5)" for number in range(files))
    (source / "main.c").write_text(f"#include <stdio.h>\n{declarations}\nint main(void) {{\n"
                                   f"    printf(\"%f\\n\", {total});\n    return 0;\n}}\n")
    (directory / "Makefile").write_text(
        "CFLAGS = -O2 -g -Wall\n"
        "OBJECTS = $(patsubst %.c,%.o,$(wildcard src/*.c))\n\n"
        "app: $(OBJECTS)\n\t$(CC) -o $@ $(OBJECTS) -lm\n\n"
        "src/%.o: src/%.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\n")
    return directory


def make_cpu(work_dir: str) -> dict:
    """CPU of this process (the wizard) and of its children (the build) while `make -j2` runs through the engine
    on this machine (a real host: the make, gcc and files are real, in a temporary directory)."""
    project = write_c_project(Path(work_dir) / "project")
    session = open_session(str(Path(work_dir) / "state"), simulate=None)
    with open(os.devnull, "w") as devnull:
        executor = executor_for(session, LinePrinter(stream=devnull), [MakeStep(project)])
        own_before = resource.getrusage(resource.RUSAGE_SELF)
        build_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.monotonic()
        ok = asyncio.run(executor.run())
        seconds = time.monotonic() - began
        own_after = resource.getrusage(resource.RUSAGE_SELF)
        build_after = resource.getrusage(resource.RUSAGE_CHILDREN)

    def cpu(after, before) -> float:
        return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    return {"ok": ok, "seconds": seconds, "own_cpu": cpu(own_after, own_before),
            "build_cpu": cpu(build_after, build_before)}


def build_phase(state_dir: str, jobs: str, speed: str) -> dict:
    """The build steps on the simulated host at `speed` x real-life durations, with `jobs` at a time; the steps
    before them are run first at speed 0 (not timed)."""
    from wizard.steps import steps_in_scope

    with open(os.devnull, "w") as devnull:
        printer = LinePrinter(stream=devnull)
        preparing = open_session(state_dir)
        before = [step for step in steps_in_scope(preparing.context()) if step.id in BUILD_PREPARATION]
        if not asyncio.run(executor_for(preparing, printer, before).run()):
            return {"ok": False, "seconds": 0.0, "problem": "the steps before the builds failed"}
        preparing.release()
        session = open_session(state_dir, sim_speed=float(speed))
        builds = [step for step in steps_in_scope(session.context()) if step.id in BUILD_PHASE]
        executor = executor_for(session, printer, builds, jobs=int(jobs))
        began = time.monotonic()
        ok = asyncio.run(executor.run())
        seconds = time.monotonic() - began
    return {"ok": ok, "seconds": seconds, "steps": [step.id for step in builds]}


SCENARIOS = {
    "flood-headless": flood_headless,
    "flood-tui": flood_tui,
    "make-cpu": make_cpu,
    "build-phase": build_phase,
}


def main(argv: list[str]) -> int:
    name, result_file, *args = argv
    result = SCENARIOS[name](*args)
    Path(result_file).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
