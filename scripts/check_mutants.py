"""Show the tests can fail: run them against deliberately broken copies of prdqn_lib.

Each mutant is one small, plausible bug (most are mistakes the sources or public PER code
make). A mutant "survives" if the test suite still passes with it, which would mean a test is
missing. Usage: ``python scripts/check_mutants.py`` (a few minutes; not part of CI), or
``--only TEXT`` for the mutants whose label contains TEXT, ``--list`` to see them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_FILES = ["test_sumtree.py", "test_replay.py", "test_stateful.py", "test_rank_replay.py"]

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
        "_checks.py",
        "if not (v >= 0.0 and v <= limit):",
        "if not (v >= -1.0 and v <= limit):",
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
        "out_w[k] = (sums[n_leaves + leaf] / p_min) ** -beta",
        "out_w[k] = (sums[n_leaves + leaf] / total) ** -beta",
        "weights not normalised",
    ),
    (
        "sumtree.py",
        "mins[node] = priority if priority > 0.0 else np.inf",
        "mins[node] = priority",
        "min counts zero leaves (every IS weight 0)",
    ),
    (
        "sumtree.py",
        "self._limit = FLOAT64_MAX / self._n_leaves",
        "self._limit = FLOAT64_MAX",
        "no priority limit (the total overflows to inf)",
    ),
    (
        "sumtree.py",
        "k = _first_bad_uniform(u)",
        "k = -1",
        "stratified_sample takes uniforms outside [0, 1)",
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
    (
        "replay.py",
        "return self.beta_schedule(self.sample_calls)",
        "return self.beta_schedule(0)",
        "beta never anneals",
    ),
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
    (
        "replay.py",
        "    for j in range(obs.shape[0]):\n        if not np.isfinite(obs[j]):",
        "    for j in range(obs.shape[0]):\n        obs_buf[i, j] = obs[j]\n"
        "    for j in range(obs.shape[0]):\n        if not np.isfinite(obs[j]):",
        "a rejected add overwrites the slot's obs",
    ),
    (
        "replay.py",
        "            or not 0 <= action <= INT64_MAX\n",
        "",
        "negative actions pass add's fast path unchecked",
    ),
    (
        "replay.py",
        "if _store_obs_kernel(self._obs_flat, self._next_flat, i, obs, next_obs):",
        "if _store_obs_kernel(self._obs_flat, self._next_flat, i, obs, next_obs) and False:",
        "NaN observations stored",
    ),
    (
        "replay.py",
        "checked[idx] = self._check_td(td_error_fn(batch), idx.shape[0])\n",
        "checked[idx] = self._check_td(td_error_fn(batch), idx.shape[0])\n"
        "            self._write_checked(idx, checked[idx])\n",
        "refresh writes chunk by chunk (not all or nothing)",
    ),
    (
        "replay.py",
        "if not best <= limit:",
        "if False:",
        "PER priority overflow reported by the tree as 'priorities'",
    ),
    (
        "ranktree.py",
        "(key[a] == key[b] and seq[a] > seq[b])",
        "(key[a] == key[b] and seq[a] < seq[b])",
        "rank: ties go to the older write",
    ),
    (
        "ranktree.py",
        "        size[t] -= 1\n",
        "",
        "rank: subtree sizes left stale on removal",
    ),
    (
        "replay.py",
        "        r = min(r, n - 1)  # u rounding",
        "        r = min(r + 1, n - 1)  # u rounding",
        "rank: sampled rank off by one",
    ),
    (
        "replay.py",
        "weights[j] = ((r + 1) / n) ** alpha_beta",
        "weights[j] = (r / n + 1e-12) ** alpha_beta",
        "rank: IS weight of rank r+1 computed for rank r",
    ),
    (
        "replay.py",
        "self._inf = np.full(1, np.inf)",
        "self._inf = np.full(1, 0.0)",
        "rank: new transitions at the bottom, not rank 1",
    ),
    (
        "replay.py",
        "        self._write_checked(np.arange(self._size), checked)",
        "        self._write_checked(np.arange(self._size)[:chunk_size], checked[:chunk_size])",
        "refresh: only the first chunk of fresh |δ| written",
    ),
]


def applies_once(file: str, old: str, root: Path = ROOT) -> int:
    """How often the mutant's text occurs in its file (a mutant applies only if exactly once:
    ``tests/test_mutants.py`` fails for any other count, so no mutant can die silently)."""
    return (root / "prdqn_lib" / file).read_text().count(old)


def run_mutant(file: str, old: str, new: str, tests: list[str]) -> bool | None:
    """True if the tests catch the mutant, False if it survives, None if its text is missing.

    The copy lives in a temporary folder that is removed however the run ends (Ctrl-C, a
    SIGTERM from a timeout): the pytest child is stopped first, so it cannot write into the
    folder while it is being removed.
    """
    tmp = tempfile.mkdtemp(prefix="prdqn-mutant-")
    proc = None
    try:
        pkg = Path(tmp) / "prdqn_lib"
        shutil.copytree(ROOT / "prdqn_lib", pkg, ignore=shutil.ignore_patterns("__pycache__"))
        source = (pkg / file).read_text()
        if source.count(old) != 1:
            return None
        (pkg / file).write_text(source.replace(old, new))
        env = {**os.environ, "PYTHONPATH": tmp, "NUMBA_CACHE_DIR": str(Path(tmp) / "nc")}
        env.setdefault("HYPOTHESIS_PROFILE", "ci")
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
        check = [sys.executable, "-c", "import prdqn_lib; print(prdqn_lib.__file__)"]
        where = subprocess.run(check, cwd=tmp, env=env, capture_output=True, text=True)
        assert where.stdout.startswith(tmp), f"mutant not imported: {where.stdout}"
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        return proc.wait() != 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def _stop(signum, frame):
    raise KeyboardInterrupt  # unwinds through run_mutant's cleanup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run the test suite against deliberately broken copies of prdqn_lib (a few "
        "minutes for all of them) and report which the tests catch. Exit status 1 if any "
        "survives.",
    )
    parser.add_argument(
        "--only",
        metavar="TEXT",
        action="append",
        default=[],
        help="run only the mutants whose label contains TEXT (repeatable)",
    )
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument(
        "--tests",
        metavar="FILE",
        nargs="+",
        default=TEST_FILES,
        help=f"test files under tests/ to run (default: {' '.join(TEST_FILES)})",
    )
    args = parser.parse_args(argv)  # fmt: skip
    mutants = [m for m in MUTANTS if not args.only or any(t in m[3] for t in args.only)]
    if args.list:
        for _, _, _, label in MUTANTS:
            print(label)
        return 0
    if not mutants:
        parser.error(f"no mutant label contains {' or '.join(map(repr, args.only))} (see --list)")
    signal.signal(signal.SIGTERM, _stop)
    # absolute paths, run from the temporary folder: ``python -m pytest`` puts its working
    # directory first on sys.path, which must hold the mutant, not the real package
    tests = [str(ROOT / "tests" / name) for name in args.tests]
    missing = [t for t in tests if not Path(t).is_file()]
    if missing:
        parser.error(f"no such test file: {', '.join(missing)}")
    survivors = 0
    try:
        for file, old, new, label in mutants:
            caught = run_mutant(file, old, new, tests)
            if caught is None:  # an error, not a skip: the mutant no longer tests anything
                print(f"STALE (its text is not in {file} exactly once): {label}", flush=True)
            else:
                print(f"{'caught  ' if caught else 'SURVIVED'}  {label}", flush=True)
            survivors += not caught
    except KeyboardInterrupt:
        print("stopped; the temporary copies are removed", file=sys.stderr)
        return 130
    print(f"{len(mutants) - survivors} of {len(mutants)} mutants caught")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
