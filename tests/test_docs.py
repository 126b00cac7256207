"""docs/supported-apis.md is generated from the tables and must be current."""
from pathlib import Path

from ms_migrate.tables.load import load_rules
from ms_migrate.tables.doc import render_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "supported-apis.md"


def test_supported_api_table_is_current():
    expected = render_markdown(load_rules())
    assert DOC.read_text(encoding="utf-8") == expected, (
        "regenerate: ms-migrate rules --format markdown > docs/supported-apis.md")
