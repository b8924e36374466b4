"""Model-based tests: each replay memory against a plain-Python model, one random call at a time.

Hypothesis drives a state machine that interleaves ``add``, ``sample``, ``update_priorities``
and ``refresh_td_errors`` (valid and invalid calls, small capacities so the ring wraps often,
duplicate indices, zero and huge |δ|). The model — lists and Python floats, no numpy, no tree —
says what each call must do: which calls are refused (exception type and the argument's name),
and what the memory must hold afterwards. After every step the memory must agree with it:
contents, priorities, total, min and max priority; a refused call must change nothing at all.

How many steps: the hypothesis profile (tests/conftest.py) sets examples × steps per memory:
"ci" 25 × 30, "dev" (the local default) 100 × 50, "thorough" 1000 × 100.

To test a new memory, write its Model subclass (RankModel is the latest) and a MemorySpec,
and add ``TestX = machine_for(SPEC_X).TestCase``.
"""

from __future__ import annotations

import math
import re
import struct
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from memstate import assert_same_state, snapshot

from prdqn_lib import PrioritizedReplay, RankBasedReplay, TDErrorListReplay, UniformReplay

FLOAT64_MAX = sys.float_info.max
FLOAT32_MAX = struct.unpack("f", struct.pack("I", 0x7F7FFFFF))[0]
OBS_LEN = 3

# an observation of 1e39 is refused; numpy warns as it casts it to float32 on the way
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")


def pow2_at_least(n: int) -> int:
    p = 1
    while p < n:
        p *= 2
    return p


class Refused(Exception):
    """What the model expects instead of a result: the exception type and the argument named."""

    def __init__(self, error: type[Exception], name: str) -> None:
        super().__init__(error, name)
        self.error, self.name = error, name


def is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def is_real(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(
        x, (bool, np.bool_)
    )


# ------------------------------------------------------------------------------------ models


class Model:
    """A ring buffer of Python tuples; the memory-specific rules live in the subclasses."""

    def __init__(self, capacity: int, params: dict) -> None:
        self.capacity = capacity
        self.params = params
        self.slots: list[tuple | None] = [None] * capacity
        self.pos = 0
        self.size = 0
        self.obs_len: int | None = None  # fixed by the first accepted add

    # --- add
    def add(self, obs, action, reward, next_obs, terminated) -> int:
        for name, v in (("obs", obs), ("next_obs", next_obs)):
            if not isinstance(v, list) or not all(is_real(x) for x in v):
                raise Refused(TypeError, name)
        if not is_int(action):
            raise Refused(TypeError, "action")
        if action < 0:
            raise Refused(ValueError, "action")
        if not is_real(reward):
            raise Refused(TypeError, "reward")
        if not (math.isfinite(reward) and abs(reward) <= FLOAT32_MAX):
            raise Refused(ValueError, "reward")
        if not is_real(terminated) and not isinstance(terminated, (bool, np.bool_)):
            raise Refused(TypeError, "terminated")
        if terminated not in (0, 1):  # True/False, or 1/0
            raise Refused(ValueError, "terminated")
        if len(obs) != len(next_obs) or self.obs_len not in (None, len(obs)):
            raise Refused(ValueError, "shape")
        for name, v in (("obs", obs), ("next_obs", next_obs)):
            if not all(math.isfinite(x) and abs(x) <= FLOAT32_MAX for x in v):
                raise Refused(ValueError, name)
        self.obs_len = len(obs)
        slot = self.pos
        self.slots[slot] = (tuple(map(float, obs)), int(action), float(reward),
                            tuple(map(float, next_obs)), bool(terminated))  # fmt: skip
        self.pos = (slot + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)
        self.on_add(slot)
        return slot

    def on_add(self, slot: int) -> None:
        pass

    # --- sample
    def check_sample(self, batch_size) -> None:
        if not is_int(batch_size):
            raise Refused(TypeError, "batch_size")
        if batch_size <= 0:
            raise Refused(ValueError, "batch_size")
        if self.size == 0:
            raise Refused(ValueError, "empty")

    def after_sample(self, indices: list[int]) -> list[float]:
        """The weights the batch must carry (the model's state may move on: β anneals)."""
        return [1.0] * len(indices)

    def can_draw(self, index: int) -> bool:
        return True

    # --- update_priorities
    td_limit = FLOAT64_MAX

    def check_update(self, indices, td) -> None:
        if not all(is_int(i) for i in indices):
            raise Refused(TypeError, "indices")
        if not all(0 <= i < self.size for i in indices):
            raise Refused(ValueError, "indices")
        if not all(is_real(t) for t in td):
            raise Refused(TypeError, "td_errors")
        if len(td) != len(indices):
            raise Refused(ValueError, "one value per index")
        if not all(0 <= t <= self.td_limit for t in td):  # False for NaN
            raise Refused(ValueError, "td_errors")

    def update(self, indices, td) -> None:
        self.check_update(indices, td)

    # --- refresh_td_errors
    def refresh(self, values: list, chunk_size: int) -> None:
        """All or nothing: the first chunk with a bad value (or whose td_error_fn call raises)
        refuses the whole call; else the same as ``update`` of every index, in index order."""
        for start in range(0, self.size, chunk_size):
            chunk = values[start : start + chunk_size]
            if any(isinstance(v, str) for v in chunk):
                raise Refused(RuntimeError, "")  # td_error_fn raised
            if not all(self.refresh_value_ok(v) for v in chunk):
                raise Refused(ValueError, "td_errors")
        self.update(list(range(self.size)), [float(v) for v in values])

    def refresh_value_ok(self, v: float) -> bool:
        return 0 <= v <= self.td_limit  # False for NaN

    def check(self, memory) -> None:
        """Compare what only this kind of memory has (priorities, ...)."""


class UniformModel(Model):
    pass


class ListModel(Model):
    """|δ| per slot; new transitions at the largest |δ| seen (1.0 before any)."""

    def __init__(self, capacity, params):
        super().__init__(capacity, params)
        self.td = [0.0] * capacity
        self.max_td = 1.0
        self.td_limit = FLOAT64_MAX / (4 * pow2_at_least(capacity))

    def on_add(self, slot):
        self.td[slot] = self.max_td

    def update(self, indices, td):
        self.check_update(indices, td)
        for i, t in zip(indices, td, strict=True):  # in order: the last write wins
            self.td[i] = float(t)
            self.max_td = max(self.max_td, float(t))

    def check(self, memory):
        eps = self.params["eps"]
        assert list(memory.td_errors) == self.td[: self.size]
        assert memory.max_td_error == self.max_td
        if self.size:
            mass = [t + eps for t in self.td[: self.size]]
            expected = [m / math.fsum(mass) for m in mass]
            np.testing.assert_allclose(memory.probabilities(), expected, rtol=1e-12)


class PERModel(Model):
    """p = (|δ|+ε)^α per slot, new transitions at the running max p, weights (p_i/p_min)^-β."""

    def __init__(self, capacity, params):
        super().__init__(capacity, params)
        self.p = [0.0] * capacity  # never-written leaves hold 0
        self.max_p = 1.0
        self.sample_calls = 0
        self.p_limit = FLOAT64_MAX / pow2_at_least(capacity)

    def on_add(self, slot):
        self.p[slot] = self.max_p

    def priority(self, t: float) -> float:
        try:
            return math.pow(t + self.params["eps"], self.params["alpha"])
        except OverflowError:
            return math.inf

    def check_sample(self, batch_size):
        super().check_sample(batch_size)
        if not any(p > 0 for p in self.p[: self.size]):
            raise Refused(ValueError, "priority")  # every priority underflowed to 0

    @property
    def beta(self) -> float:
        b0, b1 = self.params["beta"], self.params["beta_final"]
        return b0 + min(1.0, self.sample_calls / self.params["beta_steps"]) * (b1 - b0)

    def can_draw(self, index):
        return self.p[index] > 0  # a zero-priority leaf is never drawn

    def after_sample(self, indices):
        beta = self.beta
        self.sample_calls += 1
        p_min = min(p for p in self.p[: self.size] if p > 0)
        return [math.pow(self.p[i] / p_min, -beta) for i in indices]

    def update(self, indices, td):
        self.check_update(indices, td)
        pri = [self.priority(float(t)) for t in td]
        if not all(p <= self.p_limit for p in pri):
            raise Refused(ValueError, "td_errors")  # named as the caller passed them
        for i, p in zip(indices, pri, strict=True):
            self.p[i] = p
        self.max_p = max([self.max_p, *pri])

    def refresh_value_ok(self, v: float) -> bool:
        return 0 <= v < math.inf and self.priority(v) <= self.p_limit

    def check(self, memory):
        tree = memory.tree
        np.testing.assert_allclose(tree.priorities(range(self.capacity)), self.p, rtol=1e-14)
        assert math.isclose(tree.total, math.fsum(self.p), rel_tol=1e-12)
        positive = [p for p in self.p if p > 0]
        assert math.isclose(tree.min, min(positive) if positive else math.inf, rel_tol=1e-14)
        assert math.isclose(memory.max_priority, self.max_p, rel_tol=1e-14)
        assert memory.sample_calls == self.sample_calls
        assert math.isclose(memory.beta, self.beta, rel_tol=1e-12)
        assert math.isfinite(tree.total)


class RankModel(Model):
    """|δ| per slot (+inf until replayed) and the number of the write that set it; rank 1 =
    the largest |δ|, ties to the later write; P = rank^-α / Σ_k k^-α; w = (N·P)^-β / max w."""

    def __init__(self, capacity, params):
        super().__init__(capacity, params)
        self.key = [0.0] * capacity
        self.seq = [0] * capacity
        self.writes = 0
        self.sample_calls = 0

    def write(self, slot: int, key: float) -> None:
        self.key[slot], self.seq[slot] = key, self.writes
        self.writes += 1

    def on_add(self, slot):
        self.write(slot, math.inf)

    def ranks(self) -> list[int]:
        by_rank = sorted(range(self.size), key=lambda i: (-self.key[i], -self.seq[i]))
        ranks = [0] * self.size
        for r, i in enumerate(by_rank, start=1):
            ranks[i] = r
        return ranks

    def probabilities(self) -> list[float]:
        alpha = self.params["alpha"]
        total = math.fsum(k**-alpha for k in range(1, self.size + 1))
        return [r**-alpha / total for r in self.ranks()]

    beta = PERModel.beta

    def after_sample(self, indices):
        beta, n = self.beta, self.size
        self.sample_calls += 1
        w = [(n * p) ** -beta for p in self.probabilities()]
        return [w[i] / max(w) for i in indices]

    def update(self, indices, td):
        self.check_update(indices, td)
        for i, t in zip(indices, td, strict=True):  # in order: the last write wins
            self.write(i, float(t))

    def check(self, memory):
        assert memory.ranks().tolist() == self.ranks()
        np.testing.assert_allclose(memory.probabilities(), self.probabilities(), rtol=1e-12)
        assert memory.sample_calls == self.sample_calls
        assert math.isclose(memory.beta, self.beta, rel_tol=1e-12)
        tree = memory.tree
        assert len(tree) == self.size
        assert tree.depth() <= self.size


@dataclass
class MemorySpec:
    """How to build one memory and its model from drawn parameters."""

    name: str
    make: object  # (capacity, params, seed) -> memory
    model: type[Model]
    params: st.SearchStrategy = field(default_factory=lambda: st.just({}))
    refresh: bool = False  # whether the memory has refresh_td_errors


UNIFORM = MemorySpec("uniform", lambda c, p, s: UniformReplay(c, seed=s), UniformModel)
TD_LIST = MemorySpec(
    "td-list",
    lambda c, p, s: TDErrorListReplay(c, eps=p["eps"], seed=s),
    ListModel,
    st.fixed_dictionaries({"eps": st.sampled_from([1e-6, 0.01, 1.0])}),
    refresh=True,
)


def per_params(eps, alpha):
    return st.fixed_dictionaries(
        {
            "eps": eps,
            "alpha": alpha,
            "beta": st.sampled_from([0.0, 0.4, 1.0]),
            "beta_final": st.sampled_from([0.5, 1.0]),
            "beta_steps": st.integers(1, 5),
        }
    )


PER = MemorySpec(
    "per",
    lambda c, p, s: PrioritizedReplay(c, seed=s, **p),
    PERModel,
    st.one_of(
        per_params(st.sampled_from([1e-6, 0.01, 1.0]), st.sampled_from([0.0, 0.6, 1.0, 2.0])),
        per_params(st.just(1e-200), st.just(2.0)),  # |δ| = 0 underflows to priority 0
        per_params(st.sampled_from([1e-6, 1.0]), st.just(1.0)),  # priority ≈ |δ|, up to huge
    ),
    refresh=True,
)

RANK = MemorySpec(
    "rank",
    lambda c, p, s: RankBasedReplay(c, seed=s, **p),
    RankModel,
    st.fixed_dictionaries(
        {
            "alpha": st.sampled_from([0.0, 0.7, 1.0, 3.0]),
            "beta": st.sampled_from([0.0, 0.5, 1.0]),
            "beta_final": st.sampled_from([0.5, 1.0]),
            "beta_steps": st.integers(1, 5),
        }
    ),
    refresh=True,
)

# ------------------------------------------------------------------------------ strategies

f32 = st.floats(width=32, allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)
good_obs = st.lists(f32, min_size=OBS_LEN, max_size=OBS_LEN)
bad_obs = st.one_of(
    st.lists(f32, min_size=2, max_size=2),  # another shape (the first add may fix it)
    good_obs.map(lambda v: [*v[:-1], math.nan]),
    good_obs.map(lambda v: [-math.inf, *v[1:]]),
    good_obs.map(lambda v: [1e39, *v[1:]]),  # finite, but not in float32
    st.sampled_from([None, "abc"]),
)
good_action = st.integers(0, 5) | st.integers(0, 5).map(np.int64)
bad_action = st.sampled_from([-3, -1, 2.7, math.nan, "x", True, None])
good_reward = f32 | st.integers(-5, 5) | f32.map(np.float32)
bad_reward = st.sampled_from([math.nan, math.inf, -math.inf, 1e39, "x", None, True])
good_terminated = st.booleans() | st.booleans().map(np.bool_)
bad_terminated = st.sampled_from(["x", None, 2, 0.5])
# |δ| >= 0 and finite; the largest are refused by some memories (above their limit), so
# whether a call is valid is for the model to say
good_td = st.floats(0, 10) | st.just(0.0) | st.sampled_from([1e300, 1e305, 1e308, FLOAT64_MAX])
bad_td = st.sampled_from([-1.0, -1e-300, math.nan, math.inf, "x"])


def valid_add_args():
    return st.tuples(good_obs, good_action, good_reward, good_obs, good_terminated)


@st.composite
def add_args(draw):
    """(obs, action, reward, next_obs, terminated), mostly valid, else one argument bad."""
    args = [draw(good_obs), draw(good_action), draw(good_reward), draw(good_obs)]
    args.append(draw(good_terminated))
    if draw(st.integers(0, 3)) == 0:
        k = draw(st.integers(0, 4))
        args[k] = draw([bad_obs, bad_action, bad_reward, bad_obs, bad_terminated][k])
    return tuple(args)


# --------------------------------------------------------------------------- the machine


class MemoryMachine(RuleBasedStateMachine):
    spec: MemorySpec  # set by machine_for

    @initialize(capacity=st.integers(1, 9), seed=st.integers(0, 2**16), data=st.data())
    def build(self, capacity, seed, data):
        params = data.draw(self.spec.params, label="params")
        self.memory = self.spec.make(capacity, params, seed)
        self.model = self.spec.model(capacity, params)
        # start from an empty, a partly filled, a full or an already wrapped memory
        for args in data.draw(st.lists(valid_add_args(), max_size=2 * capacity + 1), label="fill"):
            assert self.memory.add(*args) == self.model.add(*args)

    # --- helpers
    def refused(self, call, expected: Refused) -> None:
        """``call`` must raise ``expected.error`` naming the argument, and change nothing."""
        event(f"refused: {expected.error.__name__} {expected.name}")
        before = snapshot(self.memory)
        try:
            call()
        except expected.error as exc:
            assert re.search(re.escape(expected.name), str(exc)), (expected.name, str(exc))
        else:
            raise AssertionError(f"accepted; the model expected {expected.error.__name__}")
        assert_same_state(snapshot(self.memory), before)

    # --- rules
    @rule(args=add_args())
    def add(self, args):
        try:
            slot = self.model.add(*args)
        except Refused as expected:
            self.refused(lambda: self.memory.add(*args), expected)
            return
        assert self.memory.add(*args) == slot
        event("add: wrapped" if self.model.size == self.model.capacity else "add")

    @rule(batch_size=st.integers(1, 12) | st.sampled_from([0, -2, 2.5, "4"]))
    def sample(self, batch_size):
        try:
            self.model.check_sample(batch_size)
        except Refused as expected:
            self.refused(lambda: self.memory.sample(batch_size), expected)
            return
        batch = self.memory.sample(batch_size)
        indices = [int(i) for i in batch.indices]
        assert len(indices) == batch_size
        assert all(0 <= i < self.model.size and self.model.can_draw(i) for i in indices)
        for k, i in enumerate(indices):  # each row is the transition stored at its index
            obs, action, reward, next_obs, terminated = self.model.slots[i]
            assert tuple(batch.obs[k].tolist()) == obs
            assert tuple(batch.next_obs[k].tolist()) == next_obs
            assert (batch.actions[k], batch.rewards[k], batch.terminated[k]) == (
                action,
                reward,
                terminated,
            )
        expected = self.model.after_sample(indices)
        np.testing.assert_allclose(batch.weights, expected, rtol=1e-12, atol=1e-300)
        assert (batch.weights <= 1.0).all()
        event("sample")

    @rule(data=st.data())
    def update_priorities(self, data):
        size = self.model.size
        n = data.draw(st.integers(0, 6), label="n")
        indices = data.draw(
            st.lists(st.integers(0, max(0, size - 1)), min_size=n, max_size=n)
            | st.lists(st.integers(-2, size + 2), min_size=1, max_size=n + 1)
            | st.sampled_from([[0.0], [1, 1.5], [np.uint64(2**63)], [True]]),
            label="indices",
        )
        td = data.draw(
            st.lists(good_td, min_size=len(indices), max_size=len(indices))
            | st.lists(good_td | bad_td, min_size=len(indices), max_size=len(indices))
            | st.lists(good_td, min_size=0, max_size=4),  # maybe the wrong length
            label="td",
        )
        try:
            self.model.update(indices, td)
        except Refused as expected:
            self.refused(lambda: self.memory.update_priorities(indices, td), expected)
            return
        self.memory.update_priorities(indices, td)
        event("update: duplicate indices" if len(set(indices)) < len(indices) else "update")
        if 0.0 in getattr(self.model, "p", ()):
            event("update: a priority of 0 (underflow)")
        if any(t >= 1e300 for t in td):
            event("update: huge |δ| accepted")

    # --- after every step
    @invariant()
    def agrees_with_the_model(self):
        if not hasattr(self, "model"):
            return
        memory, model = self.memory, self.model
        assert len(memory) == model.size
        if model.size:
            stored = memory._gather(np.arange(model.size), np.ones(model.size))
            for i in range(model.size):
                obs, action, reward, next_obs, terminated = model.slots[i]
                assert tuple(stored.obs[i].tolist()) == obs
                assert tuple(stored.next_obs[i].tolist()) == next_obs
                assert stored.actions[i] == action and stored.rewards[i] == reward
                assert stored.terminated[i] == terminated
        model.check(memory)


class RefreshingMemoryMachine(MemoryMachine):
    """The rules of a memory that can recompute every stored |δ| at once."""

    @rule(data=st.data())
    def refresh(self, data):
        size = self.model.size
        values = data.draw(
            st.lists(good_td, min_size=size, max_size=size)
            | st.lists(
                good_td | bad_td.filter(lambda v: v != "x") | st.just("raise"),
                min_size=size,
                max_size=size,
            ),  # fmt: skip
            label="values",
        )
        chunk = data.draw(st.integers(1, 4), label="chunk_size")
        seen = []

        def td_error_fn(batch):
            idx = [int(i) for i in batch.indices]
            seen.append(idx)
            if any(values[i] == "raise" for i in idx):
                raise RuntimeError("td_error_fn failed")
            return np.array([values[i] for i in idx])

        try:
            self.model.refresh(values, chunk)
        except Refused as expected:
            self.refused(lambda: self.memory.refresh_td_errors(td_error_fn, chunk), expected)
            return
        self.memory.refresh_td_errors(td_error_fn, chunk)
        event("refresh")
        assert seen == [list(range(s, min(s + chunk, size))) for s in range(0, size, chunk)]


def machine_for(spec: MemorySpec) -> type[MemoryMachine]:
    """A state machine class testing ``spec``'s memory against its model."""
    base = RefreshingMemoryMachine if spec.refresh else MemoryMachine
    return type(f"{spec.model.__name__}Machine", (base,), {"spec": spec})


TestUniformReplay = machine_for(UNIFORM).TestCase
TestTDErrorListReplay = machine_for(TD_LIST).TestCase
TestPrioritizedReplay = machine_for(PER).TestCase
TestRankBasedReplay = machine_for(RANK).TestCase
