"""Round 3's presets: each variant's tuned Config, where it comes from and who uses it.

* the registry's presets are the tuning sweep's winners (benchmarks/results/presets.json, written
  by benchmarks/tune_presets.py's committed rule), so code and results cannot drift apart;
* ``Config.preset`` and ``Config.preset_name``; the CLI trains a variant with its own preset
  unless ``--preset shared`` (or another variant's) is given, and says which in summary.json;
* the rule that chose them (speed rule, ranking, ties) against a hand-made table.
"""

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from prdqn_lib.config import Config
from prdqn_lib.replay import PrioritizedReplay
from prdqn_lib.train import train
from prdqn_lib.variants import (
    Variant,
    get_variant,
    proportional_memory,
    register,
    unregister,
    variant_names,
)

ROOT = Path(__file__).resolve().parents[1]
TUNED = ("dqn", "ddqn", "per-list", "per-sumtree", "per-rank")


def _tune_presets():
    spec = importlib.util.spec_from_file_location(
        "tune_presets", ROOT / "benchmarks" / "tune_presets.py"
    )
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def test_the_registry_presets_are_the_sweeps_winners():
    winners = json.loads((ROOT / "benchmarks" / "results" / "presets.json").read_text())
    assert sorted(winners) == sorted(TUNED)  # the sweep finished for every variant
    for v in TUNED:
        assert get_variant(v).preset == winners[v]["overrides"], v
    # apex is not tuned: its preset is Ape-X DQN's learner (Horgan et al., 2018)
    assert get_variant("apex").preset == {"n_step": 3, "dueling": True, "beta": 0.4,
                                          "beta_final": 1.0}  # fmt: skip


def test_the_winners_follow_from_the_committed_table():
    """presets.json is what the committed rule gives on the committed runs (re-derived)."""
    tp = _tune_presets()
    winners = json.loads((ROOT / "benchmarks" / "results" / "presets.json").read_text())
    for v in TUNED:
        table = {c: tp.measures(v, c) for c in tp.CANDIDATES}
        assert all(m["seeds"] == len(tp.SEEDS) for m in table.values())
        assert tp.choose(v, table)[0] == winners[v]["candidate"]


def _m(ends, stable, solved, median, sps):
    return {"ends_solved": ends, "stable": stable, "solved": solved, "median_solve": median,
            "steps_per_s": sps, "seeds": 6}  # fmt: skip


def test_the_decision_rule_speed_rule_ranking_and_ties():
    tp = _tune_presets()
    table = {
        "shared": _m(3, 0.70, 6, 12_000, 1000),
        "n3": _m(5, 0.80, 6, 9_000, 899),  # best, but below 90% of shared's speed: out
        "ln": _m(4, 0.60, 6, 20_000, 950),  # more seeds end solved beats a higher stable share
        "bound": _m(4, 0.50, 6, 10_000, 1000),
        "dueling": _m(3, 0.90, 6, 30_000, 900),  # exactly 90%: kept
    }
    best, out = tp.choose("x", table)
    assert out == ["n3"] and best == "ln"
    table["bound"] = _m(4, 0.60, 6, 20_000, 1000)  # a tie in every measure: the earlier one
    assert tp.choose("x", table)[0] == "ln"
    table["bound"] = _m(4, 0.60, 6, 19_000, 1000)  # fewer steps to solve breaks the tie
    assert tp.choose("x", table)[0] == "bound"


@pytest.mark.parametrize("variant", [*TUNED, "apex"])
def test_config_preset_applies_the_variants_preset_then_the_changes(variant):
    tuned = get_variant(variant).preset
    cfg = Config.preset(variant, seed=7, total_steps=3000)
    assert (cfg.variant, cfg.seed, cfg.total_steps) == (variant, 7, 3000)
    for field, value in tuned.items():
        assert getattr(cfg, field) == value
    shared = Config.preset(variant, "shared", seed=7, total_steps=3000)
    assert shared == Config(variant=variant, seed=7, total_steps=3000)
    assert (cfg == shared) is (not tuned)
    assert cfg.preset_name() == (variant if tuned else "shared")
    assert shared.preset_name() == "shared"
    assert dataclasses.replace(cfg, lr=1e-3).preset_name() == "custom"
    assert Config.preset(variant, lr=1e-3).lr == 1e-3  # a change wins over the preset


def test_another_variants_preset_and_the_errors():
    cfg = Config.preset("dqn", "per-sumtree")
    assert cfg.variant == "dqn" and cfg.n_step == 3 and cfg.q_max == 100
    with pytest.raises(ValueError, match=r"preset must be 'shared' or a variant .*got 'tuned'"):
        Config.preset("dqn", "tuned")
    with pytest.raises(ValueError, match="variant must be one of .*got 'nope'"):
        Config.preset("nope")
    with pytest.raises(ValueError, match=r"'lrr' is not a field of Config"):
        Config.preset("dqn", lrr=1)
    assert Config.preset("apex", "per-sumtree").n_step == 3  # apex's actors send n-step


def test_a_variant_refuses_a_preset_that_is_not_a_dict():
    with pytest.raises(TypeError, match="preset must be a dict"):
        Variant("x", "x", proportional_memory, "x", preset=[("n_step", 3)])
    with pytest.raises(ValueError, match="new_priority must be 'max' or 'td', got 'own'"):
        Variant("x", "x", proportional_memory, "x", new_priority="own")


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "prdqn_lib", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)  # fmt: skip


SHORT = ["--steps", "600", "--set", "eval_every=300", "--set", "eval_episodes=2", "--set",
         "learning_starts=200", "--no-progress"]  # fmt: skip


def test_the_cli_trains_with_the_variants_preset_unless_told_otherwise(tmp_path):
    own, shared = tmp_path / "own", tmp_path / "shared"
    r = cli("train", "--variant", "per-sumtree", "--out", str(own), *SHORT)
    assert r.returncode == 0, r.stderr
    r = cli("train", "--variant", "per-sumtree", "--preset", "shared", "--out", str(shared),
            *SHORT)  # fmt: skip
    assert r.returncode == 0, r.stderr
    c_own, c_shared = Config.load(own / "config.json"), Config.load(shared / "config.json")
    assert (c_own.n_step, c_own.q_max) == (3, 100) and (c_shared.n_step, c_shared.q_max) == (1, 0)
    # --set changes the preset's fields; summary.json names the preset it is (or custom)
    assert json.loads((own / "summary.json").read_text())["preset"] == "custom"  # the --set's
    assert c_own == Config.preset("per-sumtree", total_steps=600, eval_every=300,
                                  eval_episodes=2, learning_starts=200)  # fmt: skip


def test_the_cli_refuses_an_unknown_preset_before_writing(tmp_path):
    out = tmp_path / "run"
    r = cli("train", "--variant", "ddqn", "--preset", "tuned", "--out", str(out))
    assert r.returncode == 2 and not out.exists()
    assert r.stderr.count("\n") == 1 and "got 'tuned'" in r.stderr


# --- new_priority="td": a new transition enters at its own |δ|, not at the running max


@pytest.fixture
def own_td_variant():
    register(Variant("per-own-td", "PER, new transitions at their own |δ|", proportional_memory,
                     "x", new_priority="td"))  # fmt: skip
    yield "per-own-td"
    unregister("per-own-td")


@pytest.mark.parametrize("n_step", [1, 3])
def test_new_transitions_enter_at_their_own_td_error(own_td_variant, n_step):
    """Before learning starts the networks never change, so every stored priority must be
    (|δ|+ε)^α of its transition under the final networks: a brute-force recomputation. The
    paper's variant (new at the max) fails the same check (every priority 1)."""
    for variant, own in ((own_td_variant, True), ("per-sumtree", False)):
        cfg = Config(variant=variant, total_steps=300, learning_starts=400, eval_every=300,
                     eval_episodes=1, n_step=n_step, seed=3)  # fmt: skip
        result = train(cfg, progress=False)
        memory = result.memory
        assert isinstance(memory, PrioritizedReplay) and len(memory) > 250
        td = result.agent.td_errors(memory.transitions())
        expected = (td + cfg.priority_eps) ** cfg.alpha
        stored = memory.tree.priorities(np.arange(len(memory)))
        assert np.allclose(stored, expected, rtol=1e-6) is own
        if not own:
            assert np.all(stored == 1.0)


def test_new_priority_td_is_refused_for_a_loop_of_its_own():
    with pytest.raises(ValueError, match="new_priority='td' is an option of the standard loop"):
        Variant("x", "x", proportional_memory, "x", new_priority="td", loop="m:f")


def test_every_series_variant_has_a_registered_preset_name():
    for v in variant_names():
        assert Config.preset(v).preset_name() in (v, "shared")


def test_bench_learning_runs_each_preset_and_the_shared_config_once(tmp_path):
    """Own preset and shared Config for every variant; a preset equal to the shared Config
    (dqn's) is one run, not two."""
    bench = ROOT / "benchmarks" / "bench_learning.py"
    r = subprocess.run([sys.executable, str(bench), "--variants", "dqn", "ddqn", "--seeds", "0",
                        "--steps", "1000", "--speed-steps", "0", "--workers", "1", "--out",
                        str(tmp_path)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    runs = sorted(str(p.parent.relative_to(tmp_path)) for p in tmp_path.rglob("summary.json"))
    assert runs == ["learning/ddqn/seed0", "learning_shared/ddqn/seed0",
                    "learning_shared/dqn/seed0"]  # fmt: skip
    assert Config.load(tmp_path / "learning/ddqn/seed0/config.json") == Config.preset(
        "ddqn", seed=0, total_steps=1000
    )
    assert Config.load(tmp_path / "learning_shared/ddqn/seed0/config.json") == Config(
        variant="ddqn", seed=0, total_steps=1000
    )
    text = (tmp_path / "learning.md").read_text()
    assert "own preset" in text and "shared Config" in text


@pytest.fixture
def ablation():
    """benchmarks/ablation.py, whose import registers two variants: removed afterwards, so
    that no other test sees them in the registry."""
    before = set(variant_names())
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import ablation as module
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    yield module
    for name in set(variant_names()) - before:
        unregister(name)
    sys.modules.pop("ablation", None)


def test_each_ablation_arm_changes_one_thing_of_the_preset(ablation):
    preset = Config.preset("per-sumtree", total_steps=ablation.STEPS)
    expected = {"alpha0": {"alpha": 0.0}, "alpha1": {"alpha": 1.0},
                "is-on": {"beta": 0.4, "beta_final": 1.0}, "full-refresh": {},
                "new-own-td": {}}  # fmt: skip
    assert list(ablation.ARMS) == list(expected)
    for arm, changes in expected.items():
        cfg = ablation.config_of(arm)
        diff = {
            f.name: getattr(cfg, f.name)
            for f in dataclasses.fields(cfg)
            if f.name != "variant" and getattr(cfg, f.name) != getattr(preset, f.name)
        }
        assert diff == changes, arm
    refresh = get_variant(ablation.config_of("full-refresh").variant)
    own_td = get_variant(ablation.config_of("new-own-td").variant)
    assert refresh.refresh_after_episode and refresh.new_priority == "max"
    assert own_td.new_priority == "td" and not own_td.refresh_after_episode
    for j in ablation.jobs()[: len(expected)]:  # the jobs train exactly these Configs
        assert j.config() == ablation.config_of(
            next(a for a in expected if j.folder.split("/")[-2] == a), j.seed
        )
