"""SumTree against a brute-force cumsum/searchsorted reference."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prdqn_lib import SumTree


class Reference:
    """The obvious O(N) implementation: a flat array of leaves."""

    def __init__(self, capacity):
        self.leaves = np.zeros(capacity)
        self.written = np.zeros(capacity, dtype=bool)

    def update(self, indices, priorities):
        for i, p in zip(indices, priorities, strict=True):  # in order: last write wins
            self.leaves[i] = p
            self.written[i] = True

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
        expected_min = ref.leaves[ref.written].min() if ref.written.any() else math.inf
        assert tree.min == expected_min
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
    idx, w = tree.stratified_sample(rng.random(64), capacity, beta)
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


@pytest.mark.parametrize("capacity", [0, -3, 2.5, "8", None, True])
def test_bad_capacity(capacity):
    with pytest.raises(ValueError, match="capacity"):
        SumTree(capacity)


@pytest.mark.parametrize(
    ("indices", "priorities", "match"),
    [
        ([0, 1], [1.0, -0.5], "priorities"),
        ([0, 1], [1.0, np.nan], "priorities"),
        ([0, 1], [np.inf, 1.0], "priorities"),
        ([0, 10], [1.0, 1.0], "indices"),
        ([-1, 0], [1.0, 1.0], "indices"),
        ([0.5], [1.0], "indices"),
        ([0, 1], [1.0], "same length"),
    ],
)
def test_bad_update_raises_and_leaves_tree_unchanged(indices, priorities, match):
    tree = SumTree(10)
    tree.update(np.arange(10), np.arange(10.0) + 1)
    before = (tree._sums.copy(), tree._mins.copy())
    with pytest.raises(ValueError, match=match):
        tree.update(indices, priorities)
    np.testing.assert_array_equal(tree._sums, before[0])
    np.testing.assert_array_equal(tree._mins, before[1])


@pytest.mark.parametrize("value", [-1e-9, 55.0 + 1e-6, np.nan, np.inf])
def test_find_rejects_values_outside_the_total(value):
    tree = SumTree(10)
    tree.update(np.arange(10), np.arange(10.0) + 1)  # total 55
    with pytest.raises(ValueError, match="values"):
        tree.find([1.0, value])


def test_find_and_sample_on_an_empty_tree():
    tree = SumTree(4)
    with pytest.raises(ValueError, match="total"):
        tree.find([0.0])
    with pytest.raises(ValueError, match="total"):
        tree.stratified_sample(np.array([0.5]), 1, 0.4)


def test_priorities_rejects_out_of_range():
    with pytest.raises(ValueError, match="indices"):
        SumTree(4).priorities([4])
