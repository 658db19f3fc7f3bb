"""The teaching texts and the UI string table: complete in English and Chinese, and looked up correctly."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from wizard import texts
from wizard.steps import STEP_CLASSES

# the recipe's order, as the wizard runs it (cni-config came after the first list of steps)
EXPECTED_STEP_IDS = [
    "host-prep", "build-deps", "go-toolchain", "crio-build", "conmon", "cni-plugins", "cni-config", "flannel-cni",
    "crio-config", "crio-service", "crictl", "root-path", "runtime-check", "minikube", "flannel",
    "cluster-check",
]
EXPECTED_TOPICS = [
    "conmon", "process-tree", "pod-id", "coredns-waits", "flannel-backends", "cni-version",
    "conflist-order", "since-2019",
]
# the journal's step statuses
STATUSES = ("pending", "running", "verified", "failed", "skipped", "interrupted", "invalidated")
CJK = re.compile(r"[\u4e00-\u9fff]")
MAX_TEXT_CHARS = 900  # what fits a terminal panel without scrolling far


def all_teaching_texts():
    """(where, language, field, text) for every field of every step and topic."""
    for kind in ("steps", "topics"):
        for name, languages in texts.explanations()[kind].items():
            for lang, fields in languages.items():
                for field, text in fields.items():
                    yield f"{kind}/{name}", lang, field, text


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_explanations_cover_every_step_in_execution_order():
    assert texts.step_ids() == EXPECTED_STEP_IDS


def test_step_modules_follow_the_same_order():
    # module names in STEP_CLASSES are the step ids with underscores
    assert [module.replace("_", "-") for module, _ in STEP_CLASSES] == EXPECTED_STEP_IDS


def test_every_topic_is_there():
    assert texts.topic_names() == EXPECTED_TOPICS


@pytest.mark.parametrize("step_id", EXPECTED_STEP_IDS)
def test_each_step_has_every_field_in_both_languages(step_id):
    entry = texts.explanations()["steps"][step_id]
    assert set(entry) == set(texts.LANGUAGES)
    for lang in texts.LANGUAGES:
        assert set(entry[lang]) == set(texts.STEP_FIELDS), (step_id, lang)
        for field in texts.STEP_FIELDS:
            assert isinstance(entry[lang][field], str) and entry[lang][field].strip(), (step_id, lang, field)


@pytest.mark.parametrize("name", EXPECTED_TOPICS)
def test_each_topic_has_title_and_text_in_both_languages(name):
    entry = texts.explanations()["topics"][name]
    assert set(entry) == set(texts.LANGUAGES)
    for lang in texts.LANGUAGES:
        assert set(entry[lang]) == set(texts.TOPIC_FIELDS), (name, lang)
        for field in texts.TOPIC_FIELDS:
            assert isinstance(entry[lang][field], str) and entry[lang][field].strip(), (name, lang, field)


def test_chinese_texts_are_chinese_and_english_texts_are_not():
    for where, lang, field, text in all_teaching_texts():
        if lang == "zh":
            assert CJK.search(text), f"{where} zh {field} has no Chinese characters"
        # the English side quotes the recipe's Chinese words only where it cites the recipe
        elif field not in ("seed", "text"):
            assert not CJK.search(text), f"{where} en {field} contains Chinese"


def test_texts_fit_a_terminal_panel():
    too_long = [(where, lang, field, len(text)) for where, lang, field, text in all_teaching_texts()
                if len(text) > MAX_TEXT_CHARS]
    assert not too_long


def test_chinese_texts_do_not_break_lines_inside_sentences():
    # a folded scalar would put spaces between Chinese characters; paragraphs are whole lines
    for where, lang, field, text in all_teaching_texts():
        if lang == "zh":
            assert not re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", text), (where, field)


@pytest.mark.parametrize("step_id, field, needles", [
    ("build-deps", "seed", ["yum install -y", "device-mapper-devel"]),
    ("build-deps", "changed", ["1.33", "CRB", "exclude_graphdriver_btrfs"]),
    ("cni-plugins", "seed", ["git checkout v0.8.1", "./build_linux.sh"]),
    ("cni-plugins", "changed", ["GO111MODULE=off"]),
    ("cni-config", "changed", ["CNI_COMMAND=VERSION", "supportedVersions"]),
    ("flannel-cni", "changed", ["flannel-io/cni-plugin", "v1.0.0"]),
    ("crio-config", "changed", ["02-crio.conf", "policy.json"]),
    ("crio-service", "seed", ["crio-status"]),
    ("crio-service", "changed", ["crio status"]),
    ("crictl", "seed", ["go get github.com/kubernetes-sigs/cri-tools/cmd/crictl"]),
    ("crictl", "changed", ["'go get' is no longer supported outside a module", "go install", "v1"]),
    ("root-path", "changed", ["secure_path", "sudo: crictl: command not found"]),
    ("minikube", "seed", ["--vm-driver=none"]),
    ("minikube", "changed", ["--driver=none", "unknown flag: --network-plugin"]),
    ("flannel", "changed", ["PodSecurityPolicy", "--cni=flannel", "kubeadm.pod-network-cidr"]),
    ("cluster-check", "changed", ["sandboxID"]),
])
def test_texts_carry_the_recipe_commands_and_the_changes_in_both_languages(step_id, field, needles):
    for lang in texts.LANGUAGES:
        text = texts.explanation(step_id, lang)[field]
        for needle in needles:
            assert needle in text, (step_id, lang, field, needle)


def test_the_cni_version_topic_quotes_the_recipes_error_and_the_version_probe():
    for lang in texts.LANGUAGES:
        text = texts.topic("cni-version", lang)["text"]
        assert 'cannot convert version ["" "0.1.0" "0.2.0"] to 0.4.0' in text
        assert "CNI_COMMAND=VERSION" in text


def test_every_ui_key_exists_in_both_languages_with_the_same_placeholders():
    table = texts.strings()
    assert set(table) == set(texts.LANGUAGES)
    assert set(table["en"]) == set(table["zh"]), set(table["en"]) ^ set(table["zh"])
    for key, english in table["en"].items():
        chinese = table["zh"][key]
        assert english.strip() and chinese.strip(), key
        assert placeholders(english) == placeholders(chinese), key


@pytest.mark.parametrize("key, chinese", [
    ("status.pending", "待执行"), ("status.running", "运行中"), ("status.verified", "已验证"),
    ("status.failed", "失败"), ("status.skipped", "已跳过"), ("status.interrupted", "已中断"),
    ("status.invalidated", "需重新执行"),
])
def test_statuses_use_the_agreed_chinese_words(key, chinese):
    assert texts.t(key, "zh") == chinese


def test_the_table_has_what_the_screens_need():
    keys = set(texts.strings()["en"])
    needed = {f"status.{status}" for status in STATUSES}
    needed |= {f"key.{name}" for name in ("run", "continue", "retry", "fix", "skip", "explain", "log", "quit", "help")}
    needed |= {f"screen.{name}" for name in ("welcome", "choices", "plan_review", "steps", "failure", "summary",
                                               "help", "resume")}
    needed |= {f"preflight.{name}" for name in ("pass", "warn", "fail", "waived")}
    needed |= {"prompt.resume_at", "prompt.skip_step", "prompt.apply_fix", "progress.elapsed",
               "progress.last_output", "progress.estimate_left", "progress.estimate_unknown", "simulated.label",
               "summary.crictl", "summary.kubectl", "summary.ps_forest", "help.learn_mode", "help.resume",
               "help.plain_mode", "help.serve"}
    assert needed <= keys, needed - keys


def test_t_formats_placeholders():
    assert texts.t("prompt.resume_at", step="crio-build") == "Resume at step crio-build?"
    assert texts.t("prompt.resume_at", "zh", step="crio-build") == "从步骤 crio-build 继续吗？"
    assert texts.t("simulated.label", profile="rocky9") == (
        "SIMULATED HOST: rocky9 - nothing on this machine is changed")
    assert texts.t("progress.elapsed", "zh", elapsed="1m 05s") == "已用时 1m 05s"


def test_t_does_not_reinterpret_braces_in_values():
    assert texts.t("failure.reason", reason="{step} and {} stay as they are") == (
        "Why: {step} and {} stay as they are")


def test_t_leaves_a_placeholder_without_value_visible():
    assert texts.t("prompt.resume_at") == "Resume at step {step}?"


def test_t_falls_back_to_english_then_to_the_key(monkeypatch):
    table = {"en": {"only.english": "Hello {name}"}, "zh": {}}
    monkeypatch.setattr(texts, "strings", lambda: table)
    assert texts.t("only.english", "zh", name="世界") == "Hello 世界"
    assert texts.t("only.english", "fr", name="monde") == "Hello monde"
    assert texts.t("no.such.key", "zh") == "no.such.key"


def test_explanation_in_chinese_and_fallback_to_english():
    chinese = texts.explanation("crio-build", "zh")
    assert chinese["title"] == "从源码构建 CRI-O"
    assert texts.explanation("crio-build", "fr") == texts.explanation("crio-build", "en")
    assert texts.explanation("crio-build")["title"] == "Build CRI-O from source"


def test_explanation_returns_a_copy():
    texts.explanation("conmon", "en")["title"] = "changed by a caller"
    assert texts.explanation("conmon", "en")["title"] == "Build conmon"


def test_unknown_step_or_topic_is_a_key_error():
    with pytest.raises(KeyError, match="no-such-step"):
        texts.explanation("no-such-step", "en")
    with pytest.raises(KeyError, match="no-such-topic"):
        texts.topic("no-such-topic", "zh")


@pytest.mark.parametrize("environ, expected", [
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_TW.UTF-8"}, "zh"),
    ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "C.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({"LANG": "C"}, "en"),
    ({}, "en"),
    # LC_ALL overrides the rest, as for every other program
    ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
    # an empty variable does not count
    ({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh"),
])
def test_detect_lang(environ, expected):
    assert texts.detect_lang(environ) == expected


def test_texts_module_imports_no_textual():
    code = ("import sys, wizard.texts\n"
            "wizard.texts.t('status.verified', 'zh'); wizard.texts.explanation('flannel', 'zh')\n"
            "assert not [n for n in sys.modules if n.split('.')[0] == 'textual'], 'textual imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
