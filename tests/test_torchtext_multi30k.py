"""torchtext.datasets.Multi30k becomes a helper written into the converted file that reads
the same files torchtext caches (<root>/Multi30k/{train,val,test}.{de,en}) and, where they
are missing, fetches the split's archive from multi30k.URL and extracts them, as
torchtext does. torchtext cannot be installed beside this torch: the expectations below
follow from its documented behaviour and the files written here (pairs in file order,
source language first, newlines stripped; a tuple of splits where split is a tuple)."""
import os
import tarfile

import pytest

from ms_migrate import convert_source

PROGRAM = '''from torchtext.datasets import Multi30k, multi30k
from torchtext import datasets

multi30k.URL["train"] = TRAIN_URL
train_pairs = Multi30k(root=ROOT, split="train", language_pair=("de", "en"))
train, val = datasets.Multi30k(root=ROOT, split=("train", "valid"), language_pair=("en", "de"))
together = train + val
'''


def _convert(source):
    result = convert_source(source, "data.py")
    assert "import torchtext" not in result.code and "from torchtext" not in result.code
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    assert convert_source(result.code, "data.py").code == result.code  # idempotent
    return result.code


def _write(folder, name, lines):
    with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


def test_multi30k_reads_cached_files_and_fetches_missing_ones(tmp_path):
    # valid: already extracted in the cache; train: only in an archive at TRAIN_URL
    root = tmp_path / "cache"
    (root / "Multi30k").mkdir(parents=True)
    _write(root / "Multi30k", "val.de", ["Ein Hund.", "Zwei Katzen."])
    _write(root / "Multi30k", "val.en", ["A dog.", "Two cats."])
    build = tmp_path / "build"
    build.mkdir()
    _write(build, "train.de", ["Ein Mann läuft.", "Kinder spielen.", "Ein Boot."])
    _write(build, "train.en", ["A man runs.", "Children play.", "A boat."])
    archive = tmp_path / "training.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("train.de", "train.en"):
            tar.add(build / name, arcname=name)
    code = _convert(PROGRAM)
    scope = {"ROOT": str(root), "TRAIN_URL": archive.as_uri()}
    exec(compile(code, "<converted>", "exec"), scope)  # noqa: S102 - our own program
    assert scope["train_pairs"] == [("Ein Mann läuft.", "A man runs."),
                                    ("Kinder spielen.", "Children play."),
                                    ("Ein Boot.", "A boat.")]
    assert scope["train"] == [(en, de) for de, en in scope["train_pairs"]]
    assert scope["val"] == [("A dog.", "Ein Hund."), ("Two cats.", "Zwei Katzen.")]
    assert len(scope["together"]) == 5
    assert sorted(os.listdir(root / "Multi30k")) == [
        "train.de", "train.en", "training.tar.gz", "val.de", "val.en"]


def test_multi30k_refuses_other_language_pairs(tmp_path):
    code = _convert("import torchtext\ndata = torchtext.datasets.Multi30k(root=ROOT, "
                    "split='test', language_pair=('de', 'fr'))\n")
    with pytest.raises(AssertionError):
        exec(compile(code, "<converted>", "exec"), {"ROOT": str(tmp_path)})  # noqa: S102
