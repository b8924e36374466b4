"""LinearSchedule against the formula, and every schedule of Config and the memories through it
with the float arithmetic of the formulas they replaced (training stays bit-identical)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prdqn_lib.config import Config
from prdqn_lib.replay import PrioritizedReplay, RankBasedReplay
from prdqn_lib.schedules import LinearSchedule

reals = st.floats(-1e3, 1e3, allow_nan=False)


@given(reals, reals, st.integers(1, 10_000), st.integers(0, 20_000))
def test_linear_schedule_is_the_formula(start, end, steps, t):
    s = LinearSchedule(start, end, steps)
    frac = min(1.0, t / steps)
    assert s(t) == start + frac * (end - start)
    if t >= steps:
        assert s(t) == pytest.approx(end, abs=1e-9)
    assert s(0) == start


def test_linear_schedule_checks_its_arguments():
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):
        LinearSchedule(1.0, 0.0, 0)
    with pytest.raises(TypeError, match="start must be a real number"):
        LinearSchedule("a", 0.0, 5)


@given(st.integers(0, 60_000))
def test_config_schedules_keep_the_arithmetic_they_had(t):
    """The formulas Config computed by hand before the one LinearSchedule, bit for bit."""
    cfg = Config(lr_decay_steps=20_000)
    frac = min(1.0, t / cfg.eps_decay_steps)
    assert cfg.epsilon(t) == cfg.eps_start + frac * (cfg.eps_end - cfg.eps_start)
    h = cfg._schedule_horizon()
    frac = min(1.0, t / h)
    assert cfg.learning_rate(t) == cfg.lr * (1.0 + frac * (cfg.lr_final_frac - 1.0))
    tu, tuf = cfg.target_update, cfg.target_update_final
    assert cfg.target_period(t) == round(tu + frac * (tuf - tu))


@given(st.integers(0, 3_000))
def test_both_memories_anneal_beta_with_the_same_schedule(calls):
    for cls in (PrioritizedReplay, RankBasedReplay):
        m = cls(4, beta=0.4, beta_final=1.0, beta_steps=1_000)
        m.sample_calls = calls
        frac = min(1.0, calls / 1_000)
        assert m.beta == 0.4 + frac * (1.0 - 0.4)
        assert (m.beta0, m.beta_final, m.beta_steps) == (0.4, 1.0, 1_000)
