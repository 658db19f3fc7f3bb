"""The conflist the wizard writes, run through Debian's real CNI plugins inside a network namespace."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from wizard import answers, cni
from wizard.files import FileEffects
from wizard.host import Host, read_facts
from wizard.runner import Runner
from wizard.steps.base import Context, PlanRefused
from wizard.steps.cni_config import CniConfig

DEBIAN_PLUGINS = Path(cni.DEBIAN_PLUGIN_DIR)

pytestmark = [
    pytest.mark.skipif(not (DEBIAN_PLUGINS / "bridge").exists(),
                       reason="needs Debian's containernetworking-plugins (.ci/run installs it)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces and bridges need root"),
]


def _netns_works() -> bool:
    name = f"cw-probe-{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True)
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return made.returncode == 0


@pytest.fixture
def staged_host(tmp_path):
    """A real host staged under tmp_path: /opt/cni/bin holds links to Debian's real plugins."""
    root = tmp_path / "root"
    plugin_dir = root / "opt/cni/bin"
    plugin_dir.mkdir(parents=True)
    for plugin in ("bridge", "host-local", "loopback", "portmap"):
        (plugin_dir / plugin).symlink_to(DEBIAN_PLUGINS / plugin)
    host = Host(root=root, facts=read_facts(Path("/")), env=dict(os.environ))
    ctx = Context(answers=answers.from_mapping({}), host=host, state_dir=tmp_path / "state",
                  runner=Runner(env=host.env, default_cwd=tmp_path))
    ctx.log_path = tmp_path / "state" / "cni.log"
    return ctx


def _write_plan(ctx: Context, step: CniConfig) -> None:
    effects = FileEffects(ctx.host.root, ctx.state_dir / "backups")
    for action in step.plan(ctx):
        effects.write_file(action.path, action.content, action.mode)


def _plugin_call(command: str, conf: dict, netns: str, container_id: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "CNI_COMMAND": command, "CNI_CONTAINERID": container_id,
           "CNI_NETNS": f"/var/run/netns/{netns}", "CNI_IFNAME": "eth0", "CNI_PATH": str(DEBIAN_PLUGINS)}
    return subprocess.run([str(DEBIAN_PLUGINS / conf["type"])], input=json.dumps(conf), env=env,
                          capture_output=True, text=True, timeout=30)


async def test_written_conflist_adds_a_pod_address_in_its_subnet_and_deletes_cleanly(staged_host):
    if not _netns_works():
        pytest.skip("this kernel refuses `ip netns add` here")
    ctx = staged_host
    step = CniConfig()
    await step.prepare(ctx)  # the real VERSION probe
    assert ctx.answers.pins.cni_version in ctx.notes["cni_supported_versions"]
    _write_plan(ctx, step)
    conflist = json.loads(ctx.host.path(cni.BRIDGE_CONFLIST).read_text())
    # what libcni does for the first plugin of a conflist: inject the list's name and cniVersion
    bridge_conf = dict(conflist["plugins"][0], name=conflist["name"], cniVersion=conflist["cniVersion"])
    subnet = ipaddress.ip_network(bridge_conf["ipam"]["ranges"][0][0]["subnet"])
    netns, container_id = f"cw-{uuid.uuid4().hex[:6]}", f"cw-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        added = _plugin_call("ADD", bridge_conf, netns, container_id)
        assert added.returncode == 0, added.stdout + added.stderr
        result = json.loads(added.stdout)
        address = ipaddress.ip_interface(result["ips"][0]["address"])
        assert address.ip in subnet
        inside = subprocess.run(["ip", "netns", "exec", netns, "ip", "-4", "addr", "show", "eth0"],
                                capture_output=True, text=True, check=True).stdout
        assert str(address) in inside
        bridge = subprocess.run(["ip", "-4", "addr", "show", bridge_conf["bridge"]], capture_output=True, text=True)
        assert bridge.returncode == 0 and "inet " in bridge.stdout  # isGateway: the bridge holds the gateway
        checks = await step.verify(ctx)
        assert all(check.ok for check in checks), checks
        deleted = _plugin_call("DEL", bridge_conf, netns, container_id)
        assert deleted.returncode == 0, deleted.stderr
        leases = Path("/var/lib/cni/networks") / conflist["name"]
        assert not any(p.name == str(address.ip) for p in leases.glob("*")) if leases.exists() else True
    finally:
        subprocess.run(["ip", "netns", "del", netns], capture_output=True)
        subprocess.run(["ip", "link", "delete", bridge_conf["bridge"]], capture_output=True)
        shutil.rmtree(Path("/var/lib/cni/networks") / conflist["name"], ignore_errors=True)


async def test_version_probe_refuses_a_bad_cni_version_before_any_file_is_written(staged_host):
    class SeedVersionConfig(CniConfig):
        def cni_version(self, ctx):
            return "9.9.9"

    ctx = staged_host
    with pytest.raises(PlanRefused, match=r'cniVersion "9.9.9" is not supported by the bridge plugin'):
        await SeedVersionConfig().prepare(ctx)
    assert not ctx.host.path(cni.BRIDGE_CONFLIST).exists()


def test_the_real_plugin_rejects_what_the_probe_refuses():
    """The probe's refusal is the same verdict the plugin itself gives (`incompatible CNI versions`)."""
    if not _netns_works():
        pytest.skip("this kernel refuses `ip netns add` here")
    conf = json.loads(cni.bridge_conflist("9.9.9", bridge="cw-bad0", subnet="10.199.0.0/24"))
    bridge_conf = dict(conf["plugins"][0], name="cw-bad", cniVersion="9.9.9")
    netns = f"cw-{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        added = _plugin_call("ADD", bridge_conf, netns, "cw-bad-1")
        assert added.returncode != 0
        assert "incompatible CNI versions" in added.stdout
        assert subprocess.run(["ip", "link", "show", "cw-bad0"], capture_output=True).returncode != 0
    finally:
        subprocess.run(["ip", "netns", "del", netns], capture_output=True)
