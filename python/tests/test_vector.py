"""The vector envs: Gymnasium's make_vec, the same results as single Rust envs seeded seed + i, any
thread count, and the declared autoreset mode."""

import gymnasium as gym
import numpy as np
import pytest

import reachlab


def _single_rollout(make, n, seed, actions):
    """What Gymnasium's next-step autoreset gives, built from single envs: the step after an episode's
    end resets that sub-env (its action ignored) and returns reward 0 and both flags false."""
    envs = [make() for _ in range(n)]
    obs = [e.reset(seed=seed + i)[0] for i, e in enumerate(envs)]
    pending = [False] * n
    out = []
    for a in actions:
        rows = []
        for i, e in enumerate(envs):
            if pending[i]:
                o, _ = e.reset()
                rows.append((o, 0.0, False, False))
                pending[i] = False
            else:
                o, r, te, tr, _ = e.step(a[i])
                rows.append((o, r, te, tr))
                pending[i] = te or tr
        out.append(rows)
    return obs, out


def _check_same(vec, make, actions, seed=11):
    n = vec.num_envs
    obs0, expected = _single_rollout(make, n, seed, actions)
    got, _ = vec.reset(seed=seed)
    np.testing.assert_array_equal(got, np.stack(obs0))
    ends = 0
    for a, rows in zip(actions, expected):
        obs, rew, term, trunc, info = vec.step(a)
        np.testing.assert_array_equal(obs, np.stack([r[0] for r in rows]))
        np.testing.assert_array_equal(rew, [r[1] for r in rows])
        np.testing.assert_array_equal(term, [r[2] for r in rows])
        np.testing.assert_array_equal(trunc, [r[3] for r in rows])
        ends += int(np.sum(term | trunc))
    return ends


@pytest.mark.parametrize("threads", [1, 3])
def test_reach_vector_env_equals_single_envs_seeded_seed_plus_i(threads):
    n, steps = 5, 400
    rng = np.random.default_rng(0)
    actions = rng.uniform(-3, 3, size=(steps, n, 2)).astype(np.float32)
    vec = reachlab.ReachVectorEnv(num_envs=n, scenario="curl_field", phase="learning", threads=threads)
    ends = _check_same(vec, lambda: reachlab.ReachEnv(scenario="curl_field", phase="learning"), actions)
    assert ends >= n  # several episodes ended and were reset inside the window


@pytest.mark.parametrize("threads", [1, 2])
def test_muscle_arm_vector_env_equals_single_envs(threads):
    # arm26 through the effector seam: [n, 6] excitations, the [n, 6] applied actions in the infos, the
    # normalized id's affine map the same in both.
    n, steps = 3, 250
    rng = np.random.default_rng(1)
    actions = rng.uniform(-1.1, 1.1, size=(steps, n, 6)).astype(np.float32)
    vec = gym.make_vec("reachlab/Arm26Reach-v0", num_envs=n, vectorization_mode="vector_entry_point", threads=threads)
    assert vec.single_action_space.shape == (6,) and vec.single_observation_space.shape == (19,)
    ends = _check_same(vec, lambda: gym.make("reachlab/Arm26Reach-v0").unwrapped, actions)
    assert ends >= 1
    _, _, _, _, info = vec.step(np.full((n, 6), 1.0, np.float32))
    assert info["action"].shape == (n, 6) and np.all((0.0 <= info["action"]) & (info["action"] <= 1.0))


def test_decision_vector_env_equals_single_envs():
    n, steps = 4, 300
    rng = np.random.default_rng(1)
    actions = rng.integers(0, 33, size=(steps, n))
    vec = reachlab.DecisionVectorEnv(num_envs=n, tasks=["dm1", "delaygo"], threads=2)
    ends = _check_same(vec, lambda: reachlab.DecisionEnv(["dm1", "delaygo"]), actions)
    assert ends >= n


@pytest.mark.parametrize("threads", [1, 2])
def test_output_vector_env_equals_single_envs_and_reports_scores(threads):
    n, steps = 3, 200
    rng = np.random.default_rng(2)
    actions = rng.uniform(-1.5, 1.5, size=(steps, n, 3)).astype(np.float32)
    vec = reachlab.OutputVectorEnv(num_envs=n, tasks="flipflop", threads=threads)
    ends = _check_same(vec, lambda: reachlab.OutputEnv("flipflop"), actions)
    assert ends >= n
    # The score of each trial that ended, where it ended (next-step autoreset: the ending step's info).
    vec.reset(seed=4)
    single = reachlab.OutputEnv("flipflop")
    single.reset(seed=4)
    seen, pending = 0, False
    for a in actions:
        _, _, term, trunc, info = vec.step(a)
        if pending:  # next-step autoreset: this step reset sub-env 0
            single.reset()
            pending = False
            assert not info["_score"][0]
            continue
        _, _, t1, tr1, i1 = single.step(a[0])
        assert info["_score"][0] == (t1 or tr1)
        if t1 or tr1:
            assert info["score"][0] == i1["score"]
            seen += 1
            pending = True
        else:
            assert np.isnan(info["score"][0])
    assert seen >= 1
    # Normalized (the registered id): actions in [-1, 1] times the output scale, exactly.
    norm = gym.make_vec("reachlab/Output-v0", num_envs=n, vectorization_mode="vector_entry_point")
    assert isinstance(norm, reachlab.OutputVectorEnv) and norm.single_action_space.high[0] == 1.0
    phys = reachlab.OutputVectorEnv(num_envs=n, tasks="flipflop")
    o1, _ = norm.reset(seed=9)
    o2, _ = phys.reset(seed=9)
    np.testing.assert_array_equal(o1, o2)
    for a in (actions[:50] / 10.0).astype(np.float32):
        r1 = norm.step(a)
        r2 = phys.step((a.astype(np.float64) * 10.0).astype(np.float32))
        np.testing.assert_array_equal(r1[1], r2[1])
    with pytest.raises(ValueError, match="shape"):
        phys.step(np.zeros((n, 2), np.float32))


def test_make_vec_uses_the_vector_entry_point_and_declares_its_autoreset_mode():
    vec = gym.make_vec("reachlab/CurlReach-v0", num_envs=16, vectorization_mode="vector_entry_point")
    assert isinstance(vec, reachlab.ReachVectorEnv)
    assert vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    obs, info = vec.reset(seed=0)
    assert obs.shape == (16, 7) and obs.dtype == np.float32
    assert vec.observation_space.shape == (16, 7) and vec.action_space.shape == (16, 2)
    obs, rew, term, trunc, info = vec.step(vec.action_space.sample())
    assert info["hand_pos"].shape == (16, 2) and info["_success"].all()
    dec = gym.make_vec("reachlab/Decision-v0", num_envs=4, vectorization_mode="vector_entry_point")
    assert isinstance(dec, reachlab.DecisionVectorEnv)


def test_copy_false_returns_views_that_the_next_step_overwrites():
    vec = reachlab.ReachVectorEnv(num_envs=3, copy=False)
    obs, _ = vec.reset(seed=0)
    first = obs.copy()
    for _ in range(60):
        out = vec.step(np.full((3, 2), 5.0, np.float32))
    assert out[0] is obs  # the same buffer every step: no allocation
    assert not np.array_equal(first, obs)


def test_same_step_autoreset_reports_the_final_observation():
    vec = reachlab.ReachVectorEnv(num_envs=2, autoreset_mode="same_step", config={"trial_steps": 100})
    assert vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    vec.reset(seed=0)
    for t in range(100):
        obs, rew, term, trunc, info = vec.step(np.zeros((2, 2), np.float32))
    assert trunc.all() and info["_final_obs"].all()
    assert info["final_obs"].shape == (2, 7)
    assert (info["step"] == 0).all()  # already reset in the same step


def test_phase_switch_reaches_every_sub_env():
    vec = reachlab.ReachVectorEnv(num_envs=4, scenario="curl_field", phase="baseline")
    vec.reset(seed=0)
    vec.set_phase("learning")
    on = np.zeros(4, bool)
    for _ in range(400):
        _, _, _, _, info = vec.step(np.full((4, 2), 2.0, np.float32))
        on |= info["field_on"] & (info["target"] == 6)
    # The learning field acts on target 6 only; some sub-env met it after its next reset.
    assert on.any()


def test_vector_errors_are_value_errors():
    vec = reachlab.ReachVectorEnv(num_envs=2)
    with pytest.raises(RuntimeError, match="reset"):
        vec.step(np.zeros((2, 2), np.float32))
    vec.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        vec.step(np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        vec.step(np.array([[0.0, 0.0], [np.nan, 0.0]], np.float32))
    with pytest.raises(ValueError, match="consecutive"):
        vec.reset(seed=[0, 5])
    with pytest.raises(ValueError, match="autoreset_mode"):
        reachlab.ReachVectorEnv(num_envs=2, autoreset_mode="sometimes")
