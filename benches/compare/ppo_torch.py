"""The reachlab training workloads in PyTorch (CPU), timed side by side with the Rust ones.

    python3 benches/compare/ppo_torch.py [--threads 2] [--repeats 20] [--train]

Workloads (the same as `examples/time_training.rs`, which this script runs and compares against):
- bptt: one supervised BPTT iteration of `torch.nn.GRU` (I = 16, H = 128, B = 64, T = 100), linear
  readout of 4, MSE, backward, Adam;
- rollout: 64 episodes x 150 steps of null-field delayed reaching (point mass, the same trial structure,
  observation and reward as `ReachEnv`'s defaults), GRU-128 policy, no autograd;
- update: PPO on that rollout, 4 epochs x 4 minibatches of 16 whole episodes through `torch.nn.GRU`
  (GAE 0.99/0.95, clip 0.2, value loss 0.5, returns normalised, advantages normalised, grad-norm 0.5).
With --train it also trains until 90% success and reports the wall time (`examples/ppo_reach` is the
Rust counterpart).

Both sides use the same thread count: torch.set_num_threads(N) here, RAYON_NUM_THREADS=N and
REACHLAB_THREADS=N for the Rust example.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

ROOT = Path(__file__).resolve().parents[2]


class Reach:
    """Vectorised delayed centre-out reaching, ReachEnv's defaults (null field)."""

    def __init__(self, n, seed):
        self.n, self.rng = n, np.random.default_rng(seed)
        self.dt, self.R, self.steps, self.bound = 0.01, 0.10, 150, 10.0

    def reset(self):
        n = self.n
        ang = 2 * np.pi * self.rng.integers(0, 8, n) / 8
        self.target = self.R * np.stack([np.cos(ang), np.sin(ang)], 1)
        self.cue = np.round(self.rng.uniform(0.1, 0.3, n) / self.dt).astype(int)
        self.go = self.cue + np.round(self.rng.uniform(0.2, 0.5, n) / self.dt).astype(int)
        self.pos, self.vel = np.zeros((n, 2)), np.zeros((n, 2))
        self.t, self.zone = 0, np.zeros(n, int)
        self.success, self.premature = np.zeros(n, bool), np.zeros(n, bool)
        return self.obs()

    def obs(self):
        shown = (self.t >= self.cue)[:, None]
        go = (self.t >= self.go).astype(float)[:, None]
        return np.concatenate([10 * self.target * shown, go, 10 * self.pos, 2 * self.vel], 1).astype(np.float32)

    def step(self, a):
        a = np.clip(a.astype(float), -self.bound, self.bound)
        dt = self.dt
        self.pos += self.vel * dt + 0.5 * a * dt * dt
        self.vel += a * dt
        self.t += 1
        r = -0.01 * (a * a).sum(1) / self.bound**2 * dt
        before = self.t < self.go
        d0 = np.hypot(*self.pos.T)
        dt_ = np.hypot(*(self.pos - self.target).T)
        r -= np.where(before, 5.0 * d0, dt_) / self.R * dt
        newly = before & (d0 > 0.01) & ~self.premature
        r -= newly * 1.0
        self.premature |= newly
        self.zone = np.where(~before & (dt_ <= 0.015), self.zone + 1, 0)
        hit = (self.zone >= 10) & ~self.success
        r += hit * 1.0
        self.success |= hit
        return self.obs(), r.astype(np.float32), self.t >= self.steps


class Policy(nn.Module):
    def __init__(self, i=7, h=128, a=2):
        super().__init__()
        self.gru = nn.GRU(i, h)
        self.pi = nn.Linear(h, a)
        nn.init.zeros_(self.pi.weight)
        nn.init.zeros_(self.pi.bias)
        self.log_std = nn.Parameter(torch.full((a,), math.log(2.0)))
        self.v = nn.Linear(h, 1)
        nn.init.normal_(self.v.weight, std=0.01)
        nn.init.zeros_(self.v.bias)

    def forward(self, x):  # x [T, B, I]
        h, _ = self.gru(x)
        return self.pi(h), self.v(h).squeeze(-1)


@torch.no_grad()
def rollout(pol, env):
    cell = nn.GRUCell(pol.gru.input_size, pol.gru.hidden_size)
    cell.weight_ih, cell.weight_hh = pol.gru.weight_ih_l0, pol.gru.weight_hh_l0
    cell.bias_ih, cell.bias_hh = pol.gru.bias_ih_l0, pol.gru.bias_hh_l0
    o = torch.from_numpy(env.reset())
    h = torch.zeros(env.n, pol.gru.hidden_size)
    std = pol.log_std.exp()
    obs, act, logp, val, rew = [], [], [], [], []
    for _ in range(env.steps):
        h = cell(o, h)
        mu, v = pol.pi(h), pol.v(h).squeeze(-1)
        a = mu + std * torch.randn_like(mu)
        lp = (-0.5 * ((a - mu) / std) ** 2 - pol.log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        obs.append(o), act.append(a), logp.append(lp), val.append(v)
        o2, r, done = env.step(a.numpy())
        rew.append(torch.from_numpy(r))
        o = torch.from_numpy(o2)
    boot = pol.v(cell(o, h)).squeeze(-1)  # truncated at the time limit: bootstrap
    return [torch.stack(x) for x in (obs, act, logp, val, rew)] + [boot, env.success.mean()]


class Ppo:
    def __init__(self, pol):
        self.pol, self.opt = pol, torch.optim.Adam(pol.parameters(), lr=1e-3, eps=1e-5)
        self.mean, self.var, self.count = 0.0, 1.0, 1e-4

    def update(self, ro, gamma=0.99, lam=0.95):
        obs, act, logp, val, rew, boot, _ = ro
        sd = math.sqrt(self.var)
        v = val * sd + self.mean
        nxt = torch.cat([v[1:], (boot * sd + self.mean)[None]])
        delta = rew + gamma * nxt - v
        adv = torch.zeros_like(rew)
        g = torch.zeros(rew.shape[1])
        for t in reversed(range(rew.shape[0])):
            g = delta[t] + gamma * lam * g
            adv[t] = g
        ret = adv + v
        b_mean, b_var, n = ret.mean().item(), ret.var(unbiased=False).item(), ret.numel()
        d, tot = b_mean - self.mean, self.count + n
        self.var = (self.var * self.count + b_var * n + d * d * self.count * n / tot) / tot
        self.mean, self.count = self.mean + d * n / tot, tot
        target = (ret - self.mean) / math.sqrt(self.var)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        n_ep = obs.shape[1]
        for _ in range(4):
            perm = torch.randperm(n_ep)
            for mb in perm.chunk(4):
                mu, vv = self.pol(obs[:, mb])
                std = self.pol.log_std.exp()
                lp = (-0.5 * ((act[:, mb] - mu) / std) ** 2 - self.pol.log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
                ratio = (lp - logp[:, mb]).exp()
                a = adv[:, mb]
                pg = -torch.min(ratio * a, ratio.clamp(0.8, 1.2) * a).mean()
                vl = 0.5 * ((vv - target[:, mb]) ** 2).mean()
                loss = pg + 0.5 * vl
                self.opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.pol.parameters(), 0.5)
                self.opt.step()


def median_ms(f, repeats):
    for _ in range(3):
        f()
    ts = []
    for _ in range(repeats):
        s = time.perf_counter()
        f()
        ts.append(1e3 * (time.perf_counter() - s))
    return float(np.median(ts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--train", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    gru, lin = nn.GRU(16, 128), nn.Linear(128, 4)
    opt = torch.optim.Adam(list(gru.parameters()) + list(lin.parameters()), lr=1e-3)
    x, y = torch.randn(100, 64, 16), torch.randn(100, 64, 4)

    def bptt():
        h, _ = gru(x)
        loss = ((lin(h) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    torch_ms = {"bptt_ms": median_ms(bptt, args.repeats)}
    pol, env = Policy(), Reach(64, 0)
    torch_ms["rollout_ms"] = median_ms(lambda: rollout(pol, env), args.repeats)
    ro = rollout(pol, env)
    ppo = Ppo(pol)
    torch_ms["update_ms"] = median_ms(lambda: ppo.update(ro), max(1, args.repeats // 2))

    env_vars = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), REACHLAB_THREADS=str(args.threads))
    out = subprocess.run(
        ["cargo", "run", "--release", "--quiet", "--example", "time_training", "--", str(args.repeats)],
        cwd=ROOT, env=env_vars, capture_output=True, text=True, check=True,
    )
    rust_ms = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"threads {args.threads}, medians of {args.repeats}")
    print(f"{'workload':<10} {'PyTorch ms':>11} {'reachlab ms':>12} {'speed-up':>9}")
    for k in ("bptt_ms", "rollout_ms", "update_ms"):
        print(f"{k[:-3]:<10} {torch_ms[k]:>11.1f} {rust_ms[k]:>12.1f} {torch_ms[k] / rust_ms[k]:>8.2f}x")
    it_t = torch_ms["rollout_ms"] + torch_ms["update_ms"]
    it_r = rust_ms["rollout_ms"] + rust_ms["update_ms"]
    print(f"{'iteration':<10} {it_t:>11.1f} {it_r:>12.1f} {it_t / it_r:>8.2f}x")

    if args.train:
        pol, env = Policy(), Reach(64, 1)
        ppo, start = Ppo(pol), time.perf_counter()
        for it in range(300):
            ro = rollout(pol, env)
            ppo.update(ro)
            print(f"update {it + 1}: success {ro[-1]:.2f}, {time.perf_counter() - start:.1f} s", file=sys.stderr)
            if ro[-1] >= 0.9:
                print(f"PyTorch: 90% success after {it + 1} updates, {time.perf_counter() - start:.1f} s")
                break


if __name__ == "__main__":
    main()
