"""Slide metadata for the notebooks, assigned by rules, and the decks built from it.

    python scripts/slides.py              # write the rules' slide metadata into every notebook
    python scripts/slides.py --check      # exit 1 if a notebook's metadata is not the rules'
    python scripts/slides.py 04_ --check  # only the notebooks whose name contains a pattern
    python scripts/slides.py --deck       # build build/slides/NN_….slides.html (reveal.js)
    python scripts/slides.py --deck --offline build/slides-assets   # decks for no internet

Only ``cell.metadata.slideshow`` is written; sources, outputs and tags are never touched, so
re-running the script after anyone edits a notebook gives the rules' metadata again (it is
idempotent and deterministic: the slide types depend only on the cells' sources, tags and
outputs, never on the slide metadata already there; re-executing a notebook can
change them). The rules, in order:

1. The first cell (the ``# NN · Title`` cell) starts a slide.
2. Plumbing is skipped: the setup cell (the code cell that calls ``setup(``), code cells tagged
   ``plumbing``, and hidden helper cells (source hidden) that display nothing.
3. A markdown cell that begins with a ``##`` heading starts a slide; with ``###`` (or deeper),
   a sub-slide.
4. A code cell with a long output (a figure, a GIF or HTML, or more than 12 lines of text)
   starts a sub-slide, so that the output has the slide to itself and its code.
5. An exercise (a markdown cell that opens with ``**k (★``) starts a sub-slide.
6. Prose after a code output: a short remark on it is a fragment (the class sees the output
   first); longer prose, or the lead-in of a next code step that would not fit beside it,
   starts a sub-slide.
7. Any other cell (the next code step, or prose) stays on the current (sub)slide while the
   estimated height fits the 1280×800 slide; when it does not fit, it starts a sub-slide.

A markdown cell can hold a heading in its middle (``…prose…`` then ``## Train it``). The rules
see it as segments split at headings; the cell's metadata is its first segment's type. The deck
built with ``--deck`` splits such cells, so that every ``##`` heading starts a slide there; a
live slideshow in JupyterLab (RISE) shows a cell whole, and the heading mid-slide.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import re
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DECKS = ROOT / "build" / "slides"

# The deck's canvas (reveal.js scales it to the screen) and the sizes of scripts/slides.css.
WIDTH, HEIGHT = 1280, 800
BUDGET = 700  # px of content a (sub)slide holds before it must scroll
TEXT_LINE, TEXT_CHARS = 30, 105  # prose: px per line, characters per line
CODE_LINE = 20  # px per line of code or text output
IMG_MAX_W, IMG_MAX_H = 1180, 560  # an image is scaled down to fit this box (slides.css)
LONG_TEXT_OUTPUT = 12  # lines of text output that count as a long output
REMARK = 120  # px: prose after an output up to this height is a remark on it (a fragment)
HEADING = re.compile(r"^(#{2,6})\s")
EXERCISE = re.compile(r"^\*\*\d+ \(★")  # **k (★★, title).** opens an exercise
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}


@dataclass
class Segment:
    """A cell, or a part of a markdown cell that starts at a heading."""

    cell: int
    cell_type: str
    source: str
    level: int  # heading level the segment starts with, 0 for none
    height: float
    long_output: bool = False
    plumbing: bool = False


def source(cell: dict) -> str:
    """A cell's source as one string (nbformat stores a list of lines or a string)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def split_markdown(text: str) -> list[str]:
    """The text cut before every ``##``-or-deeper heading (fenced code left whole)."""
    parts: list[list[str]] = [[]]
    fenced = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and HEADING.match(line) and any(s.strip() for s in parts[-1]):
            parts.append([])
        parts[-1].append(line)
    return ["\n".join(p).strip("\n") for p in parts if any(s.strip() for s in p)]


def markdown_height(text: str) -> float:
    """Estimated rendered height in px; a ``<details>`` block counts as its summary line."""
    text = re.sub(r"<details>.*?</details>", "<details>", text, flags=re.S)
    height, fenced = 0.0, False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            height += 8
        elif fenced:
            height += CODE_LINE
        elif not line.strip():
            height += TEXT_LINE * 0.5
        elif HEADING.match(line) or line.startswith("# "):
            height += TEXT_LINE * 1.8
        elif line.lstrip().startswith("|"):
            height += TEXT_LINE * 1.2 * max(1, -(-len(line) // (TEXT_CHARS * 2)))
        else:
            height += TEXT_LINE * max(1, -(-len(line) // TEXT_CHARS))
    return height


def image_height(data: dict) -> float | None:
    """Displayed height of a PNG or an embedded GIF, from the image's own header."""
    if "image/png" in data:
        raw = data["image/png"]
        head = base64.b64decode(("".join(raw) if isinstance(raw, list) else raw)[:64])
        w, h = struct.unpack(">II", head[16:24])
    else:
        html = "".join(data.get("text/html", ""))
        m = re.search(r"data:image/gif;base64,([A-Za-z0-9+/=]{16})", html)
        if not m:
            return None
        w, h = struct.unpack("<HH", base64.b64decode(m.group(1))[6:10])
        w, h = 540, h * 540 / w  # slides.css shows a GIF 540 px wide
    scale = min(1.0, IMG_MAX_W / w, IMG_MAX_H / h)
    return h * scale + 16


def output_size(cell: dict) -> tuple[float, bool]:
    """(estimated height in px, whether it is a long output) of a code cell's outputs."""
    height, long_output = 0.0, False
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        img = image_height(data) if data else None
        if img is not None:
            height, long_output = height + img, True
        elif "text/html" in data:
            height, long_output = height + BUDGET / 2, True
        else:
            text = "".join(out.get("text", "") or data.get("text/plain", ""))
            lines = text.rstrip("\n").count("\n") + 1 if text.strip() else 0
            height += lines * CODE_LINE + 10
            long_output = long_output or lines > LONG_TEXT_OUTPUT
    return height, long_output


def is_plumbing(cell: dict) -> bool:
    """Rule 2: the setup cell, a cell tagged ``plumbing``, a hidden cell that shows nothing."""
    if cell["cell_type"] != "code":
        return False
    md = cell.get("metadata", {})
    hidden = md.get("jupyter", {}).get("source_hidden", False)
    shows = any(o.get("output_type") in {"display_data", "execute_result"}
                for o in cell.get("outputs", []))  # fmt: skip
    return (
        "plumbing" in md.get("tags", [])
        or re.search(r"(^|\W)setup\(", source(cell)) is not None
        or (hidden and not shows)
    )


def segments(nb: dict) -> list[Segment]:
    """The notebook as the rules see it: cells, markdown cells cut at their headings."""
    segs: list[Segment] = []
    for i, cell in enumerate(nb["cells"]):
        text = source(cell)
        if cell["cell_type"] == "markdown":
            for part in split_markdown(text) or [""]:
                m = HEADING.match(part)
                segs.append(Segment(i, "markdown", part, len(m.group(1)) if m else 0,
                                    markdown_height(part)))  # fmt: skip
        elif cell["cell_type"] == "code":
            hidden = cell.get("metadata", {}).get("jupyter", {}).get("source_hidden", False)
            code = 0.0 if hidden else (text.count("\n") + 1) * CODE_LINE + 20
            out, long_output = output_size(cell)
            segs.append(Segment(i, "code", text, 0, code + out, long_output, is_plumbing(cell)))
        else:  # raw cells are not shown in a deck
            segs.append(Segment(i, cell["cell_type"], text, 0, 0.0, plumbing=True))
    return segs


def segment_types(segs: list[Segment]) -> list[str]:
    """The slide type of every segment, by the rules of the module docstring."""
    types: list[str] = []
    used = 0.0  # estimated px on the current (sub)slide
    after_output = False  # the current (sub)slide ends with a code cell's output
    for k, seg in enumerate(segs):
        if k == 0:
            kind = "slide"
        elif seg.plumbing:
            types.append("skip")
            continue
        elif seg.level == 2:
            kind = "slide"
        elif seg.level >= 3 or seg.long_output or used + seg.height > BUDGET:
            kind = "subslide"
        elif seg.cell_type == "markdown" and EXERCISE.match(seg.source):
            kind = "subslide"
        elif seg.cell_type == "markdown" and after_output:
            nxt = next((s for s in segs[k + 1 :] if not s.plumbing), None)
            lead_in = nxt is not None and nxt.cell_type == "code" and not nxt.long_output
            if seg.height > REMARK or (lead_in and used + seg.height + nxt.height > BUDGET):
                kind = "subslide"  # a new step of prose, or the lead-in of the next code
            else:
                kind = "fragment"  # a short remark on the output, shown after it
        else:
            kind = "-"
        used = seg.height if kind in {"slide", "subslide"} else used + seg.height
        after_output = seg.cell_type == "code"
        types.append(kind)
    return types


def cell_types(nb: dict) -> list[str]:
    """The slide type the rules give each cell: that of its first segment."""
    types: dict[int, str] = {}
    for seg, kind in zip(segments(nb), segment_types(segments(nb)), strict=True):
        types.setdefault(seg.cell, kind)
    return [types[i] for i in range(len(nb["cells"]))]


def apply(nb: dict) -> list[int]:
    """Write the rules' slide types into ``nb`` in place; return the indices of changed cells."""
    changed = []
    for i, (cell, kind) in enumerate(zip(nb["cells"], cell_types(nb), strict=True)):
        if cell.get("metadata", {}).get("slideshow") != {"slide_type": kind}:
            cell.setdefault("metadata", {})["slideshow"] = {"slide_type": kind}
            changed.append(i)
    return changed


def headings_inside_cells(nb: dict) -> list[tuple[int, str]]:
    """(cell index, heading) of every heading that does not open its markdown cell."""
    found = []
    for seg in segments(nb):
        first = source(nb["cells"][seg.cell]).lstrip().startswith(seg.source.split("\n")[0])
        if seg.level and not first:
            found.append((seg.cell, seg.source.split("\n")[0]))
    return found


def deck_notebook(nb: dict) -> dict:
    """A copy of ``nb`` for the deck: markdown cells split at their headings, each part with
    its segment's slide type, and the inputs of hidden helper cells removed."""
    out = copy.deepcopy(nb)
    cells = []
    for seg, kind in zip(segments(nb), segment_types(segments(nb)), strict=True):
        cell = copy.deepcopy(nb["cells"][seg.cell])
        if cell["cell_type"] == "markdown":
            cell["source"] = seg.source
        elif cell["cell_type"] == "code" and cell["metadata"].get("jupyter", {}).get(
            "source_hidden"
        ):
            cell["metadata"]["transient"] = {"remove_source": True}  # nbconvert drops the input
        cell.setdefault("metadata", {})["slideshow"] = {"slide_type": kind}
        cells.append(cell)
    for i, cell in enumerate(cells):  # nbformat wants one id per cell
        if "id" in cell:
            cell["id"] = f"{cell['id']}-{i}"
    out["cells"] = cells
    return out


def build_deck(path: Path, out_dir: Path = DECKS, **urls: str) -> Path:
    """Export ``path`` to ``out_dir/<stem>.slides.html`` with nbconvert's reveal.js template
    and scripts/slides.css. ``urls`` override nbconvert's CDN addresses, e.g. ``mathjax_url``,
    ``reveal_url_prefix``, ``require_js_url``, ``jquery_url`` (for an offline copy)."""
    import nbformat
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    c = Config()
    c.SlidesExporter.reveal_width = str(WIDTH)
    c.SlidesExporter.reveal_height = str(HEIGHT)
    c.SlidesExporter.reveal_scroll = True
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    for key, value in urls.items():
        setattr(c.SlidesExporter, key, value)
    deck = deck_notebook(json.loads(path.read_text(encoding="utf-8")))
    nb = nbformat.reads(json.dumps(deck), as_version=4)  # sources joined, as nbconvert wants
    html, _ = SlidesExporter(config=c).from_notebook_node(nb)
    css = (Path(__file__).with_name("slides.css")).read_text(encoding="utf-8")
    html = html.replace("</head>", f"<style>\n{css}</style>\n</head>", 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{path.stem}.slides.html"
    target.write_text(html, encoding="utf-8")
    return target


def offline_urls(assets: Path, out_dir: Path) -> dict[str, str]:
    """nbconvert's CDN addresses replaced by npm packages in ``assets/node_modules``, relative
    to the decks' folder, for a classroom without internet (see scripts/check_slides.py)."""
    rel = Path(os.path.relpath(assets / "node_modules", out_dir)).as_posix()
    return {
        "reveal_url_prefix": f"{rel}/reveal.js",
        "mathjax_url": f"{rel}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
        "require_js_url": f"{rel}/requirejs/require.js",
        "jquery_url": f"{rel}/jquery/dist/jquery.min.js",
    }


def notebooks(patterns: list[str]) -> list[Path]:
    """The series' notebooks, or those whose name contains one of ``patterns``."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in paths if not patterns or any(s in p.name for s in patterns)]


def main(argv: list[str] | None = None) -> int:
    """The command line (module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patterns", nargs="*", help="only notebooks whose name contains one")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 on a diff")
    parser.add_argument("--deck", action="store_true", help="build the reveal.js decks")
    parser.add_argument("--out", type=Path, default=DECKS, help="where --deck writes")
    parser.add_argument(
        "--offline",
        type=Path,
        metavar="ASSETS",
        help="--deck: load reveal.js and MathJax from ASSETS/node_modules (npm install "
        "--prefix ASSETS reveal.js@4 mathjax@2 requirejs@2 jquery@2)",
    )
    args = parser.parse_args(argv)
    paths = notebooks(args.patterns)
    if not paths:
        parser.error(f"no notebook name contains {' or '.join(args.patterns)}")
    status = 0
    for path in paths:
        raw = path.read_text(encoding="utf-8")
        nb = json.loads(raw)
        if args.deck:
            here = Path(os.path.abspath(args.out))  # symlinks kept: the folder may be moved
            urls = offline_urls(Path(os.path.abspath(args.offline)), here) if args.offline else {}
            print(f"{path.name}: {build_deck(path, args.out, **urls)}")
            continue
        changed = apply(nb)
        if args.check:
            if changed:
                status = 1
                print(f"{path.name}: slide metadata differs from the rules in cells {changed}")
            continue
        if changed:
            text = json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
            path.write_text(text, encoding="utf-8")
        counts = {k: cell_types(nb).count(k) for k in ("slide", "subslide", "fragment", "skip")}
        print(f"{path.name}: {len(changed)} cells changed; {counts}")
    return status


if __name__ == "__main__":
    sys.exit(main())
