"""The parts this Debian machine can do for real: apt's resolver, git and make, and doctor."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wizard import answers, events
from wizard.executor import Executor
from wizard.host import Host, read_facts
from wizard.journal import Journal
from wizard.runner import Runner
from wizard.steps.base import Context
from wizard.steps.build_deps import package_plan
from wizard.steps.conmon import Conmon

ON_DEBIAN = read_facts(Path("/")).family == "debian"


@pytest.mark.skipif(not ON_DEBIAN or not shutil.which("apt-get"), reason="apt's resolver needs a Debian host")
def test_apt_resolves_the_whole_debian_dependency_plan():
    names = package_plan(read_facts(Path("/")), answers.load(None))
    assert "libgpgme-dev" in names and "conntrack" in names
    result = subprocess.run(["apt-get", "install", "-s", "--no-install-recommends", *names],
                            capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "Unable to locate package" not in result.stdout + result.stderr
    for name in names:  # apt knows each one: already installed, or an Inst line
        assert re.search(rf"^(Inst {re.escape(name)} |{re.escape(name)} is already the newest)", result.stdout,
                         re.M), name


CONMON_C = r'''
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("conmon version 2.2.1\ncommit: 0000000000000000000000000000000000000000\n");
        return 0;
    }
    fprintf(stderr, "usage: conmon --version\n");
    return 1;
}
'''
MAKEFILE = """\
PREFIX ?= /usr/local
bin/conmon: src/conmon.c
\tmkdir -p bin
\t$(CC) -O2 -o $@ $<
install.bin: bin/conmon
\tinstall -D -m 755 bin/conmon $(DESTDIR)$(PREFIX)/bin/conmon
"""


def _local_repository(path: Path) -> str:
    """A small C project in a real git repository, tagged like conmon's release."""
    (path / "src").mkdir(parents=True)
    (path / "src/conmon.c").write_text(CONMON_C)
    (path / "Makefile").write_text(MAKEFILE)
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "conmon"], check=True)
    subprocess.run([*git, "tag", "v2.2.1"], check=True)
    # a later commit that breaks the build: checking out the tag must not pick it up
    (path / "src/conmon.c").write_text("this is not C\n")
    subprocess.run([*git, "commit", "-q", "-am", "broken"], check=True)
    return f"file://{path}"


def conmon_on_this_host(tmp_path: Path, url: str, ref: str, emit=lambda event: None) -> Executor:
    """An executor for the real conmon step on this machine, building into tmp_path."""
    chosen = answers.from_mapping({
        "install": {"prefix": str(tmp_path / "prefix")}, "workdir": str(tmp_path / "work"),
        "sources": {"conmon": {"url": url, "ref": ref}},
    })
    host = Host(root=Path("/"), facts=read_facts(Path("/")), env=dict(os.environ))
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    ctx = Context(answers=chosen, host=host, state_dir=state)
    return Executor(ctx, Journal.load(state), Runner(env=host.env, default_cwd=state), emit)


@pytest.mark.skipif(not (shutil.which("git") and shutil.which("make") and shutil.which("cc")),
                    reason="needs git, make and a C compiler (.ci/run installs them)")
async def test_the_build_step_clones_a_real_repository_at_its_ref_and_builds_it_with_make(tmp_path):
    url = _local_repository(tmp_path / "upstream")
    prefix, state = tmp_path / "prefix", tmp_path / "state"
    seen: list = []
    executor = conmon_on_this_host(tmp_path, url, "v2.2.1", seen.append)
    outcome = await executor.run_step(executor.step(Conmon.id))
    assert outcome.status == "verified", outcome.failure
    assert (prefix / "bin/conmon").stat().st_mode & 0o111
    commands = [e.description for e in seen if isinstance(e, events.ActionStarted)]
    assert commands[0].startswith("$ git clone --no-checkout " + url)
    assert any(c.endswith("git -C " + str(tmp_path / "work/conmon") + " checkout --force v2.2.1") for c in commands)
    streamed = [line for e in seen if isinstance(e, events.OutputLines) for line in e.lines]
    assert any("-o bin/conmon" in line for line in streamed), streamed  # make's own output, streamed
    assert [c.name for c in outcome.checks] == ["conmon --version shows 2.2.1"]
    log = (state / "logs/conmon.log").read_text()
    assert "$ make install.bin PREFIX=" in log and "[exit 0" in log


@pytest.mark.skipif(not shutil.which("git"), reason="needs git")
async def test_a_ref_that_does_not_exist_fails_the_step_with_gits_message(tmp_path):
    executor = conmon_on_this_host(tmp_path, _local_repository(tmp_path / "upstream"), "v9.9.9")
    outcome = await executor.run_step(executor.step(Conmon.id))
    assert outcome.status == "failed"
    assert "checkout --force v9.9.9" in outcome.failure.reason
    assert any("did not match any file(s) known to git" in line for line in outcome.failure.output_tail)


def test_doctor_on_this_machine_gives_a_reason_on_every_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "wizard.cli", "doctor", "--state-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    check_lines = [line for line in result.stdout.splitlines() if line.startswith("  ")]
    assert len(check_lines) > 20
    for line in check_lines:
        assert re.match(r"  (pass|warn|FAIL|waived|known error) ", line), line
        assert re.match(r"  \S+\s+\S.*: \S", line) or line.startswith("  known error"), line


@pytest.mark.skipif(not (shutil.which("git") and shutil.which("make") and shutil.which("cc")),
                    reason="needs git, make and a C compiler (.ci/run installs them)")
async def test_a_clone_killed_half_way_is_started_again(tmp_path):
    url = _local_repository(tmp_path / "upstream")
    work = tmp_path / "work"
    # what a kill during `git clone` leaves: a .git with objects on the way but no remote HEAD yet
    (work / "conmon/.git/objects/pack").mkdir(parents=True)
    (work / "conmon/.git/objects/pack/tmp_pack_abc").write_bytes(b"PACK")
    executor = conmon_on_this_host(tmp_path, url, "v2.2.1")
    outcome = await executor.run_step(executor.step(Conmon.id))
    assert outcome.status == "verified", outcome.failure
    assert not (work / "conmon/.git/objects/pack/tmp_pack_abc").exists()
