"""Play one greedy episode, write it as a looping GIF and/or an MP4, and show it in Jupyter."""

from __future__ import annotations

import base64
import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # no window, nothing on stderr

import gymnasium as gym  # noqa: E402
import imageio.v2 as imageio  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

if TYPE_CHECKING:
    from IPython.display import Video

    from .agent import Agent
    from .recorder import TrainResult

__all__ = [
    "Episode",
    "checkpoint_caption",
    "play_episode",
    "record_episode",
    "record_run",
    "save_gif",
    "save_mp4",
    "show_media",
]


@dataclass
class Episode:
    frames: list[np.ndarray]  # RGB frames, one per env step (plus the first)
    episode_return: float
    fps: int
    caption: str | None = None  # drawn on every frame: which agent is playing


def annotate(frame: np.ndarray, lines: list[str]) -> np.ndarray:
    """The frame with ``lines`` of text drawn in its top-left corner (black on white)."""
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(12, frame.shape[0] // 18))
    assert isinstance(font, ImageFont.FreeTypeFont)  # a size needs FreeType (Pillow's wheels)
    y: float = 6
    for line in lines:
        draw.text((8, y), line, fill=(0, 0, 0), font=font)
        y += font.size + 4
    return np.asarray(image)


def _frame(env: gym.Env) -> np.ndarray:
    frame = env.render()
    assert isinstance(frame, np.ndarray)  # render_mode="rgb_array": one RGB array
    return frame


def play_episode(
    agent: Agent, env_id: str = "CartPole-v1", seed: int = 0, caption: str | None = None
) -> Episode:
    """One greedy episode with ``render_mode="rgb_array"``, every frame kept.

    Each frame shows the step number and the return so far (a balanced pole barely moves, so
    without them a solved agent's video looks frozen), under an optional ``caption`` line.
    """
    env = gym.make(env_id, render_mode="rgb_array")
    obs, _ = env.reset(seed=seed)
    head = [caption] if caption else []
    frames = [annotate(_frame(env), [*head, "step 0   return 0"])]
    total, done, t = 0.0, False, 0
    while not done:
        action = int(agent.greedy_actions(obs[None])[0])
        obs, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        t += 1
        frames.append(annotate(_frame(env), [*head, f"step {t}   return {total:.0f}"]))
        done = terminated or truncated
    fps = int(env.metadata.get("render_fps", 50))
    env.close()
    return Episode(frames, total, fps, caption)


def save_gif(episode: Episode, path: str | Path, scale: float = 0.5, every: int = 2) -> Path:
    """A looping GIF at ``scale`` of the frame size keeping every ``every``-th frame (real time)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = episode.frames[0].shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    frames: list[npt.ArrayLike] = [
        np.asarray(Image.fromarray(f).resize(size, Image.Resampling.LANCZOS))
        for f in episode.frames[::every]
    ]
    duration_ms = 1000 * every / episode.fps
    imageio.mimsave(path, frames, format="GIF", duration=duration_ms, loop=0)
    return path


def save_mp4(episode: Episode, path: str | Path) -> Path:
    """An H.264 MP4 at full size and the env's frame rate (imageio-ffmpeg)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # macro_block_size=1 keeps 600x400 instead of padding to a multiple of 16
    w = imageio.get_writer(path, fps=episode.fps, macro_block_size=1, ffmpeg_log_level="error")
    with w:  # (typed by the writer itself: imageio's __enter__ returns its base class)
        for frame in episode.frames:
            w.append_data(frame)
    return path


def record_episode(
    agent: Agent,
    gif_path: str | Path | None = None,
    mp4_path: str | Path | None = None,
    env_id: str = "CartPole-v1",
    seed: int = 0,
    caption: str | None = None,
) -> Episode:
    """Play one greedy episode and write it to ``gif_path`` and/or ``mp4_path``.

    ``caption`` is drawn on every frame (e.g. which checkpoint is playing)."""
    episode = play_episode(agent, env_id, seed, caption)
    if gif_path is not None:
        save_gif(episode, gif_path)
    if mp4_path is not None:
        save_mp4(episode, mp4_path)
    return episode


def checkpoint_caption(result: TrainResult, which: str = "best") -> str:
    """'best agent: evaluation 500 at 12,000 steps' or 'final agent (50,000 steps)'."""
    if which == "best" and result.best_agent is not None:
        best = result.history.best_eval
        assert best is not None  # a best agent comes from an evaluation
        step, ret = best
        return f"best agent: evaluation {ret:.0f} at {step:,} steps"
    return f"final agent ({result.history.env_steps:,} steps)"


def record_run(
    result: TrainResult,
    which: str = "best",
    gif_path: str | Path | None = None,
    mp4_path: str | Path | None = None,
    seed: int = 0,
) -> Episode:
    """Play and write one greedy episode of a training run's best or final agent.

    Args:
        result: what ``prdqn_lib.train.train`` returned.
        which: "best" (the weights of the best evaluation, ties to the latest; the default)
            or "final" (the agent as training left it).
        gif_path, mp4_path: where to write the episode (either may be None).
        seed: the episode's environment seed.
    """
    if which not in ("best", "final"):
        raise ValueError(f"which must be 'best' or 'final', got {which!r}")
    agent = result.best_agent if which == "best" and result.best_agent else result.agent
    caption = checkpoint_caption(result, which)
    return record_episode(agent, gif_path, mp4_path, result.config.env_id, seed, caption)


class _GifHTML:
    """A GIF as an HTML ``<img>`` with a base64 data URI and alt text.

    JupyterLab, VS Code and nbconvert's HTML all render ``text/html``; nbconvert drops a bare
    ``image/gif`` output (it is not in its display priority), so the GIF travels as HTML.
    ``text/plain`` carries the alt text for viewers that show no HTML (and for screen readers
    reading a plain export).
    """

    def __init__(self, data: bytes, alt: str, width: int | None) -> None:
        self.data, self.alt, self.width = data, alt, width

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        src = "data:image/gif;base64," + base64.b64encode(self.data).decode("ascii")
        size = f' width="{int(self.width)}"' if self.width else ""
        alt = html.escape(self.alt, quote=True)
        tag = f'<img src="{src}" alt="{alt}" title="{alt}"{size}>'
        return {"text/html": tag, "text/plain": f"[GIF] {self.alt}"}


def show_media(
    path: str | Path, width: int | None = None, alt: str | None = None
) -> _GifHTML | Video:
    """Display a GIF (an HTML ``<img>`` with alt text) or an MP4 (embedded video) inline.

    Args:
        path: the ``.gif`` or ``.mp4`` file.
        width: display width in pixels (default: the file's own).
        alt: what the animation shows, for readers who cannot see it (default: the file name).
    """
    from IPython.display import Video

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: no such file: {str(path)!r}")
    if width is not None and (not isinstance(width, int) or width <= 0):
        raise ValueError(f"width must be a positive int or None, got {width!r}")
    alt = alt or f"animation: {path.stem.replace('_', ' ')}"
    if path.suffix.lower() == ".gif":
        return _GifHTML(path.read_bytes(), alt, width)
    return Video(str(path), embed=True, width=width, html_attributes="controls loop autoplay muted")
