"""After training: load a run folder written by ``python -m prdqn_lib train``, evaluate its
checkpoint greedily, re-render an episode of it, and compare the evaluation curves of runs.

Every function checks its input before it writes anything and raises ``RunInputError`` (a
``ValueError``) with a one-line message that starts with the path it is about; its ``argument``
says which input is wrong ("run", "checkpoint" or "out"), so the command line can name its
flag. Files are written under a temporary name in the target folder and renamed at the end, so
a failure never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .agent import Agent
from .config import Config
from .recorder import Evaluator, History, TrainResult
from .stats import SOLVED_RETURN
from .variants import variant_names

if TYPE_CHECKING:
    from .render import Episode

__all__ = [
    "CHECKPOINTS",
    "EvalReport",
    "Run",
    "RunInputError",
    "check_out_file",
    "compare_runs",
    "evaluate_run",
    "group_by_variant",
    "load_run",
    "render_run",
]

# --checkpoint name -> the file ``train`` writes it to
CHECKPOINTS = {"best": "best_agent.pt", "final": "agent.pt"}
# default seeds, offsets from the run's seed: train evaluates on seed + 10_000 and renders its
# episode.gif on seed + 20_000; evaluate defaults to start states neither of them used
EVAL_SEED_OFFSET = 30_000
RENDER_SEED_OFFSET = 20_000


class RunInputError(ValueError):
    """Bad input to a function of this module: a ValueError that also says which input.

    Attributes:
        argument: "run" (a run folder or a file in it), "checkpoint" (the checkpoint file)
            or "out" (the file to write).
    """

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


@dataclass
class Run:
    """One run folder: its config, its summary (if written) and where its files are.

    Attributes:
        path: the folder.
        config: ``config.json``, as a Config.
        summary: ``summary.json`` as a dict, or None if the run did not write one.
    """

    path: Path
    config: Config
    summary: dict[str, Any] | None = None

    @property
    def variant(self) -> str:
        return self.config.variant

    def checkpoint_path(self, which: str = "best") -> Path:
        """The file of checkpoint ``which`` ("best" or "final"); ValueError if it is missing."""
        if which not in CHECKPOINTS:
            raise ValueError(f"{which!r}: expected one of {', '.join(CHECKPOINTS)}")
        path = self.path / CHECKPOINTS[which]
        if not path.is_file():
            hint = ""
            if which == "best" and (self.path / CHECKPOINTS["final"]).is_file():
                hint = " (no evaluation was recorded; --checkpoint final plays agent.pt)"
            raise RunInputError("checkpoint", f"{self.path} has no {CHECKPOINTS[which]}{hint}")
        return path

    def load_agent(self, which: str = "best") -> Agent:
        """The checkpoint ``which`` as an Agent, checked against the run's environment.

        Raises:
            ValueError: the file is missing, damaged or foreign (the message names it), or its
                network does not fit the observations and actions of ``config.env_id``.
        """
        path = self.checkpoint_path(which)
        try:
            agent = Agent.load(path)
        except (OSError, ValueError) as exc:  # ValueError: damaged or foreign; names the file
            message = str(exc) if isinstance(exc, ValueError) else f"{path}: {exc.strerror}"
            raise RunInputError("checkpoint", message) from None
        obs_dim, n_actions = _env_dims(self.config.env_id)
        if (agent.obs_dim, agent.n_actions) != (obs_dim, n_actions):
            raise RunInputError(
                "checkpoint",
                f"{path} is for {agent.obs_dim} observations and {agent.n_actions} actions, but "
                f"env_id {self.config.env_id!r} of {self.path / 'config.json'} has {obs_dim} "
                f"and {n_actions}",
            )
        return agent

    def load_history(self) -> History:
        """``history.csv`` and ``eval.csv`` as a History; ValueError if one is missing or bad."""
        for name in ("history.csv", "eval.csv"):
            if not (self.path / name).is_file():
                raise RunInputError("run", f"{self.path} has no {name}")
        try:
            history = History.load(self.path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RunInputError(
                "run", f"{self.path}: cannot read its history: {_one_line(exc)}"
            ) from None
        if self.summary and isinstance(self.summary.get("env_steps"), int):
            history.env_steps = self.summary["env_steps"]  # exact; the CSVs only bound it
        return history


def load_run(path: str | Path) -> Run:
    """Read the run folder ``path``: ``config.json`` (required) and ``summary.json`` (if any).

    Raises:
        ValueError: ``path`` is not a folder, has no ``config.json``, or a JSON file in it is
            damaged.
    """
    path = Path(path)
    if not path.exists():
        raise RunInputError("run", f"{path}: no such folder")
    if not path.is_dir():
        raise RunInputError("run", f"{path} is not a folder")
    config_path = path / "config.json"
    if not config_path.is_file():
        raise RunInputError("run", f"{path} has no config.json (not a folder written by train?)")
    try:
        config = Config.load(config_path)
    except (OSError, ValueError, TypeError) as exc:
        raise RunInputError(
            "run", f"{config_path} is not a valid run config: {_one_line(exc)}"
        ) from None
    summary = None
    summary_path = path / "summary.json"
    if summary_path.is_file():
        try:
            summary = json.loads(summary_path.read_text())
        except (OSError, ValueError) as exc:
            raise RunInputError("run", f"{summary_path} is damaged: {_one_line(exc)}") from None
        if not isinstance(summary, dict):
            raise RunInputError("run", f"{summary_path} is damaged: expected a JSON object")
    return Run(path, config, summary)


@dataclass
class EvalReport:
    """Returns of the greedy episodes ``evaluate_run`` played, and their statistics."""

    run: Path
    checkpoint: str
    env_id: str
    seed: int
    returns: np.ndarray = field(repr=False)

    @property
    def mean(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std(self) -> float:
        return float(np.std(self.returns))

    @property
    def min(self) -> float:
        return float(np.min(self.returns))

    @property
    def max(self) -> float:
        return float(np.max(self.returns))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the statistics and every episode's return."""
        return {
            "run": str(self.run),
            "checkpoint": self.checkpoint,
            "file": CHECKPOINTS[self.checkpoint],
            "env_id": self.env_id,
            "episodes": len(self.returns),
            "seed": self.seed,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "returns": [float(r) for r in self.returns],
        }

    def line(self) -> str:
        """One readable line with mean, std, min and max."""
        return (
            f"{self.run} {self.checkpoint} ({CHECKPOINTS[self.checkpoint]}) on {self.env_id}, "
            f"{len(self.returns)} greedy episodes from seed {self.seed}: mean {self.mean:.1f}, "
            f"std {self.std:.1f}, min {self.min:.0f}, max {self.max:.0f}"
        )


def evaluate_run(
    run: Run, which: str = "best", episodes: int = 10, seed: int | None = None
) -> EvalReport:
    """Play ``episodes`` greedy episodes of checkpoint ``which`` on the run's environment.

    Uses the training loop's own ``Evaluator`` (environment k seeded once with ``seed + k``),
    so the same ``seed`` gives the same returns.

    Args:
        run: from ``load_run``.
        which: "best" (``best_agent.pt``) or "final" (``agent.pt``).
        episodes: how many episodes, > 0.
        seed: the first environment's seed (default: the run's seed + 30,000, start states
            that neither training, its evaluations nor its GIF used).
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes <= 0:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    seed = run.config.seed + EVAL_SEED_OFFSET if seed is None else _check_seed(seed)
    agent = run.load_agent(which)
    evaluator = Evaluator(run.config.env_id, episodes, seed=seed)
    try:
        returns = evaluator(agent)
    finally:
        evaluator.close()
    return EvalReport(run.path, which, run.config.env_id, seed, returns)


def check_out_file(out: str | Path, suffix: str, force: bool = False) -> None:
    """Check that a ``suffix`` file can be written at ``out`` without writing it.

    Raises:
        ValueError: wrong extension, a folder, an existing file without ``force``, or a parent
            folder that is missing or not writable (the check creates and removes a temporary
            file there, since permission bits do not bind root).
    """
    out = Path(out)
    if out.suffix.lower() != suffix:
        raise RunInputError("out", f"{out}: expected a file name ending in {suffix}")
    if out.is_dir():
        raise RunInputError("out", f"{out} is a folder")
    if out.exists() and not force:
        raise RunInputError("out", f"{out} exists; choose another file or pass --force")
    parent = out.absolute().parent
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        raise RunInputError("out", f"{out}: its folder {parent} {what}")
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".prdqn-", suffix=suffix):
            pass
    except OSError as exc:
        raise RunInputError(
            "out", f"{out}: cannot create a file in its folder {parent} ({exc.strerror})"
        ) from None


def _write_via_temp(out: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``out``, then rename it to ``out``; on any
    failure (Ctrl-C included) the temporary file is removed and ``out`` is left as it was. An
    OSError becomes a RunInputError about ``out``."""
    # a name of this process's own (not mkstemp: its 0600 mode would stay on the file)
    tmp = out.absolute().parent / f".{out.stem}.prdqn-{os.getpid()}.partial{out.suffix}"
    try:
        write(tmp)
        os.replace(tmp, out)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # after the checks: a full disk, a vanished folder, ...
            raise RunInputError("out", f"{out}: cannot write it: {exc.strerror or exc}") from None
        raise


def render_run(
    run: Run,
    which: str = "best",
    out: str | Path | None = None,
    mp4: bool = False,
    seed: int | None = None,
    force: bool = False,
) -> tuple[Episode, Path]:
    """Re-render one greedy episode of checkpoint ``which`` as a GIF (or an MP4).

    Uses ``prdqn_lib.render.record_run``: every frame is captioned with the checkpoint (its
    evaluation and step, from ``eval.csv``), the step and the return so far.

    Args:
        run: from ``load_run``.
        which: "best" or "final".
        out: the file (default ``RUN_DIR/episode_<which>.gif``, ``.mp4`` with ``mp4``).
        mp4: write an MP4 instead of a GIF.
        seed: the episode's environment seed (default: the run's seed + 20,000, the episode
            ``train`` rendered into ``episode.gif``).
        force: replace an existing ``out``.

    Returns:
        ``(episode, out)``: the ``render.Episode`` played and the path written.
    """
    from .render import record_run

    suffix = ".mp4" if mp4 else ".gif"
    out = Path(out) if out is not None else run.path / f"episode_{which}{suffix}"
    if out.suffix.lower() in (".gif", ".mp4") and out.suffix.lower() != suffix:
        hint = "with --mp4" if mp4 else "(or pass --mp4 for an MP4)"
        raise RunInputError("out", f"{out}: expected a file name ending in {suffix} {hint}")
    check_out_file(out, suffix, force)
    agent = run.load_agent(which)
    history = run.load_history()
    if which == "best" and history.best_eval is None:
        raise RunInputError(
            "run", f"{run.path / 'eval.csv'} records no evaluation of the best agent"
        )
    seed = run.config.seed + RENDER_SEED_OFFSET if seed is None else _check_seed(seed)
    result = TrainResult(agent=agent, history=history, config=run.config, memory=None,
                         best_agent=agent if which == "best" else None)  # fmt: skip
    episode = None

    def write(tmp: Path) -> None:
        nonlocal episode
        paths = {"mp4_path": tmp} if mp4 else {"gif_path": tmp}
        episode = record_run(result, which, seed=seed, **paths)

    _write_via_temp(out, write)
    assert episode is not None  # write ran
    return episode, out


def group_by_variant(runs: Sequence[Run]) -> dict[str, list[History]]:
    """The runs' histories grouped by variant: the project's variant order, then others.

    Raises:
        ValueError: a run given twice, without evaluations, on another env_id than the first
            run, or evaluated at other env steps than the first run of its variant.
    """
    if not runs:
        raise RunInputError("run", "no runs given")
    seen: dict[Path, Path] = {}
    groups: dict[str, list[tuple[Run, History]]] = {}
    for run in runs:
        key = run.path.resolve()
        if key in seen:
            raise RunInputError(
                "run", f"{run.path}: the same run folder as {seen[key]}, given twice"
            )
        seen[key] = run.path
        if run.config.env_id != runs[0].config.env_id:
            raise RunInputError("run", f"{run.path}: env_id {run.config.env_id!r} differs from "
                             f"{runs[0].config.env_id!r} of {runs[0].path}")  # fmt: skip
        history = run.load_history()
        if not history.evals:
            raise RunInputError("run", f"{run.path / 'eval.csv'} records no evaluation")
        group = groups.setdefault(run.variant, [])
        if group:
            first_run, first = group[0]
            n = min(len(first.evals), len(history.evals))
            if not np.array_equal(first.eval_steps[:n], history.eval_steps[:n]):
                raise RunInputError(
                    "run",
                    f"{run.path}: evaluated at other env steps than {first_run.path} "
                    f"(eval_every {run.config.eval_every} vs {first_run.config.eval_every}); "
                    f"runs of one variant must share their evaluation steps",
                )
        group.append((run, history))
    known = variant_names()  # the registry's order, then any other name
    order = sorted(groups, key=lambda v: known.index(v) if v in known else len(known))
    return {variant: [h for _, h in groups[variant]] for variant in order}


def compare_runs(
    runs: Sequence[Run], out: str | Path, title: str | None = None, force: bool = False
) -> list[str]:
    """Plot the median and interquartile band of the runs' evaluation curves, one per variant,
    in the project's colours (``prdqn_lib.plots.plot_variants``), and save it as a PNG.

    Each variant's curve covers the evaluations all its runs share (a shorter run cuts it).

    Args:
        runs: from ``load_run``.
        out: the ``.png`` file.
        title: the plot's title (default: the env and the number of runs).
        force: replace an existing ``out``.

    Returns:
        One line per variant: runs, median final evaluation (with IQR), runs solved.
    """
    out = Path(out)
    check_out_file(out, ".png", force)
    groups = group_by_variant(runs)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from .plots import eval_matrix, plot_variants

    env_id = runs[0].config.env_id
    title = title if title is not None else f"{env_id}: greedy evaluation return, {len(runs)} runs"
    ax = plot_variants(groups, title=title)
    fig = ax.figure
    assert isinstance(fig, Figure)  # plot_variants made its own figure, not a subfigure
    try:
        _write_via_temp(out, lambda tmp: fig.savefig(tmp, dpi=120, bbox_inches="tight"))
    finally:
        plt.close(fig)
    lines = []
    for variant, histories in groups.items():
        steps, returns = eval_matrix(histories)
        final = returns[:, -1]
        q1, q3 = np.percentile(final, [25, 75])
        solved = sum(h.steps_to_solve() is not None for h in histories)
        lines.append(
            f"{variant}: {len(histories)} run{'s' * (len(histories) != 1)}, evaluation at "
            f"{steps[-1]:,.0f} steps: median {np.median(final):.1f} (IQR {q1:.1f}-{q3:.1f}); "
            f"solved (two evaluations >= {SOLVED_RETURN:.0f}) {solved}/{len(histories)}"
        )
    return lines


def _check_seed(seed: int) -> int:
    """``seed`` if it is an integer >= 0 (what gymnasium's reset takes), else ValueError."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def _env_dims(env_id: str) -> tuple[int, int]:
    """(observation size, number of actions) of ``env_id``; ValueError if it cannot be made."""
    import gymnasium as gym

    try:
        env = gym.make(env_id)
    except Exception as exc:  # unknown id, a missing dependency, a broken entry point ...
        raise RunInputError("run", f"env_id {env_id!r} cannot be made: {_one_line(exc)}") from None
    try:
        shape = env.observation_space.shape
        obs_dim = int(np.prod(shape)) if shape is not None else 0  # 0: no size, as n below
        n_actions = int(getattr(env.action_space, "n", 0))
    finally:
        env.close()
    return obs_dim, n_actions


def _one_line(exc: BaseException, limit: int = 160) -> str:
    """``Type: message`` on one line, cut at ``limit`` characters."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
