"""torchtext's Multi30k, written into a converted file as plain Python: the same files,
fetched from the same addresses where they are missing, read into the same (source,
target) sentence pairs. MindSpore's Multi30kDataset reads a local copy only, shuffles by
default and yields numpy string rows: not the pairs torchtext gives."""
from __future__ import annotations

HELPERS = {
    "multi30k": '''\
multi30k = types.SimpleNamespace(URL={
    "train": "http://www.quest.dcs.shef.ac.uk/wmt16_files_mmt/training.tar.gz",
    "valid": "http://www.quest.dcs.shef.ac.uk/wmt16_files_mmt/validation.tar.gz",
    "test": "http://www.quest.dcs.shef.ac.uk/wmt16_files_mmt/mmt16_task1_test.tar.gz",
})  # torchtext.datasets.multi30k: where Multi30k fetches each split's archive
''',
    "Multi30k": '''\
def Multi30k(root=os.path.expanduser("~/.torchtext/cache"), split=("train", "valid", "test"),
             language_pair=("de", "en")):
    """torchtext.datasets.Multi30k: each split as a list of (source, target) sentences, read
    from <root>/Multi30k/{train,val,test}.{de,en} (fetched from multi30k.URL and
    extracted there where missing); a tuple of lists where split is a tuple."""
    assert tuple(sorted(language_pair)) == ("de", "en"), "language_pair must be ('de', 'en') or ('en', 'de')"
    root = os.path.join(root, "Multi30k")
    prefixes = {"train": "train", "valid": "val", "test": "test"}

    def read(name):
        sentences = []
        for language in language_pair:
            path = os.path.join(root, f"{prefixes[name]}.{language}")
            if not os.path.exists(path):
                os.makedirs(root, exist_ok=True)
                archive = os.path.join(root, os.path.basename(multi30k.URL[name]))
                if not os.path.exists(archive):
                    urllib.request.urlretrieve(multi30k.URL[name], archive)
                with tarfile.open(archive) as tar:
                    member = next(m for m in tar.getmembers() if m.name.endswith(os.path.basename(path)))
                    with open(path, "wb") as file:
                        file.write(tar.extractfile(member).read())
            with open(path, encoding="utf-8") as file:
                sentences.append([line.rstrip("\\r\\n") for line in file])
        return list(zip(*sentences))

    if isinstance(split, str):
        return read(split)
    return tuple(read(name) for name in split)
''',
}
NEEDS = {"Multi30k": ("multi30k",)}
IMPORTS = {"multi30k": ("import types",),
           "Multi30k": ("import os", "import tarfile", "import urllib.request")}
