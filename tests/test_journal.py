"""The journal on a real state directory: transitions, saving at every mark, corruption, invalidation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from wizard import journal as journal_module
from wizard.journal import Journal, JournalCorrupt, StepRecord

PLAN = ["packages", "build-crio", "conmon", "cni-plugins", "crio-config", "service", "crictl", "minikube", "flannel"]
DEPENDS: dict[str, tuple[str, ...]] = {
    "build-crio": ("packages",),
    "conmon": ("packages",),
    "crio-config": ("build-crio", "cni-plugins"),
    "service": ("crio-config", "conmon"),
    "crictl": (),
    "minikube": ("service", "crictl"),
    "flannel": ("minikube",),
}


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "state"
    directory.mkdir(mode=0o700)
    return directory


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Times handed out to the journal, one per mark; tests append the ones they want."""
    times: list[str] = []
    monkeypatch.setattr(journal_module, "utc_now", lambda: times.pop(0))
    return times


def all_verified(state_dir: Path) -> Journal:
    journal = Journal.load(state_dir)
    for step_id in PLAN:
        journal.mark(step_id, "verified")
    return journal


def test_missing_journal_is_empty(state_dir: Path) -> None:
    journal = Journal.load(state_dir)
    assert journal.steps() == {}
    assert journal.meta == {}
    assert journal.path == state_dir / "journal.yaml"
    assert not journal.path.exists(), "loading does not write"


def test_round_trip_keeps_records_order_and_meta(state_dir: Path) -> None:
    journal = Journal.load(state_dir)
    journal.meta.update(answers="/root/answers.yaml", lang="zh", simulated_profile="debian-12")
    journal.mark("packages", "running", fingerprint="sha256:abc", log_path="/var/lib/crio-wizard/logs/packages.log")
    journal.mark("packages", "verified", exit_code=0)
    journal.mark("build-crio", "failed", exit_code=2, message="make: *** [Makefile:200: bin/crio] Error 2")
    journal.mark("conmon", "skipped", message="conmon 2.1.12 already installed")

    reloaded = Journal.load(state_dir)

    assert list(reloaded.steps()) == ["packages", "build-crio", "conmon"]
    assert reloaded.steps() == journal.steps()
    assert reloaded.meta == {"answers": "/root/answers.yaml", "lang": "zh", "simulated_profile": "debian-12"}
    assert isinstance(reloaded.record("packages").started, str), "ISO times stay strings, not YAML timestamps"


def test_file_is_readable_yaml_private_and_leaves_the_state_dir_alone(state_dir: Path) -> None:
    Journal.load(state_dir).mark("crictl", "verified", message="crictl v1.30.0")
    document = yaml.safe_load((state_dir / "journal.yaml").read_text())
    assert document["steps"]["crictl"]["status"] == "verified"
    assert "step_id" not in document["steps"]["crictl"]
    assert stat.S_IMODE((state_dir / "journal.yaml").stat().st_mode) == 0o600
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert [path.name for path in state_dir.iterdir()] == ["journal.yaml"], "no temp file left"


def test_save_creates_a_private_state_dir(tmp_path: Path) -> None:
    Journal.load(tmp_path / "fresh").mark("packages", "running")
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700


def test_every_mark_saves(state_dir: Path) -> None:
    journal = Journal.load(state_dir)
    for status in ("running", "failed", "running", "verified", "invalidated", "pending", "interrupted"):
        journal.mark("service", status)
        assert Journal.load(state_dir).record("service").status == status


def test_transitions_stamp_times_attempts_and_duration(state_dir: Path, clock: list[str]) -> None:
    journal = Journal.load(state_dir)
    clock += ["2026-03-01T10:00:00+00:00", "2026-03-01T10:00:05+00:00"]
    journal.mark("build-crio", "running", log_path="/state/logs/build-crio.1.log")
    journal.mark("build-crio", "failed", exit_code=2, message="go: not found")
    failed = journal.record("build-crio")
    assert (failed.started, failed.finished, failed.exit_code, failed.attempts) == (
        "2026-03-01T10:00:00+00:00",
        "2026-03-01T10:00:05+00:00",
        2,
        1,
    )
    assert failed.duration is None, "a failed attempt says nothing about how long a build takes"

    clock += ["2026-03-01T10:10:00+00:00", "2026-03-01T10:14:30+00:00"]
    journal.mark("build-crio", "running")
    retried = journal.record("build-crio")
    assert (retried.finished, retried.exit_code, retried.message, retried.attempts) == (None, None, None, 2)
    journal.mark("build-crio", "verified", exit_code=0)

    assert Journal.load(state_dir).record("build-crio") == StepRecord(
        step_id="build-crio",
        status="verified",
        started="2026-03-01T10:10:00+00:00",
        finished="2026-03-01T10:14:30+00:00",
        exit_code=0,
        log_path="/state/logs/build-crio.1.log",
        duration=270.0,
        attempts=2,
    )


def test_marking_running_again_updates_the_attempt_but_a_stale_running_starts_a_new_one(
    state_dir: Path, clock: list[str]
) -> None:
    journal = Journal.load(state_dir)
    clock += ["2026-03-01T10:00:00+00:00", "2026-03-01T10:00:30+00:00"]
    journal.mark("build-crio", "running")
    journal.mark("build-crio", "running", exit_code=2)
    in_progress = journal.record("build-crio")
    assert (in_progress.started, in_progress.exit_code, in_progress.attempts) == ("2026-03-01T10:00:00+00:00", 2, 1)

    # the wizard was killed here; the next one finds "running" on disk
    clock += ["2026-03-01T11:00:00+00:00"]
    resumed = Journal.load(state_dir)
    resumed.mark("build-crio", "running")
    restarted = resumed.record("build-crio")
    assert (restarted.started, restarted.exit_code, restarted.attempts) == ("2026-03-01T11:00:00+00:00", None, 2)


def test_real_clock_gives_iso_utc_times(state_dir: Path) -> None:
    journal = Journal.load(state_dir)
    journal.mark("packages", "running")
    journal.mark("packages", "verified")
    record = journal.record("packages")
    assert record.started.endswith("+00:00") and "T" in record.started
    assert record.duration is not None and 0 <= record.duration < 60


def test_mark_refuses_unknown_statuses_and_fields(state_dir: Path) -> None:
    journal = Journal.load(state_dir)
    with pytest.raises(ValueError, match="done"):
        journal.mark("packages", "done")
    with pytest.raises(TypeError, match="exitcode"):
        journal.mark("packages", "failed", exitcode=1)
    assert not journal.path.exists()


def test_record_creates_pending(state_dir: Path) -> None:
    journal = Journal.load(state_dir)
    assert journal.record("flannel") == StepRecord("flannel")
    assert journal.record("flannel") is journal.record("flannel")


def test_first_unverified(state_dir: Path) -> None:
    journal = Journal.load(state_dir)
    assert journal.first_unverified(PLAN) == "packages"
    journal.mark("packages", "verified")
    journal.mark("build-crio", "skipped")
    journal.mark("conmon", "interrupted", message="killed during make")
    assert journal.first_unverified(PLAN) == "conmon"
    for step_id in PLAN:
        journal.mark(step_id, "verified")
    assert journal.first_unverified(PLAN) is None


def test_invalidate_follows_dependencies_transitively(state_dir: Path) -> None:
    journal = all_verified(state_dir)

    invalidated = journal.invalidate_from(PLAN, {"cni-plugins"}, DEPENDS)

    assert invalidated == ["cni-plugins", "crio-config", "service", "minikube", "flannel"]
    statuses = {step_id: record.status for step_id, record in Journal.load(state_dir).steps().items()}
    assert statuses == {
        "packages": "verified",
        "build-crio": "verified",
        "conmon": "verified",
        "cni-plugins": "invalidated",
        "crio-config": "invalidated",
        "service": "invalidated",
        "crictl": "verified",
        "minikube": "invalidated",
        "flannel": "invalidated",
    }
    assert journal.record("cni-plugins").message == "its inputs changed"
    assert journal.record("flannel").message == "it depends on cni-plugins, whose inputs changed"


def test_invalidate_touches_only_done_steps(state_dir: Path) -> None:
    journal = all_verified(state_dir)
    journal.mark("service", "failed", exit_code=1)
    journal.mark("minikube", "skipped")
    journal.mark("flannel", "pending")

    invalidated = journal.invalidate_from(PLAN, {"packages"}, DEPENDS)

    assert invalidated == ["packages", "build-crio", "conmon", "crio-config", "minikube"]
    assert journal.record("service").status == "failed"
    assert journal.record("flannel").status == "pending"
    assert journal.invalidate_from(PLAN, {"packages"}, DEPENDS) == [], "nothing done is left to invalidate"


def test_remove_forgets_the_journal(state_dir: Path) -> None:
    all_verified(state_dir)
    Journal.remove(state_dir)
    assert Journal.load(state_dir).steps() == {}
    Journal.remove(state_dir)  # removing twice is fine


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("steps: {packages: {status: verified}\n", "not valid YAML (line 2"),
        ("", "is empty"),
        ("- packages\n- build-crio\n", "found a list"),
        ("stpes: {}\n", "unknown top-level keys: stpes"),
        ("steps: [packages]\n", "'steps' should be a mapping"),
        ("meta: 3\n", "'meta' should be a mapping"),
        ("steps: {packages: verified}\n", "step 'packages' should be a mapping"),
        ("steps: {packages: {status: done}}\n", "unknown status 'done'"),
        ("steps: {packages: {}}\n", "unknown status None"),
        ("steps: {packages: {status: failed, exitcode: 1}}\n", "unknown fields: exitcode"),
        ("steps: {packages: {status: failed, exit_code: one}}\n", "field 'exit_code' has a bad value"),
        ("steps: {packages: {status: verified, attempts: true}}\n", "field 'attempts' has a bad value"),
    ],
)
def test_corrupt_journal_says_where_what_and_how_to_go_on(state_dir: Path, text: str, problem: str) -> None:
    (state_dir / "journal.yaml").write_text(text)
    with pytest.raises(JournalCorrupt) as corrupt:
        Journal.load(state_dir)
    message = str(corrupt.value)
    assert message.startswith(f"{state_dir / 'journal.yaml'}: ")
    assert problem in message
    assert "crio-wizard reset --journal-only" in message


def test_binary_garbage_is_corrupt_not_a_crash(state_dir: Path) -> None:
    (state_dir / "journal.yaml").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(JournalCorrupt, match="not UTF-8"):
        Journal.load(state_dir)


def test_truncated_journal_never_loads_wrong_statuses(state_dir: Path) -> None:
    """Cut a real journal at every byte: each prefix is refused or loads as a prefix of the truth."""
    journal = Journal.load(state_dir)
    journal.meta["answers"] = "/root/answers.yaml"
    journal.mark("packages", "verified", exit_code=0)
    journal.mark("service", "failed", exit_code=1, message="crio.service: Failed with result 'exit-code'.")
    journal.mark("crictl", "skipped")
    full_text = journal.path.read_bytes()
    truth = {step_id: record.status for step_id, record in journal.steps().items()}

    for cut in range(len(full_text)):
        journal.path.write_bytes(full_text[:cut])
        try:
            loaded = Journal.load(state_dir)
        except JournalCorrupt:
            continue
        for step_id, record in loaded.steps().items():
            assert record.status == truth[step_id], f"cut at byte {cut}: {step_id} loaded as {record.status}"
