"""The Textual UI driven with Pilot: steps one at a time, failures, fixes, skips, quit and resume, learn mode,
the forms, and the output panel under 100,000 lines. Real processes on the simulated host throughout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from textual.widgets import Input, Log, Select

from screens.app import EXIT_INTERRUPTED, EXIT_OK, EXIT_STOPPED, make_app
from screens.choices import ChoicesScreen, field_id
from screens.explain import ExplainScreen
from screens.fix_preview import FixPreviewDialog
from screens.full_log import FullLogScreen
from screens.help import HelpScreen
from screens.plan_review import PlanScreen
from screens.resume import ResumeDialog
from screens.skip_confirm import SkipConfirmDialog
from screens.steps import LOG_LINES, StepRow, StepScreen
from screens.summary import SummaryScreen
from screens.welcome import WelcomeScreen
from screens.widgets import KeyBar
from tests.tuihelp import BrokenStep, FakeStep, open_session, text_of, until, until_idle, use_steps
from wizard.journal import Journal
from wizard.leftovers import LeftoverRegistry
from wizard.texts import explanation, t

SIZE = (120, 36)


@pytest.fixture
def sessions():
    """Opens sessions on the simulated host and releases their locks at the end."""
    opened = []

    def open_one(state_dir: Path, **options):
        session = open_session(state_dir, **options)
        opened.append(session)
        return session

    yield open_one
    for session in opened:
        session.release()


async def start_from_welcome(pilot, app) -> StepScreen:
    await until(pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.screen.results is not None,
                what="the preflight checks")
    await pilot.press("enter")
    await until(pilot, lambda: app.step_screen is not None and app.step_screen.is_mounted, what="the step screen")
    return app.step_screen


def statuses(state_dir: Path) -> dict[str, str]:
    return {step_id: record.status for step_id, record in Journal.load(state_dir).steps().items()}


# -- one step at a time, never past an unverified one ------------------------------------------------

async def test_enter_runs_every_step_to_the_summary(tmp_path, monkeypatch, sessions):
    use_steps(monkeypatch, [FakeStep("host-prep", ["echo", "modules loaded"]),
                            FakeStep("build-deps", ["echo", "packages installed"])])
    app = make_app(sessions(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        await start_from_welcome(pilot, app)
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="the summary")
        rows = [text_of(row) for row in app.step_screen.query("StepRow")]
        assert all("✓" in row and "verified" in row for row in rows), rows
        summary = text_of(app.screen.query_one("#summary-body Static"))
        assert "crictl ps" in summary and "ps -ef --forest" in summary and "kubectl get pods -A" in summary
        await pilot.press("q")
    assert app.return_code == EXIT_OK
    assert statuses(tmp_path / "s") == {"host-prep": "verified", "build-deps": "verified"}


async def test_a_failed_verification_stops_before_the_next_step(tmp_path, monkeypatch, sessions):
    use_steps(monkeypatch, [FakeStep("host-prep", ["seq", "300"], verified_when="/etc/ready"),
                            FakeStep("build-deps", ["echo", "must not run"])])
    app = make_app(sessions(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_welcome(pilot, app)
        await until_idle(pilot, app)
        assert screen.phase == "failed"
        await pilot.pause(0.1)
        output = screen.query_one(Log)
        assert output.is_vertical_scroll_end, "the output stopped following when the failure panel opened"
        assert "<== host-prep" in output.lines[-1]
        panel = text_of(screen.query_one("#failure-text"))
        assert "host-prep failed" in panel
        assert "Check failed: /etc/ready exists (missing)" in panel
        assert "~/" in panel or str(tmp_path) in panel  # the log path
        assert "✗ host-prep" in text_of(screen.query_one("#row-host-prep"))
        assert "failed" in text_of(screen.query_one("#row-host-prep"))
        await pilot.press("enter")  # Enter never moves on from a failed step
        await pilot.pause(0.2)
        assert screen.phase == "failed"
        await pilot.press("q")
    assert app.return_code == EXIT_STOPPED
    assert statuses(tmp_path / "s") == {"host-prep": "failed"}


async def test_retry_runs_the_failed_step_again(tmp_path, monkeypatch, sessions):
    use_steps(monkeypatch, [FakeStep("host-prep", ["true"], verified_when="/etc/ready")])
    session = sessions(tmp_path / "s")
    app = make_app(session)
    app.clock = lambda: 50.0
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_welcome(pilot, app)
        await until_idle(pilot, app)
        assert screen.phase == "failed"
        session.host.path("/etc/ready").write_text("fixed by hand\n")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="the summary")
        assert "attempt 2" in text_of(screen.query_one("#progress"))
    assert Journal.load(tmp_path / "s").record("host-prep").attempts == 2


def side_by_side(step_id: str, seconds: float, exit_code: int = 0) -> FakeStep:
    return FakeStep(step_id, ["sh", "-c", f"echo {step_id} begins; sleep {seconds}; echo {step_id} ends; "
                                          f"exit {exit_code}"])


async def test_steps_that_may_run_side_by_side_are_shown_side_by_side(tmp_path, monkeypatch, sessions):
    use_steps(monkeypatch, [side_by_side("crio-build", 3), side_by_side("conmon", 2.5)])
    app = make_app(sessions(tmp_path / "s", jobs=2))
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_welcome(pilot, app)
        await until(pilot, lambda: screen.running_ids() == ["crio-build", "conmon"], what="both steps running")
        assert {row.step.id: row.status for row in screen.query(StepRow)} == {"crio-build": "running",
                                                                           "conmon": "running"}
        assert screen.current_id == "crio-build"  # in detail: the first one started
        await until(pilot, lambda: "also running: conmon" in text_of(screen.query_one("#progress")),
                    what="the other running step on the progress line")
        assert "n" in [shown[0] for shown in screen.query_one(KeyBar).shown]
        await pilot.press("n")
        assert screen.current_id == "conmon" and screen.query_one("#row-conmon").has_class("-current")
        assert "Build conmon" in text_of(screen.query_one("#progress"))
        assert "also running: crio-build" in text_of(screen.query_one("#progress"))
        await pilot.press("n")
        assert screen.current_id == "crio-build"
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="the summary")
        output = screen.query_one(Log).lines
        for step_id in ("crio-build", "conmon"):  # each line says whose it is
            assert f"[{step_id}] {step_id} begins" in output and f"[{step_id}] {step_id} ends" in output
    assert statuses(tmp_path / "s") == {"crio-build": "verified", "conmon": "verified"}


async def test_a_failure_beside_a_running_step_waits_for_it_then_shows_the_failure(tmp_path, monkeypatch,
                                                                                 sessions):
    use_steps(monkeypatch, [side_by_side("crio-build", 1), side_by_side("conmon", 0, exit_code=3),
                            FakeStep("crictl", ["true"])])
    app = make_app(sessions(tmp_path / "s", jobs=2))
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_welcome(pilot, app)
        await until_idle(pilot, app)
        assert screen.phase == "failed"
        assert screen.failure is not None and screen.failure.step_id == "conmon"
        assert screen.current_id == "conmon"  # r, s, e and l now act on the failed step
        assert "[exit 3]" in "\n".join(screen.query_one(Log).lines)
    # the running build was let finish; crictl never started after the failure
    assert statuses(tmp_path / "s") == {"crio-build": "verified", "conmon": "failed"}


async def test_skip_needs_confirmation_and_is_listed(tmp_path, monkeypatch, sessions):
    use_steps(monkeypatch, [FakeStep("host-prep", ["true"], verified_when="/etc/ready"),
                            FakeStep("build-deps", ["echo", "packages installed"])])
    app = make_app(sessions(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_welcome(pilot, app)
        await until_idle(pilot, app)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SkipConfirmDialog), what="the skip dialog")
        await pilot.press("enter")  # "No" has the focus
        await until(pilot, lambda: app.screen is screen, what="the dialog to close")
        assert screen.phase == "failed" and statuses(tmp_path / "s")["host-prep"] == "failed"
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SkipConfirmDialog), what="the skip dialog")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="the summary")
        assert "build-deps" in text_of(app.screen.query_one("#summary-body Static"))
        assert "Skipped, not verified: host-prep" in text_of(app.screen.query_one("#summary-body Static"))
        assert "» host-prep" in text_of(screen.query_one("#row-host-prep"))
    assert statuses(tmp_path / "s") == {"host-prep": "skipped", "build-deps": "verified"}


async def test_an_engine_error_is_shown_not_swallowed(tmp_path, monkeypatch, sessions):
    use_steps(monkeypatch, [BrokenStep("host-prep", ["true"])])
    app = make_app(sessions(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_welcome(pilot, app)
        await until_idle(pilot, app)
        assert screen.phase == "failed"
        assert "RuntimeError: this step cannot plan" in text_of(screen.query_one("#failure-text"))


# -- quit, resume --------------------------------------------------------------------------------

async def test_quit_during_a_command_kills_it_and_exits_130(tmp_path, monkeypatch, sessions):
    pid_file = tmp_path / "pid"
    use_steps(monkeypatch, [FakeStep("host-prep", ["sh", "-c", 'echo $$ > "$0"; echo started; exec sleep 60',
                                                   str(pid_file)])])
    app = make_app(sessions(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        await start_from_welcome(pilot, app)
        await until(pilot, lambda: pid_file.exists() and pid_file.read_text().strip(), what="the command")
        pid = int(pid_file.read_text())
        await pilot.press("q")
    assert app.return_code == EXIT_INTERRUPTED
    assert statuses(tmp_path / "s") == {"host-prep": "interrupted"}
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_resume_prompt_offers_the_stopped_step(tmp_path, monkeypatch, sessions):
    prepared = tmp_path / "s/sim/root/etc/prepared"
    use_steps(monkeypatch, [FakeStep("host-prep", ["touch", str(prepared)], verified_when="/etc/prepared"),
                            FakeStep("build-deps", ["true"], verified_when="/etc/ready")])
    first = sessions(tmp_path / "s")
    app = make_app(first)
    async with app.run_test(size=SIZE) as pilot:
        await start_from_welcome(pilot, app)
        await until_idle(pilot, app)
        await pilot.press("q")
    assert app.return_code == EXIT_STOPPED
    first.release()
    first.host.path("/etc/ready").write_text("now it is\n")

    declined = make_app(sessions(tmp_path / "s"))
    async with declined.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(declined.screen, ResumeDialog), what="the resume prompt")
        assert "Resume at step build-deps?" in text_of(declined.screen.query_one(".question"))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(declined.screen, WelcomeScreen), what="the welcome screen")
    declined.session.release()

    resumed = make_app(sessions(tmp_path / "s"))
    async with resumed.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(resumed.screen, ResumeDialog), what="the resume prompt")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(resumed.screen, SummaryScreen), what="the summary")
        output = "\n".join(resumed.step_screen.query_one(Log).lines)
        assert "host-prep: verified earlier, still satisfied" in output  # checked again, not run again
    assert statuses(tmp_path / "s") == {"host-prep": "verified", "build-deps": "verified"}
    assert Journal.load(tmp_path / "s").record("host-prep").attempts == 1


async def test_the_welcome_screen_says_what_a_killed_wizard_left_running_and_was_stopped(tmp_path, monkeypatch,
                                                                                        sessions):
    use_steps(monkeypatch, [FakeStep("host-prep", ["true"])])
    left = subprocess.Popen(["sleep", "30"], start_new_session=True)  # as a build outlives a `kill -9`
    try:
        LeftoverRegistry(tmp_path / "s" / "running").add(left.pid, "/usr/bin/sleep")
        app = make_app(sessions(tmp_path / "s"))  # taking the lock stops it
        assert left.wait(timeout=10) == -signal.SIGTERM
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WelcomeScreen), what="the welcome screen")
            host = text_of(app.screen.query_one("#host"))
            assert f"they were stopped before anything else: sleep (process group {left.pid})" in host
    finally:
        left.kill()
        left.wait()


# -- learn mode ----------------------------------------------------------------------------------

async def test_learn_mode_shows_each_command_and_waits(tmp_path, monkeypatch, sessions):
    marker = tmp_path / "ran"
    use_steps(monkeypatch, [FakeStep("host-prep", ["sh", "-c", 'echo ran > "$0"', str(marker)],
                                     files={"/etc/learned.conf": "learned = true\n"})])
    session = sessions(tmp_path / "s")
    app = make_app(session, learn=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_welcome(pilot, app)
        await until_idle(pilot, app)
        assert screen.phase == "learn"
        panel = text_of(screen.query_one("#learn"))
        assert explanation("host-prep", "en")["why"][:40] in panel
        assert "$ sh -c" in panel
        await pilot.pause(0.3)
        assert not marker.exists()  # shown, not run
        await pilot.press("enter")
        await until(pilot, lambda: marker.exists() and screen.phase == "learn", what="the next command")
        assert "write /etc/learned.conf" in text_of(screen.query_one("#learn"))
        assert "learned = true" in text_of(screen.query_one("#learn"))
        assert not session.host.path("/etc/learned.conf").exists()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="the summary")
    assert session.host.path("/etc/learned.conf").read_text() == "learned = true\n"


# -- the other screens ---------------------------------------------------------------------------

async def test_a_refusing_preflight_blocks_the_start_until_waived(tmp_path, monkeypatch, sessions):
    from wizard import preflight

    async def refusing(ctx, ignore=frozenset()):
        status = "waived" if "memory" in ignore else "fail"
        return [preflight.PreflightResult("memory", "error", status, "1.0 GiB of memory", "add memory")]

    monkeypatch.setattr(preflight, "run_preflight", refusing)
    use_steps(monkeypatch, [FakeStep("host-prep", ["true"])])
    app = make_app(sessions(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.screen.results is not None)
        welcome = app.screen
        assert "✗ fail" in text_of(welcome.query_one("#preflight"))
        assert "Failed checks: 1" in text_of(welcome.query_one("#preflight-verdict"))
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen is welcome and app.step_screen is None
        await pilot.press("w")
        await until(pilot, lambda: welcome.results is not None and not welcome.blocking(), what="the waiver")
        assert "» waived" in text_of(welcome.query_one("#preflight"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="the summary")


async def test_choices_validate_per_field_and_save_a_usable_answers_file(tmp_path, monkeypatch, sessions):
    use_steps(monkeypatch, [FakeStep("host-prep", ["true"])])
    session = sessions(tmp_path / "s")
    app = make_app(session)
    saved = tmp_path / "mine.yaml"
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen), what="the welcome screen")
        old_executor = app.executor
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ChoicesScreen), what="the choices")
        form = app.screen
        form.query_one(f"#{field_id('pod_cidr')}", Input).value = "10.96.0.0/16"
        await pilot.pause()
        problem = text_of(form.query_one(f"#{field_id('pod_cidr')}-problem"))
        assert "overlaps the service network" in problem
        assert form.query_one("#save").disabled
        assert text_of(form.query_one(f"#{field_id('oci_runtime')}-problem")) == ""
        form.query_one(f"#{field_id('pod_cidr')}", Input).value = "10.244.0.0/16"
        form.query_one(f"#{field_id('oci_runtime')}", Select).value = "runc"
        form.query_one("#save-path", Input).value = str(saved)
        await pilot.pause()
        assert not form.query_one("#save").disabled
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen), what="the welcome screen")
        assert app.executor is not old_executor
        assert app.executor.ctx.answers.get("oci_runtime") == "runc"
    assert yaml.safe_load(saved.read_text()) == {"oci_runtime": "runc", "pod_cidr": "10.244.0.0/16"}
    assert session.options.answers_path == str(saved)
    validated = subprocess.run([sys.executable, "-m", "wizard.cli", "validate", str(saved)],
                               capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert validated.returncode == 0, validated.stdout + validated.stderr


async def test_plan_review_shows_commands_and_diffs_against_the_host(tmp_path, monkeypatch, sessions):
    use_steps(monkeypatch, [FakeStep("host-prep", ["modprobe", "overlay"],
                                     files={"/etc/hosts": "127.0.0.1 localhost\n127.0.1.1 node2\n",
                                            "/etc/new.conf": "fresh = 1\n"})])
    app = make_app(sessions(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen), what="the welcome screen")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), what="the plan")
        plan = "\n".join(text_of(static) for static in app.screen.query(".plan-step"))
        assert "$ modprobe overlay" in plan
        assert "-127.0.1.1 node1" in plan and "+127.0.1.1 node2" in plan and " 127.0.0.1 localhost" in plan
        assert "--- /dev/null" in plan and "+fresh = 1" in plan
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen), what="the welcome screen")
    assert statuses(tmp_path / "s") == {}  # reviewing changed nothing


async def test_the_key_bar_shows_the_screens_keys_and_a_click_presses_one(tmp_path, monkeypatch, sessions):
    use_steps(monkeypatch, [FakeStep("host-prep", ["true"])])
    app = make_app(sessions(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.screen.results is not None,
                    what="the preflight checks")
        bar = app.screen.query_one(KeyBar)
        assert [shown[0] for shown in bar.shown] == ["⏎", "c", "p", "q", "?"]
        assert text_of(bar).startswith(" ⏎ Run  c Your choices  p Review the plan ")
        start, end, key, enabled = next(span for span in bar.spans if span[2] == "p")
        assert enabled and end > start
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), what="the plan, by a click on its key")
        assert app.screen.query_one(KeyBar).shown != bar.shown  # the plan screen's own keys


async def test_explain_help_and_full_log(tmp_path, monkeypatch, sessions):
    use_steps(monkeypatch, [FakeStep("host-prep", ["seq", "6000"])])
    app = make_app(sessions(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_welcome(pilot, app)
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="the summary")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="the step screen")
        assert screen.query_one(Log).line_count <= LOG_LINES
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, FullLogScreen), what="the full log")
        full = app.screen.query_one(Log)
        await until(pilot, lambda: full.line_count > 6000, what="the log file")
        assert "6000" in full.lines
        await pilot.press("escape")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ExplainScreen), what="the explanation")
        body = text_of(app.screen.query_one("#explain-body Static"))
        assert explanation("host-prep", "en")["why"][:40] in body
        await pilot.press("escape")
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        help_body = text_of(app.screen.query_one("#help-body Static"))
        assert "textual serve" in help_body and "no" in help_body.lower()
        await pilot.press("escape")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")


async def test_chinese_everywhere(tmp_path, monkeypatch, sessions):
    use_steps(monkeypatch, [FakeStep("host-prep", ["true"])])
    app = make_app(sessions(tmp_path / "s", lang="zh"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.screen.results is not None)
        assert t("welcome.intro", "zh")[:10] in text_of(app.screen.query_one("#host"))
        assert "模拟主机" in text_of(app.screen.query_one("HostBanner"))
        assert "通过" in text_of(app.screen.query_one("#preflight"))
        descriptions = {binding.description for _key, binding in app._bindings}
        assert "退出" in descriptions
        screen = await start_from_welcome(pilot, app)
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), what="the summary")
        assert "已验证" in text_of(screen.query_one("#row-host-prep"))
        assert "自己动手试试" in text_of(app.screen.query_one("#summary-body Static"))


# -- the output panel under load -----------------------------------------------------------------

# prints at least 100,000 lines, and keeps printing until the test has pressed its key (the file in
# argv[1] exists): the key press always lands in the middle of the flood, however loaded the machine is
PRINT_100000_LINES = ("import os, sys, time\n"
                      "number = 0\n"
                      "while number < 100000 or not os.path.exists(sys.argv[1]):\n"
                      "    number += 1\n"
                      "    print(number)\n"
                      "    if number % 2000 == 0:\n"
                      "        sys.stdout.flush()\n"
                      "        time.sleep(0.03)\n")


async def test_output_stays_responsive_while_a_command_prints_100000_lines(tmp_path, monkeypatch, sessions):
    released = tmp_path / "key-answered"
    use_steps(monkeypatch, [FakeStep("host-prep", [sys.executable, "-c", PRINT_100000_LINES, str(released)])])
    app = make_app(sessions(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_welcome(pilot, app)
        log = screen.query_one(Log)
        writes: list[int] = []
        write_lines = log.write_lines
        monkeypatch.setattr(log, "write_lines", lambda lines, **options: writes.append(len(lines)) or write_lines(lines, **options))
        await until(pilot, lambda: sum(writes) > 1000, what="the output to stream")
        streaming_since = time.monotonic()
        pressed = time.monotonic()
        # posted like a real key press: Pilot.press would first wait for the app to be idle
        app.simulate_key("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), timeout=5, what="the help screen")
        answered_in = time.monotonic() - pressed
        assert screen.phase == "running"
        assert answered_in < 1.0, f"a key press took {answered_in:.2f}s to be answered while output streamed"
        released.touch()
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), timeout=30, what="the summary")
        streamed_for = time.monotonic() - streaming_since
    assert log.line_count <= LOG_LINES
    # the newest lines reach the screen: the last number printed (100,000 or more, until the release)
    assert max(int(line) for line in log.lines if line.isdigit()) >= 100000
    # one Log write per frame at most, however many batches the runner delivered
    assert len(writes) <= streamed_for * 30 + 10, (len(writes), streamed_for)


# -- whole runs of the recipe on the simulated host ----------------------------------------------

async def test_full_run_with_enter_alone(tmp_path, sessions):
    app = make_app(sessions(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        await start_from_welcome(pilot, app)
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), timeout=120, what="the summary")
        await pilot.press("q")
    assert app.return_code == EXIT_OK
    steps = [step.id for step in app.executor.steps]
    assert statuses(tmp_path / "s") == {step_id: "verified" for step_id in steps}


async def test_cni_version_failure_is_explained_and_fixed(tmp_path, sessions):
    app = make_app(sessions(tmp_path / "s", inject=("cni-version",)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_welcome(pilot, app)
        await until_idle(pilot, app, timeout=120)
        assert screen.phase == "failed"
        failed_step = screen.failure.step_id
        panel = text_of(screen.query_one("#failure-text"))
        match = next(match for match in screen.failure.matches if match.entry.fix)
        assert match.entry.text("title", "en") in panel
        assert "The fix will do this:" in panel
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FixPreviewDialog), what="the fix preview")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), timeout=120, what="the summary")
    journal = Journal.load(tmp_path / "s")
    assert journal.record(failed_step).status == "verified"
    assert journal.record(failed_step).attempts == 2
    assert all(record.status == "verified" for record in journal.steps().values())


async def test_quit_in_the_middle_of_a_build_then_resume_there(tmp_path, sessions):
    first = sessions(tmp_path / "s", sim_speed=0.05)
    app = make_app(first)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_from_welcome(pilot, app)
        await until(pilot, lambda: screen.current_id == "crio-build" and screen.current.action is not None,
                    timeout=60, what="the CRI-O build")
        await pilot.press("q")
    assert app.return_code == EXIT_INTERRUPTED
    assert statuses(tmp_path / "s")["crio-build"] == "interrupted"
    first.release()

    resumed = make_app(sessions(tmp_path / "s", sim_speed=0))
    async with resumed.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(resumed.screen, ResumeDialog), what="the resume prompt")
        assert "crio-build" in text_of(resumed.screen.query_one(".question"))
        await pilot.press("enter")
        await until(pilot, lambda: statuses(tmp_path / "s")["crio-build"] == "verified", timeout=60,
                    what="crio-build to be verified")
        await pilot.press("q")
    assert Journal.load(tmp_path / "s").record("crio-build").attempts == 2
