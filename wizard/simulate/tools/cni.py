"""Stand-ins for the CNI plugins the wizard checks: bridge, host-local, loopback, portmap and flannel."""

from __future__ import annotations

import json
import os
import re

from wizard.simulate import sim

ALL_VERSIONS = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")


def supported_versions(plugin_version: str) -> list[str]:
    """The CNI spec versions a plugin release speaks: up to 0.4.0 in v0.x, 1.0.0 until v1.5, then 1.1.0."""
    match = re.match(r"v?(\d+)\.(\d+)", plugin_version)
    if match is None:
        newest = "1.1.0"
    elif match.group(1) == "0":
        newest = "0.4.0"
    elif int(match.group(2)) < 5 and match.group(1) == "1":
        newest = "1.0.0"
    else:
        newest = "1.1.0"
    return list(ALL_VERSIONS[: ALL_VERSIONS.index(newest) + 1])


def _banner(name: str, version: str, versions: list[str]) -> list[str]:
    if name == "flannel":
        import hashlib  # only here: the VERSION answer the wizard asks for starts quicker without OpenSSL

        commit = hashlib.sha1(f"flannel@{version}".encode()).hexdigest()[:8]
        first = f"CNI Plugin flannel version {version} (linux/amd64) commit {commit}"
    else:
        # a binary built from a plain git tree does not know its version (samples/cni-bridge-banner.txt)
        known = re.match(r"v\d", version) is not None
        first = f"CNI {name} plugin {version if known else 'version unknown'}"
    return [first, "CNI protocol versions supported: " + ", ".join(versions)]


def plugin(name: str):
    def main(argv: list[str]) -> int:
        version = sim.self_version(name) or "unknown"
        versions = supported_versions(version)
        command = os.environ.get("CNI_COMMAND", "")
        if command == "VERSION":
            # stdin (the network config) is ignored for VERSION, as by the real plugins
            print(json.dumps({"cniVersion": versions[-1], "supportedVersions": versions}, separators=(",", ":")))
            return 0
        if not command or argv[:1] == ["--version"]:
            sim.say(*_banner(name, version, versions), err=True)
            return 0
        print(json.dumps({"code": 100, "msg": f"the simulated {name} plugin answers CNI_COMMAND=VERSION only"}))
        return 1

    return main


PLUGINS = ("bridge", "host-local", "loopback", "portmap", "flannel")
TOOLS = {name: sim.Tool(plugin(name), installable=True) for name in PLUGINS}
