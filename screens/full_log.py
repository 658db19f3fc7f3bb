"""The full log of a step: the whole log file (every line, not only what the live panel kept)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Log

from screens.widgets import HostBanner, KeyBar, TitleBar, localize_bindings, shown_path
from wizard.texts import t


class FullLogScreen(Screen[None]):
    """Escape (or l) goes back to the steps."""

    BINDINGS = [Binding("escape,l", "close", "key.back", id="back")]

    def __init__(self, log_path: Path) -> None:
        super().__init__()
        self.log_path = Path(log_path)

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        localize_bindings(self, lang)
        yield TitleBar(t("failure.log_path", lang, path=shown_path(self.log_path)))
        yield HostBanner(self.app.session.host.simulated, lang)
        yield Log(id="full-log", auto_scroll=True)
        yield KeyBar()

    def on_mount(self) -> None:
        log = self.query_one(Log)
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            text = str(error)
        log.write_lines(text.splitlines())  # one write: the width is measured once
        log.focus()

    def action_close(self) -> None:
        self.dismiss()
