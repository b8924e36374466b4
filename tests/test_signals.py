"""A run ended from outside keeps what it recorded, whatever signal ends it.

Ctrl-C (SIGINT), ``timeout`` / ``kill`` / ``docker stop`` / a scheduler (SIGTERM), a closed
terminal (SIGHUP): each stops training at once and the CLI still writes every file, with the
signal named in summary.json and the shell's exit status 128 + signal number.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from prdqn_lib.config import Config
from prdqn_lib.recorder import STOP_SIGNALS, stop_signals
from prdqn_lib.train import train

ROOT = Path(__file__).resolve().parents[1]
FILES = ("config.json", "summary.json", "history.csv", "eval.csv", "agent.pt", "best_agent.pt",
         "learning_curve.png", "episode.gif")  # fmt: skip
LONG = ["--steps", "400000", "--set", "eval_every=500", "--set", "eval_episodes=2", "--set",
        "learning_starts=200"]  # fmt: skip


def _start(out: Path, prefix: tuple[str, ...] = ()) -> subprocess.Popen:
    cmd = [*prefix, sys.executable, "-m", "prdqn_lib", "train", "--variant", "dqn", "--out",
           str(out), *LONG]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


class _Progress:
    """Reads the run's progress bar (stderr) in a thread, as a user watches it."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen) -> None:
        while chunk := os.read(proc.stderr.fileno(), 4096):
            self.text += chunk.decode(errors="replace")

    def wait_for_an_evaluation(self, proc: subprocess.Popen, timeout: float = 180) -> None:
        """Until the bar shows an evaluation's return (``eval=123``): training is under way."""
        end = time.monotonic() + timeout
        while not re.search(r"eval=\d", self.text):
            assert proc.poll() is None, self.text
            assert time.monotonic() < end, f"no evaluation yet: {self.text[-300:]}"
            time.sleep(0.2)

    def finish(self) -> str:
        self._thread.join(timeout=30)
        return self.text


def test_sigterm_stops_the_cli_run_and_every_file_is_written(tmp_path):
    sig = signal.SIGTERM
    out = tmp_path / "run"
    proc = _start(out)
    bar = _Progress(proc)
    bar.wait_for_an_evaluation(proc)
    proc.send_signal(sig)
    proc.wait(timeout=180)
    stdout, stderr = proc.stdout.read(), bar.finish()
    assert proc.returncode == 128 + sig, (proc.returncode, stderr)
    for name in FILES:
        assert (out / name).exists(), (name, stderr)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["stop_signal"] == sig.name
    assert 0 < summary["env_steps"] < 400_000
    assert f"interrupted by {sig.name}" in stdout


def test_timeout_as_a_user_runs_it_leaves_a_complete_run(tmp_path):
    """``timeout 30 python -m prdqn_lib train ...``: what a new user tries first (30 s: well past
    start-up, which takes a few seconds, even on a loaded machine)."""
    out = tmp_path / "run"
    proc = _start(out, prefix=("timeout", "--preserve-status", "30"))
    stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    for name in FILES:
        assert (out / name).exists(), (name, stderr)
    assert json.loads((out / "summary.json").read_text())["stop_signal"] == "SIGTERM"


class _SignalAtEval:
    """A monitor that sends this process ``sig`` at the second evaluation: inside the loop, so
    the test never depends on how long start-up takes."""

    def __init__(self, sig):
        self.sig, self.evals = sig, 0

    def on_update(self, *args):
        pass

    def on_eval(self, *args):
        self.evals += 1
        if self.evals == 2:
            os.kill(os.getpid(), self.sig)


@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_train_in_process_stops_on_each_signal_and_restores_the_handlers(sig):
    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    cfg = Config(variant="per-sumtree", total_steps=400_000, eval_every=500, eval_episodes=2,
                 learning_starts=200)  # fmt: skip
    result = train(cfg, progress=False, monitor=_SignalAtEval(sig))
    h = result.history
    assert h.interrupted and h.stop_signal == signal.Signals(sig).name
    # the signal lands inside the second evaluation (step 1,000): that step is not counted as
    # done and its evaluation not recorded; the first one and its checkpoint are kept
    assert h.env_steps == 999 and len(h.evals) == 1 and result.best_agent is not None
    assert {s: signal.getsignal(s) for s in STOP_SIGNALS} == before


def test_stop_signals_changes_nothing_outside_the_main_thread():
    seen = {}

    def worker():
        with stop_signals():
            seen["handler"] = signal.getsignal(signal.SIGTERM)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen["handler"] == signal.getsignal(signal.SIGTERM)
