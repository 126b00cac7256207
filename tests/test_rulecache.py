"""The built-in tables are read back from a JSON file named by their bytes.

The file is plain data: a planted, damaged, foreign or stale one is a cache miss
(the tables are parsed again), never code that runs and never a crash.
"""
import json
import os
import pickle
import stat
from pathlib import Path

import pytest

from ms_migrate.tables import cache as rulecache
from ms_migrate import transforms
from ms_migrate.core.rule import Rule, TableError, builtin_mappings_dir
from ms_migrate.tables.cache import _STORED
from ms_migrate.tables.load import load_table
from dataclasses import fields


def _tables(tmp_path: Path):
    folder = tmp_path / "tables"
    folder.mkdir()
    for name in ("torch_nn_init.toml", "torch_amp.toml"):  # both have transforms
        (folder / name).write_bytes((builtin_mappings_dir() / name).read_bytes())
    return sorted(folder.glob("*.toml"))


def _loader(paths, calls):
    def load():
        calls.append(1)
        return [rule for p in paths for rule in load_table(p)]
    return load


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MS_MIGRATE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _warm(tmp_path):
    """Tables, a loader that counts its calls, the rules, and the cache file written."""
    paths, calls = _tables(tmp_path), []
    expected = rulecache.cached(paths, _loader(paths, calls))
    (stored,) = (tmp_path / "cache").glob("rules-*.json")
    return paths, calls, expected, stored


def test_second_load_reads_the_cache_and_gives_the_same_rules(tmp_path, cache):
    paths, calls, first, stored = _warm(tmp_path)
    second = rulecache.cached(paths, _loader(paths, calls))
    assert calls == [1] and first == second and len(first) > 10
    assert all(type(r) is Rule for r in second)
    assert any(r.transform for r in second) and any(r.examples for r in second)


def test_every_rule_field_is_stored():
    assert set(_STORED) == {f.name for f in fields(Rule)}


def test_the_cache_is_private_to_its_user(tmp_path, cache):
    _, _, _, stored = _warm(tmp_path)
    assert stat.S_IMODE(stored.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(cache.stat().st_mode) & 0o077 == 0


def test_a_changed_table_is_loaded_again(tmp_path, cache):
    paths, calls, _, _ = _warm(tmp_path)
    paths[0].write_text(paths[0].read_text() + "\n# an edit\n")
    rulecache.cached(paths, _loader(paths, calls))
    assert calls == [1, 1]


def test_no_cache_where_it_cannot_be_written_or_is_turned_off(tmp_path, monkeypatch):
    paths, calls = _tables(tmp_path), []
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("MS_MIGRATE_CACHE_DIR", str(blocker / "cache"))  # cannot be made
    assert rulecache.cached(paths, _loader(paths, calls))
    monkeypatch.setenv("MS_MIGRATE_CACHE_DIR", "")
    assert rulecache.cached(paths, _loader(paths, calls))
    assert calls == [1, 1]


class _Marker:
    """Unpickling this would create a file: proof that the cache ran code."""

    path = ""

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("content", [
    b"not json at all",
    b"",
    b"[1, 2, 3]",                                        # valid JSON of another shape
    b'{"format": "ms-migrate rules 1", "rules": 7}',
    b'{"format": "ms-migrate rules 1", "rules": [{"torch_name": 1}]}',
    b'{"format": "ms-migrate rules 1", "rules": [{"kind": "function"}]}',
    b'{"format": "something else", "rules": []}',
    b"\xff\xfe not utf-8",
], ids=["text", "empty", "list", "rules-not-list", "bad-type", "missing-field",
        "other-format", "bad-bytes"])
def test_damaged_or_foreign_content_is_a_miss(tmp_path, cache, content):
    paths, calls, expected, stored = _warm(tmp_path)
    stored.write_bytes(content)
    assert rulecache.cached(paths, _loader(paths, calls)) == expected
    assert calls == [1, 1]


def test_a_planted_pickle_runs_nothing(tmp_path, cache):
    paths, calls, expected, stored = _warm(tmp_path)
    marker = tmp_path / "MARKER"
    _Marker.path = str(marker)
    payload = pickle.dumps(_Marker())
    stored.write_bytes(payload)
    assert rulecache.cached(paths, _loader(paths, calls)) == expected
    assert calls == [1, 1] and not marker.exists()
    pickle.loads(payload).close()  # the payload is a real exploit for a pickle reader
    assert marker.exists()


def test_stored_wrong_field_types_are_a_miss(tmp_path, cache):
    paths, calls, expected, stored = _warm(tmp_path)
    data = json.loads(stored.read_text())
    data["rules"][0]["args"] = "not a list"
    stored.write_text(json.dumps(data))
    assert rulecache.cached(paths, _loader(paths, calls)) == expected
    assert calls == [1, 1]


def test_a_rule_with_an_unknown_field_is_a_miss(tmp_path, cache):
    paths, calls, expected, stored = _warm(tmp_path)
    data = json.loads(stored.read_text())
    data["rules"][0]["payload"] = "x"
    stored.write_text(json.dumps(data))
    assert rulecache.cached(paths, _loader(paths, calls)) == expected
    assert calls == [1, 1]


def test_a_transform_missing_from_the_registry_is_a_miss(tmp_path, cache, monkeypatch):
    paths, calls, expected, stored = _warm(tmp_path)
    used = next(r.transform for r in expected if r.transform)
    monkeypatch.delitem(transforms.TRANSFORMS, used)
    again = []
    assert rulecache.cached(paths, lambda: again.append(1) or expected[:3]) == expected[:3]
    assert again == [1]


def test_a_file_others_can_write_is_ignored(tmp_path, cache):
    paths, calls, expected, stored = _warm(tmp_path)
    for mode in (0o620, 0o602):
        os.chmod(stored, mode)
        assert rulecache.cached(paths, _loader(paths, calls)) == expected
    assert calls == [1, 1, 1]
    assert stat.S_IMODE(stored.stat().st_mode) & 0o022 == 0  # rewritten private


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="no owner ids on this system")
def test_a_file_of_another_user_is_ignored(tmp_path, cache, monkeypatch):
    paths, calls, expected, _ = _warm(tmp_path)
    real = os.getuid()
    monkeypatch.setattr(rulecache.os, "getuid", lambda: real + 1)
    assert rulecache.cached(paths, _loader(paths, calls)) == expected
    assert calls == [1, 1]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_a_symlink_or_a_folder_in_its_place_is_ignored(tmp_path, cache):
    paths, calls, expected, stored = _warm(tmp_path)
    elsewhere = tmp_path / "elsewhere.json"
    stored.replace(elsewhere)
    stored.symlink_to(elsewhere)
    assert rulecache.cached(paths, _loader(paths, calls)) == expected
    assert calls == [1, 1] and not stored.is_symlink()  # replaced by a real file
    stored.unlink()
    stored.mkdir()
    assert rulecache.cached(paths, _loader(paths, calls)) == expected
    assert calls == [1, 1, 1]


def test_missing_builtin_tables_are_an_error_not_an_empty_rule_set(tmp_path, monkeypatch):
    from ms_migrate.tables import load
    monkeypatch.setattr(load, "builtin_mappings_dir", lambda: tmp_path / "nowhere")
    monkeypatch.setattr(load, "_CACHE", {})
    with pytest.raises(TableError, match="no built-in rule tables found"):
        load.load_rules()
