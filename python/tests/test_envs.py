"""The Gymnasium envs: the env checker, seeding, the curl field against its formula, phases, errors."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import reachlab
from reachlab.registration import ENVS


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("env_id", sorted(ENVS))
def test_check_env_passes_on_every_registered_env(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=1)
    assert obs.dtype == np.float32 and obs.shape == env.observation_space.shape
    assert isinstance(info, dict)


def test_seeding_follows_gymnasium():
    env = reachlab.ReachEnv()
    first = env.reset(seed=42)
    trajectory = [env.step(np.array([1.0, -0.5], np.float32))[0] for _ in range(30)]
    again = env.reset(seed=42)
    assert np.array_equal(first[0], again[0]) and first[1] == again[1]
    assert all(np.array_equal(a, env.step(np.array([1.0, -0.5], np.float32))[0]) for a in trajectory)
    # Unseeded resets continue the stream: the targets of 40 trials are not all the same.
    targets = {env.reset()[1]["target"] for _ in range(40)}
    assert len(targets) > 1
    # The first unseeded reset draws its seed from np_random, which super().reset seeded.
    a, b = reachlab.ReachEnv(), reachlab.ReachEnv()
    a.np_random, b.np_random = np.random.Generator(np.random.PCG64(3)), np.random.Generator(np.random.PCG64(3))
    ra, rb = a.reset(), b.reset()
    assert ra[1] == rb[1]


def _pd(obs, gain=20.0, damp=5.0):
    go = obs[2]
    return np.array(
        [go * (obs[0] - obs[3]) * gain - obs[5] * damp, go * (obs[1] - obs[4]) * gain - obs[6] * damp],
        np.float32,
    )


def test_curl_field_force_is_b_times_rotated_velocity():
    # F = b·[[0, 1], [−1, 0]]·v (science.md §1; b = 10 N·s/m in curl_field's learning phase), from the
    # velocity before the step, after the go cue only.
    env = reachlab.ReachEnv(scenario="curl_field")  # physical units: the PD's forces in N
    assert env.phase_names == ["pretraining", "baseline", "learning", "washout", "relearning"]
    obs, info = env.reset(seed=0, options={"phase": "learning", "target": 6, "trial_type": "normal"})
    assert env.phase["field"] == {"kind": "curl", "b": 10.0}
    vel, checked = np.array(info["hand_vel"]), 0
    while True:
        obs, _, term, trunc, info = env.step(_pd(obs))
        force = np.array(info["field_force"])
        if info["step"] > info["go_step"]:
            assert info["field_on"]
            np.testing.assert_allclose(force, 10.0 * np.array([vel[1], -vel[0]]), rtol=1e-9, atol=1e-12)
            checked += np.linalg.norm(force) > 1e-3
        else:
            assert np.allclose(force, 0.0)
        vel = np.array(info["hand_vel"])
        if term or trunc:
            break
    assert checked > 10


def test_the_adaptation_protocol_runs_from_python():
    # A PD controller through null -> curl -> null: the curl field bends the reach to the trained target
    # (signed deviation from the straight line), catch trials in the learning phase are straight.
    env = reachlab.ReachEnv(scenario="curl_field")

    def max_deviation(phase, trial_type="normal"):
        obs, info = env.reset(seed=5, options={"phase": phase, "target": 6, "trial_type": trial_type})
        target = np.array(info["target_pos"]) / np.linalg.norm(info["target_pos"])
        normal = np.array([-target[1], target[0]])
        dev = 0.0
        while True:
            obs, _, term, trunc, info = env.step(_pd(obs))
            d = float(np.dot(info["hand_pos"], normal))
            dev = d if abs(d) > abs(dev) else dev
            if term or trunc:
                return dev

    base = max_deviation("baseline")
    learn = max_deviation("learning")
    catch = max_deviation("learning", "catch")
    wash = max_deviation("washout")
    assert abs(base) < 1e-3 and abs(wash) < 1e-3 and abs(catch) < 1e-3
    assert abs(learn) > 5e-3
    env.set_phase({"field": {"kind": "curl", "b": -10.0}})
    assert np.sign(max_deviation(None)) == -np.sign(learn)


def test_decision_and_output_envs_run_named_batteries():
    env = reachlab.DecisionEnv("yang20")
    assert len(env.task_names) == 20 and env.action_space.n == 33
    obs, info = env.reset(seed=0, options={"task": 3})
    assert info["task"] == 3
    steps, done = 0, False
    while not done:
        obs, r, term, trunc, info = env.step(0)
        steps += 1
        done = term or trunc
    assert "correct" in info and not trunc
    out = reachlab.OutputEnv("flipflop")
    obs, info = out.reset(seed=0)
    obs, r, term, trunc, info = out.step(np.zeros(3, np.float32))
    assert r <= 0.0


def test_bad_input_raises_python_errors_with_the_rust_message():
    with pytest.raises(ValueError, match=r"reward\.hold_time"):
        reachlab.ReachEnv(config={"reward": {"hold_time": "long"}})
    with pytest.raises(ValueError, match="unknown field `radiuss`"):
        reachlab.ReachEnv(config={"radiuss": 0.1})
    with pytest.raises(ValueError, match="n_targets"):
        reachlab.ReachEnv(config={"n_targets": 0})
    env = reachlab.ReachEnv()
    with pytest.raises(RuntimeError, match="needs a reset"):
        env.step([0.0, 0.0])
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action component 1 is NaN"):
        env.step(np.array([0.0, np.nan], np.float32))
    with pytest.raises(ValueError, match="expected 2"):
        env.step([0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="no phase `learnin`"):
        reachlab.ReachEnv(scenario="curl_field").set_phase("learnin")
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"targett": 1})
    with pytest.raises(ValueError, match="no scenario `curl_feild`"):
        reachlab.ReachEnv(scenario="curl_feild")
    dec = reachlab.DecisionEnv("dm1")
    dec.reset(seed=0)
    with pytest.raises(ValueError, match="outside the discrete space"):
        dec.step(99)
    with pytest.raises(ValueError, match="not a non-negative integer"):
        dec.step(1.5)
    with pytest.raises(ValueError):
        reachlab.DecisionEnv("no_such_task")
    with pytest.raises(ValueError, match="ring tasks only"):
        reachlab.DecisionEnv("flipflop")


def test_info_action_is_the_applied_clipped_action():
    env = reachlab.ReachEnv()
    _, info = env.reset(seed=0)
    assert info["action"] == [0.0, 0.0]
    hi = env.action_space.high
    a = np.array([3.0 * hi[0], -0.25 * hi[1]], np.float32)
    _, _, _, _, info = env.step(a)
    np.testing.assert_allclose(info["action"], np.clip(a, -hi, hi), rtol=1e-6)
    # The same in the vector env, row by row.
    vec = reachlab.ReachVectorEnv(num_envs=3)
    vec.reset(seed=0)
    actions = np.stack([a, -a, 0.5 * a])
    _, _, _, _, vinfo = vec.step(actions)
    np.testing.assert_allclose(vinfo["action"], np.clip(actions, -hi, hi), rtol=1e-6)
    assert vinfo["_action"].all()
