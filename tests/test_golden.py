"""Golden fixtures: tests/fixtures/<area>/<case>.in.py converts to <case>.out.py.

Adding a case is adding two files. Every output must also be a fixed point:
converting it again changes nothing. Set MS_MIGRATE_UPDATE_GOLDEN=1 to (re)write
the .out.py files from the current converter, then review the diff.
"""
import os
from pathlib import Path

import pytest

from ms_migrate import convert_source

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(FIXTURES.glob("*/*.in.py"))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name[:-6]}" for c in CASES])
def test_golden(case: Path):
    expected_path = case.with_name(case.name.replace(".in.py", ".out.py"))
    source = case.read_text(encoding="utf-8")
    result = convert_source(source, case.name)
    if os.environ.get("MS_MIGRATE_UPDATE_GOLDEN"):
        expected_path.write_text(result.code, encoding="utf-8")
    assert result.code == expected_path.read_text(encoding="utf-8")
    again = convert_source(result.code, case.name)
    assert again.code == result.code, "converting the output again changed it"
    compile(result.code, str(expected_path), "exec")
