"""The executor on real processes: journal transitions, resume, invalidation, refusal, cancel, file effects."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from wizard import answers, events
from wizard.actions import Run, WriteFile
from wizard.executor import Executor
from wizard.host import Host, read_facts
from wizard.journal import Journal
from wizard.runner import Runner
from wizard.steps.base import Check, Context, PlanRefused, Step


class MarkerStep(Step):
    """Writes a marker file under the root by a real command; verified when the marker exists."""

    id = "first"
    title = "First"
    inputs = ("oci_runtime",)

    def plan(self, ctx):
        marker = ctx.host.path(f"/{self.id}.done")
        return [Run(("sh", "-c", 'echo working; echo "$1" > "$2"', "sh", ctx.answers.get("oci_runtime"), str(marker)))]

    async def verify(self, ctx):
        text = ctx.read(f"/{self.id}.done")
        return [Check(f"/{self.id}.done written", text is not None, (text or "missing").strip())]


class SecondStep(MarkerStep):
    id = "second"
    title = "Second"
    inputs = ()
    after = ("first",)


class ThirdStep(MarkerStep):
    id = "third"
    title = "Third"
    inputs = ("pod_cidr",)
    after = ()


def make(tmp_path: Path, steps: list[Step], overrides: dict | None = None, monkeypatch=None):
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    host = Host(root=root, facts=read_facts(Path("/")), env=dict(os.environ))
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    ctx = Context(answers=answers.from_mapping(overrides or {}), host=host, state_dir=state)
    monkeypatch.setattr("wizard.executor.steps_in_scope", lambda ctx: steps)
    seen: list = []
    journal = Journal.load(state)
    executor = Executor(ctx, journal, Runner(env=host.env, default_cwd=state), seen.append)
    return executor, seen, journal


def statuses(journal: Journal) -> dict[str, str]:
    return {step_id: record.status for step_id, record in journal.steps().items()}


async def test_a_run_verifies_each_step_and_streams_its_output(tmp_path, monkeypatch):
    executor, seen, journal = make(tmp_path, [MarkerStep(), SecondStep()], monkeypatch=monkeypatch)
    assert await executor.run()
    assert statuses(journal) == {"first": "verified", "second": "verified"}
    output = [line for event in seen if isinstance(event, events.OutputLines) for line in event.lines]
    assert output == ["working", "working"]
    kinds = [type(event).__name__ for event in seen if not isinstance(event, events.OutputLines)]
    assert kinds[:5] == ["StepStarted", "ActionStarted", "ActionFinished", "CheckDone", "StepFinished"]
    assert kinds[-1] == "RunFinished" and seen[-1].ok
    assert Journal.load(tmp_path / "state").steps()["first"].status == "verified"  # saved on disk


async def test_a_verified_step_is_detected_not_rerun(tmp_path, monkeypatch):
    executor, seen, journal = make(tmp_path, [MarkerStep(), SecondStep()], monkeypatch=monkeypatch)
    await executor.run()
    seen.clear()
    assert await executor.run()
    assert not [event for event in seen if isinstance(event, events.StepStarted)]
    assert [event.reason for event in seen if isinstance(event, events.StepAlreadyDone)] == [
        "verified earlier, still satisfied"] * 2


async def test_a_failing_command_stops_the_run_and_a_rerun_resumes_there(tmp_path, monkeypatch):
    class Fails(SecondStep):
        def plan(self, ctx):
            if not ctx.host.path("/allow").exists():
                return [Run(("sh", "-c", "echo 'E: Unable to locate package libgpgme-dev' >&2; exit 100"))]
            return super().plan(ctx)

    executor, seen, journal = make(tmp_path, [MarkerStep(), Fails(), ThirdStep()], monkeypatch=monkeypatch)
    assert not await executor.run()
    assert statuses(journal) == {"first": "verified", "second": "failed"}
    assert journal.steps()["second"].exit_code == 100
    failure = next(e.failure for e in seen if isinstance(e, events.StepFinished) and e.failure)
    assert "exited with 100" in failure.reason
    assert "E: Unable to locate package libgpgme-dev" in failure.output_tail
    assert "Unable to locate package" in failure.log_path.read_text()
    (tmp_path / "root" / "allow").write_text("")
    seen.clear()
    assert await executor.run()
    started = [event.step_id for event in seen if isinstance(event, events.StepStarted)]
    assert started == ["second", "third"]


async def test_failed_verification_names_the_check(tmp_path, monkeypatch):
    class NeverDone(MarkerStep):
        async def verify(self, ctx):
            return [Check("crio --version shows v1.35.6", False, "crio: command not found")]

    executor, seen, journal = make(tmp_path, [NeverDone()], monkeypatch=monkeypatch)
    assert not await executor.run()
    failure = next(e.failure for e in seen if isinstance(e, events.StepFinished))
    assert failure.failed_checks[0].detail == "crio: command not found"
    assert "crio --version shows v1.35.6" in journal.steps()["first"].message


async def test_changing_an_answer_invalidates_the_step_and_its_dependents(tmp_path, monkeypatch):
    steps = [MarkerStep(), SecondStep(), ThirdStep()]
    executor, seen, journal = make(tmp_path, steps, monkeypatch=monkeypatch)
    await executor.run()
    # a new wizard with another oci_runtime: first (its input) and second (after first) run again
    executor, seen, journal = make(tmp_path, steps, {"oci_runtime": "runc"}, monkeypatch=monkeypatch)
    assert statuses(journal) == {"first": "invalidated", "second": "invalidated", "third": "verified"}
    assert await executor.run()
    assert [e.step_id for e in seen if isinstance(e, events.StepStarted)] == ["first", "second"]
    assert (tmp_path / "root" / "first.done").read_text().strip() == "runc"


async def test_a_refused_plan_changes_nothing(tmp_path, monkeypatch):
    class Refuses(MarkerStep):
        async def prepare(self, ctx):
            raise PlanRefused('cniVersion "9.9.9" is not supported by the bridge plugin')

    executor, seen, journal = make(tmp_path, [Refuses()], monkeypatch=monkeypatch)
    assert not await executor.run()
    assert not (tmp_path / "root" / "first.done").exists()
    assert not [e for e in seen if isinstance(e, events.ActionStarted)]
    assert "refused before any change" in journal.steps()["first"].message


async def test_cancel_marks_the_step_interrupted_at_its_command(tmp_path, monkeypatch):
    class Slow(MarkerStep):
        def plan(self, ctx):
            return [Run(("sh", "-c", "echo started; sleep 60"))]

    executor, seen, journal = make(tmp_path, [Slow()], monkeypatch=monkeypatch)
    task = asyncio.create_task(executor.run())
    while not any(isinstance(e, events.OutputLines) for e in seen):
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = Journal.load(tmp_path / "state").steps()["first"]
    assert record.status == "interrupted"
    assert "sleep 60" in record.message


async def test_file_actions_back_up_what_they_replace(tmp_path, monkeypatch):
    class WritesConfig(MarkerStep):
        def plan(self, ctx):
            return [WriteFile("/etc/crio/crio.conf.d/02-crio.conf", "[crio.runtime]\n"),
                    Run(("echo", "[crio]"), stdout_to="/etc/crio/crio.conf")]

        async def verify(self, ctx):
            return [Check("crio.conf written", ctx.read("/etc/crio/crio.conf") == "[crio]\n")]

    original = tmp_path / "root/etc/crio/crio.conf.d/02-crio.conf"
    original.parent.mkdir(parents=True)
    original.write_text("# the admin's own\n")
    executor, seen, journal = make(tmp_path, [WritesConfig()], monkeypatch=monkeypatch)
    assert await executor.run()
    assert original.read_text() == "[crio.runtime]\n"
    backups = [e.backup for e in seen if isinstance(e, events.ActionFinished) and e.backup]
    assert backups and backups[0].read_text() == "# the admin's own\n"
    executor.files.restore_all()
    assert original.read_text() == "# the admin's own\n"
    assert not (tmp_path / "root/etc/crio/crio.conf").exists()


async def test_a_steps_own_preflight_runs_again_before_it_and_can_refuse(tmp_path, monkeypatch):
    import socket

    class NeedsPorts(MarkerStep):
        preflight = ("ports",)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", 10259))
    except OSError:
        pytest.skip("port 10259 is already taken on this machine")
    listener.listen()
    try:
        executor, seen, journal = make(tmp_path, [NeedsPorts()], monkeypatch=monkeypatch)
        # a real host staged under tmp_path reads /proc/net/tcp under that root: give it the real one
        (tmp_path / "root/proc/net").mkdir(parents=True)
        for table in ("tcp", "tcp6", "udp", "udp6"):
            (tmp_path / "root/proc/net" / table).write_text(Path(f"/proc/net/{table}").read_text())
        assert not await executor.run()
        assert not (tmp_path / "root" / "first.done").exists()
        assert "preflight: ports" in journal.steps()["first"].message
        executor.ignore_checks = frozenset({"ports"})
        assert await executor.run()
    finally:
        listener.close()


async def test_an_unexpected_error_in_a_step_fails_it_and_the_run_survives(tmp_path, monkeypatch):
    class Broken(MarkerStep):
        async def verify(self, ctx):
            raise OSError("crictl.yaml is a directory")

    executor, seen, journal = make(tmp_path, [Broken()], monkeypatch=monkeypatch)
    assert not await executor.run()
    record = journal.steps()["first"]
    assert record.status == "failed"
    assert "unexpected OSError: crictl.yaml is a directory" in record.message
