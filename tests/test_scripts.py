"""The maintenance scripts answer --help at once, and a stopped mutant run cleans up."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.mark.parametrize("script", ["check_mutants.py", "run_notebooks.py"])
def test_help_answers_at_once(script, tmp_path):
    start = time.perf_counter()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    r = subprocess.run([sys.executable, str(SCRIPTS / script), "--help"], capture_output=True,
                       text=True, timeout=60, env=env)  # fmt: skip
    assert r.returncode == 0 and r.stdout.startswith("usage:"), r.stderr
    assert time.perf_counter() - start < 30 and list(tmp_path.iterdir()) == []


def test_run_notebooks_names_a_pattern_that_matches_nothing():
    r = subprocess.run([sys.executable, str(SCRIPTS / "run_notebooks.py"), "no-such"],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2 and "no notebook name contains no-such" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 2  # usage + the error, argparse's way


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_mutant_run_removes_its_copy(tmp_path, sig):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) or a SIGTERM."""
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPTS / "check_mutants.py"), "--only", "float32 tree"],
        env={**os.environ, "TMPDIR": str(tmp_path)}, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not any(tmp_path.glob("prdqn-mutant-*/prdqn_lib/replay.py")):
            assert time.monotonic() < deadline and proc.poll() is None, "no mutant copy made"
            time.sleep(0.05)
        time.sleep(0.5)  # the pytest child is starting
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "stopped" in err
    assert not list(tmp_path.glob("prdqn-mutant-*"))


def test_run_notebooks_keeps_what_a_terminal_shows_of_a_progress_bar():
    sys.path.insert(0, str(SCRIPTS))
    try:
        from run_notebooks import collapse_progress
    finally:
        sys.path.remove(str(SCRIPTS))
    bar = "dqn:   0%| 0/50\rdqn:  50%| 25/50\rdqn: 100%| 50/50\rdqn: 100%| 50/50 done\n"
    assert collapse_progress(bar + "\nsolved at 12\n") == "dqn: 100%| 50/50 done\n\nsolved at 12\n"
    assert collapse_progress("no bar\nat all\n") == "no bar\nat all\n"


def test_bench_learning_refuses_a_budget_without_an_evaluation(tmp_path):
    bench = SCRIPTS.parent / "benchmarks" / "bench_learning.py"
    r = subprocess.run([sys.executable, str(bench), "--steps", "600", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 2 and "--steps must be at least 1,000" in r.stderr and "600" in r.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_run_notebooks_merges_a_cells_stream_outputs_before_collapsing():
    import nbformat

    sys.path.insert(0, str(SCRIPTS))
    try:
        from run_notebooks import collapse_outputs
    finally:
        sys.path.remove(str(SCRIPTS))

    def out(name, text):
        return nbformat.v4.new_output("stream", name=name, text=text)

    cell = nbformat.v4.new_code_cell(outputs=[
        out("stdout", "\rdqn:   0%"), out("stdout", "\rdqn:  50%"), out("stdout", "\rdqn: 100%\n"),
        out("stderr", "warn\n"), out("stdout", "solved at 12\n"),
    ])  # fmt: skip
    nb = nbformat.v4.new_notebook(cells=[cell])
    collapse_outputs(nb)
    assert [(o["name"], o["text"]) for o in cell.outputs] == [
        ("stdout", "dqn: 100%\n"), ("stderr", "warn\n"), ("stdout", "solved at 12\n")
    ]  # fmt: skip
