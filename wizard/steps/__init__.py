"""The steps of the recipe, in the order they run."""

from __future__ import annotations

import importlib

from wizard.steps.base import Check, Context, PlanRefused, Step

# (module under wizard.steps, class name), in execution order
STEP_CLASSES = (
    ("host_prep", "HostPrep"),  # host-prep: kernel modules, sysctls
    ("build_deps", "BuildDeps"),  # build-deps: the recipe's yum list, mapped per distro
    ("go_toolchain", "GoToolchain"),  # go-toolchain: a Go new enough for the CRI-O tag
    ("crio_build", "CrioBuild"),  # crio-build: CRI-O from source (or package)
    ("conmon", "Conmon"),  # conmon
    ("cni_plugins", "CniPlugins"),  # cni-plugins: /opt/cni/bin
    ("cni_config", "CniConfig"),  # cni-config: a bridge network for pods before a cluster CNI exists
    ("flannel_cni", "FlannelCni"),  # flannel-cni: the flannel CNI binary (cluster+flannel)
    ("crio_config", "CrioConfig"),  # crio-config: crio.conf, 02-crio.conf, policy.json
    ("crio_service", "CrioService"),  # crio-service: systemd unit, or crio in the background
    ("crictl", "Crictl"),  # crictl + /etc/crictl.yaml
    ("root_path", "RootPath"),  # root-path: binaries reachable in root's / sudo's PATH
    ("runtime_check", "RuntimeCheck"),  # runtime-check: a real pod, process tree 1 -> conmon -> container
    ("minikube", "Minikube"),  # minikube: install + start with the none driver (cluster scopes)
    ("flannel", "Flannel"),  # flannel: the pod network (cluster+flannel)
    ("cluster_check", "ClusterCheck"),  # cluster-check: the recipe's inspections, coredns Ready
)


def all_steps() -> list[Step]:
    steps = []
    for module_name, class_name in STEP_CLASSES:
        module = importlib.import_module(f"wizard.steps.{module_name}")
        steps.append(getattr(module, class_name)())
    return steps


def steps_in_scope(ctx: Context) -> list[Step]:
    return [step for step in all_steps() if step.applies(ctx)]


__all__ = ["Check", "Context", "PlanRefused", "Step", "STEP_CLASSES", "all_steps", "steps_in_scope"]
