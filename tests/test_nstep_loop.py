"""n-step returns end to end: every memory stores each transition's discount, the loop stores
what NStepBuffer emits, and the stored transitions are the n-step returns of the real episodes
(checked against a brute force over the recorded CartPole trajectory)."""

import numpy as np
import pytest

from prdqn_lib.config import Config
from prdqn_lib.replay import PrioritizedReplay, RankBasedReplay, TDErrorListReplay, UniformReplay
from prdqn_lib.train import train

MEMORIES = [UniformReplay, TDErrorListReplay, PrioritizedReplay, RankBasedReplay]
OBS = np.zeros(3, dtype=np.float32)


@pytest.mark.parametrize("cls", MEMORIES)
def test_every_memory_stores_and_returns_discounts(cls):
    m = cls(8, seed=0)
    for k in range(5):
        m.add(OBS + k, 0, 1.0, OBS, False, discount=0.5**k)
    m.add_batch(np.ones((2, 3)), [1, 0], [0.0, 1.0], np.ones((2, 3)), [True, False],
                discounts=[0.25, 1.0])  # fmt: skip
    stored = m.transitions()
    np.testing.assert_array_equal(stored.discounts, [1, 0.5, 0.25, 0.125, 0.0625, 0.25, 1.0])
    batch = m.sample(16)
    np.testing.assert_array_equal(batch.discounts, stored.discounts[batch.indices])


@pytest.mark.parametrize("cls", MEMORIES)
def test_a_memory_stores_discounts_for_all_transitions_or_none(cls):
    plain, with_d = cls(4, seed=0), cls(4, seed=0)
    plain.add(OBS, 0, 1.0, OBS, False)
    with pytest.raises(ValueError, match="discount given, but the 1 stored transitions have"):
        plain.add(OBS, 0, 1.0, OBS, False, discount=0.9)
    assert plain.transitions().discounts is None and len(plain) == 1
    with_d.add(OBS, 0, 1.0, OBS, False, discount=0.9)
    with pytest.raises(ValueError, match="discount must be given"):
        with_d.add(OBS, 0, 1.0, OBS, False)
    for bad, shown in ((1.5, "got 1.5"), (-0.1, "got -0.1"), (float("nan"), "finite")):
        with pytest.raises(ValueError, match=shown):
            with_d.add(OBS, 0, 1.0, OBS, False, discount=bad)
    with pytest.raises(
        ValueError, match=r"discounts must lie in \[0, 1\], got 2.0 \(discounts\[1\]\)"
    ):
        with_d.add_batch(np.ones((2, 3)), [0, 0], [0, 0], np.ones((2, 3)), [0, 0], discounts=[1, 2])
    assert len(with_d) == 1  # every refused call left it as it was


def _brute_force_n_step(episodes, n, gamma):
    """Every n-step transition of recorded episodes [(obs, action, reward, next_obs,
    terminated, truncated) per step], as the definition gives it."""
    out = []
    for ep in episodes:
        T = len(ep)
        for t in range(T):
            k = min(n, T - t)
            ret = sum(gamma**j * ep[t + j][2] for j in range(k))
            last = ep[t + k - 1]
            out.append((ep[t][0], ep[t][1], ret, last[3], bool(last[4]), gamma**k))
    return out


def test_the_loop_stores_the_n_step_returns_of_its_episodes():
    """Train per-sumtree with n = 3 for 1,500 steps with a memory that never wraps, replay the
    same seeded run's actions to recover the trajectory, and compare every stored transition
    with the brute-force n-step transitions of the complete episodes."""
    import gymnasium as gym

    cfg = Config(variant="per-sumtree", n_step=3, total_steps=1_500, learning_starts=500,
                 eval_every=500, eval_episodes=2, buffer_size=5_000)  # fmt: skip
    result = train(cfg, progress=False)
    stored = result.memory.transitions()
    # re-run the environment with the stored actions: same seed, same start, same dynamics
    env = gym.make(cfg.env_id)
    obs, _ = env.reset(seed=cfg.seed)
    episodes, current = [], []
    actions = iter(stored.actions)  # n-step transitions are stored in the order of their start
    for _ in range(len(stored)):
        a = int(next(actions))
        nxt, r, term, trunc, _ = env.step(a)
        current.append((obs.copy(), a, r, nxt.copy(), term, trunc))
        if term or trunc:
            episodes.append(current)
            current = []
            obs, _ = env.reset()
        else:
            obs = nxt
    expected = _brute_force_n_step(episodes, 3, cfg.gamma)
    assert len(expected) > 100
    for k, (o, a, ret, nxt, term, disc) in enumerate(expected):
        np.testing.assert_array_equal(stored.obs[k], o)
        assert stored.actions[k] == a
        assert stored.rewards[k] == pytest.approx(ret, rel=1e-6)
        np.testing.assert_array_equal(stored.next_obs[k], nxt)
        assert stored.terminated[k] == term
        assert stored.discounts[k] == pytest.approx(disc)
    assert result.agent.updates == (1_500 - 500) // 2 and result.history.evals


def test_apex_accepts_n_step_its_actors_send_n_step_transitions():
    # tests/test_apex.py checks the actors' blocks against brute-force n-step returns
    assert Config(variant="apex", n_step=3).n_step == 3
