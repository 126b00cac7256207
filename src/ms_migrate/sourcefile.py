"""Reading and writing user files safely: encodings, BOM, atomic replacement."""
from __future__ import annotations

import codecs
import io
import os
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path


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
    part; the file's permission bits are kept.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".ms-migrate.tmp",
                                   dir=folder)
    except OSError as exc:
        raise SourceError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise SourceError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
