"""Env steps per second from Python: reachlab's vector env against MotorNet and NeuroGym, side by side.

    python benches/compare/python_envs.py [--motornet-python PY] [--neurogym-python PY] [--threads 2]

Each tool runs in the interpreter that has it (NeuroGym pins gymnasium 0.29, reachlab needs 1.x, so they
live in separate virtual environments); every workload is timed `--repeats` times and the median printed:

- `reachlab` vector env (`ReachVectorEnv`, point mass, curl_field's env) with a random numpy policy at
  1, 64 and 1024 envs (`copy=False`, Gymnasium's next-step autoreset);
- MotorNet's `RandomTargetReach` with its `ReluPointMass24` point mass, batch 1, 64 and 1024, `env.step` on
  random torch actions under `torch.no_grad()` with `differentiable=False`, `torch.set_num_threads(threads)`;
- NeuroGym's yang19 `dm1` env against reachlab's `DecisionEnv("dm1")`, one env each (NeuroGym has no
  batched env), random actions;
- the per-call overhead of one single-env step from Python: `ReachEnv.step` time minus the Rust step alone
  (a vector env of 1024 envs stepped on one thread, per env).

It prints one JSON line per measurement and then the ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def median_rate(fn, steps_per_call, calls, repeats):
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        rates.append(steps_per_call * calls / (time.perf_counter() - t))
    return statistics.median(rates)


def bench_reachlab(threads, repeats):
    import numpy as np

    import reachlab

    out = []
    for n in [1, 64, 1024]:
        vec = reachlab.ReachVectorEnv(num_envs=n, scenario="curl_field", copy=False)
        vec.reset(seed=0)
        rng = np.random.default_rng(0)
        actions = rng.uniform(-10, 10, size=(64, n, 2)).astype(np.float32)
        k = [0]

        def step():
            vec.step(actions[k[0] % 64])
            k[0] += 1

        calls = max(200, 200_000 // n)
        out.append({"tool": "reachlab", "envs": n, "steps_per_s": median_rate(step, n, calls, repeats)})
    # Per-call overhead of one env step from Python: the Python step minus the Rust step alone.
    env = reachlab.ReachEnv(scenario="curl_field")
    env.reset(seed=0)
    a = np.zeros(2, np.float32)

    def single():
        _, _, te, tr, _ = env.step(a)
        if te or tr:
            env.reset()

    py_rate = median_rate(single, 1, 100_000, repeats)
    # The same task as NeuroGym's row: Yang et al.'s dm1 as a single Gymnasium env, random actions.
    dec = reachlab.DecisionEnv("dm1")
    dec.reset(seed=0)
    choices = np.random.default_rng(0).integers(0, dec.action_space.n, size=4096)
    j = [0]

    def decision():
        _, _, te, tr, _ = dec.step(int(choices[j[0] % 4096]))
        j[0] += 1
        if te or tr:
            dec.reset()

    out.append({"tool": "reachlab_dm1", "envs": 1, "steps_per_s": median_rate(decision, 1, 50_000, repeats)})
    vec = reachlab.ReachVectorEnv(num_envs=1024, scenario="curl_field", copy=False, threads=1)
    vec.reset(seed=0)
    zeros = np.zeros((1024, 2), np.float32)
    rust_rate = median_rate(lambda: vec.step(zeros), 1024, 300, repeats)
    out.append(
        {
            "tool": "reachlab",
            "single_env_step_us": 1e6 / py_rate,
            "rust_step_us": 1e6 / rust_rate,
            "python_overhead_us": 1e6 / py_rate - 1e6 / rust_rate,
        }
    )
    return out


def bench_motornet(threads, repeats):
    import motornet as mn
    import torch

    torch.set_num_threads(threads)
    out = []
    for n in [1, 64, 1024]:
        env = mn.environment.RandomTargetReach(
            effector=mn.effector.ReluPointMass24(), max_ep_duration=1.0, differentiable=False
        )
        with torch.no_grad():
            env.reset(options={"batch_size": n})
            acts = torch.rand(64, n, env.action_space.shape[0])
            k = [0]

            def step():
                env.step(acts[k[0] % 64])
                k[0] += 1

            calls = max(100, 20_000 // n)
            out.append({"tool": "motornet", "envs": n, "steps_per_s": median_rate(step, n, calls, repeats)})
    return out


def bench_neurogym(threads, repeats):
    import neurogym as ngym
    import numpy as np
    from neurogym.envs.collections import yang19

    env = yang19.dm1()
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    n_act = env.action_space.n

    def step():
        _, _, te, tr, _ = env.step(int(rng.integers(n_act)))
        if te or tr:
            env.reset()

    return [{"tool": "neurogym", "envs": 1, "steps_per_s": median_rate(step, 1, 20_000, repeats)}]


BENCHES = {"reachlab": bench_reachlab, "motornet": bench_motornet, "neurogym": bench_neurogym}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--motornet-python", default=sys.executable)
    ap.add_argument("--neurogym-python", default=sys.executable)
    ap.add_argument("--only", choices=sorted(BENCHES))
    args = ap.parse_args()
    if args.only:
        for row in BENCHES[args.only](args.threads, args.repeats):
            print(json.dumps(row))
        return
    rows = []
    pythons = {"reachlab": sys.executable, "motornet": args.motornet_python, "neurogym": args.neurogym_python}
    for tool, py in pythons.items():
        cmd = [py, __file__, "--only", tool, "--threads", str(args.threads), "--repeats", str(args.repeats)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            print(f"{tool}: not measured ({res.stderr.strip().splitlines()[-1] if res.stderr.strip() else 'failed'})")
            continue
        for line in res.stdout.splitlines():
            if line.startswith("{"):
                print(line)
                rows.append(json.loads(line))
    rate = {(r["tool"], r["envs"]): r["steps_per_s"] for r in rows if "envs" in r}
    for n in [1, 64, 1024]:
        if ("reachlab", n) in rate and ("motornet", n) in rate:
            print(f"{n:5d} envs: reachlab {rate['reachlab', n]:.3g} steps/s, MotorNet {rate['motornet', n]:.3g}: "
                  f"{rate['reachlab', n] / rate['motornet', n]:.1f}x")
    if ("reachlab_dm1", 1) in rate and ("neurogym", 1) in rate:
        print(f"    1 env : reachlab DecisionEnv dm1 {rate['reachlab_dm1', 1]:.3g} steps/s, NeuroGym yang19 dm1 "
              f"{rate['neurogym', 1]:.3g}: {rate['reachlab_dm1', 1] / rate['neurogym', 1]:.1f}x")
    over = [r for r in rows if "python_overhead_us" in r]
    if over:
        o = over[0]
        print(f"single env step from Python {o['single_env_step_us']:.2f} us = Rust step {o['rust_step_us']:.3f} us "
              f"+ overhead {o['python_overhead_us']:.2f} us (goal <= 2 us)")


if __name__ == "__main__":
    main()
