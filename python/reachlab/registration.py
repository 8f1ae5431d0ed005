"""Gymnasium ids for reachlab's envs (registered when ``reachlab`` is imported)."""

from __future__ import annotations

import gymnasium as gym

# id → (entry point, vector entry point or None, default kwargs). Every id is normalized (actions in
# [-1, 1] times the env's bound, observations in a finite box: `normalize=True`, see ReachEnv), as
# off-the-shelf RL libraries expect; the classes themselves default to physical units.
ENVS = {
    "reachlab/Reach-v0": ("reachlab.envs:ReachEnv", "reachlab.vector:ReachVectorEnv", {"normalize": True}),
    # The curl-field experiment's env and phases (pretraining, baseline, learning, washout, relearning);
    # it starts in the null field; env.unwrapped.set_phase("learning") switches the curl field on. Its
    # reward is the scenario's: minus the per-step cost (reward.kind = "cost"), every trial 180 steps long.
    "reachlab/CurlReach-v0": (
        "reachlab.envs:ReachEnv",
        "reachlab.vector:ReachVectorEnv",
        {"scenario": "curl_field", "normalize": True},
    ),
    "reachlab/ArmReach-v0": (
        "reachlab.envs:ReachEnv",
        "reachlab.vector:ReachVectorEnv",
        {"config": {"effector": {"kind": "two_link_arm"}}, "normalize": True},
    ),
    # MotorNet's six-muscle arm (RigidTendonArm26): 6 excitations (normalized [-1, 1] → [0, 1]) and 12
    # proprioceptive observations after the task's.
    "reachlab/Arm26Reach-v0": (
        "reachlab.envs:ReachEnv",
        "reachlab.vector:ReachVectorEnv",
        {"config": {"effector": {"kind": "arm26"}}, "normalize": True},
    ),
    "reachlab/Decision-v0": (
        "reachlab.envs:DecisionEnv",
        "reachlab.vector:DecisionVectorEnv",
        {"tasks": "yang20", "normalize": True},
    ),
    "reachlab/Output-v0": (
        "reachlab.envs:OutputEnv",
        "reachlab.vector:OutputVectorEnv",
        {"tasks": "flipflop", "normalize": True},
    ),
}


def register_envs() -> None:
    """Registers every id once (importing reachlab twice, or reloading it, does not warn)."""
    for env_id, (entry, vector_entry, kwargs) in ENVS.items():
        if env_id in gym.registry:
            continue
        gym.register(id=env_id, entry_point=entry, vector_entry_point=vector_entry, kwargs=kwargs)
