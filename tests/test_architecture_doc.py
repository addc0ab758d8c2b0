"""docs/ARCHITECTURE.md's table of modules names every module of trainer/ and digitpad/ once."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_module_table_lists_every_module_once():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = text[text.index("## Modules") :]
    listed = re.findall(r"^\| `((?:trainer|digitpad)/[\w/]+\.py)` \|", table, re.MULTILINE)
    modules = sorted(
        str(p.relative_to(ROOT))
        for package in ("trainer", "digitpad")
        for p in (ROOT / package).rglob("*.py")
    )
    assert sorted(listed) == modules
