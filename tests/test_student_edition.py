"""The student edition (scripts/student_edition.py) keeps no solution and still runs.

It keeps the hints, the auto-check cells and every cell outside the exercises, stays valid
nbformat, and one notebook of it (02, the fastest in quick mode: about 30 s) runs under nbval
here; README gives the command for all seven.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import student_edition as se  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HINT = "<details><summary>Hint</summary>"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def everything(nb: dict) -> str:
    """Every source and every output text of a notebook, as one string."""
    parts = []
    for cell in nb["cells"]:
        parts.append(se.source(cell))
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.extend("".join(v) for v in out.get("data", {}).values() if isinstance(v, list))
    return "\n".join(parts)


def solution_lines(nb: dict) -> list[str]:
    """The distinctive lines of the notebook's solutions: long ones found nowhere else in it."""
    inside, outside = [], []
    for cell in nb["cells"]:
        text = se.source(cell)
        blocks = se.solution_blocks(text) if cell["cell_type"] == "markdown" else []
        for start, end in blocks:
            inside += text[start:end].splitlines()
        rest = text
        for start, end in reversed(blocks):
            rest = rest[:start] + rest[end:]
        outside.append(rest)
    others = "\n".join(outside) + "\n".join(
        "".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])
    )
    return [s.strip() for s in inside if len(s.strip()) >= 25 and s.strip() not in others]


def leaks(original: dict, student: dict) -> list[str]:
    text = everything(student)
    return [line for line in solution_lines(original) if line in text] + (
        ["<summary>Solution</summary>"] if "<summary>Solution</summary>" in text else []
    )


@pytest.fixture(scope="module")
def edition():
    """The student edition, written by the script into a folder inside the project."""
    (ROOT / "build").mkdir(exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix="student-test-", dir=ROOT / "build"))
    script = ROOT / "scripts" / "student_edition.py"
    r = subprocess.run([sys.executable, str(script), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    yield out
    shutil.rmtree(out, ignore_errors=True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_solution_survives(edition, path):
    original = load(path)
    assert len(solution_lines(original)) >= 3  # the check has something to look for
    assert leaks(original, load(edition / path.name)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_hints_checks_and_the_rest_survive_as_valid_nbformat(edition, path):
    import nbformat

    original, student = load(path), load(edition / path.name)
    nbformat.validate(nbformat.from_dict(student))
    text = everything(student)
    assert text.count(HINT) == everything(original).count(HINT) >= 3
    checks = [se.source(c) for c in original["cells"] if "correct!" in se.source(c)]
    assert checks and all(src in text for src in checks)
    code = [c for c in original["cells"] if c["cell_type"] == "code" and not se.is_solution_code(c)]
    assert [se.source(c) for c in code] == [
        se.source(c) for c in student["cells"] if c["cell_type"] == "code"
    ]  # every code cell but the solution cells (06's α sweep) stays


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercise_cells_lose_their_outputs_and_nothing_else_does(edition, path):
    original, student = load(path), load(edition / path.name)
    in_exercises = False
    kept = [c for c in original["cells"] if not se.is_solution_code(c)]
    for before, after in zip(kept, student["cells"], strict=True):
        if "## Exercises" in se.source(before):
            in_exercises = True
        if before["cell_type"] == "code":
            assert after["outputs"] == ([] if in_exercises else before["outputs"])
            if in_exercises:
                assert "nbval-check-output" not in after["metadata"].get("tags", [])


def test_06_s_solution_cell_leaves_and_the_code_exercise_4_needs_stays(edition):
    student = load(edition / "06_blind_cliffwalk.ipynb")
    text = everything(student)
    assert "# Solution: the α sweep" not in text
    assert "def rank_alpha_updates" in text  # exercise 4 calls it


def test_the_leak_check_catches_a_solution_left_in():
    original = load(NOTEBOOKS[1])
    student = se.student_notebook(original)
    assert leaks(original, student) == []
    broken = json.loads(json.dumps(student))
    i = next(k for k, c in enumerate(original["cells"]) if se.SOLUTION_OPEN in se.source(c))
    broken["cells"][i]["source"] = se.source(original["cells"][i])
    assert leaks(original, broken)


def test_a_solution_cell_is_dropped_and_a_nested_block_removed_whole():
    nb = load(NOTEBOOKS[1])
    cell = {"cell_type": "code", "execution_count": None, "id": "sol", "outputs": [],
            "metadata": {}, "source": "# Solution\nprint(42)"}  # fmt: skip
    nb["cells"].append(cell)
    assert se.student_notebook(nb)["cells"][-1]["id"] != "sol"
    text = f"a\n\n{se.SOLUTION_OPEN}\n<details><summary>x</summary>y</details>\nz\n</details>\n\nb"
    assert se.strip_solutions(text) == "a\n\nb"


def test_the_student_edition_of_02_runs_under_nbval(edition):
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PRDQN_QUICK": "1", "PYTHONPATH": path}  # this checkout's prdqn_lib
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         str(edition / "02_double_dqn.ipynb")],
        capture_output=True, text=True, timeout=600, env=env, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:]
