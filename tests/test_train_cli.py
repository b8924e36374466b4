"""The training loop, History, rendering and the command line, on the real CartPole."""

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import imageio.v3 as iio
import pytest

import prdqn_lib
from prdqn_lib.agent import Agent
from prdqn_lib.cli import main as cli_main
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
        (["--variant", "dqn", "--set", "lr=inf"], "lr must be finite, got inf"),
        (["--variant", "dqn", "--set", "alpha=nan"], "alpha must be finite, got nan"),
        (["--variant", "dqn", "--set", "lr=abc"], "--set lr=abc: lr must be a real number"),
        (["--variant", "dqn", "--set", "hidden=64,abc"], "--set hidden=64,abc: hidden must be"),
        (["--variant", "dqn", "--set", "batch_size=2.5"], "--set batch_size=2.5: batch_size"),
        (["--variant", "dqn", "--set", "env_id=Pendulum-v1"], "needs Discrete actions"),
        (["--variant", "dqn", "--set", "env_id=FrozenLake-v1"], "needs Box observations"),
        (["--variant", "dqn", "--set", "env_id=NoSuchEnv-v0"], "'NoSuchEnv-v0' is not a gym"),
    ],
)
def test_cli_rejects_bad_flags(tmp_path, args, match):
    r = cli("train", "--out", str(tmp_path / "x"), *args)
    assert r.returncode == 2
    assert match in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stdout == ""
    assert not (tmp_path / "x").exists()  # so the retry needs no --force


def listing(folder):
    return sorted((str(p.relative_to(folder)), p.read_bytes()) for p in folder.rglob("*")
                  if p.is_file())  # fmt: skip


@pytest.mark.parametrize("flag", ["--set env_id=Pendulum-v1", "--set lr=nan", "--set gamma=2"])
def test_cli_leaves_an_existing_out_as_it_was(tmp_path, flag):
    """Even with --force, a refused run writes nothing (no lone config.json)."""
    (tmp_path / "keep.txt").write_text("mine")
    before = listing(tmp_path)
    r = cli("train", "--variant", "dqn", "--out", str(tmp_path), "--force", *flag.split())
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert listing(tmp_path) == before


def test_cli_refuses_an_out_inside_a_file(tmp_path):
    (tmp_path / "f").write_text("a file")
    r = cli("train", "--variant", "dqn", "--out", str(tmp_path / "f" / "run"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "is a file, not a folder" in r.stderr
    assert (tmp_path / "f").read_text() == "a file"


def test_cli_refuses_an_out_it_cannot_create(tmp_path):
    """/proc refuses new folders even to root: mkdir fails after the checks, and is undone."""
    r = cli("train", "--variant", "dqn", "--out", "/proc/prdqn-test/run")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "/proc/prdqn-test/run is not usable" in r.stderr
    assert not Path("/proc/prdqn-test").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_cli_refuses_a_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        for out in (ro, ro / "run"):
            r = cli("train", "--variant", "dqn", "--out", str(out))
            assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
            assert "not writable" in r.stderr
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_cli_version():
    r = cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"prdqn_lib {prdqn_lib.__version__}"


QUICK = ["--steps", "300", "--no-progress", "--set", "learning_starts=100", "--set",
         "eval_every=100", "--set", "eval_episodes=2"]  # fmt: skip


def test_a_second_ctrl_c_while_writing_the_gif_keeps_summary_json(tmp_path, monkeypatch, capsys):
    import prdqn_lib.render

    def interrupted(*args, gif_path=None, **kwargs):
        gif_path.write_bytes(b"GIF89a half")  # a half-written file ...
        raise KeyboardInterrupt  # ... when the second Ctrl-C lands

    monkeypatch.setattr(prdqn_lib.render, "record_run", interrupted)
    out = tmp_path / "run"
    assert cli_main(["train", "--variant", "dqn", "--out", str(out), *QUICK]) == 130
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env_steps"] == 300 and summary["rendered_agent"] is None
    assert summary["writing_interrupted_at"] == "the episode"
    assert not (out / "episode.gif").exists()  # the half-written GIF is removed
    for name in ("history.csv", "eval.csv", "agent.pt", "learning_curve.png", "config.json"):
        assert (out / name).exists(), name
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "interrupted while writing the episode" in err[0]


def test_a_crash_in_training_leaves_out_as_it_was(tmp_path, monkeypatch):
    import prdqn_lib.train

    def crash(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(prdqn_lib.train, "train", crash)
    out = tmp_path / "new" / "run"
    with pytest.raises(RuntimeError, match="a bug"):
        cli_main(["train", "--variant", "dqn", "--out", str(out), *QUICK])
    assert list(tmp_path.iterdir()) == []  # config.json and both folders removed again


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
