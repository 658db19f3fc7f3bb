"""The known-error catalogue against real captured outputs: every entry matches its sample, fixes per distro."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from wizard import answers as answers_module
from wizard import catalogue
from wizard.actions import RemoveFile, Run, Symlink, WriteFile
from wizard.steps import STEP_CLASSES

from tests.simhost import sim_context

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

SAMPLES = Path(__file__).resolve().parent / "samples"
# the shared captures these copies came from (present in a full checkout of the project's workspace)
SHARED_SAMPLES = Path(__file__).resolve().parents[2] / "shared/samples"

# entry id -> real outputs that must be recognised as that entry: sample files (captured on Debian 12) or,
# where no capture exists, the message quoted verbatim from upstream reports and the recipe
EXAMPLES: dict[str, list[str]] = {
    "cni-version-convert": [
        "file:crio-log-cni-unsupported-version.txt",
        "file:cni-bridge-add-error-version-1.2.0.json",
        'cannot convert version ["" "0.1.0" "0.2.0"] to 0.4.0',  # the recipe's own message
    ],
    "cni-conflist-shadowed": [
        'plugin type="bridge" failed (add): failed to set bridge addr: "cni0" already has an IP address '
        "different from 10.244.0.1/24",
        'level=info msg="Found CNI network crio (type=bridge) at /etc/cni/net.d/10-crio-bridge.conflist"',
        "[FAIL] coredns pod IPs inside FLANNEL_SUBNET 10.233.64.0/24: 10.85.0.3",
        "[FAIL] CRI-O uses 10-flannel.conflist (the first file in /etc/cni/net.d): "
        "/etc/cni/net.d/05-lab.conflist shadows 10-flannel.conflist: remove it",
    ],
    "crio-02-conf-missing": ["sed: can't read /etc/crio/crio.conf.d/02-crio.conf: No such file or directory"],
    "sudo-path": ["sudo: crictl: command not found"],
    "conntrack-missing": [
        "X Exiting due to GUEST_MISSING_CONNTRACK: Sorry, Kubernetes 1.35.1 requires conntrack to be "
        "installed in root's path",
    ],
    "crun-not-found": [
        'level=fatal msg="validating runtime config: runtime validation: \\"crun\\" not found in $PATH: '
        'exec: \\"crun\\": executable file not found in $PATH"',
    ],
    "crun-too-old": [
        "file:crictl-create-error-crun-unknown-version.txt",
        "file:crio-log-error-crun-unknown-version.txt",
    ],
    "conmon-path": [
        'level=fatal msg="validating runtime config: conmon validation: invalid conmon path: '
        'stat /usr/libexec/crio/conmon: no such file or directory"',
    ],
    "policy-json-missing": ["open /etc/containers/policy.json: no such file or directory"],
    "conmon-cgroup": ["level=fatal msg=\"validating runtime config: conmon cgroup should be 'pod' or a systemd slice\""],
    "systemd-not-slice": ["file:crictl-runp-error-systemd-not-slice.txt"],
    "systemd-private": ["file:crictl-create-error-systemd-private.txt"],
    "oom-score-adj": [
        "file:crictl-runp-error-oom-score-adj.txt",
        "file:crio-log-error-oom-score-adj-debian-runc.txt",
    ],
    "network-plugin-flag": ["Error: failed to parse kubelet flag: unknown flag: --network-plugin"],
    "psp-manifest": [
        'error: resource mapping not found for name: "psp.flannel.unprivileged" namespace: "" from '
        '"kube-flannel.yml": no matches for kind "PodSecurityPolicy" in version "policy/v1beta1"',
    ],
    "pod-cidr-not-assigned": [
        'E1126 21:59:06.000000       1 main.go:335] Error registering network: failed to acquire lease: '
        'node "minikube" pod cidr not assigned',
    ],
    "gpgme-missing": ["file:crio-make-error-gpgme-missing.txt", "file:pkg-config-error-gpgme-missing.txt"],
    "glib-missing": [
        "Package glib-2.0 was not found in the pkg-config search path.\n"
        "Perhaps you should add the directory containing `glib-2.0.pc'",
    ],
    "go-too-old": ["go: go.mod requires go >= 1.25.0 (running go 1.22.9; GOTOOLCHAIN=local)"],
    "go-get-module": [
        "go: go.mod file not found in current directory or any parent directory.\n"
        "\t'go get' is no longer supported outside a module.\n"
        "\tTo build and install a command, use 'go install' with a version,",
    ],
    "go-mod-missing": ["go: go.mod file not found in current directory or any parent directory; see 'go help modules'"],
    "go-too-new-http2": ["file:crio-make-error-go1.27-http2.txt"],
    "dnf-no-match": ["No match for argument: gpgme-devel\nError: Unable to find a match: gpgme-devel"],
    "apt-unable-to-locate": ["file:apt-get-install-s-missing.txt"],
    "crio-socket-missing": ["file:crictl-version-error-crio-stopped.txt"],
    "image-short-name": [
        'short-name "busybox" did not resolve to an alias and no unqualified-search registries are defined '
        'in "/etc/containers/registries.conf"',
    ],
    "registry-offline": ["file:crictl-pull-error-offline.txt", "file:crictl-runp-error-stock-pause-pull.txt"],
    "unknown-service-runtime": [
        'level=fatal msg="validate service connection: rpc error: code = Unimplemented desc = unknown service '
        'runtime.v1.RuntimeService"',
    ],
    "cgroup-v1-kube135": [
        'E1126 22:10:01.000000    4321 run.go:72] "command failed" err="kubelet is configured to not run on a '
        'host using cgroup v1. cgroup v1 support is in maintenance mode"',
    ],
    "coredns-waiting": [
        "coredns-668d6bf9bc-4xk2p               0/1     ContainerCreating   0          45s",
        "error: timed out waiting for the condition on pods/coredns-668d6bf9bc-4xk2p",
        "file:crictl-runp-error-no-cni-config.txt",
    ],
    "command-timeout": ["[timed out after 600s: killed]"],
    "flannel-plugin-missing": [
        'plugin type="flannel" failed (add): failed to find plugin "flannel" in path [/opt/cni/bin]',
    ],
    "portmap-missing": ['plugin type="portmap" failed (add): failed to find plugin "portmap" in path [/opt/cni/bin]'],
    "netns-busy": ["file:crictl-stopp-error-netns-busy.txt"],
}
CLEAN_LOGS = ["crio-make-bin-crio-pinns.txt", "conmon-make.txt"]
BRIEF_ORDER = list(EXAMPLES)
STEP_IDS = {module.replace("_", "-") for module, _ in STEP_CLASSES}
# upstream documentation and issue trackers the links may point to
DOC_HOSTS = {"github.com", "kubernetes.io", "minikube.sigs.k8s.io", "go.dev", "man7.org", "manpages.debian.org",
             "wiki.debian.org", "wiki.rockylinux.org", "docs.fedoraproject.org", "www.cni.dev", "www.sudo.ws"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def example_lines(example: str) -> list[str]:
    if example.startswith("file:"):
        return (SAMPLES / example.removeprefix("file:")).read_text(encoding="utf-8").splitlines()
    return example.splitlines()


def example_text(entry_id: str, number: int = 0) -> str:
    return "\n".join(example_lines(EXAMPLES[entry_id][number]))


def entry(entry_id: str) -> catalogue.KnownError:
    return next(item for item in catalogue.load() if item.id == entry_id)


def match_one(entry_id: str, text: str) -> catalogue.Match:
    found = [m for m in catalogue.match(None, text.splitlines()) if m.entry.id == entry_id]
    assert found, f"{entry_id} does not match {text!r}"
    return found[0]


# -- the catalogue as data ---------------------------------------------------------------------------

def test_entries_are_in_the_agreed_order_with_the_recipe_first():
    assert [item.id for item in catalogue.load()] == BRIEF_ORDER
    assert catalogue.load()[0].id == "cni-version-convert"


def test_every_entry_has_english_and_chinese_texts():
    for item in catalogue.load():
        for field in ("title", "explanation"):
            english, chinese = item.text(field, "en"), item.text(field, "zh")
            assert english.strip() and not CJK.search(english), (item.id, field)
            assert CJK.search(chinese), (item.id, field, chinese)
        if item.fix:
            assert item.text("fix", "en").strip() and CJK.search(item.text("fix", "zh")), item.id


def test_text_falls_back_to_english():
    item = catalogue.load()[0]
    assert item.text("title", "fr") == item.text("title", "en")


def test_steps_name_real_steps_and_links_point_at_upstream_docs():
    for item in catalogue.load():
        assert set(item.steps) <= STEP_IDS | {"any"}, item.id
        for link in item.links:
            assert urlsplit(link).hostname in DOC_HOSTS, (item.id, link)


def test_answer_fixes_produce_valid_answers():
    """Every answer a fix changes must still validate, so the retry can plan with it."""
    for item in catalogue.load():
        for action in (item.fix or {}).get("actions", []):
            for dotted, value in action.get("answer", {}).items():
                override: dict = {}
                node = override
                *parents, last = dotted.split(".")
                for part in parents:
                    node = node.setdefault(part, {})
                node[last] = value
                answers_module.from_mapping(override)


# -- matching real outputs ---------------------------------------------------------------------------

def test_every_entry_has_an_example():
    assert set(EXAMPLES) == {item.id for item in catalogue.load()}


@pytest.mark.parametrize("entry_id", list(EXAMPLES))
def test_entry_recognises_its_real_outputs_first(entry_id):
    item = entry(entry_id)
    steps = [step for step in item.steps if step != "any"] or ["crio-build"]
    for example in EXAMPLES[entry_id]:
        lines = example_lines(example)
        matches = catalogue.match(None, lines)
        assert matches and matches[0].entry.id == entry_id, (example, [m.entry.id for m in matches])
        for step in steps:
            assert catalogue.match(step, lines)[0].entry.id == entry_id, (example, step)


@pytest.mark.parametrize("log_name", CLEAN_LOGS)
def test_clean_build_logs_match_nothing(log_name):
    assert catalogue.match(None, (SAMPLES / log_name).read_text().splitlines()) == []


def test_step_scoping_keeps_other_steps_entries_out():
    lines = ["sudo: crictl: command not found", "Package glib-2.0 was not found in the pkg-config search path."]
    assert [m.entry.id for m in catalogue.match("conmon", lines)] == ["glib-missing"]
    assert [m.entry.id for m in catalogue.match("root-path", lines)] == ["sudo-path"]
    assert [m.entry.id for m in catalogue.match(None, lines)] == ["sudo-path", "glib-missing"]


def test_one_match_per_entry_with_its_first_line_and_groups():
    lines = ["E: Unable to locate package libgpgme-dev", "E: Unable to locate package conntrack"]
    matches = catalogue.match("build-deps", lines)
    assert len(matches) == 1
    assert matches[0].line == lines[0] and matches[0].groups == ("libgpgme-dev",)


def test_sample_copies_equal_the_shared_captures():
    if not SHARED_SAMPLES.is_dir():
        pytest.skip(f"the shared captures are not beside this checkout ({SHARED_SAMPLES})")
    for copy in SAMPLES.glob("*.*"):
        if copy.name != "README.md":
            assert copy.read_bytes() == (SHARED_SAMPLES / copy.name).read_bytes(), copy.name


# -- fixes ---------------------------------------------------------------------------------------------

BAD_FLANNEL_CONFLIST = {
    "name": "cbr0",
    "cniVersion": "1.2.0",
    "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ],
}


def write_host_file(ctx, host_path: str, content: str) -> None:
    target = ctx.host.path(host_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)


def test_cni_version_fix_writes_a_valid_conflist(tmp_path):
    ctx = sim_context(tmp_path, "debian12")
    write_host_file(ctx, "/etc/cni/net.d/10-flannel.conflist", json.dumps(BAD_FLANNEL_CONFLIST))
    actions, answer_updates = catalogue.fix_plan(match_one("cni-version-convert", EXAMPLES["cni-version-convert"][2]),
                                                 ctx)
    assert answer_updates == {}
    assert len(actions) == 1 and isinstance(actions[0], WriteFile)
    assert actions[0].path == "/etc/cni/net.d/10-flannel.conflist"
    written = json.loads(actions[0].content)
    assert written == {**BAD_FLANNEL_CONFLIST, "cniVersion": "0.3.1"}
    portmap = Path("/usr/lib/cni/portmap")
    if not portmap.exists():
        pytest.skip("Debian's containernetworking-plugins is not installed: the plugin check cannot run")
    # the real plugin must accept the version the fix writes (and reject the one it replaces)
    supported = plugin_versions(portmap, written)
    assert "0.3.1" in supported and "1.2.0" not in supported


def plugin_versions(plugin: Path, conflist: dict) -> list[str]:
    done = subprocess.run([str(plugin)], input=json.dumps({**conflist["plugins"][1], "cniVersion": "0.3.1"}),
                          env={"CNI_COMMAND": "VERSION", "PATH": os.environ.get("PATH", "")},
                          capture_output=True, text=True, timeout=10, check=True)
    return json.loads(done.stdout)["supportedVersions"]


def test_cni_version_fix_edits_the_file_crio_named(tmp_path):
    ctx = sim_context(tmp_path, "rocky9")
    bad = {"cniVersion": "9.9.9", "name": "bad", "plugins": [{"type": "bridge", "bridge": "cnibad0"}]}
    write_host_file(ctx, "/etc/cni/net.d/05-bad.conflist", json.dumps(bad))
    crio_line = (SAMPLES / "crio-log-cni-unsupported-version.txt").read_text().splitlines()
    found = catalogue.match("crio-service", crio_line)[0]
    assert found.groups == ("/etc/cni/net.d/05-bad.conflist",)
    actions, _ = catalogue.fix_plan(found, ctx)
    # 10-flannel.conflist does not exist here, so only the named file is edited
    assert [action.path for action in actions] == ["/etc/cni/net.d/05-bad.conflist"]
    assert json.loads(actions[0].content)["cniVersion"] == "0.3.1"


def test_a_fix_refuses_to_rewrite_a_file_that_is_not_json(tmp_path):
    ctx = sim_context(tmp_path, "debian12")
    write_host_file(ctx, "/etc/cni/net.d/10-flannel.conflist", '{"cniVersion": "1.2.0", "plugins": [')
    with pytest.raises(catalogue.FixError, match="not valid JSON"):
        catalogue.fix_plan(match_one("cni-version-convert", EXAMPLES["cni-version-convert"][2]), ctx)


def test_stray_conflist_fix_fills_the_file_name_from_the_log(tmp_path):
    ctx = sim_context(tmp_path, "fedora")
    for name in ("10-crio-bridge.conflist", "87-podman-bridge.conflist", "10-flannel.conflist"):
        write_host_file(ctx, f"/etc/cni/net.d/{name}", "{}")
    found = match_one("cni-conflist-shadowed", EXAMPLES["cni-conflist-shadowed"][1])
    assert found.groups == ("10-crio-bridge.conflist",)
    actions, _ = catalogue.fix_plan(found, ctx)
    assert actions[:2] == [RemoveFile("/etc/cni/net.d/10-crio-bridge.conflist"),
                           RemoveFile("/etc/cni/net.d/87-podman-bridge.conflist")]
    assert [action.argv for action in actions[2:]] == [
        ("ip", "link", "delete", "cni0"), ("kubectl", "-n", "kube-system", "delete", "pod", "-l", "k8s-app=kube-dns")]
    assert all(action.ok_codes == (0, 1) for action in actions[2:])


def test_stray_conflist_named_by_the_flannel_check_is_removed(tmp_path):
    ctx = sim_context(tmp_path, "debian12")
    write_host_file(ctx, "/etc/cni/net.d/05-lab.conflist", "{}")
    found = match_one("cni-conflist-shadowed", EXAMPLES["cni-conflist-shadowed"][3])
    assert found.groups == ("05-lab.conflist",)
    assert catalogue.fix_plan(found, ctx)[0][0] == RemoveFile("/etc/cni/net.d/05-lab.conflist")


def test_the_wizards_own_bridge_addresses_are_not_a_symptom():
    """In the cluster scope the wizard's bridge (10.85.0.0/16) is the pod network: its addresses are fine."""
    lines = ["[ok]   crictl inspectp: pod IP inside 10.85.0.0/16: 10.85.0.7",
             "[FAIL] process tree: 1 -> conmon -> container: ps shows no process 4242"]
    assert catalogue.match("cluster-check", lines) == []


def test_stray_conflist_fix_without_a_file_name_removes_only_what_exists(tmp_path):
    ctx = sim_context(tmp_path, "ubuntu2404")
    write_host_file(ctx, "/etc/cni/net.d/1-k8s.conflist", "{}")
    found = match_one("cni-conflist-shadowed", EXAMPLES["cni-conflist-shadowed"][0])
    assert found.groups == ()
    actions, _ = catalogue.fix_plan(found, ctx)
    assert [action for action in actions if isinstance(action, RemoveFile)] == [
        RemoveFile("/etc/cni/net.d/1-k8s.conflist")]


def test_sudo_path_fix_links_the_named_program(tmp_path):
    ctx = sim_context(tmp_path, "rocky9")
    found = match_one("sudo-path", "sudo: crictl: command not found")
    assert catalogue.fix_plan(found, ctx) == ([], {})  # nothing installed yet: nothing to link
    write_host_file(ctx, "/usr/local/bin/crictl", "")
    assert catalogue.fix_plan(found, ctx) == ([Symlink("/usr/bin/crictl", "/usr/local/bin/crictl")], {})


def test_a_path_from_the_log_must_be_a_plain_absolute_path(tmp_path):
    ctx = sim_context(tmp_path, "rocky9")
    found = match_one("conmon-path", "conmon validation: invalid conmon path: stat /usr/../etc/x: no such file")
    write_host_file(ctx, "/usr/local/bin/conmon", "")
    assert catalogue.fix_plan(found, ctx) == ([], {})
    found = match_one("conmon-path", EXAMPLES["conmon-path"][0])
    assert catalogue.fix_plan(found, ctx)[0] == [Symlink("/usr/libexec/crio/conmon", "/usr/local/bin/conmon")]


@pytest.mark.parametrize("entry_id, dnf_packages, apt_packages", [
    ("conntrack-missing", ["conntrack-tools"], ["conntrack"]),
    ("gpgme-missing", ["gpgme-devel"], ["libgpgme-dev"]),
    ("glib-missing", ["glib2-devel"], ["libglib2.0-dev"]),
])
def test_package_fixes_use_the_hosts_package_manager(tmp_path, entry_id, dnf_packages, apt_packages):
    found = match_one(entry_id, example_text(entry_id))
    for profile in ("rocky9", "centos-stream9", "fedora"):
        actions, _ = catalogue.fix_plan(found, sim_context(tmp_path / profile, profile))
        assert actions == [Run(("dnf", "install", "-y", *dnf_packages))], profile
    for profile in ("debian12", "ubuntu2404"):
        actions, _ = catalogue.fix_plan(found, sim_context(tmp_path / profile, profile))
        assert actions == [Run(("apt-get", "install", "-y", *apt_packages),
                               env={"DEBIAN_FRONTEND": "noninteractive"})], profile


def test_crb_fix_per_family_and_major(tmp_path):
    found = match_one("dnf-no-match", EXAMPLES["dnf-no-match"][0])
    assert found.groups == ("gpgme-devel",)
    rocky = sim_context(tmp_path / "rocky9", "rocky9")
    assert [a.argv for a in catalogue.fix_plan(found, rocky)[0]] == [
        ("dnf", "install", "-y", "dnf-plugins-core"), ("dnf", "config-manager", "--set-enabled", "crb")]
    el8_facts = dataclasses.replace(rocky.host.facts, version="8.10")
    el8 = dataclasses.replace(rocky, host=dataclasses.replace(rocky.host, facts=el8_facts))
    assert [a.argv for a in catalogue.fix_plan(found, el8)[0]] == [
        ("dnf", "install", "-y", "dnf-plugins-core"), ("dnf", "config-manager", "--set-enabled", "powertools")]
    # Fedora has no CodeReady Builder: the explanation is all there is
    assert catalogue.fix_plan(found, sim_context(tmp_path / "fedora", "fedora")) == ([], {})


def test_apt_update_fix_and_systemd_only_restart(tmp_path):
    debian = sim_context(tmp_path / "debian12", "debian12")
    found = match_one("apt-unable-to-locate", "E: Unable to locate package libgpgme-dev")
    assert catalogue.fix_plan(found, debian)[0] == [Run(("apt-get", "update"))]
    stopped = match_one("crio-socket-missing", example_text("crio-socket-missing"))
    assert catalogue.fix_plan(stopped, debian)[0] == [Run(("systemctl", "restart", "crio"))]
    container = sim_context(tmp_path / "container", "debian12-container")
    assert catalogue.fix_plan(stopped, container) == ([], {})


@pytest.mark.parametrize("profile, driver", [("rocky9", "systemd"), ("debian12-container", "cgroupfs")])
def test_02_crio_conf_fix_renders_toml_for_the_host(tmp_path, profile, driver):
    ctx = sim_context(tmp_path, profile)
    actions, _ = catalogue.fix_plan(match_one("crio-02-conf-missing", EXAMPLES["crio-02-conf-missing"][0]), ctx)
    assert [action.path for action in actions] == ["/etc/crio/crio.conf.d/02-crio.conf"]
    written = tomllib.loads(actions[0].content)
    assert written == {"crio": {"image": {"pause_image": ctx.answers.pins.pause_image},
                                "runtime": {"cgroup_manager": driver, "conmon_cgroup": "pod"}}}


def test_toml_fix_keeps_the_other_settings_of_the_drop_in(tmp_path):
    ctx = sim_context(tmp_path, "debian12")
    write_host_file(ctx, "/etc/crio/crio.conf.d/02-crio.conf",
                    '[crio.runtime]\ndefault_runtime = "runc"\nconmon_cgroup = "system.slice"\n\n'
                    '[crio.runtime.runtimes.runc]\nruntime_path = ""\nmonitor_env = ["PATH=/usr/bin"]\n')
    actions, _ = catalogue.fix_plan(match_one("conmon-cgroup", EXAMPLES["conmon-cgroup"][0]), ctx)
    written = tomllib.loads(actions[0].content)
    assert written["crio"]["runtime"]["conmon_cgroup"] == "pod"
    assert written["crio"]["runtime"]["default_runtime"] == "runc"
    assert written["crio"]["runtime"]["runtimes"]["runc"] == {"runtime_path": "", "monitor_env": ["PATH=/usr/bin"]}


def test_answer_fixes_and_written_policy(tmp_path):
    ctx = sim_context(tmp_path, "debian12")
    for entry_id in ("crun-too-old", "crun-not-found"):
        found = match_one(entry_id, example_text(entry_id))
        assert catalogue.fix_plan(found, ctx) == ([], {"oci_runtime": "runc"})
    policy, _ = catalogue.fix_plan(match_one("policy-json-missing", EXAMPLES["policy-json-missing"][0]), ctx)
    assert policy[0].path == "/etc/containers/policy.json"
    assert json.loads(policy[0].content)["default"] == [{"type": "insecureAcceptAnything"}]


def test_entries_without_a_fix_plan_nothing(tmp_path):
    ctx = sim_context(tmp_path, "debian12")
    found = match_one("oom-score-adj", example_text("oom-score-adj", 1))
    assert found.entry.fix is None and catalogue.fix_plan(found, ctx) == ([], {})


def test_describe_fix_previews_commands_files_and_answers():
    lines = catalogue.describe_fix(
        [Run(("apt-get", "install", "-y", "conntrack"), env={"DEBIAN_FRONTEND": "noninteractive"}),
         WriteFile("/etc/containers/policy.json", '{\n  "default": []\n}\n'),
         RemoveFile("/etc/cni/net.d/10-crio-bridge.conflist"),
         Symlink("/usr/bin/crictl", "/usr/local/bin/crictl")],
        {"oci_runtime": "runc"},
    )
    assert lines == [
        "$ DEBIAN_FRONTEND=noninteractive apt-get install -y conntrack",
        "write /etc/containers/policy.json (mode 0644):",
        "    {",
        '      "default": []',
        "    }",
        "remove /etc/cni/net.d/10-crio-bridge.conflist (a backup is kept)",
        "link /usr/bin/crictl -> /usr/local/bin/crictl",
        'answer oci_runtime: "runc"',
    ]


def test_render_toml_round_trips():
    document = {"crio": {"image": {"pause_image": 'a"b\\c'}, "runtime": {"flag": True, "n": 3, "list": ["x", "y"]}},
                "top": "level", "odd key": {"k": 1.5}}
    assert tomllib.loads(catalogue.render_toml(document)) == document


# -- a broken catalogue is a clear error ----------------------------------------------------------------------

def good_entry(**changes) -> dict:
    raw = {
        "id": "some-error", "steps": ["crio-build"], "patterns": ["boom"],
        "title": {"en": "Boom", "zh": "爆炸"}, "explanation": {"en": "Why.", "zh": "原因。"},
        "links": ["https://github.com/cri-o/cri-o"],
    }
    raw.update(changes)
    return raw


@pytest.mark.parametrize("changes, problem", [
    ({"patterns": ["(unclosed"]}, "does not compile"),
    ({"title": {"en": "Boom"}}, "title.zh is missing"),
    ({"id": "Not_Kebab"}, "not kebab-case"),
    ({"links": ["http://example.org"]}, "https://"),
    ({"fix": {"summary": {"en": "x", "zh": "修"}, "actions": [{"answer": {"no.such.key": 1}}]}}, "not in assets"),
    ({"fix": {"summary": {"en": "x", "zh": "修"}, "actions": [{"remove": "/etc/{nope}"}]}}, "unknown placeholder"),
    ({"fix": {"summary": {"en": "x", "zh": "修"}, "actions": [{"run": "make"}]}}, "wrong shape"),
    ({"fix": {"summary": {"en": "x", "zh": "修"}, "actions": [{"run": ["a"], "remove": "/x"}]}}, "exactly one"),
    ({"colour": "red"}, "unknown field"),
])
def test_parse_names_the_entry_and_the_problem(changes, problem):
    broken = good_entry(**{"id": "other", **changes})
    with pytest.raises(catalogue.CatalogueError) as raised:
        catalogue.parse({"errors": [good_entry(), broken]})
    assert any(line.startswith(f"{broken['id']}: ") and problem in line for line in raised.value.problems), \
        raised.value.problems


def test_parse_rejects_duplicate_ids_and_a_wrong_top_level():
    with pytest.raises(catalogue.CatalogueError, match="duplicate id"):
        catalogue.parse({"errors": [good_entry(), good_entry()]})
    with pytest.raises(catalogue.CatalogueError, match="errors"):
        catalogue.parse([good_entry()])
