"""The curl-field adaptation protocol from Python, with a hand-written adaptive controller.

A PD controller reaches to the target; a feedforward term cancels a curl field of estimated strength
b_hat (force -b_hat·[v_y, -v_x]). After each trial the controller updates b_hat toward the field it felt
(least squares of the sensed field force on the rotated velocity), with a learning rate and a retention
factor, as state-space models of adaptation do (Smith et al. 2006, in one state). Through baseline,
learning (curl on the downward target), washout and relearning it shows curved then straighter reaches,
an opposite after-effect in washout, and its decay. With one state it shows no savings: relearning
starts where learning did (two-state models, and the trained networks, do better).

    pip install ./python && python examples/python/pd_adaptation.py
"""

import numpy as np

import reachlab

LEARN, RETAIN = 0.25, 0.98
env = reachlab.ReachEnv(scenario="curl_field")
target = 6  # the trained target of curl_field (downward)
b_hat = 0.0


def reach(seed):
    """One trial to the trained target; returns the signed maximum perpendicular deviation (cm) and the
    field strength the trial's sensed forces imply."""
    global b_hat
    obs, info = env.reset(seed=seed, options={"target": target, "trial_type": "normal"})
    unit = np.array(info["target_pos"]) / np.linalg.norm(info["target_pos"])
    normal = np.array([-unit[1], unit[0]])
    mpd, fv, vv = 0.0, 0.0, 0.0
    vel = np.zeros(2)
    while True:
        go = obs[2]
        pd = np.array([go * (obs[0] - obs[3]) * 20 - obs[5] * 5, go * (obs[1] - obs[4]) * 20 - obs[6] * 5])
        rotated = np.array([vel[1], -vel[0]])
        action = pd - go * b_hat * rotated
        obs, _, terminated, truncated, info = env.step(action.astype(np.float32))
        force = np.array(info["field_force"])
        fv += force @ rotated
        vv += rotated @ rotated
        vel = np.array(info["hand_vel"])
        d = float(np.dot(info["hand_pos"], normal))
        mpd = d if abs(d) > abs(mpd) else mpd
        if terminated or truncated:
            break
    felt = fv / vv if vv > 0 else 0.0
    b_hat = RETAIN * b_hat + LEARN * (felt - b_hat)
    return 100 * mpd, felt


seed = 0
for phase, trials in [("baseline", 5), ("learning", 20), ("washout", 15), ("relearning", 10)]:
    env.set_phase(phase)
    rows = []
    for _ in range(trials):
        rows.append(reach(seed))
        seed += 1
    mpds = [f"{m:+.2f}" for m, _ in rows]
    print(f"{phase:10s} MPD (cm) trial by trial: {' '.join(mpds)}   b_hat now {b_hat:+.2f} N·s/m")
