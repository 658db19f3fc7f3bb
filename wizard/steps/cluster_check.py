"""cluster-check: the recipe's crictl inspections of the running cluster (DOMAIN.md step 11), read-only."""

from __future__ import annotations

import asyncio
import json
import re

from wizard.actions import Action
from wizard.steps.base import Check, Context, Step
from wizard.steps.kube import cluster_pod_cidr, inside, last_line
from wizard.steps.runtime_check import process_table

INSPECTED_CONTAINER = "coredns"  # the one container on a pod network in every cluster scope


def parse_table(output: str) -> list[dict[str, str]]:
    """crictl's tables: columns are separated by at least two spaces (names like "POD ID" have one)."""
    lines = [line for line in output.splitlines() if line.strip()]
    header_index = next((i for i, line in enumerate(lines) if line.startswith(("CONTAINER", "POD ID"))), None)
    if header_index is None:
        return []
    columns = re.split(r"\s{2,}", lines[header_index].strip())
    return [dict(zip(columns, re.split(r"\s{2,}", line.strip()))) for line in lines[header_index + 1:]]


def parse_json(output: str) -> dict:
    start = output.find("{")
    try:
        return json.loads(output[start:]) if start >= 0 else {}
    except ValueError:
        return {}


class ClusterCheck(Step):
    id = "cluster-check"
    title = "Cluster inspection (crictl)"
    inputs = ("scope", "pod_cidr")
    after = ("minikube", "flannel")
    scopes = ("cluster", "cluster+flannel")
    typical_seconds = 5.0

    def plan(self, ctx: Context) -> list[Action]:
        # only inspections: nothing to change, so detect() (all checks pass) is the whole step
        return []

    async def verify(self, ctx: Context) -> list[Check]:
        listed = await ctx.probe(["crictl", "ps"])
        rows = [row for row in parse_table(listed.output) if row.get("NAME") == INSPECTED_CONTAINER]
        if listed.exit_code != 0 or not rows:
            return [Check(f"crictl ps lists a running {INSPECTED_CONTAINER} container", False,
                          last_line(listed.output) if listed.exit_code else f"no {INSPECTED_CONTAINER} row")]
        row = rows[0]
        container_id, pod_id = row.get("CONTAINER", ""), row.get("POD ID", "")
        checks = [Check(f"crictl ps lists a running {INSPECTED_CONTAINER} container with its POD ID",
                        row.get("STATE") == "Running" and bool(pod_id),
                        f"container {container_id} {row.get('STATE', '?')}, POD ID {pod_id}")]
        # the container, the pod list, the pod and the process tree: independent questions, asked side by side
        inspected, pods, pod_address, processes = await asyncio.gather(
            ctx.probe(["crictl", "inspect", container_id]), ctx.probe(["crictl", "pods"]),
            self._pod_address(ctx, pod_id), process_table(ctx))
        info = parse_json(inspected.output).get("info", {})
        checks.append(self._sandbox_is_pod(pods.output, info.get("sandboxID", ""), pod_id))
        checks.append(pod_address)
        checks.append(self._process_tree(processes, info.get("pid")))
        return checks

    def _sandbox_is_pod(self, pods: str, sandbox_id: str, pod_id: str) -> Check:
        pod_ids = [row.get("POD ID", "") for row in parse_table(pods)]
        ok = bool(sandbox_id) and sandbox_id.startswith(pod_id) and any(
            pod and sandbox_id.startswith(pod) for pod in pod_ids)
        return Check("crictl inspect: the container's sandboxID is its POD ID in crictl pods", ok,
                     f"sandboxID {sandbox_id[:13] or '(none)'}, POD ID {pod_id}")

    async def _pod_address(self, ctx: Context, pod_id: str) -> Check:
        network = cluster_pod_cidr(ctx.answers)
        result = await ctx.probe(["crictl", "inspectp", pod_id])
        address = parse_json(result.output).get("status", {}).get("network", {}).get("ip", "")
        return Check(f"crictl inspectp: pod IP inside {network}", inside(address, network) if address else False,
                     address or last_line(result.output))

    def _process_tree(self, processes: dict[int, tuple[int, str]], pid: object) -> Check:
        name = "process tree: 1 -> conmon -> container"
        if not isinstance(pid, int) or pid <= 1:
            return Check(name, False, f"crictl inspect shows no pid ({pid!r})")
        if pid not in processes:
            return Check(name, False, f"ps shows no process {pid}")
        container_parent, container_command = processes[pid]
        conmon_parent, conmon_command = processes.get(container_parent, (None, ""))
        ok = conmon_command == "conmon" and conmon_parent == 1
        return Check(name, ok, f"{conmon_parent} -> {conmon_command} ({container_parent}) -> "
                               f"{container_command} ({pid})")
