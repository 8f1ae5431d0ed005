"""Gymnasium vector envs over reachlab's threaded Rust vector envs.

A step hands the actions to Rust, which steps every sub-env (on worker threads for the arm from 256 envs
on; the point mass and the tasks are fastest on the calling thread) with the GIL released and writes into buffers that numpy arrays view: no array is allocated per step. With ``copy=True`` (the
default, as Gymnasium's ``SyncVectorEnv``) the arrays returned are copies; with ``copy=False`` they are
the views themselves, overwritten by the next step (copy what you keep, as a rollout buffer does).

Sub-env ``i`` is seeded ``seed + i``; results for a seed do not depend on ``threads``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Sequence

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space

from . import _reachlab as _r
from .envs import TASK_OBS_BOUND, OutputEnv, phase_dict, reach_spaces, scale_actions

__all__ = ["ReachVectorEnv", "DecisionVectorEnv", "OutputVectorEnv"]

_MODES = {
    "next_step": AutoresetMode.NEXT_STEP,
    "same_step": AutoresetMode.SAME_STEP,
    "disabled": AutoresetMode.DISABLED,
}


def _mode_name(mode: str | AutoresetMode) -> str:
    if isinstance(mode, AutoresetMode):
        return next(k for k, v in _MODES.items() if v == mode)
    if mode not in _MODES:
        raise ValueError(f"autoreset_mode {mode!r}: expected one of {sorted(_MODES)}")
    return mode


def _first_seed(seed: int | Sequence[int] | None, n: int) -> int | None:
    """Gymnasium accepts one seed (sub-env i gets seed + i) or a list; a list must be consecutive."""
    if seed is None or isinstance(seed, (int, np.integer)):
        return None if seed is None else int(seed)
    seeds = [int(s) for s in seed]
    if len(seeds) != n or any(s != seeds[0] + i for i, s in enumerate(seeds)):
        raise ValueError("seeds must be one int or a list of consecutive ints, one per sub-env (seed + i)")
    return seeds[0]


class _RustVectorEnv(VectorEnv):
    _INFO_KEYS: tuple[str, ...] = ()

    def _setup(self, core, single_obs: spaces.Space, single_action: spaces.Space, mode: str, copy: bool):
        self._core = core
        self._views = core.views()
        self._copy = copy
        self._mode = mode
        self.single_observation_space = single_obs
        self.single_action_space = single_action
        self.observation_space = batch_space(single_obs, self.num_envs)
        self.action_space = batch_space(single_action, self.num_envs)
        self.metadata = {"autoreset_mode": _MODES[mode]}
        self._all = np.ones(self.num_envs, dtype=bool)
        self._all.flags.writeable = False
        self._seeded = False

    def _out(self, a: np.ndarray) -> np.ndarray:
        return a.copy() if self._copy else a

    def _obs(self, key: str = "obs") -> np.ndarray:
        """The observation buffer, clipped in place to the observation space when it is bounded
        (``normalize``): the Rust env writes every observation afresh, so the buffer is ours to clip."""
        a = self._views[key]
        if getattr(self, "normalize", False):
            np.clip(a, self.single_observation_space.low, self.single_observation_space.high, out=a)
        return a

    def _infos(self) -> dict[str, Any]:
        v = self._views
        infos: dict[str, Any] = {}
        for k in self._INFO_KEYS:
            infos[k] = self._out(v[k])
            infos["_" + k] = self._all
        if self._mode == "same_step":
            done = v["terminated"] | v["truncated"]
            if done.any():
                infos["final_obs"] = self._obs("final_obs").copy()
                infos["_final_obs"] = done
        return infos

    def _seed_for(self, seed) -> int | None:
        first = _first_seed(seed, self.num_envs)
        if first is not None:
            self._np_random, _ = seeding.np_random(first)
            self._seeded = True
            return first
        if not self._seeded:
            self._seeded = True
            return int(self.np_random.integers(0, 2**63 - 1))
        return None

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None):
        opts = dict(options or {})
        self._apply_reset_options(opts)
        if opts:
            raise ValueError(f"unknown reset options {sorted(opts)}")
        self._core.reset(self._seed_for(seed))
        return self._out(self._obs()), self._infos()

    def _apply_reset_options(self, opts: dict) -> None:
        pass

    def reset_done(self):
        """Resets the sub-envs whose episode ended (``autoreset_mode="disabled"``); returns obs, infos."""
        self._core.reset_done()
        return self._out(self._obs()), self._infos()

    def step(self, actions):
        self._core.step(self._actions(actions))
        v = self._views
        return (
            self._out(self._obs()),
            self._out(v["rewards"]),
            self._out(v["terminated"]),
            self._out(v["truncated"]),
            self._infos(),
        )


class ReachVectorEnv(_RustVectorEnv):
    """``num_envs`` reaching envs (see ``reachlab.ReachEnv`` for ``config``, ``scenario``, ``phase``).

    ``autoreset_mode``: "next_step" (Gymnasium's default), "same_step" (``info["final_obs"]``) or
    "disabled" (call ``reset_done``). ``threads``: worker threads (default: 1, or the cores for the arm from 256 envs). Infos are arrays:
    ``success``, ``target``, ``epoch`` (codes of ``epoch_names``), ``trial_type`` (codes of
    ``trial_type_names``), ``field_on``, ``go_step``, ``step``, ``premature``, ``hand_pos``, ``hand_vel``,
    ``field_force``, ``action`` (the applied, clipped action; [n, 2]), each with its ``_key`` mask (all true).
    """

    _INFO_KEYS = (
        "success",
        "target",
        "epoch",
        "trial_type",
        "field_on",
        "go_step",
        "step",
        "premature",
        "hand_pos",
        "hand_vel",
        "field_force",
        "action",
    )

    def __init__(
        self,
        num_envs: int = 1,
        config: dict | None = None,
        scenario: str | os.PathLike | None = None,
        phase: str | dict | None = None,
        autoreset_mode: str | AutoresetMode = "next_step",
        threads: int | None = None,
        copy: bool = True,
        normalize: bool = False,
    ):
        self.num_envs = int(num_envs)
        if scenario is not None and config is not None:
            raise ValueError("give config= or scenario=, not both")
        if scenario is not None:
            probe = _r.ReachCore.from_scenario(os.fspath(scenario))
        else:
            probe = _r.ReachCore(json.dumps(config or {}))
        self._phases: dict[str, dict] = {}
        for name in probe.phase_names():
            probe.set_phase_named(name)
            self._phases[name] = json.loads(probe.phase_json())
        start = next(iter(self._phases.values()), None)
        mode = _mode_name(autoreset_mode)
        core = _r.ReachVec(
            self.num_envs,
            probe.config_json(),
            None if start is None else json.dumps(start),
            mode,
            threads,
        )
        self.config = json.loads(probe.config_json())
        self.normalize = bool(normalize)
        obs, act, self._action_scale = reach_spaces(probe, self.normalize)
        self._setup(core, obs, act, mode, copy)
        self.epoch_names, self.trial_type_names = _r.ReachVec.codes()
        if phase is not None:
            self.set_phase(phase)

    @property
    def phase_names(self) -> list[str]:
        return list(self._phases)

    def set_phase(self, phase: str | dict) -> None:
        """Switches every sub-env's field from its next episode on (a name from the scenario, or a dict)."""
        if isinstance(phase, str):
            if phase not in self._phases:
                raise ValueError(f"no phase {phase!r} (known: {', '.join(self._phases)}); give a phase dict instead")
            phase = self._phases[phase]
        self._core.set_phase_json(json.dumps(phase_dict(phase)))

    def _apply_reset_options(self, opts: dict) -> None:
        phase = opts.pop("phase", None)
        if phase is not None:
            self.set_phase(phase)

    def _actions(self, actions) -> np.ndarray:
        return scale_actions(actions, self._action_scale)


class DecisionVectorEnv(_RustVectorEnv):
    """``num_envs`` ring-task envs (see ``reachlab.DecisionEnv``). Infos: ``task``, ``aborted`` and
    ``correct`` (with ``_correct`` true where a trial ended at this step). ``normalize``: observations
    clipped to ``± TASK_OBS_BOUND`` (the registered id sets it)."""

    _INFO_KEYS = ("task", "aborted")

    def __init__(
        self,
        num_envs: int = 1,
        tasks: str | list[str] = "yang20",
        conventions: dict | None = None,
        rewards: dict | None = None,
        autoreset_mode: str | AutoresetMode = "next_step",
        threads: int | None = None,
        copy: bool = True,
        normalize: bool = False,
    ):
        self.num_envs = int(num_envs)
        names = [tasks] if isinstance(tasks, str) else list(tasks)
        probe = _r.DecisionCore(
            names,
            None if conventions is None else json.dumps(conventions),
            None if rewards is None else json.dumps(rewards),
        )
        self.task_names = probe.task_names()
        mode = _mode_name(autoreset_mode)
        core = _r.DecisionVec(
            self.num_envs,
            names,
            None if conventions is None else json.dumps(conventions),
            None if rewards is None else json.dumps(rewards),
            mode,
            threads,
        )
        bound = TASK_OBS_BOUND if normalize else np.inf
        self.normalize = bool(normalize)
        obs = spaces.Box(-bound, bound, shape=(probe.obs_dim(),), dtype=np.float32)
        self._setup(core, obs, spaces.Discrete(probe.n_actions()), mode, copy)

    def _infos(self) -> dict[str, Any]:
        infos = super()._infos()
        infos["correct"] = self._out(self._views["correct"])
        infos["_correct"] = self._out(self._views["_correct"])
        return infos

    def _actions(self, actions) -> np.ndarray:
        return np.ascontiguousarray(actions, dtype=np.int64)


class OutputVectorEnv(_RustVectorEnv):
    """``num_envs`` output envs (see ``reachlab.OutputEnv``): any task, the network's output vector as the
    action ([n, action_dim] float32). Infos: ``task``, and ``score`` (a trial's score in [0, 1]) with
    ``_score`` true where a trial ended at this step. ``normalize``: as ``OutputEnv``'s (actions in
    [-1, 1] times ``OutputEnv.OUTPUT_SCALE``, observations clipped to ``± TASK_OBS_BOUND``)."""

    _INFO_KEYS = ("task",)

    def __init__(
        self,
        num_envs: int = 1,
        tasks: str | list[str] = "flipflop",
        conventions: dict | None = None,
        autoreset_mode: str | AutoresetMode = "next_step",
        threads: int | None = None,
        copy: bool = True,
        normalize: bool = False,
    ):
        self.num_envs = int(num_envs)
        names = [tasks] if isinstance(tasks, str) else list(tasks)
        mode = _mode_name(autoreset_mode)
        core = _r.OutputVec(
            self.num_envs,
            names,
            None if conventions is None else json.dumps(conventions),
            mode,
            threads,
        )
        probe = _r.OutputCore(names, None if conventions is None else json.dumps(conventions))
        self.task_names = probe.task_names()
        self.normalize = bool(normalize)
        bound = TASK_OBS_BOUND if self.normalize else np.inf
        obs = spaces.Box(-bound, bound, shape=(core.obs_dim(),), dtype=np.float32)
        a = 1.0 if self.normalize else OutputEnv.OUTPUT_SCALE
        act = spaces.Box(-a, a, shape=(core.action_dim(),), dtype=np.float32)
        self._setup(core, obs, act, mode, copy)

    def _infos(self) -> dict[str, Any]:
        infos = super()._infos()
        infos["score"] = self._out(self._views["score"])
        infos["_score"] = self._out(self._views["_score"])
        return infos

    def _actions(self, actions) -> np.ndarray:
        return scale_actions(actions, OutputEnv.OUTPUT_SCALE if self.normalize else None)
