"""The committed notebooks follow the series' conventions (CONTRIBUTING.md) and render right.

These read the notebooks as committed, outputs included: what a learner opens in JupyterLab,
VS Code or on GitHub, and what nbconvert exports to HTML. Executing them is nbval's job.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NBVAL_TAGS = {"nbval-check-output", "nbval-ignore-output", "nbval-skip", "nbval-raises-exception"}
SECTIONS = ["## Summary", "## Exercises", "## References", "## Glossary"]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def markdown(nb: dict) -> str:
    return "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def table_cells_with_split_math(text: str) -> list[str]:
    """Table rows in which a cell holds an odd number of `$`: a `|` inside `$…$` split it."""
    bad = []
    for line in text.splitlines():
        if line.lstrip().startswith("|") and not re.fullmatch(r"\s*\|[\s:|-]*\|?\s*", line):
            cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
            if any(cell.count("$") % 2 for cell in cells):
                bad.append(line)
    return bad


def test_there_are_seven_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_kernelspec_is_what_ipykernel_writes(path):
    # "Python 3" made every notebook open as modified in JupyterLab
    spec = load(path)["metadata"]["kernelspec"]
    assert spec == {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_nbval_is_driven_by_tags_not_comments(path):
    for cell in code_cells(load(path)):
        src = "".join(cell["source"])
        assert "# NBVAL_" not in src, src[:80]
        assert set(cell["metadata"].get("tags", [])) <= NBVAL_TAGS | {"hide-input"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_ends_with_summary_exercises_references_glossary(path):
    text = markdown(load(path))
    positions = [text.find(s) for s in SECTIONS]
    assert all(p >= 0 for p in positions), dict(zip(SECTIONS, positions, strict=True))
    assert positions == sorted(positions)
    glossary = text[positions[-1] :]
    assert re.search(r"[\u4e00-\u9fff]", glossary), "the glossary has no Chinese terms"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_have_marks_hints_solutions_and_a_check(path):
    nb = load(path)
    text = markdown(nb)
    exercises = text[text.find("## Exercises") : text.find("## References")]
    assert len(re.findall(r"\*\*\d+ \(★{1,3}", exercises)) >= 3
    assert exercises.count("<details><summary>Hint</summary>") >= 3
    assert exercises.count("<details><summary>Solution</summary>") >= 3
    assert any("correct!" in "".join(c["source"]) for c in code_cells(nb)), "no auto-check cell"
    if path.name[:2] in {"01", "02", "03", "04"}:
        assert "find the silent bug" in exercises


def collapsed_code(nb: dict) -> list[int]:
    """Code cells collapsed in JupyterLab (``jupyter.source_hidden``): nbconvert's HTML and
    GitHub ignore that flag and print them in full."""
    return [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
            and c.get("metadata", {}).get("jupyter", {}).get("source_hidden")]  # fmt: skip


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_code_is_collapsed_so_no_export_prints_hidden_helpers(path):
    """Drawing helpers live in prdqn_lib.diagrams and are called in one line; a collapsed
    cell would hide nothing in an export (issue 21 point 21)."""
    assert collapsed_code(load(path)) == []


MAX_FIGURE_PX = 1000  # wider PNGs are scaled down in JupyterLab's output area, text and all


def figure_widths(nb: dict) -> list[tuple[int, int]]:
    """(cell, width in px) of every PNG output, read from the PNG header (IHDR)."""
    out = []
    for i, cell in enumerate(nb["cells"]):
        for o in cell.get("outputs", []):
            png = o.get("data", {}).get("image/png")
            if png:
                out.append((i, struct.unpack(">I", base64.b64decode(png)[16:20])[0]))
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_figures_are_shown_at_full_size(path):
    """Issue 21 point 20: multi-panel figures were shown at 61–69%, their text about 7 px."""
    widths = figure_widths(load(path))
    assert widths and all(w <= MAX_FIGURE_PX for _, w in widths), widths


def test_the_width_check_reads_the_png_header():
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(14, 3), dpi=100)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode()
    nb = {"cells": [{"cell_type": "code", "outputs": [{"data": {"image/png": png}}]}]}
    assert figure_widths(nb) == [(0, 1400)]


def test_the_collapsed_check_catches_a_hidden_helper():
    cell = {"cell_type": "code", "source": ["def draw(): ..."],
            "metadata": {"jupyter": {"source_hidden": True}}}  # fmt: skip
    assert collapsed_code({"cells": [{"cell_type": "markdown", "source": []}, cell]}) == [1]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_bar_inside_math_in_a_table_row(path):
    assert table_cells_with_split_math(markdown(load(path))) == []


def test_the_table_check_catches_a_bar_inside_math():
    assert table_cells_with_split_math("| $|x|$ | y |\n|---|---|") == ["| $|x|$ | y |"]
    assert table_cells_with_split_math(r"| $\lvert x\rvert$ | y |") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_clean(path):
    for cell in code_cells(load(path)):
        outs = cell.get("outputs", [])
        for a, b in zip(outs, outs[1:], strict=False):  # one output per bar redraw: unmerged
            same_stream = a["output_type"] == b["output_type"] == "stream"
            assert not (same_stream and a["name"] == b["name"])
        for out in outs:
            if out["output_type"] == "stream":
                text = "".join(out["text"])
                assert "\r" not in text, "a progress bar kept every redraw"
                assert all(line.count("%|") <= 1 for line in text.splitlines()), "bars run on"
            data = out.get("data", {})
            assert "image/gif" not in data or "text/html" in data
            assert "<IPython.core.display.Image object>" not in "".join(data.get("text/plain", ""))


@pytest.fixture(scope="module")
def exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_html_export_shows_the_gifs_and_renders_every_table(path, exporter):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    html, _ = exporter.from_notebook_node(nb)
    assert "IPython.core.display.Image object" not in html
    if any("show_media(" in "".join(c["source"]) for c in code_cells(load(path))):
        gifs = [tag for tag in re.findall(r"<img [^>]*>", html) if "data:image/gif;base64," in tag]
        assert gifs, "no GIF in the HTML"
        assert all(re.search(r'alt="[^"]*\w[^"]*"', tag) for tag in gifs), "a GIF without alt"
    tables = len(re.findall(r"^\s*\|\s*:?-{3,}", markdown(load(path)), flags=re.M))
    assert html.count("<table") >= tables, "a markdown table did not render"


def test_show_media_embeds_a_gif_as_html_with_alt_text(tmp_path):
    from prdqn_lib.render import show_media

    gif = tmp_path / "a.gif"
    gif.write_bytes(b"GIF89a;")
    bundle = show_media(gif, alt='pole "up" <500>')._repr_mimebundle_()
    assert bundle["text/html"].startswith('<img src="data:image/gif;base64,R0lGODlhOw==" ')
    assert 'alt="pole &quot;up&quot; &lt;500&gt;"' in bundle["text/html"]
    with pytest.raises(ValueError, match="path: no such file"):
        show_media(tmp_path / "missing.gif")
    with pytest.raises(ValueError, match="width must be a positive int or None, got 0"):
        show_media(gif, width=0)
