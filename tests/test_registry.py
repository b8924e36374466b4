"""The variant registry and the ReplayMemory protocol: one place per idea.

Every variant comes from the registry (CLI choices, memories, targets, styles, the README's
table), and a memory and variants defined *outside* the package (tests/plugins/toy_plugin.py)
train through ``train()`` and the command line like the series' own.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from prdqn_lib.cli import build_parser, load_plugin
from prdqn_lib.cli import main as cli_main
from prdqn_lib.config import Config
from prdqn_lib.plots import VARIANT_STYLE, variant_style
from prdqn_lib.protocol import PrioritizedMemory, RefreshableMemory, ReplayMemory
from prdqn_lib.replay import PrioritizedReplay, RankBasedReplay, TDErrorListReplay, UniformReplay
from prdqn_lib.train import train
from prdqn_lib.variants import (
    Variant,
    get_variant,
    make_memory,
    register,
    unregister,
    variant_names,
    variant_table,
)

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "tests" / "plugins" / "toy_plugin.py"
SERIES = ("dqn", "ddqn", "per-list", "per-sumtree", "per-rank", "apex")
MEMORY_OF = {"dqn": UniformReplay, "ddqn": UniformReplay, "per-list": TDErrorListReplay,
             "per-sumtree": PrioritizedReplay, "per-rank": RankBasedReplay,
             "apex": PrioritizedReplay}  # fmt: skip
SHORT = {"eval_every": 500, "eval_episodes": 3, "learning_starts": 200, "buffer_size": 5_000}


@pytest.fixture
def toy_plugin():
    """The plug-in's variants, registered for one test and removed after it."""
    load_plugin(str(PLUGIN))
    yield
    for name in ("toy-recent", "per-alpha1"):
        if name in variant_names():
            unregister(name)


def test_the_series_variants_are_registered_in_order():
    assert variant_names()[: len(SERIES)] == SERIES


@pytest.mark.parametrize("name", SERIES)
def test_each_variant_builds_its_memory_and_target(name):
    cfg = Config(variant=name, buffer_size=200)
    memory = make_memory(cfg)
    assert type(memory) is MEMORY_OF[name]
    assert isinstance(memory, ReplayMemory) and isinstance(memory, PrioritizedMemory)
    assert cfg.double is (name != "dqn")
    assert isinstance(memory, RefreshableMemory) is (MEMORY_OF[name] is not UniformReplay)
    assert get_variant(name).refresh_after_episode is (name == "per-list")


def test_the_cli_and_the_plots_read_the_registry(toy_plugin):
    parser = build_parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    variant_action = next(a for a in train_parser._actions if a.dest == "variant")
    assert tuple(variant_action.choices) == variant_names()
    assert "toy-recent" in variant_action.choices
    assert VARIANT_STYLE["per-sumtree"] == get_variant("per-sumtree").style
    assert "toy-recent" in VARIANT_STYLE and variant_style("no-such")["color"] == "grey"


def test_the_readme_variant_table_is_the_registrys():
    """README's table is generated (python scripts/readme_tables.py): it must be current."""
    readme = (ROOT / "README.md").read_text()
    assert variant_table() in readme, "run: python scripts/readme_tables.py"


def test_register_refuses_bad_entries_and_duplicates():
    with pytest.raises(ValueError, match="variant 'dqn' is already registered"):
        register(Variant("dqn", "again", lambda c: None, "x"))
    with pytest.raises(ValueError, match="name must be a non-empty string without spaces"):
        Variant("two words", "", lambda c: None, "x")
    with pytest.raises(TypeError, match="memory must be callable"):
        Variant("x", "", None, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="loop must be None or 'module:function'"):
        Variant("x", "", lambda c: None, "x", loop="train_apex")
    with pytest.raises(ValueError, match="variant must be one of dqn, ddqn"):
        Config(variant="nope")


def _memories():
    return [UniformReplay(16, seed=0), TDErrorListReplay(16, seed=0),
            PrioritizedReplay(16, seed=0), RankBasedReplay(16, seed=0)]  # fmt: skip


def _block(n, rng, dim=3):
    return (rng.normal(size=(n, dim)).astype(np.float32), rng.integers(0, 2, n),
            rng.normal(size=n), rng.normal(size=(n, dim)).astype(np.float32),
            rng.random(n) < 0.2)  # fmt: skip


@pytest.mark.parametrize("with_td", [False, True])
@pytest.mark.parametrize("n", [1, 7, 16, 23])
def test_add_batch_is_n_adds_then_update_priorities_for_every_memory(n, with_td):
    """Two copies of each memory, one fed by add (and update_priorities), one by add_batch:
    the same stored transitions, the same P(i), the same next samples."""
    rng = np.random.default_rng(n)
    first = _block(5, rng)
    block = _block(n, rng)
    td = rng.random(n) * 3
    for one, many in zip(_memories(), _memories(), strict=True):
        for m in (one, many):
            m.add_batch(*first)
        idx = [one.add(*(col[k] for col in block)) for k in range(n)]
        if with_td:
            one.update_priorities(idx, td)
        got = many.add_batch(*block, td if with_td else None)
        assert list(got) == list(np.asarray(idx)[-min(n, 16) :])
        a, b = one.transitions(), many.transitions()
        for field in ("obs", "actions", "rewards", "next_obs", "terminated"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
        np.testing.assert_allclose(one.probabilities(), many.probabilities(), rtol=1e-12)
        np.testing.assert_array_equal(one.sample(8).indices, many.sample(8).indices)


def test_transitions_reads_what_was_stored_and_checks_indices():
    rng = np.random.default_rng(0)
    block = _block(5, rng)
    for m in _memories():
        assert len(m.transitions()) == 0
        m.add_batch(*block)
        t = m.transitions([4, 0])
        np.testing.assert_array_equal(t.obs, block[0][[4, 0]])
        np.testing.assert_array_equal(t.actions, block[1][[4, 0]])
        assert (t.weights == 1).all()
        with pytest.raises(ValueError, match="indices"):
            m.transitions([5])


def test_a_memory_and_variants_from_outside_the_package_train(toy_plugin):
    """The plug-in's own memory (no base class of the library) and a variant that reuses SumTree
    PER train through train(), with the History, evaluations and best checkpoint of any run."""
    for name in ("toy-recent", "per-alpha1"):
        result = train(Config(variant=name, total_steps=2_000, **SHORT), progress=False)
        h = result.history
        assert h.env_steps == 2_000 and len(h.evals) == 4 and result.best_agent is not None
        assert result.agent.updates == (2_000 - 200) // 2
    alpha1 = make_memory(Config(variant="per-alpha1"))
    assert isinstance(alpha1, PrioritizedReplay) and alpha1.alpha == 1.0


def test_a_plugin_variant_trains_through_the_command_line(tmp_path):
    out = tmp_path / "toy"
    sets = [x for k, v in SHORT.items() for x in ("--set", f"{k}={v}")]
    r = subprocess.run(
        [sys.executable, "-m", "prdqn_lib", "--plugin", str(PLUGIN), "train", "--variant",
         "toy-recent", "--steps", "2000", "--out", str(out), "--no-progress", *sets],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["variant"] == "toy-recent" and summary["env_steps"] == 2000
    for name in ("history.csv", "eval.csv", "learning_curve.png", "episode.gif", "agent.pt",
                 "best_agent.pt", "config.json"):  # fmt: skip
        assert (out / name).exists(), name


def test_a_bad_plugin_is_one_line_and_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('oops')\n")
    for spec, shown in ((str(broken), "RuntimeError: oops"), ("no_such_module_x", "cannot"),
                        (str(tmp_path / "missing.py"), "no such file")):  # fmt: skip
        with pytest.raises(SystemExit) as info:
            cli_main(["--plugin", spec, "train", "--variant", "dqn", "--out", str(tmp_path / "o")])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and shown in err[0], err
    assert not (tmp_path / "o").exists()
