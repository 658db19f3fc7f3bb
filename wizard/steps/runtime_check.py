"""runtime-check: a real pod through crictl, and the recipe's process tree 1 -> conmon -> container."""

from __future__ import annotations

import asyncio
import json

from wizard.actions import Action, Owned, Run, WriteFile
from wizard.steps.base import Check, Context, Step
from wizard.steps.crio_service import SOCKET

CHECK_DIR = "/var/lib/crio-wizard/check"
POD_CONFIG = f"{CHECK_DIR}/pod.json"
CONTAINER_CONFIG = f"{CHECK_DIR}/container.json"
POD_NAME = "crio-wizard-check"
CONTAINER_NAME = "sleeper"
# crictl filters pods by a regular expression: anchor it, so crio-wizard-check2 is not ours
POD_NAME_PATTERN = f"^{POD_NAME}$"
# Removes the check pod of an earlier run (a pod name can be used once; a re-run after a change of the
# test image must replace it). The pod id exists only at run time, hence the loop; no values go in.
REMOVE_EARLIER_POD = f'for id in $(crictl pods --name "{POD_NAME_PATTERN}" -q); do crictl rmp -f "$id"; done'


def pod_config() -> dict:
    # no cgroup_parent: crio picks its default, valid with both cgroup drivers (the systemd driver
    # refuses a parent that is not a slice)
    return {
        "metadata": {"name": POD_NAME, "namespace": "default", "uid": f"{POD_NAME}-uid", "attempt": 0},
        "log_directory": f"/var/log/{POD_NAME}",
        "linux": {},
    }


def container_config(image: str) -> dict:
    return {
        "metadata": {"name": CONTAINER_NAME},
        "image": {"image": image},
        # a day: the pod stays for the user to inspect with crictl
        "command": ["sleep", "86400"],
        "log_path": f"{CONTAINER_NAME}.log",
        "linux": {},
    }


def _json_in(output: str) -> dict:
    """The JSON document in crictl's output (warnings may come first on stderr)."""
    start = output.find("{")
    if start < 0:
        return {}
    try:
        document, _ = json.JSONDecoder().raw_decode(output[start:])
    except json.JSONDecodeError:
        return {}
    return document if isinstance(document, dict) else {}


def _ids(output: str) -> list[str]:
    """The ids crictl -q prints (one per line; stderr lines are not ids)."""
    return [line.strip() for line in output.splitlines()
            if len(line.strip()) >= 12 and all(c in "0123456789abcdef" for c in line.strip())]


def _first_line(output: str) -> str:
    return next((line.strip() for line in output.splitlines() if line.strip()), "")


async def process_table(ctx: Context) -> dict[int, tuple[int, str]]:
    """Every process: pid -> (parent pid, command name), from one `ps` rather than one per question."""
    result = await ctx.probe(["ps", "-e", "-o", "pid=,ppid=,comm="])
    table = {}
    for line in result.output.splitlines():
        fields = line.split(None, 2)
        if len(fields) == 3 and fields[0].isdigit() and fields[1].isdigit():
            table[int(fields[0])] = (int(fields[1]), fields[2].strip())
    return table


class RuntimeCheck(Step):
    id = "runtime-check"
    title = "Run a test pod"
    inputs = ("images.test",)
    after = ("crio-service", "crictl", "cni-config")  # the test pod gets its address from the bridge network
    typical_seconds = 8.0

    def plan(self, ctx: Context) -> list[Action]:
        image = ctx.answers.get("images.test")
        return [
            WriteFile(POD_CONFIG, json.dumps(pod_config(), indent=2) + "\n"),
            WriteFile(CONTAINER_CONFIG, json.dumps(container_config(image), indent=2) + "\n"),
            Run(["sh", "-c", REMOVE_EARLIER_POD]),
            Run(["crictl", "pull", image], timeout=600),
            # pod, container and start in one call: the pod id is only known once the pod exists
            Run(["crictl", "run", "--no-pull", CONTAINER_CONFIG, POD_CONFIG], timeout=300),
        ]

    async def detect(self, ctx: Context) -> bool:
        # without crio's socket there is no pod, and without pod.json this step never made its pod:
        # no crictl call is needed to find that out
        return ctx.exists(SOCKET) and ctx.exists(POD_CONFIG) and await super().detect(ctx)

    async def verify(self, ctx: Context) -> list[Check]:
        result = await ctx.probe(["crictl", "pods", "--name", POD_NAME_PATTERN, "--state", "ready", "-q"])
        pod_ids = _ids(result.output)
        if not pod_ids:
            detail = _first_line(result.output) or "no such pod"
            return [Check(f"pod {POD_NAME} is ready", False, detail)]
        pod_id = pod_ids[0]
        # the pod and its container are independent questions: asked side by side
        pod, listed = await asyncio.gather(
            ctx.probe(["crictl", "inspectp", pod_id]),
            ctx.probe(["crictl", "ps", "--pod", pod_id, "--name", f"^{CONTAINER_NAME}$", "-q"]))
        address = _json_in(pod.output).get("status", {}).get("network", {}).get("ip", "")
        checks = [Check(f"pod {POD_NAME} is ready", True, f"pod {pod_id[:13]}, IP {address or 'none'}")]
        container_ids = _ids(listed.output)
        checks.append(Check(f"container {CONTAINER_NAME} is running", bool(container_ids),
                            container_ids[0][:13] if container_ids else _first_line(listed.output) or "not running"))
        if container_ids:
            checks += await self._process_tree(ctx, container_ids[0])
        return checks

    async def _process_tree(self, ctx: Context, container_id: str) -> list[Check]:
        """The recipe's picture: PID 1 -> conmon -> the container's process (conmon double-forks)."""
        inspected, processes = await asyncio.gather(ctx.probe(["crictl", "inspect", container_id]), process_table(ctx))
        pid = _json_in(inspected.output).get("info", {}).get("pid") or 0
        checks = [Check("the container has a process", pid > 0, f"pid {pid}" if pid else "crictl inspect shows no pid")]
        if not pid:
            return checks
        parent = processes.get(pid, (0, ""))[0]
        parent_name = processes.get(parent, (0, ""))[1] if parent else ""
        checks.append(Check("its parent is conmon", parent_name == "conmon",
                            f"pid {pid} <- pid {parent} ({parent_name or 'unknown'})"))
        if parent_name == "conmon":
            grandparent = processes[parent][0]
            checks.append(Check("conmon's parent is PID 1", grandparent == 1, f"conmon {parent} <- pid {grandparent}"))
        return checks

    def owns(self, ctx: Context) -> Owned:
        # the pod itself stays for the user to inspect; a re-run replaces it, and `crictl rmp -f` removes it
        return Owned(files=[POD_CONFIG, CONTAINER_CONFIG])
