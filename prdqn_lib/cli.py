"""Command line: ``python -m prdqn_lib train --variant V --seed S --steps N --out DIR``.

``--plugin MODULE_OR_FILE.py`` (before the subcommand or after it, repeatable) imports a module
that registers replay memories and variants (``prdqn_lib.variants.register``) before the
arguments are checked, so ``--variant`` accepts them like the series' own.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from .config import Config
from .variants import get_variant, variant_names

if TYPE_CHECKING:
    from .runs import RunInputError


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (and exit status 2)."""

    def error(self, message: str) -> NoReturn:
        one_line = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {one_line}\n")


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


def load_plugin(spec: str) -> None:
    """Import ``spec``: a module name (``my_pkg.my_memory``) or a path to a ``.py`` file. Its
    import is expected to register variants. ValueError (one line) if it cannot be imported."""
    try:
        if spec.endswith(".py"):
            path = Path(spec)
            if not path.is_file():
                raise ValueError(f"--plugin {spec}: no such file")
            name = f"prdqn_plugin_{path.stem}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise ValueError(f"--plugin {spec}: not a Python file")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
        else:
            importlib.import_module(spec)
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(f"--plugin {spec}: cannot import it: {type(exc).__name__}: "
                         f"{' '.join(str(exc).split())}") from None  # fmt: skip


def check_env(env_id: str) -> None:
    """Raise ValueError (one line) unless ``env_id`` is a gymnasium id the agent can train on:
    known to gymnasium, makeable, Box observations, Discrete actions numbered from 0."""
    import gymnasium as gym

    try:
        gym.spec(env_id)
    except gym.error.Error as exc:
        raise ValueError(f"env_id {env_id!r} is not a gymnasium environment: {exc}") from None
    try:
        env = gym.make(env_id)
    except Exception as exc:  # a missing dependency, a broken entry point, ...
        raise ValueError(f"env_id {env_id!r} cannot be made: {type(exc).__name__}: {exc}") from None
    try:
        obs_space, act_space = env.observation_space, env.action_space
    finally:
        env.close()
    if not isinstance(obs_space, gym.spaces.Box):
        raise ValueError(f"env_id {env_id!r}: the agent needs Box observations, got {obs_space}")
    if not isinstance(act_space, gym.spaces.Discrete) or int(act_space.start) != 0:
        raise ValueError(
            f"env_id {env_id!r}: the agent needs Discrete actions numbered from 0, got {act_space}"
        )


def _out_problem(out: Path, force: bool) -> str | None:
    """Why ``--out`` cannot be used (None if it can), without creating or writing anything."""
    try:
        if out.exists():
            if not out.is_dir():
                return f"--out {out} exists and is not a folder"
            if any(out.iterdir()) and not force:
                return f"--out {out} is not empty; choose another folder or pass --force"
            if not os.access(out, os.W_OK | os.X_OK):
                return f"--out {out} is not writable"
            return None
        parent = out.absolute().parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            return f"--out {out} cannot be created: {parent} is a file, not a folder"
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"--out {out} cannot be created: {parent} is not writable"
    except OSError as exc:
        return f"--out {out} is not usable: {exc.strerror or exc}"
    return None


def _claim_out(out: Path, config: Config) -> list[Path]:
    """Create ``out`` (and missing parents) and write config.json into it. Returns the folders
    it created; on failure removes them again and raises OSError."""
    created = []
    try:
        for folder in [*reversed(out.absolute().parents), out.absolute()]:
            if not folder.exists():
                folder.mkdir()
                created.append(folder)
        config.save(out / "config.json")
    except OSError:
        _release_out(out, created)
        raise
    return created


def _release_out(out: Path, created: list[Path]) -> None:
    """Undo ``_claim_out``: config.json and the folders it created (if they are empty)."""
    if created:
        (out / "config.json").unlink(missing_ok=True)
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            pass


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m prdqn_lib", description="prdqn: PER for DQN on CartPole.")
    parser.add_argument("--version", action="version", version=f"prdqn_lib {__version__}")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="import a module (or a .py file) that registers variants; "
                             "repeatable")  # fmt: skip
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
    described = "; ".join(f"{v}: {get_variant(v).description}" for v in variant_names())
    train.add_argument("--variant", required=True, choices=variant_names(),
                       help=described.replace("%", "%%"))  # fmt: skip
    train.add_argument("--preset", default=None, metavar="NAME",
                       help="the Config to start from: the variant's own tuned preset "
                            "(default; Config.preset), 'shared' (the one shared Config, for "
                            "like-for-like comparisons) or another variant's name; --set "
                            "changes it further")  # fmt: skip
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
    train.add_argument("--actors", type=_positive_int, default=None,
                       help=f"apex: actor processes (default {Config.actors})")  # fmt: skip
    train.add_argument("--ray-address", default=None, metavar="ADDR",
                       help="apex: join this Ray cluster (e.g. auto, host:6379, "
                            "ray://host:10001) instead of starting Ray locally")  # fmt: skip
    train.add_argument("--set", dest="overrides", type=_override, action="append", default=[],
                       metavar="KEY=VALUE", help="override a hyperparameter of prdqn_lib.Config, "
                       "e.g. --set lr=0.001 --set hidden=64,64 (repeatable)")  # fmt: skip
    train.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                       help="import a module (or a .py file) that registers variants (read "
                            "before the other flags; repeatable)")  # fmt: skip
    train.set_defaults(handler=run_train, subparser=train)
    _add_run_commands(sub)
    return parser


def run_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    # 1. validate everything (arguments, environment, --out) before anything is written
    out: Path = args.out
    try:
        changes: dict[str, Any] = {  # each value of its field's type
            key: Config.parse_field(key, text) for key, text in args.overrides
        }
        if get_variant(args.variant).loop is None:  # the flags of a Ray loop (apex)
            for flag, value in (("--actors", args.actors), ("--ray-address", args.ray_address)):
                if value is not None:
                    raise ValueError(f"{flag} applies to --variant apex only, got {value!r} with "
                                     f"--variant {args.variant}")  # fmt: skip
        elif args.actors is not None:
            changes["actors"] = args.actors
        # all at once: a pair of fields is checked together (Config refuses contradictions)
        config = Config.preset(args.variant, args.preset, seed=args.seed,
                               total_steps=args.steps, **changes)  # fmt: skip
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    problem = _out_problem(out, args.force)
    if problem:
        parser.error(problem)
    try:
        check_env(config.env_id)
        if args.ray_address is not None:
            from .apex import check_ray_address

            check_ray_address(args.ray_address)
    except ValueError as exc:
        parser.error(str(exc).replace("ray_address", "--ray-address", 1))

    # imported here so that --help and flag errors answer at once
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401  (loaded before --out is claimed: see below)

    from . import plots, render  # noqa: F401
    from . import train as _train  # noqa: F401
    from .recorder import stop_signals

    # 2. claim --out (config.json), train, then write the results; from here on, Ctrl-C or a
    #    stop signal (timeout, kill, docker stop, a scheduler) ends the run cleanly
    with stop_signals():
        return _train_and_write(args, parser, config, out)


def _exit_status(exc: BaseException | None, history_signal: str | None = None) -> int:
    """128 + the signal's number, as a shell reports a process a signal ended (130: Ctrl-C)."""
    signum = getattr(exc, "signum", None)
    if signum is None:
        signum = signal.Signals[history_signal] if history_signal else signal.SIGINT
    return 128 + int(signum)


def _train_and_write(
    args: argparse.Namespace, parser: argparse.ArgumentParser, config: Config, out: Path
) -> int:
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from .plots import plot_learning_curve
    from .render import record_run
    from .train import run_summary, train

    try:
        created = _claim_out(out, config)
    except OSError as exc:
        parser.error(f"--out {out} is not usable: {exc.strerror or exc}")
    try:
        result = train(config, progress=not args.no_progress, ray_address=args.ray_address)
    except ConnectionError as exc:  # apex: the Ray cluster of --ray-address cannot be reached
        _release_out(out, created)
        parser.error(f"--ray-address {args.ray_address}: {exc}")
    except KeyboardInterrupt as exc:  # before the loop started (the loop handles its own)
        _release_out(out, created)
        print("interrupted before training started; nothing written", file=sys.stderr)
        return _exit_status(exc)
    except Exception:  # a bug: leave --out as it was, and show the traceback
        _release_out(out, created)
        raise
    history = result.history
    summary = {**run_summary(config, history), "rendered_agent": None,
               "rendered_episode_return": None}  # fmt: skip
    media = [out / "episode.gif", *([out / "episode.mp4"] if args.mp4 else [])]
    stage = "summary.json"
    try:  # a second Ctrl-C while writing: keep what is written, always keep summary.json
        _write_json(out / "summary.json", summary)
        stage = "history and agents"
        history.save(out)
        result.agent.save(out / "agent.pt")
        if result.best_agent is not None:
            result.best_agent.save(out / "best_agent.pt")
        stage = "learning_curve.png"
        ax = plot_learning_curve(
            history, title=f"{config.variant}, seed {config.seed}", variant=config.variant
        )
        fig = ax.figure
        assert isinstance(fig, Figure)  # the plot made its own figure, not a subfigure
        fig.savefig(out / "learning_curve.png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        stage = "the episode"
        episode = record_run(
            result, args.render, gif_path=media[0], mp4_path=media[1] if args.mp4 else None,
            seed=config.seed + 20_000,
        )  # fmt: skip
        summary["rendered_agent"] = episode.caption
        summary["rendered_episode_return"] = episode.episode_return
        _write_json(out / "summary.json", summary)
    except KeyboardInterrupt as exc:
        if stage == "the episode":
            for path in media:  # half-written
                path.unlink(missing_ok=True)
        _write_json(out / "summary.json", {**summary, "writing_interrupted_at": stage})
        print(f"interrupted while writing {stage}: {out}/ holds summary.json and what was "
              f"written before", file=sys.stderr)  # fmt: skip
        return _exit_status(exc)
    state = f"interrupted by {history.stop_signal}" if history.interrupted else "done"
    print(
        f"{state}: {history.env_steps} steps, solved at {summary['steps_to_solve']}, "
        f"final eval {summary['final_eval_return']}, {history.steps_per_second:.1f} steps/s; "
        f"rendered the {episode.caption}; wrote {out}/"
    )
    return _exit_status(None, history.stop_signal) if history.interrupted else 0


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


# ---- after training: evaluate, render, compare (the logic is in prdqn_lib.runs) ----


def _add_run_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    """The subcommands that read run folders written by ``train``."""
    checkpoint: dict[str, Any] = dict(choices=("best", "final"), default="best",
                      help="best: best_agent.pt, the weights of the best evaluation (default); "
                           "final: agent.pt, the agent as training left it")  # fmt: skip
    run_dir: dict[str, Any] = dict(type=Path, metavar="RUN_DIR", help="a folder written by train")
    evaluate = sub.add_parser(
        "evaluate",
        help="play greedy episodes of a run's checkpoint and print their returns",
        description="Play --episodes greedy episodes of a run's checkpoint on the run's env_id "
        "(config.json) and print mean, std, min and max of the returns.",
    )
    evaluate.add_argument("run_dir", **run_dir)
    evaluate.add_argument("--checkpoint", **checkpoint)
    evaluate.add_argument("--episodes", type=_positive_int, default=10, metavar="N",
                          help="greedy episodes (default 10)")  # fmt: skip
    evaluate.add_argument("--seed", type=_seed, default=None, metavar="S",
                          help="episode k (from 0) starts from env seed S + k (default: the "
                               "run's seed + 30000, start states its training did not "
                               "use)")  # fmt: skip
    evaluate.add_argument("--json", action="store_true", help="print JSON (with every return)")
    evaluate.set_defaults(handler=run_evaluate, subparser=evaluate)

    render = sub.add_parser(
        "render",
        help="re-render a greedy episode of a run's checkpoint as GIF or MP4",
        description="Play one greedy episode of a run's checkpoint and write it as a GIF "
        "(--mp4: an MP4), each frame captioned with the checkpoint, step and return.",
    )
    render.add_argument("run_dir", **run_dir)
    render.add_argument("--checkpoint", **checkpoint)
    render.add_argument("--mp4", action="store_true", help="write an MP4 instead of a GIF")
    render.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="the .gif (.mp4 with --mp4) to write (default: "
                             "RUN_DIR/episode_CHECKPOINT.gif)")  # fmt: skip
    render.add_argument("--seed", type=_seed, default=None, metavar="S",
                        help="the episode's env seed (default: the run's seed + 20000, the "
                             "episode train rendered)")  # fmt: skip
    render.add_argument("--force", action="store_true", help="replace an existing --out")
    render.set_defaults(handler=run_render, subparser=render)

    compare = sub.add_parser(
        "compare",
        help="plot the evaluation curves of several runs, median and IQR per variant",
        description="Plot the greedy evaluation returns of several runs as one median line "
        "and interquartile band per variant (config.json), in the project's colours.",
    )
    compare.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR",
                         help="folders written by train")  # fmt: skip
    compare.add_argument("--out", type=Path, required=True, metavar="FILE.png",
                         help="the PNG to write")  # fmt: skip
    compare.add_argument("--title", default=None, help="the plot's title")
    compare.add_argument("--force", action="store_true", help="replace an existing --out")
    compare.set_defaults(handler=run_compare, subparser=compare)


def _bad_run_input(
    parser: argparse.ArgumentParser, exc: RunInputError, args: argparse.Namespace
) -> NoReturn:
    """One line naming the argument of a ``runs.RunInputError``, exit 2."""
    if exc.argument == "checkpoint":
        parser.error(f"--checkpoint {args.checkpoint}: {exc}")
    name = {"run": "RUN_DIR", "out": "--out"}[exc.argument]
    parser.error(f"{name} {exc}")


def run_evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .runs import RunInputError, evaluate_run, load_run

    try:
        report = evaluate_run(load_run(args.run_dir), args.checkpoint, args.episodes, args.seed)
    except RunInputError as exc:
        _bad_run_input(parser, exc, args)
    print(json.dumps(report.to_dict()) if args.json else report.line())
    return 0


def run_render(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .runs import RunInputError, load_run, render_run

    try:
        run = load_run(args.run_dir)
        episode, out = render_run(run, args.checkpoint, args.out, args.mp4, args.seed, args.force)
    except RunInputError as exc:
        _bad_run_input(parser, exc, args)
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    print(f"wrote {out}: the {episode.caption}, episode return {episode.episode_return:.0f}")
    return 0


def run_compare(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .runs import RunInputError, compare_runs, load_run

    try:
        runs = [load_run(path) for path in args.run_dirs]
        lines = compare_runs(runs, args.out, args.title, args.force)
    except RunInputError as exc:
        _bad_run_input(parser, exc, args)
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    print("\n".join([*lines, f"wrote {args.out}"]))
    return 0


def _plugins(argv: list[str]) -> list[str]:
    """The values of every ``--plugin X`` / ``--plugin=X`` in argv (read before parsing)."""
    found = []
    for k, arg in enumerate(argv):
        if arg == "--plugin" and k + 1 < len(argv):
            found.append(argv[k + 1])
        elif arg.startswith("--plugin="):
            found.append(arg.split("=", 1)[1])
    return found


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    for spec in _plugins(argv):  # first: they add variants the parser must know
        try:
            load_plugin(spec)
        except ValueError as exc:
            _Parser(prog="python -m prdqn_lib").error(str(exc))
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.handler(args, args.subparser)


if __name__ == "__main__":
    sys.exit(main())
