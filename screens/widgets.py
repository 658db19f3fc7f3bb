"""Pieces every screen shares: translated key bindings, status marks, paths as shown, the simulated-host banner."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

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
