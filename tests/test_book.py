"""The committed formula book is what `symkl derive --all` writes now, and staleness is reported."""
import os
from pathlib import Path

import pytest

from typer.testing import CliRunner

from symkl.book import pages, write
from symkl.cli import app

BOOK = Path(__file__).resolve().parent.parent / "derivations"


@pytest.mark.slow
def test_committed_book_is_up_to_date():
    """Every page (SYMKL_SLOW_SIZE=all), or an even sample of SYMKL_SLOW_SIZE pair and entropy pages with the
    identities' pages: each is what `symkl derive --all` writes now. The index, whose matrix needs every pair of
    the catalog derived (minutes on a cold cache), is compared only with all."""
    size = os.environ.get("SYMKL_SLOW_SIZE", "16")
    names = sorted(pages())
    if size == "all":
        chosen = set(names)
    else:
        pairs = [n for n in names if n.startswith(("kl/", "entropy/"))]
        chosen = set(pairs[::max(1, len(pairs) // int(size))]) | {n for n in names if n not in pairs} - {"README.md"}
    assert write(BOOK, check=True, only=chosen.__contains__) == []


def test_every_committed_page_is_one_the_book_has():
    """No page is left behind by a family or pair that is gone (the sample above cannot see those)."""
    names = set(pages())
    committed = {p.relative_to(BOOK).as_posix() for p in BOOK.rglob("*.md")}
    assert committed == names


def test_a_stale_page_is_reported_with_exit_1(tmp_path):
    runner = CliRunner()
    only = ["--only", "kl/normal--normal.md", "--checks"]
    assert runner.invoke(app, ["derive", "--all", "--out", str(tmp_path), *only]).exit_code == 0
    page = tmp_path / "kl" / "normal--normal.md"
    assert "proven" in page.read_text() and "$$" in page.read_text() and "verified" in page.read_text()
    assert "## Verification" in page.read_text() and "## Numeric function" in page.read_text()
    assert [p.name for p in tmp_path.rglob("*.md")] == ["normal--normal.md"]
    page.write_text(page.read_text().replace("proven", "failed"))
    result = runner.invoke(app, ["derive", "--all", "--check", "--out", str(tmp_path), *only])
    assert result.exit_code == 1 and "kl/normal--normal.md" in result.output
