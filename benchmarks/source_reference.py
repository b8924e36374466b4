"""REFERENCE ONLY — the first source's SumTree and Memory, re-implemented for benchmarking.

This reproduces, operation for operation, the algorithm of the first source document (a
Chinese notebook on SumTree PER + Double DQN), so that ``bench_replay.py`` can measure it
beside prdqn_lib and cpprb. It is deliberately *not* fixed; prdqn_lib must never import it.
What it does, including its mistakes:

* recursive ``propagate`` adding the change up the tree (float drift accumulates);
* recursive ``retrieve`` going left when ``left >= s`` (a boundary value picks the left leaf;
  can land on an empty leaf);
* ``add`` scans all leaves for the max priority (O(N) per add);
* ``sample`` scans all leaves, empty ones included, for the min probability (O(N) per
  sample, and floored at 1e-5 because the empty leaves make it 0), then one Python loop per
  sampled item;
* ``update`` adds 0.1 to |δ|, clips at 1, raises to α, one Python call per item.
"""

import random

import numpy as np


class SourceSumTree:
    def __init__(self, capacity):
        self.capacity = capacity
        self.nodes = np.zeros(2 * capacity - 1)  # internal nodes first, then the leaves
        self.items = np.zeros(capacity, dtype=object)
        self.cursor = 0

    def propagate(self, node, change):
        parent = (node - 1) // 2
        self.nodes[parent] += change
        if parent != 0:
            self.propagate(parent, change)

    def retrieve(self, node, s):
        left = 2 * node + 1
        if left >= len(self.nodes):
            return node
        if self.nodes[left] >= s:
            return self.retrieve(left, s)
        return self.retrieve(left + 1, s - self.nodes[left])

    def total(self):
        return self.nodes[0]

    def add(self, priority, item):
        node = self.capacity - 1 + self.cursor
        self.items[self.cursor] = item
        self.update(node, priority)
        self.cursor = (self.cursor + 1) % self.capacity

    def update(self, node, priority):
        change = priority - self.nodes[node]
        self.nodes[node] = priority
        self.propagate(node, change)

    def get(self, s):
        node = self.retrieve(0, s)
        return node, self.nodes[node], self.items[node - self.capacity + 1]


class SourceMemory:
    eps = 0.01
    alpha = 0.6
    beta = 0.4
    beta_step = 0.001
    clip = 1.0

    def __init__(self, capacity):
        self.tree = SourceSumTree(capacity)

    def leaves(self):
        return self.tree.nodes[-self.tree.capacity :]

    def add(self, item):
        top = np.max(self.leaves())  # O(N) on every add
        if top == 0:
            top = self.clip
        self.tree.add(top, item)

    def sample(self, n):
        nodes = np.empty((n,), dtype=np.int32)
        items = []
        weights = np.empty((n, 1))
        segment = self.tree.total() / n
        self.beta = np.min([1.0, self.beta + self.beta_step])
        # O(N) on every sample, and over empty leaves too
        min_prob = np.max([np.min(self.leaves()) / self.tree.total(), 0.00001])
        for i in range(n):
            s = random.uniform(segment * i, segment * (i + 1))
            node, p, item = self.tree.get(s)
            weights[i, 0] = np.power(p / self.tree.total() / min_prob, -self.beta)
            nodes[i] = node
            items.append(item)
        return items, nodes, weights

    def update(self, nodes, abs_err):
        abs_err = abs_err + 0.1
        clipped = np.minimum(abs_err, self.clip)
        for node, p in zip(nodes, np.power(clipped, self.alpha)):
            self.tree.update(node, p)

    def bulk_fill(self, items, priority=1.0):
        """Benchmark set-up only: fill every slot at once instead of N O(N) adds."""
        cap = self.tree.capacity
        self.tree.items[:] = items[:cap]
        self.tree.nodes[:] = 0.0
        self.tree.nodes[cap - 1 :] = priority
        for node in range(cap - 2, -1, -1):
            self.tree.nodes[node] = self.tree.nodes[2 * node + 1] + self.tree.nodes[2 * node + 2]
