"""Mirrors for every layer (OS packages, git, release files, Go, images), from one `mirror` answer."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from wizard import yamlio
from wizard.assets import asset_path

GITHUB = "https://github.com/"
GO_DOWNLOADS = "https://go.dev/dl/"


@lru_cache(maxsize=1)
def _table() -> dict:
    return yamlio.load(asset_path("mirrors.yaml").read_text(encoding="utf-8"))


def normalize(value: Any) -> Any:
    """`mirror: cn` or `{preset: cn, go_proxy: ...}` -> the full mapping; other shapes pass through to validation."""
    if isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, dict):
        return value
    preset_name = value.get("preset", "none")
    preset = _table()["presets"].get(preset_name, {}) if isinstance(preset_name, str) else {}
    merged = copy.deepcopy(_table()["fields"])
    merged.update(copy.deepcopy(preset))
    merged.update(value)
    return merged


def mirror(answers) -> dict:
    return answers.get("mirror")


def git_url(answers, url: str) -> str:
    """A source URL with the git mirror base in place of https://github.com/."""
    base = mirror(answers)["git"]
    if base and url.startswith(GITHUB):
        return base.rstrip("/") + "/" + url[len(GITHUB):]
    return url


def download_url(answers, url: str) -> str:
    """A release-file URL through the release mirror (a prefix), or Go's download mirror."""
    settings = mirror(answers)
    if settings["go_downloads"] and url.startswith(GO_DOWNLOADS):
        return settings["go_downloads"].rstrip("/") + "/" + url[len(GO_DOWNLOADS):]
    if settings["releases"] and url.startswith(GITHUB):
        return settings["releases"] + url
    return url


def go_env(answers) -> dict[str, str]:
    """GOPROXY / GOSUMDB for builds: the mirror's, else the go.proxy answer, else Go's defaults."""
    settings = mirror(answers)
    env = {}
    proxy = settings["go_proxy"] or answers.get("go.proxy")
    if proxy:
        env["GOPROXY"] = proxy
    if settings["go_sumdb"]:
        env["GOSUMDB"] = settings["go_sumdb"]
    return env


def minikube_flags(answers) -> list[str]:
    settings = mirror(answers)
    flags = []
    if settings["image_mirror_country"]:
        flags.append(f"--image-mirror-country={settings['image_mirror_country']}")
    if settings["image_repository"]:
        flags.append(f"--image-repository={settings['image_repository']}")
    return flags


REGISTRIES_CONF = "/etc/containers/registries.conf.d/90-crio-wizard-mirrors.conf"


def registries_conf(answers) -> str | None:
    """containers-registries.conf(5) entries: pulls from each registry try its mirror first."""
    registries = mirror(answers)["registries"]
    if not registries:
        return None
    blocks = ["# written by crio-wizard: image registry mirrors"]
    for registry, mirror_host in sorted(registries.items()):
        blocks.append(
            f'\n[[registry]]\nprefix = "{registry}"\nlocation = "{registry}"\n\n'
            f'[[registry.mirror]]\nlocation = "{mirror_host}"'
        )
    return "\n".join(blocks) + "\n"


# The distro's main repository definitions pointed at a package mirror. Paths are the distro's own
# files, so the wizard's backup keeps the original and reset restores it.
_REPO_FILES = {
    "debian": ("/etc/apt/sources.list.d/debian.sources", (
        "Types: deb\nURIs: {base}/debian\nSuites: {codename} {codename}-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: {base}/debian-security\nSuites: {codename}-security\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")),
    "ubuntu": ("/etc/apt/sources.list.d/ubuntu.sources", (
        "Types: deb\nURIs: {base}/ubuntu\nSuites: {codename} {codename}-updates {codename}-security\n"
        "Components: main universe\nSigned-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n")),
    "el": ("/etc/yum.repos.d/crio-wizard-mirror.repo", (
        "[baseos]\nname=BaseOS (mirror)\nbaseurl={base}/{dist}/$releasever/BaseOS/$basearch/os/\ngpgcheck=1\n\n"
        "[appstream]\nname=AppStream (mirror)\nbaseurl={base}/{dist}/$releasever/AppStream/$basearch/os/\n"
        "gpgcheck=1\n\n"
        "[crb]\nname=CRB (mirror)\nbaseurl={base}/{dist}/$releasever/CRB/$basearch/os/\ngpgcheck=1\n")),
    "fedora": ("/etc/yum.repos.d/crio-wizard-mirror.repo", (
        "[fedora]\nname=Fedora (mirror)\nbaseurl={base}/fedora/releases/$releasever/Everything/$basearch/os/\n"
        "gpgcheck=1\n\n[updates]\nname=Fedora updates (mirror)\n"
        "baseurl={base}/fedora/updates/$releasever/Everything/$basearch/\ngpgcheck=1\n")),
}
_EL_DIST = {"rocky": "rockylinux", "almalinux": "almalinux", "centos": "centos-stream"}
CODENAMES = {"12": "bookworm", "13": "trixie", "22.04": "jammy", "24.04": "noble", "26.04": "resolute"}


def package_repo_file(facts, answers) -> tuple[str, str] | None:
    """(host path, content) of the main repositories through the package mirror, or None."""
    base = mirror(answers)["packages"].rstrip("/")
    if not base or facts.family not in _REPO_FILES:
        return None
    path, template = _REPO_FILES[facts.family]
    codename = CODENAMES.get(facts.version, CODENAMES.get(facts.version.split(".")[0], ""))
    return path, template.format(base=base, codename=codename, dist=_EL_DIST.get(facts.distro_id, facts.distro_id))
