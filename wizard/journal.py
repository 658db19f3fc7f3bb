"""The journal: each step's status on disk (STATE_DIR/journal.yaml), saved atomically at every transition."""

from __future__ import annotations

import os
from collections import deque
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

import yaml

from wizard import yamlio
from wizard.files import atomic_write, fsync_directory

JOURNAL_NAME = "journal.yaml"
STATUSES = ("pending", "running", "verified", "failed", "skipped", "interrupted", "invalidated")
# a step in one of these is not run again on resume (unless invalidated)
DONE_STATUSES = ("verified", "skipped")
# statuses that end an attempt, so they stamp `finished`
ENDING_STATUSES = ("verified", "failed", "skipped", "interrupted")


@dataclass
class StepRecord:
    step_id: str
    status: str = "pending"
    fingerprint: str | None = None  # of the step's inputs when it last ran
    started: str | None = None  # ISO 8601 UTC
    finished: str | None = None
    exit_code: int | None = None
    log_path: str | None = None
    message: str | None = None  # failure reason / where it was interrupted / why it was skipped
    duration: float | None = None  # seconds of the last verified attempt, for time estimates
    attempts: int = 0


RECORD_FIELDS = tuple(field.name for field in fields(StepRecord) if field.name != "step_id")
_FIELD_TYPES = {
    "status": (str,),
    "fingerprint": (str,),
    "started": (str,),
    "finished": (str,),
    "exit_code": (int,),
    "log_path": (str,),
    "message": (str,),
    "duration": (int, float),
    "attempts": (int,),
}


class JournalCorrupt(Exception):
    """The journal file cannot be trusted; the message names it, the problem and the way forward."""

    def __init__(self, path: Path, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(
            f"{path}: {problem}. The wizard cannot tell which steps are done. "
            "Run `crio-wizard reset --journal-only` to start a fresh journal (the host is left as it is; "
            "steps that are already satisfied are detected again), or move the file aside to inspect it."
        )


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Journal:
    """Step records in plan order plus free-form run metadata (`meta`), kept in one YAML file."""

    def __init__(self, path: Path, steps: dict[str, StepRecord] | None = None, meta: dict | None = None):
        self.path = path
        self._steps: dict[str, StepRecord] = dict(steps or {})
        self.meta: dict = dict(meta or {})
        # steps this Journal object marked running: marking one running again updates that attempt, while
        # a "running" loaded from disk was left by a wizard that died, so running it again is a new attempt
        self._attempts_in_progress: set[str] = set()

    @classmethod
    def load(cls, state_dir: Path) -> Journal:
        path = Path(state_dir) / JOURNAL_NAME
        if not path.exists():
            return cls(path)
        try:
            loaded = yamlio.load(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            raise JournalCorrupt(path, f"is not UTF-8 text ({error.reason} at byte {error.start})") from error
        except yaml.YAMLError as error:
            raise JournalCorrupt(path, f"is not valid YAML ({_yaml_problem(error)})") from error
        if loaded is None:
            raise JournalCorrupt(path, "is empty")
        if not isinstance(loaded, dict):
            raise JournalCorrupt(path, f"should be a mapping with 'steps' and 'meta', found a {type(loaded).__name__}")
        unknown_keys = sorted(str(key) for key in loaded if key not in ("steps", "meta"))
        if unknown_keys:
            raise JournalCorrupt(path, f"has unknown top-level keys: {', '.join(unknown_keys)}")
        meta = loaded.get("meta") or {}
        if not isinstance(meta, dict):
            raise JournalCorrupt(path, "'meta' should be a mapping")
        raw_steps = loaded.get("steps") or {}
        if not isinstance(raw_steps, dict):
            raise JournalCorrupt(path, "'steps' should be a mapping of step id to record")
        steps = {str(step_id): _parse_record(path, str(step_id), raw) for step_id, raw in raw_steps.items()}
        return cls(path, steps, meta)

    def record(self, step_id: str) -> StepRecord:
        """The step's record, created as pending (not yet saved) if the journal has none."""
        if step_id not in self._steps:
            self._steps[step_id] = StepRecord(step_id)
        return self._steps[step_id]

    def mark(self, step_id: str, status: str, **changes: object) -> None:
        """Move a step to `status`, stamp the times that go with it, apply `changes`, and save.

        "running" starts an attempt (started, attempts + 1, clears the last outcome) unless this journal
        already marked the step running (then it only records `changes`); an ending status stamps finished,
        and "verified" also the duration. Explicit `changes` win over the stamps.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown step status {status!r}; expected one of {', '.join(STATUSES)}")
        unknown = sorted(set(changes) - set(RECORD_FIELDS) - {"status"})
        if unknown:
            raise TypeError(f"not step record fields: {', '.join(unknown)}")
        record = self.record(step_id)
        now = utc_now()
        record.status = status
        if status == "running" and step_id not in self._attempts_in_progress:
            record.started = now
            record.finished = record.exit_code = record.message = None
            record.attempts += 1
        elif status in ENDING_STATUSES:
            record.finished = now
            if status == "verified" and record.started is not None:
                # only verified attempts: a failure after two seconds says nothing about how long a build takes
                record.duration = _seconds_between(record.started, now)
        for name, value in changes.items():
            setattr(record, name, value)
        if status == "running":
            self._attempts_in_progress.add(step_id)
        else:
            self._attempts_in_progress.discard(step_id)
        self.save()

    def steps(self) -> dict[str, StepRecord]:
        return dict(self._steps)

    def first_unverified(self, step_ids: list[str]) -> str | None:
        """The first of `step_ids` (in plan order) that is not done, i.e. where a resume starts."""
        for step_id in step_ids:
            record = self._steps.get(step_id)
            if record is None or record.status not in DONE_STATUSES:
                return step_id
        return None

    def invalidate_from(
        self, step_ids_in_order: list[str], changed: set[str], depends: dict[str, tuple[str, ...]]
    ) -> list[str]:
        """Invalidate done steps in `changed` and every done step depending on one, transitively.

        Returns the ids invalidated, in plan order; saves once if any.
        """
        dependents: dict[str, list[str]] = {}
        for step_id, requirements in depends.items():
            for requirement in requirements:
                dependents.setdefault(requirement, []).append(step_id)
        cause = {step_id: step_id for step_id in changed}
        queue = deque(changed)
        while queue:
            step_id = queue.popleft()
            for dependent in dependents.get(step_id, ()):
                if dependent not in cause:
                    cause[dependent] = cause[step_id]
                    queue.append(dependent)
        invalidated = []
        for step_id in step_ids_in_order:
            record = self._steps.get(step_id)
            if step_id not in cause or record is None or record.status not in DONE_STATUSES:
                continue
            record.status = "invalidated"
            if cause[step_id] == step_id:
                record.message = "its inputs changed"
            else:
                record.message = f"it depends on {cause[step_id]}, whose inputs changed"
            invalidated.append(step_id)
        if invalidated:
            self.save()
        return invalidated

    def save(self) -> None:
        state_dir = self.path.parent
        # a state dir made here gets 0700 (the journal and logs may hold proxy settings); an existing one is left as is
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        document = {
            "meta": self.meta,
            "steps": {step_id: _record_to_dict(record) for step_id, record in self._steps.items()},
        }
        text = yamlio.dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)
        atomic_write(self.path, text.encode("utf-8"), 0o600)

    @staticmethod
    def remove(state_dir: Path) -> None:
        """Forget every step's state (reset --journal-only); the host and the backups are left alone."""
        path = Path(state_dir) / JOURNAL_NAME
        if path.exists():
            os.unlink(path)
            fsync_directory(path.parent)


def _record_to_dict(record: StepRecord) -> dict:
    return {name: value for name, value in asdict(record).items() if name != "step_id" and value is not None}


def _parse_record(path: Path, step_id: str, raw: object) -> StepRecord:
    if not isinstance(raw, dict):
        raise JournalCorrupt(path, f"step {step_id!r} should be a mapping of fields")
    unknown = sorted(str(name) for name in raw if name not in RECORD_FIELDS)
    if unknown:
        raise JournalCorrupt(path, f"step {step_id!r} has unknown fields: {', '.join(unknown)}")
    for name, value in raw.items():
        allowed = _FIELD_TYPES[name]
        if value is not None and (not isinstance(value, allowed) or isinstance(value, bool)):
            raise JournalCorrupt(path, f"step {step_id!r} field {name!r} has a bad value: {value!r}")
    if raw.get("status") not in STATUSES:
        raise JournalCorrupt(path, f"step {step_id!r} has an unknown status {raw.get('status')!r}")
    return StepRecord(step_id, **raw)


def _seconds_between(started: str, finished: str) -> float | None:
    try:
        return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    except ValueError:
        return None  # a hand-edited start time; an estimate is not worth failing a step for


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    return f"line {mark.line + 1}: {problem}" if mark is not None else problem
