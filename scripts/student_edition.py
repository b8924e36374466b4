"""Write the student edition: every notebook without its exercise solutions.

    python scripts/student_edition.py                  # into build/student/ (git-ignored)
    python scripts/student_edition.py --out DIR 03_    # only notebooks whose name has a pattern
    PRDQN_QUICK=1 pytest --nbval-lax build/student/    # and it still runs (README)

What changes, and nothing else:

* every ``<details><summary>Solution</summary>…</details>`` block leaves the markdown cells
  (``Hint`` blocks stay);
* a code cell marked as a solution leaves the notebook: tagged ``solution``, or its first line
  a ``# Solution`` comment;
* the code cells of the Exercises section (from the ``## Exercises`` heading to
  ``## References``: the auto-check cells and the runnable bugs) keep their code and lose
  their outputs, so a stored output gives no answer away. Their ``nbval-check-output`` tag goes
  too: there is no stored output left to compare, and nbval runs them all the same.

The notebooks find the project from their folder's parents, so DIR must lie inside the
project folder (build/student/ does).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "build" / "student"
SOLUTION_OPEN = "<details><summary>Solution</summary>"
SOLUTION_CODE = re.compile(r"^\s*#\s*solution\b", re.I)
DETAILS = re.compile(r"<details\b|</details>")


def source(cell: dict) -> str:
    """A cell's source as one string."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def solution_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of every Solution block in ``text``, nested ``<details>`` included."""
    blocks, start = [], text.find(SOLUTION_OPEN)
    while start >= 0:
        depth, end = 0, None
        for m in DETAILS.finditer(text, start):
            depth += 1 if m.group().startswith("<details") else -1
            if depth == 0:
                end = m.end()
                break
        if end is None:
            raise ValueError(f"a Solution block is never closed: {text[start : start + 60]!r}")
        blocks.append((start, end))
        start = text.find(SOLUTION_OPEN, end)
    return blocks


def strip_solutions(text: str) -> str:
    """``text`` without its Solution blocks, and without the blank lines they leave."""
    for start, end in reversed(solution_blocks(text)):
        text = text[:start] + text[end:]
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def is_solution_code(cell: dict) -> bool:
    """A code cell tagged ``solution`` or opening with a ``# Solution`` comment."""
    tags = cell.get("metadata", {}).get("tags", [])
    return cell["cell_type"] == "code" and (
        "solution" in tags or SOLUTION_CODE.match(source(cell)) is not None
    )


def student_notebook(nb: dict) -> dict:
    """The student edition of notebook ``nb`` (a new dict; ``nb`` is left as it is)."""
    out = json.loads(json.dumps(nb))
    cells, in_exercises = [], False
    for cell in out["cells"]:
        text = source(cell)
        if cell["cell_type"] == "markdown":
            if re.search(r"^## Exercises", text, flags=re.M):
                in_exercises = True
            if re.search(r"^## References", text, flags=re.M):
                in_exercises = False
            if SOLUTION_OPEN in text:
                cell["source"] = strip_solutions(text)
        elif is_solution_code(cell):
            continue
        elif cell["cell_type"] == "code" and in_exercises:
            cell["outputs"], cell["execution_count"] = [], None
            tags = [t for t in cell["metadata"].get("tags", []) if t != "nbval-check-output"]
            if tags:
                cell["metadata"]["tags"] = tags
            else:
                cell["metadata"].pop("tags", None)
            cell["metadata"].pop("execution", None)
        cells.append(cell)
    out["cells"] = cells
    return out


def write(nb: dict, path: Path) -> None:
    """Validate ``nb`` against the nbformat schema, then write it as nbformat writes."""
    import nbformat

    nbformat.validate(nbformat.from_dict(nb))
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                    encoding="utf-8")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """The command line (module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patterns", nargs="*", help="only notebooks whose name contains one")
    parser.add_argument("--out", type=Path, default=OUT, help="default: build/student/")
    args = parser.parse_args(argv)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    paths = [p for p in paths if not args.patterns or any(s in p.name for s in args.patterns)]
    if not paths:
        parser.error(f"no notebook name contains {' or '.join(args.patterns)}")
    out = args.out.resolve()
    if ROOT not in out.parents:
        print(f"warning: {out} is outside {ROOT}: its notebooks will not find the project",
              file=sys.stderr)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        student = student_notebook(nb)
        write(student, out / path.name)
        removed = sum(len(solution_blocks(source(c))) for c in nb["cells"])
        dropped = len(nb["cells"]) - len(student["cells"])
        print(f"{path.name}: {removed} solution blocks and {dropped} solution cells removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
