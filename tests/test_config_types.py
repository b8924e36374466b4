"""Config checks every field by its type, so a field added later is covered automatically."""

import dataclasses

import pytest

from prdqn_lib.config import Config

FIELDS = {f.name: f.type for f in dataclasses.fields(Config)}
FLOATS = [name for name, kind in FIELDS.items() if kind == "float"]
INTS = [name for name, kind in FIELDS.items() if kind == "int"]


@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_float_fields_must_be_finite(name, bad):
    with pytest.raises(ValueError, match=f"^{name} must be finite, got {bad}$"):
        Config(**{name: bad})


@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("bad", ["0.5", None, True, [1.0]])
def test_float_fields_must_be_numbers(name, bad):
    with pytest.raises(TypeError, match=f"^{name} must be a real number, got "):
        Config(**{name: bad})


@pytest.mark.parametrize("name", INTS)
@pytest.mark.parametrize("bad", [2.0, "3", None, True])
def test_int_fields_must_be_integers(name, bad):
    with pytest.raises(TypeError, match=f"^{name} must be an integer, got "):
        Config(**{name: bad})


def test_values_are_stored_as_their_field_type():
    import numpy as np

    cfg = Config(gamma=1, lr=np.float32(0.5), batch_size=np.int64(64), hidden=[32, 16])
    assert type(cfg.gamma) is float and type(cfg.lr) is float and type(cfg.batch_size) is int
    assert cfg.hidden == (32, 16)
    assert Config.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    ("change", "error", "shown"),
    [
        ({"hidden": (64, "a")}, TypeError, "hidden must be a tuple of integers, got (64, 'a')"),
        ({"hidden": "64"}, TypeError, "hidden must be a tuple of integers, got '64'"),
        ({"env_id": 3}, TypeError, "env_id must be a string, got 3"),
        ({"alpha": -0.5}, ValueError, "alpha must be >= 0, got -0.5"),
        ({"max_grad_norm": -1.0}, ValueError, "max_grad_norm must be >= 0, got -1.0"),
        ({"priority_eps": 0.0}, ValueError, "priority_eps must be > 0, got 0.0"),
    ],
)
def test_other_bad_values_name_the_field(change, error, shown):
    with pytest.raises(error) as info:
        Config(**change)
    assert str(info.value) == shown


# Pairs of fields each valid alone that together make no sense: (change, both names shown).
CONTRADICTIONS = [
    ({"tau": 0.01}, ("tau=0.01", "target_update_final=200")),
    ({"eps_start": 0.1, "eps_end": 0.5}, ("eps_end=0.5", "eps_start=0.1")),
    ({"beta": 0.4, "beta_final": 0.2}, ("beta_final=0.2", "beta=0.4")),
    ({"lr_decay_steps": 500}, ("lr_decay_steps=500", "learning_starts=1000")),
    (
        {"lr_decay_steps": 5000, "lr_final_frac": 1.0, "target_update_final": 0},
        ("lr_decay_steps=5000", "lr_final_frac=1.0"),
    ),
    ({"batch_size": 256, "buffer_size": 100}, ("batch_size=256", "buffer_size=100")),
    ({"q_min": 10.0, "q_max": 5.0}, ("q_max=5.0", "q_min=10.0")),
]


@pytest.mark.parametrize(("change", "names"), CONTRADICTIONS, ids=[c[1][0] for c in CONTRADICTIONS])
def test_contradicting_fields_are_refused_in_one_line_naming_both(change, names):
    with pytest.raises(ValueError) as info:
        Config(**change)
    message = str(info.value)
    assert "\n" not in message
    for shown in names:
        assert shown in message, message


@pytest.mark.parametrize(
    "change",
    [
        {"tau": 0.01, "target_update_final": 0},  # soft updates alone
        {"eps_start": 0.1, "eps_end": 0.1},  # constant ε
        {"beta": 0.4, "beta_final": 0.4},  # constant β
        {"lr_decay_steps": 1001},  # decay right after learning starts
        {"lr_decay_steps": 5000, "lr_final_frac": 1.0},  # the horizon still drives the period
        {"batch_size": 100, "buffer_size": 100},
    ],
)
def test_the_neighbours_of_each_contradiction_are_accepted(change):
    Config(**change)


def test_replace_checks_the_pair_after_all_changes():
    """The CLI and dataclasses.replace pass every change at once: a pair changed together is
    judged together, not field by field."""
    cfg = dataclasses.replace(Config(), tau=0.01, target_update_final=0)
    assert cfg.tau == 0.01


def test_parse_field_reads_each_kind_from_the_annotation():
    assert Config.parse_field("lr", "0.5") == 0.5
    assert Config.parse_field("batch_size", "32") == 32
    assert Config.parse_field("hidden", "32,16") == (32, 16)
    assert Config.parse_field("loss", "mse") == "mse"
    for name, kind in FIELDS.items():
        assert Config.field_kind(name) in ("float", "int", "bool", "str", "tuple[int, ...]"), kind
    with pytest.raises(ValueError, match=r"^--set lr=fast: lr must be a real number$"):
        Config.parse_field("lr", "fast")
    with pytest.raises(ValueError, match="'nope' is not a field of Config"):
        Config.field_kind("nope")
