"""Run the learning benchmarks' jobs as Ray tasks, on this machine or on an existing cluster.

Each task trains one run where Ray places it and *returns* its History, Config and summary; this
process writes them into the job's folder (``summary.json`` last, as ``common.run_job`` does).
So the results folders are the same, and as resumable, as with the local process pool, even when
the tasks ran on other machines whose disks this one cannot see. Finished runs (a folder with
``summary.json``) are not submitted again.

An apex job trains inside its task and starts its actors on the same Ray cluster (the task
holds one CPU, each actor asks for one more).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tqdm import tqdm

from prdqn_lib.config import Config
from prdqn_lib.train import run_summary


def _train_remote(config: Config):
    """Train one run inside a Ray task; return what the driver writes (no files here)."""
    from prdqn_lib.train import train

    result = train(config, progress=False)
    if result.history.interrupted:
        raise KeyboardInterrupt
    return result.history, result.config, run_summary(result.config, result.history)


def _write(folder: Path, history, config: Config, summary: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    history.save(folder)
    config.save(folder / "config.json")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")  # last


def run_jobs_on_ray(jobs, address: str | None, workers: int, desc: str = "runs") -> list[dict]:
    """Run ``jobs`` (``common.Job``) as Ray tasks, at most ``workers`` at a time.

    ``address``: None or "local" starts a private Ray on this machine (shut down at the end);
    anything else ("auto", "host:6379", "ray://host:10001") joins that cluster and leaves it
    running. Returns the summaries in the order of ``jobs``.
    """
    import ray
    import ray.cloudpickle

    from prdqn_lib.apex import check_ray_address, ray_session

    if address not in (None, "local"):
        check_ray_address(address)
    # this module is not importable on the workers (benchmarks/ is not a package): ship the
    # task's code by value; it imports only prdqn_lib, which every node must have installed
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    actors = max((j.config().actors for j in jobs if j.variant == "apex"), default=0)
    local_cpus = max(os.cpu_count() or 1, workers * (1 + actors))
    summaries: dict[int, dict] = {}
    todo = []
    for k, job in enumerate(jobs):
        path = Path(job.folder) / "summary.json"
        if path.exists():
            summaries[k] = json.loads(path.read_text())
        else:
            todo.append(k)
    bar = tqdm(total=len(jobs), initial=len(summaries), desc=desc, file=sys.stderr)
    with ray_session(None if address in (None, "local") else address, num_cpus=local_cpus):
        task = ray.remote(num_cpus=1, max_retries=0)(_train_remote)
        running: dict = {}
        try:
            while todo or running:
                while todo and len(running) < workers:  # at most `workers` runs at once
                    k = todo.pop(0)
                    running[task.remote(jobs[k].config())] = k
                ready, _ = ray.wait(list(running), num_returns=1)
                for ref in ready:
                    k = running.pop(ref)
                    history, config, summary = ray.get(ref)
                    _write(Path(jobs[k].folder), history, config, summary)
                    summaries[k] = summary
                    bar.update(1)
        finally:  # Ctrl-C or an error: finished runs are written, the rest is cancelled
            for ref in running:
                ray.cancel(ref, force=True)
            bar.close()
    return [summaries[k] for k in range(len(jobs))]
