"""Snapshots of every screen and dialog at 120x36, with a frozen clock, fixed preflight results, fake steps and
HOME at the test's directory (paths show as ~/...), so that nothing on screen varies between runs."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from screens.app import make_app
from screens.choices import field_id
from tests.tuihelp import CNI_VERSION_ERROR, FakeStep, open_session, until, until_idle, use_steps
from wizard import preflight
from wizard.journal import Journal

SIZE = (120, 36)
FROZEN = 1000.0  # what the app's clock says, always
PREFLIGHT = [
    preflight.PreflightResult("root", "error", "pass", "simulated host: commands run as the sandbox's root", ""),
    preflight.PreflightResult("distro", "error", "pass", "Rocky Linux 9.4 (Blue Onyx) (el family, dnf)", ""),
    preflight.PreflightResult("memory", "error", "pass", "7.8 GiB of memory", ""),
    preflight.PreflightResult("selinux", "warning", "warn", "SELinux is enforcing",
                              "`restorecon -Rv /usr/local/bin` after installing"),
    preflight.PreflightResult("swap", "warning", "pass", "no swap in use", ""),
]
FLANNEL_CONFLIST = '{\n  "name": "cbr0",\n  "cniVersion": "1.0.0",\n  "plugins": [{"type": "flannel"}]\n}\n'


@pytest.fixture
def wizard_app(tmp_path, monkeypatch):
    """Builds an app on fake steps; the sessions' locks are released at the end."""
    opened = []
    monkeypatch.setenv("HOME", str(tmp_path))

    async def fixed_preflight(ctx, ignore=frozenset()):
        return list(PREFLIGHT)

    monkeypatch.setattr(preflight, "run_preflight", fixed_preflight)

    def build(steps, learn: bool = False, **options):
        use_steps(monkeypatch, steps)
        session = open_session(tmp_path / "s", **options)
        opened.append(session)
        app = make_app(session, learn=learn)
        app.clock = lambda: FROZEN
        return app

    yield build
    for session in opened:
        session.release()


def two_steps():
    return [FakeStep("host-prep", ["echo", "modules loaded"]), FakeStep("build-deps", ["echo", "packages installed"])]


def failing_flannel():
    return [FakeStep("host-prep", ["echo", "modules loaded"]),
            FakeStep("flannel", ["sh", "-c", 'echo "$0"; exit 1', CNI_VERSION_ERROR])]


async def welcome_ready(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: getattr(app.screen, "results", None) is not None, what="the preflight checks")
    await pilot.pause()


async def failed(pilot) -> None:
    app = pilot.app
    app.session.host.path("/etc/cni/net.d").mkdir(parents=True, exist_ok=True)
    app.session.host.path("/etc/cni/net.d/10-flannel.conflist").write_text(FLANNEL_CONFLIST)
    await welcome_ready(pilot)
    await pilot.press("enter")
    await until_idle(pilot, app)
    await pilot.pause(0.2)


def test_welcome(snap_compare, wizard_app):
    assert snap_compare(wizard_app(two_steps()), terminal_size=SIZE, run_before=welcome_ready)


def test_welcome_in_chinese(snap_compare, wizard_app):
    assert snap_compare(wizard_app(two_steps(), lang="zh"), terminal_size=SIZE, run_before=welcome_ready)


def test_choices_with_a_problem(snap_compare, wizard_app):
    async def bad_cidr(pilot):
        await welcome_ready(pilot)
        await pilot.press("c")
        await pilot.pause()
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        pilot.app.screen.query_one(f"#{field_id('pod_cidr')}", Input).value = "10.96.0.0/16"
        await pilot.pause()

    assert snap_compare(wizard_app(two_steps()), terminal_size=SIZE, run_before=bad_cidr)


def test_plan_review(snap_compare, wizard_app):
    steps = [FakeStep("host-prep", ["modprobe", "overlay"],
                      files={"/etc/hosts": "127.0.0.1 localhost\n127.0.1.1 node2\n", "/etc/new.conf": "fresh = 1\n"}),
             FakeStep("build-deps", ["dnf", "-y", "install", "make"])]

    async def plan(pilot):
        await welcome_ready(pilot)
        await pilot.press("p")
        await pilot.pause()

    assert snap_compare(wizard_app(steps), terminal_size=SIZE, run_before=plan)


def test_step_screen_in_learn_mode(snap_compare, wizard_app):
    async def learning(pilot):
        await welcome_ready(pilot)
        await pilot.press("enter")
        await until_idle(pilot, pilot.app)
        await pilot.press("enter")  # run the first command, then wait at the second
        await until(pilot, lambda: "modules loaded" in pilot.app.step_screen.query_one("Log").lines)
        await until_idle(pilot, pilot.app)
        await pilot.pause(0.2)

    app = wizard_app([FakeStep("host-prep", ["echo", "modules loaded"],
                               files={"/etc/modules-load.d/crio-wizard.conf": "overlay\nbr_netfilter\n"})],
                     learn=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=learning)


def test_two_steps_side_by_side(snap_compare, wizard_app):
    # both wait for a file that never comes (in the state directory, so the command line shown is fixed);
    # leaving the app stops them
    waiting = ["sh", "-c", "while [ ! -e go-on ]; do sleep 0.05; done"]

    async def both_running(pilot):
        await welcome_ready(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.step_screen.running_ids() == ["crio-build", "conmon"],
                    what="both steps running")
        await pilot.pause(0.2)

    app = wizard_app([FakeStep("crio-build", waiting), FakeStep("conmon", waiting)], jobs=2)
    assert snap_compare(app, terminal_size=SIZE, run_before=both_running)


def test_failure_panel(snap_compare, wizard_app):
    assert snap_compare(wizard_app(failing_flannel()), terminal_size=SIZE, run_before=failed)


def test_fix_preview(snap_compare, wizard_app):
    async def preview(pilot):
        await failed(pilot)
        await pilot.press("f")
        await pilot.pause()

    assert snap_compare(wizard_app(failing_flannel()), terminal_size=SIZE, run_before=preview)


def test_skip_confirmation(snap_compare, wizard_app):
    async def confirm(pilot):
        await failed(pilot)
        await pilot.press("s")
        await pilot.pause()

    assert snap_compare(wizard_app(failing_flannel()), terminal_size=SIZE, run_before=confirm)


def test_explanation(snap_compare, wizard_app):
    async def explain(pilot):
        await failed(pilot)
        await pilot.press("e")
        await pilot.pause()

    assert snap_compare(wizard_app(failing_flannel()), terminal_size=SIZE, run_before=explain)


def test_full_log(snap_compare, wizard_app):
    async def full_log(pilot):
        await failed(pilot)
        # the runner's own header and footer lines carry timings: a fixed log instead
        log_path = pilot.app.executor.log_path(pilot.app.executor.step("flannel"))
        log_path.write_text(f"$ sh -c 'echo \"$0\"; exit 1'\n{CNI_VERSION_ERROR}\n[exit 1 after 0.0s]\n")
        await pilot.press("l")
        await pilot.pause(0.2)

    assert snap_compare(wizard_app(failing_flannel()), terminal_size=SIZE, run_before=full_log)


def test_summary(snap_compare, wizard_app):
    async def finished(pilot):
        await welcome_ready(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: type(pilot.app.screen).__name__ == "SummaryScreen", what="the summary")
        await pilot.pause()

    assert snap_compare(wizard_app(two_steps()), terminal_size=SIZE, run_before=finished)


def test_help(snap_compare, wizard_app):
    async def help_screen(pilot):
        await welcome_ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(wizard_app(two_steps()), terminal_size=SIZE, run_before=help_screen)


def test_resume_prompt(snap_compare, wizard_app, tmp_path):
    journal = Journal.load(tmp_path / "s")
    journal.mark("host-prep", "verified")
    journal.mark("build-deps", "interrupted", message="interrupted at: $ echo packages installed")

    async def prompt(pilot):
        await until(pilot, lambda: type(pilot.app.screen).__name__ == "ResumeDialog", what="the resume prompt")
        await pilot.pause()

    assert snap_compare(wizard_app(two_steps()), terminal_size=SIZE, run_before=prompt)
