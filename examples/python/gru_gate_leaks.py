"""How a task run's GRU holds its slow points: the update gates' leaks there.

At a slow point x of a GRU under a constant input u, unit i moves by (1 - z_i)(c_i - x_i) per step, where z
is the update gate and c the candidate. A unit whose gate is nearly shut (1 - z_i tiny) keeps any value for
1/(1 - z_i) steps: a direction of the state space along which nothing is fixed and everything is slow.
Counting such units at the slow points that `train_agent` saved tells a slow manifold from isolated fixed
points the search failed to reach (docs/results.md, `decision_ppo`).

    python examples/python/gru_gate_leaks.py RUN_DIR TASK [TASK ...]

RUN_DIR is a finished task run (one unit) whose analysis used `fixed_point_input = "fixation"`; each TASK's
points are read from RUN_DIR/fixed_points_<task>.safetensors. The fixation input (fixation unit on, one
rule unit on) is found by recomputing q at the saved points: the rule unit whose input gives the saved q
to 1e-6 (the script stops if none does). Needs numpy and safetensors.
"""

import sys

import numpy as np
from safetensors.numpy import load_file


def main(run_dir, tasks):
    w = {k: v.astype(np.float64) for k, v in load_file(f"{run_dir}/checkpoints/latest/weights.safetensors").items()}
    w_ih, w_hh = w["actor.weight_ih_l0"], w["actor.weight_hh_l0"]
    b_ih, b_hh = w["actor.bias_ih_l0"], w["actor.bias_hh_l0"]
    n, m = w_hh.shape[1], w_ih.shape[1]

    def gates(h, u):
        gi, gh = w_ih @ u + b_ih, w_hh @ h + b_hh
        sig = lambda x: 1.0 / (1.0 + np.exp(-x))
        r = sig(gi[:n] + gh[:n])
        z = sig(gi[n : 2 * n] + gh[n : 2 * n])
        c = np.tanh(gi[2 * n :] + r * gh[2 * n :])
        return z, c

    def q(h, u):
        z, c = gates(h, u)
        return 0.5 * np.sum(((1 - z) * c + z * h - h) ** 2)

    print("task | points | saved q | units with 1 - z < 1e-3 / 1e-5 / 1e-7 (median over points) | median 1 - z")
    for task in tasks:
        fp = load_file(f"{run_dir}/fixed_points_{task}.safetensors")
        xs, saved = fp["states"].astype(np.float64), fp["q"].astype(np.float64)
        if len(xs) == 0:
            print(f"{task} | 0 | - | - | -")
            continue
        found = None
        for rule in range(1, m):
            u = np.zeros(m)
            u[0], u[rule] = 1.0, 1.0
            err = max(abs(q(x, u) - s) / s for x, s in zip(xs, saved))
            if err < 1e-6:
                found = u
                break
        if found is None:
            sys.exit(f"{task}: no input (fixation + one rule unit) gives the saved q")
        leaks = [1.0 - gates(x, found)[0] for x in xs]
        counts = [np.median([np.sum(l < t) for l in leaks]) for t in (1e-3, 1e-5, 1e-7)]
        print(
            f"{task} | {len(xs)} | {saved.min():.1e}–{saved.max():.1e} | "
            f"{counts[0]:.0f} / {counts[1]:.0f} / {counts[2]:.0f} of {n} | {np.median(np.concatenate(leaks)):.1e}"
        )


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
