"""The fix preview dialog: the known error's fix, exactly as it would run here, before anything runs."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from screens.failure import fix_preview_lines
from screens.widgets import localize_bindings
from wizard import events
from wizard.texts import t


class FixPreviewDialog(ModalScreen[bool]):
    """Returns True when the user chose to apply the fix."""

    BINDINGS = [
        Binding("y", "answer(True)", "key.yes", id="yes"),
        Binding("n,escape", "answer(False)", "key.cancel", id="no"),
    ]

    def __init__(self, failure: events.Failure) -> None:
        super().__init__()
        self.failure = failure

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        localize_bindings(self, lang)
        match = next(match for match in self.failure.matches if match.entry.fix)
        text = Text()
        text.append(t("failure.known_error", lang, title=match.entry.text("title", lang)) + "\n\n", style="bold")
        text.append(match.entry.text("fix", lang).strip() + "\n\n")
        text.append(t("failure.fix_preview", lang) + "\n", style="bold")
        for line in fix_preview_lines(match, self.app.executor, lang):
            text.append("  " + line + "\n")
        with Vertical(classes="dialog"):
            with VerticalScroll():
                yield Static(text, markup=False)
            yield Static(t("prompt.apply_fix", lang), classes="question")
            with Horizontal(classes="answers"):
                yield Button(t("key.fix", lang), variant="warning", id="yes")
                yield Button(t("key.cancel", lang), id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, apply: bool) -> None:
        self.dismiss(apply)
