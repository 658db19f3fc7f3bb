"""Measure every figure of the performance budget and print them as a table with pass/fail.

Every figure is the median of several runs; where a peer exists (Python's own start-up, awk | tee, the headless
run, the build's CPU, the sequential build phase) it is measured in the same run and the ratio is what the
budget is about: machines here are noisy, ratios much less so. Nothing is installed; a missing tool is named.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.scenarios import FLOOD_LINE

REPO = Path(__file__).resolve().parent.parent
FLOOD_LINES = 1_000_000
BUILD_SPEED = 0.05  # simulated build durations at 1/20 of real life: the phase takes seconds, not minutes


@dataclass
class Figure:
    """One row of the table: what was measured against what, and whether it is within its budget."""

    name: str
    shown: str  # the measured value as shown, e.g. "62 ms = 1.9x"
    value: float | None  # what the budget bounds (None: could not be measured)
    budget: float | None  # upper bound for value (None: informational)
    budget_shown: str
    peer: str = ""
    note: str = ""

    @property
    def result(self) -> str:
        if self.value is None:
            return "SKIP"
        if self.budget is None:
            return "info"
        return "pass" if self.value <= self.budget else "FAIL"


# -- running things ----------------------------------------------------------------------------

def child_env() -> dict[str, str]:
    """The environment of everything measured: bytecode caches used and written, as an installed wizard has them."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def wizard_command() -> list[str]:
    """The installed console script next to this Python (pip install), else the module."""
    script = Path(sys.executable).with_name("crio-wizard")
    return [str(script)] if script.exists() else [sys.executable, "-m", "wizard.cli"]


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB of the process or of what it waited for) of one command that must succeed."""
    with tempfile.TemporaryFile() as errors:
        began = time.monotonic()
        process = subprocess.Popen(argv, cwd=REPO, env=child_env(), stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)  # wait4: the rusage of this child alone
        seconds = time.monotonic() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(argv)} exited with {process.returncode}: "
                               + errors.read().decode(errors="replace")[-2000:])
    return seconds, usage.ru_maxrss / 1024


def scenario(name: str, *args: str) -> tuple[dict, float]:
    """Run benchmarks.scenarios NAME in a fresh Python; its JSON result and its peak RSS in MB."""
    with tempfile.TemporaryDirectory(prefix="crio-wizard-bench-") as scratch:
        result_file = Path(scratch) / "result.json"
        _, peak = timed([sys.executable, "-m", "benchmarks.scenarios", name, str(result_file), *args])
        return json.loads(result_file.read_text()), peak


def median(values: list[float]) -> float:
    return statistics.median(values)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def missing(*programs: str) -> list[str]:
    return [program for program in programs if shutil.which(program) is None]


# -- the figures -------------------------------------------------------------------------------

def startup_times(runs: int, use_hyperfine: bool = True) -> dict[str, float]:
    """Median wall seconds of `python -c pass`, `crio-wizard --version` and `crio-wizard --help`
    (hyperfine when installed and wanted, else timed here)."""
    commands = {"python": [sys.executable, "-c", "pass"], "version": [*wizard_command(), "--version"],
                "help": [*wizard_command(), "--help"]}
    for argv in commands.values():  # write the bytecode caches first
        subprocess.run(argv, cwd=REPO, env=child_env(), stdout=subprocess.DEVNULL, check=True)
    if use_hyperfine and shutil.which("hyperfine"):
        with tempfile.TemporaryDirectory() as scratch:
            export = Path(scratch) / "startup.json"
            subprocess.run(["hyperfine", "--shell=none", "--warmup", "3", "--runs", str(runs), "--style", "none",
                            "--export-json", str(export), *(" ".join(argv) for argv in commands.values())],
                           cwd=REPO, env=child_env(), stdout=subprocess.DEVNULL, check=True)
            results = json.loads(export.read_text())["results"]
        return {name: result["median"] for name, result in zip(commands, results)}
    if use_hyperfine:
        say("  hyperfine not found (Debian: apt-get install hyperfine): timing the start-ups here instead")
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved, so a load spike hits all three alike
        for name, argv in commands.items():
            times[name].append(timed(argv)[0])
    return {name: median(values) for name, values in times.items()}


def startup_figures(runs: int) -> list[Figure]:
    times = startup_times(runs)
    peer = f"python -c pass {times['python'] * 1000:.0f} ms"
    figures = []
    for key, flag in (("version", "--version"), ("help", "--help")):
        ratio = times[key] / times["python"]
        figures.append(Figure(f"`crio-wizard {flag}` start-up", f"{times[key] * 1000:.0f} ms = {ratio:.1f}x", ratio,
                              3.0, "<= 3x", peer, "no Textual or asyncio import on this path"))
    return figures


def first_paint_seconds(state_dir: str) -> float:
    """Seconds from starting `crio-wizard --simulate rocky9` in a terminal (a pseudo-terminal of 120x40) until
    the welcome screen with its preflight results has arrived there; then q quits it."""
    from screens.welcome import PREFLIGHT_MARKS
    from wizard.texts import t

    # a check that passed (the simulated host passes most): shown once the preflight results are
    marker = f"{PREFLIGHT_MARKS['pass']} {t('preflight.pass', 'en')}".encode()
    master, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = child_env() | {"TERM": "xterm-256color", "COLORTERM": "truecolor"}
    began = time.monotonic()
    process = subprocess.Popen([*wizard_command(), "--simulate", "rocky9", "--state-dir", state_dir], cwd=REPO,
                               env=env, stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True)
    os.close(terminal)
    shown, painted = b"", None
    try:
        while process.poll() is None or select.select([master], [], [], 0)[0]:
            if time.monotonic() - began > 30:
                raise RuntimeError(f"no first screen within 30 s: {shown[-2000:]!r}")
            if not select.select([master], [], [], 0.5)[0]:
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # EIO: the program closed the terminal
                break
            shown += chunk
            if painted is None and marker in shown:
                painted = time.monotonic()
                os.write(master, b"q")  # and read on, so its goodbye never blocks on a full terminal
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    if painted is None:
        raise RuntimeError(f"crio-wizard exited with {process.returncode} before its first screen: "
                           f"{shown[-2000:]!r}")
    return painted - began


def first_paint_figure(runs: int) -> Figure:
    seconds = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="crio-wizard-bench-") as state:
            seconds.append(first_paint_seconds(state))
    value = median(seconds)
    return Figure("TUI first screen painted", f"{value:.2f} s", value, 1.0, "<= 1.0 s",
                  note="`crio-wizard --simulate rocky9` in a 120x40 pseudo-terminal: start to the welcome "
                       "screen with its preflight results")


def flood_figures(runs: int, lines: int) -> list[Figure]:
    names = ("flood: headless run vs awk | tee", "flood: TUI run vs headless run", "flood: key press handled (max)",
             "flood: peak memory (RSS)")
    absent = missing("seq", "awk", "tee", "sh")
    if absent:
        return [Figure(name, f"not measured: {', '.join(absent)} not found", None, None, "-") for name in names]
    peer_seconds, headless_seconds, tui_seconds, presses, peaks = [], [], [], [], []
    with tempfile.TemporaryDirectory(prefix="crio-wizard-bench-") as scratch:
        log = Path(scratch) / "peer.log"
        producer = " ".join(["seq", "-f", f"'{FLOOD_LINE}'", "1", str(lines)])
        pipeline = f"{producer} | awk '{{print \"[step] \" $0}}' | tee {log} > /dev/null"
        for run in range(runs):
            peer_seconds.append(timed(["sh", "-c", pipeline])[0])
            result, peak = scenario("flood-headless", str(Path(scratch) / f"headless{run}"), str(lines))
            _expect_all_lines(result, lines)
            headless_seconds.append(result["seconds"])
            peaks.append(("headless", peak))
            result, peak = scenario("flood-tui", str(Path(scratch) / f"tui{run}"), str(lines))
            _expect_all_lines(result, lines)
            tui_seconds.append(result["seconds"])
            presses += result["key_presses"]
            screen_lines = result["screen_lines"]
            peaks.append(("TUI", peak))
            shutil.rmtree(Path(scratch) / f"headless{run}")
            shutil.rmtree(Path(scratch) / f"tui{run}")
    peer, headless, tui = median(peer_seconds), median(headless_seconds), median(tui_seconds)
    worst_key = max((latency for _, latency in presses), default=0.0) * 1000
    # the first press meets the step screen's first paint; the ones after it meet the flood alone
    later = max((latency for moment, latency in presses if moment > 0.5), default=0.0) * 1000
    peak_kind, peak = max(peaks, key=lambda item: item[1])
    lines_shown = f"{lines:,} lines"
    return [
        Figure(names[0], f"{headless:.2f} s = {headless / peer:.1f}x", headless / peer, 3.0, "<= 3x",
               f"awk | tee {peer:.2f} s", f"{lines_shown}, prefixed, full log on disk"),
        Figure(names[1], f"{tui:.2f} s = {tui / headless:.1f}x", tui / headless, 3.0, "<= 3x",
               f"headless {headless:.2f} s", f"on-screen log capped at {screen_lines} lines, labelled by step "
               "as with the default --jobs"),
        Figure(names[2], f"{worst_key:.0f} ms", worst_key, 150.0, "<= 150 ms",
               note=f"End pressed every 50 ms from the step's start, {len(presses)} presses in {runs} runs; "
                    f"after its first 0.5 s at most {later:.0f} ms"),
        Figure(names[3], f"{peak:.0f} MB", peak, 200.0, "<= 200 MB", note=f"largest: the {peak_kind} run"),
    ]


def _expect_all_lines(result: dict, lines: int) -> None:
    if not result["ok"] or result["log_lines"] < lines:
        raise RuntimeError(f"the flood step did not verify or its log lacks lines: {result}")


def make_cpu_figure(runs: int) -> Figure:
    name = "wizard CPU while make -j2 builds C"
    absent = missing("make", "cc")
    if absent:
        return Figure(name, f"not measured: {', '.join(absent)} not found (Debian: apt-get install make gcc)",
                      None, None, "<= 3%")
    shares, builds = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="crio-wizard-bench-") as scratch:
            result, _ = scenario("make-cpu", scratch)
        if not result["ok"]:
            raise RuntimeError(f"the C build through the wizard failed: {result}")
        shares.append(100 * result["own_cpu"] / result["build_cpu"])
        builds.append(result["build_cpu"])
    share = median(shares)
    return Figure(name, f"{share:.2f}%", share, 3.0, "<= 3%", f"the build's CPU {median(builds):.1f} s",
                  "getrusage: the wizard's process vs its children")


def simulated_run_figures(runs: int) -> list[Figure]:
    full, again = [], []
    with tempfile.TemporaryDirectory(prefix="crio-wizard-bench-") as scratch:
        for run in range(runs):
            state = Path(scratch) / f"state{run}"
            command = [*wizard_command(), "run", "--simulate", "rocky9", "--sim-speed", "0", "--yes",
                       "--state-dir", str(state)]
            full.append(timed(command)[0])
            again.append(timed(command)[0])
    from wizard.cli import default_jobs

    note = f"`crio-wizard run --simulate rocky9 --sim-speed 0 --yes`, --jobs {default_jobs()} (the default here)"
    return [
        Figure("re-run of a fully verified setup", f"{median(again):.2f} s", median(again), 2.0, "<= 2 s",
               note=note.replace("--yes`", "--yes` again")),
        Figure("full simulated run", f"{median(full):.2f} s", median(full), 5.0, "<= 5 s", note=note),
    ]


def build_phase_figure(runs: int) -> Figure:
    from wizard.cli import default_jobs

    jobs = max(2, default_jobs())
    sequential, concurrent = [], []
    with tempfile.TemporaryDirectory(prefix="crio-wizard-bench-") as scratch:
        for run in range(runs):
            for count, results in ((1, sequential), (jobs, concurrent)):
                result, _ = scenario("build-phase", str(Path(scratch) / f"jobs{count}-{run}"), str(count),
                                     str(BUILD_SPEED))
                if not result["ok"]:
                    raise RuntimeError(f"the simulated build phase failed: {result}")
                results.append(result["seconds"])
    one, many = median(sequential), median(concurrent)
    return Figure(f"build phase, --jobs {jobs} vs --jobs 1", f"{many:.1f} s = {many / one:.2f}x", many / one, None,
                  "(faster is better)", f"--jobs 1 {one:.1f} s",
                  f"{', '.join(result['steps'])} at sim speed {BUILD_SPEED}")


# -- the table ---------------------------------------------------------------------------------

def table(figures: list[Figure]) -> str:
    header = ("figure", "measured", "peer (same run)", "budget", "result", "what")
    rows = [header] + [(f.name, f.shown, f.peer or "-", f.budget_shown, f.result, f.note) for f in figures]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  " + "-" * len(header[-1]))
    return "\n".join(lines)


def machine_state() -> str:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{os.cpu_count()} cores, load average {load}, Python {sys.version.split()[0]}, "
            f"{time.strftime('%Y-%m-%d %H:%M')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure, of which the median counts (3)")
    parser.add_argument("--lines", type=int, default=FLOOD_LINES, help="lines of the flood (1,000,000)")
    options = parser.parse_args(argv)
    runs = max(1, options.runs)
    began = time.monotonic()
    say(f"crio-wizard benchmarks on {machine_state()}")
    measured: dict[str, list[Figure]] = {}
    # the flood writes a few hundred MB of logs: it comes last, so their write-back slows nothing else
    for what, measure in (
        ("start-up", lambda: startup_figures(max(10, runs * 5))),
        ("TUI first screen", lambda: [first_paint_figure(runs)]),
        ("simulated runs", lambda: simulated_run_figures(runs)),
        ("build phase", lambda: [build_phase_figure(runs)]),
        ("CPU during a C build", lambda: [make_cpu_figure(runs)]),
        ("output flood", lambda: flood_figures(runs, options.lines)),
    ):
        say(f"measuring {what} ...")
        measured[what] = measure()
    order = ("start-up", "TUI first screen", "output flood", "CPU during a C build", "simulated runs", "build phase")
    figures = [figure for what in order for figure in measured[what]]  # in the order of the table
    print(table(figures))
    print(f"\n{machine_state()}; median of {runs} runs each; {time.monotonic() - began:.0f} s in all")
    failed = [figure.name for figure in figures if figure.result in ("FAIL", "SKIP")]
    if failed:
        print("not within budget or not measured: " + "; ".join(failed))
    return 1 if failed else 0
