"""PPO with a recurrent policy on Yang et al.'s perceptual decision task (dm1), reachlab against what a
NeuroGym + Stable-Baselines3 user runs: the same task on the same grid (dt 100 ms, an 8-unit ring), the
same budget of trials, then the greedy policy's fraction correct on 256 new trials, and the wall time.

    python benches/compare/decision_ppo_sb3.py [--trials 32000] [--train-agent target/release/train_agent]

Needs `pip install neurogym sb3-contrib` (torch, stable-baselines3) and a release build of
`train_agent`. reachlab runs the built-in `decision_ppo` reduced to dm1 (GRU-128, PPO, 128 episodes per
update); SB3 runs `RecurrentPPO("MlpLstmPolicy")` (an LSTM-128, its defaults otherwise: lr 3e-4,
n_steps 128, 4 envs) on `neurogym.make("yang19.dm1-v0", dt=100, dim_ring=8)`, NeuroGym's port of the
same task (its trials run back to back; a trial ends with the decision period).

The two tasks are two implementations of Yang's dm1 (reachlab's follows Yang et al.'s code; NeuroGym's
port draws its own stimulus durations and coherences), and the two networks differ (GRU against SB3's
LSTM, reachlab's PPO settings against SB3's defaults): the comparison is of what each user gets from the
same budget, not of one algorithm on one task.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def run_reachlab(binary, trials, batch):
    updates = max(1, trials // batch)
    out = tempfile.mkdtemp(prefix="decision_ppo_")
    args = [
        binary, "--scenario", "decision_ppo", "--out", out, "--quiet",
        "--set", 'tasks.names=["dm1"]',
        "--set", f"training.updates={updates}",
        "--set", f"training.batch_size={batch}",
        "--set", f"training.eval_every={updates}",
        "--set", "training.stop_at_criterion=false",
        "--set", "analysis.fixed_points=false",
    ]
    t0 = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    with open(os.path.join(out, "result.json")) as f:
        result = json.load(f)
    return {"trials": updates * batch, "perf": result["per_task"][0][1], "wall_s": wall}


def run_sb3(trials, seed):
    import gymnasium as gym
    import neurogym as ngym  # noqa: F401  (registers the envs)
    import torch
    from sb3_contrib import RecurrentPPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv

    torch.set_num_threads(1)

    def make():
        return gym.make("yang19.dm1-v0", dt=100, dim_ring=8)

    class StopAfterTrials(BaseCallback):
        def __init__(self, trials):
            super().__init__()
            self.trials, self.seen = trials, 0

        def _on_step(self):
            self.seen += sum(int(i.get("new_trial", False)) for i in self.locals["infos"])
            return self.seen < self.trials

    env = DummyVecEnv([make for _ in range(4)])
    model = RecurrentPPO(
        "MlpLstmPolicy", env, seed=seed, verbose=0,
        policy_kwargs={"lstm_hidden_size": 128, "n_lstm_layers": 1},
    )
    stop = StopAfterTrials(trials)
    t0 = time.perf_counter()
    model.learn(total_timesteps=10**9, callback=stop)
    wall = time.perf_counter() - t0

    # The greedy policy on 256 new trials of one env.
    test = make()
    obs, _ = test.reset(seed=seed + 1000)
    state, start = None, np.ones((1,), dtype=bool)
    correct, done = 0, 0
    while done < 256:
        action, state = model.predict(obs[None], state=state, episode_start=start, deterministic=True)
        obs, _, terminated, truncated, info = test.step(int(action[0]))
        start = np.array([terminated or truncated])
        if info.get("new_trial", False):
            correct += int(info.get("performance", 0) == 1)
            done += 1
        if terminated or truncated:
            obs, _ = test.reset()
    return {"trials": stop.seen, "perf": correct / done, "wall_s": wall}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=32000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-agent", default="target/release/train_agent")
    a = p.parse_args()
    ours = run_reachlab(a.train_agent, a.trials, a.batch)
    print(f"reachlab  dm1 PPO GRU-128: {ours['trials']} trials, fraction correct {ours['perf']:.3f}, "
          f"{ours['wall_s']:.1f} s", flush=True)
    theirs = run_sb3(a.trials, a.seed)
    print(f"NeuroGym + SB3 RecurrentPPO LSTM-128: {theirs['trials']} trials, fraction correct "
          f"{theirs['perf']:.3f}, {theirs['wall_s']:.1f} s")
    print(f"wall-time ratio (SB3 / reachlab): {theirs['wall_s'] / ours['wall_s']:.1f}x; "
          f"fraction correct {ours['perf']:.3f} vs {theirs['perf']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
