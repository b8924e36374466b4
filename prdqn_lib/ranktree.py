"""An order-statistics tree (a treap) that keeps the replay memory sorted by |δ|, exactly.

Rank-based prioritization needs two things per gradient step: the transition of a given rank
(to sample it) and a re-ranking of the B transitions whose |δ| just changed. A sorted array
costs O(N) per change; the PER paper uses a binary heap as an *approximately* sorted array
and re-sorts it every so often. A treap answers both exactly, in expected O(log N):

* every stored transition is one node; nodes are ordered by rank (|δ| largest first);
* every node also has a random heap priority, fixed per slot, and parents outrank children in
  it, which keeps the tree's expected depth below 2·ln N + O(1) whatever the |δ| are;
* every node knows the size of its subtree, so "the node of rank k" is one walk down:

              (rank 4: |δ|=0.9, size 7)
              /                        \\
    (rank 2: 1.7, size 3)         (rank 6: 0.2, size 3)
      /           \\                /            \\
  (1: 2.5, 1)  (3: 1.1, 1)     (5: 0.4, 1)   (7: 0.05, 1)

  select(k): at a node with left size L, go left if k < L, stop if k == L, else go right with
  k - L - 1. Ranks are 0-based in the code (rank 1 in the paper is k = 0).

Ties in |δ| are broken by ``seq``, the number of the write that gave the node its |δ|: the
more recent write ranks first, so a new transition (|δ| = +inf until it is replayed) enters
at rank 1, as the paper asks. The kernels are iterative numba loops over flat arrays
(node = the transition's slot in the ring buffer; -1 = no child).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["RankTree"]


@numba.njit(cache=True, nogil=True, inline="always")
def _before(a: int, b: int, key: np.ndarray, seq: np.ndarray) -> bool:
    """Whether node a ranks before node b: larger |δ|, or the same |δ| written later."""
    return key[a] > key[b] or (key[a] == key[b] and seq[a] > seq[b])


@numba.njit(cache=True, nogil=True, inline="always")
def _size(t: int, size: np.ndarray) -> int:
    return size[t] if t >= 0 else 0


@numba.njit(cache=True, nogil=True)
def _split(
    t: int,
    x: int,
    key: np.ndarray,
    seq: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    size: np.ndarray,
    path: np.ndarray,
) -> tuple[int, int]:
    """Split tree t into (the nodes ranking before x, the rest); returns both roots.

    Iterative: walking down, each node joins the right spine of the first tree or the left
    spine of the second; then the sizes of the visited nodes are recomputed bottom-up.
    """
    first = second = -1
    hook_first = hook_second = -1  # the last node put on each spine
    n = 0
    while t >= 0:
        path[n] = t
        n += 1
        if _before(t, x, key, seq):
            if hook_first < 0:
                first = t
            else:
                right[hook_first] = t
            hook_first = t
            t = right[t]
        else:
            if hook_second < 0:
                second = t
            else:
                left[hook_second] = t
            hook_second = t
            t = left[t]
    if hook_first >= 0:
        right[hook_first] = -1
    if hook_second >= 0:
        left[hook_second] = -1
    for j in range(n - 1, -1, -1):  # children before parents
        u = path[j]
        size[u] = 1 + _size(left[u], size) + _size(right[u], size)
    return first, second


@numba.njit(cache=True, nogil=True)
def _merge(
    a: int,
    b: int,
    heap: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    size: np.ndarray,
    path: np.ndarray,
) -> int:
    """Join two trees, every node of a ranking before every node of b; returns the root."""
    root = -1
    parent = -1
    parent_side = 0  # 0: the result hangs off parent's right, 1: off its left
    n = 0
    while a >= 0 and b >= 0:
        if heap[a] > heap[b]:
            t = a
            a = right[a]
            side = 0  # a's right subtree merges with b
        else:
            t = b
            b = left[b]
            side = 1  # a merges with b's left subtree
        if parent < 0:
            root = t
        elif parent_side == 0:
            right[parent] = t
        else:
            left[parent] = t
        parent = t
        parent_side = side
        path[n] = t
        n += 1
    rest = a if a >= 0 else b
    if parent < 0:
        return rest
    if parent_side == 0:
        right[parent] = rest
    else:
        left[parent] = rest
    for j in range(n - 1, -1, -1):
        u = path[j]
        size[u] = 1 + _size(left[u], size) + _size(right[u], size)
    return root


@numba.njit(cache=True, nogil=True)
def _remove(
    root: int,
    x: int,
    key: np.ndarray,
    seq: np.ndarray,
    heap: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    size: np.ndarray,
    path: np.ndarray,
) -> int:
    """Remove node x (in the tree, its key unchanged since it was inserted); return the root."""
    parent = -1
    t = root
    while t != x:
        size[t] -= 1
        parent = t
        t = left[t] if _before(x, t, key, seq) else right[t]
    joined = _merge(left[x], right[x], heap, left, right, size, path)
    if parent < 0:
        return joined
    if left[parent] == x:
        left[parent] = joined
    else:
        right[parent] = joined
    return root


@numba.njit(cache=True, nogil=True)
def _insert(
    root: int,
    x: int,
    key: np.ndarray,
    seq: np.ndarray,
    heap: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    size: np.ndarray,
    path: np.ndarray,
) -> int:
    """Insert node x; return the root. Walk down while the nodes outrank x in heap priority,
    then x takes the place of the next node and splits that subtree around itself."""
    parent = -1
    t = root
    while t >= 0 and heap[t] > heap[x]:
        size[t] += 1
        parent = t
        t = left[t] if _before(x, t, key, seq) else right[t]
    a, b = _split(t, x, key, seq, left, right, size, path)
    left[x] = a
    right[x] = b
    size[x] = 1 + _size(a, size) + _size(b, size)
    if parent < 0:
        return x
    if _before(x, parent, key, seq):
        left[parent] = x
    else:
        right[parent] = x
    return root


@numba.njit(cache=True, nogil=True)
def _set_keys(
    state: np.ndarray,
    nodes: np.ndarray,
    values: np.ndarray,
    key: np.ndarray,
    seq: np.ndarray,
    heap: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    size: np.ndarray,
    present: np.ndarray,
    path: np.ndarray,
) -> None:
    """Give each node its new |δ| in order (a repeated node: the last write wins).

    ``state`` = [root, next seq]. A node not yet in the tree is inserted.
    """
    root = state[0]
    for j in range(nodes.shape[0]):
        x = nodes[j]
        if present[x]:
            root = _remove(root, x, key, seq, heap, left, right, size, path)
        key[x] = values[j]
        seq[x] = state[1]
        state[1] += 1
        root = _insert(root, x, key, seq, heap, left, right, size, path)
        present[x] = True
    state[0] = root


@numba.njit(cache=True, nogil=True)
def _select_many(
    root: int,
    ranks: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    size: np.ndarray,
    out: np.ndarray,
) -> None:
    """out[j] = the node of 0-based rank ranks[j]."""
    for j in range(ranks.shape[0]):
        t = root
        k = ranks[j]
        while True:
            n_left = _size(left[t], size)
            if k < n_left:
                t = left[t]
            elif k == n_left:
                break
            else:
                k -= n_left + 1
                t = right[t]
        out[j] = t


@numba.njit(cache=True, nogil=True)
def _in_order(root: int, left: np.ndarray, right: np.ndarray, n: int, out: np.ndarray) -> None:
    """out[k] = the node of rank k, for every k (an iterative in-order walk)."""
    stack = np.empty(n + 1, dtype=np.int64)
    top = 0
    t = root
    k = 0
    while t >= 0 or top > 0:
        while t >= 0:
            stack[top] = t
            top += 1
            t = left[t]
        top -= 1
        t = stack[top]
        out[k] = t
        k += 1
        t = right[t]


@numba.njit(cache=True, nogil=True)
def _depth(root: int, left: np.ndarray, right: np.ndarray, n: int) -> int:
    """The number of nodes on the longest root-to-leaf path (an iterative walk)."""
    stack = np.empty(n + 1, dtype=np.int64)
    depth = np.empty(n + 1, dtype=np.int64)
    top = 0
    deepest = 0
    if root >= 0:
        stack[0] = root
        depth[0] = 1
        top = 1
    while top > 0:
        top -= 1
        t = stack[top]
        d = depth[top]
        deepest = max(deepest, d)
        for c in (left[t], right[t]):
            if c >= 0:
                stack[top] = c
                depth[top] = d + 1
                top += 1
    return deepest


class RankTree:
    """Nodes 0..capacity-1 (the memory's slots) kept sorted by |δ|, largest first.

    No validation here: ``RankBasedReplay`` checks every argument before calling in.

    Args:
        capacity: the number of slots.
        rng: the generator that draws each slot's fixed heap priority.
    """

    def __init__(self, capacity: int, rng: np.random.Generator) -> None:
        self.capacity = capacity
        self._state = np.array([-1, 0], dtype=np.int64)  # root, next seq
        self._key = np.zeros(capacity, dtype=np.float64)
        self._seq = np.zeros(capacity, dtype=np.int64)
        self._heap = rng.random(capacity)
        self._left = np.full(capacity, -1, dtype=np.int64)
        self._right = np.full(capacity, -1, dtype=np.int64)
        self._size = np.zeros(capacity, dtype=np.int64)
        self._present = np.zeros(capacity, dtype=bool)
        self._path = np.empty(capacity + 1, dtype=np.int64)  # the kernels' scratch stack

    def __len__(self) -> int:
        root = self._state[0]
        return int(self._size[root]) if root >= 0 else 0

    def set_keys(self, nodes: np.ndarray, keys: np.ndarray) -> None:
        """Give each node (inserting it if new) its |δ|; the last write wins. O(B log N)."""
        _set_keys(self._state, nodes, keys, self._key, self._seq, self._heap, self._left,
                  self._right, self._size, self._present, self._path)  # fmt: skip

    def select(self, ranks: np.ndarray) -> np.ndarray:
        """The nodes of the given 0-based ranks. O(B log N)."""
        out = np.empty(ranks.shape[0], dtype=np.int64)
        _select_many(self._state[0], ranks, self._left, self._right, self._size, out)
        return out

    def order(self) -> np.ndarray:
        """Every node, by rank (rank 0 first). O(N)."""
        n = len(self)
        out = np.empty(n, dtype=np.int64)
        if n:
            _in_order(self._state[0], self._left, self._right, n, out)
        return out

    def ranks(self) -> np.ndarray:
        """0-based rank of every node 0..len-1 (the memory's stored slots). O(N)."""
        order = self.order()
        ranks = np.empty(order.shape[0], dtype=np.int64)
        ranks[order] = np.arange(order.shape[0])
        return ranks

    def depth(self) -> int:
        """The tree's depth (expected O(log N)); for tests."""
        return int(_depth(self._state[0], self._left, self._right, len(self)))

    def keys(self) -> np.ndarray:
        """The |δ| of every node (+inf: never replayed yet)."""
        return self._key
