"""Bad input: any YAML, any types, unknown keys, wrong versions, bad or overlapping CIDRs, URLs without a scheme,
paths that climb out, huge values and bytes that are not UTF-8 are refused with one line per problem naming the
key path (exit 2), never a traceback and never a partial run; whatever is accepted can be planned. A corrupt
journal or backup manifest is named with the way forward."""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.harness import (
    assert_no_traceback, cli, count, file_state, make_sandbox, output_of, sim_args,
)
from wizard import answers as answers_module
from wizard.answers import AnswersError, from_mapping, load
from wizard.assets import asset_path
from wizard.journal import Journal, JournalCorrupt
from wizard.plan_output import render_sh, render_text
from wizard.simulate.sandbox import prepare
from wizard.steps import steps_in_scope
from wizard.steps.base import Context

EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@functools.lru_cache(maxsize=1)
def schema_fields() -> dict[str, dict]:
    """Every leaf of the answers schema by dotted key path, with $refs resolved (pause_image: its image form)."""
    schema = yaml.safe_load(asset_path("answers.schema.yaml").read_text())

    def resolve(node: dict) -> dict:
        if "$ref" in node:
            return resolve(schema["$defs"][node["$ref"].rsplit("/", 1)[-1]])
        if "anyOf" in node:
            return resolve(next(choice for choice in node["anyOf"] if "const" not in choice))
        return node

    fields: dict[str, dict] = {}

    def walk(node: dict, prefix: str) -> None:
        for key, child in node.get("properties", {}).items():
            child = resolve(child)
            if child.get("type") == "object" and "properties" in child:
                walk(child, f"{prefix}{key}.")
            else:
                fields[f"{prefix}{key}"] = child

    walk(schema, "")
    return fields


def nested(key_path: str, value) -> dict:
    """{"a": {"b": value}} for "a.b"."""
    document = value
    for part in reversed(key_path.split(".")):
        document = {part: document}
    return document


# -- documents of every shape ------------------------------------------------------------------

NASTY_TEXT = ["", " ", "\n", "\x00", "\x1b[31mred", "a\nb", "-rf", "--help", "$(touch /tmp/x)", "`id`", "; rm -rf /",
              "'\"", "{}", "{version}", "{0}", "%s", "../../etc", "/../../../etc/shadow", "x" * 5000, "😀", "\u200b",
              "\ud7ff", "1.35", "v1.35", "runtime ", "RUNTIME"]
BAD_CIDRS = ["10.0.0.0/33", "10.96.0.0/12", "10.96.5.0/24", "10.0.0.0/8", "10.233.64.1/18", "10.233.64.0/25",
             "fe80::/64", "::/0", "10.233.64.0", "10.233.64.0/-1", "300.0.0.0/8", "10.233.64.0/18/1", "ten"]
SCHEMELESS_URLS = ["github.com/cri-o/cri-o.git", "//github.com/x", "ftp://example.org/x", "proxy:3128",
                   "http//proxy:3128", "http://", "https:///path", "http://:3128", "git@github.com:x/y.git"]
WRONG_VERSIONS = ["1.99", "2.0", "1.0", "1.350", "v1.35", "1.35.1", "latest", "1.", "01.35"]

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2 ** 80), max_value=2 ** 80)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30) | st.sampled_from(NASTY_TEXT)
           | st.binary(max_size=8) | st.dates() | st.just(10 ** 300) | st.just(2 ** 5000))
any_value = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                         | st.dictionaries(st.text(max_size=8) | st.sampled_from(["url", "ref", "preset"]),
                                           children, max_size=4), max_leaves=12)


@st.composite
def field_values(draw) -> tuple[str, object]:
    """A schema field and a value for it: anything, or something nearly right."""
    key_path = draw(st.sampled_from(sorted(schema_fields())))
    leaf = key_path.rsplit(".", 1)[-1]
    targeted = {"pod_cidr": BAD_CIDRS, "kubernetes": WRONG_VERSIONS, "prefix": ["/usr/../../etc", "/..", "usr"],
                "workdir": ["/tmp/../..", "relative/dir", "/a/./../b"]}.get(leaf, SCHEMELESS_URLS)
    return key_path, draw(st.sampled_from(targeted) | any_value)


@st.composite
def documents(draw) -> object:
    if draw(st.integers(0, 9)) == 0:
        return draw(any_value)  # not even a mapping, most likely
    document: dict = {}
    for key_path, value in draw(st.lists(field_values(), max_size=4)):
        document = answers_module.merge_over(document, nested(key_path, value))
    extra = draw(st.dictionaries(st.text(max_size=12) | st.integers() | st.none(), any_value, max_size=2))
    document.update(extra)
    return document


def assert_problem_lines(problems: list[str], document: object, source: str = "answers") -> None:
    """One line each, printable, starting with a key path the user wrote (or the file itself)."""
    assert problems
    user_keys = {answers_module._key_text(key) for key in document} if isinstance(document, dict) else set()
    user_keys |= {answers_module._describe(key) for key in document} if isinstance(document, dict) else set()
    for problem in problems:
        assert "\n" not in problem and problem.isprintable(), repr(problem)
        assert len(problem) < 400, problem
        where, _, what = problem.partition(": ")
        assert what, problem
        assert where in (source, "(top level)") or any(where == key or where.startswith(key + ".")
                                                       for key in user_keys), (problem, document)
        if what.startswith("bad value "):
            assert len(what) > len("bad value "), problem


@EXAMPLES
@given(document=documents())
def test_any_document_is_accepted_or_refused_with_one_line_per_problem(document, figures):
    count("inputs tried", 1)
    try:
        from_mapping(document)
    except AnswersError as error:
        assert_problem_lines(error.problems, document)


@pytest.mark.parametrize("key_path, value, expected", [
    ("pod_cidr", "10.96.0.0/16", "overlaps the service network"),
    ("pod_cidr", "10.0.0.0/33", "pod_cidr: bad value '10.0.0.0/33'"),
    ("pod_cidr", "10.233.64.1/18", "has host bits set"),
    ("kubernetes", "1.99", "the pinning table knows"),
    ("kubernetes", 1.35, "kubernetes: bad value 1.35: must be string"),
    ("proxy.http", "proxy:3128", "proxy.http: bad value 'proxy:3128'"),
    ("sources.crio.url", "github.com/cri-o/cri-o.git", "sources.crio.url: bad value"),
    ("install.prefix", "/usr/../../../etc", "must not climb out with '..'"),
    ("workdir", "/var/tmp/../../root", "must not climb out with '..'"),
    ("sources.crio.url", "https://github.com/cri-o/cri-o.git\x00", "contains control or invisible characters"),
    ("flannel", {"backend\n\x1b[2J": "vxlan"}, "flannel.'backend\\n\\x1b[2J': unknown key"),
    ("scope", "x" * 1_000_000, "scope: bad value 'xxxxxxxxx"),
])
def test_each_kind_of_mistake_is_named_with_its_key_path(key_path, value, expected):
    with pytest.raises(AnswersError) as refused:
        from_mapping(nested(key_path, value))
    assert any(expected in problem for problem in refused.value.problems), refused.value.problems
    assert_problem_lines(refused.value.problems, nested(key_path, value))


# -- answers files as bytes --------------------------------------------------------------------

yaml_texts = (
    st.binary(max_size=200)
    | st.builds(lambda document, cut: yaml.safe_dump(document)[:cut], any_value, st.integers(0, 400))
    | st.lists(st.sampled_from(["scope: runtime", "pod_cidr: [", "a: &x [1]", "b: *x", "c: *missing", "\t- x",
                                "!!python/object/apply:os.system ['id']", "kubernetes: !!binary AAAA", "---",
                                "...", "? [a, b]\n: c", "proxy: {http: 'http://u:p@h:1'}", "\ufeffscope: cluster",
                                "d: 0x" + "F" * 2000, "e: 1e999", "f: 2001-02-30", "%YAML 9.9"]),
               max_size=6).map("\n".join).map(str.encode)
)


@EXAMPLES
@given(content=yaml_texts)
def test_any_file_is_accepted_or_refused_with_one_line_per_problem(content, tmp_path, figures):
    count("inputs tried", 1)
    path = tmp_path / "answers.yaml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    try:
        load(path)
    except AnswersError as error:
        document = _document_or_none(path)
        for problem in error.problems:
            assert "\n" not in problem and problem.isprintable(), repr(problem)
        if not isinstance(document, dict):
            assert all(problem.startswith(str(path)) for problem in error.problems), error.problems
        else:
            assert_problem_lines(error.problems, document, source=str(path))


def _document_or_none(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError):
        return None


# -- whatever validates can be planned ---------------------------------------------------------

# text as people type it (control characters are refused anyway: see the mistakes above)
PRINTABLE = st.characters(min_codepoint=32, max_codepoint=0x2FFF,
                          exclude_categories=("Cc", "Cs", "Cf", "Zl", "Zp", "Co", "Cn"))


# values a pattern lets through that trip up string handling: braces (str.format), quotes, shell syntax
TRICKY_TEXT = ["https://example.org/{x}/file", "https://example.org/{version}/{arch}/{0}/%s/{", "file:///srv/{}",
               "https://example.org/a'b\"c", "https://example.org/$(id)/`id`/;x&y|z", "https://example.org/-rf",
               "http://user:p%40ss@proxy.example.org:3128", "https://example.org/\\n", "direct,off|https://a/{b}",
               "sum.golang.org https://example.org/{x}", "-rf,*,.example.org", "/opt/{x}", "registry.example.org"]


@st.composite
def valid_looking_documents(draw) -> dict:
    """Values drawn from each field's own pattern or enum, so that many documents validate."""
    document: dict = {}
    fields = schema_fields()
    for key_path in draw(st.lists(st.sampled_from(sorted(fields)), max_size=6, unique=True)):
        field = fields[key_path]
        if "enum" in field:
            value = draw(st.sampled_from(field["enum"]))
        elif "pattern" in field:
            tricky = [text for text in TRICKY_TEXT if re.search(field["pattern"], text)]
            value = draw(st.from_regex(field["pattern"], fullmatch=True, alphabet=PRINTABLE).filter(
                lambda text, limit=field.get("maxLength", 4096): len(text) <= limit)
                | st.sampled_from(tricky or [""]))
        elif key_path == "pod_cidr":
            value = draw(st.sampled_from(["10.233.64.0/18", "10.244.0.0/16", "192.168.0.0/20", "172.16.0.0/12"]))
        else:
            continue
        document = answers_module.merge_over(document, nested(key_path, value))
    return document


@pytest.fixture(scope="module")
def plan_host(tmp_path_factory):
    state = tmp_path_factory.mktemp("plan") / "state"
    return prepare("rocky9", state, speed=0), state


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(document=valid_looking_documents())
def test_whatever_validates_can_be_planned_as_text_and_as_a_script(document, plan_host, figures):
    count("inputs tried", 1)
    host, state = plan_host
    try:
        answers = from_mapping(document)
    except AnswersError as error:
        assert_problem_lines(error.problems, document)
        return
    ctx = Context(answers=answers, host=host, state_dir=state)
    steps = steps_in_scope(ctx)
    render_text(ctx, steps)
    script = render_sh(ctx, steps)
    syntax = subprocess.run(["sh", "-n"], input=script, text=True, capture_output=True)
    assert syntax.returncode == 0, syntax.stderr


# -- through the CLI ---------------------------------------------------------------------------

ALIAS_BOMB = "\n".join([f"l0: &l0 [{', '.join(['x'] * 9)}]"]
                       + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]
                       + [f"scope: [{', '.join(['*l8'] * 9)}]"]) + "\n"
BAD_FILES = {
    "not-utf8": (b"scope: \xff\xfe runtime\n", "cannot read"),
    "alias-bomb": (ALIAS_BOMB.encode(), "scope: bad value: more than"),
    "deep": (b"scope: " + b"[" * 3000 + b"]" * 3000 + b"\n", "more than 1000 '[' and '{'"),
    "deep-block": ("\n".join(" " * depth + "k:" for depth in range(355)).encode() + b" 1\n",
                   "k: bad value: nested more than 20 levels deep"),
    "nested": (b"scope: " + b"[" * 100 + b"]" * 100 + b"\n", "scope: bad value: nested more than"),
    "long-integer": (b"kubernetes: " + b"9" * 5000 + b"\n", "not valid YAML"),
    "hex-integer": (b"kubernetes: 0x" + b"F" * 3000 + b"\n", "kubernetes: bad value: an integer of more than"),
    "too-large": (b"scope: runtime\n# " + b"x" * (2 << 20) + b"\n", "larger than"),
    "python-object": (b"scope: !!python/object/apply:os.system ['touch MARKER']\n", "not valid YAML"),
    "overlap": (b"pod_cidr: 10.96.0.0/16\n", "pod_cidr: bad value '10.96.0.0/16': overlaps the service network"),
    "schemeless": (b"proxy: {http: 'proxy.example.org:3128'}\n", "proxy.http: bad value 'proxy.example.org:3128'"),
    "escape": (b"install: {prefix: /usr/local/../../..}\n", "install.prefix: bad value '/usr/local/../../..'"),
    "version": (b"kubernetes: '1.99'\n", "kubernetes: bad value '1.99'"),
    "types": (b"scope: 7\nflannel: [vxlan]\nsources: {crio: {url: null}}\n", "sources.crio.url: bad value None"),
    "unknown": (b"sope: runtime\n", "sope: unknown key"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_validate_refuses_each_bad_file_in_one_line_per_problem(name, tmp_path, figures):
    content, expected = BAD_FILES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(content)
    result = cli("validate", str(path), timeout=30)
    count("inputs tried", 1)
    assert result.returncode == 2, output_of(result)[-2000:]
    assert_no_traceback(result)
    assert expected in result.stdout, result.stdout[-2000:]
    for line in result.stdout.splitlines():
        assert line.startswith(f"{path}: ") and len(line) < 600, line
    assert not (tmp_path / "MARKER").exists() and not Path("MARKER").exists()


@pytest.mark.parametrize("name", ["alias-bomb", "escape", "overlap", "not-utf8", "python-object"])
def test_run_with_a_bad_file_changes_nothing(name, tmp_path, figures):
    state = tmp_path / "state"
    root = make_sandbox(state)
    before = {path: file_state(path) for path in sorted(state.rglob("*"))}
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(BAD_FILES[name][0])
    for command in (["run", "--yes"], ["plan"]):
        result = cli(*command, *sim_args(state), "--answers", str(path), timeout=30)
        count("inputs tried", 1)
        assert result.returncode == 2, output_of(result)[-2000:]
        assert_no_traceback(result)
        assert BAD_FILES[name][1] in result.stderr
    assert not (state / "journal.yaml").exists()
    assert {path: file_state(path) for path in sorted(state.rglob("*"))} == before, "the state dir or sandbox changed"
    assert root.exists()


# -- a corrupt journal or backup manifest ------------------------------------------------------

def realistic_journal(state: Path) -> bytes:
    journal = Journal.load(state)
    journal.meta.update({"simulated": "rocky9", "answers": None, "scope": "runtime"})
    journal.mark("host-prep", "running", log_path=str(state / "logs/host-prep.log"))
    journal.mark("host-prep", "verified")
    journal.mark("build-deps", "running")
    journal.mark("build-deps", "failed", message="$ dnf -y install 'gpgme-devel' exited with 1 — «é»", exit_code=1)
    journal.mark("go-toolchain", "skipped", message="skipped by the user")
    journal.mark("crio-build", "running")
    journal.mark("crio-build", "interrupted", message="interrupted at: $ make -C /x bin/crio")
    return (state / "journal.yaml").read_bytes()


@pytest.fixture(scope="module")
def good_journal(tmp_path_factory) -> bytes:
    return realistic_journal(tmp_path_factory.mktemp("journal"))


@EXAMPLES
@given(data=st.data())
def test_a_damaged_journal_loads_or_is_named_corrupt(data, good_journal, tmp_path, figures):
    count("inputs tried", 1)
    state, good = tmp_path, good_journal
    cut = data.draw(st.integers(0, len(good)))
    damaged = bytearray(good[:cut])
    for _ in range(data.draw(st.integers(0, 3))):
        if damaged:
            at = data.draw(st.integers(0, len(damaged) - 1))
            damaged[at] = data.draw(st.integers(0, 255))
    (state / "journal.yaml").write_bytes(bytes(damaged))
    try:
        journal = Journal.load(state)
    except JournalCorrupt as error:
        assert "reset --journal-only" in str(error) and str(state / "journal.yaml") in str(error)
    else:
        journal.first_unverified(["host-prep", "build-deps", "crio-build"])


def test_a_truncated_journal_is_named_and_reset_journal_only_is_the_way_forward(tmp_path):
    state = tmp_path / "state"
    make_sandbox(state)
    good = realistic_journal(state)
    (state / "journal.yaml").write_bytes(good[: len(good) * 2 // 3])
    for command in (["status"], ["run", "--yes"]):
        result = cli(*command, *sim_args(state))
        assert result.returncode == 2, output_of(result)[-2000:]
        assert_no_traceback(result)
        assert "journal.yaml" in result.stderr and "reset --journal-only" in result.stderr
    assert (state / "journal.yaml").read_bytes() == good[: len(good) * 2 // 3], "a refused run changed the journal"
    forgot = cli("reset", *sim_args(state), "--journal-only")
    assert forgot.returncode == 0 and "forgot the journal" in forgot.stdout, output_of(forgot)
    status = cli("status", *sim_args(state))
    assert status.returncode == 1 and "pending" in status.stdout, output_of(status)


def test_a_corrupt_backup_manifest_stops_run_and_reset_with_a_clear_message(tmp_path):
    state = tmp_path / "state"
    make_sandbox(state)
    (state / "backups").mkdir()
    (state / "backups" / "manifest.yaml").write_text("entries: [{path: /etc/crictl.yaml, kind: file\n")
    for command in (["run", "--yes"], ["reset", "--yes"]):
        result = cli(*command, *sim_args(state))
        assert result.returncode == 2, output_of(result)[-2000:]
        assert_no_traceback(result)
        assert "manifest.yaml: not valid YAML" in result.stderr and "backups/files" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
