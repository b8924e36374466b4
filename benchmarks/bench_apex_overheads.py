"""What Ray costs Ape-X here, measured rather than attributed.

    python benchmarks/bench_apex_overheads.py   # a few minutes; results/apex_overheads.md

On this machine, with the paper's learner (``Config.preset("apex")``: 3-step, dueling, β 0.4):

1. **Per block** (50 env steps): an actor's ``add_block`` to the replay, as a Ray round trip
   (``ray.get(server.add_block.remote(block))``) and as a plain call in one process; the
   block's size pickled (what Ray serialises); the weights an actor gets back.
2. **Per learner fetch** (``batches_per_call`` = 4 batches of 128): ``update_and_sample`` through
   Ray and in-process; the bytes of the 4 batches.
3. **The learner's updates/s**: sample + gradient step + write-back in one process (no Ray),
   and through the Ray replay server with and without prefetching (no actors running).
4. **Actors' env steps/s** at N = 1, 2, 4 Ray actors running at once (blocks of 50 into the
   server, weights fixed), greedy (ε = 0, a forward pass every step) and ε = 0.4 (the forward
   pass skipped 40% of the time), and one actor in this process without Ray.

Each measurement is repeated ``--repeats`` times, interleaved; medians are reported (this
machine is noisy). Nothing else should run meanwhile.
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prdqn_lib.agent import Agent  # noqa: E402
from prdqn_lib.apex import (  # noqa: E402
    ApexActor,
    ReplayServer,
    _writable,
    get_weights,
    ray_session,
)
from prdqn_lib.config import Config  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def timed(fn, n: int) -> float:
    """Median seconds of ``fn()`` over n calls."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def pickle_round_trip_us(obj, n: int = 300) -> float:
    """Median µs to serialise and deserialise ``obj`` (pickle protocol 5, as Ray does for
    these plain numpy payloads) in this process: the serialisation part of a Ray call."""
    return 1e6 * timed(lambda: pickle.loads(pickle.dumps(obj, protocol=5)), n)


def serialisation(cfg: Config, repeats: int) -> dict[str, list[float]]:
    """Serialisation cost of a block and of a 4-batch fetch, ``repeats`` times."""
    agent = Agent(4, 2, cfg)
    actor = ApexActor(cfg, 0, 0.4, get_weights(agent))
    server = filled_server(cfg, actor, 5_000)
    block = actor.collect(cfg.apex_block)
    fetch, _ = server.update_and_sample(None, None, 4, cfg.batch_size)
    out: dict[str, list[float]] = {"block_pickle_us": [], "fetch_pickle_us": []}
    for _ in range(repeats):
        out["block_pickle_us"].append(pickle_round_trip_us(block))
        out["fetch_pickle_us"].append(pickle_round_trip_us(fetch))
    return out


def filled_server(cfg: Config, actor: ApexActor, n: int) -> ReplayServer:
    server = ReplayServer(cfg)
    while server.env_steps < n:
        server.add_block(actor.collect(cfg.apex_block))
    return server


def local_learner_rate(cfg: Config, seconds: float) -> float:
    """Updates/s of sample + update + write-back in one process, memory full of 20k."""
    agent = Agent(4, 2, cfg)
    actor = ApexActor(cfg, 0, 0.4, get_weights(agent))
    server = filled_server(cfg, actor, 20_000)
    mem = server.memory
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        b = mem.sample(cfg.batch_size)
        _, td = agent.update(b)
        mem.update_priorities(b.indices, td)
        n += 1
    return n / (time.perf_counter() - t0)


def ray_learner_rate(cfg: Config, server, seconds: float, k: int, prefetch: bool) -> float:
    """Updates/s of the learner against the Ray replay, k batches per call."""
    import ray

    agent = Agent(4, 2, cfg)
    n, t0 = 0, time.perf_counter()
    idx = td = None
    fetch = server.update_and_sample.remote(None, None, k, cfg.batch_size) if prefetch else None
    while time.perf_counter() - t0 < seconds:
        if prefetch:
            batches, _ = ray.get(fetch)
            fetch = server.update_and_sample.remote(idx, td, k, cfg.batch_size)
        else:
            batches, _ = ray.get(server.update_and_sample.remote(idx, td, k, cfg.batch_size))
        out_i, out_t = [], []
        for b in batches:
            _, d = agent.update(_writable(b))
            out_i.append(b.indices)
            out_t.append(d)
            n += 1
        idx, td = np.concatenate(out_i), np.concatenate(out_t)
    if fetch is not None:
        ray.get(fetch)
    return n / (time.perf_counter() - t0)


def actor_rates(cfg: Config, n_actors: int, eps: float, seconds: float) -> list[float]:
    """Env steps/s of each of n Ray actors collecting at once into one Ray replay."""
    import ray

    weights = get_weights(Agent(4, 2, cfg))
    server = ray.remote(num_cpus=0)(ReplayServer).remote(cfg)
    remote = ray.remote(num_cpus=1)(_TimedActor)
    actors = [remote.remote(cfg, i, eps, weights) for i in range(n_actors)]
    ray.get([a.ready.remote() for a in actors] + [server.size.remote()])
    rates = ray.get([a.collect_for.remote(server, seconds) for a in actors])
    for h in [*actors, server]:
        ray.kill(h)
    return rates


class _TimedActor(ApexActor):
    def collect_for(self, replay, seconds: float) -> float:
        import ray

        self.collect(200)  # warm
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            ray.get(replay.add_block.remote(self.collect(self.config.apex_block)))
            n += self.config.apex_block
        return n / (time.perf_counter() - t0)


def local_actor_rate(cfg: Config, eps: float, seconds: float) -> float:
    actor = ApexActor(cfg, 0, eps, get_weights(Agent(4, 2, cfg)))
    server = ReplayServer(cfg)
    actor.collect(200)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        server.add_block(actor.collect(cfg.apex_block))
        n += cfg.apex_block
    return n / (time.perf_counter() - t0)


def main(argv=None) -> int:
    import ray

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="per rate measurement")
    parser.add_argument("--serialisation-only", action="store_true",
                        help="measure only the serialisation part (no Ray) and add it to the "
                             "committed results")  # fmt: skip
    args = parser.parse_args(argv)
    cfg = Config.preset("apex", seed=0, buffer_size=20_000)
    if args.serialisation_only:
        res = json.loads((RESULTS / "apex_overheads.json").read_text())
        rows = serialisation(cfg, args.repeats)
        res["all"].update(rows)
        res["medians"].update({k: statistics.median(v) for k, v in rows.items()})
        (RESULTS / "apex_overheads.json").write_text(json.dumps(res, indent=2) + "\n")
        write_table(res)
        return 0
    agent = Agent(4, 2, cfg)
    actor = ApexActor(cfg, 0, 0.4, get_weights(agent))
    block = actor.collect(cfg.apex_block)
    res: dict = {"block_bytes": len(pickle.dumps(block, protocol=5)),
                 "block_transitions": len(block),
                 "weights_bytes": len(pickle.dumps(get_weights(agent), protocol=5))}  # fmt: skip
    rows: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    t0 = time.perf_counter()
    with ray_session(num_cpus=4) as startup:
        res["ray_startup_seconds"] = startup
        local = filled_server(cfg, actor, 20_000)
        (b4, _) = local.update_and_sample(None, None, 4, cfg.batch_size)
        res["fetch_bytes"] = len(pickle.dumps(b4, protocol=5))
        server = ray.remote(num_cpus=0)(ReplayServer).remote(cfg)
        ray.get(server.size.remote())
        while ray.get(server.size.remote()) < 20_000:
            ray.get(server.add_block.remote(actor.collect(cfg.apex_block)))
        blocks = [actor.collect(cfg.apex_block) for _ in range(50)]
        for r in range(args.repeats):
            local_blocks, ray_blocks = iter(blocks * 10), iter(blocks * 10)
            add("add_block_local_us", 1e6 * timed(
                lambda b=local_blocks: local.add_block(next(b)), 200))  # fmt: skip
            add("add_block_ray_us", 1e6 * timed(
                lambda b=ray_blocks: ray.get(server.add_block.remote(next(b))), 200))  # fmt: skip
            add("fetch_local_us", 1e6 * timed(
                lambda: local.update_and_sample(None, None, 4, cfg.batch_size), 100))  # fmt: skip
            add("fetch_ray_us", 1e6 * timed(
                lambda: ray.get(server.update_and_sample.remote(None, None, 4, cfg.batch_size)),
                100))  # fmt: skip
            add("learner_local_updates_per_s", local_learner_rate(cfg, args.seconds))
            add("learner_ray_k4_prefetch_updates_per_s",
                ray_learner_rate(cfg, server, args.seconds, 4, True))  # fmt: skip
            add("learner_ray_k4_updates_per_s",
                ray_learner_rate(cfg, server, args.seconds, 4, False))  # fmt: skip
            add("learner_ray_k1_updates_per_s",
                ray_learner_rate(cfg, server, args.seconds, 1, False))  # fmt: skip
            for eps, tag in ((0.0, "greedy"), (0.4, "eps0.4")):
                add(f"actor_local_{tag}_steps_per_s", local_actor_rate(cfg, eps, args.seconds))
                for n in (1, 2, 4):
                    rates = actor_rates(cfg, n, eps, args.seconds)
                    add(f"actors{n}_{tag}_total_steps_per_s", sum(rates))
                    add(f"actors{n}_{tag}_each_steps_per_s", statistics.median(rates))
            print(f"repeat {r + 1}/{args.repeats} done at {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr)  # fmt: skip
    rows.update(serialisation(cfg, args.repeats))
    res["medians"] = {k: statistics.median(v) for k, v in rows.items()}
    res["all"] = rows
    (RESULTS / "apex_overheads.json").write_text(json.dumps(res, indent=2) + "\n")
    write_table(res)
    print(json.dumps(res["medians"], indent=1))
    return 0


def write_table(res: dict) -> None:
    m = res["medians"]
    lines = [
        "# Ape-X's overheads on this machine (2 cores)",
        "",
        "`python benchmarks/bench_apex_overheads.py`: the paper's learner "
        '(`Config.preset("apex")`, 3-step, dueling, batch 128), a replay of 20,000 '
        "transitions, medians of the repeats (each a median or a rate over a few seconds), "
        "nothing else running.",
        "",
        "## Per message",
        "",
        "| what | in one process | through Ray | Ray's extra | bytes |",
        "|---|---|---|---|---|",
        f"| an actor's block of 50 env steps ({res['block_transitions']} transitions) into the "
        f"replay | {m['add_block_local_us']:,.0f} µs | {m['add_block_ray_us']:,.0f} µs | "
        f"{m['add_block_ray_us'] - m['add_block_local_us']:,.0f} µs "
        f"({m['add_block_ray_us'] / m['add_block_local_us']:.1f}×) | {res['block_bytes']:,} |",
        f"| the learner's fetch: write-back + 4 batches of 128 | {m['fetch_local_us']:,.0f} µs "
        f"| {m['fetch_ray_us']:,.0f} µs | {m['fetch_ray_us'] - m['fetch_local_us']:,.0f} µs "
        f"({m['fetch_ray_us'] / m['fetch_local_us']:.1f}×) | {res['fetch_bytes']:,} |",
        f"| the weights an actor loads | | | | {res['weights_bytes']:,} |",
        "",
    ]
    if "block_pickle_us" in m:
        lines += [
            "Serialising and deserialising the payload in one process (pickle protocol 5) "
            f"takes {m['block_pickle_us']:,.0f} µs for a block and "
            f"{m['fetch_pickle_us']:,.0f} µs for a fetch: "
            f"{m['block_pickle_us'] / (m['add_block_ray_us'] - m['add_block_local_us']):.0%} "
            f"and {m['fetch_pickle_us'] / (m['fetch_ray_us'] - m['fetch_local_us']):.0%} of "
            "Ray's extra. The rest is the remainder of the Ray call, which this script does "
            "not break down further.",
            "",
        ]
    lines += [
        f"Ray's start-up (a local instance, 4 logical CPUs): {res['ray_startup_seconds']:.1f} s.",
        "",
        "## The learner alone (no actors running)",
        "",
        "| learner | updates/s | vs one process |",
        "|---|---|---|",
    ]
    base = m["learner_local_updates_per_s"]
    for key, label in (("learner_local_updates_per_s", "one process: sample, update, write back"),
                       ("learner_ray_k1_updates_per_s", "Ray replay, 1 batch per call"),
                       ("learner_ray_k4_updates_per_s", "Ray replay, 4 batches per call"),
                       ("learner_ray_k4_prefetch_updates_per_s",
                        "Ray replay, 4 per call, next call prefetched (free mode)")):  # fmt: skip
        lines.append(f"| {label} | {m[key]:,.0f} | {m[key] / base:.2f}× |")
    lines += ["", "## Actors (no learner running)", "",
              "| actors at once | ε | env steps/s, all actors | env steps/s, each |",
              "|---|---|---|---|"]  # fmt: skip
    for tag, eps in (("greedy", "0 (greedy)"), ("eps0.4", "0.4")):
        lines.append(f"| 1, in this process (no Ray) | {eps} | "
                     f"{m[f'actor_local_{tag}_steps_per_s']:,.0f} | |")  # fmt: skip
        for n in (1, 2, 4):
            lines.append(f"| {n} on Ray | {eps} | {m[f'actors{n}_{tag}_total_steps_per_s']:,.0f}"
                         f" | {m[f'actors{n}_{tag}_each_steps_per_s']:,.0f} |")  # fmt: skip
    (RESULTS / "apex_overheads.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
