"""evaluate, render, compare: the commands for a trained run, on real run folders.

The module trains three tiny runs once (real training, real files) and runs every command on
them in this process (``prdqn_lib.cli.main``, stderr and the exit status as a user sees them),
plus one real ``python -m prdqn_lib`` process.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
import torch

from prdqn_lib.agent import Agent
from prdqn_lib.cli import main as cli_main
from prdqn_lib.plots import VARIANT_STYLE
from prdqn_lib.runs import RunInputError, compare_runs, evaluate_run, load_run, render_run
from prdqn_lib.train import Evaluator

# short runs of weak agents (short episodes: quick to render); dqn seed 6 evaluates 9, 17, 29,
# 26, so its best checkpoint (900 steps) is not its final one
TINY = ["--steps", "1200", "--no-progress", "--set", "eval_every=300", "--set",
        "eval_episodes=3", "--set", "learning_starts=300"]  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three real run folders written by ``train``: dqn seeds 6 and 5, per-sumtree seed 6."""
    base = tmp_path_factory.mktemp("runs")
    folders = {}
    for name, variant, seed in (("dqn6", "dqn", 6), ("dqn5", "dqn", 5),
                                ("ps6", "per-sumtree", 6)):  # fmt: skip
        out = base / name
        assert cli_main(["train", "--variant", variant, "--seed", str(seed), "--out", str(out),
                         *TINY]) == 0  # fmt: skip
        folders[name] = out
    return folders


@pytest.fixture()
def run_dir(runs):
    return runs["dqn6"]


def listing(folder: Path) -> list:
    """Every file and folder under ``folder`` (hidden ones too), files with their bytes."""
    return sorted((str(p.relative_to(folder)), p.read_bytes() if p.is_file() else None)
                  for p in folder.rglob("*"))  # fmt: skip


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """``python -m prdqn_lib *argv`` in this process: (exit status, stdout, stderr)."""
    try:
        code = cli_main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(capsys, folders, *argv) -> str:
    """Run a command that must be refused: exit 2, one stderr line, no stdout, and every file
    under ``folders`` exactly as it was. Returns the stderr line."""
    before = [listing(f) for f in folders]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2, (code, out, err)
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert [listing(f) for f in folders] == before
    return err.strip()


# ---------------------------------------------------------------------------------- evaluate


def test_evaluate_prints_one_line_and_is_deterministic_for_a_seed(capsys, run_dir):
    code, out, err = run_cli(capsys, "evaluate", run_dir, "--episodes", 4, "--seed", 7)
    assert code == 0 and err == ""
    (line,) = out.strip().splitlines()
    assert "best (best_agent.pt)" in line and "4 greedy episodes from seed 7" in line
    for word in ("mean", "std", "min", "max"):
        assert f" {word} " in line
    assert run_cli(capsys, "evaluate", run_dir, "--episodes", 4, "--seed", 7)[1] == out

    code, out, _ = run_cli(capsys, "evaluate", run_dir, "--episodes", 4, "--seed", 7, "--json")
    report = json.loads(out)
    # the library's own greedy evaluation of the same file, seeds 7..10
    expected = Evaluator("CartPole-v1", 4, seed=7)(Agent.load(run_dir / "best_agent.pt"))
    assert report["returns"] == expected.tolist()
    assert report["mean"] == pytest.approx(expected.mean())
    assert report["std"] == pytest.approx(expected.std())
    assert (report["min"], report["max"]) == (expected.min(), expected.max())
    assert f"mean {expected.mean():.1f}, std {expected.std():.1f}" in line
    assert report["checkpoint"] == "best" and report["file"] == "best_agent.pt"
    assert report["episodes"] == 4 and report["seed"] == 7 and report["env_id"] == "CartPole-v1"
    other = json.loads(run_cli(capsys, "evaluate", run_dir, "--episodes", 4, "--seed", 8,
                               "--json")[1])  # fmt: skip
    assert other["returns"][:3] == report["returns"][1:]  # episode k starts from seed S + k


def test_evaluate_final_plays_agent_pt_and_the_default_seed_is_new(capsys, run_dir):
    code, out, _ = run_cli(capsys, "evaluate", run_dir, "--checkpoint", "final", "--json")
    assert code == 0
    final = json.loads(out)
    assert final["file"] == "agent.pt" and final["episodes"] == 10
    assert final["seed"] == 6 + 30_000  # the run's seed + 30000
    expected = Evaluator("CartPole-v1", 10, seed=30_006)(Agent.load(run_dir / "agent.pt"))
    assert final["returns"] == expected.tolist()
    best = json.loads(run_cli(capsys, "evaluate", run_dir, "--json")[1])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["best_eval_env_steps"] == 900 < summary["env_steps"]  # two agents ...
    assert best["file"] == "best_agent.pt" and best["returns"] != final["returns"]  # ... played


def test_evaluate_in_a_real_process_matches_this_one(capsys, run_dir):
    r = subprocess.run([sys.executable, "-m", "prdqn_lib", "evaluate", str(run_dir),
                        "--episodes", "3", "--seed", "11", "--json"],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0 and r.stderr == "", r.stderr
    here = run_cli(capsys, "evaluate", run_dir, "--episodes", 3, "--seed", 11, "--json")[1]
    assert json.loads(r.stdout) == json.loads(here)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--episodes", "0"], "argument --episodes: expected a positive integer, got 0"),
        (["--episodes", "-3"], "argument --episodes: expected a positive integer, got -3"),
        (["--episodes", "many"], "argument --episodes: expected a positive integer, got 'many'"),
        (["--seed", "-1"], "argument --seed: expected a non-negative integer, got -1"),
        (["--checkpoint", "worst"], "argument --checkpoint: invalid choice: 'worst'"),
    ],
)
def test_evaluate_refuses_bad_flags(capsys, run_dir, args, message):
    assert message in refused(capsys, [run_dir], "evaluate", run_dir, *args)


def test_the_library_checks_its_arguments(tmp_path, run_dir):
    run = load_run(run_dir)
    for kwargs, message in (
        ({"episodes": 0}, "episodes must be a positive integer, got 0"),
        ({"episodes": 2.5}, "episodes must be a positive integer, got 2.5"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"which": "worst"}, "'worst': expected one of best, final"),
    ):
        with pytest.raises(ValueError, match=re.escape(message)):
            evaluate_run(run, **kwargs)
    with pytest.raises(RunInputError, match="no such folder") as info:
        load_run(tmp_path / "missing")
    assert info.value.argument == "run" and isinstance(info.value, ValueError)
    with pytest.raises(RunInputError, match="expected a file name ending in .png") as info:
        compare_runs([run], tmp_path / "c.svg")
    assert info.value.argument == "out" and list(tmp_path.iterdir()) == []


def test_commands_refuse_a_folder_that_is_not_a_run(capsys, tmp_path, run_dir):
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "empty").mkdir()
    out = tmp_path / "c.png"
    for command, extra in (("evaluate", []), ("render", ["--out", tmp_path / "e.gif"]),
                           ("compare", [run_dir, "--out", out])):  # fmt: skip
        for folder, message in (
            (tmp_path / "missing", f"RUN_DIR {tmp_path / 'missing'}: no such folder"),
            (tmp_path / "a_file", f"RUN_DIR {tmp_path / 'a_file'} is not a folder"),
            (tmp_path / "empty", f"RUN_DIR {tmp_path / 'empty'} has no config.json"),
        ):
            err = refused(capsys, [tmp_path, run_dir], command, folder, *extra)
            assert err.startswith(f"python -m prdqn_lib {command}: error: {message}"), err


def test_a_run_without_the_checkpoint_is_refused(capsys, tmp_path, run_dir):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    (run / "best_agent.pt").unlink()
    for command in ("evaluate", "render"):
        err = refused(capsys, [tmp_path], command, run)
        assert f"--checkpoint best: {run} has no best_agent.pt" in err
        assert "--checkpoint final plays agent.pt" in err  # the way out
    (run / "agent.pt").unlink()
    err = refused(capsys, [tmp_path], "evaluate", run, "--checkpoint", "final")
    assert f"--checkpoint final: {run} has no agent.pt" in err


def test_a_damaged_config_json_is_named(capsys, tmp_path, run_dir):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    (run / "config.json").write_text('{"variant": "dqn", "lr": ')
    err = refused(capsys, [tmp_path], "evaluate", run)
    assert f"RUN_DIR {run / 'config.json'} is not a valid run config: JSONDecodeError" in err


# ---------------------------------------------------------------------- damaged checkpoints


def _damaged_checkpoints(good: Path) -> dict:
    """name -> (bytes of a damaged or foreign checkpoint, what the error must say)."""
    data = good.read_bytes()
    agent = Agent.load(good)
    state = torch.load(good, weights_only=True)
    files = {}

    def saved(obj) -> bytes:
        path = good.parent / ".scratch.pt"
        torch.save(obj, path)
        content = path.read_bytes()
        path.unlink()
        return content

    files["truncated"] = (data[: len(data) // 2], "is damaged (truncated?) or not a torch file")
    files["random bytes"] = (np.random.default_rng(0).bytes(4000),
                             "is damaged (truncated?) or not a torch file")  # fmt: skip
    files["empty"] = (b"", "is damaged (truncated?) or not a torch file: EOFError")
    files["plain state_dict"] = (
        saved(agent.online.state_dict()),
        "is not an Agent.save file: it lacks the keys config, obs_dim, n_actions, online, "
        "target, optimizer, updates (it looks like a plain state_dict)",
    )
    files["missing key"] = (saved({k: v for k, v in state.items() if k != "optimizer"}),
                            "is not an Agent.save file: it lacks the key optimizer")  # fmt: skip
    files["a tensor"] = (saved(torch.zeros(3)),
                         "is not an Agent.save file: it holds a Tensor, not a dict")  # fmt: skip
    wrong = {**state, "obs_dim": 5}
    files["weights of another shape"] = (
        saved(wrong),
        "is not a usable Agent.save file: RuntimeError: Error(s) in loading state_dict",
    )
    return files


def test_agent_load_names_the_file_and_the_problem(tmp_path, run_dir):
    for name, (content, problem) in _damaged_checkpoints(run_dir / "best_agent.pt").items():
        path = tmp_path / "agent.pt"
        path.write_bytes(content)
        with pytest.raises(ValueError) as info:
            Agent.load(path)
        message = str(info.value)
        assert message.startswith(f"{path} {problem}"), (name, message)
        assert "\n" not in message and "weights_only" not in message, (name, message)
    with pytest.raises(FileNotFoundError):  # not there to judge: the OSError as it was
        Agent.load(tmp_path / "missing.pt")


def test_commands_refuse_a_damaged_or_foreign_checkpoint(capsys, tmp_path, run_dir):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    for name, (content, problem) in _damaged_checkpoints(run_dir / "agent.pt").items():
        (run / "agent.pt").write_bytes(content)
        for command in ("evaluate", "render"):
            err = refused(capsys, [tmp_path], command, run, "--checkpoint", "final")
            assert f"error: --checkpoint final: {run / 'agent.pt'} {problem}" in err, (name, err)


def test_a_checkpoint_for_another_env_is_refused(capsys, tmp_path, run_dir):
    """A real Agent.save file whose network does not fit the run's env_id."""
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "env_id": "Acrobot-v1"}))
    err = refused(capsys, [tmp_path], "evaluate", run)
    assert f"{run / 'best_agent.pt'} is for 4 observations and 2 actions" in err
    assert "env_id 'Acrobot-v1'" in err and "has 6 and 3" in err


# ------------------------------------------------------------------------------------ render


def test_render_by_default_re_renders_trains_episode(capsys, tmp_path, run_dir):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    summary = json.loads((run / "summary.json").read_text())
    code, out, err = run_cli(capsys, "render", run)
    assert code == 0 and err == ""
    gif = run / "episode_best.gif"
    assert out.strip() == (f"wrote {gif}: the {summary['rendered_agent']}, episode return "
                           f"{summary['rendered_episode_return']:.0f}")  # fmt: skip
    # the same checkpoint, seed and captions as train's own episode.gif: the same file
    assert gif.read_bytes() == (run / "episode.gif").read_bytes()
    frames = imageio.mimread(gif)
    assert len(frames) > 1 and frames[0].shape[:2] == (200, 300)  # half of 600x400
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []  # no temp file

    # a second render does not overwrite it ...
    before = gif.read_bytes()
    err = refused(capsys, [tmp_path], "render", run, "--seed", 3)
    assert f"--out {gif} exists; choose another file or pass --force" in err
    # ... unless --force
    code, out, _ = run_cli(capsys, "render", run, "--seed", 3, "--force")
    assert code == 0 and gif.read_bytes() != before
    umask = os.umask(0)
    os.umask(umask)
    assert gif.stat().st_mode & 0o777 == 0o666 & ~umask  # as any new file (not mkstemp's 0600)


def test_render_final_as_mp4(capsys, tmp_path, run_dir):
    out = tmp_path / "final.mp4"
    code, stdout, _ = run_cli(capsys, "render", run_dir, "--checkpoint", "final", "--mp4",
                              "--out", out)  # fmt: skip
    assert code == 0 and "the final agent (1,200 steps)" in stdout
    reader = imageio.get_reader(out)
    n_frames = sum(1 for _ in reader)
    reader.close()
    played = int(stdout.rsplit("episode return ", 1)[1])
    assert n_frames == played + 1 > 1  # every step, plus the first frame
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final.mp4"]


def test_render_run_returns_the_episode(tmp_path, run_dir):
    episode, out = render_run(load_run(run_dir), "final", tmp_path / "f.gif", seed=1)
    assert out == tmp_path / "f.gif" and episode.caption == "final agent (1,200 steps)"
    assert len(episode.frames) == episode.episode_return + 1
    assert len(imageio.mimread(out)) == (len(episode.frames) + 1) // 2  # every 2nd frame


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_a_write_that_fails_half_way_leaves_nothing(tmp_path, error):
    """Files are written under a temporary name and renamed at the end (here the writer is a
    real function that writes half a file and fails, as Ctrl-C or a full disk would)."""
    from prdqn_lib.runs import _write_via_temp

    def half_then_fail(path: Path) -> None:
        path.write_bytes(b"GIF89a half")
        raise error

    for out, before in ((tmp_path / "new.gif", None), (tmp_path / "old.gif", b"GIF89a old")):
        if before:
            out.write_bytes(before)
        # an OSError is about the --out (one line, exit 2, in the CLI); Ctrl-C stays itself
        expected = RunInputError if isinstance(error, OSError) else error
        with pytest.raises(expected) as info:
            _write_via_temp(out, half_then_fail)
        if expected is RunInputError:
            assert str(info.value) == f"{out}: cannot write it: No space left on device"
        assert (out.read_bytes() if out.exists() else None) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.gif"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--out", "{tmp}/nowhere/e.gif"],
            "--out {tmp}/nowhere/e.gif: its folder {tmp}/nowhere does not exist",
        ),
        (
            ["--out", "{tmp}/a_file/e.gif"],
            "--out {tmp}/a_file/e.gif: its folder {tmp}/a_file is not a folder",
        ),
        (["--out", "{tmp}/e.png"], "--out {tmp}/e.png: expected a file name ending in .gif"),
        (
            ["--out", "{tmp}/e.mp4"],
            "--out {tmp}/e.mp4: expected a file name ending in .gif (or pass --mp4 for an MP4)",
        ),
        (
            ["--mp4", "--out", "{tmp}/e.gif"],
            "--out {tmp}/e.gif: expected a file name ending in .mp4 with --mp4",
        ),
        (["--out", "{tmp}/a_folder.gif"], "--out {tmp}/a_folder.gif is a folder"),
        (
            ["--out", "{tmp}/old.gif"],
            "--out {tmp}/old.gif exists; choose another file or pass --force",
        ),
        (
            ["--out", "/proc/prdqn-test.gif"],
            "--out /proc/prdqn-test.gif: cannot create a file in its folder /proc",
        ),
        (["--seed", "x"], "argument --seed: expected a non-negative integer, got 'x'"),
        (["--checkpoint", "last"], "argument --checkpoint: invalid choice: 'last'"),
    ],
)
def test_render_refuses_a_bad_out(capsys, tmp_path, run_dir, args, message):
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_folder.gif").mkdir()
    (tmp_path / "old.gif").write_bytes(b"GIF89a mine")
    args = [a.format(tmp=tmp_path) for a in args]
    err = refused(capsys, [tmp_path, run_dir], "render", run_dir, *args)
    assert f"python -m prdqn_lib render: error: {message.format(tmp=tmp_path)}" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_render_refuses_a_read_only_folder(capsys, tmp_path, run_dir):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        err = refused(capsys, [tmp_path], "render", run_dir, "--out", ro / "e.gif")
        assert f"--out {ro / 'e.gif'}: cannot create a file in its folder {ro}" in err
    finally:
        ro.chmod(0o755)


# ----------------------------------------------------------------------------------- compare


def _pixels_of(png: np.ndarray, hex_colour: str) -> int:
    rgb = np.array([int(hex_colour[k : k + 2], 16) for k in (1, 3, 5)])
    return int((np.abs(png[..., :3].astype(int) - rgb).max(axis=-1) <= 8).sum())


def test_compare_plots_runs_by_variant_in_the_project_colours(capsys, tmp_path, runs):
    out = tmp_path / "compare.png"
    code, stdout, err = run_cli(capsys, "compare", runs["dqn6"], runs["ps6"], runs["dqn5"],
                                "--out", out)  # fmt: skip
    assert code == 0 and err == ""
    lines = stdout.strip().splitlines()
    # grouped by the variant of config.json, in the project's variant order
    assert lines[0].startswith("dqn: 2 runs, evaluation at 1,200 steps: median ")
    assert lines[1].startswith("per-sumtree: 1 run, evaluation at 1,200 steps: median ")
    assert lines[2] == f"wrote {out}"
    finals = [json.loads((runs[k] / "summary.json").read_text())["final_eval_return"]
              for k in ("dqn6", "dqn5")]  # fmt: skip
    q1, q3 = np.percentile(finals, [25, 75])
    assert f"median {np.median(finals):.1f} (IQR {q1:.1f}-{q3:.1f})" in lines[0]
    png = imageio.imread(out)
    assert png.ndim == 3 and png.shape[0] > 300 and png.shape[1] > 500
    for variant in ("dqn", "per-sumtree"):  # each variant's line in its own colour
        assert _pixels_of(png, VARIANT_STYLE[variant]["color"]) > 50, variant
    assert _pixels_of(png, VARIANT_STYLE["ddqn"]["color"]) == 0  # no run of it, no curve
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compare.png"]
    err = refused(capsys, [tmp_path], "compare", runs["dqn6"], "--out", out)
    assert f"--out {out} exists; choose another file or pass --force" in err
    assert run_cli(capsys, "compare", runs["dqn6"], "--out", out, "--force")[0] == 0


def test_compare_refuses_bad_input(capsys, tmp_path, runs):
    run = runs["dqn6"]
    shifted = tmp_path / "shifted"  # a run of the same variant evaluated at other steps
    shutil.copytree(run, shifted)
    rows = (shifted / "eval.csv").read_text().splitlines()
    rows[1:] = [str(int(float(r.split(",")[0])) + 1) + "," + r.split(",", 1)[1] for r in rows[1:]]
    (shifted / "eval.csv").write_text("\n".join(rows) + "\n")
    no_eval = tmp_path / "no_eval"
    shutil.copytree(run, no_eval)
    (no_eval / "eval.csv").unlink()
    other_env = tmp_path / "other_env"
    shutil.copytree(run, other_env)
    config = json.loads((other_env / "config.json").read_text())
    (other_env / "config.json").write_text(json.dumps({**config, "env_id": "Acrobot-v1"}))
    unevaluated = tmp_path / "unevaluated"  # e.g. stopped before its first evaluation
    shutil.copytree(run, unevaluated)
    header = (unevaluated / "eval.csv").read_text().splitlines()[0]
    (unevaluated / "eval.csv").write_text(header + "\n")
    out = tmp_path / "c.png"
    cases = [
        (
            [run, other_env, "--out", out],
            f"RUN_DIR {other_env}: env_id 'Acrobot-v1' differs from 'CartPole-v1' of {run}",
        ),
        (
            [run, unevaluated, "--out", out],
            f"RUN_DIR {unevaluated / 'eval.csv'} records no evaluation",
        ),
        ([run, run, "--out", out], f"RUN_DIR {run}: the same run folder as {run}, given twice"),
        (
            [run, shifted, "--out", out],
            f"RUN_DIR {shifted}: evaluated at other env steps than {run}",
        ),
        ([run, no_eval, "--out", out], f"RUN_DIR {no_eval} has no eval.csv"),
        (
            [run, "--out", tmp_path / "c.jpg"],
            f"--out {tmp_path / 'c.jpg'}: expected a file name ending in .png",
        ),
        (
            [run, "--out", tmp_path / "no" / "c.png"],
            f"--out {tmp_path / 'no' / 'c.png'}: its folder {tmp_path / 'no'} does not exist",
        ),
        ([run], "the following arguments are required: --out"),
        (["--out", out], "the following arguments are required: RUN_DIR"),
    ]
    for args, message in cases:
        err = refused(capsys, [tmp_path, run], "compare", *args)
        assert f"python -m prdqn_lib compare: error: {message}" in err, err


def test_help_lists_the_commands(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    for command in ("train", "evaluate", "render", "compare"):
        assert command in out
