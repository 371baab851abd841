"""Categories as data: the bundled file, and file:line errors for a bad one."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from blamelex.categories import CategoryError, categories, category_labels, load_categories


def test_bundled_categories() -> None:
    cats = categories()
    assert cats is categories()  # read and validated once
    assert list(cats)[:2] == ["responsibility_choice", "consent_relationship"]
    assert len(cats) == 9
    for i, cat in enumerate(cats.values()):
        assert cat.code == f"VB{100 * (i + 1)}" and cat.label and cat.suggestions and cat.sources
        assert cat.file == "categories.yaml" and cat.line > 0
        assert "  " not in cat.explanation
    assert category_labels()["criminalising"] == "Criminalising the child"
    with pytest.raises(TypeError):
        cats["x"] = cats["criminalising"]  # type: ignore[index]


def test_a_bad_file_names_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "categories.yaml"
    path.write_text(textwrap.dedent("""
        categories:
          grooming:
            label: Grooming
            code: VB1000
            term: grooming wording
            severity: dreadful
            explanation: Explains.
            suggestions: ["say what happened"]
            sources: [{title: A source, url: "ftp://example.org"}]
            colour: red
          other:
            label: Other
          grooming_again:
            label: Grooming again
            code: VB200
            term: t
            severity: avoid
            explanation: e
            suggestions: [s]
            sources: [{title: A source, url: "https://example.org"}]
          grooming_twice:
            label: Grooming twice
            code: VB200
            term: t
            severity: avoid
            explanation: e
            suggestions: [s]
            sources: [{title: A source, url: "https://example.org"}]
        """).lstrip(), encoding="utf-8")
    with pytest.raises(CategoryError) as info:
        load_categories(path)
    problems = info.value.problems
    where = str(path)
    assert f"{where}:4: category grooming: code: letters then a number ending in 00, " \
           f"e.g. VB100" in problems
    assert f"{where}:6: category grooming: severity: must be one of caution, avoid" in problems
    assert any(p.startswith(f"{where}:9: category grooming: sources:") for p in problems)
    assert any(p.startswith(f"{where}:10: category grooming: colour: unknown field")
               for p in problems)
    assert f"{where}:11: category other: code: required" in problems
    assert any(p.startswith(f"{where}:21: category grooming_twice: code: VB200 already used "
                            f"by grooming_again") for p in problems)
    assert len(problems) == 4 + 6 + 1, problems
