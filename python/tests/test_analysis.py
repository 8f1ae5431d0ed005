"""reachlab's analysis from Python on networks trained elsewhere: PyTorch-layout cells checked against
PyTorch's equations written out in numpy (and against torch itself where it is installed), reachlab's
own trained GRU through its saved weights, and the population measures against direct computations."""

import json
import struct

import numpy as np
import pytest

import reachlab
import reachlab.analysis as ra


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def torch_gru_step(h, u, w):
    """torch.nn.GRU's equations (gates r, z, n), written out."""
    n = h.shape[-1]
    gi = w["weight_ih_l0"] @ u + w["bias_ih_l0"]
    gh = w["weight_hh_l0"] @ h + w["bias_hh_l0"]
    r = _sig(gi[:n] + gh[:n])
    z = _sig(gi[n : 2 * n] + gh[n : 2 * n])
    c = np.tanh(gi[2 * n :] + r * gh[2 * n :])
    return (1 - z) * c + z * h


def torch_lstm_step(x, u, w):
    """torch.nn.LSTM's equations (gates i, f, g, o) on the state [h | c]."""
    n = x.size // 2
    h, c = x[:n], x[n:]
    a = w["weight_ih_l0"] @ u + w["bias_ih_l0"] + w["weight_hh_l0"] @ h + w["bias_hh_l0"]
    i, f, g, o = _sig(a[:n]), _sig(a[n : 2 * n]), np.tanh(a[2 * n : 3 * n]), _sig(a[3 * n :])
    c2 = f * c + i * g
    return np.concatenate([o * np.tanh(c2), c2])


def multistable_gru(n=24, m=3, gain=2.0, seed=0):
    """PyTorch's GRU initialisation, with a symmetric candidate block (many stable points and saddles)."""
    rng = np.random.default_rng(seed)
    k = 1 / np.sqrt(n)
    w = {
        "weight_ih_l0": rng.uniform(-k, k, (3 * n, m)),
        "weight_hh_l0": rng.uniform(-k, k, (3 * n, n)),
        "bias_ih_l0": rng.uniform(-k, k, 3 * n),
        "bias_hh_l0": rng.uniform(-k, k, 3 * n),
    }
    a = rng.normal(size=(n, n))
    w["weight_hh_l0"][2 * n :] = gain * (a + a.T) / np.sqrt(2 * n)
    return w


def starts_from_trajectories(w, n_starts=128, seed=1):
    rng = np.random.default_rng(seed)
    n = w["weight_hh_l0"].shape[1]
    u = np.zeros(w["weight_ih_l0"].shape[1])
    out = []
    for j in range(n_starts):
        h = rng.uniform(-1, 1, n)
        for _ in range(j % 30):
            h = torch_gru_step(h, u, w)
        out.append(h)
    return np.array(out)


def test_gru_fixed_points_map_to_themselves_under_pytorchs_equations():
    w = multistable_gru()
    fps = ra.fixed_points(w, "gru", starts=starts_from_trajectories(w))
    assert fps.n_converged > 0 and fps.converged.sum() >= 3 and fps.stable.sum() >= 2
    u = np.zeros(3)
    for x, conv in zip(fps.points, fps.converged):
        if conv:
            assert np.linalg.norm(torch_gru_step(x, u, w) - x) < 1e-6
    # The linearisation: reachlab's Jacobian against central differences of PyTorch's equations, and the
    # eigenvalues the finder reported against numpy's of that Jacobian.
    x = fps.points[0]
    jac, ev = ra.jacobian(w, x, "gru")
    eps = 1e-6
    fd = np.column_stack(
        [(torch_gru_step(x + eps * e, u, w) - torch_gru_step(x - eps * e, u, w)) / (2 * eps) for e in np.eye(x.size)]
    )
    np.testing.assert_allclose(jac, fd, atol=1e-7)
    np.testing.assert_allclose(np.sort(np.abs(ev))[::-1], np.abs(fps.eigenvalues[0]), atol=1e-9)
    assert fps.stable[0] == bool(np.all(np.abs(ev) < 1))


def test_lstm_and_vanilla_rnn_steps_follow_pytorch():
    rng = np.random.default_rng(3)
    n, m = 6, 2
    lw = {
        "weight_ih_l0": rng.normal(0, 0.5, (4 * n, m)),
        "weight_hh_l0": rng.normal(0, 0.5, (4 * n, n)),
        "bias_ih_l0": rng.normal(0, 0.1, 4 * n),
        "bias_hh_l0": rng.normal(0, 0.1, 4 * n),
    }
    x, u = rng.normal(size=2 * n), rng.normal(size=m)
    np.testing.assert_allclose(ra.step(lw, x, "lstm", inputs=u), torch_lstm_step(x, u, lw), atol=1e-12)
    fps = ra.fixed_points(lw, "lstm", starts=rng.normal(0, 0.5, (16, 2 * n)), inputs=u)
    for p in fps.points[fps.converged]:
        assert np.linalg.norm(torch_lstm_step(p, u, lw) - p) < 1e-6
    rw = {
        "weight_ih_l0": rng.normal(0, 0.5, (n, m)),
        "weight_hh_l0": rng.normal(0, 0.5, (n, n)),
        "bias_ih_l0": rng.normal(0, 0.1, n),
        "bias_hh_l0": rng.normal(0, 0.1, n),
    }
    h = rng.normal(size=n)
    want = np.tanh(rw["weight_ih_l0"] @ u + rw["bias_ih_l0"] + rw["weight_hh_l0"] @ h + rw["bias_hh_l0"])
    np.testing.assert_allclose(ra.step(rw, h, "rnn_tanh", inputs=u), want, atol=1e-12)
    leaky = 0.8 * h + 0.2 * np.maximum(rw["weight_ih_l0"] @ u + rw["bias_ih_l0"] + rw["weight_hh_l0"] @ h + rw["bias_hh_l0"], 0)
    np.testing.assert_allclose(ra.step(rw, h, "leaky_relu", inputs=u, alpha=0.2), leaky, atol=1e-12)
    with pytest.raises(ValueError, match="gate"):
        ra.step(rw, h, "gru", inputs=u)
    with pytest.raises(ValueError, match="kind"):
        ra.step(rw, h, "transformer", inputs=u)


def _write_safetensors(path, tensors):
    """A minimal safetensors writer (F64), so that the test needs no other package."""
    header, offset, blobs = {}, 0, []
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def test_a_state_dict_saved_as_safetensors_with_a_prefix_gives_the_same_points(tmp_path):
    w = multistable_gru(seed=4)
    starts = starts_from_trajectories(w, 64, seed=5)
    direct = ra.fixed_points(w, "gru", starts=starts)
    path = tmp_path / "model.safetensors"
    _write_safetensors(path, {"rnn." + k: v for k, v in w.items()} | {"readout.weight": np.ones((2, 24))})
    loaded = ra.fixed_points(path, "gru", starts=starts)
    np.testing.assert_array_equal(direct.points, loaded.points)
    assert ra.cell_weights(path, prefix="rnn.")["w_hh"].shape == (72, 24)
    with pytest.raises(KeyError):
        ra.cell_weights({"x": np.zeros(3)})


def test_reachlabs_own_trained_gru_through_its_saved_weights(tmp_path):
    # A run's weights carry PyTorch's names (actor.weight_ih_l0 …): the analysis API steps them exactly as
    # the policy's own forward pass (which reproduces the recorded hidden states, test_runs.py).
    run = reachlab.train("flipflop", out=tmp_path / "ff", quick=True, seed=0, progress=False)
    policy = reachlab.load_policy(run.path)
    w = {k: v for k, v in policy.weights.items() if k.startswith("actor.")}
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(5, w["actor.weight_ih_l0"].shape[1]))
    hidden, _ = policy.forward(obs)
    h = np.zeros(policy.hidden_size)
    for t in range(5):
        h = ra.step(w, h, policy.kind, inputs=obs[t], prefix="actor.")
        np.testing.assert_allclose(h, hidden[t], atol=1e-12)
    fps = ra.fixed_points(w, policy.kind, starts=hidden, prefix="actor.")
    for p in fps.points[fps.converged]:
        nxt, _ = policy.forward(np.zeros((1, obs.shape[1])), h0=p)
        assert np.linalg.norm(nxt[0] - p) < 1e-6


def test_torch_gru_fixed_points_through_torch_itself():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    gru = torch.nn.GRU(3, 16).double()
    fps = ra.fixed_points(gru.state_dict(), "gru", starts=np.random.default_rng(0).uniform(-1, 1, (32, 16)))
    assert fps.converged.any()
    with torch.no_grad():
        for p in fps.points[fps.converged]:
            _, h = gru(torch.zeros(1, 1, 3, dtype=torch.float64), torch.from_numpy(p).view(1, 1, -1))
            assert np.linalg.norm(h.view(-1).numpy() - p) < 1e-6


def test_lyapunov_spectrum_of_a_linear_contraction():
    # A leaky tanh RNN with zero weights and α = 0.3 maps h to 0.7·h: every exponent is log 0.7 per step.
    n = 4
    w = {"weight_ih_l0": np.zeros((n, 1)), "weight_hh_l0": np.zeros((n, n)), "bias_ih_l0": np.zeros(n), "bias_hh_l0": np.zeros(n)}
    le = ra.lyapunov_spectrum(w, np.ones(n), np.zeros((200, 1)), k=n, kind="leaky_tanh", alpha=0.3)
    np.testing.assert_allclose(le, np.log(0.7), atol=1e-9)


def test_population_measures_against_direct_computations():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 5))
    rot = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    y = x @ rot * 3.0 + 1.0  # an invertible linear image: every canonical correlation is 1
    r = ra.cca(x, y)
    np.testing.assert_allclose(r["correlations"], 1.0, atol=1e-9)
    assert abs(r["distance"]) < 1e-9
    assert ra.svcca(x, rng.normal(size=(200, 5)), 3)["distance"] > 0.5
    # DSA: a system against a rotated copy of itself is at distance ~0.
    t = np.arange(300)
    traj = np.stack([np.cos(0.1 * t), np.sin(0.1 * t), 0.5 * np.cos(0.1 * t)], axis=1) * np.exp(-0.002 * t)[:, None]
    q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    d = ra.dsa([traj], [traj @ q], n_delays=1, rank=2)  # the third column is a copy: rank 2
    assert d["distance"] < 1e-3
    # Condition averages, shift angles and θ_LW.
    labels = np.repeat(np.arange(8), 10)
    states = rng.normal(size=(80, 6)) + labels[:, None]
    avg = ra.condition_averages(states, labels)
    np.testing.assert_allclose(avg[3], states[labels == 3].mean(0))
    base, learn, wash = np.zeros(6), np.eye(6)[0], np.eye(6)[0] + np.eye(6)[1]
    sa = ra.shift_angles(base, learn, wash)
    assert abs(sa["theta_lw_deg"] - 90.0) < 1e-9
    # A uniform shift: every target moves by the same vector.
    before = rng.normal(size=(8, 6))
    after = before + 0.5 * np.eye(6)[2]
    us = ra.uniform_shift(before, after, trained_target=6, n_perm=200)
    np.testing.assert_allclose(np.abs(us["axis"]), np.eye(6)[2], atol=1e-12)
    np.testing.assert_allclose(us["shifts"], 0.5, atol=1e-12)
    # TDR: states that are a linear image of the behaviour give axes spanning that image.
    beh = rng.normal(size=(8, 2))
    mix = rng.normal(size=(2, 6))
    fit = ra.tdr(beh @ mix + 0.3, beh)
    assert fit["axes"].shape == (6, 2)
    np.testing.assert_allclose(fit["axes"].T @ fit["axes"], np.eye(2), atol=1e-9)
