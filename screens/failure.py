"""The failure panel: what failed, the known error it matches (explained), the fix as a preview, and the log."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from screens.widgets import shown_path, shown_text
from wizard import catalogue, events
from wizard.executor import Executor
from wizard.texts import t

TAIL_LINES = 8  # output lines shown when no known error explains the failure


def fix_preview_lines(match: catalogue.Match, executor: Executor, lang: str) -> list[str]:
    """The fix's actions as they would run on this host (or why it cannot be prepared here)."""
    try:
        actions, answer_updates = catalogue.fix_plan(match, executor.ctx)
    except catalogue.FixError as error:
        return [str(error)]
    lines = catalogue.describe_fix(actions, answer_updates)
    return [shown_text(line) for line in lines] or [t("failure.fix_nothing_here", lang)]


def failure_text(failure: events.Failure | None, problem: str | None, executor: Executor, lang: str) -> Text:
    text = Text()
    if failure is None:
        text.append(t("failure.heading", lang, step=executor.first_unfinished() or "") + "\n", style="bold")
        text.append(problem or "")
        return text
    text.append("✗ " + t("failure.heading", lang, step=failure.step_id) + "\n", style="bold")
    if not failure.failed_checks:  # a verification failure's reason only lists the failed checks shown below
        text.append(t("failure.reason", lang, reason=shown_text(failure.reason)) + "\n")
    if problem:
        text.append(problem + "\n", style="bold")
    for match in failure.matches:
        entry = match.entry
        text.append("\n" + t("failure.known_error", lang, title=entry.text("title", lang)) + "\n", style="bold")
        text.append(entry.text("explanation", lang).strip() + "\n")
        if entry.fix:
            text.append("\n" + t("failure.fix_preview", lang) + " ", style="bold")
            text.append(entry.text("fix", lang).strip() + "\n")
            for line in fix_preview_lines(match, executor, lang):
                text.append("  " + line + "\n", style="italic")
    if failure.failed_checks:
        text.append("\n")
    for check in failure.failed_checks:
        text.append(t("failure.check_failed", lang, name=check.name, detail=shown_text(check.detail)) + "\n")
    if not failure.matches:
        text.append("\n" + t("failure.no_match", lang) + "\n")
        for line in failure.output_tail[-TAIL_LINES:]:
            text.append("  " + shown_text(line) + "\n", style="dim")
    text.append("\n" + t("failure.log_path", lang, path=shown_path(failure.log_path)))
    return text


class FailurePanel(VerticalScroll):
    """Shown in the step screen while the last step is failed; r, f, s, e and l act on it."""

    def __init__(self, executor: Executor, lang: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.executor = executor
        self.lang = lang

    def compose(self) -> ComposeResult:
        yield Static(id="failure-text", markup=False)

    def show(self, failure: events.Failure | None, problem: str | None) -> None:
        self.query_one("#failure-text", Static).update(failure_text(failure, problem, self.executor, self.lang))
        self.scroll_home(animate=False)
