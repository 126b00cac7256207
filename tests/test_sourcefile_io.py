"""core.sourcefile: a source is read whole up to the size limit, whatever its size said
when it was opened; a write interrupted by a signal leaves no temporary file."""
import os

import pytest

from ms_migrate.core import sourcefile
from ms_migrate.core.sourcefile import SourceError, read_bytes


def test_a_file_up_to_the_limit_is_read_whole(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\n" * 3)
    assert read_bytes(path, limit=18) == b"x = 1\n" * 3


def test_a_file_past_the_limit_is_refused(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"x" * 19)
    with pytest.raises(SourceError, match="larger than"):
        read_bytes(path, limit=18)


@pytest.mark.parametrize("size, limit, refused", [(40, 100, False), (40, 30, True)])
def test_a_file_that_grew_since_it_was_opened_is_read_to_its_end(
        tmp_path, monkeypatch, size, limit, refused):
    path = tmp_path / "a.py"
    path.write_bytes(b"y" * size)
    opened = sourcefile.open_regular

    def stale(*args):  # the size of a moment before: 10 bytes
        fd, st = opened(*args)
        return fd, os.stat_result((*st[:6], 10, *st[7:]))

    monkeypatch.setattr(sourcefile, "open_regular", stale)
    if refused:
        with pytest.raises(SourceError, match="larger than"):
            read_bytes(path, limit=limit)
    else:
        assert read_bytes(path, limit=limit) == b"y" * size


def test_a_signal_as_the_temporary_file_is_made_leaves_no_file(tmp_path, monkeypatch):
    # SIGTERM/Ctrl-C unwind as SystemExit/KeyboardInterrupt; one that comes as the
    # temporary file's open returns (made, its descriptor not yet kept) must remove it
    real_open = os.open

    def open_then_signal(path, flags, mode=0o777):
        os.close(real_open(path, flags, mode))
        raise SystemExit(143)

    target = tmp_path / "out.py"
    monkeypatch.setattr(sourcefile.os, "open", open_then_signal)
    with pytest.raises(SystemExit):
        sourcefile.atomic_write(target, b"x = 1\n")
    assert list(tmp_path.iterdir()) == []
