"""A yes/no question as a modal dialog: the shape the skip, resume and fix dialogs share."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button

from screens.widgets import localize_bindings
from wizard.texts import t


class QuestionDialog(ModalScreen[bool]):
    """Returns True for `y` or the first button, False for `n`, Escape or the second button.
    Subclasses yield the question with body() and name their buttons."""

    BINDINGS = [
        Binding("y", "answer(True)", "key.yes", id="yes"),
        Binding("n,escape", "answer(False)", "key.no", id="no"),
    ]
    yes_label = "key.yes"
    yes_variant = "primary"
    no_label = "key.no"
    focus_yes = True  # False where a slip of Enter must not say yes (skipping a step)

    def body(self, lang: str) -> ComposeResult:
        raise NotImplementedError(f"{type(self).__name__} must yield its question")

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        localize_bindings(self, lang)
        with Vertical(classes="dialog"):
            yield from self.body(lang)
            with Horizontal(classes="answers"):
                yield Button(t(self.yes_label, lang), variant=self.yes_variant, id="yes")
                yield Button(t(self.no_label, lang), id="no")

    def on_mount(self) -> None:
        self.query_one("#yes" if self.focus_yes else "#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
