"""The resume prompt: an earlier run stopped before every step was verified; continue where it stopped?"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from screens.widgets import localize_bindings, status_label
from wizard.steps.base import Step
from wizard.texts import t


class ResumeDialog(ModalScreen[bool]):
    """Returns True to resume at the step; False goes to the welcome screen."""

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
        journal = self.app.executor.journal
        record = journal.record(self.step.id)
        lines = [t("prompt.resume_at", lang, step=self.step.id), ""]
        # the time of the last attempt is left out on purpose: the status and the message say what matters
        lines.append(f"{self.step.id}: {status_label(record.status, lang)}"
                     + (f" ({record.message})" if record.message else ""))
        invalidated = [step_id for step_id, other in journal.steps().items() if other.status == "invalidated"]
        if invalidated:
            lines.append(t("resume.invalidated", lang, steps=", ".join(invalidated)))
        lines.append(t("resume.rechecked", lang))
        with Vertical(classes="dialog"):
            yield Static("\n".join(lines), classes="question", markup=False)
            with Horizontal(classes="answers"):
                yield Button(t("key.resume", lang), variant="primary", id="yes")
                yield Button(t("key.no", lang), id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, resume: bool) -> None:
        self.dismiss(resume)
