"""Command line: ``python -m prdqn_lib train --variant V --seed S --steps N --out DIR``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from .config import VARIANTS, Config


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (and exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def _override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    fields = {f.name for f in dataclasses.fields(Config)} - {"variant", "seed", "total_steps"}
    if not sep or key not in fields:
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE with KEY one of {', '.join(sorted(fields))}; got {text!r}"
        )
    return key, value


def _apply_overrides(config: Config, overrides: list[tuple[str, str]]) -> Config:
    changes = {}
    for key, text in overrides:
        default = getattr(config, key)
        if isinstance(default, tuple):
            changes[key] = tuple(int(x) for x in text.split(","))
        else:
            changes[key] = type(default)(text)
    return dataclasses.replace(config, **changes)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m prdqn_lib", description="prdqn: PER for DQN on CartPole.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = sub.add_parser(
        "train",
        help="train one variant and write its history, plots and final episode",
        description=(
            "Train one variant on CartPole-v1 and write into --out: history.csv (one row per "
            "episode), eval.csv (env_steps, eval_return), learning_curve.png, episode.gif "
            "(episode.mp4 with --mp4) of the best agent, config.json, summary.json, agent.pt (the "
            "final agent) and best_agent.pt (the best evaluation's weights). Ctrl-C stops "
            "early and still writes everything recorded so far."
        ),
    )
    train.add_argument("--variant", required=True, choices=VARIANTS,
                       help="dqn: uniform replay + DQN target; ddqn: uniform + Double DQN; "
                            "per-list: TD-error list memory + Double DQN; per-sumtree: SumTree "
                            "PER + Double DQN")  # fmt: skip
    train.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    train.add_argument("--steps", type=_positive_int, default=Config.total_steps,
                       help=f"env steps of training (default {Config.total_steps})")  # fmt: skip
    train.add_argument("--out", type=Path, required=True, help="output folder (must not exist, "
                       "or be empty, unless --force)")  # fmt: skip
    train.add_argument("--force", action="store_true", help="write into a non-empty --out")
    train.add_argument("--mp4", action="store_true", help="also write episode.mp4")
    train.add_argument("--render", choices=("best", "final"), default="best",
                       help="which agent the GIF/MP4 plays: best (the weights of the best "
                            "evaluation, ties to the latest; default) or final (as training "
                            "left it)")  # fmt: skip
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--set", dest="overrides", type=_override, action="append", default=[],
                       metavar="KEY=VALUE", help="override a hyperparameter of prdqn_lib.Config, "
                       "e.g. --set lr=0.001 --set hidden=64,64 (repeatable)")  # fmt: skip
    train.set_defaults(handler=run_train, subparser=train)
    return parser


def run_train(args, parser) -> int:
    out: Path = args.out
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        parser.error(f"--out {out} is not empty; choose another folder or pass --force")
    try:
        config = Config(variant=args.variant, seed=args.seed, total_steps=args.steps)
        config = _apply_overrides(config, args.overrides)
    except ValueError as exc:
        parser.error(str(exc))

    # imported here so that --help and flag errors answer at once
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import plot_learning_curve
    from .render import record_run
    from .train import run_summary, train

    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "config.json")
    result = train(config, progress=not args.no_progress)
    history = result.history
    history.save(out)
    result.agent.save(out / "agent.pt")
    if result.best_agent is not None:
        result.best_agent.save(out / "best_agent.pt")
    ax = plot_learning_curve(
        history, title=f"{config.variant}, seed {config.seed}", variant=config.variant
    )
    ax.figure.savefig(out / "learning_curve.png", dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    episode = record_run(
        result,
        args.render,
        gif_path=out / "episode.gif",
        mp4_path=out / "episode.mp4" if args.mp4 else None,
        seed=config.seed + 20_000,
    )
    summary = {
        **run_summary(config, history),
        "rendered_agent": episode.caption,
        "rendered_episode_return": episode.episode_return,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    state = "interrupted" if history.interrupted else "done"
    print(
        f"{state}: {history.env_steps} steps, solved at {summary['steps_to_solve']}, "
        f"final eval {summary['final_eval_return']}, {history.steps_per_second:.1f} steps/s; "
        f"rendered the {episode.caption}; wrote {out}/"
    )
    return 130 if history.interrupted else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.handler(args, args.subparser)


if __name__ == "__main__":
    sys.exit(main())
