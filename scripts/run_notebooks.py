"""Re-execute the notebooks in place, so their committed outputs are those of a full run.

    python scripts/run_notebooks.py                 # every notebook, full mode (a few minutes each)
    python scripts/run_notebooks.py 04_sumtree_per  # only those whose name contains a pattern

Each notebook runs top to bottom in a fresh kernel from the notebooks/ folder; a cell error
stops that notebook, leaves its file untouched, and makes the script exit 1. The quick mode used
by CI (``PRDQN_QUICK=1 pytest --nbval-lax notebooks/``) never writes the notebooks.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def main(argv: list[str]) -> int:
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if argv:
        paths = [p for p in paths if any(pattern in p.name for pattern in argv)]
        if not paths:
            print(f"no notebook matches {argv}", file=sys.stderr)
            return 2
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
        nbformat.write(nb, path)
        print(f"{path.name}: {time.perf_counter() - start:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
