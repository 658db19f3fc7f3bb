"""Nothing lost: every file the wizard replaces is backed up first with its mode and owner, `reset` puts it back
byte for byte, and unrelated files in /etc/cni/net.d, /etc/crio and /etc/containers survive a full run and a
reset unchanged (on the simulated host's root, with pre-existing files planted before the run)."""

from __future__ import annotations

from tests.reliability.audit import Audit
from tests.reliability.harness import REPLACED_FILES, UNRELATED_FILES, count, output_of

# what commands change that no file backup covers: kernel state (modules loaded, sysctls applied)
KERNEL_STATE = ("/proc/", "/sys/")
PACKAGES = ("/usr/bin/", "/usr/sbin/")  # where the simulated package manager installs


def test_replaced_files_are_backed_up_with_mode_and_owner_and_reset_restores_them(audited_run: Audit):
    audit = audited_run
    assert audit.outputs["run"].returncode == 0, output_of(audit.outputs["run"])[-3000:]
    entries = {entry["path"]: entry for entry in audit.manifest}
    for path, (content, mode, uid, gid) in REPLACED_FILES.items():
        assert audit.after_run[path].content != content, f"the run did not replace {path}: a weak test"
        entry = entries[path]
        assert (entry["kind"], entry["mode"], entry["uid"], entry["gid"]) == ("file", f"{mode:04o}", uid, gid)
        backup = audit.backups[path]
        assert (backup.content, backup.mode, backup.uid, backup.gid) == (content, mode, uid, gid)
    # every original the wizard kept (its own and what commands of its steps overwrote) is back after reset
    reset = audit.outputs["reset"]
    assert reset.returncode == 0 and "reset done" in reset.stdout, output_of(reset)[-3000:]
    for path, backup in audit.backups.items():
        assert audit.after_reset.get(path) == backup, f"{path} is not restored as it was"


def test_unrelated_files_survive_the_run_and_the_reset_and_nothing_is_lost(audited_run: Audit, figures):
    audit = audited_run
    for path in UNRELATED_FILES:
        assert audit.after_run.get(path) == audit.originals[path], f"the run changed {path}"
        assert audit.after_reset.get(path) == audit.originals[path], f"reset changed {path}"
    lost = [path for path, original in audit.originals.items()
            if not path.startswith(KERNEL_STATE) and audit.after_reset.get(path) != original]
    count("files lost", len(lost))
    assert lost == [], f"files not as they were before the wizard: {lost}"
    # and what the wizard made is gone again; reset leaves the distro packages the build needed installed
    added = sorted(path for path in set(audit.after_reset) - set(audit.originals)
                   if not path.startswith(KERNEL_STATE + PACKAGES))
    assert added == [], f"left behind after reset: {added}"
