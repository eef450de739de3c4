"""docs/fapi.md's requirement table names real tests: every `tests/x.py::name` it cites exists, and
every requirement row names a test (or says plainly why not)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "fapi.md"
CITED = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`")


def requirement_rows() -> list[str]:
    text = DOC.read_text()
    table = text.split("## The profile's authorization-server requirements", 1)[1]
    return [line for line in table.splitlines() if line.startswith("| 5.")]


def test_every_cited_test_exists():
    missing = []
    for row in requirement_rows():
        current = None
        for path, name, bare in CITED.findall(row):
            if path:
                current = path
                assert (ROOT / path).exists(), path
            name = name or bare
            if name:
                functions = {
                    node.name
                    for node in ast.walk(ast.parse((ROOT / current).read_text()))
                    if isinstance(node, ast.FunctionDef)
                }
                if name not in functions:
                    missing.append(f"{current}::{name}")
    assert missing == []


def test_every_requirement_names_a_test_or_says_why_not():
    rows = requirement_rows()
    assert len(rows) >= 25
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[-1].startswith("`tests/") or cells[-1] == "—", row
        if cells[-1] == "—":
            assert "not followed" in row or "entropy" in row or "authorization code grant" in row, row
