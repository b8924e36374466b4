"""Show the stabiliser tests can fail: run tests/test_stabilisers.py against broken copies.

Each mutant is one plausible mistake in the n-step buffer, the targets, the dueling head or
LayerNorm; the script prints which tests catch it (a mutant no test catches "survives").
Usage: ``python scripts/check_stabiliser_mutants.py`` (about a minute per mutant on one core;
not part of CI), ``--only TEXT`` for the mutants whose label contains TEXT, ``--list``.
The same idea as ``scripts/check_mutants.py``, kept apart so the two can change separately.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests" / "test_stabilisers.py"

# (file, [(original text, broken text, occurrences), ...], what the bug is)
MUTANTS = [
    (
        "nstep.py",
        [
            (
                "terminated, self._powers[k], k)",
                "terminated, self._powers[k if terminated else self.n], k)",
                1,
            )
        ],
        "n-step: truncation flush discounts with γ^n instead of γ^k",
    ),
    (
        "nstep.py",
        [
            (
                "self._emit(next_obs, bool(terminated))",
                "self._emit(next_obs, bool(terminated or truncated))",
                1,
            )
        ],
        "n-step: truncation treated as termination (no bootstrap)",
    ),
    (
        "nstep.py",
        [("self._emit(next_obs, bool(terminated))", "self._emit(next_obs, False)", 1)],
        "n-step: termination flushes as non-terminal (bootstraps from a terminal state)",
    ),
    (
        "nstep.py",
        [("ret += self._powers[j] * r", "ret += r", 1)],
        "n-step: rewards in the window not discounted",
    ),
    (
        "nstep.py",
        [("if len(self._pending) == self.n:", "if len(self._pending) == self.n + 1:", 1)],
        "n-step: window one step too long",
    ),
    (
        "nstep.py",
        [("bad = next((t for t in transitions if t.discount != gamma), None)", "bad = None", 1)],
        "add_n_step: drops the discount silently into a memory without one",
    ),
    (
        "agent.py",
        [
            (
                "return torch.as_tensor(np.asarray(discounts, dtype=np.float32))",
                "return self.config.gamma",
                1,
            )
        ],
        "agent: ignores Batch.discounts (γ for every sample)",
    ),
    (
        "agent.py",
        [
            ("return value + out - out.mean(dim=-1, keepdim=True)", "return value + out", 1),
            ("return v + out - out.mean(axis=-1, keepdims=True)", "return v + out", 1),
        ],
        "dueling: no mean subtraction (torch and numpy alike)",
    ),
    (
        "agent.py",
        [("return value + out - out.mean(dim=-1, keepdim=True)", "return value + out", 1)],
        "dueling: no mean subtraction in the torch forward only",
    ),
    (
        "agent.py",
        [
            ("out.mean(dim=-1, keepdim=True)", "out.max(dim=-1, keepdim=True).values", 1),
            ("out.mean(axis=-1, keepdims=True)", "out.max(axis=-1, keepdims=True)", 1),
        ],
        "dueling: max instead of mean (Wang et al.'s eq. 8, not the eq. 9 documented)",
    ),
    (
        "agent.py",
        [("np.sqrt(var + np.float32(eps))", "np.sqrt(var + np.float32(1e-6))", 1)],
        "LayerNorm: numpy ε 1e-6 instead of the module's 1e-5",
    ),
    (
        "agent.py",
        [("nn.LayerNorm(h) for h in hidden", "nn.LayerNorm(h, eps=1e-8) for h in hidden", 1)],
        "LayerNorm: ε 1e-8 in the module (torch and numpy agree, the reference does not)",
    ),
    (
        "agent.py",
        [
            (
                "var = np.mean(centred * centred, axis=-1, keepdims=True)",
                "var = np.var(x, axis=-1, ddof=1, keepdims=True)",
                1,
            )
        ],
        "LayerNorm: numpy unbiased variance",
    ),
    (
        "agent.py",
        [
            (
                "                    x = numpy_layer_norm(x, *norms[k])\n"
                "                x = np.maximum(x, 0.0)",
                "                    x = np.maximum(x, 0.0)\n"
                "                    x = numpy_layer_norm(x, *norms[k])\n"
                "                x = np.maximum(x, 0.0)",
                1,
            )
        ],
        "LayerNorm: numpy Linear → ReLU → LN",
    ),
    (
        "agent.py",
        [
            (
                "next_v = _bounded(next_q_target.max(dim=1).values, bounds)",
                "next_v = next_q_target.max(dim=1).values",
                1,
            ),
            (
                "next_v = _bounded(next_q_target.gather(1, best).squeeze(1), bounds)",
                "next_v = next_q_target.gather(1, best).squeeze(1)",
                1,
            ),
            (
                "return rewards + gamma * (~terminated).float() * next_v",
                "return _bounded(rewards + gamma * (~terminated).float() * next_v, bounds)",
                2,
            ),
        ],
        "bound: clips y instead of the bootstrapped value",
    ),
    (
        "agent.py",
        [
            (
                "next_v = _bounded(next_q_target.gather(1, best).squeeze(1), bounds)",
                "next_v = next_q_target.gather(1, best).squeeze(1)",
                1,
            )
        ],
        "bound: Double DQN target ignores it",
    ),
    (
        "agent.py",
        [
            (
                "dueling=config.dueling, layer_norm=config.layer_norm",
                "dueling=config.dueling, layer_norm=False",
                1,
            )
        ],
        "agent: builds its network without LayerNorm (load cannot restore it)",
    ),
    (
        "config.py",
        [("        if self.n_step < 1:\n", "        if self.n_step < 0:\n", 1)],
        "config: n_step = 0 accepted",
    ),
]


def run_mutant(file: str, edits: list[tuple[str, str, int]]) -> list[str] | None:
    """The tests that fail on the mutant ([] if it survives), None if an edit's text is not
    found the expected number of times. The copy is removed however the run ends."""
    tmp = tempfile.mkdtemp(prefix="prdqn-stab-mutant-")
    try:
        pkg = Path(tmp) / "prdqn_lib"
        shutil.copytree(ROOT / "prdqn_lib", pkg, ignore=shutil.ignore_patterns("__pycache__"))
        source = (pkg / file).read_text()
        for old, new, count in edits:
            if source.count(old) != count:
                return None
            source = source.replace(old, new)
        (pkg / file).write_text(source)
        env = {**os.environ, "PYTHONPATH": tmp, "NUMBA_CACHE_DIR": str(Path(tmp) / "nc")}
        env.setdefault("HYPOTHESIS_PROFILE", "ci")
        check = [sys.executable, "-c", "import prdqn_lib; print(prdqn_lib.__file__)"]
        where = subprocess.run(check, cwd=tmp, env=env, capture_output=True, text=True)
        assert where.stdout.startswith(tmp), f"mutant not imported: {where.stdout}"
        cmd = [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider",
               "-p", "no:warnings", "-o", "addopts=", str(TESTS)]  # fmt: skip
        out = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True).stdout
        return sorted({m.group(1) for m in re.finditer(r"^FAILED \S+::(\S+)", out, re.M)})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", metavar="TEXT", action="append", default=[])
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    mutants = [m for m in MUTANTS if not args.only or any(t in m[2] for t in args.only)]
    if args.list:
        print("\n".join(label for _, _, label in MUTANTS))
        return 0
    survivors = 0
    for file, edits, label in mutants:
        failed = run_mutant(file, edits)
        if failed is None:
            print(f"SKIP (text not found): {label}", flush=True)
            survivors += 1
        elif failed:
            print(f"caught    {label}\n          by {', '.join(failed)}", flush=True)
        else:
            print(f"SURVIVED  {label}", flush=True)
            survivors += 1
    print(f"{len(mutants) - survivors} of {len(mutants)} mutants caught")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
