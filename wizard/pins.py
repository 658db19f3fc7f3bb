"""The version pinning table (assets/versions.yaml): which releases go together."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from packaging.version import Version

from wizard import yamlio
from wizard.assets import asset_path


@dataclass(frozen=True)
class Pins:
    """The releases chosen for one Kubernetes minor."""

    kubernetes_minor: str
    kubernetes: str
    crio: str
    go_min: str
    go_pin: str
    crictl: str
    minikube: str
    conmon: str
    cni_plugins: str
    cni_plugins_seed: str
    flannel: str
    flannel_cni: str
    pause_image: str
    cni_version: str


@lru_cache(maxsize=1)
def table() -> dict:
    return yamlio.load(asset_path("versions.yaml").read_text(encoding="utf-8"))


def kubernetes_minors() -> list[str]:
    return sorted(table()["kubernetes"], key=Version)


def default_kubernetes_minor() -> str:
    return table()["default_kubernetes"]


def pins_for(kubernetes_minor: str) -> Pins:
    """The pins for a Kubernetes minor such as "1.35"; KeyError if the table has no such row."""
    row = table()["kubernetes"][kubernetes_minor]
    return Pins(kubernetes_minor=kubernetes_minor, **row, **table()["components"])


def version_at_least(found: str, required: str) -> bool:
    """Compare release strings like "go1.25.3", "v1.35.6" or "1.25" by their numbers."""
    return Version(_numeric(found)) >= Version(_numeric(required))


def _numeric(text: str) -> str:
    text = text.strip().removeprefix("go").removeprefix("v")
    # keep "1.36.0" from "1.36.0-196-gba03eabc" or "1.26.6 linux/amd64"
    head = text.split()[0] if text.split() else "0"
    return head.split("-")[0].split("+")[0] or "0"
