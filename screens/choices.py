"""The choices: the answers as a form, validated like an answers file, saved as one `run --answers` accepts."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import yaml
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Select, Static

from screens.widgets import HostBanner, KeyBar, TitleBar, localize_bindings, shown_path
from wizard import answers as answers_module
from wizard import pins
from wizard.assets import asset_path
from wizard.texts import t

# (answer key path, i18n label key, label values); each is one row of the form
FIELDS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("scope", "choices.scope", {}),
    ("kubernetes", "choices.kubernetes", {}),
    ("oci_runtime", "choices.oci_runtime", {}),
    ("cgroup_manager", "choices.cgroup_manager", {}),
    ("pod_cidr", "choices.pod_cidr", {}),
    ("flannel.backend", "choices.flannel_backend", {}),
    ("flannel.style", "choices.flannel_style", {}),
    ("install.crio", "choices.install_method", {"component": "CRI-O"}),
    ("install.conmon", "choices.install_method", {"component": "conmon"}),
    ("install.cni_plugins", "choices.install_method", {"component": "CNI plugins"}),
    ("install.crictl", "choices.install_method", {"component": "crictl"}),
    ("install.flannel_cni", "choices.install_method", {"component": "flannel CNI"}),
)
TYPED_FIELDS = ("pod_cidr",)  # an Input; every other field is a choice from the schema
HEADER = "# crio-wizard answers, saved from the choices screen (only what differs from the defaults).\n" \
         "# Check it with `crio-wizard validate FILE`; use it with `crio-wizard run --answers FILE`.\n"


@lru_cache(maxsize=1)
def _schema() -> dict:
    return yaml.safe_load(asset_path("answers.schema.yaml").read_text(encoding="utf-8"))


def allowed_values(key_path: str) -> list[str]:
    """The values the answers schema allows for a key (the Kubernetes minors come from the pinning table)."""
    if key_path == "kubernetes":
        return pins.kubernetes_minors()
    node = _schema()
    for part in key_path.split("."):
        node = node["properties"][part]
    return list(node["enum"])


def option_label(key_path: str, value: str, lang: str) -> str:
    if key_path == "scope":
        return f"{value}: {t('choices.scope_' + value.replace('+', '_'), lang)}"
    if key_path == "kubernetes":
        return f"{value} (CRI-O {pins.pins_for(value).crio})"
    return value


def field_id(key_path: str) -> str:
    return "field-" + key_path.replace(".", "-").replace("_", "-")


def set_value(data: dict, key_path: str, value: object) -> None:
    *parents, last = key_path.split(".")
    for part in parents:
        data = data[part]
    data[last] = value


def difference(data: dict, defaults: dict) -> dict:
    """The parts of `data` that differ from `defaults`, nested the same way."""
    changed = {}
    for key, value in data.items():
        default = defaults.get(key)
        if isinstance(value, dict) and isinstance(default, dict):
            inner = difference(value, default)
            if inner:
                changed[key] = inner
        elif value != default:
            changed[key] = value
    return changed


def problems_by_field(problems: list[str]) -> dict[str, list[str]]:
    """Each problem under the form key it names ("pod_cidr: bad value ..."), the rest under ""."""
    keys = {key for key, _label, _values in FIELDS}
    found: dict[str, list[str]] = {}
    for problem in problems:
        key, _, detail = problem.partition(": ")
        if key in keys:
            found.setdefault(key, []).append(detail)
        else:
            found.setdefault("", []).append(problem)
    return found


class ChoicesScreen(Screen[None]):
    """Every change is validated at once; Save writes the file, and the session uses it from then on."""

    BINDINGS = [
        Binding("ctrl+s", "save", "choices.save", id="save"),
        Binding("escape", "back", "key.back", id="back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.valid = True

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        localize_bindings(self, lang)
        session = self.app.session
        current = session.answers
        yield TitleBar(t("screen.choices", lang))
        yield HostBanner(session.host.simulated, lang)
        with VerticalScroll(id="choices-form"):
            for key_path, label_key, values in FIELDS:
                with Horizontal(classes="field"):
                    yield Label(t(label_key, lang, **values), classes="field-label", markup=False)
                    value = current.get(key_path)
                    if key_path in TYPED_FIELDS:
                        yield Input(value=str(value), id=field_id(key_path), compact=True)
                    else:
                        options = [(option_label(key_path, choice, lang), choice) for choice in allowed_values(key_path)]
                        yield Select(options, value=value, allow_blank=False, id=field_id(key_path), compact=True)
                yield Static(id=field_id(key_path) + "-problem", classes="problem", markup=False)
            with Horizontal(classes="field"):
                yield Label(t("choices.save_path", lang), classes="field-label", markup=False)
                default_path = session.options.answers_path or session.state_dir / "answers.yaml"
                yield Input(value=shown_path(default_path), id="save-path", compact=True)
            yield Static(id="problems", classes="problem", markup=False)
        with Horizontal(id="buttons"):
            yield Button(t("choices.save", lang), variant="primary", id="save", action="screen.save", compact=True)
            yield Button(t("key.back", lang), id="back", action="screen.back", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(f"#{field_id(FIELDS[0][0])}").focus()
        self.validate()

    def collected(self) -> dict:
        """The answers in effect with the form's values put in."""
        data = copy.deepcopy(self.app.session.answers.data)
        for key_path, _label, _values in FIELDS:
            widget = self.query_one(f"#{field_id(key_path)}")
            set_value(data, key_path, widget.value)
        return data

    def validate(self) -> answers_module.Answers | None:
        try:
            answers = answers_module.from_mapping(self.collected())
            problems: dict[str, list[str]] = {}
        except answers_module.AnswersError as error:
            answers = None
            problems = problems_by_field(error.problems)
        for key_path, _label, _values in FIELDS:
            field_problems = problems.get(key_path, [])
            problem = self.query_one(f"#{field_id(key_path)}-problem", Static)
            problem.update("✗ " + "; ".join(field_problems) if field_problems else "")
            problem.display = bool(field_problems)
            self.query_one(f"#{field_id(key_path)}").set_class(bool(field_problems), "-invalid")
        general = self.query_one("#problems", Static)
        general.update("\n".join("✗ " + problem for problem in problems.get("", [])))
        general.display = bool(problems.get(""))
        self.valid = answers is not None
        self.query_one("#save", Button).disabled = not self.valid
        return answers

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "save-path":
            self.validate()

    def on_select_changed(self) -> None:
        self.validate()

    def action_save(self) -> None:
        if self.validate() is None:
            return
        session = self.app.session
        path = Path(self.query_one("#save-path", Input).value.strip()).expanduser()
        document = difference(self.collected(), answers_module.from_mapping({}).data)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
            # read back the way `run --answers` reads it, so what the session uses is what the file says
            saved = answers_module.load(path)
        except (OSError, answers_module.AnswersError) as error:
            self.query_one("#problems", Static).update(f"✗ {path}: {error}")
            return
        session.user_answers = saved
        session.options.answers_path = str(path)
        self.app.build_executor()
        self.app.notify(f"{t('choices.saved', self.app.lang)} {shown_path(path)}")
        self.dismiss()

    def action_back(self) -> None:
        self.dismiss()
