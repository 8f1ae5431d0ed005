"""reachlab's analysis for networks trained anywhere: fixed points and their linearisations, Lyapunov
spectra, CCA/SVCCA and DSA between networks, and the preparatory-state measures of the curl-field
experiment (condition averages, TDR, learning/washout shifts and θ_LW, the uniform shift), on numpy arrays.

Cells take PyTorch's parameter names, layout and gate order (``torch.nn.GRU``: r, z, n; ``torch.nn.LSTM``:
i, f, g, o, state ``[h | c]``; ``torch.nn.RNN`` with tanh or relu), given as a ``state_dict`` (numpy
arrays or torch tensors), a dict of arrays, or a ``.safetensors`` file saved from one. Every number comes
from the Rust crate ``reachlab-analysis`` (the one ``train_agent`` analyses its runs with), in float64.

>>> import numpy as np, reachlab.analysis as ra
>>> rng = np.random.default_rng(0)
>>> n, m = 8, 2
>>> w = {"weight_ih_l0": rng.normal(0, 0.3, (3 * n, m)), "weight_hh_l0": rng.normal(0, 0.3, (3 * n, n)),
...      "bias_ih_l0": np.zeros(3 * n), "bias_hh_l0": np.zeros(3 * n)}
>>> fps = ra.fixed_points(w, "gru", starts=rng.uniform(-1, 1, (16, n)))
>>> fps.points.shape[1], bool(np.all(fps.q < 1e-10))
(8, True)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from . import _reachlab as _r
from ._files import read_safetensors

__all__ = [
    "cell_weights",
    "FixedPoints",
    "fixed_points",
    "step",
    "jacobian",
    "lyapunov_spectrum",
    "cca",
    "svcca",
    "dsa",
    "condition_averages",
    "shift_angles",
    "uniform_shift",
    "tdr",
]

_KINDS = ("gru", "lstm", "rnn_tanh", "rnn_relu", "leaky_tanh", "leaky_relu")
_GATES = {"gru": 3, "lstm": 4}


def _array(x) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64))


def cell_weights(weights, prefix: str = "", layer: int = 0) -> dict[str, np.ndarray]:
    """``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` (float64) of one layer of a PyTorch RNN.

    ``weights``: a ``state_dict`` or any mapping of names to arrays/tensors, or the path of a
    ``.safetensors`` file. Names are ``{prefix}weight_ih_l{layer}`` etc. (``torch.nn.GRU``/``LSTM``/``RNN``)
    or ``{prefix}weight_ih`` (``GRUCell``/``LSTMCell``/``RNNCell``); without ``prefix`` the one name ending
    so is taken (an error names the candidates when there are several). A layer without biases
    (``bias=False``) gets zeros.
    """
    if isinstance(weights, (str, os.PathLike)):
        weights = read_safetensors(weights)
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights: a state_dict, a dict of arrays or a .safetensors path, not {type(weights).__name__}")

    def find(base: str, required: bool):
        names = [f"{base}_l{layer}", base]
        if prefix:
            hits = [prefix + n for n in names if prefix + n in weights]
        else:
            hits = [k for k in weights for n in names if k == n or k.endswith("." + n)]
        if len(hits) > 1:
            raise ValueError(f"several tensors match {base} (layer {layer}): {sorted(hits)}; give prefix=")
        if not hits:
            if required:
                raise KeyError(f"no {prefix}{base}_l{layer} (or {prefix}{base}) in the weights: {sorted(weights)[:12]}")
            return None
        return _array(weights[hits[0]])

    w_ih, w_hh = find("weight_ih", True), find("weight_hh", True)
    b_ih, b_hh = find("bias_ih", False), find("bias_hh", False)
    rows = w_hh.shape[0]
    return {
        "w_ih": w_ih,
        "w_hh": w_hh,
        "b_ih": np.zeros(rows) if b_ih is None else b_ih,
        "b_hh": np.zeros(rows) if b_hh is None else b_hh,
    }


def _cell(weights, kind: str, prefix: str, layer: int) -> dict[str, np.ndarray]:
    if kind not in _KINDS:
        raise ValueError(f"kind {kind!r}: expected one of {', '.join(_KINDS)}")
    return cell_weights(weights, prefix, layer)


def _cell_args(w: dict, kind: str, alpha: float) -> tuple:
    """The cell as the Rust side takes it: (kind, weight_ih, weight_hh, bias_ih, bias_hh, alpha)."""
    return (kind, w["w_ih"], w["w_hh"], w["b_ih"], w["b_hh"], float(alpha))


def _state_dim(w: dict, kind: str) -> int:
    n = w["w_hh"].shape[1]
    return 2 * n if kind == "lstm" else n


def _input(w: dict, inputs) -> np.ndarray:
    m = w["w_ih"].shape[1]
    if inputs is None:
        return np.zeros(m)
    u = _array(inputs).reshape(-1)
    if u.size != m:
        raise ValueError(f"inputs have {u.size} entries; the cell takes {m}")
    return u


@dataclass
class FixedPoints:
    """What the finder found: unique points (fixed before slow, then by q) and what the starts ended as."""

    points: np.ndarray  # [p, n] states (an LSTM's: [h | c])
    q: np.ndarray  # [p] ½‖F(x) − x‖²
    converged: np.ndarray  # [p] q < q_tol: a fixed point (else a slow point)
    stable: np.ndarray  # [p] every |λ| < 1
    unstable_modes: np.ndarray  # [p] number of |λ| > 1
    eigenvalues: np.ndarray  # [p, n] complex, by decreasing modulus
    n_converged: int
    n_slow: int
    n_outliers: int
    n_failed: int

    def __len__(self) -> int:
        return len(self.q)


def fixed_points(
    weights,
    kind: str = "gru",
    *,
    starts,
    inputs=None,
    prefix: str = "",
    layer: int = 0,
    alpha: float = 1.0,
    **config: Any,
) -> FixedPoints:
    """Fixed and slow points of a PyTorch-layout cell under a constant input (zeros by default), from
    ``starts`` (k × n states, typically states visited on trials), by reachlab's finder (Adam on
    q = ½‖F(x) − x‖², Newton refinement, de-duplication, Jacobian eigenvalues; its settings as keyword
    arguments: ``q_tol``, ``max_iters``, ``unique_tol``, ``threads``, … of ``FixedPointConfig``). ``kind``:
    "gru", "lstm", "rnn_tanh", "rnn_relu" (``torch.nn.RNN``), "leaky_tanh"/"leaky_relu" (h' = (1 − α)h +
    α·φ(…), with ``alpha``)."""
    w = _cell(weights, kind, prefix, layer)
    s = _array(starts)
    if s.ndim != 2:
        raise ValueError(f"starts must be a k × n array, not of shape {s.shape}")
    text = _r.fixed_points(_cell_args(w, kind, alpha), s, _input(w, inputs), json.dumps(config) if config else None)
    r = json.loads(text)
    pts = r["points"]
    n = _state_dim(w, kind)

    def stability(p) -> int:
        st = p["stability"]
        return 0 if st == "stable" else int(st["saddle"]["unstable"])

    unstable = np.array([stability(p) for p in pts], dtype=np.int64)
    return FixedPoints(
        points=np.array([p["x"] for p in pts], dtype=np.float64).reshape(len(pts), n),
        q=np.array([p["q"] for p in pts], dtype=np.float64),
        converged=np.array([p["converged"] for p in pts], dtype=bool),
        stable=unstable == 0,
        unstable_modes=unstable,
        eigenvalues=np.array([[complex(re, im) for re, im in p["eigenvalues"]] for p in pts], dtype=np.complex128).reshape(
            len(pts), n
        ),
        n_converged=r["n_converged"],
        n_slow=r["n_slow"],
        n_outliers=r["n_outliers"],
        n_failed=r["n_failed"],
    )


def step(weights, h, kind: str = "gru", *, inputs=None, prefix: str = "", layer: int = 0, alpha: float = 1.0) -> np.ndarray:
    """One step ``F(h, u)`` of the cell (an LSTM's state is ``[h | c]``)."""
    w = _cell(weights, kind, prefix, layer)
    nxt, _ = _r.step_and_jacobian(_cell_args(w, kind, alpha), _array(h).reshape(-1), _input(w, inputs))
    return np.asarray(nxt)


def jacobian(
    weights, h, kind: str = "gru", *, inputs=None, prefix: str = "", layer: int = 0, alpha: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """The Jacobian ∂F/∂h at ``h`` (n × n) and its eigenvalues by decreasing modulus (numpy's
    ``eigvals`` of reachlab's Jacobian): the linearisation around a fixed point."""
    w = _cell(weights, kind, prefix, layer)
    hv = _array(h).reshape(-1)
    _, jac = _r.step_and_jacobian(_cell_args(w, kind, alpha), hv, _input(w, inputs))
    j = np.asarray(jac).reshape(hv.size, hv.size)
    ev = np.linalg.eigvals(j)
    return j, ev[np.argsort(-np.abs(ev), kind="stable")]


def lyapunov_spectrum(
    weights,
    h0,
    inputs,
    k: int,
    kind: str = "gru",
    *,
    warmup: int = 0,
    dt: float = 1.0,
    prefix: str = "",
    layer: int = 0,
    alpha: float = 1.0,
) -> np.ndarray:
    """The ``k`` largest Lyapunov exponents (nats per step / ``dt``) along the trajectory from ``h0`` driven
    by ``inputs`` (T × m, one row per step), QR-reorthonormalised each step, the first ``warmup`` steps not
    counted."""
    w = _cell(weights, kind, prefix, layer)
    u = _array(inputs)
    if u.ndim != 2:
        raise ValueError(f"inputs must be a T × m array (one row per step), not of shape {u.shape}")
    return np.asarray(
        _r.lyapunov_spectrum(_cell_args(w, kind, alpha), _array(h0).reshape(-1), u, int(k), int(warmup), float(dt))
    )


def _states(x) -> np.ndarray:
    a = _array(x)
    if a.ndim != 2:
        raise ValueError(f"states must be a samples × units array, not of shape {a.shape}")
    return a


def cca(x, y) -> dict:
    """Canonical correlations between two sets of states (the same samples, any numbers of units):
    ``{"correlations": array, "distance": 1 − mean ρ}``."""
    r = json.loads(_r.cca(_states(x), _states(y), None))
    return {"correlations": np.asarray(r["correlations"]), "distance": r["distance"]}


def svcca(x, y, k: int) -> dict:
    """SVCCA: CCA between the top ``k`` principal components of each set of states."""
    r = json.loads(_r.cca(_states(x), _states(y), int(k)))
    return {"correlations": np.asarray(r["correlations"]), "distance": r["distance"]}


def dsa(x: Sequence, y: Sequence, **config: Any) -> dict:
    """Dynamical similarity analysis (Ostrow et al. 2023) between two systems, each a list of
    trajectories (T × n arrays; one array is one trajectory): ``distance``, ``angular`` (DSA's score, in
    radians) and each operator's eigenvalues. Settings: ``n_delays``, ``rank``, ``ridge``, ``iters``,
    ``random_starts``, ``seed``."""
    xs = [x] if isinstance(x, np.ndarray) and x.ndim == 2 else list(x)
    ys = [y] if isinstance(y, np.ndarray) and y.ndim == 2 else list(y)
    r = json.loads(_r.dsa([_states(a) for a in xs], [_states(a) for a in ys], json.dumps(config) if config else None))
    return {
        "distance": r["distance"],
        "angular": r["angular"],
        "eigen_x": np.array([complex(a, b) for a, b in r["eigen_x"]]),
        "eigen_y": np.array([complex(a, b) for a, b in r["eigen_y"]]),
    }


def condition_averages(states, labels, n_conditions: int | None = None) -> np.ndarray:
    """The mean state of each condition (row c = the mean of the trials labelled c), conditions × units;
    a condition without trials is refused."""
    s = _states(states)
    lab = np.asarray(labels).reshape(-1)
    if lab.size != s.shape[0]:
        raise ValueError(f"{lab.size} labels for {s.shape[0]} states")
    k = int(lab.max()) + 1 if n_conditions is None else int(n_conditions)
    out = np.zeros((k, s.shape[1]))
    for c in range(k):
        rows = s[lab == c]
        if len(rows) == 0:
            raise ValueError(f"condition {c} has no trials")
        out[c] = rows.mean(axis=0)
    return out


def _centroid(x) -> np.ndarray:
    a = _array(x)
    return a.mean(axis=0) if a.ndim == 2 else a.reshape(-1)


def shift_angles(base, late_learning, late_washout) -> dict:
    """Δ_L = learning − base and Δ_W = washout − learning between centroids (a vector, or the mean of a
    samples × units array), their norms, and θ_LW in degrees (Sun et al. 2022)."""
    r = json.loads(_r.shift_angles(_centroid(base), _centroid(late_learning), _centroid(late_washout)))
    return {k: np.asarray(v) if isinstance(v, list) else v for k, v in r.items()}


def uniform_shift(before, after, trained_target: int, *, exclude=None, n_perm: int = 10000, seed: int = 0) -> dict:
    """The uniform shift of preparatory states: the axis û ∝ mean(after) − mean(before) (orthogonal to the
    orthonormal columns of ``exclude``, e.g. the TDR axes), each target's shift along it (rows of
    ``before``/``after`` = targets evenly spaced on a circle, e.g. from ``condition_averages``), and the
    shift against the distance from ``trained_target`` (a line fit with a permutation p, and near ≤ 45° vs
    far ≥ 135° rank-sum p)."""
    ex = None if exclude is None else _states(exclude)
    axis, text = _r.uniform_shift(_states(before), _states(after), int(trained_target), ex, int(n_perm), int(seed))
    r = json.loads(text)
    return {
        "axis": np.asarray(axis),
        "shifts": np.asarray(r["shifts"]),
        "distances_deg": np.asarray(r["distances_deg"]),
        "fit": r["fit"],
        "permutation_p": r["permutation_p"],
        "near_far_p": r["near_far_p"],
    }


def tdr(states, behaviour) -> dict:
    """Targeted dimensionality reduction: condition averages (conditions × units) regressed on behaviour
    (conditions × M, e.g. force), the coefficients orthonormalised into M axes: ``mean`` (units),
    ``axes`` (units × M), ``beta`` ((M + 1) × units, last row the intercept)."""
    s, b = _states(states), _states(behaviour)
    mean, axes, beta = _r.tdr(s, b)
    m = b.shape[1]
    return {
        "mean": np.asarray(mean),
        "axes": np.asarray(axes).reshape(s.shape[1], m),
        "beta": np.asarray(beta).reshape(m + 1, s.shape[1]),
    }
