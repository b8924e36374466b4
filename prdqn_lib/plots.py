"""Learning-curve plots: one run, several seeds as mean ± band, several variants on one axis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .train import SOLVED_RETURN, History

__all__ = ["moving_average", "plot_learning_curve", "plot_seeds", "plot_variants", "eval_matrix"]


def moving_average(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (shorter at the start)."""
    x = np.asarray(x, dtype=float)
    c = np.concatenate([[0.0], np.cumsum(x)])
    end = np.arange(1, x.size + 1)
    start = np.maximum(0, end - window)
    return (c[end] - c[start]) / (end - start)


def _legend_below(ax, ncol: int = 3) -> None:
    """Legend under the axes, where it can never hide a curve."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, fontsize=8, frameon=False)


def _solved_line(ax) -> None:
    ax.axhline(SOLVED_RETURN, color="grey", ls="--", lw=1, label=f"solved ({SOLVED_RETURN:.0f})")


def plot_learning_curve(history: History, title: str = "", window: int = 20, ax=None):
    """Episode returns (faint), their moving average, and the greedy evaluations (dots)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    steps = [e["env_steps"] for e in history.episodes]
    returns = [e["episode_return"] for e in history.episodes]
    ax.plot(steps, returns, color="tab:blue", alpha=0.25, lw=0.8, label="episode return")
    ax.plot(steps, moving_average(returns, window), color="tab:blue", lw=2,
            label=f"moving average ({window} episodes)")  # fmt: skip
    if history.evals:
        ax.plot(history.eval_steps, history.eval_returns, "o-", color="tab:orange", ms=4,
                label="greedy evaluation (mean)")  # fmt: skip
    solve = history.steps_to_solve()
    if solve is not None:
        ax.axvline(solve, color="tab:green", lw=1, label=f"solved at {solve:,} steps")
    _solved_line(ax)
    ax.set(xlabel="environment steps", ylabel="return", title=title, ylim=(0, 520))
    _legend_below(ax)
    return ax


def eval_matrix(histories: Sequence[History]) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation returns of several runs on their common evaluation steps: (steps, R[run, k])."""
    n = min(len(h.evals) for h in histories)
    steps = histories[0].eval_steps[:n]
    return steps, np.stack([h.eval_returns[:n] for h in histories])


def plot_seeds(histories: Sequence[History], label: str = "", color=None, ax=None):
    """Mean evaluation return over seeds with a band from the 25th to the 75th percentile."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    steps, r = eval_matrix(histories)
    (line,) = ax.plot(steps, r.mean(axis=0), color=color, lw=2,
                      label=f"{label} (mean of {len(histories)} seeds)".strip())  # fmt: skip
    ax.fill_between(steps, *np.percentile(r, [25, 75], axis=0), color=line.get_color(), alpha=0.2)
    ax.set(xlabel="environment steps", ylabel="greedy evaluation return", ylim=(0, 520))
    return ax


def plot_variants(runs: Mapping[str, Sequence[History]], title: str = "", ax=None):
    """Several variants on one axis, each as mean ± interquartile band over its seeds."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    for name, histories in runs.items():
        plot_seeds(histories, label=name, ax=ax)
    _solved_line(ax)
    ax.set_title(title)
    _legend_below(ax)
    return ax
