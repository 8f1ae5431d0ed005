"""What off-the-shelf RL asks of an env: rendering as Gymnasium defines it, normalized actions and finite
observation bounds on the registered ids (the mapping exact), SB3's way of making envs, the env checker
without a warning."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import reachlab
from reachlab.registration import ENVS
from reachlab.render import ReachPainter


@pytest.mark.parametrize("env_id", sorted(ENVS))
def test_check_env_passes_without_a_warning_with_rendering(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(env_id, render_mode="rgb_array")
        check_env(env.unwrapped)
        space = env.observation_space
        assert np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))
        if isinstance(env.action_space, gym.spaces.Box):
            assert np.all(env.action_space.low == -1.0) and np.all(env.action_space.high == 1.0)
        obs, _ = env.reset(seed=0)
        for _ in range(40):
            obs, *_ = env.step(env.action_space.sample())
            assert space.contains(obs)
        frame = env.render()
        assert frame.shape == (256, 256, 3) and frame.dtype == np.uint8
        assert frame.min() < 255  # something is drawn


@pytest.mark.parametrize("env_id", sorted(ENVS))
def test_envs_are_made_as_sb3s_make_vec_env_makes_them(env_id):
    # stable_baselines3.common.env_util.make_vec_env calls gym.make(id, render_mode="rgb_array") for each
    # sub-env (and VecVideoRecorder calls render()); the same calls, without needing torch here.
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    env.step(env.action_space.sample())
    assert env.render().ndim == 3
    sb3 = pytest.importorskip("stable_baselines3.common.env_util")
    vec = sb3.make_vec_env(env_id, n_envs=2, seed=0)
    vec.reset()
    vec.step(np.stack([vec.action_space.sample() for _ in range(2)]))
    assert vec.render(mode="rgb_array") is not None or vec.get_images()[0].shape == (256, 256, 3)


@pytest.mark.filterwarnings("ignore:.*not in the possible render_modes")  # gym.make's own warning first
def test_an_unknown_render_mode_is_refused_with_the_modes_named():
    with pytest.raises(ValueError, match="rgb_array"):
        gym.make("reachlab/Reach-v0", render_mode="human_vr")
    with pytest.raises(ValueError, match="rgb_array"):
        reachlab.DecisionEnv(render_mode="ansi")


def _red(frame, col, row):
    r, g, b = (int(v) for v in frame[int(row), int(col)])
    return r > 200 and g < 80 and b < 80


def test_a_rendered_trial_draws_the_hand_where_info_says():
    env = gym.make("reachlab/CurlReach-v0", render_mode="rgb_array").unwrapped
    obs, info = env.reset(seed=3, options={"phase": "learning", "target": 6})
    positions = []
    for t in range(180):
        go = obs[2]
        # A PD reach toward the target (in the normalized action units: newtons / 10).
        a = np.array([go * (obs[0] - obs[3]) * 2.0 - obs[5] * 0.5, go * (obs[1] - obs[4]) * 2.0 - obs[6] * 0.5])
        obs, _, term, trunc, info = env.step(a.astype(np.float32))
        if t % 15 == 0 or term or trunc:
            frame = env.render()
            col, row = env.to_pixel(info["hand_pos"])
            assert _red(frame, col, row), (t, info["hand_pos"], frame[int(row), int(col)])
            # ... and not elsewhere: a point 3 cm away from the hand is not red.
            col2, row2 = env.to_pixel((info["hand_pos"][0] + 0.03, info["hand_pos"][1]))
            assert not _red(frame, col2, row2)
            positions.append(info["hand_pos"])
        if term or trunc:
            break
    # The hand moved toward the downward target, and the frame shows the trail it left (blue pixels).
    assert positions[-1][1] < -0.05
    blue = (frame[..., 2] > 180) & (frame[..., 0] < 120)
    assert blue.sum() > 50
    # The painter's mapping: the start at the centre, y up.
    p = ReachPainter(env.config, 256)
    assert p.to_pixel((0.0, 0.0)) == (128.0, 128.0)
    assert p.to_pixel((0.0, 0.1))[1] < 128.0


def test_normalized_actions_map_exactly_onto_the_force_bound():
    phys = reachlab.ReachEnv(scenario="curl_field", phase="learning")
    norm = reachlab.ReachEnv(scenario="curl_field", phase="learning", normalize=True)
    bound = float(phys.action_space.high[0])
    assert bound == 10.0 and norm.action_space.high[0] == 1.0
    o1, i1 = phys.reset(seed=5)
    o2, i2 = norm.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(180):
        a = rng.uniform(-1.2, 1.2, 2).astype(np.float32)  # beyond ±1 too: clipped at the bound either way
        s1 = phys.step(a * np.float32(bound))
        s2 = norm.step(a)
        assert s1[1] == s2[1] and s1[2:4] == s2[2:4]
        assert s1[4]["action"] == s2[4]["action"]
        np.testing.assert_array_equal(np.clip(s1[0], norm.observation_space.low, norm.observation_space.high), s2[0])
        if s1[2] or s1[3]:
            break
    # Far from the start the observation is clipped to the bound, which the space states.
    norm.reset(seed=1)
    for _ in range(150):
        obs, *_ = norm.step(np.ones(2, np.float32))
    assert obs[3] == reachlab.REACH_OBS_BOUND and norm.observation_space.contains(obs)


def test_the_normalized_vector_env_matches_the_normalized_single_env():
    vec = gym.make_vec("reachlab/Reach-v0", num_envs=3, vectorization_mode="vector_entry_point")
    assert vec.single_action_space.high[0] == 1.0
    singles = [gym.make("reachlab/Reach-v0").unwrapped for _ in range(3)]
    obs, _ = vec.reset(seed=7)
    for i, e in enumerate(singles):
        np.testing.assert_array_equal(obs[i], e.reset(seed=7 + i)[0])
    rng = np.random.default_rng(2)
    for _ in range(120):
        a = rng.uniform(-1, 1, (3, 2)).astype(np.float32)
        vobs, vrew, vterm, vtrunc, _ = vec.step(a)
        for i, e in enumerate(singles):
            o, r, te, tr, _ = e.step(a[i])
            if te or tr:
                e.reset()
                continue
            np.testing.assert_array_equal(vobs[i], o)
            assert vrew[i] == r
            assert vec.single_observation_space.contains(vobs[i])


def test_task_frames_draw_the_inputs_and_the_action():
    env = gym.make("reachlab/Decision-v0", render_mode="rgb_array")
    env.reset(seed=0)
    blank = env.render()
    env.step(0)
    fixating = env.render()
    assert blank.shape == fixating.shape == (256, 256, 3)
    green = (fixating[..., 1] > 150) & (fixating[..., 0] < 100)
    assert green.any()  # the chosen action (fixate) is drawn
    out = gym.make("reachlab/Output-v0", render_mode="rgb_array")
    out.reset(seed=0)
    out.step(np.array([1.0, -1.0, 0.5], np.float32))
    frame = out.render()
    assert ((frame[..., 1] > 150) & (frame[..., 0] < 100)).sum() > 20


@pytest.mark.parametrize("env_id", sorted(ENVS))
def test_sb3s_env_checker_has_no_warning(env_id):
    checker = pytest.importorskip("stable_baselines3.common.env_checker")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checker.check_env(gym.make(env_id, render_mode="rgb_array").unwrapped)


def test_sb3s_video_recorder_writes_a_video_of_a_trial(tmp_path):
    # SB3's VecVideoRecorder unchanged on a reaching id: it renders every step through render("rgb_array")
    # and writes an mp4 with moviepy. Skipped where SB3 or moviepy is not installed.
    pytest.importorskip("moviepy")
    env_util = pytest.importorskip("stable_baselines3.common.env_util")
    from stable_baselines3.common.vec_env import VecVideoRecorder

    vec = env_util.make_vec_env("reachlab/Reach-v0", n_envs=2, seed=0)
    length = 60
    vec = VecVideoRecorder(
        vec, str(tmp_path), record_video_trigger=lambda step: step == 0, video_length=length, name_prefix="reach"
    )
    vec.reset()
    for _ in range(length + 1):
        vec.step(np.stack([vec.action_space.sample() for _ in range(2)]))
    vec.close()
    videos = list(tmp_path.glob("reach*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 1000


def test_the_muscle_arm_id_takes_six_normalized_excitations():
    # reachlab/Arm26Reach-v0: MotorNet's arm26 through the effector seam. [-1, 1] maps onto [0, 1]
    # affinely; the same trial on the physical env with (a + 1) / 2 gives the same infos and rewards.
    env = gym.make("reachlab/Arm26Reach-v0")
    assert env.action_space.shape == (6,) and env.observation_space.shape == (7 + 12,)
    physical = reachlab.ReachEnv(config={"effector": {"kind": "arm26"}})
    assert np.all(physical.action_space.low == 0.0) and np.all(physical.action_space.high == 1.0)
    rng = np.random.default_rng(0)
    env.reset(seed=3, options={"target": 2})
    physical.reset(seed=3, options={"target": 2})
    for _ in range(60):
        a = rng.uniform(-1.2, 1.2, 6).astype(np.float32)
        _, r, term, trunc, info = env.step(a)
        _, r2, term2, trunc2, info2 = physical.step(((a.astype(np.float64) + 1.0) / 2.0).astype(np.float32))
        assert info == info2 and r == r2 and (term, trunc) == (term2, trunc2)
        assert all(0.0 <= u <= 1.0 for u in info["action"])
        if term or trunc:
            break
    _, _, _, _, info = env.step(np.full(6, -1.0, np.float32))
    assert info["action"] == [0.0] * 6
    with pytest.raises(ValueError, match="action"):
        physical.step(np.zeros(2, np.float32))
    vec = gym.make_vec("reachlab/Arm26Reach-v0", num_envs=2)
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (2, 19)
    vec.step(np.zeros((2, 6), np.float32))
