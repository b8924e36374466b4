"""Run statistics: solve step, stability after solving, and bootstrap confidence intervals.

The summaries of a set of seeds follow Agarwal et al. (2021), "Deep RL at the edge of the
statistical precipice": report the median and the interquartile mean (IQM, the mean of the
middle 50% of runs) with bootstrap 95% confidence intervals, and show every seed's point.
The bootstrap is scipy's (``scipy.stats.bootstrap``, percentile method), not hand-rolled.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["iqm", "bootstrap_ci", "difference_ci", "solve_index", "stability", "summarize"]

SOLVED_RETURN = 475.0  # CartPole-v1's reward threshold


def iqm(x) -> float:
    """Interquartile mean: the mean of the middle 50% of the values (25% trimmed each side).

    Unlike the median it uses half the data; unlike the mean one outlier cannot move it much.
    ``inf`` values (e.g. "not solved within the budget") are allowed and sort last.
    """
    from scipy.stats import trim_mean

    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return float("nan")
    return float(trim_mean(x, 0.25))


def bootstrap_ci(
    x, statistic=np.median, confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``statistic`` over the runs ``x``.

    Returns (low, high). With fewer than 2 values, or a statistic that is the same on every
    resample, the interval collapses to the point estimate.
    """
    import warnings

    from scipy.stats import bootstrap

    x = np.asarray(x, dtype=float)
    if x.size < 2:
        value = float(statistic(x)) if x.size else float("nan")
        return value, value
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        # inf (unsolved) values make some resample spreads NaN: harmless for percentiles
        warnings.simplefilter("ignore", RuntimeWarning)
        res = bootstrap(
            (x,),
            statistic,
            confidence_level=confidence,
            n_resamples=n_resamples,
            method="percentile",
            vectorized=False,
            rng=np.random.default_rng(seed),
        )
    low, high = res.confidence_interval
    point = float(statistic(x))
    # a degenerate bootstrap distribution gives NaN bounds: the interval is the point
    low = point if np.isnan(low) else float(low)
    high = point if np.isnan(high) else float(high)
    return low, high


def difference_ci(
    x, y, statistic=np.median, confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> tuple[float, float, float]:
    """statistic(x) − statistic(y) and its percentile-bootstrap CI, resampling x and y apart.

    Returns (difference, low, high). A CI that contains 0 means the data cannot tell the two
    apart at this confidence: say "no detectable difference", not "A beats B".
    """
    import warnings

    from scipy.stats import bootstrap

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def diff(a, b):
        return statistic(a) - statistic(b)

    point = float(diff(x, y))
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        res = bootstrap((x, y), diff, confidence_level=confidence, n_resamples=n_resamples,
                        method="percentile", vectorized=False,
                        rng=np.random.default_rng(seed))  # fmt: skip
    low, high = res.confidence_interval
    return point, float(low), float(high)


def solve_index(returns: Sequence[float], threshold: float = SOLVED_RETURN, consecutive: int = 2):
    """Index of the first of ``consecutive`` evaluations in a row ≥ threshold, or None."""
    run = 0
    for k, r in enumerate(returns):
        run = run + 1 if r >= threshold else 0
        if run == consecutive:
            return k - consecutive + 1
    return None


def stability(
    returns: Sequence[float], threshold: float = SOLVED_RETURN, consecutive: int = 2
) -> tuple[int, int]:
    """(evaluations ≥ threshold, evaluations counted) after the solve.

    Counting starts at the third evaluation after the solve began: the ``consecutive``
    evaluations that *define* the solve are ≥ threshold by construction and are not counted.
    (0, 0) if the run never solved or ended right after solving.
    """
    k = solve_index(returns, threshold, consecutive)
    if k is None:
        return 0, 0
    later = np.asarray(returns[k + consecutive :], dtype=float)
    return int((later >= threshold).sum()), int(later.size)


def summarize(values, seed: int = 0) -> dict:
    """Median and IQM with bootstrap 95% CIs of one measure over seeds (inf allowed)."""
    x = np.asarray(values, dtype=float)
    med_ci = bootstrap_ci(x, np.median, seed=seed)
    iqm_ci = bootstrap_ci(x, iqm, seed=seed)
    return {
        "n": int(x.size),
        "median": float(np.median(x)) if x.size else float("nan"),
        "median_ci": med_ci,
        "iqm": iqm(x),
        "iqm_ci": iqm_ci,
    }
