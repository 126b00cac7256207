"""What the converter writes for every golden fixture, corpus file, example and rule
example, and what it reports, stays as it was unless a change means to alter it.

A refactor must leave every digest alone. A change meant to alter output rewrites
tests/snapshots/output_digests.json (`python scripts/output_digests.py --write`), and
the diff of that file names each input whose output or findings changed.
"""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("output_digests", ROOT / "scripts" / "output_digests.py")
output_digests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(output_digests)


def test_every_output_and_finding_is_as_recorded():
    expected = json.loads(output_digests.SNAPSHOT.read_text("utf-8"))
    found = output_digests.digests(output_digests.project_sources())
    assert found.keys() == expected.keys(), "inputs came or went: rewrite the snapshot"
    differ = sorted(name for name in found if found[name] != expected[name])
    assert not differ, (f"{len(differ)} outputs or reports changed, e.g. {differ[:5]}; if meant, "
                        "run scripts/output_digests.py --write and review its diff")


def test_the_digest_sees_a_changed_finding_or_output():
    base = output_digests.digest("import torch\nx = torch.zeros(2)\n", "a.py")
    assert base == output_digests.digest("import torch\nx = torch.zeros(2)\n", "a.py")
    assert base != output_digests.digest("import torch\nx = torch.ones(2)\n", "a.py")
    assert base != output_digests.digest("import torch\n\nx = torch.zeros(2)\n", "a.py")
