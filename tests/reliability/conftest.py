"""Fixtures of the reliability suite, and the summary of the figures it proves (printed after the test run)."""

from __future__ import annotations

import json

import pytest

from tests.reliability.audit import Audit, audit_run
from tests.reliability.harness import FIGURES

# the order the summary lists them in; the README's Reliability section quotes them
FIGURE_ORDER = ("kills survived", "SIGKILLs survived", "SIGTERM/SIGINT/SIGHUP survived", "kills inside commands",
                "kills after a command (before or during verify)", "kills between steps",
                "kills inside an atomic write", "inputs tried", "injection payloads tried", "secrets found",
                "files lost", "orphans left")


@pytest.fixture(scope="session")
def figures(tmp_path_factory):
    """The suite's figures; written to reliability-figures.json in pytest's temp dir at the end."""
    yield FIGURES
    path = tmp_path_factory.getbasetemp() / "reliability-figures.json"
    path.write_text(json.dumps(FIGURES, indent=1, sort_keys=True) + "\n")
    print(f"\nreliability figures: {path}")


@pytest.fixture(scope="session")
def audited_run(tmp_path_factory) -> Audit:
    """The one full run (with planted secrets, payloads and pre-existing files) that several tests audit."""
    return audit_run(tmp_path_factory.mktemp("audit"))


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    names = [name for name in FIGURE_ORDER if name in FIGURES] + sorted(set(FIGURES) - set(FIGURE_ORDER))
    for name in names:
        terminalreporter.write_line(f"{name:48} {FIGURES[name]}")
