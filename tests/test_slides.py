"""Every notebook carries the slide metadata that scripts/slides.py's rules give it.

After editing a notebook, ``python scripts/slides.py`` writes the metadata again; the browser
check of the decks is ``python scripts/check_slides.py`` (README, "Presenting the series").
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import slides  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def slide_type(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def opens_with_h2(cell: dict) -> bool:
    return cell["cell_type"] == "markdown" and re.match(r"## ", slides.source(cell)) is not None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_has_a_slide_type_and_the_title_starts_a_slide(path):
    cells = load(path)["cells"]
    assert slide_type(cells[0]) == "slide"
    assert all(slide_type(c) in slides.SLIDE_TYPES for c in cells), [
        i for i, c in enumerate(cells) if slide_type(c) not in slides.SLIDE_TYPES
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_h2_heading_starts_a_slide(path):
    nb = load(path)
    assert all(slide_type(c) == "slide" for c in nb["cells"] if opens_with_h2(c))
    # in the deck, headings inside a cell are split off and start a slide too
    deck = slides.deck_notebook(nb)["cells"]
    headings = [slides.source(c) for c in deck if opens_with_h2(c)]
    n_h2 = sum(
        len(re.findall(r"^## ", slides.source(c), flags=re.M))
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
    )
    assert len(headings) == n_h2
    assert all(slide_type(c) == "slide" for c in deck if opens_with_h2(c))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_setup_cell_is_skipped(path):
    setup = [c for c in load(path)["cells"] if "setup(" in slides.source(c)]
    assert setup and all(slide_type(c) == "skip" for c in setup)


def test_check_passes_on_the_committed_notebooks(capsys):
    assert slides.main(["--check"]) == 0, capsys.readouterr().out


def test_the_rules_are_idempotent_and_ignore_the_metadata_already_there():
    nb = load(NOTEBOOKS[0])
    once = copy.deepcopy(nb)
    slides.apply(once)
    assert slides.apply(once) == []
    scrambled = copy.deepcopy(once)
    for cell in scrambled["cells"]:
        cell["metadata"]["slideshow"] = {"slide_type": "notes"}
    slides.apply(scrambled)
    assert scrambled == once


def test_check_catches_metadata_that_is_not_the_rules(tmp_path, monkeypatch, capsys):
    nb = load(NOTEBOOKS[1])
    nb["cells"][2]["metadata"]["slideshow"] = {"slide_type": "-"}  # a ## heading, not a slide
    (tmp_path / NOTEBOOKS[1].name).write_text(json.dumps(nb), encoding="utf-8")
    monkeypatch.setattr(slides, "NOTEBOOKS", tmp_path)
    assert slides.main(["--check"]) == 1
    assert "cells [2]" in capsys.readouterr().out


def test_a_deck_builds_with_a_section_per_slide(tmp_path):
    path = NOTEBOOKS[1]
    html = slides.build_deck(path, tmp_path).read_text(encoding="utf-8")
    types = [slide_type(c) for c in slides.deck_notebook(load(path))["cells"]]
    assert html.count("<section") == 2 * types.count("slide") + types.count("subslide")
    assert "The prdqn decks" in html  # scripts/slides.css is inlined
