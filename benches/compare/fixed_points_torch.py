"""The fixed-point method of Golub & Sussillo's FixedPointFinder (PyTorch version), on the same GRU and the
same 1024 starts as `examples/fixed_point_compare.rs`, timed side by side.

The method: all starts as one tensor, q(x) = ½‖F(x) − x‖², Adam with ReduceLROnPlateau (factor 0.95,
patience 5), at most 5000 iterations, then float64 refinement, outlier removal, de-duplication (1e-3) and the
Jacobian's eigenvalues at each unique point. Two departures from its defaults, both because the defaults
do not converge here (../shared/science.md §6): q is summed over the starts, not averaged, and lr = 0.1.

    /tmp/tv/bin/python benches/compare/fixed_points_torch.py /tmp/fp.safetensors [threads]
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


def optimise(x0, weights, dtype, iters, q_tol, lr):
    w = [t.to(dtype) for t in weights]
    x = x0.clone().to(dtype).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.95, patience=5)
    for it in range(iters):
        opt.zero_grad()
        q = 0.5 * ((gru_step(x, *w) - x) ** 2).sum(dim=1)
        total = q.sum()
        if q.max().item() < q_tol:
            break
        total.backward()
        opt.step()
        sched.step(total.item())
    with torch.no_grad():
        q = 0.5 * ((gru_step(x, *w) - x) ** 2).sum(dim=1)
    return x.detach(), q, it + 1


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/fp.safetensors"
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(threads)
    t = load_file(path)
    weights = [t["weight_ih_l0"], t["weight_hh_l0"], t["bias_ih_l0"], t["bias_hh_l0"]]
    starts = t["starts"]
    t0 = time.perf_counter()
    x, q, it32 = optimise(starts, weights, torch.float32, 5000, 1e-10, 0.1)
    x, q, it64 = optimise(x, weights, torch.float64, 1000, 1e-12, 1e-3)
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
        jac = torch.autograd.functional.jacobian(lambda v: gru_step(v[None, :], *w64)[0], p)
        if torch.linalg.eigvals(jac).abs().max().item() < 1:
            stable += 1
    seconds = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "tool": "pytorch",
                "threads": threads,
                "starts": starts.shape[0],
                "seconds": round(seconds, 3),
                "iterations_f32": it32,
                "iterations_f64": it64,
                "converged_starts": int((q < 1e-12).sum()),
                "fixed": len(unique),
                "stable": stable,
            }
        )
    )


if __name__ == "__main__":
    main()
