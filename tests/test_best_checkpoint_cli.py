"""The command line keeps and renders the best checkpoint (``--render best``, the default)."""

import json
import subprocess
import sys

import pytest
import torch

from prdqn_lib.agent import Agent


def cli(*args):
    return subprocess.run([sys.executable, "-m", "prdqn_lib", *args], capture_output=True,
                          text=True)  # fmt: skip


@pytest.mark.parametrize("render", ["best", "final"])
def test_cli_saves_best_agent_and_renders_the_chosen_one(tmp_path, render):
    out = tmp_path / "run"
    r = cli("train", "--variant", "per-sumtree", "--seed", "4", "--steps", "1500", "--out",
            str(out), "--no-progress", "--render", render, "--set", "eval_every=300",
            "--set", "eval_episodes=3", "--set", "learning_starts=300")  # fmt: skip
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    rows = (out / "eval.csv").read_text().splitlines()[1:]
    returns = [float(line.split(",")[1]) for line in rows]
    steps = [int(float(line.split(",")[0])) for line in rows]
    best = max(range(len(returns)), key=lambda k: (returns[k], k))  # ties: the latest
    assert best != len(returns) - 1  # seed 4 peaks before the end: best and final differ
    assert summary["best_eval_env_steps"] == steps[best]
    assert summary["best_eval_return"] == pytest.approx(returns[best])
    best_agent, final_agent = Agent.load(out / "best_agent.pt"), Agent.load(out / "agent.pt")
    same = all(
        torch.equal(a, b)
        for a, b in zip(
            best_agent.online.parameters(), final_agent.online.parameters(), strict=True
        )  # fmt: skip
    )
    assert same == (best == len(returns) - 1)
    from prdqn_lib.render import play_episode

    played = {
        name: play_episode(agent, seed=4 + 20_000).episode_return
        for name, agent in (("best", best_agent), ("final", final_agent))
    }
    assert played["best"] != played["final"]  # so the check below can tell them apart
    assert summary["rendered_episode_return"] == played[render]
    if render == "best":
        assert summary["rendered_agent"].startswith("best agent: evaluation")
        assert f"at {steps[best]:,} steps" in summary["rendered_agent"]
    else:
        assert summary["rendered_agent"] == "final agent (1,500 steps)"
    assert "rendered the " in r.stdout


def test_cli_rejects_an_unknown_render_choice(tmp_path):
    r = cli("train", "--variant", "dqn", "--out", str(tmp_path / "x"), "--render", "worst")
    assert r.returncode == 2 and "invalid choice" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
