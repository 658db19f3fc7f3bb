"""The summary: what is installed and running, what was skipped, and how to look at it yourself."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from screens.widgets import (HostBanner, KeyBar, TitleBar, duration_text, localize_bindings, shown_path, status_label,
                             step_title)
from wizard.executor import Executor
from wizard.texts import t


def versions(executor: Executor) -> dict[str, str]:
    """What each step put on the host, by step id, in words that need no translation (names and versions)."""
    answers = executor.ctx.answers
    pins = answers.pins
    install = answers.get("install")
    return {
        "go-toolchain": f"Go >= {pins.go_min}",
        "crio-build": f"CRI-O {pins.crio} ({install['crio']})",
        "conmon": f"conmon {pins.conmon} ({install['conmon']})",
        "cni-plugins": f"CNI plugins {pins.cni_plugins} ({install['cni_plugins']}), /opt/cni/bin",
        "flannel-cni": f"flannel CNI {pins.flannel_cni} ({install['flannel_cni']})",
        "crio-service": "crio.service" if executor.ctx.host.facts.systemd else "crio (no systemd)",
        "crictl": f"crictl {pins.crictl}, /etc/crictl.yaml",
        "minikube": f"minikube {pins.minikube}, Kubernetes {pins.kubernetes}, --driver=none",
        "flannel": f"flannel {pins.flannel}, {answers.get('flannel.backend')}, {answers.pod_cidr}",
    }


def summary_text(executor: Executor, lang: str, elapsed: float) -> Text:
    records = executor.journal.steps()
    status = {step.id: (records[step.id].status if step.id in records else "pending") for step in executor.steps}
    done = [step for step in executor.steps if status[step.id] == "verified"]
    skipped = [step for step in executor.steps if status[step.id] == "skipped"]
    what = versions(executor)
    text = Text()
    if skipped:
        headline = t("summary.verified_some", lang, count=len(done), total=len(executor.steps),
                     elapsed=duration_text(elapsed))
    else:
        headline = t("summary.all_verified", lang, count=len(done), elapsed=duration_text(elapsed))
    text.append(headline + "\n\n", style="bold")
    text.append(t("summary.installed", lang) + "\n", style="bold underline")
    for step in done:
        text.append(f"  {status_label('verified', lang):<12} {step.id:<14} ", style="bold")
        text.append(step_title(step, lang) + (f" · {what[step.id]}" if step.id in what else "") + "\n")
    if skipped:
        text.append("\n" + t("summary.skipped", lang, steps=", ".join(step.id for step in skipped)) + "\n",
                    style="bold")
    text.append("\n" + t("summary.try_heading", lang) + "\n", style="bold underline")
    usage = ["summary.crictl", "summary.ps_forest"]
    if executor.ctx.answers.scope != "runtime":
        usage.insert(1, "summary.kubectl")
    for key in usage:
        text.append("• " + t(key, lang).strip() + "\n")
    text.append("\n" + t("summary.logs", lang, path=shown_path(executor.ctx.state_dir / "logs")))
    return text


class SummaryScreen(Screen[None]):
    """Shown when every step in scope is done; q quits with exit code 0, Escape goes back to the steps."""

    BINDINGS = [Binding("escape", "back", "key.back", id="back")]

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        localize_bindings(self, lang)
        executor = self.app.executor
        yield TitleBar(t("screen.summary", lang))
        yield HostBanner(executor.ctx.host.simulated, lang)
        with VerticalScroll(id="summary-body"):
            yield Static(summary_text(executor, lang, self.app.run_elapsed()), markup=False)
        yield KeyBar()

    def action_back(self) -> None:
        self.dismiss()
