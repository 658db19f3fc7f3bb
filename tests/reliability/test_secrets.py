"""Secrets stay out: a planted proxy password and a token never appear in anything the wizard printed or wrote
(logs, journal, plans as text and as a script, the doctor report, files on the host, the TUI's screens);
the state directory is 0700 and its logs 0600."""

from __future__ import annotations

import stat

from tests.reliability.audit import PROXY_PASSWORD, TOKEN, Audit
from tests.reliability.harness import count

SECRETS = (PROXY_PASSWORD, TOKEN)


def leaks(name: str, data: bytes | str | None) -> list[str]:
    if data is None:
        return []
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [f"{name} contains {secret!r}" for secret in SECRETS if secret in text]


def test_nothing_the_wizard_printed_or_wrote_holds_a_secret(audited_run: Audit, figures):
    audit = audited_run
    assert audit.outputs["run"].returncode == 0, audit.outputs["run"].stdout[-3000:]
    found = []
    for name, result in audit.outputs.items():
        found += leaks(f"the output of {name}", result.stdout) + leaks(f"the errors of {name}", result.stderr)
    for snapshot in (audit.state_after_run, audit.state_after_reset):
        for path, state in snapshot.items():
            found += leaks(f"state dir {path}", state.content if state else None)
    # every file of the simulated host after the run: the ones the wizard wrote, and the ones its commands did
    for path, state in audit.after_run.items():
        found += leaks(f"host file {path}", state.content if state else None)
    count("secrets found", len(found))
    assert found == []

    # not vacuous: the secrets were used, and masked where they would have shown
    assert (audit.state / "src" / "conmon").is_dir(), "the clone with the token did not run"
    conmon_log = audit.state_after_run["logs/conmon.log"].content.decode()
    assert "$ git clone --no-checkout https://***@github.com/containers/conmon.git" in conmon_log
    assert "HTTP_PROXY=http://***@proxy.example.org:3128" in audit.outputs["run"].stdout
    assert "http://***@proxy.example.org:3128" in audit.outputs["plan"].stdout
    assert "http://***@proxy.example.org:3128" in audit.outputs["plan-sh"].stdout


def test_the_state_directory_is_private(audited_run: Audit):
    modes = {path: stat.S_IMODE(state.mode) for path, state in audited_run.state_after_run.items()
             if state is not None and state.link is None}
    assert modes["."] == 0o700
    for directory in ("logs", "backups"):
        assert modes[directory] == 0o700, (directory, oct(modes[directory]))
    logs = [path for path in modes if path.startswith("logs/")]
    assert len(logs) >= 10
    for path in logs + ["journal.yaml", "backups/manifest.yaml", "lock"]:
        assert modes[path] == 0o600, (path, oct(modes[path]))

