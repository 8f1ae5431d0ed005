"""reachlab from Python: curl-field reaching and cognitive tasks as Gymnasium envs on a Rust core, and
reachlab's runs (train a scenario, read its folder back, run its policy in numpy).

>>> import gymnasium as gym, reachlab
>>> env = gym.make("reachlab/CurlReach-v0")
>>> obs, info = env.reset(seed=0)
>>> obs.shape, obs.dtype
((7,), dtype('float32'))

Envs: ``ReachEnv``, ``DecisionEnv``, ``OutputEnv`` (Gymnasium ``Env``s) and ``ReachVectorEnv``,
``DecisionVectorEnv``, ``OutputVectorEnv`` (Gymnasium ``VectorEnv``s over the threaded Rust vector env). Registered ids:
``reachlab/Reach-v0``, ``reachlab/CurlReach-v0``, ``reachlab/ArmReach-v0``, ``reachlab/Decision-v0``,
``reachlab/Output-v0`` (``gymnasium.make_vec(id, num_envs, vectorization_mode="vector_entry_point")`` for
each). Runs: ``train``, ``load_run``, ``load_policy``.
"""

import os as _os

from . import _reachlab

# candle asks for its kernel thread count at every matrix product and, without RAYON_NUM_THREADS, reads
# /proc/cpuinfo each time (a third of a short run's wall time). Written once here, through os.environ
# (the extension does not write the environment: other threads may already run), before any training.
_os.environ.setdefault("RAYON_NUM_THREADS", str(_reachlab.default_kernel_threads()))

from . import analysis  # noqa: E402
from ._reachlab import __version__  # noqa: E402
from .envs import REACH_OBS_BOUND, TASK_OBS_BOUND, DecisionEnv, OutputEnv, ReachEnv
from .policy import Policy, load_policy
from .registration import register_envs
from .runs import Run, analyze, collect, list_scenarios, load_run, read_safetensors, scenario_toml, train
from .vector import DecisionVectorEnv, OutputVectorEnv, ReachVectorEnv

register_envs()

__all__ = [
    "__version__",
    "analysis",
    "ReachEnv",
    "DecisionEnv",
    "OutputEnv",
    "REACH_OBS_BOUND",
    "TASK_OBS_BOUND",
    "ReachVectorEnv",
    "DecisionVectorEnv",
    "OutputVectorEnv",
    "train",
    "analyze",
    "collect",
    "load_run",
    "load_policy",
    "Run",
    "Policy",
    "read_safetensors",
    "list_scenarios",
    "scenario_toml",
]
