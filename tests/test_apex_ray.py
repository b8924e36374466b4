"""Ape-X on a local Ray: the command line end to end, and Ctrl-C. Each test starts its own Ray
(about 10 s here), so there are two."""

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


def test_cli_trains_apex_with_two_actors_and_writes_every_file(tmp_path):
    out = tmp_path / "apex"
    steps = 3000
    r = subprocess.run(
        [sys.executable, "-m", "prdqn_lib", "train", "--variant", "apex", "--actors", "2",
         "--seed", "3", "--steps", str(steps), "--out", str(out), "--no-progress",
         "--set", "eval_every=1000", "--set", "eval_episodes=5", "--set", "learning_starts=500"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == ""  # no Ray notices, no warnings
    for name in ("history.csv", "eval.csv", "learning_curve.png", "episode.gif", "config.json",
                 "summary.json", "agent.pt", "best_agent.pt"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    cfg = Config.load(out / "config.json")
    assert cfg.variant == "apex" and cfg.actors == 2
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
    assert "rendered the best agent" in r.stdout


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
    assert h.evals and h.evals[0]["env_steps"] == 500
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
