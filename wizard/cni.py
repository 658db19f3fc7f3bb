"""CNI configuration: conflists the wizard writes, the plugins' supported versions, and CIDR arithmetic."""

from __future__ import annotations

import ipaddress
import json

# Debian's containernetworking-plugins package installs here instead of /opt/cni/bin
DEBIAN_PLUGIN_DIR = "/usr/lib/cni"
PLUGIN_DIR = "/opt/cni/bin"
CONFIG_DIR = "/etc/cni/net.d"
# Sorts after 10-flannel.conflist: CRI-O uses the lexically first file, so once flannel writes its
# conflist, flannel wins and this bridge (for pods before there is a cluster) steps aside.
BRIDGE_CONFLIST = "/etc/cni/net.d/90-crio-wizard-bridge.conflist"
BRIDGE_NAME = "crio-wiz0"  # not cni0: flannel's bridge is cni0, and two networks on one bridge fight
BRIDGE_SUBNET = "10.85.0.0/16"


class UnsupportedCniVersion(Exception):
    """The plugins on this host do not accept the cniVersion a conflist would carry."""


def parse_version_result(output: str) -> list[str]:
    """`supportedVersions` from a plugin's CNI_COMMAND=VERSION answer (JSON on stdout)."""
    start = output.find("{")
    if start < 0:
        raise ValueError(f"no JSON in the plugin's answer: {output.strip()[:200]!r}")
    document, _ = json.JSONDecoder().raw_decode(output[start:])
    versions = document.get("supportedVersions")
    if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
        raise ValueError(f"the plugin's answer has no supportedVersions list: {document!r}")
    return versions


def require_supported(cni_version: str, supported: list[str], plugin: str = "bridge") -> None:
    """Refuse a conflist the plugin would reject: the recipe's `cannot convert version` error, prevented."""
    if cni_version not in supported:
        raise UnsupportedCniVersion(
            f'cniVersion "{cni_version}" is not supported by the {plugin} plugin on this host '
            f"(it supports {', '.join(supported)})")


def bridge_conflist(cni_version: str, name: str = "crio-wizard", bridge: str = BRIDGE_NAME,
                    subnet: str = BRIDGE_SUBNET) -> str:
    """A bridge + host-local + portmap conflist, the shape CRI-O's example uses."""
    network = ipaddress.ip_network(subnet, strict=True)
    document = {
        "cniVersion": cni_version,
        "name": name,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "ranges": [[{"subnet": str(network)}]],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def first_conflist(file_names: list[str]) -> str | None:
    """The file CRI-O picks: the lexically first .conf/.conflist/.json in the directory."""
    candidates = sorted(name for name in file_names if name.endswith((".conf", ".conflist", ".json")))
    return candidates[0] if candidates else None


def subnet_inside(subnet: str, network: str) -> bool:
    """Is FLANNEL_SUBNET (e.g. 10.233.64.1/24, an interface address) inside FLANNEL_NETWORK?"""
    return ipaddress.ip_interface(subnet).network.subnet_of(ipaddress.ip_network(network, strict=False))
