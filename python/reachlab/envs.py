"""Gymnasium envs over reachlab's Rust envs: reaching in force fields and cognitive tasks.

Each class is a ``gymnasium.Env``; the physics and the trials run in Rust. Seeding follows Gymnasium:
``reset(seed=s)`` seeds the env's own stream (through ``super().reset``), ``reset()`` continues it; a
first ``reset()`` without a seed draws one from ``self.np_random``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from . import _reachlab as _r
from .render import ReachPainter, task_frame

__all__ = ["ReachEnv", "DecisionEnv", "OutputEnv", "phase_dict", "REACH_OBS_BOUND", "TASK_OBS_BOUND"]

#: With ``normalize=True`` a reaching observation is clipped to ± this (in the observation's units: 5 = the
#: hand 50 cm from the start or moving at 2.5 m/s at the default scales; a reach is 10 cm at < 1 m/s).
REACH_OBS_BOUND = 5.0
#: With ``normalize=True`` a task's inputs are clipped to ± this (stimuli are ≤ 1 plus noise of σ ≈ 0.03).
TASK_OBS_BOUND = 10.0


def reach_spaces(core, normalize: bool):
    """The observation and action spaces of a reaching core, and the factor that maps an action onto the
    physical one (None: physical units). With ``normalize`` the action box is [-1, 1] (the factor is the
    bound) and the observation box is capped at ``± REACH_OBS_BOUND``; used by ``ReachEnv`` and
    ``ReachVectorEnv`` alike."""
    low, high = (np.array(b, np.float32) for b in core.observation_bounds())
    a_low, a_high = (np.array(b, np.float32) for b in core.action_bounds())
    scale = None
    if normalize:
        low = np.maximum(low, np.float32(-REACH_OBS_BOUND))
        high = np.minimum(high, np.float32(REACH_OBS_BOUND))
        lo, hi = a_low.astype(np.float64), a_high.astype(np.float64)
        # A symmetric box (forces, torques: ± bound) maps by a factor, exactly; another box (muscle
        # excitations in [0, 1]) by the affine map of [-1, 1] onto it.
        scale = hi if np.array_equal(lo, -hi) else ((hi - lo) / 2.0, (hi + lo) / 2.0)
        a_low, a_high = -np.ones_like(a_low), np.ones_like(a_high)
    return spaces.Box(low, high, dtype=np.float32), spaces.Box(a_low, a_high, dtype=np.float32), scale


def scale_actions(actions, scale) -> np.ndarray:
    """Actions (one or a batch) as the float32 array the Rust env takes: times ``scale`` (in float64, so
    the mapping is exact up to the final rounding), or through ``scale = (half_range, centre)``, when
    there is one; as they are otherwise."""
    if scale is None:
        return np.ascontiguousarray(actions, dtype=np.float32)
    if isinstance(scale, tuple):
        half, centre = scale
        return np.ascontiguousarray(np.asarray(actions, np.float64) * half + centre, dtype=np.float32)
    return np.ascontiguousarray(np.asarray(actions, np.float64) * scale, dtype=np.float32)


def _check_render_mode(cls: str, render_mode: str | None) -> str | None:
    if render_mode is not None and render_mode != "rgb_array":
        raise ValueError(f"{cls}: render_mode {render_mode!r} is not supported (modes: None, 'rgb_array')")
    return render_mode


def _scenario_arg(scenario: str | os.PathLike) -> str:
    return os.fspath(scenario)


def phase_dict(phase: dict) -> dict:
    """A phase with its defaults: ``name`` "custom" and a null ``field`` unless given.

    Keys are those of a scenario's ``[[phase]]`` table that act on the env: ``name``, ``field``
    (``{"kind": "null"}``, ``{"kind": "curl", "b": 10.0}``, ``{"kind": "viscous", "matrix": [[..], [..]]}``,
    ``{"kind": "random_curl", "b_max": 20.0}``), ``field_targets`` ("all" or ``{"only": [6]}``),
    ``catch_prob``, ``channel_prob``, ``show_field_input``.
    """
    if not isinstance(phase, dict):
        raise TypeError(f"a phase is a name or a dict, not {type(phase).__name__}")
    out = {"name": "custom", "field": {"kind": "null"}}
    out.update(phase)
    return out


class _SeededEnv(gym.Env):
    """Shared by every env: an explicit seed goes to the Rust env, the first unseeded reset draws one from
    `np_random`; `step` is the Rust step (obs, reward, terminated, truncated, info)."""

    _seeded = False

    def _seed_for(self, seed: int | None) -> int | None:
        super().reset(seed=seed)
        if seed is not None:
            self._seeded = True
            return int(seed)
        if not self._seeded:
            self._seeded = True
            return int(self.np_random.integers(0, 2**63 - 1))
        return None

    def step(self, action):
        return self._core.step(action)

    def _clip_obs(self, obs):
        if self._obs_clip is not None:
            np.clip(obs, self.observation_space.low, self.observation_space.high, out=obs)
        return obs


class ReachEnv(_SeededEnv):
    """Delayed centre-out reaching with a point mass, a two-link arm or MotorNet's six-muscle arm in a
    force field.

    ``ReachEnv(config={...})`` takes the keys of a scenario's ``[env]`` table (missing keys keep their
    defaults; ``reachlab.scenario_toml("curl_field")`` shows them all); ``ReachEnv(scenario="curl_field")``
    takes a scenario's env and its phases by name (a built-in name, a TOML file, or TOML text).

    Observation (float32): ``[target_x, target_y, go, hand_x, hand_y, vel_x, vel_y]`` (+ the field input
    k when ``observation.field_input``). Action: 2 forces (or torques), clipped to ``±action_bound``;
    with ``config={"effector": {"kind": "arm26"}}``, 6 muscle excitations clipped to [0, 1] and 12 more
    observations (each muscle's fibre length / optimal length, then fibre velocity / maximal velocity).
    ``reset(options=...)`` takes ``target`` (index), ``trial_type`` ("normal", "catch", "channel") and
    ``phase`` (a name or a phase dict); ``set_phase`` switches the field between episodes, so the whole
    protocol (null → curl → null → curl) runs from Python. A NaN action raises ``ValueError``.

    ``normalize=True`` (what the registered ``reachlab/*`` ids use, as off-the-shelf RL expects): the action
    space is ``[-1, 1]ⁿ`` and an action ``a`` is applied as ``a · action_bound`` (N or N·m; exactly, then
    clipped to the bound as before; excitations as ``(a + 1) / 2``), and observations are clipped to ``± REACH_OBS_BOUND`` (the target and go
    units keep their own bounds), which the observation space states. Rewards, infos (``info["action"]`` is
    the applied force) and the Rust env stay in physical units. ``normalize=False`` (the class's default):
    the Rust env's spaces (forces in N, unbounded hand state).

    ``render_mode="rgb_array"``: ``render()`` returns the current step as an ``H × W × 3`` uint8 frame
    (``render_size`` pixels square; see ``reachlab.render``); ``render_fps`` is the env's 1/dt.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 100}

    def __init__(
        self,
        config: dict | None = None,
        scenario: str | os.PathLike | None = None,
        phase: str | dict | None = None,
        render_mode: str | None = None,
        normalize: bool = False,
        render_size: int = 256,
    ):
        self.render_mode = _check_render_mode("ReachEnv", render_mode)
        if scenario is not None and config is not None:
            raise ValueError("give config= or scenario=, not both")
        if scenario is not None:
            self._core = _r.ReachCore.from_scenario(_scenario_arg(scenario))
        else:
            self._core = _r.ReachCore(json.dumps(config or {}))
        if phase is not None:
            self.set_phase(phase)
        self.config = json.loads(self._core.config_json())
        self.metadata = dict(self.metadata, render_fps=round(1.0 / self.config["dt"]))
        self.normalize = bool(normalize)
        self._obs_clip = REACH_OBS_BOUND if self.normalize else None
        self.observation_space, self.action_space, self._action_scale = reach_spaces(self._core, self.normalize)
        self._painter = ReachPainter(self.config, render_size)
        self._info: dict | None = None

    def physical_action(self, action) -> np.ndarray:
        """The force (or torque) an action stands for: ``action · action_bound`` with ``normalize``, the
        action itself without (before the env clips it to the bound)."""
        return scale_actions(action, self._action_scale)

    @property
    def phase_names(self) -> list[str]:
        """The phases known by name (from the scenario)."""
        return self._core.phase_names()

    @property
    def phase(self) -> dict:
        """The active phase."""
        return json.loads(self._core.phase_json())

    def set_phase(self, phase: str | dict) -> None:
        """Switches the field (and catch/channel mix) from the next episode on."""
        if isinstance(phase, str):
            self._core.set_phase_named(phase)
        else:
            self._core.set_phase_json(json.dumps(phase_dict(phase)))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        seed = self._seed_for(seed)
        opts = dict(options or {})
        phase = opts.pop("phase", None)
        target = opts.pop("target", None)
        trial_type = opts.pop("trial_type", None)
        if opts:
            raise ValueError(f"unknown reset options {sorted(opts)} (known: phase, target, trial_type)")
        if phase is not None:
            self.set_phase(phase)
        obs, info = self._core.reset(seed, target, trial_type)
        self._info = info
        self._painter.start_trial(info)
        return self._clip_obs(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self._core.step(self.physical_action(action))
        self._info = info
        self._painter.add_step(info)
        return self._clip_obs(obs), reward, terminated, truncated, info

    def render(self):
        """The current step as an RGB frame (``render_mode="rgb_array"``); None without a render mode."""
        if self.render_mode is None:
            return None
        return self._painter.frame(self._info)

    def to_pixel(self, xy) -> tuple[float, float]:
        """Where a point of the workspace (metres) is drawn in a frame: (column, row) in pixels."""
        return self._painter.to_pixel(xy)


class _TaskEnv(_SeededEnv):
    """Shared by the task envs: ``reset(options={"task": i})`` forces the task index; with
    ``normalize=True`` observations are clipped to ``± TASK_OBS_BOUND``; ``render_mode="rgb_array"`` draws
    the inputs and the last action (``reachlab.render.task_frame``)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def _setup_task(self, render_mode, normalize, render_size, obs_dim, dt_ms):
        self.render_mode = _check_render_mode(type(self).__name__, render_mode)
        self.metadata = dict(self.metadata, render_fps=round(1000.0 / dt_ms))
        self.normalize = bool(normalize)
        bound = TASK_OBS_BOUND if self.normalize else np.inf
        self._obs_clip = TASK_OBS_BOUND if self.normalize else None
        self.observation_space = spaces.Box(-bound, bound, shape=(obs_dim,), dtype=np.float32)
        self._render_size = int(render_size)
        self._obs = None
        self._action = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        seed = self._seed_for(seed)
        opts = dict(options or {})
        task = opts.pop("task", None)
        if opts:
            raise ValueError(f"unknown reset options {sorted(opts)} (known: task)")
        obs, info = self._core.reset(seed, task)
        self._obs, self._action = obs, None
        return self._clip_obs(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self._core.step(self._core_action(action))
        self._action = action
        self._obs = obs
        return self._clip_obs(obs), reward, terminated, truncated, info

    def _core_action(self, action):
        return action

    def render(self):
        """The current step as an RGB frame (``render_mode="rgb_array"``); None without a render mode."""
        if self.render_mode is None:
            return None
        return self._frame()


def _dt_ms(conventions: dict | None) -> float:
    return float((conventions or {}).get("dt_ms", 20.0))


class DecisionEnv(_TaskEnv):
    """Ring tasks (Yang et al. 2019, Mod-Cog) with discrete actions: 0 fixates, k ≥ 1 chooses the
    direction 2π(k−1)/n_ring.

    ``tasks`` is a task name, a battery (``yang20``, ``modcog``, …) or a list of either;
    ``conventions`` and ``rewards`` take the keys of a task scenario's ``[tasks.conventions]`` and of
    ``DecisionRewards`` (defaults: Mod-Cog's). ``reset(options={"task": i})`` forces the task index.
    Observation: the fixation unit, the two stimulus rings (``n_ring`` units each), the rule units.
    """

    def __init__(
        self,
        tasks: str | list[str] = "yang20",
        conventions: dict | None = None,
        rewards: dict | None = None,
        render_mode: str | None = None,
        normalize: bool = False,
        render_size: int = 256,
    ):
        names = [tasks] if isinstance(tasks, str) else list(tasks)
        self._core = _r.DecisionCore(
            names,
            None if conventions is None else json.dumps(conventions),
            None if rewards is None else json.dumps(rewards),
        )
        self.task_names = self._core.task_names()
        self.action_space = spaces.Discrete(self._core.n_actions())
        self._setup_task(render_mode, normalize, render_size, self._core.obs_dim(), _dt_ms(conventions))

    def _frame(self):
        n = int(self.action_space.n)
        return task_frame(self._obs, self._action, n - 1, n, self._render_size)


class OutputEnv(_TaskEnv):
    """Any task (ring tasks, flip-flop, context integration, sine wave) with the network's output
    vector as the action; the reward is minus the masked squared error to the target, and the info of
    a trial's last step holds its ``score``.

    ``normalize=True`` (the registered id): the action space is ``[-1, 1]ⁿ`` and an action ``a`` is the
    output ``a · OUTPUT_SCALE`` (10, the physical space's bound), exactly; the reward is unchanged.
    """

    OUTPUT_SCALE = 10.0

    def __init__(
        self,
        tasks: str | list[str] = "flipflop",
        conventions: dict | None = None,
        render_mode: str | None = None,
        normalize: bool = False,
        render_size: int = 256,
    ):
        names = [tasks] if isinstance(tasks, str) else list(tasks)
        self._core = _r.OutputCore(names, None if conventions is None else json.dumps(conventions))
        self.task_names = self._core.task_names()
        bound = 1.0 if normalize else self.OUTPUT_SCALE
        self.action_space = spaces.Box(-bound, bound, shape=(self._core.action_dim(),), dtype=np.float32)
        self._setup_task(render_mode, normalize, render_size, self._core.obs_dim(), _dt_ms(conventions))

    def _core_action(self, action):
        return scale_actions(action, self.OUTPUT_SCALE if self.normalize else None)

    def _frame(self):
        shown = None if self._action is None else np.asarray(self._core_action(self._action))
        return task_frame(self._obs, shown, None, None, self._render_size)
