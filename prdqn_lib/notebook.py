"""The notebooks' setup in one place: project root, quick mode, where media and results live.

    from prdqn_lib.notebook import setup
    nb = setup()          # nb.root, nb.results, nb.media, nb.quick, nb.steps

Quick mode (``PRDQN_QUICK=1``, what CI runs) trains briefly and writes media into one scratch
folder, ``<tmp>/prdqn-quick-media``, that every quick run reuses: the committed full-run media
stay as they are, and repeated runs leave nothing new behind (nbval kills its kernels, so a
folder per run could never be cleaned up at exit).
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NotebookSetup", "announce_quick", "setup"]

# Importing Ray in a notebook prints install hints for ipywidgets (from Ray and from tqdm.auto);
# the series draws no widgets, so a learner should not meet them in notebook 07's first cell.
warnings.filterwarnings("ignore", message="IProgress not found")
logging.getLogger("ray.widgets.util").setLevel(logging.WARNING)


@dataclass(frozen=True)
class NotebookSetup:
    root: Path  # the project folder (the one holding prdqn_lib/)
    results: Path  # benchmarks/results/learning_shared: the report-seed runs, shared Config
    media: Path  # where GIFs and plots go (a scratch folder in quick mode)
    quick: bool  # PRDQN_QUICK=1: the same cells with short training
    steps: int  # env steps for the notebook's own training run


def _find_root(start: Path) -> Path:
    for p in [start, *start.parents]:
        if (p / "prdqn_lib").is_dir() and (p / "notebooks").is_dir():
            return p
    raise FileNotFoundError(f"no prdqn project folder above {start}")


def setup(full_steps: int = 20_000, quick_steps: int = 3_000) -> NotebookSetup:
    """Find the project, read quick mode, and prepare the media folder."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # render off-screen, nothing on stderr
    root = _find_root(Path.cwd().resolve())
    quick = os.environ.get("PRDQN_QUICK") == "1"
    if quick:
        media = Path(tempfile.gettempdir()) / "prdqn-quick-media"
        media.mkdir(exist_ok=True)
    else:
        media = root / "media"
    steps = quick_steps if quick else full_steps
    if quick:
        announce_quick(steps, full_steps)
    return NotebookSetup(
        root=root,
        # 01–04 teach with the one shared Config, so they read its runs; each variant's own
        # preset's runs are in learning/ (notebook 05 compares the two)
        results=root / "benchmarks" / "results" / "learning_shared",
        media=media,
        quick=quick,
        steps=steps,
    )


QUICK_NOTICE = (
    "QUICK MODE (PRDQN_QUICK=1): this notebook trains {quick:,} env steps instead of {full:,}. "
    "The numbers its training cells print are a short run's; the text quotes the full run "
    "(the committed outputs). Unset PRDQN_QUICK and re-run to see those."
)


def announce_quick(quick_steps: int, full_steps: int) -> str:
    """Say visibly that the notebook runs in quick mode (a yellow box in Jupyter, one line
    elsewhere), so quick outputs are not read against the prose's full-run numbers."""
    text = QUICK_NOTICE.format(quick=quick_steps, full=full_steps)
    try:
        from IPython.core.getipython import get_ipython
        from IPython.display import HTML, display

        if get_ipython() is None:
            raise ImportError
    except ImportError:
        print(text)
        return text
    display(HTML(f'<div style="background:#fff3cd;border:2px solid #e0a800;padding:8px;'
                 f'font-weight:bold">{text}</div>'))  # fmt: skip
    return text
