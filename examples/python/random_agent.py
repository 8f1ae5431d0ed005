"""A random agent on reachlab's envs, single and vectorised.

    pip install ./python && python examples/python/random_agent.py
"""

import gymnasium as gym
import numpy as np

import reachlab  # noqa: F401  (registers the reachlab/* ids)

for env_id in ["reachlab/CurlReach-v0", "reachlab/Decision-v0", "reachlab/Output-v0"]:
    env = gym.make(env_id)
    env.action_space.seed(0)
    obs, info = env.reset(seed=0)
    episodes, ret, returns = 0, 0.0, []
    while episodes < 20:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        ret += reward
        if terminated or truncated:
            returns.append(ret)
            episodes, ret = episodes + 1, 0.0
            obs, info = env.reset()
    print(f"{env_id:24s} mean return of a random agent over 20 episodes: {np.mean(returns):+.3f}")

vec = gym.make_vec("reachlab/CurlReach-v0", num_envs=256, vectorization_mode="vector_entry_point")
obs, info = vec.reset(seed=0)
successes = ends = 0
for _ in range(1000):
    obs, reward, terminated, truncated, info = vec.step(vec.action_space.sample())
    done = terminated | truncated
    ends += int(done.sum())
    successes += int((info["success"] & done).sum())
print(f"vector env, 256 envs x 1000 steps: {ends} episodes ended, {successes} by a random success")
