"""Load a reachlab checkpoint in Python and re-run its actor core and action head in numpy.

    python3 scripts/check_checkpoint.py CHECKPOINT_DIR [--probe probe.json]

Needs `numpy` and `safetensors` (pip install numpy safetensors). Weights use PyTorch's names and layouts
(`actor.weight_ih_l0`, `actor.weight_hh_l0`, `actor.bias_ih_l0`, `actor.bias_hh_l0`, gates r,z,n for a GRU
and i,f,g,o for an LSTM), so `torch.nn.GRU(I, H).load_state_dict({k.removeprefix("actor."): torch.from_numpy(v)
for k, v in weights.items() if k.startswith("actor.")})` also works for GRU and LSTM cores.

With a probe file (JSON: `obs` [T][I], `hidden` [T][H], `head` [T][A], written by the Rust tests), the
numpy forward pass must reproduce the Rust one; the script exits non-zero if it does not.
"""

import json
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def actor_forward(w, meta, obs):
    core = meta["policy"]["core"]
    kind, hidden = core["kind"], core["hidden"]
    w_ih, b_ih = w["actor.weight_ih_l0"], w["actor.bias_ih_l0"]
    w_hh, b_hh = w["actor.weight_hh_l0"], w["actor.bias_hh_l0"]
    if kind == "autapse":
        w_hh = np.diag(w_hh)
    if kind == "sparse":
        w_hh = w_hh * w["actor.mask"]
    h = np.zeros(hidden)
    c = np.zeros(hidden)
    hs, heads = [], []
    for x in obs:
        gx = w_ih @ x + b_ih
        gh = w_hh @ h + b_hh
        if kind == "gru":
            r = sigmoid(gx[:hidden] + gh[:hidden])
            z = sigmoid(gx[hidden : 2 * hidden] + gh[hidden : 2 * hidden])
            n = np.tanh(gx[2 * hidden :] + r * gh[2 * hidden :])
            h = (1 - z) * n + z * h
        elif kind == "lstm":
            a = gx + gh
            i, f = sigmoid(a[:hidden]), sigmoid(a[hidden : 2 * hidden])
            g, o = np.tanh(a[2 * hidden : 3 * hidden]), sigmoid(a[3 * hidden :])
            c = f * c + i * g
            h = o * np.tanh(c)
        else:
            a = gx + gh
            act = np.tanh(a) if core["activation"] == "tanh" else np.maximum(a, 0.0)
            h = (1 - core["alpha"]) * h + core["alpha"] * act
        hs.append(h.copy())
        heads.append(w["pi.weight"] @ h + w["pi.bias"])
    return np.array(hs), np.array(heads)


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    ckpt = Path(args[0])
    weights = {k: v.astype(np.float64) for k, v in load_file(ckpt / "weights.safetensors").items()}
    meta = json.loads((ckpt / "checkpoint.json").read_text())
    for k in sorted(weights):
        print(f"{k:28s} {str(weights[k].shape):14s} {weights[k].dtype}")
    if "--probe" in args:
        probe = json.loads(Path(args[args.index("--probe") + 1]).read_text())
        hs, heads = actor_forward(weights, meta, np.array(probe["obs"], dtype=np.float64))
        dh = np.abs(hs - np.array(probe["hidden"])).max()
        da = np.abs(heads - np.array(probe["head"])).max()
        print(f"max |Δ hidden| = {dh:.2e}, max |Δ head| = {da:.2e}")
        if not (dh < 1e-4 and da < 1e-4):
            print("the numpy forward pass does not reproduce the Rust one")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
