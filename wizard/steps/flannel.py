"""flannel: the pod network (scope cluster+flannel), its manifest and its checks (DOMAIN.md step 12)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from typing import Any

import yaml

from wizard.actions import Action, Owned, RemoveFile, Run, WriteFile
from wizard.answers import Answers
from wizard.assets import asset_path
from wizard.steps.base import Check, Context, Step
from wizard.steps.kube import KUBECTL, inside, kubectl_json, last_line

MANIFEST_PATH = "/var/lib/crio-wizard/kube-flannel.yml"
CNI_CONFIG_DIR = "/etc/cni/net.d"
FLANNEL_CONFLIST_NAME = "10-flannel.conflist"  # where flannel's install-cni init container copies cni-conf.json
SUBNET_ENV = "/run/flannel/subnet.env"
# the file names libcni (and so CRI-O) reads from /etc/cni/net.d, in lexical order: the first one wins
CNI_CONFIG_EXTENSIONS = (".conf", ".conflist", ".json")
# bytes flanneld subtracts from the uplink MTU for its encapsulation (wireguard and udp vary by setup)
MTU_OVERHEAD = {"vxlan": 50, "host-gw": 0}
# the vxlan device flanneld creates: VNI 1, the Linux vxlan port 8472
VXLAN_DEVICE = "flannel.1"
VXLAN_ID = 1
VXLAN_PORT = 8472
ROLLOUT = ("-n", "kube-flannel", "rollout", "status", "ds/kube-flannel-ds")
COREDNS_READY = ("-n", "kube-system", "wait", "--for=condition=Ready", "pod", "-l", "k8s-app=kube-dns")
COREDNS_RESTART = ("-n", "kube-system", "rollout", "restart", "deployment/coredns")


class ManifestError(ValueError):
    """The manifest template lacks what flannel needs (the ConfigMap or its net-conf.json)."""


class _ManifestDumper(yaml.SafeDumper):
    """Writes multi-line strings (the JSON documents in the ConfigMap) as literal blocks, as upstream does."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_ManifestDumper.add_representer(str, _represent_text)


def render_manifest(template_text: str, pod_cidr: str, backend: str, *,
                    flannel_tag: str | None = None, cni_plugin_tag: str | None = None) -> str:
    """flannel's manifest with net-conf.json's Network and Backend.Type set, read and written as
    YAML and JSON (a text replace could hit the wrong "10.244.0.0/16" or leave the JSON broken).
    The image tags change only when given."""
    documents = [document for document in yaml.safe_load_all(template_text) if document]
    config_map = _find(documents, "ConfigMap", "kube-flannel-cfg")
    try:
        net_conf = json.loads(config_map["data"]["net-conf.json"])
    except (KeyError, TypeError, ValueError) as error:
        raise ManifestError(f"kube-flannel-cfg has no readable net-conf.json: {error}") from None
    net_conf["Network"] = pod_cidr
    if net_conf.get("Backend", {}).get("Type") != backend:
        # options of another backend (VNI, Port...) would not apply to this one
        net_conf["Backend"] = {"Type": backend}
    config_map["data"]["net-conf.json"] = json.dumps(net_conf, indent=2) + "\n"
    if flannel_tag or cni_plugin_tag:
        daemon_set = _find(documents, "DaemonSet", "kube-flannel-ds")
        pod_spec = daemon_set["spec"]["template"]["spec"]
        for container in pod_spec.get("initContainers", []) + pod_spec.get("containers", []):
            repository, _, tag = container["image"].rpartition(":")
            wanted = cni_plugin_tag if repository.endswith("/flannel-cni-plugin") else flannel_tag
            container["image"] = f"{repository}:{wanted or tag}"
    return yaml.dump_all(documents, Dumper=_ManifestDumper, sort_keys=False, explicit_start=True)


def _find(documents: list[Any], kind: str, name: str) -> dict:
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == kind \
                and document.get("metadata", {}).get("name") == name:
            return document
    raise ManifestError(f"the manifest has no {kind} {name}")


def manifest_for(answers: Answers) -> str:
    """The manifest this wizard applies: the shipped template, the answers' network and the pinned images."""
    template = asset_path("templates", "kube-flannel.yml").read_text(encoding="utf-8")
    pins = answers.pins
    return render_manifest(template, answers.pod_cidr, answers.get("flannel.backend"),
                           flannel_tag=pins.flannel, cni_plugin_tag=pins.flannel_cni)


def cni_config_names(ctx: Context) -> list[str]:
    """The CNI config files in /etc/cni/net.d, in the order libcni reads them."""
    directory = ctx.host.path(CNI_CONFIG_DIR)
    if not directory.is_dir():
        return []
    return sorted(entry.name for entry in directory.iterdir()
                  if entry.is_file() and entry.name.endswith(CNI_CONFIG_EXTENSIONS))


def conflicting_conflists(ctx: Context) -> list[str]:
    """Host paths of CNI configs that get in flannel's way: those sorting before flannel's, which CRI-O
    would use instead (minikube's 1-k8s.conflist, CRI-O's 10-crio-bridge.conflist), and bridges on
    flannel's own device cni0 (CRI-O's 100-crio-bridge.conf): pods that used them leave cni0 with an
    address flannel's bridge then refuses (`"cni0" already has an IP address different from ...`)."""
    found = []
    for name in cni_config_names(ctx):
        path = f"{CNI_CONFIG_DIR}/{name}"
        if name == FLANNEL_CONFLIST_NAME:
            continue
        if name < FLANNEL_CONFLIST_NAME or _uses_flannel_bridge(ctx.read(path) or ""):
            found.append(path)
    return found


def _uses_flannel_bridge(text: str) -> bool:
    try:
        document = json.loads(text)
    except ValueError:
        return False
    plugins = (document.get("plugins") or [document]) if isinstance(document, dict) else []
    # the bridge plugin's device is cni0 unless the config names another
    return any(isinstance(plugin, dict) and plugin.get("type") == "bridge" and plugin.get("bridge", "cni0") == "cni0"
               for plugin in plugins)


def read_subnet_env(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, separator, value = line.strip().partition("=")
        if separator:
            values[key] = value
    return values


class Flannel(Step):
    id = "flannel"
    title = "flannel pod network"
    inputs = ("pod_cidr", "flannel.backend", "flannel.style")
    after = ("minikube", "flannel-cni")
    scopes = ("cluster+flannel",)
    typical_seconds = 60.0

    def plan(self, ctx: Context) -> list[Action]:
        # a pod keeps the address it got from whatever CNI config came first (e.g. the runtime's
        # bridge before flannel existed): restart coredns so it gets one from flannel; verify waits
        # for it, and its events say why when it cannot start
        settle = [Run((KUBECTL, *ROLLOUT, "--timeout=180s"), timeout=240),
                  Run((KUBECTL, *COREDNS_RESTART), timeout=60)]
        if ctx.answers.get("flannel.style") == "minikube-cni":
            # minikube already applied the manifest (--cni=flannel or --cni=<manifest>)
            return settle
        # the seed's way: minikube started with --cni=false, so the wizard applies flannel itself and
        # must first take away any config CRI-O would pick before flannel's (DOMAIN.md section 4)
        actions: list[Action] = [RemoveFile(path) for path in conflicting_conflists(ctx)]
        actions.append(WriteFile(MANIFEST_PATH, manifest_for(ctx.answers)))
        actions.append(Run((KUBECTL, "apply", "-f", MANIFEST_PATH), timeout=120))
        return actions + settle

    async def verify(self, ctx: Context) -> list[Check]:
        # the rollout, coredns and the network devices are independent questions: asked side by side
        rolled_out, coredns_ready, devices = await asyncio.gather(
            self._rolled_out(ctx), self._coredns_ready(ctx), self._devices(ctx))
        checks = [rolled_out, coredns_ready]
        subnet_checks, flannel_subnet = self._subnet_env(ctx, devices)
        checks += subnet_checks
        if ctx.answers.get("flannel.backend") == "vxlan":
            checks.append(self._vxlan_device(devices))
        if flannel_subnet:
            checks.append(self._bridge_gateway(devices, flannel_subnet))
            checks.append(await self._coredns_address(ctx, flannel_subnet))
        checks += self._cni_configs(ctx)
        return checks

    def owns(self, ctx: Context) -> Owned:
        # the manifest, conflists, links and /run/flannel are listed by the minikube step: reset
        # takes the cluster down as a whole (`minikube delete`, then those leftovers)
        return Owned()

    async def _rolled_out(self, ctx: Context) -> Check:
        result = await ctx.probe([KUBECTL, *ROLLOUT, "--timeout=60s"], timeout=90)
        return Check("DaemonSet kube-flannel-ds rolled out", result.exit_code == 0, last_line(result.output))

    async def _coredns_ready(self, ctx: Context) -> Check:
        result = await ctx.probe([KUBECTL, *COREDNS_READY, "--timeout=120s"], timeout=150)
        detail = last_line(result.output)
        if result.exit_code != 0:
            # `kubectl wait` only says it timed out; the pod's events say why (e.g. the CNI error)
            described = await ctx.probe([KUBECTL, "-n", "kube-system", "describe", "pod", "-l", "k8s-app=kube-dns"])
            reasons = [line.strip() for line in described.output.splitlines()
                       if re.search(r"\b(FailedCreatePodSandBox|FailedScheduling)\b", line)]
            if reasons:
                detail = f"{detail}; last event: {reasons[-1]}"
        return Check("coredns Ready", result.exit_code == 0, detail)

    async def _devices(self, ctx: Context) -> dict[str, str]:
        """Each network device's block of `ip -d addr show` (MTU, vxlan details, addresses), and the
        uplink's (the default route's device) also under the key "uplink"."""
        shown, route = await asyncio.gather(ctx.probe(["ip", "-d", "addr", "show"]),
                                            ctx.probe(["ip", "route", "show", "default"]))
        devices: dict[str, str] = {}
        name = ""
        for line in shown.output.splitlines():
            header = re.match(r"^\d+: ([^:@\s]+)[^:]*: <", line)
            if header:
                name = header.group(1)
            if name:
                devices[name] = devices.get(name, "") + line + "\n"
        uplink = re.search(r"\bdev\s+(\S+)", route.output)
        if uplink and uplink.group(1) in devices:
            devices["uplink"] = devices[uplink.group(1)]
        return devices

    def _subnet_env(self, ctx: Context, devices: dict[str, str]) -> tuple[list[Check], str | None]:
        text = ctx.read(SUBNET_ENV)
        if text is None:
            return [Check(f"{SUBNET_ENV} written by flanneld", False, "missing")], None
        values = read_subnet_env(text)
        pod_cidr = ctx.answers.pod_cidr
        network = values.get("FLANNEL_NETWORK", "")
        subnet = values.get("FLANNEL_SUBNET", "")
        checks = [
            Check(f"FLANNEL_NETWORK is {pod_cidr}", network == pod_cidr, f"FLANNEL_NETWORK={network}"),
            Check(f"FLANNEL_SUBNET inside {pod_cidr}", inside(subnet, pod_cidr), f"FLANNEL_SUBNET={subnet}"),
            Check("FLANNEL_IPMASQ is true", values.get("FLANNEL_IPMASQ") == "true",
                  f"FLANNEL_IPMASQ={values.get('FLANNEL_IPMASQ', '')}"),
            self._mtu(ctx, devices, values.get("FLANNEL_MTU", "")),
        ]
        return checks, subnet if inside(subnet, pod_cidr) else None

    def _mtu(self, ctx: Context, devices: dict[str, str], flannel_mtu: str) -> Check:
        backend = ctx.answers.get("flannel.backend")
        overhead = MTU_OVERHEAD.get(backend)
        uplink = re.search(r"\bmtu (\d+)", devices.get("uplink", ""))
        if overhead is None or uplink is None:
            where = "the uplink MTU is unknown" if uplink is None else f"{backend} overhead varies"
            return Check("FLANNEL_MTU is set", flannel_mtu.isdigit(), f"FLANNEL_MTU={flannel_mtu} ({where})")
        uplink_mtu = int(uplink.group(1))
        expected = uplink_mtu - overhead
        return Check(f"FLANNEL_MTU is the uplink MTU {uplink_mtu} - {overhead}", flannel_mtu == str(expected),
                     f"FLANNEL_MTU={flannel_mtu}, expected {expected}")

    def _vxlan_device(self, devices: dict[str, str]) -> Check:
        shown = devices.get(VXLAN_DEVICE, "")
        found = re.search(r"vxlan id (\d+).*?dstport (\d+)", shown, re.S)
        ok = bool(found) and found.groups() == (str(VXLAN_ID), str(VXLAN_PORT))
        detail = f"vxlan id {found.group(1)} dstport {found.group(2)}" if found else (
            "no vxlan details" if shown else f'Device "{VXLAN_DEVICE}" does not exist')
        return Check(f"{VXLAN_DEVICE} is vxlan id {VXLAN_ID} dstport {VXLAN_PORT}", ok, detail)

    def _bridge_gateway(self, devices: dict[str, str], flannel_subnet: str) -> Check:
        addresses = re.findall(r"inet (\S+)", devices.get("cni0", ""))
        detail = ", ".join(addresses) if addresses else ("no address" if "cni0" in devices else "no device cni0")
        return Check(f"cni0 holds the gateway {flannel_subnet}", flannel_subnet in addresses, detail)

    async def _coredns_address(self, ctx: Context, flannel_subnet: str) -> Check:
        pods, problem = await kubectl_json(ctx, "-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-dns")
        addresses = [item.get("status", {}).get("podIP", "") for item in (pods or {}).get("items", [])]
        addresses = [address for address in addresses if address]
        subnet = str(ipaddress.ip_interface(flannel_subnet).network)
        ok = bool(addresses) and all(inside(address, subnet) for address in addresses)
        return Check(f"coredns pod IPs inside FLANNEL_SUBNET {subnet}", ok,
                     ", ".join(addresses) if addresses else problem or "no pod IP yet")

    def _cni_configs(self, ctx: Context) -> list[Check]:
        names = cni_config_names(ctx)
        first = names[0] if names else "(none)"
        shadowing = f"{CNI_CONFIG_DIR}/{first} shadows {FLANNEL_CONFLIST_NAME}: remove it"
        checks = [Check(f"CRI-O uses {FLANNEL_CONFLIST_NAME} (the first file in {CNI_CONFIG_DIR})",
                        first == FLANNEL_CONFLIST_NAME,
                        f"first is {first}" if first in (FLANNEL_CONFLIST_NAME, "(none)") else shadowing)]
        text = ctx.read(f"{CNI_CONFIG_DIR}/{FLANNEL_CONFLIST_NAME}")
        if text is not None:
            try:
                document = json.loads(text)
            except ValueError:
                document = {"cniVersion": "(not JSON)"}
            version = document.get("cniVersion", "") if isinstance(document, dict) else "(not a JSON object)"
            wanted = ctx.answers.pins.cni_version
            checks.append(Check(f"{FLANNEL_CONFLIST_NAME} has cniVersion {wanted}", version == wanted,
                                f"cniVersion {version!r}" if version else "no cniVersion"))
        return checks
