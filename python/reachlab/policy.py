"""A trained policy in numpy: the weights with PyTorch's names and a forward pass of the recurrent core.

Weights keep PyTorch's names and layouts (``actor.weight_ih_l0``, ``actor.weight_hh_l0``,
``actor.bias_ih_l0``, ``actor.bias_hh_l0``; gates r, z, n for a GRU and i, f, g, o for an LSTM; ``pi.weight``,
``pi.bias`` for the action head), so ``torch.nn.GRU(I, H).load_state_dict({k.removeprefix("actor."):
torch.from_numpy(v) for k, v in policy.weights.items() if k.startswith("actor.")})`` loads a GRU or LSTM
core into PyTorch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._files import read_safetensors

__all__ = ["Policy", "load_policy"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Policy:
    """``weights``: name → array (float32, as saved); ``meta``: ``checkpoint.json`` (policy config,
    observation size, head, action map, trainer state)."""

    weights: dict[str, np.ndarray]
    meta: dict
    path: Path

    @property
    def kind(self) -> str:
        return self.meta["policy"]["core"]["kind"]

    @property
    def hidden_size(self) -> int:
        return int(self.meta["policy"]["core"]["hidden"])

    def forward(self, obs: np.ndarray, h0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Runs the actor core and the action head over ``obs`` ([T, I] or [N, T, I]); returns the hidden
        states after each step ([.., T, H]) and the head's outputs ([.., T, A]; for a Gaussian head the
        action mean before the action map), in float64."""
        x = np.asarray(obs, dtype=np.float64)
        single = x.ndim == 2
        if single:
            x = x[None]
        if x.ndim != 3:
            raise ValueError(f"obs must be [T, I] or [N, T, I], not shape {x.shape}")
        w = {k: v.astype(np.float64) for k, v in self.weights.items()}
        core = self.meta["policy"]["core"]
        kind, hid = core["kind"], self.hidden_size
        w_ih, b_ih = w["actor.weight_ih_l0"], w["actor.bias_ih_l0"]
        w_hh, b_hh = w["actor.weight_hh_l0"], w["actor.bias_hh_l0"]
        if x.shape[2] != w_ih.shape[1]:
            raise ValueError(f"obs have {x.shape[2]} components, the policy takes {w_ih.shape[1]}")
        if kind == "autapse":
            w_hh = np.diag(w_hh)
        if kind == "sparse":
            w_hh = w_hh * w["actor.mask"]
        n, steps = x.shape[0], x.shape[1]
        h = np.zeros((n, hid)) if h0 is None else np.broadcast_to(np.asarray(h0, np.float64), (n, hid)).copy()
        c = np.zeros((n, hid))
        hs = np.empty((n, steps, hid))
        for t in range(steps):
            gx = x[:, t] @ w_ih.T + b_ih
            gh = h @ w_hh.T + b_hh
            if kind == "gru":
                r = _sigmoid(gx[:, :hid] + gh[:, :hid])
                z = _sigmoid(gx[:, hid : 2 * hid] + gh[:, hid : 2 * hid])
                cand = np.tanh(gx[:, 2 * hid :] + r * gh[:, 2 * hid :])
                h = (1 - z) * cand + z * h
            elif kind == "lstm":
                a = gx + gh
                i, f = _sigmoid(a[:, :hid]), _sigmoid(a[:, hid : 2 * hid])
                g, o = np.tanh(a[:, 2 * hid : 3 * hid]), _sigmoid(a[:, 3 * hid :])
                c = f * c + i * g
                h = o * np.tanh(c)
            else:
                a = gx + gh
                act = np.tanh(a) if core["activation"] == "tanh" else np.maximum(a, 0.0)
                h = (1 - core["alpha"]) * h + core["alpha"] * act
            hs[:, t] = h
        heads = hs @ w["pi.weight"].T + w["pi.bias"]
        return (hs[0], heads[0]) if single else (hs, heads)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The deterministic actions for ``obs`` ([T, I] or [N, T, I]): the head's mean through the
        checkpoint's action map (``scale · mean + offset``)."""
        _, head = self.forward(obs)
        amap = self.meta.get("action_map") or {}
        scale = np.asarray(amap.get("scale", 1.0))
        offset = np.asarray(amap.get("offset", 0.0))
        return head * scale + offset


def load_policy(path: str | os.PathLike, checkpoint: str = "latest") -> Policy:
    """A policy from a run folder (``checkpoints/<checkpoint>``: ``latest`` or a stage name, the weights
    at the stage's end) or from a checkpoint folder itself."""
    root = Path(path)
    ckpt = root if (root / "weights.safetensors").is_file() else root / "checkpoints" / checkpoint
    if not (ckpt / "weights.safetensors").is_file():
        known = sorted(p.name for p in (root / "checkpoints").glob("*")) if (root / "checkpoints").is_dir() else []
        raise FileNotFoundError(f"{ckpt}: no weights.safetensors (checkpoints here: {', '.join(known) or 'none'})")
    meta = json.loads((ckpt / "checkpoint.json").read_text())
    return Policy(weights=read_safetensors(ckpt / "weights.safetensors"), meta=meta, path=ckpt)
