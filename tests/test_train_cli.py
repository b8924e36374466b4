"""The training loop, History, rendering and the command line, on the real CartPole."""

import subprocess
import sys

import gymnasium as gym
import imageio.v3 as iio
import pytest

from prdqn_lib.agent import Agent
from prdqn_lib.config import Config
from prdqn_lib.render import record_episode
from prdqn_lib.train import Evaluator, History, train

SHORT = {"eval_every": 500, "eval_episodes": 5, "learning_starts": 200}


class _InterruptAt(gym.Wrapper):
    """Raises KeyboardInterrupt at env step ``at``, as Ctrl-C would."""

    def __init__(self, env, at):
        super().__init__(env)
        self.at, self.steps = at, 0

    def step(self, action):
        self.steps += 1
        if self.steps == self.at:
            raise KeyboardInterrupt
        return self.env.step(action)


gym.register(
    "CartPoleShort-v0",
    entry_point="gymnasium.envs.classic_control:CartPoleEnv",
    max_episode_steps=6,
)
gym.register(
    "CartPoleInterrupted-v0",
    entry_point=lambda: _InterruptAt(gym.make("CartPole-v1").unwrapped, at=700),
)


def test_a_short_run_beats_the_untrained_agent():
    cfg = Config(variant="per-sumtree", seed=0, total_steps=3000, **SHORT)
    untrained = Evaluator(cfg.env_id, 10, seed=123)(Agent(4, 2, cfg)).mean()
    result = train(cfg, progress=False)
    trained = Evaluator(cfg.env_id, 10, seed=123)(result.agent).mean()
    assert trained > untrained + 50, (trained, untrained)
    h = result.history
    assert h.env_steps == 3000 and len(h.evals) == 6 and not h.interrupted
    assert h.episodes[-1]["env_steps"] <= 3000 and 0 < h.replay_share < 1


def test_truncation_is_not_stored_as_termination():
    """A time limit is not a terminal state; a fall is.

    CartPoleShort truncates every episode at 6 steps, before any pole can fall: no stored
    transition may be terminal. On CartPole-v1 a random policy always falls well before 500
    steps: exactly one terminal transition per episode.
    """
    no_training = {"learning_starts": 10_000, "eval_every": 10_000}
    short = train(Config(env_id="CartPoleShort-v0", total_steps=300, **no_training), progress=False)
    assert {e["episode_length"] for e in short.history.episodes} == {6}
    assert not short.memory._terminated[: len(short.memory)].any()
    full = train(Config(total_steps=300, **no_training), progress=False)
    n_episodes = len(full.history.episodes)
    assert n_episodes > 5
    assert int(full.memory._terminated[: len(full.memory)].sum()) == n_episodes


def test_ctrl_c_stops_cleanly_and_keeps_the_history():
    cfg = Config(variant="per-sumtree", env_id="CartPoleInterrupted-v0", total_steps=5000, **SHORT)
    result = train(cfg, progress=False)
    h = result.history
    assert h.interrupted and h.env_steps == 699
    assert len(h.evals) == 1 and h.episodes and h.episodes[-1]["env_steps"] <= 699


def test_history_csv_round_trip_and_solve_rule(tmp_path):
    h = History()
    for k, r in enumerate([100, 480, 300, 476, 490, 500], start=1):
        h.evals.append({"env_steps": 1000 * k, "eval_return": r, "eval_std": 0.0, "wall_time": k})
    h.episodes.append(
        {
            "env_steps": 10,
            "episode": 1,
            "episode_return": 10.0,
            "episode_length": 10,
            "loss": 0.5,
            "epsilon": 1.0,
            "wall_time": 0.1,
        }
    )
    assert h.steps_to_solve() == 4000  # first of two consecutive >= 475 (480 alone does not count)
    assert h.steps_to_solve(consecutive=3) == 4000
    assert h.steps_to_solve(threshold=501) is None
    h.save(tmp_path)
    header = (tmp_path / "eval.csv").read_text().splitlines()[0]
    assert header.startswith("env_steps,eval_return")
    loaded = History.load(tmp_path)
    assert loaded.steps_to_solve() == 4000 and loaded.episodes[0]["episode_return"] == 10.0
    assert loaded.env_steps == 6000  # the last evaluation, later than the last episode


def test_gif_and_mp4_read_back(tmp_path):
    agent = Agent(4, 2, Config())
    episode = record_episode(agent, tmp_path / "e.gif", tmp_path / "e.mp4", seed=3)
    n = len(episode.frames)
    assert n == episode.episode_return + 1  # first frame + one per step
    gif = iio.imread(tmp_path / "e.gif", index=None)
    assert gif.shape[0] == (n + 1) // 2 and gif.shape[1:3] == (200, 300)  # every 2nd, half size
    mp4 = iio.imread(tmp_path / "e.mp4", index=None)
    assert mp4.shape[0] == n and mp4.shape[1:3] == (400, 600)


def cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "prdqn_lib", *args], capture_output=True, text=True, cwd=cwd
    )


def test_cli_writes_its_files(tmp_path):
    out = tmp_path / "run"
    r = cli(
        "train",
        "--variant",
        "per-list",
        "--seed",
        "1",
        "--steps",
        "1200",
        "--out",
        str(out),
        "--mp4",
        "--no-progress",
        "--set",
        "eval_every=400",
        "--set",
        "eval_episodes=3",
    )
    assert r.returncode == 0, r.stderr
    for name in (
        "history.csv",
        "eval.csv",
        "learning_curve.png",
        "episode.gif",
        "episode.mp4",
        "config.json",
        "summary.json",
        "agent.pt",
    ):
        assert (out / name).stat().st_size > 0, name
    evals = (out / "eval.csv").read_text().splitlines()
    assert evals[0].startswith("env_steps,eval_return") and len(evals) == 4
    assert Config.load(out / "config.json").variant == "per-list"
    assert Agent.load(out / "agent.pt").config.eval_every == 400
    assert r.stderr.strip() == ""  # no warnings, no stray output


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--variant", "rainbow"], "invalid choice"),
        (["--variant", "dqn", "--steps", "-5"], "positive integer"),
        (["--variant", "dqn", "--steps", "ten"], "positive integer"),
        (["--variant", "dqn", "--seed", "-1"], "non-negative"),
        (["--variant", "dqn", "--set", "warp=9"], "KEY=VALUE"),
        (["--variant", "dqn", "--set", "lr=-1"], "lr must be positive"),
        (["--variant", "dqn", "--bogus"], "unrecognized arguments"),
    ],
)
def test_cli_rejects_bad_flags(tmp_path, args, match):
    r = cli("train", "--out", str(tmp_path / "x"), *args)
    assert r.returncode == 2
    assert match in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "x").exists()


def test_cli_does_not_overwrite(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    r = cli("train", "--variant", "dqn", "--out", str(tmp_path))
    assert r.returncode == 2 and "not empty" in r.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_cli_help_explains_every_flag():
    r = cli("train", "--help")
    assert r.returncode == 0
    for flag in ("--variant", "--seed", "--steps", "--out", "--force", "--mp4", "--set"):
        assert flag in r.stdout
