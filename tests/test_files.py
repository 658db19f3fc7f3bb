"""Host file effects on a real filesystem: atomic writes, first-time backups, byte-for-byte restore."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
import yaml

from wizard.files import BackupManifestCorrupt, FileEffects, RestoreIncomplete

running_as_root = os.geteuid() == 0
needs_root = pytest.mark.skipif(not running_as_root, reason="chown to another uid needs root")


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    return root


@pytest.fixture
def effects(sandbox: Path, tmp_path: Path) -> FileEffects:
    return FileEffects(sandbox, tmp_path / "state" / "backups")


def snapshot(path: Path) -> tuple:
    """Everything restore promises to bring back: content (or link target), mode, owner, mtime."""
    status = path.lstat()
    content = os.readlink(path) if path.is_symlink() else path.read_bytes()
    return content, stat.S_IMODE(status.st_mode), status.st_uid, status.st_gid, status.st_mtime_ns


def test_host_path_maps_under_root(effects: FileEffects, sandbox: Path) -> None:
    assert effects.host_path("/etc/crio/crio.conf") == sandbox / "etc" / "crio" / "crio.conf"
    assert FileEffects(Path("/"), sandbox / "b").host_path("/etc/x") == Path("/etc/x")


@pytest.mark.parametrize("bad_path", ["/etc/../../outside", "/..", "/etc/cni/../../../x", "etc/relative"])
def test_host_path_refuses_escapes_and_relative_paths(effects: FileEffects, bad_path: str) -> None:
    with pytest.raises(ValueError):
        effects.host_path(bad_path)
    with pytest.raises(ValueError):
        effects.write_file(bad_path, "x")


def test_new_file_is_written_with_mode_and_parents(effects: FileEffects, sandbox: Path) -> None:
    assert effects.write_file("/etc/cni/net.d/10-crio.conflist", '{"cniVersion": "1.0.0"}\n', 0o600) is None
    written = sandbox / "etc/cni/net.d/10-crio.conflist"
    assert written.read_text() == '{"cniVersion": "1.0.0"}\n'
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    for directory in (sandbox / "etc", sandbox / "etc/cni", sandbox / "etc/cni/net.d"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o755
    assert [entry.name for entry in written.parent.iterdir()] == ["10-crio.conflist"], "no temp file left"


def test_restore_removes_created_files_and_their_new_directories(effects: FileEffects, sandbox: Path) -> None:
    (sandbox / "etc").mkdir()
    (sandbox / "etc/hosts").write_text("127.0.0.1 localhost\n")
    effects.write_file("/etc/cni/net.d/10-crio.conflist", "{}")
    effects.symlink("/usr/local/bin/crictl", "/opt/crictl/crictl")
    kinds = {entry["path"]: entry["kind"] for entry in effects.manifest()}
    assert kinds == {
        "/etc/cni": "created-directory",
        "/etc/cni/net.d": "created-directory",
        "/etc/cni/net.d/10-crio.conflist": "created",
        "/usr": "created-directory",
        "/usr/local": "created-directory",
        "/usr/local/bin": "created-directory",
        "/usr/local/bin/crictl": "created",
    }

    touched = effects.restore_all()

    assert sorted(path.name for path in sandbox.rglob("*")) == ["etc", "hosts"]
    assert set(touched) == set(kinds)
    assert effects.manifest() == []


def test_replaced_file_is_backed_up_once_and_restored_byte_for_byte(effects: FileEffects, sandbox: Path) -> None:
    config = sandbox / "etc/crio/crio.conf"
    config.parent.mkdir(parents=True)
    original = b"[crio]\n# \xe4\xb8\xad\xe6\x96\x87 and a trailing byte \xff\n"
    config.write_bytes(original)
    os.chmod(config, 0o640)
    if running_as_root:
        os.chown(config, 1234, 1234)
    os.utime(config, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before = snapshot(config)

    backup = effects.write_file("/etc/crio/crio.conf", "[crio]\nfirst = 1\n")
    assert backup is not None and backup.read_bytes() == original
    assert snapshot(backup)[1:] == before[1:]
    assert config.read_text() == "[crio]\nfirst = 1\n"
    assert stat.S_IMODE(config.stat().st_mode) == 0o644

    assert effects.write_file("/etc/crio/crio.conf", "[crio]\nsecond = 2\n") is None, "first backup is kept"
    assert backup.read_bytes() == original

    assert effects.restore_all() == ["/etc/crio/crio.conf"]
    assert snapshot(config) == before
    assert not backup.exists(), "a restored backup is discarded"


@needs_root
def test_restore_brings_back_another_owner_and_setgid_mode(effects: FileEffects, sandbox: Path) -> None:
    script = sandbox / "usr/local/bin/helper"
    script.parent.mkdir(parents=True)
    script.write_bytes(b"#!/bin/sh\n")
    os.chown(script, 1234, 4321)
    os.chmod(script, 0o2755)  # after chown, which would clear it
    before = snapshot(script)

    effects.write_file("/usr/local/bin/helper", "#!/bin/sh\necho new\n", 0o755)
    assert script.stat().st_uid == 0
    effects.restore_all()

    assert snapshot(script) == before


def test_identical_write_is_a_no_op(effects: FileEffects, sandbox: Path) -> None:
    effects.write_file("/etc/crictl.yaml", "runtime-endpoint: unix:///var/run/crio/crio.sock\n")
    written = sandbox / "etc/crictl.yaml"
    os.utime(written, ns=(1_000_000_000, 1_000_000_000))
    manifest_before = effects.manifest()

    assert effects.write_file("/etc/crictl.yaml", "runtime-endpoint: unix:///var/run/crio/crio.sock\n") is None
    assert written.stat().st_mtime_ns == 1_000_000_000
    assert effects.manifest() == manifest_before

    effects.write_file("/etc/crictl.yaml", "runtime-endpoint: unix:///var/run/crio/crio.sock\n", 0o600)
    assert stat.S_IMODE(written.stat().st_mode) == 0o600, "a different mode is a change"


def test_an_identical_write_still_removes_what_a_killed_write_left(effects: FileEffects, sandbox: Path) -> None:
    effects.write_file("/etc/crictl.yaml", "debug: false\n")
    left = sandbox / "etc/.crictl.yaml.kd_e_10k.tmp"  # as mkstemp names it; a kill came before the rename
    left.write_text("debug: tr")
    assert effects.write_file("/etc/crictl.yaml", "debug: false\n") is None
    assert sorted(path.name for path in (sandbox / "etc").iterdir()) == ["crictl.yaml"]

    effects.symlink("/usr/bin/crio", "/usr/local/bin/crio")
    (sandbox / "usr/bin/.crio.0123456789ab.tmp").symlink_to("/usr/local/bin/cri")  # a link's temp, as named
    assert effects.symlink("/usr/bin/crio", "/usr/local/bin/crio") is None
    assert sorted(path.name for path in (sandbox / "usr/bin").iterdir()) == ["crio"]


def test_identical_existing_file_is_not_recorded(effects: FileEffects, sandbox: Path) -> None:
    existing = sandbox / "etc/containers/policy.json"
    existing.parent.mkdir(parents=True)
    existing.write_text("{}\n")
    os.chmod(existing, 0o644)
    assert effects.write_file("/etc/containers/policy.json", "{}\n") is None
    assert effects.manifest() == []


def test_symlinks_are_backed_up_as_symlinks(effects: FileEffects, sandbox: Path) -> None:
    bin_dir = sandbox / "usr/bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "runc").symlink_to("/usr/sbin/runc-distro")
    (bin_dir / "conmon").write_bytes(b"\x7fELF old conmon")
    os.chmod(bin_dir / "conmon", 0o755)
    runc_before, conmon_before = snapshot(bin_dir / "runc"), snapshot(bin_dir / "conmon")

    runc_backup = effects.symlink("/usr/bin/runc", "/usr/local/sbin/runc")
    assert runc_backup is not None and runc_backup.is_symlink()
    assert os.readlink(runc_backup) == "/usr/sbin/runc-distro"
    assert os.readlink(bin_dir / "runc") == str(sandbox / "usr/local/sbin/runc"), "absolute targets stay in the sandbox"
    assert effects.symlink("/usr/bin/runc", "/usr/local/sbin/runc") is None
    effects.write_file("/usr/bin/runc", "now a file")
    assert effects.symlink("/usr/bin/conmon", "../local/bin/conmon") is not None
    assert os.readlink(bin_dir / "conmon") == "../local/bin/conmon", "relative targets are kept as given"

    effects.restore_all()

    assert snapshot(bin_dir / "runc")[0] == runc_before[0] and (bin_dir / "runc").is_symlink()
    assert snapshot(bin_dir / "conmon") == conmon_before


def test_remove_backs_up_and_restore_brings_back(effects: FileEffects, sandbox: Path) -> None:
    stray = sandbox / "etc/cni/net.d/87-podman-bridge.conflist"
    stray.parent.mkdir(parents=True)
    stray.write_text('{"cniVersion": "0.4.0"}')
    before = snapshot(stray)

    assert effects.remove("/etc/cni/net.d/87-podman-bridge.conflist") is not None
    assert not stray.exists()
    assert effects.remove("/etc/cni/net.d/87-podman-bridge.conflist") is None, "already gone"
    with pytest.raises(IsADirectoryError):
        effects.remove("/etc/cni/net.d")

    effects.restore_all()
    assert snapshot(stray) == before


def test_manifest_survives_a_new_process(sandbox: Path, tmp_path: Path) -> None:
    backup_dir = tmp_path / "state" / "backups"
    (sandbox / "etc").mkdir()
    (sandbox / "etc/subuid").write_text("root:100000:65536\n")
    FileEffects(sandbox, backup_dir).write_file("/etc/subuid", "changed\n")
    FileEffects(sandbox, backup_dir).write_file("/etc/new.conf", "new\n")

    listed = yaml.safe_load((backup_dir / "manifest.yaml").read_text())
    assert [entry["path"] for entry in listed["entries"]] == ["/etc/subuid", "/etc/new.conf"]
    assert stat.S_IMODE((backup_dir / "manifest.yaml").stat().st_mode) == 0o600

    FileEffects(sandbox, backup_dir).restore_all()
    assert (sandbox / "etc/subuid").read_text() == "root:100000:65536\n"
    assert not (sandbox / "etc/new.conf").exists()


def test_corrupt_manifest_is_refused(sandbox: Path, tmp_path: Path) -> None:
    backup_dir = tmp_path / "backups"
    backup_dir.mkdir()
    (backup_dir / "manifest.yaml").write_text("entries:\n  - path: /etc/x\n    kind: [unclosed\n")
    with pytest.raises(BackupManifestCorrupt, match="manifest.yaml"):
        FileEffects(sandbox, backup_dir)


def test_failed_restore_keeps_the_entry_for_a_retry(effects: FileEffects, sandbox: Path) -> None:
    (sandbox / "etc").mkdir()
    (sandbox / "etc/a.conf").write_text("original a\n")
    (sandbox / "etc/b.conf").write_text("original b\n")
    effects.write_file("/etc/a.conf", "new a\n")
    effects.write_file("/etc/b.conf", "new b\n")
    (sandbox / "etc/a.conf").unlink()
    (sandbox / "etc/a.conf").mkdir()  # something in the way that restore must not delete

    with pytest.raises(RestoreIncomplete) as failure:
        effects.restore_all()

    assert failure.value.restored == ["/etc/b.conf"]
    assert "/etc/a.conf" in failure.value.problems[0]
    assert (sandbox / "etc/b.conf").read_text() == "original b\n"
    assert [entry["path"] for entry in effects.manifest()] == ["/etc/a.conf"]
    (sandbox / "etc/a.conf").rmdir()
    assert effects.restore_all() == ["/etc/a.conf"]
    assert (sandbox / "etc/a.conf").read_text() == "original a\n"


def test_failed_write_leaves_no_temp_file(effects: FileEffects, sandbox: Path) -> None:
    (sandbox / "etc/crio/crio.conf.d").mkdir(parents=True)
    with pytest.raises(OSError):
        effects.write_file("/etc/crio/crio.conf.d", "a directory is in the way")
    assert list((sandbox / "etc/crio").iterdir()) == [sandbox / "etc/crio/crio.conf.d"]


def test_a_reader_never_sees_a_half_written_file(effects: FileEffects, sandbox: Path) -> None:
    versions = [b"A" * 256 * 1024, b"B" * 300 * 1024]
    effects.write_file("/etc/cni/net.d/10-crio.conflist", versions[0])
    live = sandbox / "etc/cni/net.d/10-crio.conflist"
    torn_reads: list[int] = []
    writing = True

    def read_continuously() -> None:
        while writing:
            if live.read_bytes() not in versions:
                torn_reads.append(1)

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for round_number in range(60):
            effects.write_file("/etc/cni/net.d/10-crio.conflist", versions[round_number % 2])
    finally:
        writing = False
        reader.join()
    assert torn_reads == []
