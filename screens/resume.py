"""The resume prompt: an earlier run stopped before every step was verified; continue where it stopped?"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from screens.question import QuestionDialog
from screens.widgets import status_label
from wizard.steps.base import Step
from wizard.texts import t


class ResumeDialog(QuestionDialog):
    """Returns True to resume at the step; False goes to the welcome screen."""

    yes_label = "key.resume"

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step

    def body(self, lang: str) -> ComposeResult:
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
        yield Static("\n".join(lines), classes="question", markup=False)
