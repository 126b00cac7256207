"""Reading and writing user files safely: encodings, BOM, atomic replacement.

Only regular files are read or written. A path the user named may be a symbolic
link, resolved once (`follow=True`); links met while walking a folder are never
followed (`follow=False`). FIFOs, devices and sockets are refused before they are
read, so none can hang a run or fill the disk.
"""
from __future__ import annotations

import codecs
import errno
import io
import os
import stat
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

# Temporary files end so; a killed run can leave one beside its target, never a half file.
TEMP_SUFFIX = ".ms-migrate.tmp"
# A Python source larger than this is not converted (nor read whole into memory).
MAX_SOURCE_BYTES = 32 << 20
_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class SourceError(Exception):
    """A file cannot be read or written; the message names it."""


@dataclass
class SourceText:
    text: str
    encoding: str = "utf-8"
    bom: bool = False


def kind_of(mode: int) -> str:
    """What a non-regular file is, for messages."""
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def _os_error(name: str, exc: OSError, verb: str = "read") -> SourceError:
    if isinstance(exc, FileNotFoundError):
        return SourceError(f"{name}: no such file")
    if isinstance(exc, PermissionError):
        return SourceError(f"{name}: permission denied")
    if isinstance(exc, IsADirectoryError):
        return SourceError(f"{name}: is a directory")
    return SourceError(f"{name}: cannot {verb}: {exc.strerror or exc}")


def open_regular(path: Path, follow: bool = True) -> Tuple[int, os.stat_result]:
    """A read-only descriptor of a regular file, and its fstat.

    follow: the user named this path, so a link is resolved once; otherwise a link
    is refused. lstat refuses special files before any open (opening a device can
    act); O_NOFOLLOW|O_NONBLOCK and fstat catch a swap between the two.
    """
    name = str(path)
    real = os.path.realpath(path) if follow else os.fspath(path)
    try:
        st = os.lstat(real)
        if stat.S_ISLNK(st.st_mode) and follow:   # realpath gave up: a loop
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
        if stat.S_ISDIR(st.st_mode):
            raise SourceError(f"{name}: is a directory")
        if stat.S_ISLNK(st.st_mode):
            raise SourceError(f"{name}: is a symbolic link; not followed")
        if not stat.S_ISREG(st.st_mode):
            raise SourceError(f"{name}: {kind_of(st.st_mode)}, not a regular file; not read")
        fd = os.open(real, _READ_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise SourceError(f"{name}: is a symbolic link; not followed") from None
        raise _os_error(name, exc) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise SourceError(f"{name}: {kind_of(st.st_mode)}, not a regular file; not read")
    return fd, st


def read_bytes(path: Path, follow: bool = True, limit: int = MAX_SOURCE_BYTES) -> bytes:
    fd, st = open_regular(path, follow)
    try:
        with os.fdopen(fd, "rb") as handle:
            # sized by the file, not the limit: a read of `limit` bytes allocates them all
            size = min(st.st_size, limit) + 1
            data = handle.read(size)
            if len(data) == size:  # it grew since: on, up to the limit
                data += handle.read(limit + 1 - size)
    except OSError as exc:
        raise _os_error(str(path), exc) from None
    if len(data) > limit:
        raise SourceError(f"{path}: larger than {limit >> 20} MiB; not converted")
    return data


def read_source(path: Path, follow: bool = True) -> str:
    return read_source_text(path, follow).text


def read_source_text(path: Path, follow: bool = True) -> SourceText:
    return decode_source(read_bytes(path, follow), str(path))


def decode_source(data: bytes, name: str) -> SourceText:
    if b"\x00" in data:
        raise SourceError(f"{name}: contains null bytes; not a Python source file")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"{name}: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8-sig" if bom else encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = data[:getattr(exc, "start", 0)].count(b"\n") + 1
        raise SourceError(f"{name}:{line}: not valid {encoding} text "
                          f"(declare the file's encoding in its first two lines)") from None
    encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    return SourceText(text, encoding, bom)


def encode_source(source: SourceText, text: str) -> bytes:
    data = text.encode(source.encoding)
    return codecs.BOM_UTF8 + data if source.bom else data


def atomic_write(path: Path, data: bytes, follow: bool = False) -> None:
    """Write via a temporary file in the same folder and rename over the target.

    Readers (and a crash at any moment) see the old file or the new one, never a
    part. The replaced file keeps its mode, owner and group. A destination that is
    a link is refused unless `follow` (the user named it): then its target, if a
    regular file, is replaced and the link kept.
    """
    _replace(Path(path), lambda handle: handle.write(data), None, follow)


def atomic_copy(source: Path, target: Path, follow: bool = False) -> None:
    """Copy a regular file the same way; the copy gets the source's permission bits
    (never set-user/group-id: a copy made as root must not grant root)."""
    fd, st = open_regular(Path(source), follow)
    with os.fdopen(fd, "rb") as handle_in:
        # st_size bounds the copy: a file that grows while read cannot fill the disk.
        _replace(Path(target), lambda out: _copy(handle_in, out, st.st_size),
                 st.st_mode & 0o777, False)


def make_link(target: Path, link_text: str) -> None:
    """Create the link `target -> link_text`, replacing a file or link there (never a folder)."""
    target = Path(target)
    st = _lstat(target)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise SourceError(f"{target}: is a directory; link not written")
    tmp = target.with_name(f".{target.name}.{_random_part()}{TEMP_SUFFIX}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(link_text, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        _unlink(tmp)
        raise _os_error(str(target), exc, "write") from None


def _random_part() -> str:
    """What secrets.token_hex(4) returns (os.urandom), without importing secrets and
    the hashing modules behind it at every start-up."""
    return os.urandom(4).hex()


def _copy(src, dst, size: int) -> None:
    while size > 0:
        chunk = src.read(min(size, 1 << 20))
        if not chunk:
            break
        dst.write(chunk)
        size -= len(chunk)


def _lstat(path: Path) -> Optional[os.stat_result]:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _os_error(str(path), exc, "write") from None


def _destination(path: Path, follow: bool) -> Tuple[Path, Optional[os.stat_result]]:
    """The file to replace, and its stat (None: new); links and special files refused."""
    name = str(path)
    if follow:
        path = Path(os.path.realpath(path))
    st = _lstat(path)
    if st is None or stat.S_ISREG(st.st_mode):
        return path, st
    if stat.S_ISLNK(st.st_mode) and not follow:
        raise SourceError(f"{name}: is a symbolic link; not written through")
    if stat.S_ISLNK(st.st_mode):
        raise SourceError(f"{name}: cannot write: {os.strerror(errno.ELOOP)}")
    raise SourceError(f"{name}: {kind_of(st.st_mode)}, not a regular file; not written")


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _keep_owner(fd: int, old: os.stat_result) -> None:
    """The replacement belongs to whoever owned the file (root can; others keep the group)."""
    new = os.fstat(fd)
    if (new.st_uid, new.st_gid) == (old.st_uid, old.st_gid):
        return
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
    except PermissionError:
        try:
            os.fchown(fd, -1, old.st_gid)
        except OSError:
            pass


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _replace(path: Path, fill, mode: Optional[int], follow: bool) -> None:
    name = str(path)
    path, old = _destination(path, follow)
    mode = old.st_mode & 0o7777 if old is not None else (
        mode if mode is not None else _new_file_mode())
    folder = path.parent if str(path.parent) else Path(".")
    tmp = folder / f".{path.name}.{_random_part()}{TEMP_SUFFIX}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(name, exc, "write") from None
    fd = None
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
            if old is not None:
                _keep_owner(handle.fileno(), old)   # before chmod: chown clears set-id bits
            os.chmod(handle.fileno(), mode)
        os.replace(tmp, path)
    except BaseException as exc:
        # A signal's exit (SIGTERM, Ctrl-C) can come as the open returns, before `fd` is
        # set: the file is ours then too (a random name, made with O_EXCL). An open that
        # failed made nothing.
        if fd is not None or not isinstance(exc, OSError):
            _unlink(tmp)
        if isinstance(exc, OSError):
            raise _os_error(name, exc, "write") from None
        raise
