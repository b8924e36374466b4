"""The notebooks' setup: quick mode reuses one scratch media folder and says it is quick mode;
full mode uses media/ and says nothing."""

from pathlib import Path

from prdqn_lib.notebook import setup


def test_quick_mode_reuses_one_scratch_folder(monkeypatch, tmp_path, capsys):
    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root / "notebooks")
    monkeypatch.setenv("PRDQN_QUICK", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    first, second = setup(), setup()
    assert first.quick and first.steps == 3_000
    assert first.media == second.media and first.media.is_dir()
    assert first.media.parent == tmp_path and list(tmp_path.iterdir()) == [first.media]
    assert first.root == root
    assert first.results == root / "benchmarks" / "results" / "learning_shared"
    # outside IPython the notice is one printed line, per setup() call
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].startswith("QUICK MODE (PRDQN_QUICK=1)")
    assert "3,000 env steps instead of 20,000" in out[0]


def test_full_mode_writes_to_the_projects_media(monkeypatch, capsys):
    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root / "notebooks")
    monkeypatch.delenv("PRDQN_QUICK", raising=False)
    nb = setup(full_steps=50_000)
    assert not nb.quick and nb.steps == 50_000 and nb.media == root / "media"
    assert capsys.readouterr().out == ""
