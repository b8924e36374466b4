"""Ape-X on Ray: the command line end to end in both modes, Ctrl-C, and a real two-node
cluster on this machine. Each test starts its own Ray (about 10 s here)."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from prdqn_lib.agent import Agent
from prdqn_lib.apex import _allowed_updates, actor_epsilons
from prdqn_lib.config import Config

ray = pytest.importorskip("ray")


FILES = ("history.csv", "eval.csv", "learning_curve.png", "episode.gif", "config.json",
         "summary.json", "agent.pt", "best_agent.pt")  # fmt: skip


def test_cli_trains_apex_paced_with_two_actors_and_writes_every_file(tmp_path):
    out = tmp_path / "apex"
    steps = 3000
    r = subprocess.run(
        [sys.executable, "-m", "prdqn_lib", "train", "--variant", "apex", "--actors", "2",
         "--seed", "3", "--steps", str(steps), "--out", str(out), "--no-progress",
         "--set", "eval_every=1000", "--set", "eval_episodes=5", "--set", "learning_starts=500",
         "--set", "apex_mode=paced"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == ""  # no Ray notices, no warnings
    for name in FILES:
        assert (out / name).stat().st_size > 0, name
    cfg = Config.load(out / "config.json")
    assert cfg.variant == "apex" and cfg.actors == 2 and cfg.apex_mode == "paced"
    assert cfg.n_step == 3 and cfg.dueling and cfg.beta == 0.4  # the paper's learner
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env_steps"] == steps and not summary["interrupted"]
    assert summary["startup_seconds"] > 0 and summary["env_steps_per_second"] > 0
    assert 0 < summary["replay_share"] < 1
    # evaluations at exactly every eval_every env steps, summed over actors
    with open(out / "eval.csv") as f:
        evals = list(csv.DictReader(f))
    assert [int(float(e["env_steps"])) for e in evals] == [1000, 2000, 3000]
    # episodes: increasing step counts within the run, played at the two actors' ε
    with open(out / "history.csv") as f:
        episodes = list(csv.DictReader(f))
    steps_at = [int(float(e["env_steps"])) for e in episodes]
    assert steps_at == sorted(steps_at) and 0 < steps_at[0] and steps_at[-1] <= steps
    lengths = sum(int(float(e["episode_length"])) for e in episodes)
    assert steps - 2 * 500 <= lengths <= steps  # at most one unfinished episode per actor
    eps = sorted({float(e["epsilon"]) for e in episodes})
    np.testing.assert_allclose(eps, sorted(actor_epsilons(2)))
    # the learner took exactly per-sumtree's gradient steps for 3000 env steps
    assert Agent.load(out / "agent.pt").updates == _allowed_updates(cfg, steps) == 1250
    assert summary["gradient_steps"] == 1250 and summary["replay_ratio"] == 128 * 1250 / steps
    assert "rendered the best agent" in r.stdout


def test_free_mode_learns_at_its_own_rate_and_evicts_the_oldest_transitions():
    """Free mode: actors run their shares without waiting; the learner never waits for data
    once warm; evaluations come as the count passes each eval_every; a memory smaller than
    the run evicts (it ends full, with more added than it holds)."""
    from prdqn_lib.train import train

    cfg = Config.preset("apex", seed=5, total_steps=4000, eval_every=1000, eval_episodes=3,
                        learning_starts=500, buffer_size=1500)  # fmt: skip
    assert cfg.apex_mode == "free"
    result = train(cfg, progress=False)
    h = result.history
    assert h.env_steps == 4000 and not h.interrupted
    steps = [int(e["env_steps"]) for e in h.evals]
    # one evaluation per multiple of 1000 passed, labelled with the count when it ran
    assert steps[-1] == 4000 and all(b > a for a, b in zip(steps, steps[1:], strict=False))
    assert all(1000 <= s for s in steps) and len(steps) <= 4
    assert len(result.memory) == 1500  # full: 4000 env steps' transitions did not fit
    assert h.gradient_steps == result.agent.updates > 0
    stats = h.loop_stats
    assert stats["actor_nodes"] == 1 and stats["weight_versions"] == h.gradient_steps // 50
    assert stats["fetch_wait_seconds"] < h.train_seconds
    lengths = sum(int(e["episode_length"]) for e in h.episodes)
    assert 4000 - 2 * 500 <= lengths <= 4000
    np.testing.assert_allclose(sorted({e["epsilon"] for e in h.episodes}),
                               sorted(actor_epsilons(2)))  # fmt: skip


def test_actors_spread_over_a_two_node_cluster_and_the_cli_writes_every_file(tmp_path):
    """A real Ray cluster of two nodes on this machine (ray.cluster_utils.Cluster: a head and
    a worker, each its own raylet with 4 logical CPUs): SPREAD puts the two actors on different
    nodes (Ray's default packs both on the head: checked once by removing SPREAD, which fails
    this test), and a CLI run against the cluster writes every file."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 4, "include_dashboard": False, "object_store_memory": 100 * 2**20})  # fmt: skip
    try:
        cluster.add_node(num_cpus=4, object_store_memory=100 * 2**20)
        cluster.wait_for_nodes()
        out = tmp_path / "apex"
        r = subprocess.run(
            [sys.executable, "-m", "prdqn_lib", "train", "--variant", "apex", "--steps", "2000",
             "--out", str(out), "--no-progress", "--ray-address", cluster.address,
             "--set", "eval_episodes=3", "--set", "learning_starts=500"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        for name in FILES:
            assert (out / name).stat().st_size > 0, name
        summary = json.loads((out / "summary.json").read_text())
        assert summary["env_steps"] == 2000 and summary["loop"]["actor_nodes"] == 2
    finally:
        cluster.shutdown()


class _InterruptAfter(io.StringIO):
    """A progress 'file' that raises KeyboardInterrupt, as Ctrl-C would, once the bar has
    shown an evaluation (the learner is inside its loop, with actors running)."""

    fired = False

    def write(self, text):
        if "eval=" in text and "eval=-" not in text and not self.fired:
            self.fired = True
            raise KeyboardInterrupt
        return super().write(text)


def test_ctrl_c_stops_apex_cleanly_and_shuts_down_the_ray_it_started():
    from prdqn_lib.train import train

    assert not ray.is_initialized()
    cfg = Config(variant="apex", seed=1, total_steps=50_000, eval_every=500, eval_episodes=3,
                 learning_starts=200)  # fmt: skip
    result = train(cfg, progress=True, progress_file=_InterruptAfter())
    h = result.history
    assert h.interrupted and 500 <= h.env_steps < 50_000
    assert h.evals and 500 <= h.evals[0]["env_steps"] < 1000  # free mode: when 500 is passed
    assert result.best_agent is not None
    assert not ray.is_initialized()  # this run started Ray, so it shut it down


def test_bench_learning_runs_its_jobs_as_ray_tasks_and_resumes(tmp_path):
    """--ray writes the same results folders as the process pool, and a second call finds
    them finished instead of training again."""
    root = Path(__file__).resolve().parents[1]
    args = [sys.executable, str(root / "benchmarks" / "bench_learning.py"), "--ray",
            "--variants", "dqn", "--seeds", "0-1", "--steps", "1000", "--speed-steps", "0",
            "--out", str(tmp_path)]  # fmt: skip
    r = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    runs = tmp_path / "learning_shared" / "dqn"  # dqn's preset is the shared Config
    summaries = [json.loads((runs / f"seed{s}" / "summary.json").read_text()) for s in (0, 1)]
    assert [s["seed"] for s in summaries] == [0, 1] and all(
        s["env_steps"] == 1000 for s in summaries
    )
    assert Config.load(runs / "seed1" / "config.json").total_steps == 1000
    assert (tmp_path / "learning.md").exists()
    before = (runs / "seed0" / "summary.json").stat().st_mtime_ns
    r = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (runs / "seed0" / "summary.json").stat().st_mtime_ns == before  # not trained again
