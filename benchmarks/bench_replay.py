"""Replay-memory speed: prdqn_lib (SumTree and rank-based) against cpprb (C++) and the first
source's tree.

One *op* is what a PER training step asks of its memory: sample B transitions with their
importance-sampling weights, then write B new priorities for exactly those indices. One *add*
stores one transition into a full memory (ring overwrite, new transition at max priority).
The rank-based memory (``prdqn rank``) does the same op with P ∝ rank^-α: an exact
order-statistics treap, so each of its writes re-sorts one transition (O(log N)); cpprb has
no rank-based memory, so its column is the SumTree's peer and ``rank/sumtree`` its price.

Contenders are interleaved within each configuration (block of ops for A, for B, for C, then
again), so a noisy neighbour slows all of them alike; we report medians over blocks and ratios
measured in the same run. cpprb is optional (``pip install cpprb``, benchmark only).

Usage:
    python benchmarks/bench_replay.py          # N in {2^14, 2^17, 2^20} x B in {32, 64, 256}
    python benchmarks/bench_replay.py --quick  # a smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from source_reference import SourceMemory  # noqa: E402

from prdqn_lib import PrioritizedReplay, RankBasedReplay  # noqa: E402

try:
    import cpprb
except ImportError:  # benchmark-only dependency
    cpprb = None

OBS_DIM = 4
RESULTS = Path(__file__).resolve().parent / "results"


class PrdqnContender:
    name = "prdqn_lib"

    def __init__(self, n, rng):
        self.mem = PrioritizedReplay(n, alpha=0.6, beta=0.4, seed=0)
        obs = rng.standard_normal((n, OBS_DIM)).astype(np.float32)
        for i in range(n):
            self.mem.add(obs[i], i % 2, 1.0, obs[i], False)

    def op(self, batch_size, td):
        batch = self.mem.sample(batch_size)
        self.mem.update_priorities(batch.indices, td)

    def add(self, obs):
        self.mem.add(obs, 1, 1.0, obs, False)


class RankContender(PrdqnContender):
    name = "prdqn rank"

    def __init__(self, n, rng):
        self.mem = RankBasedReplay(n, alpha=0.7, beta=0.5, seed=0)
        obs = rng.standard_normal((n, OBS_DIM)).astype(np.float32)
        for i in range(n):
            self.mem.add(obs[i], i % 2, 1.0, obs[i], False)
        # a realistic order: every transition replayed once (not all tied at rank 1)
        self.mem.update_priorities(np.arange(n), rng.exponential(size=n))


class CpprbContender:
    name = "cpprb"

    def __init__(self, n, rng):
        env = {
            "obs": {"shape": OBS_DIM},
            "act": {"dtype": np.int64},
            "rew": {},
            "next_obs": {"shape": OBS_DIM},
            "done": {},
        }
        self.rb = cpprb.PrioritizedReplayBuffer(n, env, alpha=0.6, eps=0.01)
        obs = rng.standard_normal((n, OBS_DIM)).astype(np.float32)
        self.rb.add(obs=obs, act=np.arange(n) % 2, rew=np.ones(n), next_obs=obs, done=np.zeros(n))

    def op(self, batch_size, td):
        sample = self.rb.sample(batch_size, beta=0.4)
        self.rb.update_priorities(sample["indexes"], td)

    def add(self, obs):
        self.rb.add(obs=obs, act=1, rew=1.0, next_obs=obs, done=0.0)


class SourceContender:
    name = "source tree"

    def __init__(self, n, rng):
        self.mem = SourceMemory(n)
        obs = rng.standard_normal((n, OBS_DIM)).astype(np.float32)
        items = np.empty(n, dtype=object)
        items[:] = [(obs[i], i % 2, 1.0, obs[i], False) for i in range(n)]
        self.mem.bulk_fill(items)

    def op(self, batch_size, td):
        _, nodes, _ = self.mem.sample(batch_size)
        self.mem.update(nodes, td)

    def add(self, obs):
        self.mem.add((obs, 1, 1.0, obs, False))


def time_block(fn, count):
    start = time.perf_counter()
    for _ in range(count):
        fn()
    return (time.perf_counter() - start) / count


def bench_config(contenders, n, batch_size, reps, rng):
    td_pool = [rng.exponential(size=batch_size) for _ in range(64)]
    obs = rng.standard_normal(OBS_DIM).astype(np.float32)
    ops = {c.name: [] for c in contenders}
    adds = {c.name: [] for c in contenders}
    for rep in range(reps):
        for c in contenders:
            slow = c.name == "source tree"
            k = 3 if slow else 200
            ops[c.name].append(
                time_block(lambda c=c, td=td_pool[rep % 64]: c.op(batch_size, td), k)
            )
            adds[c.name].append(time_block(lambda c=c: c.add(obs), 3 if slow else 500))
    return (
        {k: statistics.median(v) for k, v in ops.items()},
        {k: statistics.median(v) for k, v in adds.items()},
    )


def jit_times() -> tuple[float, float]:
    """Seconds to import prdqn_lib and run its first sample+update: cold JIT, then cached."""
    code = (
        "import time; t = time.perf_counter(); import numpy as np; "
        "from prdqn_lib import PrioritizedReplay; m = PrioritizedReplay(8); "
        "[m.add(np.zeros(4), 0, 0.0, np.zeros(4), False) for _ in range(8)]; "
        "b = m.sample(4); m.update_priorities(b.indices, np.ones(4)); "
        "print(time.perf_counter() - t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = [
            float(subprocess.check_output([sys.executable, "-c", code], env=env, text=True))
            for _ in range(2)
        ]
    return runs[0], runs[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small grid, few repetitions")
    parser.add_argument("--reps", type=int, default=15, help="timed blocks per contender")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the tables")
    args = parser.parse_args(argv)
    if args.reps <= 0:
        parser.error("--reps must be positive")

    sizes = [2**10, 2**12] if args.quick else [2**14, 2**17, 2**20]
    batches = [32, 256] if args.quick else [32, 64, 256]
    reps = 3 if args.quick else args.reps
    kinds = [PrdqnContender, RankContender, SourceContender]
    kinds += [CpprbContender] if cpprb else []
    if cpprb is None:
        print("cpprb is not installed: measuring without it (pip install cpprb)")

    rng = np.random.default_rng(0)
    rows = []
    progress = tqdm(total=len(sizes) * len(batches), desc="configurations")
    for n in sizes:
        contenders = [kind(n, rng) for kind in kinds]
        for c in contenders:  # warm-up: JIT, caches
            c.op(batches[0], rng.exponential(size=batches[0]))
        for b in batches:
            ops, adds = bench_config(contenders, n, b, reps, rng)
            rows.append((n, b, ops, adds))
            progress.update()
    progress.close()
    cold, warm = jit_times()

    names = [k.name for k in kinds]
    has_cpprb = "cpprb" in names
    header = "| N | B | " + " | ".join(f"{m} op µs" for m in names)
    header += " | prdqn/cpprb |" if has_cpprb else " |"
    header += " rank/sumtree |"
    header += " source/prdqn | " + " | ".join(f"{m} add µs" for m in names) + " |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    csv = ["n,batch,contender,op_us,add_us"]
    for n, b, ops, adds in rows:
        cells = [f"2^{n.bit_length() - 1}", str(b)]
        cells += [f"{ops[m] * 1e6:.1f}" for m in names]
        if has_cpprb:
            cells.append(f"{ops['prdqn_lib'] / ops['cpprb']:.2f}")
        cells.append(f"{ops['prdqn rank'] / ops['prdqn_lib']:.1f}×")
        cells.append(f"{ops['source tree'] / ops['prdqn_lib']:.0f}×")
        cells += [f"{adds[m] * 1e6:.1f}" for m in names]
        lines.append("| " + " | ".join(cells) + " |")
        csv += [f"{n},{b},{m},{ops[m] * 1e6:.3f},{adds[m] * 1e6:.3f}" for m in names]

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    table = "\n".join(lines)
    report = (
        f"# Replay memory benchmark\n\n"
        f"`python benchmarks/bench_replay.py{' --quick' if args.quick else ''}` on {machine}; "
        f"medians of {reps} interleaved blocks. op = sample B with IS weights + update those B "
        f"priorities; add = one transition into a full memory.\n\n{table}\n\n"
        f"numba JIT: first import + first op {cold:.1f} s with an empty cache (compiles), "
        f"{warm:.1f} s once cached.\n"
    )
    print("\n" + report)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "replay_quick" if args.quick else "replay"
    (args.out / f"{stem}.md").write_text(report)
    (args.out / f"{stem}.csv").write_text("\n".join(csv) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
