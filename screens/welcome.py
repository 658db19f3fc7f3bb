"""The welcome screen: the host's facts, the simulated-host label, the answers in short, and the preflight checks."""

from __future__ import annotations

from typing import Iterator

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Static

from screens.choices import ChoicesScreen
from screens.plan_review import PlanScreen
from screens.widgets import HostBanner, KeyBar, TitleBar, localize_bindings, shown_path, shown_text
from wizard import preflight
from wizard.texts import t

LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
PREFLIGHT_MARKS = {"pass": "✓", "warn": "!", "fail": "✗", "waived": "»"}


def host_text(app) -> Text:
    session = app.session
    facts = session.host.facts
    answers = session.answers
    pins = answers.pins
    lang = app.lang
    text = Text()
    text.append(t("welcome.intro", lang).strip() + "\n\n")
    text.append(f"{facts.pretty_name}", style="bold")
    text.append(f"  {facts.machine} · {'systemd' if facts.systemd else 'no systemd'} · {facts.package_manager}\n")
    text.append(f"{t('choices.scope', lang)}: ", style="bold")
    text.append(f"{answers.scope} · Kubernetes {pins.kubernetes} · CRI-O {pins.crio} · {answers.get('oci_runtime')}"
                f" · {answers.pod_cidr}\n")
    # the string's placeholder is named like t()'s own `lang` parameter, so it is filled here
    text.append(t("welcome.language", lang, language=LANGUAGE_NAMES.get(lang, lang)) + " · "
                + t("welcome.state_dir", lang, path=shown_path(session.state_dir)))
    if app.learn:
        text.append(" · " + t("key.learn", lang), style="bold")
    reason = facts.unsupported_reason()
    if reason:
        text.append("\n" + reason, style="bold reverse")
    elif not session.host.is_root_user:
        text.append("\n" + t("welcome.needs_root", lang).strip(), style="bold reverse")
    if session.stopped_leftovers:
        text.append("\n" + t("welcome.stopped_leftovers", lang, commands=", ".join(session.stopped_leftovers)),
                    style="bold")
    return text


def preflight_table(results: list, lang: str) -> PreflightList:
    """Each check with its status as a mark and a word; hints for what did not pass."""
    rows = []
    for result in results:
        mark = PREFLIGHT_MARKS.get(result.status, "?")
        style = "" if result.status == "pass" else "bold"
        detail = shown_text(result.detail)
        if result.status != "pass" and result.fix_hint:
            detail += f" → {shown_text(result.fix_hint)}"
        rows.append((result.name, Text(f"{mark} {t('preflight.' + result.status, lang)}", style=style), detail))
    return PreflightList(rows)


class PreflightList:
    """Rows of check name, status and detail in three columns; a long detail wraps under itself.

    Rich's Table lays out the same rows in about 15 ms, and Textual renders the list several times while the
    welcome screen first appears: these plain lines take well under a millisecond.
    """

    def __init__(self, rows: list[tuple[str, Text, str]]) -> None:
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        name_width = max((cell_len(name) for name, _, _ in self.rows), default=0)
        status_width = max((status.cell_len for _, status, _ in self.rows), default=0)
        indent = name_width + status_width + 2
        detail_width = max(20, options.max_width - indent)
        for name, status, detail in self.rows:
            lines = Text(detail).wrap(console, detail_width, overflow="fold") or [Text()]
            first = Text.assemble(name + " " * (name_width - cell_len(name) + 1), status,
                                  " " * (status_width - status.cell_len + 1), lines[0])
            # segments, not Text: the console would wrap each Text again
            for line in (first, *(Text(" " * indent) + line for line in lines[1:])):
                yield from line.render(console)
                yield Segment.line()


class WelcomeScreen(Screen[None]):
    """Enter starts the steps once the preflight checks allow it."""

    BINDINGS = [
        Binding("enter", "start", "key.run", id="run"),
        Binding("c", "choices", "screen.choices", id="choices"),
        Binding("p", "plan", "screen.plan_review", id="plan"),
        Binding("w", "waive", "preflight.waive", id="waive"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.results: list | None = None  # preflight results, None while they run
        self.waived: set[str] = set()
        self.checked_executor = None

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        localize_bindings(self, lang)
        yield TitleBar(t("screen.welcome", lang))
        yield HostBanner(self.app.session.host.simulated, lang)
        with VerticalScroll(id="welcome-body"):
            yield Static(id="host", markup=False)
            yield Static(t("screen.preflight", lang), classes="heading", markup=False)
            yield Static(id="preflight")
            yield Static(id="preflight-verdict", markup=False)
        with Horizontal(id="buttons"):
            for action, label in (("start", "key.run"), ("choices", "screen.choices"), ("plan", "screen.plan_review"),
                                  ("waive", "preflight.waive"), ("app.help", "key.help"), ("app.quit", "key.quit")):
                name = action.split(".")[-1]
                action = action if "." in action else f"screen.{action}"
                button = Button(t(label, lang), action=action, id=f"button-{name}", compact=True)
                button.can_focus = False
                yield button
        yield KeyBar()

    def on_mount(self) -> None:
        self.refresh_facts()

    def on_screen_resume(self) -> None:
        # saved choices build a new executor: its answers (and maybe its scope) are new
        if self.is_mounted and self.app.executor is not self.checked_executor:
            self.refresh_facts()

    def refresh_facts(self) -> None:
        self.checked_executor = self.app.executor
        self.query_one("#host", Static).update(host_text(self.app))
        self.results = None
        self.show_results()
        self.run_preflight()

    @work(group="preflight", exclusive=True, exit_on_error=False)
    async def run_preflight(self) -> None:
        session = self.app.session
        ignore = set(session.options.ignore_checks) | self.waived
        self.results = await preflight.run_preflight(self.app.executor.ctx, ignore=ignore)
        self.show_results()

    def show_results(self) -> None:
        lang = self.app.lang
        verdict = self.query_one("#preflight-verdict", Static)
        self.query_one("#preflight", Static).update(preflight_table(self.results or [], lang))
        if self.results is None:
            verdict.update("…")
        else:
            refused = preflight.refused(self.results)
            verdict.update(t("preflight.blocking", lang, count=len(refused)) if refused else "")
        self.refresh_bindings()
        for action in ("start", "waive"):
            allowed = self.check_action(action, ())
            button = self.query_one(f"#button-{action}", Button)
            button.display = allowed is not False
            button.disabled = not allowed

    def blocking(self) -> list:
        return preflight.refused(self.results) if self.results else []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            host = self.app.session.host
            if host.facts.unsupported_reason() or not host.is_root_user:
                return None
            return None if self.results is None or self.blocking() else True
        if action == "waive":
            return bool(self.blocking())
        return True

    def action_start(self) -> None:
        if self.check_action("start", ()):
            self.app.start_steps()

    def action_waive(self) -> None:
        """Waive the failed checks for this session (as --ignore-check NAME would) and check again."""
        self.waived |= {result.name for result in self.blocking()}
        self.results = None
        self.show_results()
        self.run_preflight()

    def action_choices(self) -> None:
        self.app.push_screen(ChoicesScreen())

    def action_plan(self) -> None:
        self.app.push_screen(PlanScreen())
