"""Re-execute the notebooks in place, so their committed outputs are those of a full run.

    python scripts/run_notebooks.py                 # every notebook, full mode (a few minutes each)
    python scripts/run_notebooks.py 04_sumtree_per  # only those whose name contains a pattern

Each notebook runs top to bottom in a fresh kernel from the notebooks/ folder; a cell error
stops that notebook, leaves its file untouched, and makes the script exit 1. The quick mode used
by CI (``PRDQN_QUICK=1 pytest --nbval-lax notebooks/``) never writes the notebooks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def collapse_progress(text: str) -> str:
    """What a terminal shows of ``text``: each line as its last carriage-return rewrite.

    tqdm redraws its bar with ``\r``; a live notebook shows only the final bar, but the stored
    output keeps every redraw, and nbconvert's HTML and GitHub print them all, one per line.
    """
    lines = text.split("\n")
    return "\n".join(line.rstrip("\r").split("\r")[-1] for line in lines)


def collapse_outputs(nb) -> None:
    """Merge each cell's consecutive stream outputs (one per redraw, as the kernel sent them)
    and collapse their progress bars, in place."""
    for cell in nb.cells:
        merged = []
        for out in cell.get("outputs", []):
            prev = merged[-1] if merged else None
            if (
                out.get("output_type") == "stream"
                and prev is not None
                and prev.get("output_type") == "stream"
                and prev.get("name") == out.get("name")
            ):
                prev["text"] += out["text"]
            else:
                merged.append(out)
        for out in merged:
            if out.get("output_type") == "stream":
                out["text"] = collapse_progress(out["text"])
        if "outputs" in cell:
            cell["outputs"] = merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Re-execute the notebooks in place in full mode (a few minutes each), so "
        "their committed outputs are those of a full run. A notebook whose cell fails is left "
        "untouched and makes the exit status 1."
    )
    parser.add_argument("patterns", nargs="*", metavar="PATTERN",
                        help="run only the notebooks whose file name contains a PATTERN "
                             "(default: all)")  # fmt: skip
    parser.add_argument("--tidy", action="store_true",
                        help="do not execute: only merge and collapse the progress output "
                             "already stored")  # fmt: skip
    args = parser.parse_args(argv)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.patterns:
        paths = [p for p in paths if any(pattern in p.name for pattern in args.patterns)]
        if not paths:
            names = ", ".join(p.stem for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
            parser.error(f"no notebook name contains {' or '.join(args.patterns)} ({names})")
    if args.tidy:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            collapse_outputs(nb)
            nbformat.write(nb, path)
        return 0
    os.environ.pop("PRDQN_QUICK", None)  # full runs only
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    failed = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": NOTEBOOKS}}
        )
        start = time.perf_counter()
        try:
            client.execute()
        except CellExecutionError as exc:
            print(f"FAILED {path.name}: {str(exc).splitlines()[0]}", file=sys.stderr)
            failed.append(path.name)
            continue
        collapse_outputs(nb)
        nbformat.write(nb, path)
        print(f"{path.name}: {time.perf_counter() - start:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
