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
