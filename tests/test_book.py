"""The committed formula book is what `symkl derive --all` writes now, and staleness is reported."""
from pathlib import Path

from typer.testing import CliRunner

from symkl.book import write
from symkl.cli import app

BOOK = Path(__file__).resolve().parent.parent / "derivations"


def test_committed_book_is_up_to_date():
    assert write(BOOK, check=True) == []


def test_a_stale_page_is_reported_with_exit_1(tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["derive", "--all", "--out", str(tmp_path)]).exit_code == 0
    page = tmp_path / "kl" / "normal--normal.md"
    assert "proven" in page.read_text() and "$$" in page.read_text()
    page.write_text(page.read_text().replace("proven", "failed"))
    result = runner.invoke(app, ["derive", "--all", "--check", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "kl/normal--normal.md" in result.output
