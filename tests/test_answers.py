"""The answers file: defaults, validation messages with key paths, fingerprints, mirrors."""

from __future__ import annotations

import pytest
import yaml

from wizard import answers, mirrors


def problems_of(document) -> list[str]:
    with pytest.raises(answers.AnswersError) as caught:
        answers.from_mapping(document)
    return caught.value.problems


def test_defaults_follow_the_recipe():
    defaults = answers.load(None)
    assert defaults.scope == "cluster+flannel"
    assert defaults.pod_cidr == "10.233.64.0/18"
    assert defaults.pins.crio.startswith("v1.35.")
    assert defaults.get("sources.cni_plugins.url").endswith("containernetworking/plugins.git")


def test_every_problem_names_its_key_path_and_value():
    found = problems_of({"scope": "everything", "flannel": {"bakend": "vxlan"}, "oci_runtime": 3,
                         "sources": {"crio": {"url": "github.com/cri-o/cri-o", "ref": "--upload-pack=x"}}})
    assert "scope: bad value 'everything': must be one of runtime, cluster, cluster+flannel" in found
    assert "flannel.bakend: unknown key" in found
    assert any(p.startswith("oci_runtime: bad value 3") for p in found)
    assert any(p.startswith("sources.crio.url: bad value 'github.com/cri-o/cri-o'") for p in found)
    assert any(p.startswith("sources.crio.ref: bad value '--upload-pack=x'") for p in found)


@pytest.mark.parametrize("cidr, reason", [
    ("10.0.0.0/33", "does not appear to be"),
    ("10.96.0.0/16", "overlaps the service network"),
    ("10.244.0.1/16", "has host bits set"),
    ("10.244.0.0/26", "needs room for /24 node subnets"),
    ("fd00::/64", "IPv4"),
])
def test_bad_pod_cidrs(cidr, reason):
    (problem,) = problems_of({"pod_cidr": cidr})
    assert problem.startswith(f"pod_cidr: bad value '{cidr}'") and reason in problem


def test_unknown_kubernetes_minor_lists_the_known_ones():
    (problem,) = problems_of({"kubernetes": "1.20"})
    assert "the pinning table knows 1.34, 1.35, 1.36" in problem


def test_a_file_that_is_not_yaml_or_not_a_mapping(tmp_path):
    broken = tmp_path / "a.yaml"
    broken.write_text("scope: [unclosed\n")
    with pytest.raises(answers.AnswersError, match="not valid YAML"):
        answers.load(broken)
    broken.write_text("- a list\n")
    with pytest.raises(answers.AnswersError, match="top level must be a mapping"):
        answers.load(broken)
    with pytest.raises(answers.AnswersError, match="cannot read"):
        answers.load(tmp_path / "missing.yaml")


def test_fingerprint_changes_only_with_its_inputs():
    base = answers.from_mapping({})
    changed = answers.from_mapping({"flannel": {"backend": "host-gw"}})
    assert base.fingerprint(["pod_cidr"]) == changed.fingerprint(["pod_cidr"])
    assert base.fingerprint(["flannel.backend"]) != changed.fingerprint(["flannel.backend"])


def test_proxy_password_is_a_secret():
    with_proxy = answers.from_mapping({"proxy": {"https": "http://alice:s3cr3t-Pw@proxy.example:3128"}})
    assert "s3cr3t-Pw" in with_proxy.secret_values()


def test_the_documented_defaults_file_is_itself_a_valid_answers_file(tmp_path):
    from wizard.assets import asset_path

    assert answers.load(asset_path("answers.yaml")).data == answers.load(None).data
    saved = tmp_path / "saved.yaml"
    saved.write_text(answers.load(None).to_yaml())
    assert yaml.safe_load(saved.read_text())["pod_cidr"] == "10.233.64.0/18"
    assert answers.load(saved).data == answers.load(None).data


def test_mirror_cn_reaches_every_layer():
    cn = answers.from_mapping({"mirror": "cn"})
    assert mirrors.git_url(cn, "https://github.com/cri-o/cri-o.git") != "https://github.com/cri-o/cri-o.git"
    assert mirrors.download_url(cn, "https://go.dev/dl/go1.25.7.linux-amd64.tar.gz").startswith(
        "https://golang.google.cn/dl/")
    assert mirrors.go_env(cn)["GOPROXY"].startswith("https://goproxy.cn")
    assert "--image-mirror-country=cn" in mirrors.minikube_flags(cn)
    assert 'location = "docker.m.daocloud.io"' in mirrors.registries_conf(cn)


def test_mirror_overrides_one_layer_of_a_preset():
    custom = answers.from_mapping({"mirror": {"preset": "cn", "go_proxy": "https://goproxy.io,direct"}})
    assert mirrors.go_env(custom)["GOPROXY"] == "https://goproxy.io,direct"
    assert custom.get("mirror.git")  # the rest of the preset stays
    assert problems_of({"mirror": "nowhere"}) == ["mirror.preset: bad value 'nowhere': must be one of none, cn"]


def test_a_teacher_can_hand_out_the_answers_as_a_url(tmp_path):
    import functools
    import http.server
    import threading

    (tmp_path / "room.yaml").write_text("scope: runtime\noci_runtime: runc\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        loaded = answers.load(f"{base}/room.yaml")
        assert loaded.scope == "runtime" and loaded.get("oci_runtime") == "runc"
        with pytest.raises(answers.AnswersError, match="cannot download"):
            answers.load(f"{base}/missing.yaml")
    finally:
        server.shutdown()
