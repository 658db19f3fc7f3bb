"""The fix preview dialog: the known error's fix, exactly as it would run here, before anything runs."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from screens.failure import fix_preview_lines
from screens.question import QuestionDialog
from wizard import events
from wizard.texts import t


class FixPreviewDialog(QuestionDialog):
    """Returns True when the user chose to apply the fix."""

    BINDINGS = [
        Binding("y", "answer(True)", "key.yes", id="yes"),
        Binding("n,escape", "answer(False)", "key.cancel", id="no"),
    ]
    yes_label = "key.fix"
    yes_variant = "warning"
    no_label = "key.cancel"

    def __init__(self, failure: events.Failure) -> None:
        super().__init__()
        self.failure = failure

    def body(self, lang: str) -> ComposeResult:
        match = next(match for match in self.failure.matches if match.entry.fix)
        text = Text()
        text.append(t("failure.known_error", lang, title=match.entry.text("title", lang)) + "\n\n", style="bold")
        text.append(match.entry.text("fix", lang).strip() + "\n\n")
        text.append(t("failure.fix_preview", lang) + "\n", style="bold")
        for line in fix_preview_lines(match, self.app.executor, lang):
            text.append("  " + line + "\n")
        with VerticalScroll():
            yield Static(text, markup=False)
        yield Static(t("prompt.apply_fix", lang), classes="question")
