"""No injection: shell metacharacters in every string answer either fail validation (exit 2) or travel as one argv
item, one environment value or file content; planted marker commands never run, neither in a run on the
simulated host nor when `plan --format sh` is executed by sh (whose commands are then exactly the plan's)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.reliability.audit import Audit, injected_answers
from tests.reliability.harness import assert_no_traceback, cli, count, output_of, sim_args
from tests.reliability.test_bad_input import nested, schema_fields
from wizard.actions import RemoveFile, Run, Symlink, WriteFile
from wizard.answers import AnswersError, from_mapping, merge_over
from wizard.plan_output import HEREDOC_END
from wizard.session import Options, Session
from wizard.simulate.sandbox import prepare
from wizard.steps import steps_in_scope
from wizard.steps.base import Context

PAYLOADS = ["; rm -rf /", "$(touch /tmp/crio-wizard-injected)", "`touch /tmp/crio-wizard-injected`",
            "a\ntouch /tmp/crio-wizard-injected", "'\"'\"", "--injected-option", "-injected", "$IFS;id", "|id", "&&id", "x>y", "*"]
# ways to put a payload into a value so that the rest of it has the field's form
EMBEDDINGS = ["{}", "https://example.org/{}", "https://example.org/x{}", "/{}", "x{}", "sum.golang.org https://x/{}"]
SHELLS = ("sh", "bash", "dash")


def plan_actions(ctx: Context) -> list:
    return [action for step in steps_in_scope(ctx) for action in step.plan(ctx)]


def shell_scripts(actions: list) -> list[str]:
    """The script text of every `sh -c SCRIPT` the plan runs (positional arguments after it are data)."""
    return [action.argv[action.argv.index("-c") + 1] for action in actions
            if isinstance(action, Run) and Path(action.argv[0]).name in SHELLS and "-c" in action.argv]


@pytest.fixture(scope="module")
def plan_host(tmp_path_factory):
    state = tmp_path_factory.mktemp("injection") / "state"
    return prepare("rocky9", state, speed=0), state


SHELL_SYNTAX = re.compile(r"[;$`|&<>'\"*\n]")
# where text with shell syntax may go, as data: URLs (of sources, downloads, proxies, mirrors, Go proxies)
# and NO_PROXY; everything else has a strict form (refs, paths, images, versions, CIDRs, registries)
FREE_TEXT = re.compile(r"^(sources\.\w+\.url|downloads\.\w+|proxy\.\w+|go\.proxy|mirror\.(packages|git|releases|"
                       r"go_proxy|go_sumdb|go_downloads))$")


def test_every_string_answer_refuses_shell_syntax_or_keeps_it_in_one_argv_item(plan_host, figures):
    host, state = plan_host
    rejected = 0
    accepted: dict[str, dict[str, str]] = {}  # payload -> {key path: the first value with it that validated}
    for key_path, field in sorted(schema_fields().items()):
        if field.get("type") != "string" and "pattern" not in field:
            continue  # enums: nothing free-form gets in
        for payload in PAYLOADS:
            for embedding in EMBEDDINGS:
                value = embedding.replace("{}", payload)
                count("injection payloads tried", 1)
                try:
                    from_mapping(nested(key_path, value))
                except AnswersError as error:
                    assert any(problem.startswith(f"{key_path}: ") for problem in error.problems), error.problems
                    rejected += 1
                    continue
                if SHELL_SYNTAX.search(value):
                    assert FREE_TEXT.match(key_path), f"{key_path} accepts {value!r}"
                accepted.setdefault(payload, {}).setdefault(key_path, value)
    assert not [value for values in accepted.values() for value in values.values() if "\n" in value]
    # what validated goes into the plan (all fields with one payload at once) as whole argv items or values
    for payload, values in accepted.items():
        document: dict = {}
        for key_path, value in values.items():
            document = merge_over(document, nested(key_path, value))
        actions = plan_actions(Context(answers=from_mapping(document), host=host, state_dir=state))
        assert not [script for script in shell_scripts(actions) if payload in script], payload
        dashed = [value for value in values.values() if value.startswith("-")]
        for action in actions:
            if isinstance(action, Run):
                parts = [*action.argv, *(value for _, value in action.env)]
                assert payload not in "\0".join(parts) or any(payload in part for part in parts), (payload, action)
                # a value with a leading dash may be an environment value, never a command's argument
                assert not [part for part in action.argv for value in dashed if part.startswith(value)], action
    print(f"shell syntax refused by validation {rejected} times; accepted as data in: "
          f"{sorted({key for values in accepted.values() for key in values})}")


def test_a_bad_value_is_refused_by_the_cli_before_anything_runs(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump({"sources": {"crio": {"url": "https://github.com/cri-o/cri-o.git",
                                                            "ref": "--upload-pack=touch /tmp/x"}},
                                       "install": {"prefix": "/usr/local; rm -rf /"}}))
    result = cli("run", *sim_args(tmp_path / "state"), "--answers", str(answers), "--yes")
    assert result.returncode == 2, output_of(result)
    assert_no_traceback(result)
    assert "sources.crio.ref: bad value '--upload-pack=touch /tmp/x'" in result.stderr
    assert "install.prefix: bad value '/usr/local; rm -rf /'" in result.stderr
    assert not (tmp_path / "state" / "journal.yaml").exists()


def test_a_run_with_shell_syntax_in_its_answers_executes_none_of_it(audited_run: Audit):
    audit = audited_run
    assert audit.outputs["run"].returncode == 0, output_of(audit.outputs["run"])[-3000:]
    assert sorted(path.name for path in audit.marker_dir.iterdir()) == ["victim"], "a marker command ran"
    assert (audit.marker_dir / "victim" / "keep").exists()
    # the URLs reached the commands whole: the stand-in git keeps what it was given as the URL
    answers = yaml.safe_load(audit.answers.read_text())
    for source, directory in (("crio", "cri-o"), ("cni_plugins", "cni-plugins"), ("flannel_cni", "flannel-cni-plugin")):
        clone = json.loads((audit.state / "src" / directory / ".git" / "sim-source.json").read_text())
        assert clone["url"] == answers["sources"][source]["url"]
    # and the log's record of the download command, read back as argv, has the URL as one item
    url = answers["downloads"]["minikube"].replace("{arch}", "amd64")
    commands = [shlex.split(line[2:].split(" (cwd ")[0]) for line in
                (audit.state / "logs" / "minikube.log").read_text().splitlines() if line.startswith("$ curl ")]
    assert [argv for argv in commands if url.replace("{version}", argv[-1].split("/download/")[1].split("/")[0])
            in argv], commands


# -- plan --format sh, executed ----------------------------------------------------------------

RECORDER = """#!{python} -SE
import json, os, sys
shim_dir = {shim_dir!r}
called = sys.argv[0] if not sys.argv[0].startswith(shim_dir) else os.path.basename(sys.argv[0])
keys = [key for key in os.environ.get("CRIO_TEST_ENV_KEYS", "").split(",") if key]
entry = {{"argv": [called, *sys.argv[1:]], "env": {{key: os.environ.get(key) for key in keys}}}}
with open(os.environ["CRIO_TEST_RECORD"], "a") as record:
    record.write(json.dumps(entry) + "\\n")
real = {real!r}.get(called)
if real:
    os.execv(real, [called, *sys.argv[1:]])
"""
# what the script does itself besides the plan's commands: these do their real work (in the overlays)
FILE_TOOLS = ("mkdir", "cat", "chmod", "ln", "rm")


def expected_calls(actions: list, state: Path) -> list[tuple[list[str], Run | None]]:
    """The commands `plan --format sh` runs, in order, as the recording shims will see them (with the Run
    each one comes from)."""
    calls: list[tuple[list[str], Run | None]] = [(["mkdir", "-p", str(state)], None)]
    for action in actions:
        if isinstance(action, Run):
            if action.cwd:
                calls.append((["mkdir", "-p", action.cwd], None))
            calls.append((list(action.argv), action))
        elif isinstance(action, WriteFile):
            calls.append((["mkdir", "-p", action.path.rsplit("/", 1)[0] or "/"], None))
            if action.content.endswith("\n") and HEREDOC_END not in action.content:
                calls.append((["cat"], None))  # a heredoc; otherwise printf, a shell builtin
            calls.append((["chmod", f"{action.mode:o}", action.path], None))
        elif isinstance(action, Symlink):
            calls.append((["ln", "-sfn", action.target, action.path], None))
        else:
            assert isinstance(action, RemoveFile)
            calls.append((["rm", "-f", action.path], None))
    return calls


def test_the_plan_as_a_script_runs_exactly_the_plans_commands_and_none_of_the_payloads(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root: the script runs in a private mount namespace with overlays on /etc, /usr, /var")
    marker_dir = tmp_path / "markers"
    (marker_dir / "victim").mkdir(parents=True)
    answers_data = injected_answers(marker_dir)
    # no secrets here: the plan shows them as *** (see test_secrets)
    answers_data["proxy"] = {"http": "", "https": "", "no_proxy": "-rf,*.example.org"}
    answers_data["sources"]["conmon"]["url"] = "https://github.com/containers/conmon.git"
    answers_data["mirror"] = {"preset": "none", "git": f"https://mirror.example.org/{'$(touch$IFS' + str(marker_dir)}/m)/",
                              "go_sumdb": f"sum.golang.org https://sum.example.org/`touch$IFS{marker_dir}/s`"}
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(answers_data))
    state = tmp_path / "state"
    plan = cli("plan", *sim_args(state), "--answers", str(answers), "--format", "sh")
    assert plan.returncode == 0, output_of(plan)
    script = tmp_path / "plan.sh"
    script.write_text(plan.stdout)
    syntax = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr

    session = Session.open(Options(answers_path=str(answers), simulate="rocky9", sim_speed=0, state_dir=str(state)))
    ctx = session.context()
    actions = plan_actions(ctx)
    expected = expected_calls(actions, state)

    # every program the script calls is a recording shim, put in place of the simulated host's stand-ins (so
    # that a command with its own PATH finds it too); the file tools record and then do their work
    shim_dir = state / "sim" / "bin"
    real = {tool: shutil.which(tool, path="/usr/bin:/bin") for tool in FILE_TOOLS}
    shim = RECORDER.format(python=sys.executable, shim_dir=str(shim_dir), real=real)
    programs = {argv[0] for argv, _ in expected}
    placed = []  # shims at absolute or relative program paths (/usr/local/bin/minikube, ./build_linux.sh)
    for program in programs:
        if "/" not in program:
            (shim_dir / program).write_text(shim)
            (shim_dir / program).chmod(0o755)
    for action in actions:
        if isinstance(action, Run) and "/" in action.argv[0]:
            placed.append(str(Path(action.cwd or state) / action.argv[0]) if not action.argv[0].startswith("/")
                          else action.argv[0])
    # a program the plan links into place (kubectl -> minikube's copy) is called through the link
    placed += [os.path.normpath(os.path.join(os.path.dirname(action.path), action.target)) for action in actions
               if isinstance(action, Symlink) and action.path in placed]
    (tmp_path / "shim").write_text(shim)

    # the directories outside the temp dir that the script writes into get a throwaway overlay
    roots = {"/" + path.split("/")[1] for action in actions for path in _written_paths(action)
             if not path.startswith(str(tmp_path))}
    roots |= {"/" + path.split("/")[1] for path in placed if not path.startswith(str(tmp_path))}
    assert all(Path(root).is_dir() for root in roots), roots
    mounts = []
    for root in sorted(roots):
        upper, work = tmp_path / "upper" / root.strip("/"), tmp_path / "work" / root.strip("/")
        upper.mkdir(parents=True)
        work.mkdir(parents=True)
        mounts.append(f"mount -t overlay overlay -o lowerdir={root},upperdir={upper},workdir={work} {root}")
    # (set up with the real tools by path: the shims would record these)
    installs = [f"/bin/mkdir -p {os.path.dirname(path)} && /bin/cp {tmp_path / 'shim'} {path} && /bin/chmod 755 {path}"
                for path in placed]
    # the directories the real commands would have made before a `> FILE` of a later one (make install)
    installs += [f"/bin/mkdir -p {os.path.dirname(action.stdout_to)}" for action in actions
                 if isinstance(action, Run) and action.stdout_to]
    record = tmp_path / "record.jsonl"
    env = dict(session.host.env)
    env.update(PATH=f"{shim_dir}:{env['PATH']}", CRIO_TEST_RECORD=str(record),
               CRIO_TEST_ENV_KEYS=",".join(sorted({key for action in actions if isinstance(action, Run)
                                                   for key, _ in action.env})))
    inside = " && ".join(mounts + installs + [f"exec /bin/sh {script}"])
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", inside],
                            env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    if result.returncode != 0 and ("unshare failed" in result.stderr or result.stderr.startswith("mount:")):
        pytest.skip(f"no private mount namespace with overlays here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr[-3000:]

    calls = [json.loads(line) for line in record.read_text().splitlines()]
    assert [call["argv"] for call in calls] == [argv for argv, _ in expected]
    for call, (_, run) in zip(calls, expected):
        for key, value in run.env if run else ():
            assert call["env"][key] == value, (run.argv, key)  # one environment value, whole
    # the files the script wrote (into the overlays) are the plan's, byte for byte
    last_writes = {action.path: action for action in actions if isinstance(action, WriteFile)}
    for path, action in last_writes.items():
        written = tmp_path / "upper" / path.lstrip("/")
        assert written.read_text() == action.content, path
        assert written.stat().st_mode & 0o777 == action.mode, path
    assert sorted(path.name for path in marker_dir.iterdir()) == ["victim"], "a payload ran"
    count("injection payloads tried", len(payload_values(answers_data)))


def _written_paths(action) -> list[str]:
    if isinstance(action, Run):
        return [path for path in (action.stdout_to,) if path]
    return [action.path]


def payload_values(answers: dict) -> list[str]:
    """The answers' text values that carry shell syntax."""
    found = []
    for value in answers.values():
        if isinstance(value, dict):
            found += payload_values(value)
        elif isinstance(value, str) and re.search(r"[$`;|&'\"]", value):
            found.append(value)
    return found
