"""One full headless run on the simulated host, set up to be audited: answers carrying a planted proxy password,
a token and shell-injection payloads, pre-existing files in /etc; then everything it printed and wrote, and a
reset. The injection, nothing-lost and secrets tests all inspect this one run (it is the suite's costliest part)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.reliability.harness import (
    REPLACED_FILES, UNRELATED_FILES, FileState, cli, file_state, make_sandbox, manifest_entries, plant, sim_args,
)

PROXY_PASSWORD = "Pr0xyPa55-4f1e9c"
TOKEN = "ghs_T0kenValue8c2d7e41b9"
PROXY_URL = f"http://wizard:{PROXY_PASSWORD}@proxy.example.org:3128"
CONMON_WITH_TOKEN = f"https://x-access-token:{TOKEN}@github.com/containers/conmon.git"  # as GitHub Actions clones


def payloads(marker_dir: Path) -> dict[str, str]:
    """Shell syntax that would create a marker file (or delete a victim directory, as `; rm -rf /` would)
    if any of it were ever run by a shell. No spaces: URLs cannot carry them; `$IFS` is the shell's own."""
    marker = marker_dir / "ran"
    return {
        "command-substitution": f"$(touch$IFS{marker}-1)",
        "backticks": f"`touch$IFS{marker}-2`",
        "semicolon": f";touch$IFS{marker}-3;",
        "pipe-and": f"|touch$IFS{marker}-4&&touch$IFS{marker}-5",
        "single-quote": f"'$(touch$IFS{marker}-6)'",
        "double-quote": f"\"$(touch$IFS{marker}-7)\"",
        "rm-rf": f";rm$IFS-rf$IFS{marker_dir / 'victim'};",
    }


def injected_answers(marker_dir: Path) -> dict:
    """Answers whose free-text fields carry the payloads, in places that still lead to a working setup
    (the stand-ins name a clone or a download by the URL's last part)."""
    shell = payloads(marker_dir)
    return {
        "scope": "cluster+flannel",
        "sources": {
            "crio": {"url": f"https://github.com/{shell['command-substitution']}/cri-o/cri-o.git", "ref": ""},
            "conmon": {"url": CONMON_WITH_TOKEN, "ref": ""},
            "cni_plugins": {"url": f"https://github.com/{shell['backticks']}/containernetworking/plugins.git",
                            "ref": ""},
            "flannel_cni": {"url": f"https://github.com/{shell['semicolon']}/flannel-io/cni-plugin.git", "ref": ""},
            "cri_tools": {"url": f"https://github.com/{shell['pipe-and']}/kubernetes-sigs/cri-tools.git", "ref": ""},
        },
        "downloads": {
            "minikube": f"https://github.com/kubernetes/minikube/releases/download/{{version}}/{shell['single-quote']}"
                        f"/minikube-linux-{{arch}}",
            "go": f"https://go.dev/dl/{shell['double-quote']}/go{{version}}.linux-{{arch}}.tar.gz",
        },
        "go": {"proxy": f"https://goproxy.example.org/{shell['rm-rf']},direct"},
        "proxy": {"http": PROXY_URL, "https": PROXY_URL,
                  "no_proxy": "-rf,*.example.org,localhost,127.0.0.1,10.96.0.0/12,10.233.64.0/18"},
    }


@dataclass
class Audit:
    base: Path
    state: Path
    root: Path
    answers: Path
    marker_dir: Path
    originals: dict[str, FileState]  # every file of the simulated host before the run
    outputs: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)  # command name -> result
    manifest: list[dict] = field(default_factory=list)  # the backup manifest after the run
    backups: dict[str, FileState] = field(default_factory=dict)  # backup copies after the run, by host path
    after_run: dict[str, FileState] = field(default_factory=dict)  # the host's files after the run
    after_reset: dict[str, FileState] = field(default_factory=dict)  # ... and after `reset --yes`
    # the state directory's own files and directories (journal, logs, backups, lock) after the run and the reset
    state_after_run: dict[str, FileState] = field(default_factory=dict)
    state_after_reset: dict[str, FileState] = field(default_factory=dict)


def host_files(root: Path) -> dict[str, FileState]:
    """The simulated host's files by host path (without the simulator's own bookkeeping in /.sim)."""
    return {"/" + path.relative_to(root).as_posix(): file_state(path) for path in sorted(root.rglob("*"))
            if (path.is_file() or path.is_symlink()) and path.relative_to(root).parts[0] != ".sim"}


def state_files(state: Path) -> dict[str, FileState]:
    """The state directory itself and what the wizard keeps in it, without the simulated host (sim/) and the
    source trees the stand-in git made (src/, where a clone keeps its URL as a real one does in .git/config)."""
    found = {".": file_state(state)}
    for path in sorted(state.rglob("*")):
        relative = path.relative_to(state)
        if relative.parts[0] not in ("sim", "src"):
            found[relative.as_posix()] = file_state(path)
    return found


def audit_run(base: Path) -> Audit:
    state = base / "state"
    root = make_sandbox(state)
    plant(root, {**REPLACED_FILES, **UNRELATED_FILES})
    marker_dir = base / "markers"
    (marker_dir / "victim").mkdir(parents=True)
    (marker_dir / "victim" / "keep").write_text("rm -rf must never reach this\n")
    answers = base / "answers.yaml"
    answers.write_text(yaml.safe_dump(injected_answers(marker_dir)))
    audit = Audit(base, state, root, answers, marker_dir, originals=host_files(root))
    common = [*sim_args(state), "--answers", str(answers)]
    for name, command in [("plan", ["plan", *common]), ("plan-sh", ["plan", *common, "--format", "sh"]),
                          ("run", ["run", *common, "--yes"]), ("status", ["status", *common]),
                          ("doctor", ["doctor", *common])]:
        audit.outputs[name] = cli(*command)
    audit.manifest = manifest_entries(state)
    audit.backups = {entry["path"]: file_state(state / "backups" / entry["backup"])
                     for entry in audit.manifest if "backup" in entry}
    audit.after_run = host_files(root)
    audit.state_after_run = state_files(state)
    audit.outputs["reset"] = cli("reset", *common, "--yes")
    audit.after_reset = host_files(root)
    audit.state_after_reset = state_files(state)
    return audit
