"""Create (or reopen) a simulated host: its sandbox root, its stand-in executables and its Host."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from functools import lru_cache
from pathlib import Path

import wizard
from wizard import yamlio
from wizard.assets import asset_path
from wizard.host import Host, read_facts
from wizard.simulate import sim
from wizard.simulate import tools as tools_package


class SimulationError(Exception):
    """The simulated host cannot be set up as asked (unknown profile or fault, profile mismatch)."""


@lru_cache(maxsize=1)
def _profiles_file() -> dict:
    return yamlio.load(asset_path("sim/profiles.yaml").read_text(encoding="utf-8"))


def profile_names() -> list[str]:
    return list(_profiles_file()["profiles"])


def stand_in_tools() -> dict[str, str]:
    """Every stand-in tool name -> the module under wizard.simulate.tools that implements it."""
    found: dict[str, str] = {}
    for module_info in pkgutil.iter_modules(tools_package.__path__):
        module = importlib.import_module(f"{tools_package.__name__}.{module_info.name}")
        for name in getattr(module, "TOOLS", {}):
            found[name] = module_info.name
    return found


def prepare(profile: str, state_dir: Path, speed: float = 0.1, faults: tuple[str, ...] = ()) -> Host:
    """The simulated host for `profile`, with its sandbox under `state_dir`/sim."""
    profiles = _profiles_file()["profiles"]
    if profile not in profiles:
        raise SimulationError(f"unknown simulated host {profile!r}; choose one of: {', '.join(profiles)}")
    unknown = sorted(set(faults) - set(sim.FAULTS))
    if unknown:
        raise SimulationError(f"unknown fault {', '.join(unknown)}; choose from: {', '.join(sim.FAULTS)}")
    spec = profiles[profile]
    sim_dir = state_dir / "sim"
    root = sim_dir / "root"
    marker = root / ".sim/profile"
    if marker.exists():
        existing = marker.read_text().strip()
        if existing != profile:
            raise SimulationError(
                f"{state_dir} holds a simulated {existing} host; use another --state-dir for {profile} "
                f"(or `crio-wizard reset` it first)"
            )
    else:
        _create_root(root, spec)
        marker.write_text(profile + "\n")
    bin_dir = sim_dir / "bin"
    _write_launchers(bin_dir)
    env = dict(os.environ)
    env.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
            sim.ROOT_ENV: str(root),
            sim.PROFILE_ENV: profile,
            sim.SPEED_ENV: repr(float(speed)),
            sim.FAULTS_ENV: ",".join(faults),
            sim.BIN_ENV: str(bin_dir),
        }
    )
    facts = read_facts(root, machine=spec["machine"], systemd=spec["systemd"])
    return Host(root=root, facts=facts, env=env, simulated=profile)


@lru_cache(maxsize=1)
def _machine_file() -> dict:
    return yamlio.load(asset_path("sim/machine.yaml").read_text(encoding="utf-8"))


def machine_files(family: str, systemd: bool) -> dict[str, str]:
    """The /proc, /sys and /etc files a simulated machine of this family has (assets/sim/machine.yaml)."""
    files: dict[str, str] = {}
    for layer in _machine_file()["layers"]:
        when = layer.get("when", {})
        if family in when.get("family", [family]) and when.get("systemd", systemd) == systemd:
            files.update(layer["files"])
    return files


def _create_root(root: Path, spec: dict) -> None:
    (root / ".sim").mkdir(parents=True, exist_ok=True)
    # the family comes from the profile's os-release, so write that first and read it back
    os_release = root / "etc/os-release"
    os_release.parent.mkdir(parents=True, exist_ok=True)
    os_release.write_text(spec["os_release"])
    files = machine_files(read_facts(root, machine=spec["machine"], systemd=spec["systemd"]).family, spec["systemd"])
    files.update(_profiles_file().get("common_files", {}))
    files.update(spec.get("files", {}))
    files["/etc/os-release"] = spec["os_release"]
    if spec["systemd"]:
        (root / "run/systemd/system").mkdir(parents=True, exist_ok=True)
    for host_path, content in files.items():
        target = root / host_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)


def _write_launchers(bin_dir: Path) -> None:
    """One small script per tool. `-S` skips the site-packages scan and `-E` ignores PYTHON* variables
    (PYTHONDONTWRITEBYTECODE would make every call compile the stand-in modules again)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    package_parent = Path(wizard.__file__).resolve().parent.parent
    for name, module in stand_in_tools().items():
        script = (
            f"#!{sys.executable} -SE\n"
            f"import sys\nsys.path.insert(0, {str(package_parent)!r})\n"
            f"from wizard.simulate.dispatch import main\nmain({module!r}, {name!r})\n"
        )
        launcher = bin_dir / name
        if not launcher.exists() or launcher.read_text() != script:
            launcher.write_text(script)
            launcher.chmod(0o755)
