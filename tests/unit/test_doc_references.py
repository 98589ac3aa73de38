"""The code's docstrings and comments point only to documents the repository has:
``docs/…`` files that exist, never the design notes kept outside it."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"\b(DESIGN\.md|contracts\.md|STYLE\.md)\b")
DOCS = re.compile(r"\bdocs/[\w./-]+\.md\b")


def sources() -> list[Path]:
    return sorted((REPO / "tutor").rglob("*.py"))


def test_no_reference_to_notes_outside_the_repository():
    found = [f"{path.relative_to(REPO)}:{n}" for path in sources()
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if OUTSIDE.search(line)]
    assert found == [], "point to docs/ instead"


def test_every_docs_file_cited_exists():
    cited = {match for path in sources() for match in DOCS.findall(path.read_text(encoding="utf-8"))}
    assert "docs/architecture.md" in cited
    assert sorted(name for name in cited if not (REPO / name).is_file()) == []
