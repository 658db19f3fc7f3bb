"""Host file effects (write, symlink, remove), atomic and backed up so that reset can restore the originals."""

from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import yaml

from wizard import yamlio

MANIFEST_NAME = "manifest.yaml"

# What the manifest says about a host path the first time the wizard touched it.
ORIGINAL_FILE = "file"  # a regular file was there; its copy is in the backup dir
ORIGINAL_SYMLINK = "symlink"  # a symlink was there; its copy (a symlink) is in the backup dir
CREATED_FILE = "created"  # nothing was there; restore removes what the wizard put there
CREATED_DIRECTORY = "created-directory"  # the wizard made this directory; restore removes it if empty


class BackupManifestCorrupt(Exception):
    """The backup manifest cannot be read, so restoring would be guesswork."""


class RestoreIncomplete(Exception):
    """Some originals could not be restored; `problems` names each path and why, `restored` lists the rest."""

    def __init__(self, problems: list[str], restored: list[str]):
        super().__init__("could not restore:\n" + "\n".join(problems))
        self.problems = problems
        self.restored = restored


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in `directory` durable (the entry itself lives in the directory)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_directories(directory: Path, mode: int = 0o755) -> list[Path]:
    """Create `directory` and missing parents with `mode` (despite the umask); return those made, outermost first."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir(mode=mode)
        except FileExistsError:
            continue  # made meanwhile by someone else: not ours to remove later
        os.chmod(path, mode)
        created.append(path)
    return created


def remove_stale_temps(path: Path) -> None:
    """Remove the temp files of earlier writes of `path` that a kill left (between creating and renaming them).

    Only one wizard works at a time (the state lock), so a temp file of this target is never another writer's.
    """
    stale = re.compile(re.escape(f".{path.name}.") + r"(?:[a-z0-9_]{8}|[0-9a-f]{12})\.tmp")
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if stale.fullmatch(name):
            (path.parent / name).unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None = None) -> None:
    """Replace `path` with `data` so that a reader sees either the old or the new file, never a part.

    The parent directory must exist. The temp file sits in the same directory so `os.replace` is a rename.
    """
    remove_stale_temps(path)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as temp_file:
            temp_file.write(data)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        if owner is not None:
            os.chown(temp_name, *owner)  # before chmod: chown clears setuid/setgid bits
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException as error:
        Path(temp_name).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename is None:
            # a full disk fails the write, which names no file: say which one it was
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise
    fsync_directory(path.parent)


def _atomic_symlink(path: Path, target: str) -> None:
    remove_stale_temps(path)
    temp_path = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    os.symlink(target, temp_path)
    try:
        os.replace(temp_path, path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class FileEffects:
    """Applies file actions under `root` ("/" on a real host, a sandbox dir on the simulated one).

    The first time a host path is replaced or removed, its original goes to `backup_dir` and is listed in
    `backup_dir/manifest.yaml`; paths (and directories) that did not exist are listed too, so that
    `restore_all` can put the host back as it was before the wizard.
    """

    def __init__(self, root: Path, backup_dir: Path):
        self.root = Path(root)
        self.backup_dir = Path(backup_dir)
        self.manifest_path = self.backup_dir / MANIFEST_NAME
        self._entries = self._load_manifest()

    def host_path(self, path: str) -> Path:
        """Map an absolute host path ("/etc/x") to where it lives under root."""
        posix_path = PurePosixPath(path)
        if not posix_path.is_absolute():
            raise ValueError(f"host paths must be absolute: {path!r}")
        if ".." in posix_path.parts:
            raise ValueError(f"host paths must not contain '..': {path!r}")
        return self.root.joinpath(*posix_path.parts[1:])

    def write_file(self, path: str, content: str | bytes, mode: int = 0o644) -> Path | None:
        """Write `content` to host `path`; return the backup made by this call, or None.

        None means nothing was backed up now: the path did not exist, was already backed up by an
        earlier call (that first backup is the original), or already had this content and mode.
        """
        data = content.encode("utf-8") if isinstance(content, str) else content
        target = self.host_path(path)
        if _has_content(target, data, mode):
            return _unchanged(target)
        backup = self._record_original(path, target)
        atomic_write(target, data, mode)
        return backup

    def symlink(self, path: str, target: str) -> Path | None:
        """Make host `path` a symlink to host `target`; return the backup made by this call, or None.

        An absolute target is mapped under root, so a link in the sandbox points into the sandbox.
        """
        link_path = self.host_path(path)
        link_target = str(self.host_path(target)) if PurePosixPath(target).is_absolute() else target
        if link_path.is_symlink() and os.readlink(link_path) == link_target:
            return _unchanged(link_path)
        backup = self._record_original(path, link_path)
        _atomic_symlink(link_path, link_target)
        return backup

    def remove(self, path: str) -> Path | None:
        """Remove host `path` (a file or symlink); return the backup made by this call, or None."""
        target = self.host_path(path)
        if not target.is_symlink() and not target.exists():
            return None
        if target.is_dir() and not target.is_symlink():
            raise IsADirectoryError(f"refusing to remove a directory: {path}")
        backup = self._record_original(path, target)
        target.unlink()
        fsync_directory(target.parent)
        return backup

    def preserve(self, path: str) -> Path | None:
        """Record what is at `path` now (a backup, or "absent") before a command may replace it."""
        return self._record_original(path, self.host_path(path))

    def manifest(self) -> list[dict]:
        """What the wizard backed up or created, oldest first (for `reset --dry-run` listings)."""
        return [dict(entry) for entry in self._entries]

    def restore_all(self) -> list[str]:
        """Put every recorded path back as it was; return the host paths touched.

        Newest first, so files are removed before the directories the wizard made for them. Entries
        that fail stay in the manifest (a later reset can retry them) and RestoreIncomplete is raised.
        """
        touched: list[str] = []
        problems: list[str] = []
        remaining: list[dict] = []
        for entry in reversed(self._entries):
            try:
                if self._restore_entry(entry):
                    touched.append(entry["path"])
            except OSError as error:
                problems.append(f"{entry['path']}: {error}")
                remaining.insert(0, entry)
        for entry in self._entries:
            if entry not in remaining and "backup" in entry:
                self._discard_backup(self.backup_dir / entry["backup"])
        self._entries = remaining
        self._save_manifest()
        if problems:
            raise RestoreIncomplete(problems, touched)
        return touched

    def _record_original(self, path: str, target: Path) -> Path | None:
        """Back up what is at `target` unless this path was recorded before; create missing parents."""
        new_entries: list[dict] = []
        backup: Path | None = None
        if not any(entry["path"] == path for entry in self._entries):
            entry: dict = {"path": path, "recorded": _now()}
            if target.is_symlink() or target.exists():
                backup = self._backup_copy(path, target, entry)
            else:
                entry["kind"] = CREATED_FILE
            new_entries.append(entry)
        # directories listed before the file in them: restore runs newest first, removing the file first
        new_entries[:0] = [
            {"path": self._host_path_of(directory), "kind": CREATED_DIRECTORY, "recorded": _now()}
            for directory in make_directories(target.parent)
        ]
        if new_entries:
            self._entries.extend(new_entries)
            self._save_manifest()  # before the change, so a crash right after it can still be undone
        return backup

    def _backup_copy(self, path: str, target: Path, entry: dict) -> Path:
        status = target.lstat()
        relative = PurePosixPath("files", *PurePosixPath(path).parts[1:])
        backup = self.backup_dir / relative
        make_directories(backup.parent, 0o700)
        entry.update(backup=str(relative), uid=status.st_uid, gid=status.st_gid)
        if stat.S_ISLNK(status.st_mode):
            entry["kind"] = ORIGINAL_SYMLINK
            entry["target"] = os.readlink(target)
            _atomic_symlink(backup, entry["target"])
            os.lchown(backup, status.st_uid, status.st_gid)
        elif stat.S_ISREG(status.st_mode):
            entry["kind"] = ORIGINAL_FILE
            entry["mode"] = f"{stat.S_IMODE(status.st_mode):04o}"
            atomic_write(backup, target.read_bytes(), stat.S_IMODE(status.st_mode), (status.st_uid, status.st_gid))
            os.utime(backup, ns=(status.st_atime_ns, status.st_mtime_ns))
        else:
            raise IsADirectoryError(f"can only replace files and symlinks, not {path}")
        return backup

    def _restore_entry(self, entry: dict) -> bool:
        """Restore one entry; return whether the host changed."""
        target = self.host_path(entry["path"])
        kind = entry["kind"]
        if kind == CREATED_FILE:
            if target.is_symlink() or target.is_file():
                target.unlink()
                fsync_directory(target.parent)
                return True
            return False
        if kind == CREATED_DIRECTORY:
            if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
                target.rmdir()  # a directory that is not empty now holds things that are not ours
                return True
            return False
        backup = self.backup_dir / entry["backup"]
        make_directories(target.parent)
        if kind == ORIGINAL_SYMLINK:
            _atomic_symlink(target, os.readlink(backup))
            os.lchown(target, entry["uid"], entry["gid"])
        else:
            status = backup.stat()
            atomic_write(target, backup.read_bytes(), int(entry["mode"], 8), (entry["uid"], entry["gid"]))
            os.utime(target, ns=(status.st_atime_ns, status.st_mtime_ns))
        return True

    def _discard_backup(self, backup: Path) -> None:
        backup.unlink(missing_ok=True)
        files_dir = self.backup_dir / "files"
        directory = backup.parent
        while directory != files_dir and files_dir in directory.parents and not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent

    def _host_path_of(self, real_path: Path) -> str:
        return "/" + real_path.relative_to(self.root).as_posix()

    def _load_manifest(self) -> list[dict]:
        if not self.manifest_path.exists():
            return []
        try:
            loaded = yamlio.load(self.manifest_path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            problem = getattr(error, "problem", None) or getattr(error, "reason", None) or error
            raise BackupManifestCorrupt(f"{self.manifest_path}: not valid YAML ({where}{problem})") from error
        entries = loaded.get("entries") if isinstance(loaded, dict) else None
        if not isinstance(entries, list) or not all(_is_entry(entry) for entry in entries):
            raise BackupManifestCorrupt(f"{self.manifest_path}: expected 'entries:' with a path and a kind in each")
        return entries

    def _save_manifest(self) -> None:
        make_directories(self.backup_dir, 0o700)
        text = yamlio.dump({"entries": self._entries}, sort_keys=False, default_flow_style=False)
        atomic_write(self.manifest_path, text.encode("utf-8"), 0o600)


def _unchanged(target: Path) -> None:
    """A write with nothing to change: the target keeps its mtime, so re-runs do not look like changes, and
    only what a killed earlier write of it left beside it is removed (as the write itself would have)."""
    remove_stale_temps(target)
    return None


def _is_entry(entry: object) -> bool:
    known_kinds = (ORIGINAL_FILE, ORIGINAL_SYMLINK, CREATED_FILE, CREATED_DIRECTORY)
    return isinstance(entry, dict) and isinstance(entry.get("path"), str) and entry.get("kind") in known_kinds


def _has_content(target: Path, data: bytes, mode: int) -> bool:
    if target.is_symlink() or not target.is_file():
        return False
    return stat.S_IMODE(target.stat().st_mode) == mode and target.read_bytes() == data
