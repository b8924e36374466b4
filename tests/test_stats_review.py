"""prdqn_lib.stats for an expert reviewer: every function against a brute-force or textbook
reference, and every interval that its method cannot give marked as such."""

import warnings

import numpy as np
import pytest

from prdqn_lib import stats as S

warnings.filterwarnings("ignore", category=RuntimeWarning)


# ---------------------------------------------------------------- degenerate bootstrap intervals


def test_bootstrap_ci_marks_a_ceiling_as_no_interval_and_keeps_the_old_tuple():
    x = [500.0] * 20
    assert S.bootstrap_ci(x) == (500.0, 500.0)  # the old callers' tuple, unchanged
    ci = S.bootstrap_ci(x, details=True)
    assert ci.degenerate and ci.bounds is None and ci.low is None and ci.high is None
    assert "all 10000 resamples give 500" in ci.reason
    assert ci.point == 500.0 and "no interval" in ci.format()


def test_every_seed_unsolved_is_no_interval_either():
    ci = S.bootstrap_ci([np.inf] * 20, details=True)
    assert ci.degenerate and "∞" in ci.reason and ci.point == np.inf


def test_a_zero_width_interval_from_a_tied_majority_is_degenerate():
    # 15 of 20 at the ceiling: the resampled median is 500 in ~99% of resamples
    x = [500.0] * 15 + [100, 200, 300, 400, 450]
    assert S.bootstrap_ci(x) == (500.0, 500.0)
    ci = S.bootstrap_ci(x, details=True)
    assert ci.degenerate and "zero width" in ci.reason and "proportion_ci" in ci.reason


def test_one_value_is_no_interval():
    ci = S.bootstrap_ci([3.0], details=True)
    assert ci.degenerate and "nothing to resample" in ci.reason
    assert S.bootstrap_ci([3.0]) == (3.0, 3.0)


def test_a_working_bootstrap_is_not_marked_and_matches_the_old_tuple():
    x = np.random.default_rng(0).exponential(1000, size=20)
    ci = S.bootstrap_ci(x, details=True)
    assert not ci.degenerate and ci.reason is None
    assert ci.bounds == pytest.approx(S.bootstrap_ci(x), rel=1e-12)
    assert ci.low <= ci.point <= ci.high


def test_an_infinite_bound_is_a_bound_not_a_degenerate_interval():
    x = [9000.0, 10000, 11000, 12000, 13000] + [np.inf] * 5
    ci = S.bootstrap_ci(x, details=True)
    assert not ci.degenerate and ci.high == np.inf and np.isfinite(ci.low)
    assert "∞]" in ci.format()


def test_percentile_next_to_infinity_is_exact_not_nan():
    # numpy's linear interpolation gives NaN here; the true 50th percentile is 2
    assert np.isnan(np.percentile([1.0, 2.0, np.inf], 50))
    assert S._percentile(np.array([1.0, 2.0, np.inf]), 50) == 2.0
    assert S._percentile(np.array([1.0, 2.0, np.inf]), 75) == np.inf
    finite = np.random.default_rng(1).normal(size=101)
    for q in (2.5, 50, 97.5):
        assert S._percentile(finite, q) == np.percentile(finite, q)


def test_summarize_adds_the_flags_beside_the_old_fields():
    s = S.summarize([500.0] * 20)
    assert s["median_ci"] == (500.0, 500.0) and s["iqm_ci"] == (500.0, 500.0)
    assert s["median_ci_degenerate"] and s["iqm_ci_degenerate"]
    assert "500" in s["median_ci_reason"]
    s = S.summarize(np.random.default_rng(2).exponential(1000, size=20))
    assert not s["median_ci_degenerate"] and s["median_ci_reason"] is None
    assert {"n", "median", "median_ci", "iqm", "iqm_ci"} <= set(s)


def test_difference_ci_details_marks_identical_and_undefined_differences():
    assert S.difference_ci([500.0] * 20, [500.0] * 20) == (0.0, 0.0, 0.0)  # old tuple
    ci = S.difference_ci([500.0] * 20, [500.0] * 20, details=True)
    assert ci.degenerate and ci.bounds is None
    ci = S.difference_ci([np.inf] * 3 + [1.0, 2.0], [np.inf] * 4 + [2.0], details=True)
    assert ci.degenerate and "undefined" in ci.reason
    rng = np.random.default_rng(1)
    a = rng.normal(100, 5, size=20)
    ci = S.difference_ci(a + 50, a, n_resamples=2000, details=True)
    assert not ci.degenerate and ci.low > 0 and ci.point == pytest.approx(50)
