"""Help: the keys, learn mode, resuming, plain mode, and showing the wizard in a browser (with its caveat)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from screens.widgets import localize_bindings
from wizard.texts import t

KEYS = (("Enter", "help.key_run"), ("r", "help.key_retry"), ("f", "help.key_fix"), ("s", "help.key_skip"),
        ("e", "help.key_explain"), ("l", "help.key_log"), ("n", "help.key_next_running"), ("q", "help.key_quit"),
        ("? F1", "help.key_help"))
SECTIONS = (("key.learn", "help.learn_mode"), ("key.resume", "help.resume"), ("help.plain_heading", "help.plain_mode"),
            ("help.serve_heading", "help.serve"))


def help_text(lang: str) -> Text:
    text = Text()
    text.append(t("help.keys", lang) + "\n", style="bold underline")
    for keys, description in KEYS:
        text.append(f"  {keys:<8}", style="bold")
        text.append(t(description, lang) + "\n")
    for heading, body in SECTIONS:
        text.append("\n" + t(heading, lang) + "\n", style="bold underline")
        text.append(t(body, lang).strip() + "\n")
    text.rstrip()
    return text


class HelpScreen(ModalScreen[None]):
    """Opened with ? or F1 from any screen; Escape closes it."""

    BINDINGS = [Binding("escape,question_mark,f1", "close", "key.back", id="back")]

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        localize_bindings(self, lang)
        with Vertical(classes="dialog"):
            yield Static(t("screen.help", lang), classes="title", markup=False)
            with VerticalScroll(id="help-body"):
                yield Static(help_text(lang), markup=False)
            yield Button(t("key.back", lang), id="close")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def on_button_pressed(self) -> None:
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
