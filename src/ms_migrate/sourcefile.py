"""Reading and writing user files safely: encodings, BOM, atomic replacement."""
from __future__ import annotations

import codecs
import io
import os
import shutil
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path


# Temporary files end so; a killed run can leave one beside its target, never a half file.
TEMP_SUFFIX = ".ms-migrate.tmp"


class SourceError(Exception):
    """A file cannot be read or written; the message names it."""


@dataclass
class SourceText:
    text: str
    encoding: str = "utf-8"
    bom: bool = False


def read_source(path: Path) -> str:
    return read_source_text(path).text


def read_source_text(path: Path) -> SourceText:
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise SourceError(f"{path}: is a directory") from None
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except PermissionError:
        raise SourceError(f"{path}: permission denied") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return decode_source(data, str(path))


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


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename over the target.

    Readers (and a crash at any moment) see the old file or the new one, never a
    part; the file's permission bits are kept. A symlink is followed, not replaced.
    """
    _replace(Path(path), lambda handle: handle.write(data), None)


def atomic_copy(source: Path, target: Path) -> None:
    """Copy a file the same way; the copy gets the source's permission bits."""
    source = Path(source)
    try:
        handle_in = open(source, "rb")
        mode = os.fstat(handle_in.fileno()).st_mode & 0o7777
    except OSError as exc:
        raise SourceError(f"{source}: cannot read: {exc.strerror or exc}") from None
    with handle_in:
        _replace(Path(target), lambda out: shutil.copyfileobj(handle_in, out, 1 << 20), mode)


def _replace(path: Path, fill, mode) -> None:
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        except OSError as exc:
            raise SourceError(f"{path}: cannot write: {exc.strerror or exc}") from None
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise SourceError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise SourceError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
