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

__all__ = ["ReachEnv", "DecisionEnv", "OutputEnv", "phase_dict"]


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


class ReachEnv(_SeededEnv):
    """Delayed centre-out reaching with a point mass or a two-link arm in a force field.

    ``ReachEnv(config={...})`` takes the keys of a scenario's ``[env]`` table (missing keys keep their
    defaults; ``reachlab.scenario_toml("curl_field")`` shows them all); ``ReachEnv(scenario="curl_field")``
    takes a scenario's env and its phases by name (a built-in name, a TOML file, or TOML text).

    Observation (float32): ``[target_x, target_y, go, hand_x, hand_y, vel_x, vel_y]`` (+ the field input
    k when ``observation.field_input``). Action: 2 forces (or torques), clipped to ``±action_bound``.
    ``reset(options=...)`` takes ``target`` (index), ``trial_type`` ("normal", "catch", "channel") and
    ``phase`` (a name or a phase dict); ``set_phase`` switches the field between episodes, so the whole
    protocol (null → curl → null → curl) runs from Python. A NaN action raises ``ValueError``.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        config: dict | None = None,
        scenario: str | os.PathLike | None = None,
        phase: str | dict | None = None,
        render_mode: str | None = None,
    ):
        if render_mode is not None:
            raise ValueError("ReachEnv does not render; record info['hand_pos'] instead")
        if scenario is not None and config is not None:
            raise ValueError("give config= or scenario=, not both")
        if scenario is not None:
            self._core = _r.ReachCore.from_scenario(_scenario_arg(scenario))
        else:
            self._core = _r.ReachCore(json.dumps(config or {}))
        if phase is not None:
            self.set_phase(phase)
        low, high = self._core.observation_bounds()
        self.observation_space = spaces.Box(np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32)
        low, high = self._core.action_bounds()
        self.action_space = spaces.Box(np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32)
        self.config = json.loads(self._core.config_json())

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
        return self._core.reset(seed, target, trial_type)


class _TaskEnv(_SeededEnv):
    """Shared by the task envs: ``reset(options={"task": i})`` forces the task index."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        seed = self._seed_for(seed)
        opts = dict(options or {})
        task = opts.pop("task", None)
        if opts:
            raise ValueError(f"unknown reset options {sorted(opts)} (known: task)")
        return self._core.reset(seed, task)


class DecisionEnv(_TaskEnv):
    """Ring tasks (Yang et al. 2019, Mod-Cog) with discrete actions: 0 fixates, k ≥ 1 chooses the
    direction 2π(k−1)/n_ring.

    ``tasks`` is a task name, a battery (``yang20``, ``modcog``, …) or a list of either;
    ``conventions`` and ``rewards`` take the keys of a task scenario's ``[tasks.conventions]`` and of
    ``DecisionRewards`` (defaults: Mod-Cog's). ``reset(options={"task": i})`` forces the task index.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        tasks: str | list[str] = "yang20",
        conventions: dict | None = None,
        rewards: dict | None = None,
        render_mode: str | None = None,
    ):
        if render_mode is not None:
            raise ValueError("DecisionEnv does not render")
        names = [tasks] if isinstance(tasks, str) else list(tasks)
        self._core = _r.DecisionCore(
            names,
            None if conventions is None else json.dumps(conventions),
            None if rewards is None else json.dumps(rewards),
        )
        self.task_names = self._core.task_names()
        dim = self._core.obs_dim()
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(dim,), dtype=np.float32)
        self.action_space = spaces.Discrete(self._core.n_actions())


class OutputEnv(_TaskEnv):
    """Any task (ring tasks, flip-flop, context integration, sine wave) with the network's output
    vector as the action; the reward is minus the masked squared error to the target, and the info of
    a trial's last step holds its ``score``."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        tasks: str | list[str] = "flipflop",
        conventions: dict | None = None,
        render_mode: str | None = None,
    ):
        if render_mode is not None:
            raise ValueError("OutputEnv does not render")
        names = [tasks] if isinstance(tasks, str) else list(tasks)
        self._core = _r.OutputCore(names, None if conventions is None else json.dumps(conventions))
        self.task_names = self._core.task_names()
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(self._core.obs_dim(),), dtype=np.float32)
        self.action_space = spaces.Box(-10.0, 10.0, shape=(self._core.action_dim(),), dtype=np.float32)
