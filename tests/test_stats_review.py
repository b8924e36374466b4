"""prdqn_lib.stats for an expert reviewer: every function against a brute-force or textbook
reference, and every interval that its method cannot give marked as such."""

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

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


def old_bootstrap_ci(x, statistic=np.median, n_resamples=10_000, seed=0):
    """bootstrap_ci as it was before the degenerate marker (scipy's CI, NaN → the point)."""
    x = np.asarray(x, float)
    res = sps.bootstrap(
        (x,),
        statistic,
        n_resamples=n_resamples,
        method="percentile",
        vectorized=False,
        rng=np.random.default_rng(seed),
    )
    point = float(statistic(x))
    low, high = res.confidence_interval
    return (point if np.isnan(low) else float(low)), (point if np.isnan(high) else float(high))


def test_the_old_tuples_are_unchanged_bit_for_bit():
    rng = np.random.default_rng(1)
    rng.normal(size=15)
    samples = [
        rng.exponential(1000, 20),
        [500.0] * 15 + [100, 200, 300, 400, 450],
        rng.integers(0, 3, 10).astype(float),
    ]
    for x in samples:
        for stat in (np.median, S.iqm):
            assert S.bootstrap_ci(x, stat, n_resamples=2000) == old_bootstrap_ci(
                x, stat, n_resamples=2000
            )
    s = S.summarize(samples[0])
    assert s["iqm_ci"] == old_bootstrap_ci(samples[0], S.iqm)
    assert s["median_ci"] == old_bootstrap_ci(samples[0], np.median)


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


# --------------------------------------------------------------------------------- Holm


def brute_holm(p, alpha):
    """Holm's procedure literally: sort, reject while p_(j) ≤ α/(m − j + 1), stop at the first
    failure. Returns the set of rejected indices."""
    m = len(p)
    rejected = set()
    for j, i in enumerate(sorted(range(m), key=lambda k: (p[k], k))):
        if p[i] * (m - j) <= alpha:  # p_(j) ≤ α/(m − j + 1), without rounding α/k
            rejected.add(i)
        else:
            break
    return rejected


def brute_holm_adjusted(p):
    """Adjusted p_i = the smallest α at which the literal procedure rejects H_i. Every
    threshold crossing happens at an α of the form (m − j)·p_k, so try those (α above 1
    included: the adjusted value is then capped at 1)."""
    m = len(p)
    candidates = sorted({(m - j) * pk for j in range(m) for pk in p})
    out = []
    for i in range(m):
        out.append(min(1.0, next(a for a in candidates if i in brute_holm(p, a))))
    return out


pvals = st.lists(
    st.sampled_from([0.0, 0.001, 0.004, 0.01, 0.0125, 0.02, 0.025, 0.03, 0.05, 0.2, 0.5, 1.0])
    | st.floats(0, 1, allow_subnormal=False),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(pvals)
def test_holm_is_the_smallest_alpha_at_which_the_step_down_procedure_rejects(p):
    np.testing.assert_allclose(S.holm(p), brute_holm_adjusted(p), rtol=1e-12, atol=0)


@settings(max_examples=200, deadline=None)
@given(pvals, st.sampled_from([0.01, 0.05, 0.1]))
def test_holm_adjusted_below_alpha_is_exactly_the_procedure(p, alpha):
    adjusted = S.holm(p)
    assert {i for i in range(len(p)) if adjusted[i] <= alpha} == brute_holm(p, alpha)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= 0)  # monotone in the raw p-values
    assert np.all(adjusted >= np.asarray(p)) and np.all(adjusted <= 1)


def test_holm_hand_cases_as_statsmodels_gives_them():
    # statsmodels.stats.multitest.multipletests(p, method="holm")[1], worked by hand:
    # sorted 0.005, 0.01, 0.03, 0.04 → ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04 → running max
    np.testing.assert_allclose(S.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    # 0.01·3 = 0.03, 0.02·2 = 0.04, 0.04·1 = 0.04 (the running max keeps 0.04)
    np.testing.assert_allclose(S.holm([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])
    np.testing.assert_allclose(S.holm([0.3, 0.6]), [0.6, 0.6])  # 0.3·2, max(0.6, 0.6·1)
    np.testing.assert_allclose(S.holm([0.9, 0.8]), [1.0, 1.0])  # capped at 1
    np.testing.assert_allclose(S.holm([0.02]), [0.02])  # a family of one: unadjusted
    with pytest.raises(ValueError):
        S.holm([0.1, 1.5])
    with pytest.raises(ValueError):
        S.holm([np.nan])


def test_primary_comparisons_table():
    rows = S.primary_comparisons(
        {"per-rank vs per-sumtree": 0.004, "per-list vs dqn": 0.03, "per-sumtree vs ddqn": 0.02}
    )
    assert [r["comparison"] for r in rows] == [
        "per-rank vs per-sumtree",
        "per-list vs dqn",
        "per-sumtree vs ddqn",
    ]
    assert [r["p_holm"] for r in rows] == pytest.approx([0.012, 0.04, 0.04])
    assert [r["supported"] for r in rows] == [True, True, True]
    rows = S.primary_comparisons({"a": 0.004, "b": 0.03, "c": 0.04}, alpha=0.05)
    # 0.012, max(0.06, 0.012), max(0.04, 0.06): b and c are not supported at 5%
    assert [r["supported"] for r in rows] == [True, False, False]
    assert rows[0]["p"] == 0.004 and "Holm over 3" in rows[0]["family"]
    with pytest.raises(ValueError):
        S.primary_comparisons({})


# ------------------------------------------------------------------ end of training, shares


def test_end_return_is_the_mean_of_the_last_five():
    r = [9, 500, 500, 100, 500, 480, 490, 300]
    assert S.end_return(r) == pytest.approx((100 + 500 + 480 + 490 + 300) / 5)
    assert S.end_return(r, last=1) == 300
    assert not S.ends_solved(r)  # 374 < 475 although 3 of the last 5 are ≥ 475
    assert S.ends_solved([10, 500, 480, 475, 470, 500])  # mean 485
    assert not S.ends_solved([500, 500, 500, 500, 374])  # mean 474.8
    assert S.ends_solved([475] * 5)  # the threshold itself counts (≥ 475)
    with pytest.raises(ValueError):
        S.end_return([500, 500])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 500), min_size=5, max_size=30), st.integers(1, 5))
def test_end_return_against_the_definition(r, last):
    assert S.end_return(r, last) == pytest.approx(sum(r[-last:]) / last)
    assert S.ends_solved(r, 475, last) == (sum(r[-last:]) / last >= 475)


def wilson_by_hand(k, n, conf=0.95):
    z = sps.norm.ppf(1 - (1 - conf) / 2)
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


def clopper_pearson_by_inversion(k, n, conf=0.95):
    """The exact bounds as the p where a binomial tail equals α/2 (root-finding)."""
    from scipy.optimize import brentq

    a = (1 - conf) / 2
    low = 0.0 if k == 0 else brentq(lambda p: sps.binom.sf(k - 1, n, p) - a, 1e-12, 1 - 1e-12)
    high = 1.0 if k == n else brentq(lambda p: sps.binom.cdf(k, n, p) - a, 1e-12, 1 - 1e-12)
    return low, high


@pytest.mark.parametrize("k,n", [(18, 20), (20, 20), (0, 20), (12, 20), (1, 3), (19, 20)])
def test_proportion_ci_wilson_and_clopper_pearson_by_hand(k, n):
    w = S.proportion_ci(k, n, method="wilson")
    assert w.point == k / n and not w.degenerate
    assert w.bounds == pytest.approx(wilson_by_hand(k, n), abs=1e-12)
    e = S.proportion_ci(k, n, method="exact")
    assert e.bounds == pytest.approx(clopper_pearson_by_inversion(k, n), abs=1e-9)
    assert e.low <= k / n <= e.high


def test_proportion_ci_textbook_values_and_no_runs():
    # 18/20: Wilson [0.699, 0.972]; Clopper–Pearson [0.683, 0.988] (e.g. Newcombe 1998 style)
    assert S.proportion_ci(18, 20).bounds == pytest.approx((0.6990, 0.9721), abs=5e-4)
    assert S.proportion_ci(18, 20, method="exact").bounds == pytest.approx(
        (0.6830, 0.9877), abs=5e-4
    )
    assert S.proportion_ci(0, 0).degenerate
    with pytest.raises(ValueError):
        S.proportion_ci(21, 20)


# --------------------------------------------------------------------------- paired by seed


def brute_sign_flip(d):
    d = np.asarray(d, float)
    t = abs(d.sum())
    count = 0
    for signs in itertools.product([1.0, -1.0], repeat=d.size):
        count += abs(np.dot(signs, d)) >= t - 1e-9 * max(1.0, np.abs(d).sum())
    return count / 2**d.size


small_pairs = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=10)


@settings(max_examples=150, deadline=None)
@given(small_pairs)
def test_sign_flip_p_is_the_share_of_all_sign_flips(pairs):
    x, y = (np.array(v, float) * 500 for v in zip(*pairs, strict=True))
    res = S.paired_difference(x, y, n_resamples=200)
    assert res.exact and res.p_value == pytest.approx(brute_sign_flip(x - y), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(-10, 10, allow_subnormal=False), min_size=1, max_size=11))
def test_sign_flip_p_on_float_differences_keeps_the_observed_pattern(d):
    # float sums in another order differ in the last bit: the observed sign pattern (and its
    # mirror) must still count as "at least as extreme", so p ≥ 2/2^n whenever d ≠ 0
    d = np.array(d)
    res = S.paired_difference(d, np.zeros(d.size), n_resamples=200)
    assert res.p_value == pytest.approx(brute_sign_flip(d), abs=1e-12)
    assert res.p_value >= 2 / 2**d.size - 1e-15


def test_sign_flip_hand_case_with_rounding():
    d = np.array([0.1, 0.2, 0.3, 0.7, 1.1, 1.3])  # sums that round differently by order
    assert S.paired_difference(d, np.zeros(6)).p_value == pytest.approx(2 / 64)


def test_sign_flip_agrees_with_scipy_permutation_test_and_runs_at_twenty_seeds():
    rng = np.random.default_rng(3)
    d = rng.normal(0.3, 1, size=12)
    ref = sps.permutation_test((d,), np.mean, permutation_type="samples", n_resamples=2**12)
    res = S.paired_difference(d, np.zeros(12), n_resamples=500)
    assert res.p_value == pytest.approx(ref.pvalue, abs=1e-12)
    x = rng.integers(10, 30, size=20) * 500.0
    y = x + rng.integers(-4, 8, size=20) * 500.0
    res = S.paired_difference(x, y, n_resamples=2000)
    assert res.exact and 0 <= res.p_value <= 1 and res.n == 20
    assert res.estimate.point == pytest.approx(np.mean(x - y))
    assert res.estimate.low <= res.estimate.point <= res.estimate.high


def test_sign_flip_monte_carlo_beyond_forty_pairs():
    rng = np.random.default_rng(4)
    d = rng.normal(0.0, 1, size=50)
    res = S.paired_difference(d, np.zeros(50), n_resamples=20_000)
    assert not res.exact and "Monte Carlo" in res.test
    # a large-sample reference: the t-test's p (the sign-flip test is asymptotically it)
    assert res.p_value == pytest.approx(sps.ttest_1samp(d, 0).pvalue, abs=0.03)


def test_paired_difference_with_all_pairs_equal_gives_no_interval():
    x = [500.0] * 20
    res = S.paired_difference(x, x)
    assert res.p_value == 1.0 and res.n_zero == 20
    assert res.estimate.degenerate and res.estimate.bounds is None
    res = S.paired_difference(x, x, test="wilcoxon")
    assert res.p_value == 1.0 and res.estimate.degenerate


def test_paired_difference_refuses_unsolved_and_unequal_inputs():
    with pytest.raises(ValueError, match="km_curve"):
        S.paired_difference([1.0, np.inf], [1.0, 2.0])
    with pytest.raises(ValueError):
        S.paired_difference([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        S.paired_difference([1.0, 2.0], [1.0, 3.0], test="t")


def brute_wilcoxon(d):
    """Signed-rank statistic over all 2^n sign flips, zeros dropped, average ranks."""
    d = np.asarray(d, float)
    d = d[d != 0]
    if d.size == 0:
        return 1.0
    r = sps.rankdata(np.abs(d))
    t = r[d > 0].sum()
    stats_ = [
        sum(r[k] for k in range(d.size) if s[k] > 0)
        for s in itertools.product([1, -1], repeat=d.size)
    ]
    stats_ = np.array(stats_)
    return min(1.0, 2 * min(np.mean(stats_ <= t + 1e-9), np.mean(stats_ >= t - 1e-9)))


@settings(max_examples=150, deadline=None)
@given(small_pairs)
def test_wilcoxon_p_against_all_sign_flips_with_ties_and_zeros(pairs):
    x, y = (np.array(v, float) for v in zip(*pairs, strict=True))
    res = S.paired_difference(x, y, test="wilcoxon")
    assert res.p_value == pytest.approx(brute_wilcoxon(x - y), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=1, max_size=25, unique=True))
def test_wilcoxon_without_ties_is_scipys_exact_test(d):
    d = np.array(d)
    d = d[d != 0]
    if d.size == 0 or np.unique(np.abs(d)).size < d.size:
        return
    res = S.paired_difference(d, np.zeros(d.size), test="wilcoxon")
    assert "exact" in res.test
    assert res.p_value == pytest.approx(sps.wilcoxon(d, method="exact").pvalue, rel=1e-9)


def test_wilcoxon_with_ties_agrees_with_scipys_exhaustive_permutation():
    d = np.array([500.0, 500, -500, 1000, 1500, 1500, 0, 2000, -1000, 500])
    ref = sps.wilcoxon(d, method=sps.PermutationMethod(n_resamples=2**10))
    assert S.paired_difference(d, np.zeros(10), test="wilcoxon").p_value == pytest.approx(
        ref.pvalue, abs=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(6, 18), st.integers(0, 10_000), st.sampled_from([0.9, 0.95, 0.99]))
def test_hodges_lehmann_interval_is_the_inverted_exact_wilcoxon_test(n, seed, conf):
    d = np.random.default_rng(seed).normal(1.0, 2.0, size=n)
    hl = S.hodges_lehmann(d, conf)
    i, j = np.triu_indices(n)
    walsh = np.sort((d[i] + d[j]) / 2)
    assert hl.point == pytest.approx(np.median(walsh))
    if hl.degenerate:  # only when the level cannot be reached
        assert 2 * 0.5**n > 1 - conf
        return
    # between two Walsh averages d − θ has no zeros or ties: scipy's exact test applies
    for theta in (walsh[:-1] + walsh[1:]) / 2:
        p = sps.wilcoxon(d - theta, method="exact").pvalue
        inside = hl.low < theta < hl.high
        assert inside == (p > 1 - conf + 1e-12), (theta, p, hl)


def test_hodges_lehmann_too_few_pairs_and_a_textbook_case():
    assert S.hodges_lehmann([1.0, 2, 3, 4, 5]).degenerate  # 2/32 > 5%
    # n = 6 at 95%: P(T⁺ ≤ 0) = 1/64 ≤ 0.025 < P(T⁺ ≤ 1): the extreme Walsh averages
    hl = S.hodges_lehmann([1.0, 2, 3, 4, 5, 6])
    assert (hl.low, hl.high) == (1.0, 6.0) and hl.point == 3.5


# --------------------------------------------------------------------------------- McNemar


def brute_mcnemar(b, c):
    n, k = b + c, min(b, c)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=40))
def test_mcnemar_is_the_binomial_test_on_discordant_seeds(pairs):
    x, y = zip(*pairs, strict=True)
    res = S.mcnemar_exact(x, y)
    b = sum(a and not c for a, c in pairs)
    c = sum(c and not a for a, c in pairs)
    assert (res.only_x, res.only_y) == (b, c)
    assert res.both + res.neither + b + c == len(pairs)
    expected = 1.0 if b + c == 0 else brute_mcnemar(b, c)
    assert res.p_value == pytest.approx(expected, abs=1e-12)


def test_mcnemar_hand_case():
    # 19/20 vs 12/20 ending solved, the 12 among the 19: b = 7, c = 0 → p = 2/2^7 = 0.015625
    x = [True] * 19 + [False]
    y = [True] * 12 + [False] * 8
    res = S.mcnemar_exact(x, y)
    assert (res.only_x, res.only_y, res.both, res.neither) == (7, 0, 12, 1)
    assert res.p_value == pytest.approx(0.015625)
    assert S.mcnemar_exact([True, False], [True, False]).note is not None


# ---------------------------------------------------------------- time to solve, censored


def brute_km(times, observed):
    """Product-limit estimator written from Kaplan & Meier (1958): at each distinct solve time
    t, S ← S·(1 − d/n) with d solves at t and n runs with time ≥ t (solves before censoring
    at a tie). Returns {t: (S just after t, Σ d/(n(n − d)) so far)}."""
    out, s, g = {}, 1.0, 0.0
    for t in sorted(set(times[k] for k in range(len(times)) if observed[k])):
        n = sum(1 for v in times if v >= t)
        d = sum(1 for v, o in zip(times, observed, strict=True) if o and v == t)
        s *= 1 - d / n
        g += d / (n * (n - d)) if n > d else np.inf
        out[t] = (s, g)
    return out


runs = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(1, 20).map(lambda v: v * 500)),
        st.integers(10, 40).map(lambda v: v * 500),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(runs)
def test_km_curve_is_the_product_limit_estimator(rs):
    steps = [s if s is None or s <= b else None for s, b in rs]
    budgets = [b for _, b in rs]
    times = [b if s is None else s for s, b in zip(steps, budgets, strict=True)]
    observed = [s is not None for s in steps]
    ref = brute_km(times, observed)
    curve = S.km_curve(steps, budgets, ci_method="linear")
    if not ref:
        assert curve.steps.size == 0 and curve.reason is not None
        return
    z = sps.norm.ppf(0.975)
    for t, (s, g) in ref.items():
        k = int(np.flatnonzero(curve.steps == t)[0])
        assert curve.solved[k] == pytest.approx(1 - s, abs=1e-12)
        if 0 < s and np.isfinite(g):  # Greenwood's band, clipped to [0, 1]
            half = z * s * math.sqrt(g)
            assert curve.high[k] == pytest.approx(min(1.0, 1 - (s - half)), abs=1e-9)
            assert curve.low[k] == pytest.approx(max(0.0, 1 - (s + half)), abs=1e-9)
    assert curve.n == len(rs) and curve.n_solved == sum(observed)


def test_km_with_one_budget_is_the_plain_share_solved_and_log_log_by_hand():
    steps = [3000, 5000, 5000, 8000, None, None]
    curve = S.km_curve(steps, 10_000)
    np.testing.assert_allclose(curve.steps, [3000, 5000, 8000, 10_000])
    np.testing.assert_allclose(curve.solved, [1 / 6, 3 / 6, 4 / 6, 4 / 6])
    # log-log band (Kalbfleisch & Prentice): S^exp(±z·σ), σ² = Σ d/(n(n−d)) / (ln S)²
    z = sps.norm.ppf(0.975)
    for k, (s, g) in enumerate(
        [(5 / 6, 1 / 30), (3 / 6, 1 / 30 + 2 / 15), (2 / 6, 1 / 30 + 2 / 15 + 1 / 6)]
    ):
        sigma = math.sqrt(g) / abs(math.log(s))
        assert curve.high[k] == pytest.approx(1 - s ** math.exp(z * sigma), abs=1e-9)
        assert curve.low[k] == pytest.approx(1 - s ** math.exp(-z * sigma), abs=1e-9)
    assert np.all((0 <= curve.low) & (curve.low <= curve.solved) & (curve.solved <= curve.high))


def test_km_band_is_nan_not_a_fake_interval_where_every_seed_solved():
    curve = S.km_curve([10, 20, 30], 100)
    assert curve.solved[-1] == 1.0 and np.isnan(curve.low[-1]) and np.isnan(curve.high[-1])
    with pytest.raises(ValueError):
        S.km_curve([200], 100)  # a solve after the budget


def brute_area(steps, budgets, tau):
    """∫₀^τ S(t) dt of the brute product-limit curve, on a 1-step grid (the times are
    multiples of 500, so the sum is exact)."""
    times = [b if s is None else s for s, b in zip(steps, budgets, strict=True)]
    ref = brute_km(times, [s is not None for s in steps])
    grid = np.arange(0, int(tau), 1)
    surv = np.ones(grid.size)
    for t, (s, _) in ref.items():
        surv[grid >= t] = s
    return surv.sum()


@settings(max_examples=60, deadline=None)
@given(runs)
def test_restricted_mean_time_is_the_area_under_the_curve(rs):
    steps = [s if s is None or s <= b else None for s, b in rs]
    budgets = [b for _, b in rs]
    tau = min(budgets)
    assert S.restricted_mean_time(steps, budgets) == pytest.approx(
        brute_area(steps, budgets, tau), rel=1e-9
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 100)), min_size=1, max_size=30))
def test_restricted_mean_time_with_one_budget_is_the_mean_of_capped_times(steps):
    capped = [100 if s is None else min(s, 100) for s in steps]
    assert S.restricted_mean_time(steps, 100) == pytest.approx(np.mean(capped), rel=1e-12)
    assert S.restricted_mean_time(steps, 100, tau=50) == pytest.approx(
        np.mean([min(c, 50) for c in capped]), rel=1e-12
    )


def brute_logrank(a, b, budget, budget_b=None):
    """Mantel's (1966) statistic by hand: Σ(O − E)/sqrt(ΣV) over the distinct solve times;
    a budget may be one per seed."""
    budget_b = budget if budget_b is None else budget_b
    ba = np.broadcast_to(budget, (len(a),))
    bb = np.broadcast_to(budget_b, (len(b),))
    ta = [q if s is None else s for s, q in zip(a, ba, strict=True)]
    tb = [q if s is None else s for s, q in zip(b, bb, strict=True)]
    oa, ob = [s is not None for s in a], [s is not None for s in b]
    o_e = v = 0.0
    for t in sorted({s for s in a + b if s is not None}):
        na, nb = sum(x >= t for x in ta), sum(x >= t for x in tb)
        da = sum(x == t and o for x, o in zip(ta, oa, strict=True))
        db = sum(x == t and o for x, o in zip(tb, ob, strict=True))
        n, d = na + nb, da + db
        o_e += da - na * d / n
        if n > 1:
            v += na * nb * d * (n - d) / (n * n * (n - 1))
    if v == 0:
        return None
    z = o_e / math.sqrt(v)
    return z, 2 * sps.norm.sf(abs(z))


group = st.lists(
    st.one_of(st.none(), st.integers(1, 12).map(lambda v: v * 1000)), min_size=2, max_size=12
)


@settings(max_examples=120, deadline=None)
@given(group, group)
def test_logrank_against_mantels_formula(a, b):
    res = S.logrank_test(a, b, 20_000)
    if all(s is None for s in a + b):
        assert res.p_value == 1.0 and res.note
        return
    ref = brute_logrank(a, b, 20_000)
    if ref is None:  # no variance: e.g. every run solves at one step
        assert res.p_value == 1.0 and res.statistic == 0.0 and res.note
        return
    z, p = ref
    assert res.statistic == pytest.approx(z, rel=1e-9, abs=1e-12)  # + : a solves sooner
    assert res.p_value == pytest.approx(p, rel=1e-9, abs=1e-12)


@settings(max_examples=120, deadline=None)
@given(group, group, st.data())
def test_logrank_with_per_seed_budgets_censors_each_run_at_its_own(a, b, data):
    # runs stopped early (e.g. interrupted) are censored in the middle of the curve; a
    # censored run must leave the risk set without counting as a solve
    ba = data.draw(
        st.lists(st.integers(3, 20).map(lambda v: v * 1000), min_size=len(a), max_size=len(a))
    )
    bb = data.draw(
        st.lists(st.integers(3, 20).map(lambda v: v * 1000), min_size=len(b), max_size=len(b))
    )
    a = [s if s is not None and s <= q else None for s, q in zip(a, ba, strict=True)]
    b = [s if s is not None and s <= q else None for s, q in zip(b, bb, strict=True)]
    res = S.logrank_test(a, b, ba, bb)
    ref = brute_logrank(a, b, ba, bb) if any(s is not None for s in a + b) else None
    if ref is None:
        assert res.p_value == 1.0 and res.note
        return
    assert res.statistic == pytest.approx(ref[0], rel=1e-9, abs=1e-12)
    assert res.p_value == pytest.approx(ref[1], rel=1e-9, abs=1e-12)


def test_logrank_hand_case_with_a_run_censored_early():
    # a: solves at 2k and 6k, one run stopped at 3k; b: solves at 4k, two runs to 10k unsolved.
    # t=2k: n=6 (a 3, b 3), d=1 in a: O−E = 1 − 3/6, V = 3·3·1·5/(36·5) = 1/4
    # t=4k: n=4 (a 1, b 3; a's 3k run has left), d=1 in b: O−E = 0 − 1/4, V = 1·3·1·3/(16·3)
    # t=6k: n=3 (a 1, b 2), d=1 in a: O−E = 1 − 1/3, V = 1·2·1·2/(9·2)
    res = S.logrank_test([2000, 6000, None], [4000, None, None], [10_000, 10_000, 3000], 10_000)
    o_e = 0.5 - 0.25 + 2 / 3
    v = 0.25 + 3 / 16 + 2 / 9
    assert res.statistic == pytest.approx(o_e / math.sqrt(v))


def test_logrank_without_variance_says_so():
    res = S.logrank_test([1000, 1000], [1000, 1000], 20_000)
    assert res.p_value == 1.0 and "zero variance" in res.note


def test_logrank_separates_fast_from_never():
    fast = [5000 + 500 * k for k in range(20)]
    never = [None] * 18 + [40_000, 45_000]
    res = S.logrank_test(fast, never, 50_000)
    assert res.p_value < 1e-6 and res.solved == (20, 2)


# ------------------------------------------- probability of improvement, performance profiles


def brute_poi(x, y):
    total = 0.0
    for a in x:
        for b in y:
            total += 1.0 if a > b else 0.5 if a == b else 0.0
    return total / (len(x) * len(y))


scores = st.lists(
    st.sampled_from([9.0, 100.0, 250.0, 474.0, 500.0]) | st.floats(0, 500), min_size=1, max_size=12
)


@settings(max_examples=200, deadline=None)
@given(scores, scores)
def test_probability_of_improvement_counts_pairs(x, y):
    res = S.probability_of_improvement(x, y, n_resamples=50)
    assert res.point == pytest.approx(brute_poi(x, y), abs=1e-12)
    # the Mann–Whitney U of x over y, divided by n·m (scipy's U1 counts ties as ½)
    u = sps.mannwhitneyu(x, y).statistic
    assert res.point == pytest.approx(u / (len(x) * len(y)), abs=1e-12)


def test_probability_of_improvement_averages_over_tasks_like_rliable():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, size=(10, 3)).astype(float)
    y = rng.integers(0, 6, size=(8, 3)).astype(float)
    expected = np.mean([brute_poi(x[:, t], y[:, t]) for t in range(3)])
    assert S.probability_of_improvement(x, y, n_resamples=200).point == pytest.approx(expected)
    rly = pytest.importorskip("rliable.metrics")  # PYTHONPATH with `pip install --target`
    assert S.probability_of_improvement(x, y, n_resamples=200).point == pytest.approx(
        rly.probability_of_improvement(x, y)
    )


def test_poi_bootstrap_is_scipys_two_sample_bootstrap_for_one_task():
    rng = np.random.default_rng(6)
    x, y = rng.normal(1, 1, size=15), rng.normal(0, 1, size=12)
    ours = S.probability_of_improvement(x, y, n_resamples=4000, seed=1)
    ref = sps.bootstrap(
        (x, y),
        brute_poi,
        vectorized=False,
        n_resamples=4000,
        method="percentile",
        rng=np.random.default_rng(2),
    )
    assert ours.low == pytest.approx(ref.confidence_interval.low, abs=0.02)
    assert ours.high == pytest.approx(ref.confidence_interval.high, abs=0.02)


def test_poi_of_a_clean_sweep_has_no_interval():
    res = S.probability_of_improvement([500.0] * 20, [100.0] * 20)
    assert res.point == 1.0 and res.degenerate and res.bounds is None
    res = S.probability_of_improvement([500.0] * 20, [500.0] * 20)
    assert res.point == 0.5 and res.degenerate


@settings(max_examples=80, deadline=None)
@given(scores, st.lists(st.floats(0, 500), min_size=1, max_size=6))
def test_performance_profile_counts_runs_above_tau(x, taus):
    prof = S.performance_profile(x, taus)
    for i, t in enumerate(taus):
        k = sum(v > t for v in x)
        assert prof.fraction[i] == pytest.approx(k / len(x))
        ci = S.proportion_ci(k, len(x))
        assert (prof.low[i], prof.high[i]) == pytest.approx(ci.bounds)
    assert not prof.degenerate.any()


def test_performance_profile_bootstrap_is_binomial_for_one_task_and_degenerate_at_the_ends():
    x = np.random.default_rng(7).uniform(0, 500, size=40)
    taus = [-1.0, 100.0, 250.0, 500.0]
    prof = S.performance_profile(x, taus, method="bootstrap", n_resamples=8000)
    assert prof.degenerate.tolist() == [True, False, False, True]  # all above / none above
    assert np.isnan(prof.low[0]) and np.isnan(prof.high[3])
    for i in (1, 2):  # resampled share ~ Binomial(n, F)/n: its 2.5% and 97.5% quantiles
        n, f = x.size, prof.fraction[i]
        assert prof.low[i] == pytest.approx(sps.binom.ppf(0.025, n, f) / n, abs=1.5 / n)
        assert prof.high[i] == pytest.approx(sps.binom.ppf(0.975, n, f) / n, abs=1.5 / n)
    two = S.performance_profile(np.c_[x, x[::-1]], taus, method="bootstrap", n_resamples=500)
    np.testing.assert_allclose(two.fraction, prof.fraction)
    with pytest.raises(ValueError, match="bootstrap"):
        S.performance_profile(np.c_[x, x], taus)
