"""The skip confirmation: a skipped step stays unverified, so skipping is never one key press."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from screens.widgets import localize_bindings
from wizard.steps.base import Step
from wizard.texts import t


class SkipConfirmDialog(ModalScreen[bool]):
    """Returns True when the user confirmed skipping the step. "No" has the focus."""

    BINDINGS = [
        Binding("y", "answer(True)", "key.yes", id="yes"),
        Binding("n,escape", "answer(False)", "key.no", id="no"),
    ]

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        localize_bindings(self, lang)
        with Vertical(classes="dialog"):
            yield Static(t("prompt.skip_step", lang, step=self.step.id), classes="question", markup=False)
            with Horizontal(classes="answers"):
                yield Button(t("key.skip", lang), variant="warning", id="yes")
                yield Button(t("key.no", lang), id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, skip: bool) -> None:
        self.dismiss(skip)
