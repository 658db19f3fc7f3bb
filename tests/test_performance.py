"""Guards for the two cheapest performance figures (start-up, re-run), loose enough for a loaded 2-core machine.

`python -m benchmarks` measures all of them against their real budgets (README, Performance).
"""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks.run import REPO, child_env, startup_times, wizard_command

# what start-up must not pay for: the UI, the event loop, the engine's file formats, shutil's archive modules
HEAVY = ("textual", "asyncio", "yaml", "jsonschema", "shutil")


def imported_modules(*argv: str) -> set[str]:
    """The modules `python -X importtime` reports for a run of the wizard with `argv`."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "wizard.cli", *argv], cwd=REPO,
                          env=child_env(), capture_output=True, text=True, check=True)
    return {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_version_and_help_import_neither_textual_nor_asyncio_nor_the_engine_nor_shutil():
    for flag in ("--version", "--help"):
        modules = imported_modules(flag)
        heavy = {name for name in modules if name.split(".")[0] in HEAVY}
        assert not heavy, f"{flag} imports {sorted(heavy)}"
        engine = {name for name in modules if name.startswith("wizard.")} - {"wizard.cli", "wizard.startup"}
        assert not engine, f"{flag} imports {sorted(engine)}"


def test_the_defaults_alone_load_no_schema_validator():
    code = "import sys; from wizard.answers import load; load(None); print('jsonschema' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=child_env(), capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_start_up_is_within_six_times_python_itself():
    times = startup_times(runs=10, use_hyperfine=False)  # the budget is 3x; twice that, so load cannot flake it
    assert times["version"] / times["python"] <= 6, times
    assert times["help"] / times["python"] <= 6, times


def test_a_rerun_of_a_verified_setup_takes_under_six_seconds(tmp_path):
    command = [*wizard_command(), "run", "--simulate", "rocky9", "--sim-speed", "0", "--yes",
               "--state-dir", str(tmp_path / "state")]
    first = subprocess.run(command, cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr
    began = time.monotonic()
    again = subprocess.run(command, cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - began
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr
    assert "verified earlier, still satisfied" in again.stdout
    assert seconds <= 6, f"a re-run took {seconds:.1f} s (budget 2 s, guarded at 6 s)"


def run_python(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=child_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_headless_command_collects_garbage_again_once_its_session_is_open(tmp_path):
    code = ("import gc, sys; from wizard import cli; "
            "code = cli.main(['status', '--simulate', 'rocky9', '--state-dir', sys.argv[1]]); "
            "print(gc.isenabled(), gc.get_freeze_count() > 0)")
    # after the status table: collecting again, start-up's objects frozen out of the collector's way
    assert run_python(code, str(tmp_path / "state")).splitlines()[-1] == "True True"


def test_the_tui_collects_garbage_again_once_its_first_screen_is_shown(tmp_path):
    code = """if True:
        import asyncio, gc, sys
        from wizard.startup import hold_collection
        hold_collection()
        from screens.app import make_app
        from wizard.session import Options, Session
        session = Session.open(Options(simulate="rocky9", sim_speed=0, state_dir=sys.argv[1]))
        session.acquire()
        app = make_app(session)

        async def first_screen():
            async with app.run_test() as pilot:
                held = gc.isenabled()
                await pilot.pause()
                return held, gc.isenabled()

        print(*asyncio.run(first_screen()))
    """
    assert run_python(code, str(tmp_path / "state")) == "False True"
