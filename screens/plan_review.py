"""The plan review: each step's commands and, for every file it writes, a diff against the file on the host now."""

from __future__ import annotations

import difflib

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from screens.widgets import HostBanner, KeyBar, TitleBar, localize_bindings, shown_text, status_label, step_title
from wizard.actions import WriteFile
from wizard.executor import describe, mask
from wizard.steps.base import Context, Step
from wizard.texts import t

DIFF_STYLES = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def file_diff(ctx: Context, action: WriteFile, lang: str) -> Text:
    """A unified diff from the file as it is on the host to the file as planned; the +/- signs carry the meaning."""
    secrets = ctx.answers.secret_values()
    now = ctx.read(action.path)
    before = [] if now is None else now.splitlines(keepends=True)
    after = action.content.splitlines(keepends=True)
    lines = list(difflib.unified_diff(
        before, after, lineterm="\n",
        fromfile="/dev/null" if now is None else f"{action.path} ({t('plan.diff_now', lang)})",
        tofile=f"{action.path} ({t('plan.diff_planned', lang)})",
    ))
    text = Text()
    if not lines:
        text.append(f"      {t('plan.unchanged', lang)}\n", style="dim")
        return text
    for line in lines:
        line = mask(line.rstrip("\n"), secrets)
        style = next((style for prefix, style in DIFF_STYLES if line.startswith(prefix)), "")
        text.append("      " + line + "\n", style=style)
    return text


def step_plan_text(ctx: Context, step: Step, index: int, total: int, status: str, lang: str) -> Text:
    secrets = ctx.answers.secret_values()
    actions = step.plan(ctx)
    text = Text()
    text.append(f"[{index}/{total}] {step.id}: {step_title(step, lang)}", style="bold")
    text.append(f"  {status_label(status, lang)} · {t('plan.actions', lang, count=len(actions))}\n")
    for action in actions:
        text.append("    " + shown_text(mask(describe(action), secrets)) + "\n")
        if isinstance(action, WriteFile):
            text.append_text(file_diff(ctx, action, lang))
    return text


class PlanScreen(Screen[None]):
    """Read-only: nothing has run yet. Escape goes back."""

    BINDINGS = [Binding("escape", "back", "key.back", id="back")]

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        localize_bindings(self, lang)
        executor = self.app.executor
        records = executor.journal.steps()
        steps = executor.steps
        yield TitleBar(t("screen.plan_review", lang))
        yield HostBanner(executor.ctx.host.simulated, lang)
        with VerticalScroll(id="plan-body"):
            yield Static(t("plan.intro", lang, count=len(steps)) + " " + t("plan.export_hint", lang),
                         classes="heading", markup=False)
            for index, step in enumerate(steps, start=1):
                status = records[step.id].status if step.id in records else "pending"
                yield Static(step_plan_text(executor.ctx, step, index, len(steps), status, lang),
                             classes="plan-step", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#plan-body").focus()

    def action_back(self) -> None:
        self.dismiss()
