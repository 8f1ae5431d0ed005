"""A CleanRL-style PPO (ppo_continuous_action.py, one file, no framework) on reachlab's vector env.

An MLP Gaussian policy learns delayed reaching (reach and hold 300 ms) in the null field on the
``reachlab/Reach-v0`` id as it is (actions in [-1, 1] = ± 10 N, the id's reward), through the Rust vector
env, then meets a curl field (b = 10 N·s/m on every target). The settings are those of the SB3 recipe
(examples/python/sb3_reach.py): 16 envs × 256 steps per update, 10 epochs of minibatches of 256, learning
rate 6e-4, initial σ = e^-1; CleanRL's otherwise (γ 0.99, λ 0.95, clip 0.2, advantage normalisation,
gradient clip 0.5). Deterministic success on 8 trials of each target is printed as it learns; measured on
3 seeds in docs/results.md. Needs PyTorch (`pip install torch`); not used by the tests.

    pip install ./python torch && python examples/python/ppo_cleanrl.py --seed 0
"""

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Normal

import reachlab  # noqa: F401  (registers the reachlab/* ids)

p = argparse.ArgumentParser()
p.add_argument("--num-envs", type=int, default=16)
p.add_argument("--num-steps", type=int, default=256)
p.add_argument("--iterations", type=int, default=245, help="updates in the null field (245 ≈ 1 M steps)")
p.add_argument("--curl-iterations", type=int, default=20)
p.add_argument("--lr", type=float, default=6e-4)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--eval-every", type=int, default=12, help="updates between deterministic evaluations")
p.add_argument("--stop-at", type=float, default=None, help="leave the null field once success reaches this")
args = p.parse_args()
gamma, lam, clip, epochs, minibatch, ent_coef, vf_coef = 0.99, 0.95, 0.2, 10, 256, 0.0, 0.5
torch.manual_seed(args.seed)
np.random.seed(args.seed)
torch.set_num_threads(args.threads)

envs = gym.make_vec("reachlab/Reach-v0", num_envs=args.num_envs, vectorization_mode="vector_entry_point")
obs_dim = envs.single_observation_space.shape[0]
act_dim = envs.single_action_space.shape[0]


def layer(i, o, std=np.sqrt(2)):
    lin = nn.Linear(i, o)
    nn.init.orthogonal_(lin.weight, std)
    nn.init.zeros_(lin.bias)
    return lin


class Agent(nn.Module):
    def __init__(self):
        super().__init__()
        self.critic = nn.Sequential(layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, 1, 1.0))
        self.actor = nn.Sequential(layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, act_dim, 0.01))
        self.log_std = nn.Parameter(torch.full((act_dim,), -1.0))

    def value(self, x):
        return self.critic(x).squeeze(-1)

    def act(self, x, action=None):
        mean = self.actor(x)
        dist = Normal(mean, self.log_std.exp())
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action).sum(-1), dist.entropy().sum(-1), self.value(x)


def deterministic_success(agent, phase=None, per_target=8, seed=10_000):
    env = gym.make("reachlab/Reach-v0").unwrapped
    if phase is not None:
        env.set_phase(phase)
    ok, n_targets = 0, env.config["n_targets"]
    for k in range(n_targets):
        for j in range(per_target):
            obs, info = env.reset(seed=seed + 100 * k + j, options={"target": k})
            while True:
                with torch.no_grad():
                    a = agent.actor(torch.as_tensor(obs)).numpy()
                obs, _, term, trunc, info = env.step(np.clip(a, -1, 1))
                if term or trunc:
                    break
            ok += bool(info["success"])
    return ok / (n_targets * per_target)


agent = Agent()
opt = torch.optim.Adam(agent.parameters(), lr=args.lr, eps=1e-5)
T, N = args.num_steps, args.num_envs
buf_obs = torch.zeros(T, N, obs_dim)
buf_act = torch.zeros(T, N, act_dim)
buf_logp, buf_rew, buf_done, buf_val = (torch.zeros(T, N) for _ in range(4))

obs, _ = envs.reset(seed=args.seed)
obs = torch.as_tensor(obs)
done = torch.zeros(N)
start = time.time()
curl = {"name": "learning", "field": {"kind": "curl", "b": 10.0}}
first90 = None
it, null_updates = 0, args.iterations
while it < null_updates + args.curl_iterations:
    it += 1
    if it == null_updates + 1:
        envs.set_phase(curl)
        print("-- curl field on every target from here --")
    for t in range(T):
        buf_obs[t], buf_done[t] = obs, done
        with torch.no_grad():
            action, logp, _, value = agent.act(obs)
        buf_act[t], buf_logp[t], buf_val[t] = action, logp, value
        # The env clips to [-1, 1]; the log-probability stays that of the sampled action (as CleanRL).
        obs_np, rew, term, trunc, info = envs.step(np.clip(action.numpy(), -1, 1))
        d = term | trunc
        buf_rew[t] = torch.as_tensor(rew, dtype=torch.float32)
        obs, done = torch.as_tensor(obs_np), torch.as_tensor(d, dtype=torch.float32)
    # GAE; next-step autoreset: the step after an end is a reset step, so the end's bootstrap is cut.
    with torch.no_grad():
        next_value = agent.value(obs)
        adv = torch.zeros(T, N)
        last = torch.zeros(N)
        for t in reversed(range(T)):
            nonterminal = 1.0 - (done if t == T - 1 else buf_done[t + 1])
            nv = next_value if t == T - 1 else buf_val[t + 1]
            delta = buf_rew[t] + gamma * nv * nonterminal - buf_val[t]
            last = delta + gamma * lam * nonterminal * last
            adv[t] = last
        ret = adv + buf_val
    b_obs, b_act, b_logp = buf_obs.reshape(-1, obs_dim), buf_act.reshape(-1, act_dim), buf_logp.reshape(-1)
    b_adv, b_ret = adv.reshape(-1), ret.reshape(-1)
    idx = np.arange(T * N)
    for _ in range(epochs):
        np.random.shuffle(idx)
        for mb in np.array_split(idx, max(1, T * N // minibatch)):
            _, logp, ent, value = agent.act(b_obs[mb], b_act[mb])
            ratio = (logp - b_logp[mb]).exp()
            a = (b_adv[mb] - b_adv[mb].mean()) / (b_adv[mb].std() + 1e-8)
            pg = torch.max(-a * ratio, -a * ratio.clamp(1 - clip, 1 + clip)).mean()
            loss = pg + vf_coef * ((value - b_ret[mb]) ** 2).mean() - ent_coef * ent.mean()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
            opt.step()
    if it % args.eval_every == 0 or it == null_updates + args.curl_iterations:
        in_curl = it > null_updates
        s = deterministic_success(agent, curl if in_curl else None)
        row = {"update": it, "steps": it * T * N, "wall_s": round(time.time() - start, 1), "curl": in_curl, "success": s}
        print(json.dumps(row), flush=True)
        if not in_curl and first90 is None and s >= 0.9:
            first90 = row
            if args.stop_at is not None and s >= args.stop_at:
                null_updates = it  # on to the curl field
print(json.dumps({"seed": args.seed, "first_90": first90}))
