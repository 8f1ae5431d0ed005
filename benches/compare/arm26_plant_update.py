"""One update of training a policy through arm26, MotorNet (pip `motornet`) against reachlab, side by side.

    python benches/compare/arm26_plant_update.py            # batches 1, 64 and 1024, one thread each
    python benches/compare/arm26_plant_update.py --batches 64 --repeats 5

MotorNet's update is its tutorial's training loop: `RandomTargetReach` with `RigidTendonArm26` +
`RigidTendonHillMuscle` (float32, its default), `mn.policy.PolicyGRU` with 128 units, 100 steps of 10 ms
(`max_ep_duration = 1`), the L1 distance of fingertip to goal as the loss, backward, gradient clipping at
1 and one Adam step. reachlab's is `cargo run --release --example arm26_plant_speed`: a GRU of 128 units,
the same batch and 100 steps through arm26's twin (`agents/src/twin/arm26.rs`), the env's per-step cost,
backward, clipping and one Adam step. The workloads differ in their loss and observation (MotorNet: goal,
delayed vision and proprioception, 16 inputs; reachlab: target and go cues, hand, proprioception, 19) and
in the policy's read-out (MotorNet: sigmoid; reachlab: Gaussian mean, clipped); the arm, the network size,
the batch and the steps are the same. Both on one thread. Prints one JSON line per batch, the median of
`--repeats` updates after one warm-up.
"""

import argparse
import os
import json
import pathlib
import subprocess
import time

import numpy as np
import torch
import motornet as mn


def time_motornet(batch, repeats, steps=100, hidden=128):
    effector = mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle())
    env = mn.environment.RandomTargetReach(effector=effector, max_ep_duration=steps * effector.dt)
    policy = mn.policy.PolicyGRU(env.observation_space.shape[0], hidden, env.n_muscles, device="cpu")
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)
    times = []
    for k in range(repeats + 1):
        started = time.perf_counter()
        h = policy.init_hidden(batch_size=batch)
        obs, info = env.reset(options={"batch_size": batch})
        terminated = False
        xy, tg = [info["states"]["fingertip"][:, None, :]], [info["goal"][:, None, :]]
        while not terminated:
            action, h = policy(obs, h)
            obs, reward, terminated, truncated, info = env.step(action=action)
            xy.append(info["states"]["fingertip"][:, None, :])
            tg.append(info["goal"][:, None, :])
        loss = torch.mean(torch.sum(torch.abs(torch.cat(xy, dim=1) - torch.cat(tg, dim=1)), dim=-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), max_norm=1.0)
        optimizer.step()
        if k > 0:
            times.append(time.perf_counter() - started)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 64, 1024])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    theirs = {b: time_motornet(b, args.repeats) for b in args.batches}
    root = pathlib.Path(__file__).resolve().parents[2]
    out = subprocess.run(
        ["cargo", "run", "--release", "--quiet", "--example", "arm26_plant_speed", "--"]
        + [str(b) for b in args.batches],
        cwd=root, check=True, capture_output=True, text=True, env={**os.environ,
                                                                   "REPEATS": str(args.repeats)},
    ).stdout
    ours = {d["batch"]: d["update_s"] for d in map(json.loads, out.splitlines())}
    for b in args.batches:
        print(json.dumps({"batch": b, "motornet_update_s": round(theirs[b], 4), "reachlab_update_s": ours[b],
                          "ratio": round(theirs[b] / ours[b], 2), "threads": 1}))


if __name__ == "__main__":
    main()
