"""The explanation of a step: why it exists, what the 2019 recipe did, what changed, how it is verified."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from screens.widgets import localize_bindings
from wizard.steps.base import Step
from wizard.texts import explanation, t, topic

# the topics (assets/explanations.yaml) that go deeper into what a step touches
RELATED_TOPICS: dict[str, tuple[str, ...]] = {
    "build-deps": ("since-2019",),
    "go-toolchain": ("since-2019",),
    "crio-build": ("since-2019",),
    "conmon": ("conmon", "process-tree"),
    "cni-plugins": ("cni-version",),
    "cni-config": ("cni-version", "conflist-order"),
    "flannel-cni": ("cni-version",),
    "crio-config": ("conflist-order",),
    "crio-service": ("conmon",),
    "crictl": ("pod-id",),
    "runtime-check": ("process-tree", "pod-id"),
    "minikube": ("coredns-waits",),
    "flannel": ("flannel-backends", "cni-version", "conflist-order"),
    "cluster-check": ("coredns-waits", "pod-id", "process-tree"),
}
SECTIONS = (("why", "explain.why"), ("seed", "explain.seed"), ("changed", "explain.changed"),
            ("verify", "explain.verify"))


def explanation_text(step: Step, lang: str) -> Text:
    text = Text()
    try:
        fields = explanation(step.id, lang)
    except KeyError:
        return Text(step.title)
    for field, heading in SECTIONS:
        text.append(t(heading, lang) + "\n", style="bold underline")
        text.append(fields[field].strip() + "\n\n")
    related = RELATED_TOPICS.get(step.id, ())
    if related:
        text.append(t("explain.related", lang) + "\n", style="bold underline")
    for name in related:
        with_texts = topic(name, lang)
        text.append(with_texts["title"] + "\n", style="bold")
        text.append(with_texts["text"].strip() + "\n\n")
    text.rstrip()
    return text


class ExplainScreen(ModalScreen[None]):
    """Opened with e (or a click on a step); Escape closes it."""

    BINDINGS = [Binding("escape,e", "close", "key.back", id="back")]

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        localize_bindings(self, lang)
        try:
            title = explanation(self.step.id, lang)["title"]
        except KeyError:
            title = self.step.title
        with Vertical(classes="dialog"):
            yield Static(t("screen.explanation", lang, title=title), classes="title", markup=False)
            with VerticalScroll(id="explain-body"):
                yield Static(explanation_text(self.step, lang), markup=False)
            yield Button(t("key.back", lang), id="close")

    def on_mount(self) -> None:
        self.query_one("#explain-body").focus()

    def on_button_pressed(self) -> None:
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
