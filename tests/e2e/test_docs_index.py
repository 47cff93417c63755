"""docs/README.md is the index `make docs` points at: every page under docs/ is linked from it, and
every relative link in it leads to a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
INDEX = DOCS / "README.md"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def relative_links(text: str) -> set[str]:
    return {target for target in LINK.findall(text) if "://" not in target}


def test_every_page_under_docs_is_in_the_index() -> None:
    linked = {(DOCS / target).resolve() for target in relative_links(INDEX.read_text())}
    pages = {page.resolve() for page in DOCS.rglob("*.md") if page != INDEX}
    missing = sorted(str(page.relative_to(DOCS)) for page in pages - linked)
    assert pages, "docs/ holds no pages"
    assert missing == []


def test_every_link_in_the_index_leads_somewhere() -> None:
    targets = relative_links(INDEX.read_text())
    assert len(targets) >= 20
    broken = sorted(t for t in targets if not (DOCS / t).resolve().is_file())
    assert broken == []


def test_make_docs_names_the_index() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "docs/README.md" in makefile
