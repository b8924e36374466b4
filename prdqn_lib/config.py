"""Hyperparameters: one frozen dataclass, a comment per field, defaults tuned for CartPole-v1."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schedules import LinearSchedule

__all__ = ["Config"]


@dataclass(frozen=True)
class Config:
    """Everything a training run depends on. ``dataclasses.replace(cfg, lr=...)`` to change one.

    Each comment says what the field is and why it has its value; how the values were chosen
    (the candidates, seeds and numbers) is in ``benchmarks/TUNING.md``.

    ``Config()``'s defaults are the **shared Config**, one for every variant (like-for-like
    comparisons, notebooks 01–04); ``Config.preset(variant)`` is the variant's **tuned** Config
    (the shared one with its round-3 preset), which the CLI trains by default.
    """

    variant: str = "per-sumtree"  # a name of prdqn_lib.variants (memory, target, loop options)
    env_id: str = "CartPole-v1"  # any gymnasium env with a Box observation and Discrete actions
    seed: int = 0  # seeds python, numpy, torch, the memory and both envs (once, not per reset)
    total_steps: int = 50_000  # env steps of training: the budget every benchmark uses
    hidden: tuple[int, ...] = (64, 64)  # hidden ReLU layer widths: wider learned no faster
    lr: float = 2.5e-3  # Adam learning rate at the first gradient step
    lr_final_frac: float = 0.1  # lr falls linearly to lr·this (1 = constant): a floor, never 0
    lr_decay_steps: int = 0  # ... over this many env steps instead of the whole run (0 = run)
    adam_eps: float = 1e-8  # Adam's ε (denominator guard): torch's default
    gamma: float = 0.99  # discount γ: Q-values up to 1/(1−γ) = 100 on CartPole
    batch_size: int = 128  # transitions per gradient step
    buffer_size: int = 50_000  # replay capacity (transitions): the whole 50k run fits
    learning_starts: int = 1_000  # env steps of pure exploration before the first update
    train_every: int = 2  # env steps per gradient step: replay ratio 1/2 (B=128 every 2 steps)
    target_update: int = 25  # hard target sync every this many gradient steps (if tau == 0)
    # ... a period that grows linearly to this over the lr schedule's horizon (0 = fixed): a
    # short period early learns fast, a long one late keeps Q(s0) from running away
    target_update_final: int = 200
    tau: float = 0.0  # soft target update θ' ← τθ + (1-τ)θ' every step; 0 = hard sync
    eps_start: float = 1.0  # ε-greedy: exploration at step 0 ...
    eps_end: float = 0.02  # ... falls linearly to this ...
    eps_decay_steps: int = 5_000  # ... over this many env steps (fixed, not the run's), then stays
    loss: str = "huber"  # per-sample loss L(δ): "huber" (smooth L1, δ-scale 1) or "mse"
    max_grad_norm: float = 0.0  # gradient-norm clipping; 0 = off (Huber already bounds |∂L/∂Q|)
    # Stabilisers, each off by default so that training stays as it was until measured.
    # n-step returns: a transition sums n rewards and bootstraps with γ^n (prdqn_lib.nstep);
    # 1 = one-step DQN; Ape-X and Rainbow use 3
    n_step: int = 1
    # dueling head Q = V + A − mean A (Wang et al. 2016); off: the plain MLP
    dueling: bool = False
    # Linear → LayerNorm → ReLU in hidden layers (Ball et al. 2023, Gallici et al. 2024); off
    layer_norm: bool = False
    # bound on the bootstrapped value Q_target(s', a*): clipped into [q_min, q_max] when
    # q_max > q_min; equal (0, 0) = off. CartPole (r ∈ [0, 1], γ 0.99): 0 and 1/(1−γ) = 100
    q_min: float = 0.0
    q_max: float = 0.0  # ... upper end (see q_min); off by default like every stabiliser
    alpha: float = 0.6  # PER: priority exponent α (p = (|δ|+ε)^α), the paper's proportional 0.6
    rank_alpha: float = 0.7  # rank-based PER: exponent α of P ∝ rank^-α, the paper's 0.7
    # PER and rank-based PER: initial importance-sampling exponent β0 ... 0 (IS weights off):
    # they shrink the updates on the over-valued terminal transitions PER samples most. The
    # paper's 0.4 → 1 stays PrioritizedReplay's own default; notebook 04 shows what it corrects
    beta: float = 0.0
    beta_final: float = 0.0  # ... annealed linearly to this over the run's gradient steps
    priority_eps: float = 0.01  # PER and list memory: ε added to |δ| so no P(i) is 0
    eval_every: int = 1_000  # env steps between greedy evaluations
    eval_episodes: int = 10  # greedy episodes per evaluation (mean return reported)
    num_threads: int = 1  # torch threads: 1 is fastest for these tiny networks on a CPU
    # apex (Ape-X on Ray, prdqn_lib.apex): per-sumtree's memory and agent, fed by N actors.
    # Actor i explores with a fixed ε_i = apex_eps^(1 + apex_eps_alpha·i/(N−1)) (Ape-X's 0.4
    # and 7) instead of the decaying schedule above; the eps_* fields are unused by apex
    actors: int = 2  # apex: actor processes, each with its own env, ε_i and network copy
    apex_eps: float = 0.4  # apex: ε of actor 0, the most exploratory
    apex_eps_alpha: float = 7.0  # apex: spread of the exponents (the last actor gets ε^(1+α))
    apex_block: int = 50  # apex: transitions per block an actor sends (Ape-X's local buffer)
    apex_sync_every: int = 50  # apex: learner updates between weight publications to actors
    # apex: "free" = Ape-X proper: actors, replay and learner each at their own rate (the
    # learner never waits for data once warm; the replay ratio that results is measured);
    # "paced" = the learner keeps per-sumtree's replay ratio and every evaluation waits for it
    # (the like-for-like comparison with the single-process variants)
    apex_mode: str = "free"

    def __post_init__(self) -> None:
        self._check_types()
        from .variants import variant_names  # the registry imports Config's module

        if self.variant not in variant_names():
            raise ValueError(
                f"variant must be one of {', '.join(variant_names())}; got {self.variant!r}"
            )
        positive = (
            "total_steps",
            "batch_size",
            "buffer_size",
            "train_every",
            "target_update",
            "eps_decay_steps",
            "eval_every",
            "eval_episodes",
            "num_threads",
            "actors",
            "apex_block",
            "apex_sync_every",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.learning_starts < 0:
            raise ValueError(f"learning_starts must be >= 0, got {self.learning_starts}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if not 0 < self.lr_final_frac <= 1:
            raise ValueError(f"lr_final_frac must lie in (0, 1], got {self.lr_final_frac}")
        if self.target_update_final < 0:
            raise ValueError(f"target_update_final must be >= 0, got {self.target_update_final}")
        if self.lr_decay_steps < 0:
            raise ValueError(f"lr_decay_steps must be >= 0, got {self.lr_decay_steps}")
        if not self.adam_eps > 0:
            raise ValueError(f"adam_eps must be positive, got {self.adam_eps}")
        if not 0 <= self.gamma <= 1:
            raise ValueError(f"gamma must lie in [0, 1], got {self.gamma}")
        if not 0 <= self.tau <= 1:
            raise ValueError(f"tau must lie in [0, 1], got {self.tau}")
        for name in ("eps_start", "eps_end", "beta", "beta_final", "apex_eps"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        if self.apex_mode not in ("free", "paced"):
            raise ValueError(f"apex_mode must be 'free' or 'paced', got {self.apex_mode!r}")
        if self.loss not in ("huber", "mse"):
            raise ValueError(f"loss must be 'huber' or 'mse', got {self.loss!r}")
        for name in ("max_grad_norm", "alpha", "apex_eps_alpha"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.rank_alpha <= 50:  # RankBasedReplay's own bound
            raise ValueError(f"rank_alpha must lie in [0, 50], got {self.rank_alpha}")
        if not self.priority_eps > 0:
            raise ValueError(f"priority_eps must be > 0, got {self.priority_eps}")
        if not self.hidden or any(h <= 0 for h in self.hidden):
            raise ValueError(f"hidden must be positive layer widths, got {self.hidden}")
        if self.n_step < 1:
            raise ValueError(f"n_step must be >= 1, got {self.n_step}")
        self._check_consistency()

    def _check_consistency(self) -> None:
        """Refuse pairs of fields that are each valid alone but contradict each other.

        Each error is one line naming both fields and their values (``CONTRADICTIONS`` lists
        the pairs; tests/test_config_types.py refuses each).
        """
        if self.tau > 0 and self.target_update_final:
            raise ValueError(
                f"tau={self.tau} (soft target updates every step) contradicts "
                f"target_update_final={self.target_update_final} (a hard-sync schedule): "
                f"set target_update_final=0 with tau > 0"
            )
        if self.eps_end > self.eps_start:
            raise ValueError(
                f"eps_end={self.eps_end} is above eps_start={self.eps_start}: exploration "
                f"would grow during training"
            )
        if self.beta_final < self.beta:
            raise ValueError(
                f"beta_final={self.beta_final} is below beta={self.beta}: PER anneals β up "
                f"towards 1 (full correction at the end), not down"
            )
        if self.lr_decay_steps and self.lr_decay_steps <= self.learning_starts:
            raise ValueError(
                f"lr_decay_steps={self.lr_decay_steps} is not after "
                f"learning_starts={self.learning_starts}: the schedules would end before the "
                f"first gradient step"
            )
        if self.lr_decay_steps and self.lr_final_frac == 1 and not self.target_update_final:
            raise ValueError(
                f"lr_decay_steps={self.lr_decay_steps} sets a horizon that nothing uses: "
                f"lr_final_frac={self.lr_final_frac} keeps lr constant (and "
                f"target_update_final=0 keeps the target period fixed)"
            )
        if self.q_max < self.q_min:  # equal = off; reversed is a mistake, not a way to say off
            raise ValueError(
                f"q_max={self.q_max} is below q_min={self.q_min}: the bound on the bootstrapped "
                f"value needs q_min < q_max (equal values switch it off)"
            )
        if self.batch_size > self.buffer_size:
            raise ValueError(
                f"batch_size={self.batch_size} is larger than buffer_size={self.buffer_size}: "
                f"every batch would repeat transitions"
            )

    @staticmethod
    def field_kind(name: str) -> str:
        """The kind of field ``name`` by its annotation: "float", "int", "bool", "str" or
        "tuple[int, ...]" (one place that reads the annotations: the type check here and the
        CLI's ``--set`` parser both use it)."""
        kinds = {f.name: f.type for f in dataclasses.fields(Config)}
        if name not in kinds:
            raise ValueError(f"{name!r} is not a field of Config")
        kind = kinds[name]
        return kind if isinstance(kind, str) else getattr(kind, "__name__", "")

    @staticmethod
    def parse_field(name: str, text: str) -> object:
        """``text`` (as typed after ``--set name=``) as a value of field ``name``'s kind.

        Raises ValueError naming the field and what it must be.
        """
        kind = Config.field_kind(name)
        try:
            if kind == "int":
                return int(text)
            if kind == "float":
                return float(text)
            if kind == "bool":
                return {"true": True, "1": True, "false": False, "0": False}[text.lower()]
            if kind.startswith("tuple[int"):
                return tuple(int(x) for x in text.split(","))
        except (ValueError, KeyError):
            expected = {"int": "an integer", "float": "a real number", "bool": "true or false"}
            what = expected.get(kind, "comma-separated integers, e.g. 64,64")
            raise ValueError(f"--set {name}={text}: {name} must be {what}") from None
        return text

    def _check_types(self) -> None:
        """Every field by its annotation, so a new field is covered without a line here: a
        float field takes a finite real number (stored as float), an int field an integer
        (not a bool or a float), a bool field True or False, a str field a str, a
        tuple[int, ...] field integers. TypeError / ValueError name the field and show the
        value."""
        for f in dataclasses.fields(self):
            name, value = f.name, getattr(self, f.name)
            kind = self.field_kind(name)
            if kind == "float":
                if isinstance(value, (bool, str)) or not isinstance(value, numbers.Real):
                    raise TypeError(f"{name} must be a real number, got {value!r}")
                if not math.isfinite(value):
                    raise ValueError(f"{name} must be finite, got {value!r}")
                object.__setattr__(self, name, float(value))
            elif kind == "int":
                if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                    raise TypeError(f"{name} must be an integer, got {value!r}")
                object.__setattr__(self, name, int(value))
            elif kind == "bool":
                if not isinstance(value, bool):
                    raise TypeError(f"{name} must be True or False, got {value!r}")
            elif kind == "str":
                if not isinstance(value, str):
                    raise TypeError(f"{name} must be a string, got {value!r}")
            elif kind.startswith("tuple[int"):
                if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
                    raise TypeError(f"{name} must be a tuple of integers, got {value!r}")
                if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in value):
                    raise TypeError(f"{name} must be a tuple of integers, got {value!r}")
                object.__setattr__(self, name, tuple(int(v) for v in value))

    @classmethod
    def preset(cls, variant: str, preset: str | None = None, **changes: Any) -> Config:
        """The Config ``variant`` trains with by default: the shared Config (the defaults
        above) with the variant's tuned preset applied, then ``changes``.

        The presets are round 3's winners (the same six candidates tuned for every variant on
        tuning seeds 20–25; ``benchmarks/PRESETS_PROTOCOL.md``), kept in each variant's
        registry entry (``Variant.preset``)::

            Config.preset("per-sumtree")                  # n_step 3, q in [0, 100]
            Config.preset("ddqn", seed=3)                 # its own preset, seed 3
            Config.preset("ddqn", "shared")               # the one shared Config (like for like)
            Config.preset("dqn", "per-sumtree")           # per-sumtree's preset on dqn

        Args:
            variant: a registered variant.
            preset: whose preset: None (the variant's own), ``"shared"`` (none) or the name of
                another registered variant.
            **changes: further fields (``seed``, ``total_steps``, ...), applied last.

        Raises:
            ValueError: an unknown variant, preset or field, or a Config that refuses the result.
        """
        from .variants import get_variant, variant_names

        get_variant(variant)  # a clear error for an unknown variant
        if preset is None:
            preset = variant
        if preset != "shared" and preset not in variant_names():
            raise ValueError(f"preset must be 'shared' or a variant ({', '.join(variant_names())})"
                             f"; got {preset!r}")  # fmt: skip
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(changes) - fields)
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a field of Config (changes={changes!r})")
        tuned = {} if preset == "shared" else get_variant(preset).preset
        return cls(**{**tuned, **changes, "variant": variant})

    def preset_name(self) -> str:
        """Which preset this Config is, apart from the run's own fields (variant, seed,
        total_steps, env_id): the variant's name (its own tuned preset), ``"shared"`` (the
        shared Config, which is also the own preset of a variant whose preset is empty), or
        ``"custom"``."""
        from .variants import get_variant

        own = {f: getattr(self, f) for f in ("seed", "total_steps", "env_id")}
        if self == Config.preset(self.variant, "shared", **own):
            return "shared"
        if get_variant(self.variant).preset and self == Config.preset(self.variant, **own):
            return self.variant
        return "custom"

    @property
    def double(self) -> bool:
        """Whether the variant's target is Double DQN's (from its registry entry)."""
        from .variants import get_variant

        return get_variant(self.variant).double

    @functools.cached_property
    def _schedules(self) -> tuple[LinearSchedule, LinearSchedule, LinearSchedule]:
        horizon = self._schedule_horizon()
        return (
            LinearSchedule(self.eps_start, self.eps_end, self.eps_decay_steps),
            LinearSchedule(1.0, self.lr_final_frac, horizon),
            LinearSchedule(self.target_update, self.target_update_final, horizon),
        )

    def learning_rate(self, update: int) -> float:
        """Learning rate of gradient step ``update``: linear from lr to lr·lr_final_frac over the
        run's gradient steps (or those of the first ``lr_decay_steps`` env steps), then
        constant: never 0 while lr_final_frac > 0."""
        return self.lr * self._schedules[1](update)

    def target_period(self, update: int) -> int:
        """Gradient steps between hard target syncs at gradient step ``update``: from
        target_update to target_update_final over the lr schedule's horizon, then constant."""
        if not self.target_update_final:
            return self.target_update
        return round(self._schedules[2](update))

    def _schedule_horizon(self) -> int:
        if self.lr_decay_steps:
            return max(1, (self.lr_decay_steps - self.learning_starts) // self.train_every)
        return self.gradient_steps

    @property
    def gradient_steps(self) -> int:
        """How many gradient steps a full run takes."""
        return max(1, (self.total_steps - self.learning_starts) // self.train_every)

    def epsilon(self, step: int) -> float:
        """ε of the linear exploration schedule at env step ``step``."""
        return self._schedules[0](step)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        data = dict(data)
        if "hidden" in data:
            data["hidden"] = tuple(data["hidden"])
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> Config:
        return cls.from_dict(json.loads(Path(path).read_text()))
