"""Pieces every screen shares: translated key bindings, the key bar, status marks, paths as shown, the simulated-host
banner."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingsMap
from textual.dom import DOMNode
from textual.widgets import Static

from wizard.steps.base import Step
from wizard.texts import explanation, t

# a symbol AND a word for every status, so the state never depends on colour alone
STATUS_MARKS = {
    "pending": "○",
    "running": "▶",
    "verified": "✓",
    "failed": "✗",
    "skipped": "»",
    "interrupted": "■",
    "invalidated": "↻",
}
DIMMED = Style(dim=True)  # a key that exists on this screen but cannot be used yet


def status_label(status: str, lang: str) -> str:
    return f"{STATUS_MARKS.get(status, '?')} {t('status.' + status, lang)}"


def localize_bindings(node: DOMNode, lang: str) -> None:
    """Give `node` its own bindings with translated footer descriptions.

    Textual reads BINDINGS from the class, so a description cannot depend on the session's language;
    each class names an i18n key as its description and this swaps in the text for this node only.
    """
    node._bindings = BindingsMap(
        replace(binding, description=t(binding.description, lang)) if binding.description else binding
        for _key, binding in node._bindings
    )


def shown_path(path: str | Path) -> str:
    """A path as people read it: the home directory as "~" (also keeps test snapshots free of temp paths)."""
    return shown_text(str(path))


def shown_text(text: str) -> str:
    home = str(Path.home())
    if home in ("/", ""):
        return text
    return text.replace(home + "/", "~/").replace(home, "~") if home in text else text


def step_title(step: Step, lang: str) -> str:
    """The step's title in `lang` from the teaching texts; the step's own English title otherwise."""
    try:
        return explanation(step.id, lang)["title"]
    except KeyError:
        return step.title


def duration_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class TitleBar(Static):
    """The top line: the program and where in it the user is (Textual's Header, without its clock and icon)."""

    def __init__(self, where: str) -> None:
        super().__init__(f"crio-wizard · {where}", markup=False)


class HostBanner(Static):
    """The simulated-host label; every screen shows it while the host is simulated."""

    def __init__(self, simulated_profile: str | None, lang: str) -> None:
        label = t("simulated.label", lang, profile=simulated_profile) if simulated_profile else ""
        super().__init__(label, markup=False)
        self.display = bool(simulated_profile)


class KeyBar(Static):
    """The bottom line: the keys the screen answers to now, each clickable.

    Textual's Footer mounts a widget per key and rebuilds them all whenever the bindings may have changed,
    which cost a fifth of a second at every screen's start; this is one line of text, redrawn only when the
    keys it shows change.
    """

    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description"}

    def __init__(self) -> None:
        super().__init__(markup=False)
        self.shown: tuple = ()  # (key display, description, enabled) of each key, as last drawn
        self.spans: list[tuple[int, int, str, bool]] = []  # (first column, end column, key, enabled)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def keys(self) -> list[tuple[str, str, str, bool]]:
        """(key, key display, description, enabled) of each shown binding, one per action, in binding order."""
        keys, actions = [], set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append((binding.key, self.app.get_key_display(binding), binding.description, enabled))
        return keys

    def bindings_changed(self, screen) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        keys = self.keys()
        shown = tuple(key[1:] for key in keys)
        if shown == self.shown:
            return
        self.shown = shown
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        text, self.spans = Text(no_wrap=True, overflow="ellipsis"), []
        for key, display, description, enabled in keys:
            start = text.cell_len
            dimmed = None if enabled else DIMMED
            text.append(f" {display} ", key_style + dimmed)
            text.append(f"{description} ", description_style + dimmed)
            self.spans.append((start, text.cell_len, key, enabled))
        self.update(text)

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self.spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
