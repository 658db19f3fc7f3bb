"""What the cluster steps share: where minikube's tools live, the pod network in effect, kubectl probes."""

from __future__ import annotations

import ipaddress
import json

from wizard.answers import Answers
from wizard.steps.base import Context

MINIKUBE = "/usr/local/bin/minikube"
KUBECTL = "/usr/local/bin/kubectl"  # a link to the kubectl minikube downloads for the pinned Kubernetes
# minikube's bridge CNI, its built-in flannel and kubeadm's default all use this network
MINIKUBE_POD_CIDR = "10.244.0.0/16"


def cluster_pod_cidr(answers: Answers) -> str:
    """The pod network the cluster really uses: minikube's bridge CNI (scope cluster) hard-codes
    10.244.0.0/16 in its conflist whatever the answers say, so only flannel honours `pod_cidr`."""
    return answers.pod_cidr if answers.scope == "cluster+flannel" else MINIKUBE_POD_CIDR


def inside(address: str, network: str) -> bool:
    """Is an address ("10.244.0.5") or a network ("10.244.0.0/24") inside `network`?"""
    try:
        candidate = ipaddress.ip_network(address.strip(), strict=False)
        return candidate.subnet_of(ipaddress.ip_network(network, strict=False))  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False


async def kubectl_json(ctx: Context, *args: str) -> tuple[dict | None, str]:
    """`kubectl ARGS -o json` parsed, or (None, the output that explains why not)."""
    result = await ctx.probe([KUBECTL, *args, "-o", "json"])
    if result.exit_code != 0:
        return None, last_line(result.output)
    # stdout and stderr arrive together: skip any warning lines printed before the document
    start = result.output.find("{")
    try:
        return json.loads(result.output[start:]), ""
    except ValueError:
        return None, "kubectl did not print JSON: " + last_line(result.output)


def last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
