"""The fixed-point method of Golub & Sussillo's FixedPointFinder (PyTorch version), on the same GRU and the
same 1024 starts as `examples/fixed_point_compare.rs`, timed side by side.

The method: all starts as one tensor, q(x) = ½‖F(x) − x‖², Adam with ReduceLROnPlateau (factor 0.95,
patience 5), at most 5000 iterations, then float64 refinement, outlier removal, de-duplication (1e-3) and the
Jacobian's eigenvalues at each unique point. Four variants (`--variant`, default all, one JSON line
each):

- `working`: the variant that converged on our first trained flip-flop (../shared/science.md §6): q
  summed over the starts, Adam lr 0.1, ReduceLROnPlateau(0.95, patience 5), stop when every start has
  q < 1e-10.
- `fpf_torch`: FixedPointFinderTorch's defaults as science.md §6 gives them: q averaged over the starts,
  Adam lr 1.0, ReduceLROnPlateau(0.95, patience 2), stop when every start has q < 1e-12 or dq < 1e-20·lr,
  at most 5000 iterations.
- `fpf_tf`: the TF version's (FixedPointFinderBase `_default_hps`): the same with Adam epsilon 0.01 and
  patience 5 (ReduceLROnPlateau standing in for its AdaptiveLearningRate).
- `fpf_torch_steplr`: the loop of FixedPointFinderTorch.py as stored at commit 0735e79: q averaged, Adam
  lr 0.05, StepLR(500, 0.7), at most 2000 iterations, the same stop.

`--f64` runs the main loop in float64 too (reachlab works in float64 throughout), as the reference does
when given a float64 network.

    /tmp/tv/bin/python benches/compare/fixed_points_torch.py /tmp/fp.safetensors [threads] [--variant V] [--f64]
"""

import json
import sys
import time

import torch
from safetensors.torch import load_file


def gru_step(x, w_ih, w_hh, b_ih, b_hh):
    # Zero input: W_ih·u = 0, only b_ih remains. PyTorch gate order r, z, n.
    n = x.shape[-1]
    gi = b_ih.expand(x.shape[0], -1)
    gh = x @ w_hh.T + b_hh
    r = torch.sigmoid(gi[:, :n] + gh[:, :n])
    z = torch.sigmoid(gi[:, n : 2 * n] + gh[:, n : 2 * n])
    c = torch.tanh(gi[:, 2 * n :] + r * gh[:, 2 * n :])
    return (1 - z) * c + z * x


VARIANTS = {
    "working": dict(reduce="sum", lr=0.1, eps=1e-8, sched="plateau", patience=5, iters=5000, q_tol=1e-10, dq_tol=None),
    "fpf_torch": dict(reduce="mean", lr=1.0, eps=1e-8, sched="plateau", patience=2, iters=5000, q_tol=1e-12, dq_tol=1e-20),
    "fpf_tf": dict(reduce="mean", lr=1.0, eps=0.01, sched="plateau", patience=5, iters=5000, q_tol=1e-12, dq_tol=1e-20),
    "fpf_torch_steplr": dict(reduce="mean", lr=0.05, eps=1e-8, sched="step", patience=None, iters=2000, q_tol=1e-12, dq_tol=1e-20),
}


def optimise(x0, weights, dtype, v):
    w = [t.to(dtype) for t in weights]
    x = x0.clone().to(dtype).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=v["lr"], eps=v["eps"])
    if v["sched"] == "plateau":
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.95, patience=v["patience"])
    else:
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=500, gamma=0.7)
    q_prev = None
    for it in range(v["iters"]):
        opt.zero_grad()
        q = 0.5 * ((gru_step(x, *w) - x) ** 2).sum(dim=1)
        total = q.sum() if v["reduce"] == "sum" else q.mean()
        done = q.detach() < v["q_tol"]
        if v["dq_tol"] is not None and q_prev is not None:
            done |= (q_prev - q.detach()).abs() < v["dq_tol"] * opt.param_groups[0]["lr"]
        if bool(done.all()):
            break
        q_prev = q.detach().clone()
        total.backward()
        opt.step()
        if v["sched"] == "plateau":
            sched.step(total.item())
        else:
            sched.step()
    with torch.no_grad():
        q = 0.5 * ((gru_step(x, *w) - x) ** 2).sum(dim=1)
    return x.detach(), q, it + 1


def run(variant, starts, weights, threads, f64):
    v = VARIANTS[variant]
    t0 = time.perf_counter()
    x, q, it32 = optimise(starts, weights, torch.float64 if f64 else torch.float32, v)
    refine = dict(v, lr=1e-3, iters=1000, q_tol=1e-12)
    x, q, it64 = optimise(x, weights, torch.float64, refine)
    # Outliers: farther than 10x the mean start-to-centroid distance from the centroid.
    centroid = starts.mean(dim=0)
    spread = (starts - centroid).norm(dim=1).mean()
    keep = (x - centroid.to(x.dtype)).norm(dim=1) < 10 * spread
    fixed = x[(q < 1e-12) & keep]
    unique = []
    for p in fixed:
        if all((p - u).norm() > 1e-3 for u in unique):
            unique.append(p)
    w64 = [w.to(torch.float64) for w in weights]
    stable = 0
    for p in unique:
        jac = torch.autograd.functional.jacobian(lambda s: gru_step(s[None, :], *w64)[0], p)
        if torch.linalg.eigvals(jac).abs().max().item() < 1:
            stable += 1
    seconds = time.perf_counter() - t0
    # What each start ended as: a fixed point (q < 1e-12), a slow point (q < 1e-6), or nothing.
    slow = int(((q >= 1e-12) & (q < 1e-6)).sum())
    return {
        "tool": "pytorch",
        "variant": variant,
        "threads": threads,
        "precision": "f64" if f64 else "f32 then f64",
        "starts": starts.shape[0],
        "seconds": round(seconds, 3),
        "iterations_main": it32,
        "iterations_refine_f64": it64,
        "converged_starts": int((q < 1e-12).sum()),
        "slow_starts": slow,
        "nothing_starts": int(starts.shape[0]) - int((q < 1e-12).sum()) - slow,
        "fixed": len(unique),
        "stable": stable,
    }


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    variants = list(VARIANTS)
    if "--variant" in sys.argv:
        variants = [sys.argv[sys.argv.index("--variant") + 1]]
        args = [a for a in args if a != variants[0]]
    path = args[0] if args else "/tmp/fp.safetensors"
    threads = int(args[1]) if len(args) > 1 else 2
    torch.set_num_threads(threads)
    t = load_file(path)
    weights = [t["weight_ih_l0"], t["weight_hh_l0"], t["bias_ih_l0"], t["bias_hh_l0"]]
    for variant in variants:
        print(json.dumps(run(variant, t["starts"], weights, threads, "--f64" in sys.argv)), flush=True)


if __name__ == "__main__":
    main()
