"""RGB frames of reachlab's envs (``render_mode="rgb_array"``), drawn with numpy alone.

A frame is an ``H × W × 3`` ``uint8`` array. Reaching: the workspace seen from above (x right, y up, the
start at the centre), every target's success window as a grey ring, the cued target filled (orange after
the cue, green after the go cue), the start window, a force channel's walls on channel trials, the hand's
trail since the trial began (blue) and the hand (red), and, while a force field acts, its force on the hand
as a magenta arrow (1 cm per N, at most the target distance) with the field's sense of rotation in the top
left corner (a magenta ring with an arrowhead at its top: pointing right = clockwise). Tasks: the inputs
as bars (fixation, then each ring's units, then the rule units) and the last action below them.

Every primitive is rasterised inside its bounding box only, so a frame costs well under a millisecond
beside a step of the Rust env.

>>> import numpy as np
>>> c = Canvas(32, 32)
>>> c.disc(16, 16, 4, (255, 0, 0))
>>> c.img[16, 16].tolist(), c.img[0, 0].tolist()
([255, 0, 0], [255, 255, 255])
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["Canvas", "ReachPainter", "task_frame"]

WHITE = (255, 255, 255)
GREY = (190, 190, 190)
DARK = (90, 90, 90)
ORANGE = (245, 160, 40)
GREEN = (60, 170, 80)
BLUE = (60, 110, 220)
RED = (220, 40, 40)
MAGENTA = (200, 40, 200)


class Canvas:
    """An image with anti-aliasing-free filled shapes; coordinates in pixels, (0, 0) the top-left corner,
    pixel (row r, column c) covering [c, c + 1) × [r, r + 1)."""

    def __init__(self, height: int, width: int, background: Sequence[int] = WHITE):
        self.img = np.empty((height, width, 3), np.uint8)
        self.img[:] = background

    def _box(self, x0: float, y0: float, x1: float, y1: float):
        h, w = self.img.shape[:2]
        c0, c1 = max(int(math.floor(x0)), 0), min(int(math.ceil(x1)) + 1, w)
        r0, r1 = max(int(math.floor(y0)), 0), min(int(math.ceil(y1)) + 1, h)
        if c0 >= c1 or r0 >= r1:
            return None
        yy, xx = np.mgrid[r0:r1, c0:c1].astype(np.float64) + 0.5
        return (slice(r0, r1), slice(c0, c1)), xx, yy

    def disc(self, cx: float, cy: float, r: float, color) -> None:
        box = self._box(cx - r, cy - r, cx + r, cy + r)
        if box is not None:
            sl, xx, yy = box
            self.img[sl][(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = color

    def ring(self, cx: float, cy: float, r: float, width: float, color) -> None:
        out = r + width / 2
        box = self._box(cx - out, cy - out, cx + out, cy + out)
        if box is not None:
            sl, xx, yy = box
            d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
            self.img[sl][np.abs(d - r) <= width / 2] = color

    def segment(self, x0: float, y0: float, x1: float, y1: float, width: float, color) -> None:
        half = width / 2
        box = self._box(min(x0, x1) - half, min(y0, y1) - half, max(x0, x1) + half, max(y0, y1) + half)
        if box is None:
            return
        sl, xx, yy = box
        dx, dy = x1 - x0, y1 - y0
        n2 = dx * dx + dy * dy
        t = np.zeros_like(xx) if n2 == 0 else np.clip(((xx - x0) * dx + (yy - y0) * dy) / n2, 0.0, 1.0)
        d2 = (xx - x0 - t * dx) ** 2 + (yy - y0 - t * dy) ** 2
        self.img[sl][d2 <= half * half] = color

    def arrow(self, x0: float, y0: float, x1: float, y1: float, width: float, color) -> None:
        self.segment(x0, y0, x1, y1, width, color)
        length = math.hypot(x1 - x0, y1 - y0)
        if length < 1e-9:
            return
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        head = min(3.0 * width + 2.0, 0.5 * length)
        for s in (1.0, -1.0):
            # Two strokes at ±30° back from the tip.
            bx = x1 - head * (ux * math.cos(math.pi / 6) - s * uy * math.sin(math.pi / 6))
            by = y1 - head * (uy * math.cos(math.pi / 6) + s * ux * math.sin(math.pi / 6))
            self.segment(x1, y1, bx, by, width, color)

    def rect(self, x0: float, y0: float, x1: float, y1: float, color) -> None:
        h, w = self.img.shape[:2]
        c0, c1 = max(int(round(x0)), 0), min(int(round(x1)), w)
        r0, r1 = max(int(round(y0)), 0), min(int(round(y1)), h)
        if c0 < c1 and r0 < r1:
            self.img[r0:r1, c0:c1] = color


class ReachPainter:
    """Draws reaching frames for one env config (the dict of ``ReachEnv.config``).

    The view spans ± 1.6 × the target distance around the start; ``to_pixel`` maps metres to pixel
    coordinates (column, row), y pointing up.
    """

    def __init__(self, config: dict, size: int = 256):
        self.size = int(size)
        self.radius = float(config["radius"])
        self.n_targets = int(config["n_targets"])
        self.window = float(config["reward"]["success_radius"])
        self.start_window = float(config["premature"]["radius"])
        self.half_width = 1.6 * self.radius
        self.scale = self.size / (2.0 * self.half_width)  # pixels per metre
        self.trail: list[tuple[float, float]] = []
        self._layer: Canvas | None = None
        self._drawn = 0
        self._target_state: str | None = None

    def to_pixel(self, xy: Sequence[float]) -> tuple[float, float]:
        x, y = float(xy[0]), float(xy[1])
        return (x + self.half_width) * self.scale, (self.half_width - y) * self.scale

    def targets(self) -> list[tuple[float, float]]:
        return [
            (self.radius * math.cos(2 * math.pi * k / self.n_targets), self.radius * math.sin(2 * math.pi * k / self.n_targets))
            for k in range(self.n_targets)
        ]

    def start_trial(self, info: dict) -> None:
        self.trail = [tuple(info["hand_pos"])]
        self._layer = None

    def add_step(self, info: dict) -> None:
        self.trail.append(tuple(info["hand_pos"]))

    def _px(self) -> float:
        return max(1.0, self.size / 256.0)  # a line's width in pixels

    def _background(self) -> Canvas:
        c = Canvas(self.size, self.size)
        for t in self.targets():
            c.ring(*self.to_pixel(t), self.window * self.scale, self._px(), GREY)
        c.ring(*self.to_pixel((0.0, 0.0)), self.start_window * self.scale, self._px(), DARK)
        return c

    def _update_layer(self, info: dict) -> Canvas:
        """The trial's persistent drawing (background, channel walls, target, trail), brought up to date:
        each trail segment is drawn once, so a frame costs the same at the trial's end as at its start."""
        px = self._px()
        if self._layer is None:
            self._layer = self._background()
            self._drawn, self._target_state = 0, None
            target = info["target_pos"]
            if info.get("trial_type") == "channel":
                # The channel's walls: the straight path from the start to the target, ± the success window.
                ux, uy = target[0] / self.radius, target[1] / self.radius
                for s in (1.0, -1.0):
                    ox, oy = -uy * self.window * s, ux * self.window * s
                    self._layer.segment(
                        *self.to_pixel((ox, oy)), *self.to_pixel((target[0] + ox, target[1] + oy)), px, DARK
                    )
        layer = self._layer
        state = None
        if info["step"] >= info["go_step"]:
            state = "go"
        elif info["step"] >= info["cue_step"]:
            state = "cue"
        if state is not None and state != self._target_state:
            layer.disc(*self.to_pixel(info["target_pos"]), self.window * self.scale, GREEN if state == "go" else ORANGE)
            self._target_state = state
        pts = self.trail
        for i in range(max(self._drawn, 1), len(pts)):
            layer.segment(*self.to_pixel(pts[i - 1]), *self.to_pixel(pts[i]), 1.5 * px, BLUE)
        self._drawn = len(pts)
        return layer

    def frame(self, info: dict | None) -> np.ndarray:
        if info is None:
            return self._background().img
        px = self._px()
        c = Canvas(self.size, self.size)
        c.img[:] = self._update_layer(info).img
        hx, hy = self.to_pixel(info["hand_pos"])
        force = np.asarray(info["field_force"], np.float64)
        if info["field_on"]:
            if np.linalg.norm(force) > 1e-6:
                # 1 cm per N, at most the target distance.
                vec = force * 0.01
                n = np.linalg.norm(vec)
                if n > self.radius:
                    vec *= self.radius / n
                tip = self.to_pixel((info["hand_pos"][0] + vec[0], info["hand_pos"][1] + vec[1]))
                c.arrow(hx, hy, *tip, 1.5 * px, MAGENTA)
            b = float(info.get("field_b", 0.0))
            if b != 0.0:
                r = 0.06 * self.size
                cx = cy = 0.1 * self.size
                c.ring(cx, cy, r, 1.5 * px, MAGENTA)
                # F = b·[[0, 1], [−1, 0]]·v turns the velocity clockwise for b > 0: the arrowhead at the
                # ring's top points right.
                s = 1.0 if b > 0 else -1.0
                c.arrow(cx - s * r * 0.6, cy - r, cx + s * r * 0.4, cy - r, 1.5 * px, MAGENTA)
        c.disc(hx, hy, max(3.0 * px, 0.005 * self.scale), RED)  # last: on top of the field's arrow
        return c.img


def task_frame(
    obs: np.ndarray | None,
    action,
    n_ring: int | None,
    n_actions: int | None,
    size: int = 256,
) -> np.ndarray:
    """A task's step: its inputs as bars (with ``n_ring``: the fixation unit, each ring's units, then the
    rule units, separated by gaps), and below them the action: for a discrete task a ring of ``n_actions − 1``
    directions with the chosen one filled (the centre dot = fixate), for an output task the output vector
    as bars."""
    c = Canvas(size, size)
    if obs is None:
        return c.img
    x = np.asarray(obs, np.float64)
    top, bottom = 0.05 * size, 0.45 * size
    if n_ring is not None and x.size >= 1 + 2 * n_ring:
        groups = [x[:1], x[1 : 1 + n_ring], x[1 + n_ring : 1 + 2 * n_ring], x[1 + 2 * n_ring :]]
    else:
        groups = [x]
    _bars(c, groups, top, bottom, size)
    if n_actions is not None:
        # Discrete: the output ring (k ≥ 1 = direction 2π(k − 1)/(n_actions − 1)) and the fixation dot.
        cx, cy, r = 0.5 * size, 0.74 * size, 0.2 * size
        dirs = n_actions - 1
        for k in range(dirs):
            a = 2 * math.pi * k / dirs
            c.ring(cx + r * math.cos(a), cy - r * math.sin(a), 0.018 * size, 1.0, DARK)
        chosen = None if action is None else int(np.asarray(action).reshape(()))
        c.ring(cx, cy, 0.025 * size, 1.0, DARK)
        if chosen == 0:
            c.disc(cx, cy, 0.025 * size, GREEN)
        elif chosen is not None and 1 <= chosen <= dirs:
            a = 2 * math.pi * (chosen - 1) / dirs
            c.disc(cx + r * math.cos(a), cy - r * math.sin(a), 0.018 * size, GREEN)
    elif action is not None:
        _bars(c, [np.asarray(action, np.float64).ravel()], 0.55 * size, 0.95 * size, size, color=GREEN)
    return c.img


def _bars(c: Canvas, groups, top: float, bottom: float, size: int, color=BLUE) -> None:
    """Bars of values around a zero line (± the largest |value|, at least 1), groups separated by gaps."""
    n = sum(len(g) for g in groups) + (len(groups) - 1)
    if n == 0:
        return
    width = 0.9 * size / n
    peak = max(1.0, max((float(np.max(np.abs(g))) for g in groups if len(g)), default=1.0))
    mid = 0.5 * (top + bottom)
    half = 0.5 * (bottom - top)
    c.segment(0.05 * size, mid, 0.95 * size, mid, 1.0, GREY)
    i = 0
    for g in groups:
        for v in g:
            x0 = 0.05 * size + i * width
            h = half * float(v) / peak
            c.rect(x0, min(mid, mid - h), x0 + max(width - 1, 1), max(mid, mid - h) + (1 if h == 0 else 0), color)
            i += 1
        i += 1
