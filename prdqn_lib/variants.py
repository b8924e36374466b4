"""The variant registry: every variant declared once, read by the loop, the CLI, the plots, the
benchmarks and the README's variant table.

A variant is a replay memory (a factory from the Config), a target (DQN or Double DQN), its
loop options, its plot style and a one-line description. Adding a variant that reuses a memory
is one ``register(Variant(...))`` call (CONTRIBUTING.md, "Add a variant")::

    register(Variant(
        name="per-sumtree-a1",
        description="SumTree PER with α = 1 (priorities proportional to |δ|+ε)",
        memory=lambda cfg: PrioritizedReplay(cfg.buffer_size, alpha=1.0, seed=cfg.seed),
        memory_label="`PrioritizedReplay`, α = 1",
    ))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .replay import PrioritizedReplay, RankBasedReplay, TDErrorListReplay, UniformReplay

if TYPE_CHECKING:
    from .config import Config
    from .protocol import ReplayMemory

__all__ = [
    "OKABE_ITO",
    "Variant",
    "get_variant",
    "make_memory",
    "register",
    "unregister",
    "variant_names",
    "variant_table",
    "variants",
]

# Okabe & Ito's colour-blind-safe palette (Color Universal Design, 2008).
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}


@dataclass(frozen=True)
class Variant:
    """One variant of the series: what it stores, how it learns, how it is drawn.

    Attributes:
        name: the id used by ``Config.variant``, the CLI's ``--variant`` and result folders.
        description: one line for ``--help`` and the README's variant table.
        memory: ``config -> ReplayMemory``: builds the variant's memory from a Config.
        memory_label: the memory as the README's table names it (markdown).
        double: Double DQN's target, y = r + γ·Q'(s', argmax_a Q(s', a)); False: DQN's
            y = r + γ·max_a Q'(s', a).
        refresh_after_episode: loop option: recompute every stored |δ| after each episode
            (the second source's list memory; the memory must be a ``RefreshableMemory``).
        loop: ``"module:function"`` of a training loop of its own (Ape-X), called with
            ``(config, progress, desc, progress_file, ray_address=...)``; None: the standard
            loop of ``prdqn_lib.train``. A string, so that no loop imports another.
        style: matplotlib keyword arguments (colour, line style) used in every plot.
        preset: the variant's tuned Config, as changes to the shared Config (field → value):
            ``Config.preset(name)`` and the CLI's default for ``--variant name``. The series'
            presets are round 3's winners (``benchmarks/PRESETS_PROTOCOL.md``, the table in
            ``benchmarks/results/presets.md``); empty: the shared Config won.
        new_priority: loop option: where a new transition enters a prioritized memory:
            ``"max"`` (the paper's: the largest priority seen, so it is replayed soon) or
            ``"td"`` (at its own |δ| under the current networks, computed as it is stored:
            one forward pass per env step, as Ape-X's actors do).
    """

    name: str
    description: str
    memory: Callable[[Config], ReplayMemory]
    memory_label: str
    double: bool = True
    refresh_after_episode: bool = False
    loop: str | None = None
    style: dict[str, Any] = field(default_factory=lambda: {"color": "grey", "ls": "-"})
    preset: dict[str, Any] = field(default_factory=dict)
    new_priority: str = "max"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"name must be a non-empty string without spaces, got {self.name!r}")
        if not callable(self.memory):
            raise TypeError(f"memory must be callable (config -> memory), got {self.memory!r}")
        if self.loop is not None and (not isinstance(self.loop, str) or ":" not in self.loop):
            raise ValueError(f"loop must be None or 'module:function', got {self.loop!r}")
        for name in ("double", "refresh_after_episode"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.preset, dict) or not all(isinstance(k, str) for k in self.preset):
            raise TypeError(f"preset must be a dict of Config field names to values, got "
                            f"{self.preset!r}")  # fmt: skip
        if self.new_priority not in ("max", "td"):
            raise ValueError(f"new_priority must be 'max' or 'td', got {self.new_priority!r}")
        if self.new_priority != "max" and self.loop is not None:
            raise ValueError(f"new_priority={self.new_priority!r} is an option of the standard "
                             f"loop; loop={self.loop!r} has its own")  # fmt: skip

    @property
    def target_label(self) -> str:
        return "Double DQN" if self.double else "DQN"

    def resolve_loop(self) -> Callable[..., Any] | None:
        """The function of ``loop`` (imported now), or None for the standard loop."""
        if self.loop is None:
            return None
        module, _, function = self.loop.partition(":")
        return getattr(importlib.import_module(module), function)


_REGISTRY: dict[str, Variant] = {}


def register(variant: Variant, replace: bool = False) -> Variant:
    """Add ``variant`` to the registry (``replace=True`` to redefine a name). Returns it."""
    if not isinstance(variant, Variant):
        raise TypeError(f"variant must be a Variant, got {variant!r}")
    if variant.name in _REGISTRY and not replace:
        raise ValueError(f"variant {variant.name!r} is already registered (pass replace=True)")
    _REGISTRY[variant.name] = variant
    return variant


def unregister(name: str) -> None:
    """Remove a registered variant (tests and plug-ins that clean up after themselves)."""
    if name not in _REGISTRY:
        raise ValueError(f"variant {name!r} is not registered")
    del _REGISTRY[name]


def variant_names() -> tuple[str, ...]:
    """The registered variants' names, in registration order."""
    return tuple(_REGISTRY)


def variants() -> tuple[Variant, ...]:
    return tuple(_REGISTRY.values())


def get_variant(name: str) -> Variant:
    """The registered variant ``name`` (ValueError listing the names if there is none)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"variant must be one of {', '.join(_REGISTRY)}; got {name!r}") from None


def make_memory(config: Config) -> ReplayMemory:
    """The replay memory of ``config.variant``, built by its registry entry."""
    return get_variant(config.variant).memory(config)


def variant_table() -> str:
    """The README's variant table (markdown), generated from the registry."""
    rows = ["| variant | replay memory | target |", "|---|---|---|"]
    for v in _REGISTRY.values():
        rows.append(f"| `{v.name}` | {v.memory_label} | {v.target_label} |")
    return "\n".join(rows)


# --------------------------------------------------------------------- the memories' factories


def uniform_memory(cfg: Config) -> UniformReplay:
    """P(i) = 1/N over ``buffer_size`` transitions."""
    return UniformReplay(cfg.buffer_size, seed=cfg.seed)


def td_list_memory(cfg: Config) -> TDErrorListReplay:
    """The second source's list memory: P(i) ∝ |δ_i| + ε by a linear scan."""
    return TDErrorListReplay(cfg.buffer_size, eps=cfg.priority_eps, seed=cfg.seed)


def proportional_memory(cfg: Config) -> PrioritizedReplay:
    """Proportional PER; β reaches beta_final at the run's last gradient step."""
    return PrioritizedReplay(cfg.buffer_size, alpha=cfg.alpha, beta=cfg.beta,
                             beta_final=cfg.beta_final, beta_steps=cfg.gradient_steps,
                             eps=cfg.priority_eps, seed=cfg.seed)  # fmt: skip


def rank_memory(cfg: Config) -> RankBasedReplay:
    """Rank-based PER with α = rank_alpha and the same β schedule as proportional PER."""
    return RankBasedReplay(cfg.buffer_size, alpha=cfg.rank_alpha, beta=cfg.beta,
                           beta_final=cfg.beta_final, beta_steps=cfg.gradient_steps,
                           seed=cfg.seed)  # fmt: skip


# ------------------------------------------------------------------------- the series' variants

# Round 3's presets (benchmarks/results/presets.md: the same six candidates for every variant
# on tuning seeds 20–25, picked by the rule committed first in PRESETS_PROTOCOL.md; a test
# checks these against benchmarks/results/presets.json)
_N3_BOUND = {"n_step": 3, "q_min": 0.0, "q_max": 100.0}  # 3-step returns, Q' kept in [0, 100]

register(Variant(
    name="dqn",
    description="uniform replay + DQN target",
    memory=uniform_memory,
    memory_label="`UniformReplay`",
    double=False,
    style={"color": OKABE_ITO["orange"], "ls": ":"},
))  # fmt: skip
register(Variant(
    name="ddqn",
    description="uniform replay + Double DQN target",
    memory=uniform_memory,
    memory_label="`UniformReplay`",
    style={"color": OKABE_ITO["sky blue"], "ls": "-."},
    preset=dict(_N3_BOUND),
))  # fmt: skip
register(Variant(
    name="per-list",
    description="TD-error list memory (every |δ| refreshed after each episode) + Double DQN",
    memory=td_list_memory,
    memory_label="`TDErrorListReplay`, every stored \\|δ\\| refreshed after each episode",
    refresh_after_episode=True,
    style={"color": OKABE_ITO["bluish green"], "ls": "--"},
    preset={"n_step": 3},
))  # fmt: skip
register(Variant(
    name="per-sumtree",
    description="SumTree proportional PER + Double DQN",
    memory=proportional_memory,
    memory_label="`PrioritizedReplay` (SumTree; IS weights off in the default Config, see "
                 "Results)",
    style={"color": OKABE_ITO["blue"], "ls": "-"},
    preset=dict(_N3_BOUND),
))  # fmt: skip
register(Variant(
    name="per-rank",
    description="rank-based PER (exact order-statistics tree) + Double DQN",
    memory=rank_memory,
    memory_label="`RankBasedReplay` (P ∝ rank^-α, α = `rank_alpha` = 0.7; the same β as "
                 "per-sumtree)",
    style={"color": OKABE_ITO["reddish purple"], "ls": (0, (5, 1))},
))  # fmt: skip
register(Variant(
    name="apex",
    description="Ape-X: --actors actors on Ray feeding one SumTree PER learner",
    memory=proportional_memory,
    memory_label="Ape-X on Ray: `--actors` N actor processes (fixed ε_i = 0.4^(1+7i/(N−1)), "
                 "actor-side \\|δ\\|, 3-step returns) feed one `PrioritizedReplay` held by a Ray "
                 "actor; a dueling learner runs free (`apex_mode=paced`: at per-sumtree's "
                 "replay ratio)",
    loop="prdqn_lib.apex:train_apex",
    style={"color": OKABE_ITO["vermillion"], "ls": (0, (3, 1, 1, 1))},
    # Ape-X DQN's learner (Horgan et al., 2018), not a sweep's winner: 3-step returns, a
    # dueling head, IS weights with PER's β from 0.4 to 1; --preset shared: one-step, plain MLP
    preset={"n_step": 3, "dueling": True, "beta": 0.4, "beta_final": 1.0},
))  # fmt: skip
