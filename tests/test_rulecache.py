"""The built-in tables are read back from a pickle named by their bytes."""
from pathlib import Path

from ms_migrate import rulecache
from ms_migrate.rules import builtin_mappings_dir, load_table


def _tables(tmp_path: Path):
    folder = tmp_path / "tables"
    folder.mkdir()
    for src in sorted(builtin_mappings_dir().glob("*.toml"))[:2]:
        (folder / src.name).write_bytes(src.read_bytes())
    return sorted(folder.glob("*.toml"))


def _loader(paths, calls):
    def load():
        calls.append(1)
        return [rule for p in paths for rule in load_table(p)]
    return load


def test_second_load_reads_the_pickle_and_gives_the_same_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("MS_MIGRATE_CACHE_DIR", str(tmp_path / "cache"))
    paths, calls = _tables(tmp_path), []
    first = rulecache.cached(paths, _loader(paths, calls))
    second = rulecache.cached(paths, _loader(paths, calls))
    assert calls == [1] and first == second and len(first) > 10
    assert len(list((tmp_path / "cache").glob("rules-*.pickle"))) == 1


def test_a_changed_table_is_loaded_again(tmp_path, monkeypatch):
    monkeypatch.setenv("MS_MIGRATE_CACHE_DIR", str(tmp_path / "cache"))
    paths, calls = _tables(tmp_path), []
    rulecache.cached(paths, _loader(paths, calls))
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


def test_a_damaged_pickle_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("MS_MIGRATE_CACHE_DIR", str(tmp_path / "cache"))
    paths, calls = _tables(tmp_path), []
    expected = rulecache.cached(paths, _loader(paths, calls))
    (cached,) = (tmp_path / "cache").glob("rules-*.pickle")
    cached.write_bytes(b"not a pickle")
    assert rulecache.cached(paths, _loader(paths, calls)) == expected
    assert calls == [1, 1]
