"""Show the tests can fail: run them against deliberately broken copies of prdqn_lib.

Each mutant is one small, plausible bug (most are mistakes the sources or public PER code
make). A mutant "survives" if the test suite still passes with it, which would mean a test is
missing. Usage: ``python scripts/check_mutants.py`` (a few minutes; not part of CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (file, original text, broken text, what the bug is)
MUTANTS = [
    (
        "sumtree.py",
        "if value < sums[left] or",
        "if value <= sums[left] or",
        "boundary: <= in descent",
    ),
    ("sumtree.py", " or sums[left + 1] <= 0.0:", ":", "no guard: may descend into an empty leaf"),
    (
        "sumtree.py",
        "mins[node] = min(mins[left]",
        "mins[node] = max(mins[left]",
        "min tree keeps max",
    ),
    (
        "sumtree.py",
        "for k in range(indices.shape[0]):\n        _write_leaf",
        "for k in range(indices.shape[0] - 1, -1, -1):\n        _write_leaf",
        "first write wins",
    ),
    (
        "sumtree.py",
        "if not (v >= 0.0 and v < np.inf):",
        "if not (v >= -1.0 and v < np.inf):",
        "negative priorities accepted",
    ),
    (
        "sumtree.py",
        "self._sums = np.zeros(2 * self._n_leaves, dtype=np.float64)",
        "self._sums = np.zeros(2 * self._n_leaves, dtype=np.float32)",
        "float32 tree (drift)",
    ),
    (
        "sumtree.py",
        "max_weight = (n_stored * mins[1] / total) ** -beta",
        "max_weight = 1.0",
        "weights not normalised",
    ),
    (
        "sumtree.py",
        "value = min((k + uniforms[k]) * segment, total)",
        "value = min(uniforms[k] * total, total)",
        "not stratified",
    ),
    (
        "replay.py",
        'idx = np.minimum(np.searchsorted(cumulative, values, side="right"), self._size - 1)',
        'idx = np.minimum(np.searchsorted(cumulative, values, side="right") + 1, self._size - 1)',
        "source's off-by-one scan",
    ),
    (
        "replay.py",
        "self._td[index] = self._max_td",
        "self._td[index] = 0.0",
        "source: new transitions enter with error 0",
    ),
    (
        "replay.py",
        "self.tree._set_one(index, self.max_priority)",
        "self.tree._set_one(index, 1.0)",
        "new transitions not at max priority",
    ),
    ("replay.py", "        self.sample_calls += 1\n", "", "beta never anneals"),
    (
        "replay.py",
        "p = (td[k] + eps) ** alpha",
        "p = td[k] ** alpha + eps",
        "eps outside the power",
    ),
    (
        "replay.py",
        "self._size = min(self._size + 1, self.capacity)",
        "self._size = self._size + 1",
        "ring buffer size overflows",
    ),
]


def main() -> int:
    survivors = 0
    # absolute paths, run from the temporary folder: ``python -m pytest`` puts its working
    # directory first on sys.path, which must hold the mutant, not the real package
    tests = [str(ROOT / "tests" / "test_sumtree.py"), str(ROOT / "tests" / "test_replay.py")]
    for file, old, new, label in MUTANTS:
        with tempfile.TemporaryDirectory() as tmp:
            pkg = Path(tmp) / "prdqn_lib"
            shutil.copytree(ROOT / "prdqn_lib", pkg, ignore=shutil.ignore_patterns("__pycache__"))
            source = (pkg / file).read_text()
            if source.count(old) != 1:
                print(f"SKIP (text not found once): {label}")
                survivors += 1
                continue
            (pkg / file).write_text(source.replace(old, new))
            env = {**os.environ, "PYTHONPATH": tmp, "NUMBA_CACHE_DIR": str(Path(tmp) / "nc")}
            cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
            check = [sys.executable, "-c", "import prdqn_lib; print(prdqn_lib.__file__)"]
            where = subprocess.run(check, cwd=tmp, env=env, capture_output=True, text=True)
            assert where.stdout.startswith(tmp), f"mutant not imported: {where.stdout}"
            result = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
            caught = result.returncode != 0
            survivors += not caught
            print(f"{'caught  ' if caught else 'SURVIVED'}  {label}", flush=True)
    print(f"{len(MUTANTS) - survivors} of {len(MUTANTS)} mutants caught")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
