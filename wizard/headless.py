"""Plain line output of engine events: for `run`, plain mode, CI logs and screen readers."""

from __future__ import annotations

import sys
from typing import TextIO

from wizard import events
from wizard.texts import explanation, t


class LinePrinter:
    """Prints one line per event; command output lines are prefixed with their step id, and so are the
    indented lines (commands, checks, exit codes) while steps run side by side (--jobs)."""

    def __init__(self, stream: TextIO | None = None, lang: str = "en"):
        self.stream = stream or sys.stdout
        self.lang = lang
        self.running: set[str] = set()  # the steps started and not finished

    def title(self, step_id: str, fallback: str) -> str:
        """The step's title in the chosen language (the step's own English title if it has none)."""
        try:
            return explanation(step_id, self.lang)["title"]
        except KeyError:
            return fallback

    def _say(self, *lines: str) -> None:
        self.stream.write("".join(line + "\n" for line in lines))
        self.stream.flush()

    def _indented(self, step_id: str, text: str) -> str:
        return f"    [{step_id}] {text}" if len(self.running) > 1 else f"    {text}"

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.OutputLines):
            # the hot path: one write per batch, not one per line
            prefix = f"[{event.step_id}] "
            self.stream.write("".join(prefix + line + "\n" for line in event.lines))
        elif isinstance(event, events.StepStarted):
            self.running.add(event.step_id)
            attempt = f" (attempt {event.attempt})" if event.attempt > 1 else ""
            self._say(f"==> [{event.index}/{event.total}] {event.step_id}: "
                      f"{self.title(event.step_id, event.title)}{attempt}")
        elif isinstance(event, events.StepAlreadyDone):
            self._say(f"==> [{event.index}/{event.total}] {event.step_id}: done ({event.reason})")
        elif isinstance(event, events.ActionStarted):
            self._say(self._indented(event.step_id, event.description))
        elif isinstance(event, events.Heartbeat):
            self._say(f"[{event.step_id}] ... still running, no output for {event.silent_seconds:.0f}s")
        elif isinstance(event, events.ActionFinished):
            if event.timed_out:
                self._say(self._indented(event.step_id, f"timed out after {event.duration:.1f}s: stopped"))
            elif event.exit_code not in (0, None):
                self._say(self._indented(event.step_id, f"exit {event.exit_code} after {event.duration:.1f}s"))
        elif isinstance(event, events.CheckDone):
            mark = "[ok]  " if event.check.ok else "[FAIL]"
            detail = f": {event.check.detail}" if event.check.detail else ""
            self._say(self._indented(event.step_id, f"{mark} {event.check.name}{detail}"))
        elif isinstance(event, events.StepFinished):
            self._step_finished(event)
            self.running.discard(event.step_id)
        elif isinstance(event, events.FixApplied):
            outcome = "applied" if event.ok else f"failed: {event.message}"
            self._say(self._indented(event.step_id, f"fix {event.known_error_id}: {outcome}"))
        elif isinstance(event, events.RunFinished):
            if event.ok:
                self._say("==> " + t("plain.run_ok", self.lang))
            else:
                self._say("==> " + t("plain.run_failed", self.lang, step=event.failed_step_id))

    def _step_finished(self, event: events.StepFinished) -> None:
        if event.status == "verified":
            self._say(f"<== {event.step_id}: verified ({event.duration:.1f}s)")
            return
        if event.status != "failed" or event.failure is None:
            self._say(f"<== {event.step_id}: {event.status} {event.message}".rstrip())
            return
        failure = event.failure
        lines = [f"<== {event.step_id}: FAILED: {failure.reason}"]
        lines += failure_lines(failure, self.lang)
        self._say(*lines)


def failure_lines(failure: events.Failure, lang: str = "en") -> list[str]:
    """The known errors that match, their fixes as a preview, and where the log is."""
    lines = []
    if failure.matches:
        for match in failure.matches:
            entry = match.entry
            lines.append(f"    {t('failure.known_error', lang, title=entry.text('title', lang))} [{entry.id}]")
            lines.append(f"      {entry.text('explanation', lang)}")
            if entry.fix:
                summary = entry.fix["summary"]
                lines.append(f"      fix: {summary.get(lang) or summary['en']}")
    else:
        lines.append("    " + t("failure.no_match", lang))
        lines += [f"    | {line}" for line in failure.output_tail[-10:]]
    lines.append("    " + t("failure.log_path", lang, path=failure.log_path))
    return lines
