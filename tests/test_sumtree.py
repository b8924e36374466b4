"""SumTree against a brute-force cumsum/searchsorted reference."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prdqn_lib import SumTree


class Reference:
    """The obvious O(N) implementation: a flat array of leaves."""

    def __init__(self, capacity):
        self.leaves = np.zeros(capacity)

    def update(self, indices, priorities):
        for i, p in zip(indices, priorities, strict=True):  # in order: last write wins
            self.leaves[i] = p

    def find(self, values):
        return np.searchsorted(np.cumsum(self.leaves), values, side="right")


@st.composite
def update_sequences(draw):
    """A capacity (rarely a power of two) and batches of updates with duplicates and zeros.

    Integer-valued priorities keep every partial sum exact in float64, so the tree and the
    reference must agree exactly, boundaries included.
    """
    capacity = draw(st.integers(1, 70))
    n_batches = draw(st.integers(1, 6))
    batches = []
    for _ in range(n_batches):
        size = draw(st.integers(1, 12))
        idx = draw(st.lists(st.integers(0, capacity - 1), min_size=size, max_size=size))
        pri = draw(st.lists(st.integers(0, 50).map(float), min_size=size, max_size=size))
        batches.append((idx, pri))
    return capacity, batches


@settings(max_examples=300, deadline=None)
@given(update_sequences(), st.randoms(use_true_random=False))
def test_matches_brute_force_reference(case, rnd):
    capacity, batches = case
    tree, ref = SumTree(capacity), Reference(capacity)
    for idx, pri in batches:
        tree.update(idx, pri)
        ref.update(idx, pri)
        np.testing.assert_array_equal(tree.priorities(np.arange(capacity)), ref.leaves)
        assert tree.total == ref.leaves.sum()
        positive = ref.leaves[ref.leaves > 0]  # zero leaves are never sampled: not the min
        assert tree.min == (positive.min() if positive.size else math.inf)
    if tree.total == 0:
        with pytest.raises(ValueError, match="total"):
            tree.find([0.0])
        return
    cumsum = np.cumsum(ref.leaves)
    # every boundary (0 and each exact cumulative sum below the total), plus random interiors
    values = np.concatenate(
        [[0.0], cumsum[cumsum < tree.total], [rnd.uniform(0, tree.total) for _ in range(20)]]
    )
    values = values[values < tree.total]  # the reference's intervals are half-open
    np.testing.assert_array_equal(tree.find(values), ref.find(values))
    # v == total maps to the last leaf with a positive priority
    assert tree.find([tree.total])[0] == np.flatnonzero(ref.leaves)[-1]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 300),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 0.9),
)
def test_float_priorities_never_return_an_empty_leaf(capacity, seed, zero_share):
    """Arbitrary floats: the leaf found holds v (up to rounding) and is never empty."""
    rng = np.random.default_rng(seed)
    pri = rng.exponential(size=capacity) * (rng.random(capacity) >= zero_share)
    pri[rng.integers(capacity)] = rng.exponential() + 1e-3  # at least one positive leaf
    tree = SumTree(capacity)
    tree.update(np.arange(capacity), pri)
    total = tree.total
    cumsum = np.cumsum(pri)
    values = np.concatenate(
        [
            rng.uniform(0, total, 200),
            [0.0, total, np.nextafter(total, 0), np.nextafter(total, 0) * (1 - 1e-15)],
            cumsum[cumsum <= total],
            np.nextafter(cumsum[cumsum <= total], 0),
        ]
    )
    found = tree.find(values)
    assert ((found >= 0) & (found < capacity)).all()
    assert (pri[found] > 0).all()
    lower = np.concatenate([[0.0], cumsum])[found]
    tol = 1e-12 * total
    assert (lower - tol <= values).all()
    assert (values < cumsum[found] + tol).all()


def test_boundaries_on_a_non_power_of_two_tree_with_zero_leaves():
    capacity = 1000  # 1024 leaves: 24 padding leaves with priority 0
    pri = np.zeros(capacity)
    pri[::7] = np.float32(0.1)  # float32-rounded values do not sum exactly in float64
    pri[-1] = 0.0
    tree = SumTree(capacity)
    tree.update(np.arange(capacity), pri)
    total = tree.total
    cumsum = np.cumsum(pri)
    values = np.concatenate([[0.0, total, np.nextafter(total, 0)], cumsum, np.nextafter(cumsum, 0)])
    values = values[values <= total]
    found = tree.find(values)
    assert found.max() < capacity
    assert (pri[found] > 0).all()
    assert tree.find([total])[0] == np.flatnonzero(pri)[-1]


def test_single_leaf_tree():
    tree = SumTree(1)
    tree.update([0], [2.5])
    assert tree.total == 2.5
    np.testing.assert_array_equal(tree.find([0.0, 1.0, 2.5]), [0, 0, 0])


def test_no_drift_after_many_batch_updates():
    """10^5 batch updates of random magnitudes; total stays within 1e-9 of the exact sum.

    Guaranteed by construction: each parent is recomputed as left + right rather than adjusted
    by a delta, so the root is a fresh tree-shaped sum of the current leaves (error ~ log2(N)·ε
    relative), however many updates came before.
    """
    rng = np.random.default_rng(0)
    capacity = 3000
    tree = SumTree(capacity)
    for _ in range(100_000):
        idx = rng.integers(0, capacity, 16)
        pri = rng.exponential(size=16) * 10.0 ** rng.integers(-6, 7, 16)
        tree.update(idx, pri)
    leaves = tree.priorities(np.arange(capacity))
    exact = math.fsum(leaves)
    assert abs(tree.total - exact) <= 1e-9 * exact
    assert tree.min == leaves.min()  # 1.6M writes over 3000 leaves: every leaf was written


def test_duplicate_indices_last_write_wins():
    tree = SumTree(4)
    tree.update([1, 1, 1, 2], [5.0, 7.0, 3.0, 1.0])
    assert tree[1] == 3.0
    assert tree.total == 4.0


def test_scalar_and_array_reads():
    tree = SumTree(3)
    tree.update(np.array([0, 2]), np.array([1.5, 2.5]))
    assert tree[2] == 2.5
    np.testing.assert_array_equal(tree[[0, 1, 2]], [1.5, 0.0, 2.5])
    assert len(tree) == 3


def test_stratified_sample_weights_follow_the_formula():
    rng = np.random.default_rng(1)
    capacity = 37
    pri = rng.uniform(0.1, 3.0, capacity)
    tree = SumTree(capacity)
    tree.update(np.arange(capacity), pri)
    beta = 0.55
    idx, w = tree.stratified_sample(rng.random(64), beta)
    prob = pri / pri.sum()
    expected = (capacity * prob[idx]) ** -beta / (capacity * prob.min()) ** -beta
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    assert (w <= 1.0).all()
    # one value per segment: segment k of [0, total) holds the k-th value
    cumsum = np.cumsum(pri)
    seg = pri.sum() / 64
    lower = np.concatenate([[0.0], cumsum])[idx]
    assert (lower <= (np.arange(64) + 1) * seg + 1e-12).all()
    assert (cumsum[idx] >= np.arange(64) * seg - 1e-12).all()


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("capacity", [0, -3])
def test_bad_capacity(capacity):
    with pytest.raises(ValueError, match=f"capacity must be a positive integer, got {capacity}"):
        SumTree(capacity)


@pytest.mark.parametrize("capacity", [2.5, "8", None, True])
def test_capacity_of_the_wrong_type(capacity):
    with pytest.raises(TypeError, match="capacity must be a positive integer, got"):
        SumTree(capacity)


@pytest.mark.parametrize(
    ("indices", "priorities", "match"),
    [
        ([0, 1], [1.0, -0.5], r"priorities .* got -0\.5 \(priorities\[1\]\)"),
        ([0, 1], [1.0, np.nan], r"priorities .* got nan"),
        ([0, 1], [np.inf, 1.0], r"priorities .* got inf \(priorities\[0\]\)"),
        ([0, 1], [1e308, 1e308], r"priority_limit=1\.1\d*e\+307, got 1e\+308"),  # total: inf
        ([0, 10], [1.0, 1.0], r"indices must lie in \[0, 10\), got 10 \(indices\[1\]\)"),
        ([-1, 0], [1.0, 1.0], r"indices must lie in \[0, 10\), got -1"),
        (np.array([2**63], dtype=np.uint64), [1.0], r"got 9223372036854775808$"),
        ([2**64], [1.0], r"got 18446744073709551616$"),
        ([0, 1], [1.0], "same length"),
        ([0.5], [1.0], TypeError),
        ([True], [1.0], TypeError),
        ([0], ["a"], TypeError),
        ([0], [None], TypeError),
    ],
)
def test_bad_update_raises_and_leaves_tree_unchanged(indices, priorities, match):
    tree = SumTree(10)
    tree.update(np.arange(10), np.arange(10.0) + 1)
    before = (tree._sums.copy(), tree._mins.copy())
    error = match if isinstance(match, type) else ValueError
    with pytest.raises(error, match=None if isinstance(match, type) else match):
        tree.update(indices, priorities)
    np.testing.assert_array_equal(tree._sums, before[0])
    np.testing.assert_array_equal(tree._mins, before[1])


@pytest.mark.parametrize("value", [-1e-9, 55.0 + 1e-6, np.nan, np.inf])
def test_find_rejects_values_outside_the_total(value):
    tree = SumTree(10)
    tree.update(np.arange(10), np.arange(10.0) + 1)  # total 55
    shown = re.escape(f"got {value!r} (values[1])")
    with pytest.raises(ValueError, match=r"values must lie in \[0, total=55\.0\], " + shown):
        tree.find([1.0, value])


def test_find_and_sample_on_an_empty_tree():
    tree = SumTree(4)
    with pytest.raises(ValueError, match="total"):
        tree.find([0.0])
    with pytest.raises(ValueError, match="total"):
        tree.stratified_sample(np.array([0.5]), 0.4)


def test_priorities_rejects_out_of_range():
    with pytest.raises(ValueError, match="indices"):
        SumTree(4).priorities([4])


def test_min_is_the_smallest_positive_priority():
    """A zero leaf is never sampled, so it must not be the min that normalises the weights."""
    tree = SumTree(4)
    assert tree.min == math.inf
    tree.update([0, 1, 2], [0.0, 2.0, 0.5])
    assert tree.min == 0.5
    tree.update([2], [0.0])
    assert tree.min == 2.0
    tree.update([1], [0.0])
    assert tree.min == math.inf and tree.total == 0.0


def test_a_zero_leaf_does_not_zero_the_weights():
    tree = SumTree(4)
    tree.update([0, 1, 2, 3], [0.0, 1.0, 2.0, 4.0])
    idx, w = tree.stratified_sample(np.linspace(0, 0.99, 7), 1.0)
    assert (idx > 0).all()  # the zero leaf is never drawn
    np.testing.assert_allclose(w, 1.0 / tree[idx])  # (p_i / p_min)^-β with p_min = 1
    assert w.max() == 1.0


def test_priorities_up_to_the_limit_keep_the_total_finite():
    tree = SumTree(5)  # 8 leaves
    assert tree.priority_limit == np.finfo(np.float64).max / 8
    tree.update(np.arange(5), np.full(5, tree.priority_limit))
    assert math.isfinite(tree.total) and tree.total == 5 * tree.priority_limit
    idx, w = tree.stratified_sample(np.full(3, 0.5), 0.4)
    assert np.isfinite(w).all() and (w == 1.0).all()
    with pytest.raises(ValueError, match="priority_limit"):
        tree.update([0], [np.nextafter(tree.priority_limit, np.inf)])


def test_weights_of_priorities_far_apart_stay_finite():
    """(N·P_min)^-β would underflow to 0/0 here; (p_i / p_min)^-β does not."""
    tree = SumTree(2)
    tree.update([0, 1], [1e-300, 1e300])
    idx, w = tree.stratified_sample(np.array([0.0, 0.999]), 1.0)
    assert list(idx) == [0, 1]  # v = 0 lies in leaf 0's interval [0, 1e-300)
    assert list(w) == [1.0, 0.0]  # (1e300 / 1e-300)^-1 rounds to 0: never NaN
    idx, w = tree.stratified_sample(np.array([0.0, 0.999]), 0.0)
    assert (w == 1.0).all()


@pytest.mark.parametrize(
    ("uniforms", "beta", "error", "match"),
    [
        (
            [0.5, 1.0],
            0.4,
            ValueError,
            r"uniforms must lie in \[0, 1\), got 1\.0 \(uniforms\[1\]\)",
        ),
        ([-0.1], 0.4, ValueError, r"got -0\.1 \(uniforms\[0\]\)"),
        ([np.nan], 0.4, ValueError, r"uniforms .* got nan"),
        ([], 0.4, ValueError, "uniforms"),
        (["a"], 0.4, TypeError, "uniforms"),
        ([0.5], np.nan, ValueError, "beta must be finite, got nan"),
        ([0.5], -2, ValueError, r"beta must lie in \[0, 1\], got -2"),
        ([0.5], 1.5, ValueError, r"beta must lie in \[0, 1\], got 1\.5"),
        ([0.5], None, TypeError, "beta must be a real number, got None"),
    ],
)
def test_stratified_sample_checks_its_arguments(uniforms, beta, error, match):
    tree = SumTree(4)
    tree.update([0, 1, 2, 3], [0.0, 1.0, 2.0, 4.0])
    with pytest.raises(error, match=match):
        tree.stratified_sample(uniforms, beta)


def test_reads_check_their_indices():
    tree = SumTree(4)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\), got -1"):
        tree[-1]
    with pytest.raises(TypeError, match="indices must be integers, got 1.5"):
        tree[1.5]
