"""The skip confirmation: a skipped step stays unverified, so skipping is never one key press."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from screens.question import QuestionDialog
from wizard.steps.base import Step
from wizard.texts import t


class SkipConfirmDialog(QuestionDialog):
    """Returns True when the user confirmed skipping the step. "No" has the focus."""

    yes_label = "key.skip"
    yes_variant = "warning"
    focus_yes = False

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step

    def body(self, lang: str) -> ComposeResult:
        yield Static(t("prompt.skip_step", lang, step=self.step.id), classes="question", markup=False)
