"""Stand-ins for minikube, kubectl and ip: one single-node cluster (none driver) kept in the shared state."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import time
import zlib
from pathlib import Path

from wizard.simulate import sim

# random and textwrap are imported by the functions that need them: every stand-in call is a new interpreter.

DEFAULT_KUBERNETES = "v1.35.1"  # what minikube v1.38 starts without --kubernetes-version
MINIKUBE_COMMIT = "5d1bc9a5e9a1b6ec5a4b0a1c4a1a0e0a6d52e6e1"
NODE = "minikube"
NODE_IP = "192.168.122.10"
ROUTER_IP = "192.168.122.1"
UPLINK, UPLINK_MTU = "eth0", 1500
DEFAULT_POD_CIDR = "10.244.0.0/16"  # minikube's CNIs and kubeadm config use it unless told otherwise
CRIO_SOCKET = "/var/run/crio/crio.sock"
FIRST_PID = 8100  # where the shared process counter starts (crio's stand-in counts from the same `next_pid`)
CNI_DIR = "/etc/cni/net.d"
PLUGIN_DIR = "/opt/cni/bin"
IPAM_DIR = "/var/lib/cni/networks"
SUBNET_ENV = "/run/flannel/subnet.env"
FLANNEL_CONFLIST = f"{CNI_DIR}/10-flannel.conflist"
STRAY_CONFLIST = f"{CNI_DIR}/10-crio-bridge.conflist"
MINIKUBE_DIRS = ("/var/lib/minikube", "/etc/kubernetes/manifests", "/var/tmp/minikube")
SUPPORTED_CNI_VERSIONS = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
# what the CNI library of the seed's host said about a conflist without cniVersion (DOMAIN.md sections 4, 7)
LEGACY_VERSION_ERROR = 'cannot convert version ["" "0.1.0" "0.2.0"] to 0.4.0'
# backend -> (device flanneld creates, its kind, bytes of encapsulation taken off the uplink MTU)
BACKENDS = {"vxlan": ("flannel.1", "vxlan", 50), "host-gw": (None, None, 0),
            "wireguard": ("flannel-wg", "wireguard", 80), "udp": ("flannel0", "tun", 28)}
CONNECTION_REFUSED = "The connection to the server localhost:8080 was refused - did you specify the right host or port?"
# minikube's reason codes (pkg/minikube/reason): the exit codes of the failures simulated here
EXIT_USAGE, EXIT_DRIVER, EXIT_PROVIDER, EXIT_GUEST, EXIT_CONNTRACK, EXIT_RUNTIME, EXIT_KUBELET, EXIT_NO_PROFILE = (
    14, 55, 69, 80, 86, 90, 109, 85)
KUBE_RESOURCES = {"Namespace": "namespace", "ClusterRole": "clusterrole.rbac.authorization.k8s.io",
                  "ClusterRoleBinding": "clusterrolebinding.rbac.authorization.k8s.io",
                  "ServiceAccount": "serviceaccount", "ConfigMap": "configmap", "DaemonSet": "daemonset.apps",
                  "Deployment": "deployment.apps", "Service": "service", "Pod": "pod"}
# APIs the 2019 flannel manifest uses, gone from current Kubernetes
REMOVED_APIS = ("extensions/v1beta1", "policy/v1beta1", "rbac.authorization.k8s.io/v1beta1")
CRIO_EXAMPLE_BRIDGE = {  # CRI-O's contrib/cni/10-crio-bridge.conflist
    "cniVersion": "1.0.0", "name": "crio",
    "plugins": [{"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": True, "hairpinMode": True,
                 "ipam": {"type": "host-local", "routes": [{"dst": "0.0.0.0/0"}],
                          "ranges": [[{"subnet": "10.85.0.0/16"}]]}}],
}
MINIKUBE_FLANNEL_CNI_CONF = {  # the cni-conf.json of minikube's built-in flannel manifest
    "name": "cbr0", "cniVersion": "0.3.1",
    "plugins": [{"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
                {"type": "portmap", "capabilities": {"portMappings": True}}],
}
MINIKUBE_BRIDGE_CONF = {  # minikube's bridge CNI, /etc/cni/net.d/1-k8s.conflist
    "cniVersion": "0.4.0", "name": "bridge",
    "plugins": [{"type": "bridge", "bridge": "bridge", "addIf": "true", "isDefaultGateway": True,
                 "forceAddress": False, "ipMasq": True, "hairpinMode": True,
                 "ipam": {"type": "host-local", "subnet": DEFAULT_POD_CIDR}},
                {"type": "portmap", "capabilities": {"portMappings": True}}, {"type": "firewall"}],
}


# ---- shared state helpers ----------------------------------------------------------------------

def _fault(data: dict, name: str) -> bool:
    """sim.fault() for code already holding the state lock (sim.fault would wait for that lock)."""
    return name in sim.active_faults() and name not in data.get("faults_fired", [])


def _fire(data: dict, name: str) -> None:
    data.setdefault("faults_fired", []).append(name)


def _new_id() -> str:
    """A CRI-O container or sandbox id (64 hex digits)."""
    return os.urandom(32).hex()


def _new_uid() -> str:
    """A Kubernetes object uid (a random UUID)."""
    digits = os.urandom(16).hex()
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:]}"


def _allocate_pids(data: dict, count: int) -> int:
    """The first of `count` consecutive new process ids, from the counter every stand-in shares."""
    first = data.get("next_pid", FIRST_PID)
    data["next_pid"] = first + count + 3
    return first


def _crio_version() -> str:
    found = sim.which("crio")
    return ((sim.installed_version("crio", found) if found else None) or "unknown").lstrip("v")


def _suffix(length: int = 5) -> str:
    import random

    return "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=length))


def _gateway(network: str) -> str:
    """The first address of a network with its prefix, as a bridge or flannel holds it: 10.244.0.1/24."""
    net = ipaddress.ip_network(network, strict=False)
    return f"{net.network_address + 1}/{net.prefixlen}"


def _node_subnet(pod_cidr: str) -> str:
    """The node's podCIDR: the controller-manager hands out /24s from the cluster CIDR, the first one here."""
    return str(next(ipaddress.ip_network(pod_cidr).subnets(new_prefix=24)))


def _os_release() -> dict[str, str]:
    values = {}
    path = sim.host_path("/etc/os-release")
    for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"')
    return values


def _age(since: float) -> str:
    seconds = max(0, int(time.time() - since))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 600:
        return f"{seconds // 60}m{seconds % 60}s"
    return f"{seconds // 60}m" if seconds < 3 * 3600 else f"{seconds // 3600}h"


def _set_link(data: dict, name: str, kind: str, address: str, mtu: int, **details: object) -> None:
    link = data.setdefault("links", {}).setdefault(name, {})
    link.update({"kind": kind, "addr": address, "mtu": mtu, **details})


# ---- pods --------------------------------------------------------------------------------------

def _new_pod(name: str, namespace: str, labels: dict, container: str, image: str, command: list[str],
             host_network: bool) -> dict:
    return {"name": name, "namespace": namespace, "uid": _new_uid(), "labels": labels,
            "host_network": host_network, "container": {"name": container, "image": image, "command": command},
            "created": time.time(), "phase": "Pending", "ready": False, "waiting": "", "ip": "",
            "sandbox": "", "container_id": "", "pid": 0, "events": [["Normal", "Scheduled", "default-scheduler",
                                                                       f"Successfully assigned {namespace}/{name} "
                                                                       f"to {NODE}"]]}


def _event(pod: dict, kind: str, reason: str, source: str, message: str) -> None:
    last = pod["events"][-1] if pod["events"] else None
    if last and last[:4] == [kind, reason, source, message]:
        last.append("repeat")  # kubectl shows repeats as "(xN over ...)"
    else:
        pod["events"].append([kind, reason, source, message])


def _run_pod(data: dict, pod: dict, address: str) -> None:
    first = _allocate_pids(data, 2)  # conmon, then its child: the container's process (as ps shows it)
    pod.update({"phase": "Running", "ready": True, "waiting": "", "ip": address, "started": time.time(),
                "sandbox": _new_id(), "container_id": _new_id(), "pid": first + 1})
    container = pod["container"]
    for reason, message in (("Pulled", f'Container image "{container["image"]}" already present on machine'),
                            ("Created", f"Created container {container['name']}"),
                            ("Started", f"Started container {container['name']}")):
        _event(pod, "Normal", reason, "kubelet", message)


def _control_plane(version: str) -> list[dict]:
    endpoint = f"--advertise-address={NODE_IP}"
    specs = [
        (f"etcd-{NODE}", {"component": "etcd", "tier": "control-plane"}, "etcd",
         "registry.k8s.io/etcd:3.6.6-0", ["etcd", f"--advertise-client-urls=https://{NODE_IP}:2379"]),
        (f"kube-apiserver-{NODE}", {"component": "kube-apiserver", "tier": "control-plane"}, "kube-apiserver",
         f"registry.k8s.io/kube-apiserver:{version}", ["kube-apiserver", endpoint, "--secure-port=8443"]),
        (f"kube-controller-manager-{NODE}", {"component": "kube-controller-manager", "tier": "control-plane"},
         "kube-controller-manager", f"registry.k8s.io/kube-controller-manager:{version}",
         ["kube-controller-manager", "--allocate-node-cidrs=true"]),
        (f"kube-scheduler-{NODE}", {"component": "kube-scheduler", "tier": "control-plane"}, "kube-scheduler",
         f"registry.k8s.io/kube-scheduler:{version}", ["kube-scheduler", "--leader-elect=false"]),
        (f"kube-proxy-{_suffix()}", {"k8s-app": "kube-proxy"}, "kube-proxy",
         f"registry.k8s.io/kube-proxy:{version}",
         ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"]),
        ("storage-provisioner", {"integration-test": "storage-provisioner"}, "storage-provisioner",
         "gcr.io/k8s-minikube/storage-provisioner:v5", ["/storage-provisioner"]),
    ]
    return [_new_pod(name, "kube-system", labels, container, image, command, True)
            for name, labels, container, image, command in specs]


def _coredns() -> dict:
    template_hash = "7d764666f9"
    return _new_pod(f"coredns-{template_hash}-{_suffix()}", "kube-system",
                    {"k8s-app": "kube-dns", "pod-template-hash": template_hash}, "coredns",
                    "registry.k8s.io/coredns/coredns:v1.12.4", ["/coredns", "-conf", "/etc/coredns/Corefile"], False)


def _sync_cri(data: dict) -> None:
    """Mirror the running pods into the shared `pods` list that crictl and ps read (others' pods stay).
    The labels are the kubelet's, from which crictl shows the POD and NAMESPACE columns."""
    pods = [pod for pod in data.get("pods", []) if "kube_uid" not in pod]
    for pod in data["cluster"]["pods"]:
        if pod["phase"] != "Running":
            continue
        container = pod["container"]
        labels = {**pod["labels"], "io.kubernetes.pod.name": pod["name"],
                  "io.kubernetes.pod.namespace": pod["namespace"], "io.kubernetes.pod.uid": pod["uid"]}
        pods.append({"id": pod["sandbox"], "name": pod["name"], "namespace": pod["namespace"], "uid": pod["uid"],
                     "attempt": 0, "ip": "" if pod["host_network"] else pod["ip"], "state": "SANDBOX_READY",
                     "host_network": pod["host_network"], "created": pod["started"], "labels": labels,
                     "kube_uid": pod["uid"],
                     "containers": [{"id": pod["container_id"], "name": container["name"],
                                     "image": container["image"], "pid": pod["pid"], "command": container["command"],
                                     "created": pod["started"], "started": pod["started"], "attempt": 0,
                                     "state": "CONTAINER_RUNNING"}]})
    data["pods"] = pods


# ---- the CNI configuration CRI-O uses -----------------------------------------------------------

def _read_subnet_env() -> dict[str, str]:
    path = sim.host_path(SUBNET_ENV)
    if not path.is_file():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _active_network() -> dict | None:
    """The network of the lexically first parseable CNI config, as libcni picks it (None: no config)."""
    folder = sim.host_path(CNI_DIR)
    if not folder.is_dir():
        return None
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix not in (".conf", ".conflist", ".json"):
            continue
        try:
            config = json.loads(path.read_text(errors="replace"))
        except ValueError:
            continue  # libcni skips a file it cannot parse
        if isinstance(config, dict):
            return _network_from(path.name, config)
    return None


def _network_from(file_name: str, config: dict) -> dict:
    plugins = config.get("plugins") or [config]
    first = plugins[0] if isinstance(plugins[0], dict) else {}
    kind = first.get("type", "")
    network = {"file": file_name, "name": config.get("name", ""), "type": kind, "error": None,
               "subnet": None, "gateway": None, "bridge": None, "mtu": UPLINK_MTU}
    needed = [plugin.get("type", "") for plugin in plugins]
    needed += [plugin["ipam"].get("type", "") for plugin in plugins if isinstance(plugin.get("ipam"), dict)]
    if kind == "flannel":
        needed += ["bridge", "host-local"]  # flannel's plugin delegates to these
    missing = next((name for name in needed if name and not sim.host_path(f"{PLUGIN_DIR}/{name}").is_file()), None)
    version = config.get("cniVersion", "")
    if missing:
        network["error"] = f'failed to find plugin "{missing}" in path [{PLUGIN_DIR}]'
    elif not version:
        network["error"] = f'plugin type="{kind}" failed (add): {LEGACY_VERSION_ERROR}'
    elif version not in SUPPORTED_CNI_VERSIONS:
        supported = " ".join(f'"{v}"' for v in SUPPORTED_CNI_VERSIONS)
        network["error"] = (f'plugin type="{kind}" failed (add): incompatible CNI versions; '
                            f'config is "{version}", plugin supports [{supported}]')
    elif kind == "flannel":
        values = _read_subnet_env()
        if "FLANNEL_SUBNET" not in values:
            network["error"] = (f"plugin type=\"flannel\" failed (add): failed to load flannel 'subnet.env' file: "
                                f"open {SUBNET_ENV}: no such file or directory. "
                                "Check the flannel pod log for this node.")
        else:
            network.update(subnet=str(ipaddress.ip_interface(values["FLANNEL_SUBNET"]).network),
                           gateway=values["FLANNEL_SUBNET"], bridge="cni0",
                           mtu=int(values.get("FLANNEL_MTU", UPLINK_MTU)))
    elif kind == "bridge":
        ipam = first.get("ipam") or {}
        try:
            subnet = ipam.get("subnet") or ipam["ranges"][0][0]["subnet"]
            network.update(subnet=str(ipaddress.ip_network(subnet, strict=False)), gateway=_gateway(subnet),
                           bridge=first.get("bridge", "cni0"))
        except (KeyError, IndexError, TypeError, ValueError):
            network["error"] = 'plugin type="bridge" failed (add): no IP ranges specified'
    else:
        network["error"] = (f'plugin type="{kind}" failed (add): '
                            "the simulated host runs bridge and flannel networks only")
    return network


def _free_address(data: dict, subnet: str) -> str:
    taken = {pod.get("ip") for pod in data.get("pods", [])} | {pod["ip"] for pod in data["cluster"]["pods"]}
    hosts = ipaddress.ip_network(subnet).hosts()
    next(hosts)  # the gateway
    return next(str(address) for address in hosts if str(address) not in taken)


def _attach(data: dict, pod: dict, network: dict | None) -> None:
    """What the kubelet does for a pod without a sandbox: wait for a network, or create one (CNI ADD)."""
    if network is None:
        pod["waiting"] = ""
        _event(pod, "Warning", "FailedScheduling", "default-scheduler",
               "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. "
               "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
        return
    if network["error"]:
        pod["waiting"] = "ContainerCreating"
        # the same id for every retry of this pod, so that the repeated event is counted, not listed again
        sandbox = pod.setdefault("failed_sandbox", _new_id())
        _event(pod, "Warning", "FailedCreatePodSandBox", "kubelet",
               "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to create pod network sandbox "
               f"k8s_{pod['name']}_{pod['namespace']}_{pod['uid']}_0({sandbox}): error adding pod "
               f"{pod['namespace']}_{pod['name']} to CNI network \"{network['name']}\": {network['error']}")
        return
    address = _free_address(data, network["subnet"])
    sim.write(f"{IPAM_DIR}/{network['name']}/{address}", _new_id() + "\neth0")
    _set_link(data, network["bridge"], "bridge", network["gateway"], network["mtu"])
    _run_pod(data, pod, address)


def _reconcile(data: dict) -> None:
    """Bring the cluster up to date with the host's files, as the kubelet keeps doing: pods without a
    sandbox try again. A running pod keeps the address it got (a changed CNI config needs a restart)."""
    cluster = data.get("cluster")
    if not cluster:
        return
    network = _active_network()
    for pod in cluster["pods"]:
        if pod["phase"] != "Running" and not pod["host_network"]:
            _attach(data, pod, network)
    _sync_cri(data)


# ---- flannel -----------------------------------------------------------------------------------

def _without_cni_version(conflist: str) -> str:
    try:
        document = json.loads(conflist)
    except ValueError:
        return conflist
    document.pop("cniVersion", None)
    return json.dumps(document, indent=2) + "\n"


def _deploy_flannel(data: dict, cni_conf: str, net_conf: dict, namespace: str, image: str, plugin_tag: str) -> None:
    """What the kube-flannel DaemonSet does on the node: its init containers copy the flannel plugin and
    the conflist, then flanneld leases the node's podCIDR, writes subnet.env and creates its device."""
    cluster = data["cluster"]
    backend = net_conf.get("Backend", {}).get("Type", "vxlan")
    device, device_kind, overhead = BACKENDS.get(backend, BACKENDS["vxlan"])
    if not sim.host_path(f"{PLUGIN_DIR}/flannel").is_file():
        sim.install_binary(f"{PLUGIN_DIR}/flannel", "flannel", plugin_tag)
    if _fault(data, "cni-version"):
        sim.leave_artifact(data, "cni-version", FLANNEL_CONFLIST, restore=cni_conf)
        cni_conf = _without_cni_version(cni_conf)  # the conflist behind the seed's error (DOMAIN.md section 4)
        _fire(data, "cni-version")
    sim.write(FLANNEL_CONFLIST, cni_conf)
    if _fault(data, "stray-conflist"):
        sim.write(STRAY_CONFLIST, json.dumps(CRIO_EXAMPLE_BRIDGE, indent=2) + "\n")
        sim.leave_artifact(data, "stray-conflist", STRAY_CONFLIST)
        _fire(data, "stray-conflist")
    flannel_subnet = _gateway(cluster["node_pod_cidr"])
    mtu = UPLINK_MTU - overhead
    sim.write(SUBNET_ENV, f"FLANNEL_NETWORK={net_conf.get('Network', '')}\nFLANNEL_SUBNET={flannel_subnet}\n"
                          f"FLANNEL_MTU={mtu}\nFLANNEL_IPMASQ=true\n")
    if device == "flannel.1":
        _set_link(data, device, device_kind, f"{cluster['node_pod_cidr'].split('/')[0]}/32", mtu,
                  vxlan_id=1, dstport=8472)
    elif device:
        _set_link(data, device, device_kind, f"{flannel_subnet.split('/')[0]}/32", mtu)
    cluster["pods"] = [pod for pod in cluster["pods"] if pod["labels"].get("app") != "flannel"]
    pod = _new_pod(f"kube-flannel-ds-{_suffix()}", namespace, {"app": "flannel", "k8s-app": "flannel", "tier": "node"},
                   "kube-flannel", image, ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"], True)
    _run_pod(data, pod, NODE_IP)
    cluster["pods"].append(pod)
    cluster["flannel"] = {"namespace": namespace, "network": net_conf.get("Network", ""), "backend": backend,
                          "image": image, "created": time.time()}


def _documents(text: str) -> list[dict]:
    """kind, apiVersion, name, namespace and the text of each YAML document, read line by line (the
    stand-ins stay free of a YAML library so that every call starts fast)."""
    found = []
    for chunk in re.split(r"^---[ \t]*$", text, flags=re.M):
        fields: dict = {"text": chunk}
        section = None
        for line in chunk.splitlines():
            top = re.match(r"^([A-Za-z]+):\s*(.*?)\s*$", line)
            if top:
                section = top.group(1)
                if section in ("kind", "apiVersion") and top.group(2):
                    fields[section] = top.group(2).strip("'\"")
                continue
            child = re.match(r"^  (name|namespace):\s*(\S+)", line)
            if section == "metadata" and child and child.group(1) not in fields:
                fields[child.group(1)] = child.group(2).strip("'\"")
        if "kind" in fields:
            found.append(fields)
    return found


def _embedded_file(text: str, key: str) -> str | None:
    """The value of a ConfigMap data key: a literal block (`key: |`) or a quoted one-line string."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(rf"^(\s*){re.escape(key)}:\s*(.*?)\s*$", line)
        if not match:
            continue
        indent, value = len(match.group(1)), match.group(2)
        if value.startswith("|"):
            block = []
            for following in lines[index + 1:]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                block.append(following)
            import textwrap

            return textwrap.dedent("\n".join(block)).strip() + "\n"
        if value.startswith('"'):
            try:
                return json.loads(value)  # a double-quoted YAML string reads as JSON unless it uses YAML escapes
            except ValueError:
                return value.strip('"')
        if value.startswith("'"):
            return value[1:-1].replace("''", "'")
        return value
    return None


def _flannel_from_manifest(data: dict, text: str) -> bool:
    """Deploy flannel when the manifest carries its ConfigMap and DaemonSet; False when it does not."""
    documents = _documents(text)
    config_map = next((d for d in documents if d["kind"] == "ConfigMap" and d.get("name") == "kube-flannel-cfg"), None)
    daemon_set = next((d for d in documents if d["kind"] == "DaemonSet" and "flannel" in d.get("name", "")), None)
    if not config_map or not daemon_set:
        return False
    cni_conf = _embedded_file(config_map["text"], "cni-conf.json") or ""
    try:
        net_conf = json.loads(_embedded_file(config_map["text"], "net-conf.json") or "{}")
    except ValueError:
        net_conf = {}
    images = re.findall(r"image:\s*(\S+)", daemon_set["text"])
    image = next((i for i in images if "/flannel:" in i), images[0] if images else "ghcr.io/flannel-io/flannel")
    plugin_image = next((i for i in images if "flannel-cni-plugin" in i), "")
    _deploy_flannel(data, cni_conf, net_conf, daemon_set.get("namespace", "kube-system"), image,
                    plugin_image.rpartition(":")[2] or "unknown")
    return True


# ---- kubectl -----------------------------------------------------------------------------------

KUBECTL_VALUE_FLAGS = {"-n": "namespace", "--namespace": "namespace", "-o": "output", "--output": "output",
                       "-l": "selector", "--selector": "selector", "-f": "filename", "--filename": "filename",
                       "--for": "for", "--timeout": "timeout", "--kubeconfig": "kubeconfig", "--context": "context"}


def _kubectl_args(argv: list[str]) -> tuple[list[str], dict]:
    words: list[str] = []
    flags: dict = {}
    index = 0
    while index < len(argv):
        arg = argv[index]
        name, equals, value = arg.partition("=")
        if arg in ("-A", "--all-namespaces"):
            flags["all"] = True
        elif name in KUBECTL_VALUE_FLAGS and equals:
            flags[KUBECTL_VALUE_FLAGS[name]] = value
        elif arg in KUBECTL_VALUE_FLAGS:
            flags[KUBECTL_VALUE_FLAGS[arg]] = argv[index + 1] if index + 1 < len(argv) else ""
            index += 1
        elif re.match(r"^-[nol].", arg):
            flags[KUBECTL_VALUE_FLAGS[arg[:2]]] = arg[2:]
        elif arg.startswith("-"):
            flags[name.lstrip("-")] = value or True
        else:
            words.append(arg)
        index += 1
    return words, flags


def _seconds(timeout: str, default: float) -> float:
    match = re.fullmatch(r"(\d+)(s|m)?", timeout or "")
    if not match:
        return default
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


def _selected(pods: list[dict], flags: dict, name: str | None = None) -> list[dict]:
    namespace = flags.get("namespace", "default")
    chosen = [pod for pod in pods if flags.get("all") or pod["namespace"] == namespace]
    if name:
        chosen = [pod for pod in chosen if pod["name"] == name]
    for term in filter(None, (flags.get("selector") or "").split(",")):
        key, _, value = term.partition("=")
        chosen = [pod for pod in chosen if key in pod["labels"] and (not value or pod["labels"][key] == value)]
    return chosen


def _pod_status(pod: dict) -> str:
    return pod["waiting"] or pod["phase"]


def _pod_json(pod: dict) -> dict:
    container = pod["container"]
    state = {"running": {"startedAt": "2026-01-01T00:00:00Z"}} if pod["phase"] == "Running" else \
        {"waiting": {"reason": pod["waiting"] or "Pending"}}
    status: dict = {"phase": pod["phase"], "hostIP": NODE_IP,
                    "conditions": [{"type": "Ready", "status": str(pod["ready"])}]}
    if pod["ip"]:
        status.update(podIP=pod["ip"], podIPs=[{"ip": pod["ip"]}])
    if pod["phase"] == "Running" or pod["waiting"]:
        status["containerStatuses"] = [{"name": container["name"], "image": container["image"],
                                        "ready": pod["ready"], "restartCount": 0, "state": state,
                                        **({"containerID": f"cri-o://{pod['container_id']}"}
                                           if pod["container_id"] else {})}]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod["name"], "namespace": pod["namespace"], "uid": pod["uid"],
                         "labels": pod["labels"]},
            "spec": {"nodeName": NODE, "hostNetwork": pod["host_network"],
                     "containers": [{"name": container["name"], "image": container["image"]}]},
            "status": status}


def _node_json(cluster: dict) -> dict:
    network = _active_network()
    ready = network is not None
    release = _os_release()
    annotations = {"kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/crio/crio.sock"}
    if cluster.get("flannel"):
        annotations.update({"flannel.alpha.coreos.com/backend-type": cluster["flannel"]["backend"],
                            "flannel.alpha.coreos.com/public-ip": NODE_IP})
    message = "kubelet is posting ready status" if ready else (
        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network "
        f"plugin returns error: no CNI configuration file in {CNI_DIR}/. Has your network provider started?")
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": NODE, "annotations": annotations,
                         "labels": {"kubernetes.io/hostname": NODE, "node-role.kubernetes.io/control-plane": ""}},
            "spec": {"podCIDR": cluster["node_pod_cidr"], "podCIDRs": [cluster["node_pod_cidr"]]},
            "status": {"addresses": [{"type": "InternalIP", "address": NODE_IP},
                                     {"type": "Hostname", "address": NODE}],
                       "conditions": [{"type": "Ready", "status": str(ready), "message": message,
                                       "reason": "KubeletReady" if ready else "KubeletNotReady"}],
                       "nodeInfo": {"containerRuntimeVersion": f"cri-o://{_crio_version()}",
                                    "kubeletVersion": cluster["kubernetes"], "osImage": release.get("PRETTY_NAME", ""),
                                    "architecture": "amd64", "operatingSystem": "linux"}}}


def _print_json(items: list[dict]) -> None:
    sim.say(json.dumps({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}},
                       indent=4))


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) + 3 for i in range(len(rows[0]))]
    for row in rows:
        sim.say("".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _get(cluster: dict, words: list[str], flags: dict) -> int:
    kind = words[0].split("/")[0] if words else ""
    name = words[0].partition("/")[2] or (words[1] if len(words) > 1 else None)
    output = flags.get("output", "")
    if kind in ("pods", "pod", "po"):
        pods = _selected(cluster["pods"], flags, name)
        if name and not pods:
            sim.say(f'Error from server (NotFound): pods "{name}" not found', err=True)
            return 1
        if output == "json":
            _print_json([_pod_json(pod) for pod in pods])
            return 0
        if not pods:
            sim.say(f"No resources found in {flags.get('namespace', 'default')} namespace.", err=True)
            return 0
        header = (["NAMESPACE"] if flags.get("all") else []) + ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        header += ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"] if output == "wide" else []
        rows = [header]
        for pod in pods:
            row = ([pod["namespace"]] if flags.get("all") else []) + [
                pod["name"], f"{int(pod['ready'])}/1", _pod_status(pod), "0", _age(pod["created"])]
            row += [pod["ip"] or "<none>", NODE, "<none>", "<none>"] if output == "wide" else []
            rows.append(row)
        _table(rows)
        return 0
    if kind in ("nodes", "node", "no"):
        node = _node_json(cluster)
        if output == "json":
            _print_json([node])
            return 0
        ready = node["status"]["conditions"][0]["status"] == "True"
        _table([["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
                [NODE, "Ready" if ready else "NotReady", "control-plane", _age(cluster["started"]),
                 cluster["kubernetes"]]])
        return 0
    if kind in ("daemonsets", "daemonset", "ds"):
        flannel = cluster.get("flannel")
        if not flannel or not (flags.get("all") or flags.get("namespace", "default") == flannel["namespace"]):
            sim.say(f"No resources found in {flags.get('namespace', 'default')} namespace.", err=True)
            return 0
        ready = str(int(_flannel_ready(cluster)))
        _table([["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
                ["kube-flannel-ds", "1", "1", ready, "1", ready, "<none>", _age(flannel["created"])]])
        return 0
    sim.say(f'error: the server doesn\'t have a resource type "{kind}"', err=True)
    return 1


def _flannel_ready(cluster: dict) -> bool:
    return any(pod["labels"].get("app") == "flannel" and pod["ready"] for pod in cluster["pods"])


def _describe(cluster: dict, words: list[str], flags: dict) -> int:
    if not words or words[0].split("/")[0] not in ("pods", "pod", "po"):
        sim.say("error: the simulated cluster describes pods only", err=True)
        return 1
    name = words[0].partition("/")[2] or (words[1] if len(words) > 1 else None)
    pods = _selected(cluster["pods"], flags, name)
    if not pods:
        sim.say(f"No resources found in {flags.get('namespace', 'default')} namespace.", err=True)
        return 1
    for pod in pods:
        container = pod["container"]
        labels = [f"{key}={value}" for key, value in pod["labels"].items()]
        state = "Running" if pod["phase"] == "Running" else "Waiting"
        sim.say(f"Name:             {pod['name']}",
                f"Namespace:        {pod['namespace']}",
                f"Node:             {NODE}/{NODE_IP}",
                f"Labels:           {labels[0] if labels else '<none>'}",
                *(f"                  {label}" for label in labels[1:]),
                f"Status:           {pod['phase']}",
                f"IP:               {pod['ip']}",
                "Containers:",
                f"  {container['name']}:",
                f"    Container ID:   {'cri-o://' + pod['container_id'] if pod['container_id'] else ''}",
                f"    Image:          {container['image']}",
                f"    State:          {state}",
                *([f"      Reason:       {pod['waiting']}"] if pod["waiting"] else []),
                f"    Ready:          {pod['ready']}",
                "Events:",
                "  Type     Reason                  Age   From               Message",
                "  ----     ------                  ----  ----               -------")
        for kind, reason, source, message, *repeats in pod["events"]:
            age = f"{_age(pod['created'])}" + (f" (x{len(repeats) + 1} over {_age(pod['created'])})" if repeats else "")
            sim.say(f"  {kind:<8} {reason:<23} {age:<5} {source:<18} {message}")
        sim.say("")
    return 0


def _wait(cluster: dict, words: list[str], flags: dict) -> int:
    condition = flags.get("for", "")
    if condition.lower() != "condition=ready":
        sim.say(f"error: the simulated cluster waits for condition=Ready only, not {condition!r}", err=True)
        return 1
    target = words[0] if words else ""
    name = target.partition("/")[2] or (words[1] if len(words) > 1 else None)
    pods = _selected(cluster["pods"], flags, name)
    if not pods:
        sim.say("error: no matching resources found", err=True)
        return 1
    waiting = [pod for pod in pods if not pod["ready"]]
    if waiting:
        sim.pace(_seconds(flags.get("timeout", ""), 30))
        sim.say(f"error: timed out waiting for the condition on pods/{waiting[0]['name']}", err=True)
        return 1
    for pod in pods:
        sim.say(f"pod/{pod['name']} condition met")
    return 0


def _rollout_target(words: list[str]) -> tuple[str, str, str]:
    """(action, resource, name) of `rollout ACTION ds/NAME`, with the resource as the API names it."""
    action, target = (words + ["", ""])[:2]
    kind, _, name = target.partition("/")
    resource = "daemonsets.apps" if kind in ("ds", "daemonset", "daemonsets") else "deployments.apps"
    return action, resource, name


def _not_found(resource: str, name: str) -> int:
    sim.say(f'Error from server (NotFound): {resource} "{name}" not found', err=True)
    return 1


def _restart(data: dict, words: list[str], flags: dict) -> int:
    _, resource, name = _rollout_target(words)
    if resource != "deployments.apps" or name != "coredns" or flags.get("namespace") != "kube-system":
        return _not_found(resource, name)
    cluster = data["cluster"]
    # coredns rolls with maxUnavailable 1: with one replica the old pod goes first
    cluster["pods"] = [pod for pod in cluster["pods"] if pod["labels"].get("k8s-app") != "kube-dns"]
    cluster["pods"].append(_coredns())
    _reconcile(data)
    sim.say("deployment.apps/coredns restarted")
    return 0


def _rollout_status(cluster: dict, words: list[str], flags: dict) -> int:
    _, resource, name = _rollout_target(words)
    namespace = flags.get("namespace", "default")
    flannel = cluster.get("flannel") or {}
    if resource == "daemonsets.apps" and name == "kube-flannel-ds" and flannel.get("namespace") == namespace:
        done, waiting = _flannel_ready(cluster), "0 of 1 updated pods are available"
        finished = f'daemon set "{name}" successfully rolled out'
    elif resource == "deployments.apps" and name == "coredns" and namespace == "kube-system":
        done = all(pod["ready"] for pod in _selected(cluster["pods"], {**flags, "selector": "k8s-app=kube-dns"}))
        waiting, finished = "0 of 1 updated replicas are available", f'deployment "{name}" successfully rolled out'
    else:
        return _not_found(resource, name)
    kind = "daemon set" if resource == "daemonsets.apps" else "deployment"
    if not done:
        sim.say(f'Waiting for {kind} "{name}" rollout to finish: {waiting}...')
        sim.pace(_seconds(flags.get("timeout", ""), 30))
        sim.say("error: timed out waiting for the condition", err=True)
        return 1
    sim.pace(3)
    sim.say(finished)
    return 0


def _delete_pods(data: dict, words: list[str], flags: dict) -> int:
    """Delete pods; their controller (or the kubelet, for static pods) makes replacements at once."""
    kind = words[0].split("/")[0] if words else ""
    if kind not in ("pods", "pod", "po"):
        sim.say("error: the simulated cluster deletes pods only", err=True)
        return 1
    cluster = data["cluster"]
    name = words[0].partition("/")[2] or (words[1] if len(words) > 1 else None)
    doomed = _selected(cluster["pods"], flags, name)
    if not doomed:
        sim.say(f"No resources found in {flags.get('namespace', 'default')} namespace.", err=True)
        return 1 if name else 0
    for pod in doomed:
        cluster["pods"].remove(pod)
        sim.say(f'pod "{pod["name"]}" deleted')
        # static pods (NAME-minikube) and the storage-provisioner come back under their name; the pods
        # of a ReplicaSet or DaemonSet get a new generated suffix
        keeps_name = pod["name"].endswith(f"-{NODE}") or pod["name"] == "storage-provisioner"
        container = pod["container"]
        name = pod["name"] if keeps_name else f"{pod['name'].rsplit('-', 1)[0]}-{_suffix()}"
        replacement = _new_pod(name, pod["namespace"], pod["labels"], container["name"], container["image"],
                               container["command"], pod["host_network"])
        cluster["pods"].append(replacement)
        if replacement["host_network"]:
            _run_pod(data, replacement, NODE_IP)
    _reconcile(data)
    return 0


def _apply(data: dict, flags: dict) -> int:
    file_name = flags.get("filename", "")
    path = sim.host_path(file_name) if file_name else None
    if path is None or not path.is_file():
        sim.say(f'error: the path "{file_name}" does not exist', err=True)
        return 1
    text = path.read_text(errors="replace")
    objects = data["cluster"].setdefault("objects", {})
    code = 0
    for document in _documents(text):
        kind, api = document["kind"], document.get("apiVersion", "")
        if api in REMOVED_APIS:
            sim.say(f'resource mapping not found for name: "{document.get("name", "")}" namespace: '
                    f'"{document.get("namespace", "")}" from "{file_name}": no matches for kind "{kind}" in version '
                    f'"{api}"', "ensure CRDs are installed first", err=True)
            code = 1
            continue
        resource = KUBE_RESOURCES.get(kind, kind.lower())
        key = f"{resource}/{document.get('namespace', '')}/{document.get('name', '')}"
        digest = zlib.crc32(document["text"].strip().encode())
        verb = "created" if key not in objects else ("unchanged" if objects[key] == digest else "configured")
        objects[key] = digest
        sim.say(f"{resource}/{document.get('name', '')} {verb}")
        sim.pace(0.1)
    if code == 0:
        _flannel_from_manifest(data, text)
        _reconcile(data)
    return code


def kubectl(argv: list[str]) -> int:
    words, flags = _kubectl_args(argv)
    command, rest = (words[0], words[1:]) if words else ("", [])
    version = sim.self_version("kubectl") or DEFAULT_KUBERNETES
    if command == "version":
        sim.say(f"Client Version: {version}", "Kustomize Version: v5.7.1")
        if sim.peek().get("cluster") and "client" not in flags:
            sim.say(f"Server Version: {sim.peek()['cluster']['kubernetes']}")
        return 0
    if command not in ("get", "describe", "wait", "rollout", "apply", "delete"):
        sim.say(f'error: unknown command "{command}" for "kubectl"', err=True)
        return 1
    with sim.state() as data:
        if not data.get("cluster"):
            sim.say(CONNECTION_REFUSED, err=True)
            return 1
        _reconcile(data)
        if command == "apply":
            return _apply(data, flags)
        if command == "delete":
            return _delete_pods(data, rest, flags)
        if command == "rollout" and rest[:1] == ["restart"]:
            return _restart(data, rest, flags)
    # the rest only reads, and may wait: without holding the state lock
    cluster = sim.peek()["cluster"]
    if command == "get":
        return _get(cluster, rest, flags)
    if command == "describe":
        return _describe(cluster, rest, flags)
    if command == "wait":
        return _wait(cluster, rest, flags)
    if rest[:1] == ["status"]:
        return _rollout_status(cluster, rest, flags)
    sim.say(f"error: the simulated kubectl knows rollout status and rollout restart, not {' '.join(rest[:1])!r}",
            err=True)
    return 1


# ---- minikube ----------------------------------------------------------------------------------

START_VALUE_FLAGS = ("driver", "vm-driver", "container-runtime", "kubernetes-version", "cni", "network-plugin")
# accepted and without effect on the simulated host (a real minikube honours them)
IGNORED_START_FLAGS = ("force", "wait", "wait-timeout", "memory", "cpus", "apiserver-ips", "apiserver-name",
                       "image-mirror-country", "image-repository", "addons", "alsologtostderr", "preload")
EXTRA_CONFIG_COMPONENTS = ("kubelet", "kubeadm", "apiserver", "controller-manager", "scheduler", "etcd", "kube-proxy")


def _exit(reason: str, message: str, code: int, *details: str) -> int:
    sim.say("", f"❌  Exiting due to {reason}: {message}", *details, err=True)
    return code


def _platform() -> str:
    release = _os_release()
    return f"{release.get('ID', 'linux').capitalize()} {release.get('VERSION_ID', '')}".strip()


def _start_options(argv: list[str]) -> tuple[dict, list[tuple[str, str, str]], str | None]:
    """(flags, extra-config entries as (component, key, value), a usage error)."""
    options: dict = {}
    extra: list[tuple[str, str, str]] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        name, equals, value = arg.lstrip("-").partition("=")
        if not arg.startswith("--"):
            return options, extra, f'unknown command "{arg}" for "minikube start"'
        if not equals and name in START_VALUE_FLAGS + ("extra-config",):
            value = argv[index + 1] if index + 1 < len(argv) else ""
            index += 1
        if name == "extra-config":
            setting, has_value, setting_value = value.partition("=")
            component, _, key = setting.partition(".")
            if component not in EXTRA_CONFIG_COMPONENTS or not key or not has_value:
                return options, extra, f'invalid extra-config "{value}": expected <component>.<key>=<value>'
            extra.append((component, key, setting_value))
        elif name in START_VALUE_FLAGS:
            options[name] = value
        elif name not in IGNORED_START_FLAGS:
            return options, extra, f"unknown flag: --{name}"
        index += 1
    return options, extra, None


def _start_cluster(argv: list[str]) -> int:
    options, extra, usage_error = _start_options(argv)
    if usage_error:
        sim.say(f"Error: {usage_error}", "See 'minikube start --help' for usage.", err=True)
        return EXIT_USAGE
    own_version = sim.self_version("minikube") or "unknown"
    version = options.get("kubernetes-version", DEFAULT_KUBERNETES)
    if version in ("stable", "latest", ""):
        version = DEFAULT_KUBERNETES
    if not version.startswith("v"):
        version = "v" + version
    if "vm-driver" in options:
        sim.say("Flag --vm-driver has been deprecated, use --driver instead", err=True)
    if "network-plugin" in options:
        sim.say("Flag --network-plugin has been deprecated, use --cni instead", err=True)
    driver = options.get("driver") or options.get("vm-driver", "")
    cni = options.get("cni", "bridge")
    existing = sim.peek().get("cluster")
    sim.say(f"😄  minikube {own_version} on {_platform()}", delay=0.3)
    if not driver:
        return _exit("DRV_NOT_DETECTED", "No possible driver was detected. Try specifying --driver, or see "
                     "https://minikube.sigs.k8s.io/docs/start/", EXIT_DRIVER)
    if driver != "none":
        return _exit(f"PROVIDER_{driver.upper()}_NOT_FOUND", f"The '{driver}' provider was not found: exec: "
                     f'"{driver}": executable file not found in $PATH', EXIT_PROVIDER)
    if cni not in ("bridge", "flannel", "false", "auto", "") and not sim.host_path(cni).is_file():
        return _exit("MK_USAGE", f"stat: stat {cni}: no such file or directory", EXIT_USAGE)
    sim.say(f"✨  Using the none driver based on {'existing profile' if existing else 'user configuration'}")
    runtime = options.get("container-runtime", "docker")
    if runtime not in ("cri-o", "crio"):
        return _exit("NOT_FOUND_CRI_DOCKERD", "", EXIT_PROVIDER, "",
                     "💡  Suggestion: ", "",
                     "    The none driver with Kubernetes v1.24+ and the docker container-runtime requires "
                     "cri-dockerd.")
    if sim.which("conntrack") is None:
        return _exit("GUEST_MISSING_CONNTRACK", f"Sorry, Kubernetes {version} requires conntrack to be installed "
                     "in root's path", EXIT_CONNTRACK)
    proxies = {name: value for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
               for value in [os.environ.get(name, "")] if value}
    if proxies:
        sim.say("🌐  Found network options:", *(f"    ▪ {name}={value}" for name, value in proxies.items()))
        if (proxies.get("HTTP_PROXY") or proxies.get("HTTPS_PROXY")) and NODE_IP not in proxies.get("NO_PROXY", ""):
            sim.say(f"❗  You appear to be using a proxy, but your NO_PROXY environment does not include the "
                    f"minikube IP ({NODE_IP}).",
                    "📘  Please see https://minikube.sigs.k8s.io/docs/handbook/vpn_and_proxy/ for more details")
    sim.say(f'👍  Starting "{NODE}" primary control-plane node in "{NODE}" cluster',
            *([f'🔄  Restarting existing none bare metal machine for "{NODE}" ...'] if existing else
              ["🤹  Running on localhost (CPUs=2, Memory=3911MB, Disk=51175MB) ..."]),
            f"ℹ️  OS release is {_os_release().get('PRETTY_NAME', 'Linux')}", delay=0.5)
    problem = _runtime_problem()
    if problem:
        return _exit("RUNTIME_ENABLE", problem[0], EXIT_RUNTIME, *problem[1:])
    sim.say(f"🎁  Preparing Kubernetes {version} on CRI-O {_crio_version()} ...", delay=0.5)
    for component, key, value in extra:
        sim.say(f"    ▪ {component}.{key}={value}")
    if not existing:
        for binary in ("kubelet", "kubectl", "kubeadm"):
            sim.say(f"    > {binary}.sha256:  64 B / 64 B [-------------------------] 100.00% ? p/s 0s")
            sim.say(f"    > {binary}:  58.92 MiB / 58.92 MiB [-------------] 100.00% 9.81 MiB p/s 6.2s", delay=6)
    sim.say("    ▪ Generating certificates and keys ...", delay=2)
    sim.say("    ▪ Booting up control plane ...", delay=20)
    if any(component == "kubelet" and key == "network-plugin" for component, key, _ in extra):
        return _exit("K8S_KUBELET_NOT_RUNNING", "wait: sudo /bin/bash -c \"env PATH=/var/lib/minikube/binaries/"
                     f"{version}:$PATH kubeadm init --config /var/tmp/minikube/kubeadm.yaml\": exit status 1",
                     EXIT_KUBELET, "stdout:", "[kubelet-check] The kubelet is not running", "",
                     "journalctl -u kubelet:",
                     "kubelet[2241]: E0101 00:00:00.000000    2241 run.go:72] \"command failed\" "
                     "err=\"failed to parse kubelet flag: unknown flag: --network-plugin\"",
                     "💡  Suggestion: Check output of 'journalctl -xeu kubelet'")
    sim.say("    ▪ Configuring RBAC rules ...", delay=1)
    pod_cidr = next((value for component, key, value in extra
                     if component == "kubeadm" and key == "pod-network-cidr"), DEFAULT_POD_CIDR)
    if cni == "flannel" and not sim.host_path(f"{PLUGIN_DIR}/portmap").is_file():
        return _exit("GUEST_START", "failed to start node: cni apply: required 'portmap' CNI plug-in not found: "
                     f"stat {PLUGIN_DIR}/portmap: exit status 1", EXIT_GUEST)
    cni_name = {"bridge": "bridge CNI", "flannel": "Flannel", "auto": "bridge CNI", "": "bridge CNI"}.get(
        cni, None if cni == "false" else f"Custom ({cni})")
    if cni_name:
        sim.say(f"🔗  Configuring {cni_name} (Container Networking Interface) ...", delay=2)
    with sim.state() as data:
        if not data.get("cluster"):
            _create_cluster(data, version, pod_cidr)
        data["cluster"]["cni"] = cni
        if cni in ("bridge", "auto", ""):
            sim.write(f"{CNI_DIR}/1-k8s.conflist", json.dumps(MINIKUBE_BRIDGE_CONF, indent=2) + "\n")
        elif cni == "flannel":
            net_conf = {"Network": data["cluster"]["pod_cidr"], "Backend": {"Type": "vxlan"}}
            _deploy_flannel(data, json.dumps(MINIKUBE_FLANNEL_CNI_CONF, indent=2) + "\n", net_conf, "kube-flannel",
                            "ghcr.io/flannel-io/flannel:v0.28.9", "v1.9.1-flannel1")
        elif cni != "false":
            _flannel_from_manifest(data, sim.host_path(cni).read_text(errors="replace"))
        _reconcile(data)
    sim.say("🤹  Configuring local host environment ...", "",
            "❗  The 'none' driver is designed for experts who need to integrate with an existing VM",
            "💡  Most users should use the newer 'docker' driver instead, which does not require root!",
            "📘  For more information, see: https://minikube.sigs.k8s.io/docs/reference/drivers/none/", "",
            "❗  kubectl and minikube configuration will be stored in /root",
            "❗  To use kubectl or minikube commands as your own user, you may need to relocate them. "
            "For example, to overwrite your own settings, run:", "",
            "    ▪ sudo mv /root/.kube /root/.minikube $HOME",
            "    ▪ sudo chown -R $USER $HOME/.kube $HOME/.minikube", "",
            "💡  This can also be done automatically by setting the env var CHANGE_MINIKUBE_NONE_USER=true")
    sim.say("🔎  Verifying Kubernetes components...",
            "    ▪ Using image gcr.io/k8s-minikube/storage-provisioner:v5", delay=4)
    sim.say("🌟  Enabled addons: storage-provisioner, default-storageclass",
            f'🏄  Done! kubectl is now configured to use "{NODE}" cluster and "default" namespace by default')
    return 0


def _runtime_problem() -> list[str] | None:
    """Why minikube cannot enable CRI-O here (its first line is the reason; the rest is the output shown)."""
    if sim.which("crictl") is None:
        return ["which crictl: exit status 1", "stdout:", "", "stderr:", ""]
    if not sim.host_path(CRIO_SOCKET).exists():
        return ["Failed to start container runtime: Temporary Error: sudo crictl version: exit status 1",
                "stdout:", "", "stderr:",
                'time="2026-01-01T00:00:00Z" level=fatal msg="validate service connection: validate CRI v1 runtime '
                'API for endpoint \\"unix:///var/run/crio/crio.sock\\": rpc error: code = Unavailable desc = '
                'connection error: desc = \\"transport: Error while dialing: dial unix /var/run/crio/crio.sock: '
                'connect: no such file or directory\\""']
    if not sim.host_path("/etc/crio/crio.conf.d/02-crio.conf").is_file():
        # minikube edits this drop-in with sed and cannot create it (DOMAIN.md step 5)
        return ['update pause_image: sh -c "sudo sed -i \'s|^.*pause_image = .*$|pause_image = '
                '\\"registry.k8s.io/pause:3.10.1\\"|\' /etc/crio/crio.conf.d/02-crio.conf": exit status 2',
                "stdout:", "", "stderr:",
                "sed: can't read /etc/crio/crio.conf.d/02-crio.conf: No such file or directory"]
    return None


def _create_cluster(data: dict, version: str, pod_cidr: str) -> None:
    for binary in ("kubeadm", "kubelet", "kubectl"):
        sim.install_binary(f"/var/lib/minikube/binaries/{version}/{binary}", binary, version)
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        sim.write(f"/etc/kubernetes/manifests/{component}.yaml", f"# static pod {component} (simulated)\n")
    sim.write("/var/tmp/minikube/kubeadm.yaml", f"kubernetesVersion: {version}\nnetworking:\n"
                                                f"  podSubnet: \"{pod_cidr}\"\n  serviceSubnet: 10.96.0.0/12\n")
    sim.write("/root/.kube/config", f"# simulated kubeconfig: cluster {NODE} at https://{NODE_IP}:8443\n")
    data["cluster"] = {"kubernetes": version, "pod_cidr": pod_cidr, "node_pod_cidr": _node_subnet(pod_cidr),
                       "started": time.time(), "objects": {}, "pods": _control_plane(version) + [_coredns()]}
    for pod in data["cluster"]["pods"]:
        if pod["host_network"]:
            _run_pod(data, pod, NODE_IP)
    data.setdefault("services", {})["kubelet"] = {"enabled": True, "active": True}


def _cluster_status() -> int:
    if not sim.peek().get("cluster"):
        sim.say(f'🤷  Profile "{NODE}" not found. Run "minikube profile list" to view all profiles.',
                '👉  To start a cluster, run: "minikube start"')
        return EXIT_NO_PROFILE
    sim.say(NODE, "type: Control Plane", "host: Running", "kubelet: Running", "apiserver: Running",
            "kubeconfig: Configured", "")
    return 0


def _delete_cluster() -> int:
    with sim.state() as data:
        cluster = data.pop("cluster", None)
        data["pods"] = [pod for pod in data.get("pods", []) if "kube_uid" not in pod]
        if "kubelet" in data.get("services", {}):
            data["services"]["kubelet"] = {"enabled": False, "active": False}
    if cluster:
        sim.say(f"🔄  Uninstalling Kubernetes {cluster['kubernetes']} using kubeadm ...", delay=3)
    sim.say(f'🔥  Deleting "{NODE}" in none ...', delay=1)
    for directory in MINIKUBE_DIRS:
        _remove_tree(sim.host_path(directory))
    sim.host_path("/root/.kube/config").unlink(missing_ok=True)
    sim.say(f'💀  Removed all traces of the "{NODE}" cluster.')
    return 0


def _remove_tree(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            _remove_tree(child)
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()


def minikube(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command == "start":
        return _start_cluster(rest)
    if command == "status":
        return _cluster_status()
    if command == "delete":
        return _delete_cluster()
    if command == "version":
        own = sim.self_version("minikube") or "unknown"
        if "--short" in rest:
            sim.say(own)
        else:
            sim.say(f"minikube version: {own}", f"commit: {MINIKUBE_COMMIT}")
        return 0
    if command == "ip":
        sim.say(NODE_IP)
        return 0
    if command == "kubectl":
        return kubectl(rest[1:] if rest[:1] == ["--"] else rest)
    sim.say(f'Error: unknown command "{command}" for "minikube"', "Run 'minikube --help' for usage.", err=True)
    return EXIT_USAGE


# ---- ip ----------------------------------------------------------------------------------------

def _mac(name: str) -> str:
    digest = f"{zlib.crc32(name.encode()):08x}{zlib.crc32(name[::-1].encode()) & 0xff:02x}"
    return "02:" + ":".join(digest[i:i + 2] for i in range(0, 10, 2))


def _links() -> list[tuple[int, str, dict]]:
    """lo and the uplink, then the links in the shared state, numbered as the kernel would."""
    found = [(1, "lo", {"kind": "loopback", "addr": "127.0.0.1/8", "mtu": 65536}),
             (2, UPLINK, {"kind": "ether", "addr": f"{NODE_IP}/24", "mtu": UPLINK_MTU})]
    for offset, (name, link) in enumerate(sim.peek().get("links", {}).items()):
        found.append((offset + 3, name, link))
    return found


def _link_lines(index: int, name: str, link: dict, details: bool, with_link_line: bool = True) -> list[str]:
    kind = link.get("kind", "ether")
    flags = "LOOPBACK,UP,LOWER_UP" if kind == "loopback" else "BROADCAST,MULTICAST,UP,LOWER_UP"
    state = "UNKNOWN" if kind in ("loopback", "vxlan", "wireguard", "tun") else "UP"
    lines = [f"{index}: {name}: <{flags}> mtu {link.get('mtu', 1500)} qdisc noqueue state {state} "
             "mode DEFAULT group default qlen 1000"]
    if with_link_line:
        if kind == "loopback":
            link_line = "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"
        else:
            link_line = f"    link/ether {_mac(name)} brd ff:ff:ff:ff:ff:ff"
        lines.append(link_line
                     + (" promiscuity 0 allmulti 0 minmtu 68 maxmtu 65535 " if details else ""))
    if details and kind == "vxlan":
        lines.append(f"    vxlan id {link.get('vxlan_id', 1)} local {NODE_IP} dev {UPLINK} srcport 0 0 dstport "
                     f"{link.get('dstport', 8472)} nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx "
                     "noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536")
    elif details and kind == "bridge":
        lines.append("    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 "
                     "priority 32768 vlan_filtering 0 vlan_protocol 802.1Q addrgenmode eui64 numtxqueues 1")
    return lines


def _address_lines(index: int, name: str, link: dict, family: str, details: bool) -> list[str]:
    lines = _link_lines(index, name, link, details=details, with_link_line=family != "4")
    lines[0] = lines[0].replace(" mode DEFAULT", "")
    address = link.get("addr", "")
    if address and family != "6":
        interface = ipaddress.ip_interface(address)
        broadcast = "" if interface.network.prefixlen >= 31 else f" brd {interface.network.broadcast_address}"
        scope = "host" if name == "lo" else "global"
        lines += [f"    inet {address}{broadcast} scope {scope} {name}",
                  "       valid_lft forever preferred_lft forever"]
    return lines


def ip(argv: list[str]) -> int:
    details = family = None
    words = []
    for arg in argv:
        if arg in ("-d", "-details", "--details"):
            details = True
        elif arg in ("-4", "-6"):
            family = arg[1]
        elif arg.startswith("-"):
            sim.say(f'Option "{arg}" is unknown, try "ip -help".', err=True)
            return 255
        else:
            words.append(arg)
    obj, rest = (words[0], words[1:]) if words else ("", [])
    command = rest[0] if rest and rest[0] in ("show", "list", "ls", "del", "delete") else "show"
    names = [word for word in rest if word not in ("show", "list", "ls", "del", "delete", "dev")]
    if "route".startswith(obj) and obj:
        return _routes(names)
    if not obj or obj not in ("link", "l", "addr", "a", "address"):
        sim.say(f'Object "{obj}" is unknown, try "ip help".', err=True)
        return 255
    links = _links()
    chosen = [entry for entry in links if not names or entry[1] == names[0]]
    if names and not chosen:
        missing = f'Cannot find device "{names[0]}"' if command in ("del", "delete") else \
            f'Device "{names[0]}" does not exist.'
        sim.say(missing, err=True)
        return 1
    if command in ("del", "delete"):
        if not names or names[0] in ("lo", UPLINK):
            sim.say("RTNETLINK answers: Operation not supported", err=True)
            return 2
        with sim.state() as data:
            data.get("links", {}).pop(names[0], None)
        return 0
    for index, name, link in chosen:
        if obj.startswith("l"):
            sim.say(*_link_lines(index, name, link, bool(details)))
        else:
            sim.say(*_address_lines(index, name, link, family or "", bool(details)))
    return 0


def _routes(names: list[str]) -> int:
    routes = [f"default via {ROUTER_IP} dev {UPLINK} proto dhcp src {NODE_IP} metric 100"]
    if names[:1] == ["default"]:
        sim.say(*routes)
        return 0
    routes.append(f"192.168.122.0/24 dev {UPLINK} proto kernel scope link src {NODE_IP} metric 100")
    for name, link in sim.peek().get("links", {}).items():
        if link.get("kind") == "bridge" and link.get("addr"):
            interface = ipaddress.ip_interface(link["addr"])
            routes.append(f"{interface.network} dev {name} proto kernel scope link src {interface.ip}")
    sim.say(*routes)
    return 0


TOOLS = {
    "minikube": sim.Tool(minikube, installable=True),
    "kubectl": sim.Tool(kubectl, installable=True),
    "ip": sim.Tool(ip),
}
