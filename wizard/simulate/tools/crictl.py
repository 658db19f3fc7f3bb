"""Stand-in for crictl: the CRI client, answering from the simulated crio's pods, containers and images."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import time

from wizard.simulate import sim
from wizard.simulate.tools import service

# hashlib is imported by the functions that need it: every stand-in call is a new interpreter, and
# `crictl version` or `crictl ps` should not pay for OpenSSL's start-up.

DEFAULT_ENDPOINTS = ("unix:///run/containerd/containerd.sock", "unix:///run/crio/crio.sock",
                     "unix:///var/run/cri-dockerd.sock")
VALUE_FLAGS = {"-r", "--runtime-endpoint", "-i", "--image-endpoint", "-t", "--timeout", "-c", "--config",
               "--name", "--namespace", "--state", "--id", "--pod", "-p", "--label", "-o", "--output",
               "--runtime", "--image", "--creds", "--auth", "--tail", "--since"}
IMAGE_COMMANDS = ("pull", "images", "img", "rmi", "inspecti")
KNOWN_SIZES = {"busybox": "4.42MB", "pause": "742kB", "nginx": "196MB"}
HOST_NETWORK = 2  # NamespaceMode NODE in a pod config's linux.security_context.namespace_options


class CriError(Exception):
    """An error crictl reports: a klog line when a runtime call failed, then its own error line."""

    def __init__(self, message: str, call: str | None = None, rpc: str = "", subject: str = ""):
        super().__init__(message)
        self.call = call  # e.g. "RunPodSandbox from runtime service failed"
        self.rpc = rpc  # the gRPC error as the klog line shows it
        self.subject = subject  # e.g. podSandboxID="..."


def _runtime_error(context: str, call: str, description: str, subject: str = "", code: str = "Unknown") -> CriError:
    """A failed runtime call: crictl logs the gRPC error, then its own message wrapping it."""
    rpc = f"rpc error: code = {code} desc = {description}"
    return CriError(f"{context}: {rpc}", call, rpc, subject)


def _log(level: str, message: str) -> str:
    return f'time="{sim.utc_time("%Y-%m-%dT%H:%M:%SZ")}" level={level} msg={json.dumps(message)}'


def _klog(call: str, error: str, subject: str) -> str:
    source = "remote_image.go:250" if "image service" in call else "remote_runtime.go:237"
    now = sim.utc_time("%m%d %H:%M:%S.%f")
    return f'E{now} {os.getpid():>7} {source}] "{call}" err={json.dumps(error)} {subject}'.rstrip()


def _parse(argv: list[str]) -> tuple[dict[str, str | bool], list[str]]:
    """Flags (anywhere) and positional arguments. `--x=v`, `--x v`, and bool flags such as -q."""
    flags: dict[str, str | bool] = {}
    positional: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg.startswith("-") and len(arg) > 1:
            name, _, value = arg.partition("=")
            if value or "=" in arg:
                flags[name] = value
            elif name in VALUE_FLAGS and index + 1 < len(argv):
                flags[name] = argv[index + 1]
                index += 1
            else:
                flags[name] = True
        else:
            positional.append(arg)
        index += 1
    return flags, positional


def _flag(flags: dict, *names: str) -> str | bool | None:
    return next((flags[name] for name in names if name in flags), None)


def _socket_exists(endpoint: str) -> bool:
    path = endpoint.removeprefix("unix://")
    # /var/run is /run on every current distribution
    return any(sim.host_path(p).exists() for p in {path, path.replace("/var/run/", "/run/"),
                                                   path.replace("/run/", "/var/run/", 1)})


def _endpoint(flags: dict, image: bool) -> tuple[str | None, list[str]]:
    """The endpoint to use and the warnings crictl prints on the way (as the real one, from
    --runtime-endpoint, then $CONTAINER_RUNTIME_ENDPOINT, then /etc/crictl.yaml, then its defaults)."""
    explicit = _flag(flags, "-i", "--image-endpoint") if image else None
    explicit = explicit or _flag(flags, "-r", "--runtime-endpoint") or os.environ.get("CONTAINER_RUNTIME_ENDPOINT")
    if isinstance(explicit, str):
        return explicit, []
    config = sim.host_path("/etc/crictl.yaml")
    if config.is_file():
        keys = dict(re.findall(r"^([a-z-]+):\s*\"?([^\"\n]*)\"?\s*$", config.read_text(errors="replace"), re.MULTILINE))
        chosen = keys.get("image-endpoint") if image else None
        chosen = chosen or keys.get("runtime-endpoint")
        if chosen:
            return chosen, []
    warnings = [_log("warning", 'Config "/etc/crictl.yaml" does not exist, trying next: "/usr/local/bin/crictl.yaml"'),
                _log("warning", f"runtime connect using default endpoints: [{' '.join(DEFAULT_ENDPOINTS)}]. As the "
                                "default settings are now deprecated, you should set the endpoint instead.")]
    for endpoint in DEFAULT_ENDPOINTS:
        if _socket_exists(endpoint):
            return endpoint, warnings
        warnings.append(_log("error", _dial_error(endpoint, image)))
    return None, warnings


def _dial_error(endpoint: str, image: bool) -> str:
    path = endpoint.removeprefix("unix://")
    return (f'validate service connection: validate CRI v1 {"image" if image else "runtime"} API for endpoint '
            f'"{endpoint}": rpc error: code = Unavailable desc = connection error: desc = "transport: Error while '
            f'dialing: dial unix {path}: connect: no such file or directory"')


# ---- state helpers -----------------------------------------------------------------------------

def _new_id(*parts: str) -> str:
    import hashlib

    return hashlib.sha256(("/".join(parts) + repr(time.time_ns())).encode()).hexdigest()


def _stamp(seconds: float | None) -> str:
    return sim.utc_time("%Y-%m-%dT%H:%M:%S.%f000Z", seconds or time.time())


def _ago(seconds: float | None) -> str:
    """As Go's units.HumanDuration puts it, the way crictl shows CREATED."""
    elapsed = int(time.time() - (seconds or time.time()))
    if elapsed < 1:
        return "Less than a second ago"
    if elapsed < 60:
        return "1 second ago" if elapsed == 1 else f"{elapsed} seconds ago"
    minutes = elapsed // 60
    if minutes < 60:
        return "About a minute ago" if minutes == 1 else f"{minutes} minutes ago"
    hours = minutes // 60
    return "About an hour ago" if hours == 1 else f"{hours} hours ago"


def _find_pod(data: dict, wanted: str) -> dict | None:
    return next((pod for pod in data.get("pods", []) if pod["id"].startswith(wanted)), None) if wanted else None


def _find_container(data: dict, wanted: str) -> tuple[dict, dict] | None:
    for pod in data.get("pods", []):
        for container in pod.get("containers", []):
            if wanted and container["id"].startswith(wanted):
                return pod, container
    return None


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Columns as Go's tabwriter lays them out for crictl (minimum width 20, padding 3)."""
    widths = [max([20] + [len(str(row[i])) + 3 for row in rows + [headers]]) for i in range(len(headers) - 1)]
    return [("".join(f"{str(cell):<{width}}" for cell, width in zip(row, widths)) + str(row[-1])).rstrip()
            for row in [headers] + rows]


def _fully_qualified(image: str) -> bool:
    first = image.split("/")[0]
    return "/" in image and ("." in first or ":" in first or first == "localhost")


def _with_tag(image: str) -> str:
    name = image.split("@")[0]
    return image if "@" in image or ":" in name.split("/")[-1] else f"{image}:latest"


def _image_record(data: dict, reference: str) -> dict | None:
    wanted = _with_tag(reference)
    return next((image for image in data.get("images", []) if image["ref"] == wanted), None)


def _add_image(data: dict, reference: str) -> dict:
    found = _image_record(data, reference)
    if found is None:
        import hashlib

        digest = hashlib.sha256(_with_tag(reference).encode()).hexdigest()
        base = _with_tag(reference).split("/")[-1].split(":")[0]
        found = {"ref": _with_tag(reference), "id": hashlib.sha256(digest.encode()).hexdigest(),
                 "digest": digest, "size": KNOWN_SIZES.get(base, "25.3MB")}
        data.setdefault("images", []).append(found)
    return found


# ---- CNI: the address a new pod gets -----------------------------------------------------------

def _pod_network() -> ipaddress.IPv4Network | None:
    """The subnet of the network crio uses: the lexically first CNI config file."""
    folder = sim.host_path("/etc/cni/net.d")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".conf", ".conflist", ".json")) if folder.is_dir() else []
    for path in files:
        try:
            config = json.loads(path.read_text(errors="replace"))
        except json.JSONDecodeError:
            continue
        plugin = (config.get("plugins") or [config])[0]
        if plugin.get("type") == "flannel":
            # flannel's plugin hands out addresses from the node's subnet, which flanneld wrote down
            subnet_env = sim.host_path("/run/flannel/subnet.env")
            text = subnet_env.read_text() if subnet_env.is_file() else ""
            found = re.search(r"^FLANNEL_SUBNET=(\S+)", text, re.MULTILINE)
            return ipaddress.ip_interface(found.group(1)).network if found else None
        ipam = plugin.get("ipam", {})
        subnet = ipam.get("subnet") or (ipam.get("ranges") or [[{}]])[0][0].get("subnet")
        return ipaddress.ip_network(subnet, strict=False) if subnet else None
    return None


def _next_address(data: dict, network: ipaddress.IPv4Network) -> str:
    used = {pod.get("ip") for pod in data.get("pods", [])}
    # .1 is the bridge's gateway address
    return next(str(host) for host in list(network.hosts())[1:] if str(host) not in used)


# ---- runtime calls -----------------------------------------------------------------------------

def _read_config(path: str) -> dict:
    try:
        return json.loads(sim.host_path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CriError(f"load podSandboxConfig: {error}") from None


def _run_pod(data: dict, pod_config: dict, runtime_handler: str) -> dict:
    metadata = pod_config.get("metadata", {})
    name, namespace = metadata.get("name", ""), metadata.get("namespace", "default")
    uid, attempt = metadata.get("uid", ""), int(metadata.get("attempt", 0))
    sandbox_name = f"k8s_{name}_{namespace}_{uid}_{attempt}"
    pod_id = _new_id("pod", sandbox_name)
    call = "RunPodSandbox from runtime service failed"
    linux = pod_config.get("linux", {})
    parent = linux.get("cgroup_parent", "")
    if parent and service.running_cgroup_manager() == "systemd" and not parent.endswith(".slice"):
        raise _runtime_error("run pod sandbox", call, f"cri-o configured with systemd cgroup manager, but did not "
                                                      f"receive slice as parent: {parent}")
    # crio reserves a pod's full name (name, namespace, uid, attempt) until the pod is removed
    reserved = {(pod["name"], pod.get("namespace"), pod.get("uid", ""), pod.get("attempt", 0))
                for pod in data.get("pods", [])}
    if (name, namespace, uid, attempt) in reserved:
        raise _runtime_error("run pod sandbox", call, f'creating pod sandbox with name "{sandbox_name}": '
                             f"error reserving pod name {sandbox_name} for id {pod_id}: name is reserved")
    host_network = linux.get("security_context", {}).get("namespace_options", {}).get("network") == HOST_NETWORK
    address = ""
    if not host_network:
        network = _pod_network()
        if network is None:
            raise _runtime_error("run pod sandbox", call, f"failed to create pod network sandbox {sandbox_name}"
                                 f"({pod_id}): no CNI configuration file in /etc/cni/net.d/. Has your network "
                                 f"provider started?")
        address = _next_address(data, network)
    _add_image(data, service.crio_setting("pause_image", "registry.k8s.io/pause:3.10.1"))
    pod = {"id": pod_id, "name": name, "namespace": namespace, "uid": uid, "attempt": attempt, "ip": address,
           "state": "SANDBOX_READY", "created": time.time(), "labels": pod_config.get("labels", {}),
           "runtime_handler": runtime_handler, "host_network": host_network, "containers": []}
    data.setdefault("pods", []).append(pod)
    sim.pace(0.8)
    return pod


def _create(data: dict, pod: dict, container_config: dict, pull: bool) -> dict:
    image = container_config.get("image", {}).get("image", "")
    if pull:
        _pull(data, image)
    if _image_record(data, image) is None:
        raise _runtime_error("creating container", "CreateContainer in sandbox from runtime service failed",
                             f"image not known: {image}", f'podSandboxID="{pod["id"]}"', code="NotFound")
    name = container_config.get("metadata", {}).get("name", "")
    command = list(container_config.get("command", [])) + list(container_config.get("args", []))
    container = {"id": _new_id("container", pod["id"], name), "name": name, "image": _with_tag(image),
                 "pid": None, "state": "CONTAINER_CREATED", "created": time.time(), "attempt": 0,
                 "command": command or ["sh"], "log_path": container_config.get("log_path", "")}
    pod.setdefault("containers", []).append(container)
    sim.pace(0.3)
    return container


def _start(data: dict, container: dict) -> None:
    # conmon double-forks (its parent is PID 1) and the container's process is its child, one pid later
    conmon_pid = service.allocate_pids(data, 2)
    container.update({"state": "CONTAINER_RUNNING", "pid": conmon_pid + 1, "started": time.time()})
    sim.pace(0.2)


def _pull(data: dict, image: str) -> dict:
    if not _fully_qualified(image):
        # the host resolves short names through containers' shortnames.conf aliases, then finds no registry
        source = f"docker://{_with_tag(image)}"
        reason = (f"unable to pull image: initializing source {source}: pinging container registry "
                  f'registry-1.docker.io: Get "https://registry-1.docker.io/v2/": dial tcp: lookup '
                  f"registry-1.docker.io on 192.0.2.53:53: no such host")
        # crictl's own line drops the gRPC wrapper for pulls
        raise CriError(f"pulling image: {reason}", "PullImage from image service failed",
                       f"rpc error: code = Unknown desc = {reason}", f'image="{image}"')
    sim.pace(2.0)
    return _add_image(data, image)


def _stop_pod(pod: dict) -> None:
    for container in pod.get("containers", []):
        if container["state"] == "CONTAINER_RUNNING":
            container.update({"state": "CONTAINER_EXITED", "pid": None, "finished": time.time()})
    pod["state"] = "SANDBOX_NOTREADY"


# ---- commands ----------------------------------------------------------------------------------

def cmd_version(flags: dict, args: list[str], data: dict) -> int:
    sim.say("Version:  0.1.0", "RuntimeName:  cri-o", f"RuntimeVersion:  {service.crio_version()}",
            "RuntimeApiVersion:  v1")
    return 0


def cmd_info(flags: dict, args: list[str], data: dict) -> int:
    network = _pod_network()
    network_ready = {"type": "NetworkReady", "status": network is not None, "reason": "", "message": ""}
    if network is None:
        network_ready.update(reason="NetworkPluginNotReady", message="Network plugin returns error: no CNI "
                             "configuration file in /etc/cni/net.d/. Has your network provider started?")
    runtime = service.crio_setting("default_runtime", "crun")
    document = {
        "config": {"crio": {"CgroupManagerName": service.running_cgroup_manager(),
                            "DefaultRuntime": runtime},
                   "sandboxImage": service.crio_setting("pause_image", "registry.k8s.io/pause:3.10.1")},
        "runtimeHandlers": [{"features": {}, "name": runtime}],
        "status": {"conditions": [{"type": "RuntimeReady", "status": True, "reason": "", "message": ""},
                                  network_ready]},
    }
    sim.say(json.dumps(document, indent=2))
    return 0


def _selected_pods(flags: dict, data: dict) -> list[dict]:
    pods = data.get("pods", [])
    name, namespace = _flag(flags, "--name"), _flag(flags, "--namespace")
    wanted_id, state = _flag(flags, "--id"), _flag(flags, "--state", "-s")
    if isinstance(name, str):
        pods = [pod for pod in pods if re.search(name, pod["name"])]
    if isinstance(namespace, str):
        pods = [pod for pod in pods if re.search(namespace, pod.get("namespace", ""))]
    if isinstance(wanted_id, str):
        pods = [pod for pod in pods if pod["id"].startswith(wanted_id)]
    if isinstance(state, str):
        pods = [pod for pod in pods if pod["state"].lower() == f"sandbox_{state.lower()}"]
    return sorted(pods, key=lambda pod: pod.get("created", 0), reverse=True)


def cmd_pods(flags: dict, args: list[str], data: dict) -> int:
    pods = _selected_pods(flags, data)
    if _flag(flags, "-q", "--quiet"):
        sim.say(*[pod["id"] for pod in pods])
        return 0
    rows = [[pod["id"][:13], _ago(pod.get("created")), "Ready" if pod["state"] == "SANDBOX_READY" else "NotReady",
             pod["name"], pod.get("namespace", "default"), str(pod.get("attempt", 0)),
             pod.get("runtime_handler") or "(default)"] for pod in pods]
    sim.say(*_table(["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"], rows))
    return 0


def cmd_ps(flags: dict, args: list[str], data: dict) -> int:
    show_all = _flag(flags, "-a", "--all")
    pod_filter, name, state = _flag(flags, "--pod", "-p"), _flag(flags, "--name"), _flag(flags, "--state")
    found = []
    for pod in data.get("pods", []):
        if isinstance(pod_filter, str) and not pod["id"].startswith(pod_filter):
            continue
        for container in pod.get("containers", []):
            if not show_all and not isinstance(state, str) and container["state"] != "CONTAINER_RUNNING":
                continue
            if isinstance(state, str) and container["state"].lower() != f"container_{state.lower()}":
                continue
            if isinstance(name, str) and not re.search(name, container["name"]):
                continue
            found.append((pod, container))
    found.sort(key=lambda pair: pair[1].get("created", 0), reverse=True)
    if _flag(flags, "-q", "--quiet"):
        sim.say(*[container["id"] for _, container in found])
        return 0
    shown_state = {"CONTAINER_RUNNING": "Running", "CONTAINER_CREATED": "Created", "CONTAINER_EXITED": "Exited"}
    rows = []
    for pod, container in found:
        # crictl takes POD and NAMESPACE from kubelet's labels: pods made with crictl have none
        labels = pod.get("labels") or {}
        pod_name = labels.get("io.kubernetes.pod.name", "unknown")
        namespace = labels.get("io.kubernetes.pod.namespace", "unknown")
        rows.append([container["id"][:13], container.get("image", ""), _ago(container.get("created")),
                     shown_state.get(container["state"], "Unknown"), container["name"],
                     str(container.get("attempt", 0)), pod["id"][:13], pod_name, namespace])
    sim.say(*_table(["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD", "NAMESPACE"],
                    rows))
    return 0


def cmd_inspect(flags: dict, args: list[str], data: dict) -> int:
    for wanted in args:
        found = _find_container(data, wanted)
        if found is None:
            raise _runtime_error(f'getting the status of the container "{wanted}"',
                                 "ContainerStatus from runtime service failed",
                                 f'could not find container "{wanted}": container with ID starting with {wanted} '
                                 f"not found: ID does not exist", f'containerID="{wanted}"', code="NotFound")
        pod, container = found
        sandbox_name = f"k8s_{pod['name']}_{pod.get('namespace', 'default')}_{pod.get('uid', '')}_0"
        document = {
            "info": {
                "pid": container.get("pid") or 0,
                "privileged": False,
                "runtimeSpec": {
                    "annotations": {
                        "io.container.manager": "cri-o",
                        "io.kubernetes.cri-o.ContainerID": container["id"],
                        "io.kubernetes.cri-o.ContainerType": "container",
                        "io.kubernetes.cri-o.Image": container.get("image", ""),
                        "io.kubernetes.cri-o.SandboxID": pod["id"],
                        "io.kubernetes.cri-o.SandboxName": sandbox_name,
                    },
                    "linux": {"cgroupsPath": f"crio-{container['id']}"},
                    "process": {"args": container.get("command", [])},
                },
                "sandboxID": pod["id"],
            },
            "status": {
                "createdAt": _stamp(container.get("created")),
                "exitCode": 0,
                "finishedAt": _stamp(container["finished"]) if container.get("finished") else
                "0001-01-01T00:00:00Z",
                "id": container["id"],
                "image": {"image": container.get("image", "")},
                "logPath": container.get("log_path", ""),
                "metadata": {"attempt": container.get("attempt", 0), "name": container["name"]},
                "startedAt": _stamp(container.get("started")),
                "state": container["state"],
            },
        }
        sim.say(json.dumps(document, indent=2))
    return 0


def cmd_inspectp(flags: dict, args: list[str], data: dict) -> int:
    for wanted in args:
        pod = _find_pod(data, wanted)
        if pod is None:
            raise _runtime_error(f'getting the pod sandbox status for "{wanted}"',
                                 "PodSandboxStatus from runtime service failed",
                                 f'could not find pod "{wanted}": PodSandbox with ID starting with {wanted} not '
                                 f"found: ID does not exist", f'podSandboxID="{wanted}"', code="NotFound")
        document = {
            "info": {"runtimeSpec": {"annotations": {
                "io.container.manager": "cri-o",
                "io.kubernetes.cri-o.IP.0": pod.get("ip", ""),
                "io.kubernetes.cri-o.KubeName": pod["name"],
                "io.kubernetes.cri-o.Namespace": pod.get("namespace", "default"),
                "io.kubernetes.cri-o.SandboxID": pod["id"],
                "io.kubernetes.cri-o.HostNetwork": str(bool(pod.get("host_network"))).lower(),
            }}},
            "status": {
                "createdAt": _stamp(pod.get("created")),
                "id": pod["id"],
                "labels": pod.get("labels") or {},
                "metadata": {"attempt": pod.get("attempt", 0), "name": pod["name"],
                             "namespace": pod.get("namespace", "default"), "uid": pod.get("uid", "")},
                "network": {"additionalIps": [], "ip": pod.get("ip", "")},
                "runtimeHandler": pod.get("runtime_handler", ""),
                "state": pod["state"],
            },
        }
        sim.say(json.dumps(document, indent=2))
    return 0


def cmd_images(flags: dict, args: list[str], data: dict) -> int:
    images = data.get("images", [])
    if _flag(flags, "-q", "--quiet"):
        sim.say(*[f"sha256:{image['id']}" for image in images])
        return 0
    rows = [[image["ref"].rsplit(":", 1)[0], image["ref"].rsplit(":", 1)[1], image["id"][:13], image["size"]]
            for image in images]
    sim.say(*_table(["IMAGE", "TAG", "IMAGE ID", "SIZE"], rows))
    return 0


def cmd_pull(flags: dict, args: list[str], data: dict) -> int:
    if not args:
        raise CriError("pulling image: image name cannot be empty")
    image = _pull(data, args[0])
    sim.say(f"Image is up to date for {image['ref'].rsplit(':', 1)[0]}@sha256:{image['digest']}")
    return 0


def cmd_runp(flags: dict, args: list[str], data: dict) -> int:
    if not args:
        raise CriError("pod config file is required")
    pod = _run_pod(data, _read_config(args[0]), str(_flag(flags, "--runtime") or ""))
    sim.say(pod["id"])
    return 0


def cmd_create(flags: dict, args: list[str], data: dict) -> int:
    if len(args) < 3:
        raise CriError("create needs POD CONTAINER-CONFIG POD-CONFIG")
    pod = _find_pod(data, args[0])
    if pod is None:
        raise _runtime_error("creating container", "CreateContainer in sandbox from runtime service failed",
                             f"pod sandbox {args[0]} not found", f'podSandboxID="{args[0]}"', code="NotFound")
    container = _create(data, pod, _read_config(args[1]), pull=bool(_flag(flags, "--with-pull")))
    sim.say(container["id"])
    return 0


def cmd_start(flags: dict, args: list[str], data: dict) -> int:
    for wanted in args:
        found = _find_container(data, wanted)
        if found is None:
            raise _runtime_error(f'starting the container "{wanted}"', "StartContainer from runtime service failed",
                                 f'could not find container "{wanted}"', f'containerID="{wanted}"', code="NotFound")
        _start(data, found[1])
        sim.say(found[1]["id"])
    return 0


def cmd_run(flags: dict, args: list[str], data: dict) -> int:
    """`crictl run CONTAINER.json POD.json`: pod, container and start in one call; prints the container id."""
    if len(args) < 2:
        raise CriError("run needs CONTAINER-CONFIG POD-CONFIG")
    container_config, pod_config = _read_config(args[0]), _read_config(args[1])
    pod = _run_pod(data, pod_config, str(_flag(flags, "--runtime") or ""))
    container = _create(data, pod, container_config, pull=not _flag(flags, "--no-pull"))
    _start(data, container)
    sim.say(container["id"])
    return 0


def cmd_stopp(flags: dict, args: list[str], data: dict) -> int:
    for wanted in args:
        pod = _find_pod(data, wanted)
        if pod is None:
            raise _runtime_error(f'stopping the pod sandbox "{wanted}"', "StopPodSandbox from runtime service failed",
                                 f'could not find pod "{wanted}"', f'podSandboxID="{wanted}"', code="NotFound")
        _stop_pod(pod)
        sim.say(f"Stopped sandbox {pod['id']}")
    return 0


def cmd_rmp(flags: dict, args: list[str], data: dict) -> int:
    force = _flag(flags, "-f", "--force")
    chosen = list(data.get("pods", [])) if _flag(flags, "-a", "--all") else []
    for wanted in args:
        pod = _find_pod(data, wanted)
        if pod is None:
            raise _runtime_error(f'removing the pod sandbox "{wanted}"', "RemovePodSandbox from runtime service failed",
                                 f'could not find pod "{wanted}"', f'podSandboxID="{wanted}"', code="NotFound")
        chosen.append(pod)
    for pod in chosen:
        if pod["state"] == "SANDBOX_READY" and not force:
            raise CriError(f'pod sandbox "{pod["id"]}" is running, please stop it first')
        _stop_pod(pod)
        data["pods"] = [other for other in data["pods"] if other["id"] != pod["id"]]
        sim.say(f"Removed sandbox {pod['id']}")
    return 0


def cmd_logs(flags: dict, args: list[str], data: dict) -> int:
    found = _find_container(data, args[0]) if args else None
    if found is None:
        wanted = args[0] if args else ""
        raise _runtime_error("getting the container's log path", "ContainerStatus from runtime service failed",
                             f'could not find container "{wanted}"', f'containerID="{wanted}"', code="NotFound")
    sim.say(*found[1].get("logs", []))
    return 0


COMMANDS = {
    "version": cmd_version, "info": cmd_info, "pods": cmd_pods, "ps": cmd_ps, "inspect": cmd_inspect,
    "inspectp": cmd_inspectp, "images": cmd_images, "img": cmd_images, "pull": cmd_pull, "runp": cmd_runp,
    "create": cmd_create, "start": cmd_start, "run": cmd_run, "stopp": cmd_stopp, "rmp": cmd_rmp,
    "logs": cmd_logs,
}
READ_ONLY = ("version", "info", "pods", "ps", "inspect", "inspectp", "images", "img", "logs")


def crictl(argv: list[str]) -> int:
    flags, positional = _parse(argv)
    if _flag(flags, "-v", "--version"):
        sim.say(f"crictl version {sim.self_version('crictl') or 'unknown'}")
        return 0
    if not positional or positional[0] not in COMMANDS:
        unknown = positional[0] if positional else ""
        sim.say(_log("fatal", f"No help topic for '{unknown}'" if unknown else "a command is required"), err=True)
        return 1
    command, args = positional[0], positional[1:]
    image_api = command in IMAGE_COMMANDS
    endpoint, warnings = _endpoint(flags, image_api)
    sim.say(*warnings, err=True)
    if endpoint is None or not _socket_exists(endpoint):
        if endpoint is not None:
            sim.say(_log("error", _dial_error(endpoint, image_api)), err=True)
        return 1
    try:
        if command in READ_ONLY:
            return COMMANDS[command](flags, args, sim.peek())
        with sim.state() as data:
            return COMMANDS[command](flags, args, data)
    except CriError as error:
        if error.call:
            sim.say(_klog(error.call, error.rpc, error.subject), err=True)
        sim.say(_log("error", str(error)), err=True)
        return 1


TOOLS = {"crictl": sim.Tool(crictl, installable=True)}
