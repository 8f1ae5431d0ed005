"""MotorNet's own arm26 (RigidTendonArm26 with RigidTendonHillMuscle, pip `motornet`) on a fixed joint state
and a fixed excitation sequence: the reference trajectory reachlab's muscle arm is tested against.

    python benches/compare/arm26_reference.py            # prints the f32 vs f64 spread
    python benches/compare/arm26_reference.py --write    # (re)writes envs/tests/data/arm26_motornet.json
    python benches/compare/arm26_reference.py --time 2   # one step at batch 1 and 1024, MotorNet vs reachlab

`--time T` times one `effector.step` of MotorNet (float32, its default, T torch threads, no autograd) at
batch 1 and 1024, median of 21 timings of 100 steps, then runs `cargo run --release --example
arm26_speed` (one core) and prints the ratios.

MotorNet computes in float32. The stored reference is MotorNet's own code run in float64 throughout:
while the effector is built and run, `torch.float32` and `np.float32` name the 64-bit types (and the
default dtype is float64), so every
buffer MotorNet creates "in float32" (parameters, limits, derived constants) holds the float64 value of
the same expression. The Rust test can then hold the two implementations to round-off of one model
rather than to float32's drift. The float32 run is stored beside it, and its distance from the float64
one is what "the same as MotorNet in float32" can mean. The initial joint state and the excitations are
exactly representable in float32, so both runs start from the same numbers.
"""

import argparse
import json
import pathlib
import subprocess
import time

import numpy as np
import torch
import motornet as mn

STEPS = 150  # 1.5 s at MotorNet's default 10 ms step
DT = 0.01
JOINT0 = [0.75, 1.5]  # shoulder, elbow (rad), inside arm26's limits [0, 135°] × [0, 155°]
N_MUSCLES = 6


def excitations():
    """A sequence that exercises every branch: slow co-contraction, bursts above and below the activation,
    muscles near zero (clipped to min_activation), lengthening and shortening."""
    t = np.arange(STEPS) * DT
    e = np.zeros((STEPS, N_MUSCLES))
    for m in range(N_MUSCLES):
        slow = 0.5 + 0.5 * np.sin(2 * np.pi * (0.7 + 0.3 * m) * t + m)
        burst = ((t * 1000).astype(int) // (100 + 20 * m)) % 2
        e[:, m] = 0.02 + 0.4 * slow * burst + 0.1 * slow
    e[40:55, 2] = 0.0  # below min_activation: clipped
    # Exactly representable in float32.
    return e.astype(np.float32).astype(np.float64)


class Float64Everywhere:
    """`torch.float32` and `np.float32` name the 64-bit types inside the block, and tensors made without
    a dtype are float64."""

    def __enter__(self):
        self.saved = torch.float32, np.float32, torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        torch.float32, np.float32 = torch.float64, np.float64

    def __exit__(self, *exc):
        torch.float32, np.float32, default = self.saved
        torch.set_default_dtype(default)


LOAD = [3.0, -2.0]  # N at the hand, for the run that checks how an external force enters (Jᵀ·F)


def run(dtype, exc, load=None):
    if dtype == torch.float64:
        with Float64Everywhere():
            return run_built(dtype, exc, load)
    return run_built(dtype, exc, load)


def run_built(dtype, exc, load):
    effector = mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle(), timestep=DT)
    buffers = {b.dtype for b in effector.buffers()}
    assert buffers == {dtype}, buffers
    joint0 = torch.tensor([JOINT0 + [0.0, 0.0]], dtype=dtype)
    effector.reset(options={"batch_size": 1, "joint_state": joint0})
    out = {k: [] for k in ("joint", "activation", "force", "musculotendon_length", "fingertip")}

    def record():
        s = effector.states
        out["joint"].append(s["joint"][0].tolist())
        out["activation"].append(s["muscle"][0, 0].tolist())
        out["force"].append(s["muscle"][0, 6].tolist())
        out["musculotendon_length"].append(s["geometry"][0, 0].tolist())
        out["fingertip"].append(s["fingertip"][0].tolist())

    record()
    assert effector.states["muscle"].dtype == dtype
    kwargs = {} if load is None else {"endpoint_load": torch.tensor([load], dtype=dtype)}
    for k in range(STEPS):
        effector.step(torch.tensor(exc[k : k + 1], dtype=dtype), **kwargs)
        record()
    return out


def time_motornet(batch, repeats=21, steps=100):
    effector = mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle(), timestep=DT)
    joint0 = torch.tensor([JOINT0 + [0.0, 0.0]] * batch, dtype=torch.float32)
    k = torch.arange(steps)[:, None, None] + torch.arange(batch)[None, :, None] + torch.arange(N_MUSCLES)
    exc = 0.05 + 0.1 * (k % 7).float()
    times = []
    with torch.no_grad():
        for _ in range(repeats):
            effector.reset(options={"batch_size": batch, "joint_state": joint0})
            started = time.perf_counter()
            for s in range(steps):
                effector.step(exc[s])
            times.append((time.perf_counter() - started) / steps)
    return 1e6 * float(np.median(times))


def timing(threads):
    torch.set_num_threads(threads)
    batches = [1, 1024]
    theirs = {b: time_motornet(b) for b in batches}
    root = pathlib.Path(__file__).resolve().parents[2]
    out = subprocess.run(
        ["cargo", "run", "--release", "--quiet", "--example", "arm26_speed", "--"] + [str(b) for b in batches],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout
    ours = {d["batch"]: d["step_us"] for d in map(json.loads, out.splitlines())}
    for b in batches:
        print(json.dumps({"batch": b, "motornet_step_us": round(theirs[b], 2), "reachlab_step_us": ours[b],
                          "ratio": round(theirs[b] / ours[b], 1), "motornet_threads": threads}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--time", type=int, metavar="THREADS")
    args = ap.parse_args()
    if args.time:
        timing(args.time)
        return
    exc = excitations()
    f64 = run(torch.float64, exc)
    f32 = run(torch.float32, exc)
    for key in f64:
        a, b = np.array(f64[key]), np.array(f32[key])
        print(f"{key:22s} max |f32 − f64| = {np.abs(a - b).max():.3e}   range {a.min():+.4f} … {a.max():+.4f}")
    if args.write:
        path = pathlib.Path(__file__).resolve().parents[2] / "envs/tests/data/arm26_motornet.json"
        doc = {
            "source": f"motornet {mn.__version__}, RigidTendonArm26(muscle=RigidTendonHillMuscle()), Euler, dt {DT}",
            "script": "benches/compare/arm26_reference.py",
            "dt": DT,
            "joint0": JOINT0,
            "excitation": exc.tolist(),
            "float64": f64,
            "float32": f32,
            "load": LOAD,
            "float64_load": run(torch.float64, exc, LOAD),
        }
        path.write_text(json.dumps(doc))
        print("wrote", path)


if __name__ == "__main__":
    main()
