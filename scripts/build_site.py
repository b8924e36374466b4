"""Build the series as a book site: ``python scripts/build_site.py`` -> ``build/site/index.html``.

Nothing is executed: the pages show the outputs committed in ``notebooks/*.ipynb``. Steps:

1. Stage the sources in ``build/site_src/`` with the repository's relative layout, so that every
   link of README.md (``notebooks/…``, ``media/…``, ``benchmarks/…``) resolves as it does on
   GitHub: README.md, CONTRIBUTING.md, ``benchmarks/TUNING.md``, ``benchmarks/results/*.md``,
   ``media/`` and the notebooks, plus a generated ``index.md`` (README.md included as the
   landing page, and the table of contents).
2. On the staged copies only (the notebooks themselves are not touched): a code cell collapsed in
   JupyterLab (``metadata.jupyter.source_hidden``) gets myst-nb's ``hide-input`` tag, so the
   site shows its output with the code folded behind a "Show code" toggle; a cell whose outputs
   are collapsed (``outputs_hidden``) gets ``hide-output``. Cells tagged ``hide-input``,
   ``remove-input``, ``remove-cell`` … by hand are handled by myst-nb as they are.
3. ``sphinx-build`` with ``site/conf.py`` (Sphinx + myst-nb + sphinx-book-theme + MathJax
   served locally) into ``build/site/``.

Open it with ``python -m http.server -d build/site -b 127.0.0.1 8000`` and
http://127.0.0.1:8000/ (search needs a server; the pages alone also open from disk).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT / "site"

# Pages besides the notebooks, under the caption they get in the table of contents, with the
# title shown there (the two learning tables share the heading "Learning benchmark").
EXTRA_PAGES = {
    "Behind the results": {
        "benchmarks/results/presets_report.md": "Round 3: targets and primary comparisons",
        "benchmarks/results/learning.md": "Learning benchmark (presets and the shared Config)",
        "benchmarks/results/learning_round1.md": "Learning benchmark (round 1's Config)",
        "benchmarks/results/apex_modes.md": "Ape-X: free and paced, the paper's learner",
        "benchmarks/results/apex_overheads.md": "Ape-X: what Ray costs here",
        "benchmarks/APEX_PROTOCOL.md": "Ape-X's report protocol",
        "benchmarks/results/apex.md": "Ape-X beside per-sumtree (round 2, earlier learner)",
        "benchmarks/results/peers.md": "Beside stable-baselines3",
        "benchmarks/results/replay.md": "Replay memory speed",
        "benchmarks/results/diagnosis.md": "Why the round-1 agents collapse",
        "benchmarks/TUNING.md": "How the default Config was chosen",
        "benchmarks/results/tuning.md": "The round-2 tuning sweep",
        "benchmarks/PRESETS_PROTOCOL.md": "Round 3's tuning protocol",
        "benchmarks/results/presets.md": "Round 3's tuning sweep",
        "benchmarks/REPORT_PROTOCOL.md": "Round 3's report protocol",
        "benchmarks/results/ablation.md": "Ablation of per-sumtree's preset",
        "benchmarks/results/diagnosis/stabilisers.md": "Q(s₀) under each stabiliser",
    },
    "Project": {"CONTRIBUTING.md": "Contributing"},
}

HIDE_TAGS = {"source_hidden": "hide-input", "outputs_hidden": "hide-output"}
REMOVED = {"remove-input", "remove-cell"}  # tags that take the input off the page: nothing to fold


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def fold_collapsed_cells(nb: dict) -> int:
    """Tag the cells JupyterLab shows collapsed so that myst-nb folds them; return how many."""
    changed = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        jupyter = cell.get("metadata", {}).get("jupyter", {})
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        for key, tag in HIDE_TAGS.items():
            if jupyter.get(key) and tag not in tags and not REMOVED & set(tags):
                tags.append(tag)
                changed += 1
    return changed


def index_md(nb_docs: list[str]) -> str:
    def toctree(caption: str, docs: list[str]) -> str:
        lines = "\n".join(docs)
        return f"```{{toctree}}\n:caption: {caption}\n:hidden:\n\n{lines}\n```\n"

    parts = ["```{include} README.md\n```\n", toctree("The series", nb_docs)]
    for caption, pages in EXTRA_PAGES.items():
        parts.append(toctree(caption, [f"{t} <{p.removesuffix('.md')}>" for p, t in pages.items()]))
    return "\n".join(parts)


def stage(src: Path) -> None:
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    for name in ["README.md", *[p for pages in EXTRA_PAGES.values() for p in pages]]:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "media", src / "media")
    nb_docs = []
    folded = 0
    for path in notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        folded += fold_collapsed_cells(nb)
        (src / "notebooks" / path.name).write_text(json.dumps(nb, ensure_ascii=False), "utf-8")
        nb_docs.append(f"notebooks/{path.stem}")
    (src / "index.md").write_text(index_md(nb_docs), encoding="utf-8")
    print(f"staged {len(nb_docs)} notebooks ({folded} collapsed cells folded) in {src}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site")
    parser.add_argument(
        "--strict", action="store_true", help="turn Sphinx warnings into errors (-W)"
    )
    args = parser.parse_args(argv)
    out = args.out.resolve()
    # staged sources and doctrees beside the output: build/site_src, build/site_doctrees
    src, doctrees = out.parent / f"{out.name}_src", out.parent / f"{out.name}_doctrees"
    start = time.perf_counter()
    stage(src)
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-c", str(CONF_DIR)]
    cmd += ["-d", str(doctrees), str(src), str(out)]
    if args.strict:
        cmd += ["-W", "--keep-going"]
    rc = subprocess.call(cmd, cwd=ROOT)
    if rc == 0:
        print(f"site built in {time.perf_counter() - start:.1f} s: {out / 'index.html'}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
