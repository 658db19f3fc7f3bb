"""--jobs: independent steps run side by side, dependents wait, a failure starts nothing new, one job keeps order."""

from __future__ import annotations

import asyncio
import io
import os
import time
from pathlib import Path

import pytest

from wizard import answers, events
from wizard.actions import Run
from wizard.cli import build_parser
from wizard.executor import Executor
from wizard.headless import LinePrinter
from wizard.host import Host, read_facts
from wizard.journal import Journal
from wizard.runner import Runner
from wizard.steps import all_steps
from wizard.steps.base import Check, Context, Step


class SleepStep(Step):
    """Sleeps in a real process, then leaves /<id>.done; verified when that file exists."""

    title = "a step that takes a while"

    def __init__(self, step_id: str, seconds: float, after: tuple[str, ...] = (), argv: list[str] | None = None):
        self.id = step_id
        self.seconds = seconds
        self.after = after
        self.argv = argv

    def plan(self, ctx):
        marker = str(ctx.host.path(f"/{self.id}.done"))
        return [Run(self.argv or ["sh", "-c", f'sleep {self.seconds} && touch "$0"', marker])]

    async def verify(self, ctx):
        return [Check(f"/{self.id}.done exists", ctx.exists(f"/{self.id}.done"))]


def make(tmp_path: Path, steps: list[Step], jobs: int, path_first: Path | None = None):
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    env = dict(os.environ)
    if path_first is not None:
        env["PATH"] = f"{path_first}{os.pathsep}{env['PATH']}"
    host = Host(root=root, facts=read_facts(Path("/")), env=env)
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    ctx = Context(answers=answers.from_mapping({}), host=host, state_dir=state)
    seen: list[tuple[float, events.Event]] = []
    journal = Journal.load(state)
    executor = Executor(ctx, journal, Runner(env=host.env, default_cwd=state),
                        lambda event: seen.append((time.monotonic(), event)), jobs=jobs, steps=steps)
    return executor, seen, journal


def moments(seen, kind) -> dict[str, float]:
    return {event.step_id: at for at, event in seen if isinstance(event, kind)}


def started_order(seen) -> list[str]:
    return [event.step_id for _, event in seen if isinstance(event, events.StepStarted)]


async def test_independent_steps_run_side_by_side_and_a_dependent_waits(tmp_path):
    steps = [SleepStep("slow", 0.8), SleepStep("quick", 0.1), SleepStep("after-slow", 0.1, after=("slow",))]
    executor, seen, journal = make(tmp_path, steps, jobs=2)
    assert await executor.run()
    started, finished = moments(seen, events.StepStarted), moments(seen, events.StepFinished)
    assert started["quick"] < finished["slow"]  # side by side
    assert started["after-slow"] > finished["slow"]  # waits for what it comes after
    assert {step_id: record.status for step_id, record in journal.steps().items()} == {
        "slow": "verified", "quick": "verified", "after-slow": "verified"}


async def test_one_job_runs_the_steps_one_after_another_in_their_order(tmp_path):
    steps = [SleepStep("slow", 0.3), SleepStep("quick", 0.1), SleepStep("after-slow", 0.1, after=("slow",))]
    executor, seen, _ = make(tmp_path, steps, jobs=1)
    assert await executor.run()
    boundaries = [(type(event).__name__, event.step_id) for _, event in seen
                  if isinstance(event, (events.StepStarted, events.StepFinished))]
    assert boundaries == [("StepStarted", "slow"), ("StepFinished", "slow"), ("StepStarted", "quick"),
                          ("StepFinished", "quick"), ("StepStarted", "after-slow"), ("StepFinished", "after-slow")]


async def test_after_a_failure_nothing_new_starts_and_the_running_step_finishes(tmp_path):
    steps = [SleepStep("fails", 0, argv=["sh", "-c", "echo broken; exit 3"]), SleepStep("slow", 0.6),
             SleepStep("next", 0.1)]
    executor, seen, journal = make(tmp_path, steps, jobs=2)
    assert not await executor.run()
    assert started_order(seen) == ["fails", "slow"]
    assert seen[-1][1] == events.RunFinished(ok=False, failed_step_id="fails")
    assert {step_id: record.status for step_id, record in journal.steps().items()} == {
        "fails": "failed", "slow": "verified"}


async def test_the_failure_reported_is_the_first_in_step_order(tmp_path):
    steps = [SleepStep("slow-fail", 0, argv=["sh", "-c", "sleep 0.4; exit 1"]),
             SleepStep("quick-fail", 0, argv=["false"])]
    executor, seen, _ = make(tmp_path, steps, jobs=2)
    assert not await executor.run()
    assert seen[-1][1].failed_step_id == "slow-fail"  # the one a run with one job would have met


async def test_package_managers_run_one_at_a_time(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    times = tmp_path / "times"
    fake_dnf = bin_dir / "dnf"
    fake_dnf.write_text(f'#!/bin/sh\necho start >> {times}\nsleep 0.3\necho end >> {times}\ntouch "$2"\n')
    fake_dnf.chmod(0o755)
    steps = [SleepStep(name, 0, argv=["dnf", "install", str(tmp_path / "root" / f"{name}.done")])
             for name in ("packages-a", "packages-b")]
    executor, _, _ = make(tmp_path, steps, jobs=2, path_first=bin_dir)
    assert await executor.run()
    marks = [line.split()[0] for line in times.read_text().splitlines()]
    assert marks == ["start", "end", "start", "end"]  # never two package managers at once


class SlowDetectStep(SleepStep):
    """Detecting takes a while (like probes do) and counts how many detections overlap."""

    active = 0
    most = 0

    async def detect(self, ctx):
        SlowDetectStep.active += 1
        SlowDetectStep.most = max(SlowDetectStep.most, SlowDetectStep.active)
        await asyncio.sleep(0.3)
        SlowDetectStep.active -= 1
        return await super().detect(ctx)


async def test_a_rerun_detects_the_verified_steps_side_by_side(tmp_path):
    steps = [SlowDetectStep("one", 0), SlowDetectStep("two", 0, after=("one",)),
             SlowDetectStep("three", 0, after=("two",)), SlowDetectStep("four", 0, after=("three",))]
    executor, _, journal = make(tmp_path, steps, jobs=2)
    for step in steps:
        (tmp_path / "root" / f"{step.id}.done").touch()
        journal.mark(step.id, "verified", fingerprint=executor.fingerprint(step))
    SlowDetectStep.most = 0
    began = time.monotonic()
    assert await executor.run()
    assert SlowDetectStep.most == 2  # `jobs` at a time, although each step comes after the one before
    assert time.monotonic() - began < 4 * 0.3


class NeedsFirstStep(SleepStep):
    """Satisfied exactly when the step `first` has left its marker; running it would fail."""

    async def verify(self, ctx):
        return [Check("/first.done exists", ctx.exists("/first.done"))]


async def test_what_was_detected_ahead_is_detected_again_once_a_step_ran(tmp_path):
    first, second = SleepStep("first", 0), NeedsFirstStep("second", 0, after=("first",), argv=["false"])
    executor, seen, journal = make(tmp_path, [first, second], jobs=2)
    for step in (first, second):  # the journal says verified, but /first.done is gone: both detect "not done"
        journal.mark(step.id, "verified", fingerprint=executor.fingerprint(step))
    assert await executor.run()
    assert started_order(seen) == ["first"]  # second is detected again after first ran, and is satisfied
    assert [event.step_id for _, event in seen if isinstance(event, events.StepAlreadyDone)] == ["second"]


async def test_an_interrupt_stops_every_running_step(tmp_path):
    executor, seen, journal = make(tmp_path, [SleepStep("a", 30), SleepStep("b", 30)], jobs=2)
    run = asyncio.create_task(executor.run())
    while len([event for _, event in seen if isinstance(event, events.ActionStarted)]) < 2:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # both sleeps have started
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert {step_id: record.status for step_id, record in journal.steps().items()} == {
        "a": "interrupted", "b": "interrupted"}


def test_steps_come_after_earlier_steps_only_and_the_builds_are_independent():
    steps = all_steps()
    order = [step.id for step in steps]
    for step in steps:
        assert all(order.index(dependency) < order.index(step.id) for dependency in step.after), step.id
    after = {step.id: set(step.after) for step in steps}

    def needs(step_id: str) -> set[str]:
        found = set(after[step_id])
        for dependency in after[step_id]:
            found |= needs(dependency)
        return found

    for build in ("conmon", "cni-plugins", "cni-config", "flannel-cni"):
        assert "crio-build" not in needs(build) and build not in needs("crio-build")
    # what the running crio and the cluster need is in place before them
    assert {"conmon", "crio-config"} <= needs("crio-service")
    assert {"cni-config", "crictl"} <= needs("runtime-check")
    assert {"runtime-check", "flannel-cni", "root-path"} <= needs("minikube")


def test_jobs_must_be_at_least_one(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--jobs", "0"])
    assert "at least 1 step runs at a time" in capsys.readouterr().err
    assert build_parser().parse_args(["run", "--jobs", "3"]).jobs == 3


def test_printed_lines_name_their_step_while_steps_overlap():
    stream = io.StringIO()
    printer = LinePrinter(stream=stream)
    printer(events.StepStarted("crio-build", "CRI-O", 4, 16, 1, 150.0))
    printer(events.ActionStarted("crio-build", 1, 3, "$ make binaries"))
    printer(events.StepStarted("conmon", "conmon", 5, 16, 1, 10.0))
    printer(events.ActionStarted("conmon", 1, 2, "$ make"))
    printer(events.OutputLines("conmon", ["cc -c src/conmon.c"]))
    printer(events.StepFinished("conmon", "verified", 1.0))
    printer(events.CheckDone("crio-build", Check("crio --version shows 1.35.6", True, "crio version 1.35.6")))
    lines = stream.getvalue().splitlines()
    assert lines[1] == "    $ make binaries"  # alone: as with one job
    assert lines[3] == "    [conmon] $ make"
    assert lines[4] == "[conmon] cc -c src/conmon.c"
    assert lines[-1] == "    [ok]   crio --version shows 1.35.6: crio version 1.35.6"  # alone again
