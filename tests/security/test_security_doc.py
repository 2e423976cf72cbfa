"""docs/security.md names the test behind each control: every test it cites must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
CODE_SPAN = re.compile(r"`([^`]+)`")
CITATION = re.compile(r"^(?P<path>tests/[\w/]+\.py)?(?P<nodes>(::\w+)+)?(\[[^\]]*\])?$")


def cited_tests(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(file, node path) for each `tests/…py::Class::test` and each `::test` that follows one
    (it is read against the last file named); a bare `tests/…py` cites the file."""
    found, current = [], None
    for span in CODE_SPAN.findall(text):
        match = CITATION.match(span.strip())
        if match is None or not (match["path"] or (match["nodes"] and current)):
            continue
        current = match["path"] or current
        nodes = tuple(n for n in (match["nodes"] or "").split("::") if n)
        found.append((current, nodes))
    return found


def _defines(tree: ast.Module, nodes: tuple[str, ...]) -> bool:
    body = tree.body
    for name in nodes:
        match = next(
            (
                n
                for n in body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and n.name == name
            ),
            None,
        )
        if match is None:
            return False
        body = getattr(match, "body", [])
    return True


def missing_citations(text: str) -> list[str]:
    missing = []
    for path, nodes in cited_tests(text):
        file = ROOT / path
        if not file.exists():
            missing.append(path)
        elif nodes and not _defines(ast.parse(file.read_text(encoding="utf-8")), nodes):
            missing.append("::".join((path, *nodes)))
    return missing


def test_every_test_cited_in_the_security_page_exists():
    text = DOC.read_text(encoding="utf-8")
    assert len(cited_tests(text)) > 40  # the page really cites its tests
    assert missing_citations(text) == []


def test_a_citation_of_a_test_that_is_gone_is_reported():
    text = (
        "`tests/security/test_headers.py::test_pages_cannot_be_framed_or_sniffed`, "
        "`::test_no_such_thing`, `tests/deliberation/test_pages.py::TestSecretBallotPage::"
        "test_open_secret_ballot_page_shows_only_how_many_voted`, `tests/nowhere.py`"
    )
    assert missing_citations(text) == [
        "tests/security/test_headers.py::test_no_such_thing",
        "tests/nowhere.py",
    ]
