//! Behaviour of reaching trials, from the env's per-step infos: what curl-field papers report.
//!
//! Every kinematic measure is taken over the **movement window**: from the go cue to the end of the hold
//! (the step the success fired) in a successful trial, or to the trial's last step otherwise. A hand that
//! passes through the target and keeps going is therefore measured over its whole path, not only up to
//! its first entry into the target window.
//!
//! - signed MPD and curvature (path length / straight distance) as in shared/science.md §3;
//! - the speed profile: peak speed, time to peak, the number of speed peaks (local maxima above 20 % of
//!   the highest, separated from a higher one by a dip of at least 5 % of it), and the correlation with
//!   the minimum-jerk speed profile of the same duration (Flash & Hogan 1985), the duration read from the
//!   5 %-of-peak crossings;
//! - the hold: endpoint error at the trial's end, and the drift of the hand during the final hold;
//! - [`adaptation_index`] of force-channel trials (Smith et al. 2006; Joiner & Smith 2008).
//!
//! The expert-baseline criterion built on these is [`crate::reaching::expert`].

use reachlab_envs::reach::{ReachInfo, TrialType};
use serde::Serialize;

/// Fraction of the peak speed that marks movement onset and offset.
pub const ONSET_FRACTION: f64 = 0.05;
/// A secondary speed peak counts when it exceeds this fraction of the highest one.
pub const PEAK_FRACTION: f64 = 0.2;
/// ... and is separated from any higher peak by a dip of at least this fraction of the highest.
pub const PEAK_PROMINENCE: f64 = 0.05;

/// What one trial's hand path shows (SI units: m, s, m/s, N).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrialMetrics {
    /// Signed maximum perpendicular deviation (m) from the start→target line over the movement window:
    /// positive to the left of the reach direction (counter-clockwise), so a curl field's deviation and
    /// its after-effect have opposite signs. NaN when the trial ended before the go cue.
    pub mpd: f64,
    /// Path length over the straight distance from the start to the window's last position (1 =
    /// straight; NaN if the hand did not move).
    pub curvature: f64,
    /// Time (s) from the go cue to the first entry into the target window (NaN if never).
    pub reach_time: f64,
    /// Highest hand speed (m/s) in the window.
    pub peak_speed: f64,
    /// Time (s) from the go cue to the peak speed.
    pub time_to_peak: f64,
    /// Number of speed peaks in the window (1 = a single-peaked reach; 0 if the hand never moved).
    pub speed_peaks: u32,
    /// Pearson correlation of the speed profile with the minimum-jerk profile of the same duration.
    pub minjerk_corr: f64,
    /// Distance (m) from the hand to the target at the trial's last step.
    pub endpoint_error: f64,
    /// Largest distance (m) of the hand, during the final hold, from where the movement ended (the first
    /// step after the speed peak below `ONSET_FRACTION` of it, or the start of the hold if later): how far
    /// the hand creeps once it has stopped. NaN without success.
    pub hold_drift: f64,
    /// Largest magnitude (N) of the force the field or channel applied in the window; in channel trials
    /// this is the lateral force the policy pushes into the channel with (its feedforward compensation).
    pub peak_force: f64,
    pub success: bool,
    pub premature: bool,
}

/// Metrics of a trial from the infos after each of its steps; `success_radius` (m) is the target
/// window's and `dt` (s) the step.
pub fn trial_metrics<C>(infos: &[ReachInfo<C>], success_radius: f64, dt: f64) -> TrialMetrics {
    let nan = f64::NAN;
    let mut m = TrialMetrics {
        mpd: nan,
        curvature: nan,
        reach_time: nan,
        peak_speed: nan,
        time_to_peak: nan,
        speed_peaks: 0,
        minjerk_corr: nan,
        endpoint_error: nan,
        hold_drift: nan,
        peak_force: nan,
        success: false,
        premature: false,
    };
    let Some(last) = infos.last() else { return m };
    m.success = last.success;
    m.premature = last.premature;
    let tp = last.target_pos;
    m.endpoint_error = (last.hand.pos[0] - tp[0]).hypot(last.hand.pos[1] - tp[1]);
    let go = last.go_step as usize;
    let first = infos.partition_point(|i| (i.step as usize) < go);
    // The window ends with the success (the end of the hold), or with the trial.
    let end = infos.iter().position(|i| i.success).map_or(infos.len(), |s| s + 1);
    if first >= end {
        // A trial that ended before the go cue (a premature start) has no movement to measure.
        return m;
    }
    let window = &infos[first..end];
    let dist = tp[0].hypot(tp[1]);
    let u = if dist > 0.0 {
        [tp[0] / dist, tp[1] / dist]
    } else {
        [1.0, 0.0]
    };
    let start = if first > 0 {
        infos[first - 1].hand.pos
    } else {
        [0.0, 0.0]
    };
    let in_zone = |p: [f64; 2]| (p[0] - tp[0]).hypot(p[1] - tp[1]) <= success_radius;
    let (mut mpd, mut path, mut prev, mut peak_force) = (0.0f64, 0.0, start, 0.0f64);
    for info in window {
        let p = info.hand.pos;
        let perp = u[0] * (p[1] - start[1]) - u[1] * (p[0] - start[0]);
        if perp.abs() > mpd.abs() {
            mpd = perp;
        }
        path += (p[0] - prev[0]).hypot(p[1] - prev[1]);
        prev = p;
        peak_force = peak_force.max(info.field_force[0].hypot(info.field_force[1]));
    }
    m.mpd = mpd;
    let straight = (prev[0] - start[0]).hypot(prev[1] - start[1]);
    m.curvature = if straight > 1e-6 { path / straight } else { nan };
    m.reach_time = window
        .iter()
        .find(|i| in_zone(i.hand.pos))
        .map_or(nan, |i| (f64::from(i.step) - go as f64) * dt);
    m.peak_force = if last.trial_type == TrialType::Channel || peak_force > 0.0 {
        peak_force
    } else {
        0.0
    };
    let speed: Vec<f64> = window.iter().map(|i| i.hand.vel[0].hypot(i.hand.vel[1])).collect();
    let profile = speed_profile(&speed);
    m.peak_speed = profile.peak;
    m.time_to_peak = (f64::from(window[profile.peak_index].step) - go as f64) * dt;
    m.speed_peaks = profile.peaks;
    m.minjerk_corr = profile.minjerk_corr;
    if m.success {
        // The final hold: the run of in-window steps that ends at the success; the drift is measured from
        // the end of the movement when that comes later (a hand entering the window at its edge and
        // decelerating onto the target is still reaching, not drifting).
        let hold_start = window.iter().rposition(|i| !in_zone(i.hand.pos)).map_or(0, |k| k + 1);
        let thr = ONSET_FRACTION * profile.peak;
        let stopped = (profile.peak_index + 1..speed.len()).find(|&k| speed[k] < thr);
        let from = stopped.map_or(hold_start, |k| k.max(hold_start)).min(window.len() - 1);
        let a = window[from].hand.pos;
        m.hold_drift = window[from..]
            .iter()
            .map(|i| (i.hand.pos[0] - a[0]).hypot(i.hand.pos[1] - a[1]))
            .fold(0.0, f64::max);
    }
    m
}

/// The shape of a speed profile sampled at equal steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedProfile {
    /// Highest speed.
    pub peak: f64,
    /// Its sample index.
    pub peak_index: usize,
    /// Number of peaks (see the [module docs](self)).
    pub peaks: u32,
    /// Correlation with the minimum-jerk profile of the same duration (NaN if the hand never moved).
    pub minjerk_corr: f64,
}

/// Minimum-jerk speed, normalised to a peak of 1, at phase τ ∈ [0, 1]: 16·τ²(1 − τ)².
pub fn minjerk_speed(tau: f64) -> f64 {
    if (0.0..=1.0).contains(&tau) {
        16.0 * tau * tau * (1.0 - tau) * (1.0 - tau)
    } else {
        0.0
    }
}

/// Peaks and minimum-jerk correlation of a speed profile.
pub fn speed_profile(speed: &[f64]) -> SpeedProfile {
    let (peak_index, peak) =
        speed
            .iter()
            .copied()
            .enumerate()
            .fold((0, 0.0f64), |best, (i, v)| if v > best.1 { (i, v) } else { best });
    if speed.is_empty() || peak <= 0.0 {
        return SpeedProfile {
            peak,
            peak_index,
            peaks: 0,
            minjerk_corr: f64::NAN,
        };
    }
    SpeedProfile {
        peak,
        peak_index,
        peaks: count_peaks(speed, peak),
        minjerk_corr: minjerk_correlation(speed, peak_index, peak),
    }
}

/// Local maxima above `PEAK_FRACTION`·peak whose dip to every higher maximum is at least
/// `PEAK_PROMINENCE`·peak (the highest always counts).
fn count_peaks(speed: &[f64], peak: f64) -> u32 {
    let n = speed.len();
    let at = |i: isize| {
        if i < 0 || i as usize >= n {
            0.0
        } else {
            speed[i as usize]
        }
    };
    let mut count = 0;
    for i in 0..n {
        let v = speed[i];
        // A local maximum: higher than its left neighbour (the first of a plateau) and not lower than
        // its right one, with the plateau ending in a fall.
        if v < PEAK_FRACTION * peak || at(i as isize - 1) >= v {
            continue;
        }
        let mut j = i;
        while j + 1 < n && speed[j + 1] == v {
            j += 1;
        }
        if at(j as isize + 1) > v {
            continue;
        }
        // The lowest speed on the way to the nearest higher point on each side.
        let dip = |dir: isize| {
            let mut k = if dir < 0 { i as isize - 1 } else { j as isize + 1 };
            let mut low = v;
            while k >= 0 && (k as usize) < n && speed[k as usize] <= v {
                low = low.min(speed[k as usize]);
                k += dir;
            }
            let reached_higher = k >= 0 && (k as usize) < n;
            if reached_higher {
                v - low
            } else {
                f64::INFINITY
            }
        };
        if dip(-1).min(dip(1)) >= PEAK_PROMINENCE * peak {
            count += 1;
        }
    }
    count.max(1)
}

/// Correlation with the minimum-jerk profile whose onset and duration put its `ONSET_FRACTION` crossings
/// where the profile's own are (linearly interpolated), over the samples inside that movement.
fn minjerk_correlation(speed: &[f64], peak_index: usize, peak: f64) -> f64 {
    let thr = ONSET_FRACTION * peak;
    // Crossing before the peak: last sample below the threshold, interpolated.
    let on = match (0..peak_index).rev().find(|&i| speed[i] < thr) {
        Some(i) => i as f64 + (thr - speed[i]) / (speed[i + 1] - speed[i]),
        None => -1.0 + (thr / speed[0]).min(1.0), // the profile starts above the threshold
    };
    let off = match (peak_index + 1..speed.len()).find(|&i| speed[i] < thr) {
        Some(i) => i as f64 - (thr - speed[i]) / (speed[i - 1] - speed[i]),
        None => speed.len() as f64,
    };
    // 16τ²(1 − τ)² = ONSET_FRACTION at τ_c: τ_c(1 − τ_c) = √(ONSET_FRACTION/16).
    let tau_c = 0.5 - (0.25 - (ONSET_FRACTION / 16.0).sqrt()).sqrt();
    let duration = (off - on) / (1.0 - 2.0 * tau_c);
    let t0 = on - tau_c * duration;
    let idx: Vec<usize> = (0..speed.len())
        .filter(|&i| (i as f64) >= t0 && (i as f64) <= t0 + duration)
        .collect();
    let model: Vec<f64> = idx.iter().map(|&i| minjerk_speed((i as f64 - t0) / duration)).collect();
    let data: Vec<f64> = idx.iter().map(|&i| speed[i]).collect();
    pearson(&data, &model)
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 3 {
        return f64::NAN;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// The adaptation index of force-channel trials (Smith et al. 2006; Joiner & Smith 2008): the slope of
/// the least-squares line (with intercept) of the lateral force the agent pushes into the channel on the
/// force that would fully compensate a curl field of coefficient `b`, pooled over the movement samples
/// (go cue to the end of the window) of every channel trial given. 0 = no compensation, 1 = full.
///
/// A curl field `F = b·[[0, 1], [−1, 0]]·v` pushes a hand moving at `v∥` along the reach direction with
/// `b·v∥` to its right (clockwise); the compensating push is `b·v∥` along the left normal n. The channel's
/// force on the hand balances the agent's push, so the agent's lateral force is `−F_channel·n`.
/// NaN when `b` is 0 or the ideal force does not vary.
pub fn adaptation_index<'a, C: 'a>(trials: impl IntoIterator<Item = &'a [ReachInfo<C>]>, b: f64) -> f64 {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for infos in trials {
        let Some(last) = infos.last() else { continue };
        let tp = last.target_pos;
        let r = tp[0].hypot(tp[1]);
        if r == 0.0 {
            continue;
        }
        let (u, n) = ([tp[0] / r, tp[1] / r], [-tp[1] / r, tp[0] / r]);
        let end = infos.iter().position(|i| i.success).map_or(infos.len(), |s| s + 1);
        for info in infos[..end].iter().filter(|i| i.step > last.go_step) {
            let v_par = info.hand.vel[0] * u[0] + info.hand.vel[1] * u[1];
            xs.push(b * v_par);
            ys.push(-(info.field_force[0] * n[0] + info.field_force[1] * n[1]));
        }
    }
    let n = xs.len() as f64;
    if xs.len() < 2 || b == 0.0 {
        return f64::NAN;
    }
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, y) in xs.iter().zip(&ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
    }
    if sxx > 0.0 {
        sxy / sxx
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reachlab_envs::effector::HandState;

    fn info(step: u32, pos: [f64; 2], go: u32) -> ReachInfo {
        ReachInfo {
            step,
            go_step: go,
            target_pos: [0.0, 0.1],
            hand: HandState { pos, vel: [0.0; 2] },
            ..ReachInfo::default()
        }
    }

    #[test]
    fn a_trial_ended_before_the_go_cue_has_no_mpd() {
        let infos: Vec<ReachInfo> = (1..=5).map(|s| info(s, [0.02, 0.0], 20)).collect();
        let m = trial_metrics(&infos, 0.015, 0.01);
        assert!(m.mpd.is_nan() && m.reach_time.is_nan() && m.peak_speed.is_nan());
    }

    #[test]
    fn metrics_of_a_bowed_path_match_geometry() {
        // Reach up (target at (0, 0.1)); the hand bows to the right (negative = clockwise side) by 2 cm.
        let go = 3;
        let mut infos: Vec<ReachInfo> = (1..=go).map(|s| info(s, [0.0, 0.0], go)).collect();
        let pts = [[0.01, 0.025], [0.02, 0.05], [0.01, 0.075], [0.0, 0.095]];
        for (i, p) in pts.iter().enumerate() {
            infos.push(info(go + 1 + i as u32, *p, go));
        }
        infos.last_mut().unwrap().success = true;
        let m = trial_metrics(&infos, 0.015, 0.01);
        assert!((m.mpd - -0.02).abs() < 1e-12, "{}", m.mpd);
        assert!((m.reach_time - 0.04).abs() < 1e-12);
        let seg = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
        let path = seg([0.0, 0.0], pts[0]) + seg(pts[0], pts[1]) + seg(pts[1], pts[2]) + seg(pts[2], pts[3]);
        assert!((m.curvature - path / 0.095).abs() < 1e-12);
        assert!((m.endpoint_error - 0.005).abs() < 1e-12);
        assert_eq!(m.hold_drift, 0.0, "the hold is the last step alone");
    }

    #[test]
    fn a_path_past_the_target_is_measured_to_its_end() {
        // Straight up through the target at (0, 0.1), then 4 cm to the left of the line: no success.
        let go = 1;
        let mut infos = vec![info(1, [0.0, 0.0], go)];
        for (i, p) in [[0.0, 0.05], [0.0, 0.1], [0.0, 0.13], [-0.04, 0.13]].iter().enumerate() {
            infos.push(info(2 + i as u32, *p, go));
        }
        let m = trial_metrics(&infos, 0.015, 0.01);
        assert!((m.mpd - 0.04).abs() < 1e-12, "{}", m.mpd);
        assert!(m.hold_drift.is_nan() && !m.success);
        assert!((m.endpoint_error - 0.05).abs() < 1e-12);
    }

    /// Minimum-jerk reach of `d` metres in `t_move` seconds sampled at `dt`, starting at step `go`.
    fn minjerk_trial(d: f64, t_move: f64, dt: f64, go: u32, tail: u32) -> Vec<ReachInfo> {
        let n = (t_move / dt).round() as u32;
        let mut infos: Vec<ReachInfo> = (1..=go).map(|s| info(s, [0.0, 0.0], go)).collect();
        for k in 1..=n + tail {
            let tau = (f64::from(k) * dt / t_move).min(1.0);
            let x = d * (10.0 * tau.powi(3) - 15.0 * tau.powi(4) + 6.0 * tau.powi(5));
            let v = d / t_move * 30.0 * tau * tau * (1.0 - tau) * (1.0 - tau);
            let mut i = info(go + k, [0.0, x], go);
            i.hand.vel = [0.0, v];
            infos.push(i);
        }
        infos
    }

    #[test]
    fn a_minimum_jerk_reach_has_one_peak_correlation_one_and_its_analytic_peak() {
        let (d, t_move, dt) = (0.1, 0.4, 0.01);
        let infos = minjerk_trial(d, t_move, dt, 20, 30);
        let m = trial_metrics(&infos, 0.015, dt);
        assert_eq!(m.speed_peaks, 1);
        assert!(m.minjerk_corr > 0.999, "{}", m.minjerk_corr);
        // Flash & Hogan: peak speed 1.875·D/T at T/2.
        assert!((m.peak_speed - 1.875 * d / t_move).abs() < 1e-9, "{}", m.peak_speed);
        assert!((m.time_to_peak - t_move / 2.0).abs() < 1e-9, "{}", m.time_to_peak);
        assert!((m.curvature - 1.0).abs() < 1e-12 && m.mpd == 0.0);
    }

    #[test]
    fn a_corrective_submovement_is_a_second_peak_and_a_skewed_profile_is_not_minimum_jerk() {
        // Two minimum-jerk sub-movements: 8 cm, then 2 cm (the second peak is 50% of the first).
        let (dt, go) = (0.01, 5);
        let mut infos = minjerk_trial(0.08, 0.4, dt, go, 0);
        let second = minjerk_trial(0.02, 0.2, dt, 0, 10);
        let offset = infos.last().unwrap().step;
        for s in second {
            let mut i = s;
            i.step += offset;
            i.go_step = go;
            i.hand.pos[1] += 0.08;
            infos.push(i);
        }
        let m = trial_metrics(&infos, 0.015, dt);
        assert_eq!(m.speed_peaks, 2);
        // A bang-bang reach's speed rises and falls linearly (a triangle): bell-like, r > 0.9. A reach
        // that peaks in its first tenth and coasts down does not look like minimum jerk.
        let triangle: Vec<f64> = (0..=40)
            .map(|i| if i <= 20 { i as f64 } else { (40 - i) as f64 })
            .collect();
        assert!(speed_profile(&triangle).minjerk_corr > 0.95);
        let skewed: Vec<f64> = (0..=40)
            .map(|i| if i <= 4 { i as f64 / 4.0 } else { (40 - i) as f64 / 36.0 })
            .collect();
        let r = speed_profile(&skewed).minjerk_corr;
        assert!(r < 0.9, "{r}");
        // A bump below 20% of the peak is not a peak.
        let small = speed_profile(&[0.0, 1.0, 2.0, 1.0, 0.0, 0.15, 0.0]);
        assert_eq!(small.peaks, 1);
        let big = speed_profile(&[0.0, 1.0, 2.0, 1.0, 0.0, 0.5, 0.0]);
        assert_eq!(big.peaks, 2);
    }

    #[test]
    fn the_hold_drift_is_the_creep_after_the_movement_has_stopped() {
        // A minimum-jerk reach of 9.5 cm (it enters the 1.5 cm window at its edge region and decelerates
        // onto y = 0.095), then a creep of 3 mm at 1 cm/s (below 5% of the peak speed), success at the end.
        let (dt, go) = (0.01, 5);
        let mut infos = minjerk_trial(0.095, 0.4, dt, go, 5);
        let end = infos.last().unwrap().step;
        for k in 1..=30 {
            let mut i = info(end + k, [0.0, 0.095 + 0.0001 * f64::from(k)], go);
            i.hand.vel = [0.0, 0.01];
            infos.push(i);
        }
        infos.last_mut().unwrap().success = true;
        let m = trial_metrics(&infos, 0.015, dt);
        // Measured from where the speed fell below 5% of the peak (at τ ≈ 0.94, 1.2 mm short of 9.5 cm).
        assert!(m.hold_drift > 0.003 && m.hold_drift < 0.0045, "{}", m.hold_drift);
        // Without the creep the drift is what remains of the deceleration after the 5% crossing.
        let mut still = minjerk_trial(0.095, 0.4, dt, go, 30);
        still.last_mut().unwrap().success = true;
        let m = trial_metrics(&still, 0.015, dt);
        assert!(m.hold_drift < 0.0015, "{}", m.hold_drift);
    }

    /// A channel trial to the target at (0, 0.1) whose channel force is `−k·b·v∥` along the left normal
    /// plus `offset`, i.e. the agent pushes `k·b·v∥ + offset` into the channel.
    fn channel_trial(k: f64, b: f64, offset: f64) -> Vec<ReachInfo> {
        let mut infos = minjerk_trial(0.1, 0.5, 0.01, 10, 5);
        for i in &mut infos {
            i.trial_type = TrialType::Channel;
            let v_par = i.hand.vel[1];
            // Left normal of an upward reach is (−1, 0).
            let push = k * b * v_par + offset;
            i.field_force = [push, 0.0];
        }
        infos
    }

    #[test]
    fn a_planted_channel_force_gives_its_adaptation_index() {
        for (k, b) in [(0.0, 10.0), (0.6, 10.0), (1.0, -15.0)] {
            let trials = [channel_trial(k, b, 0.0), channel_trial(k, b, 0.3)];
            let ai = adaptation_index(trials.iter().map(|t| t.as_slice()), b);
            assert!((ai - k).abs() < 1e-9, "k = {k}: index {ai}");
        }
        assert!(adaptation_index([channel_trial(1.0, 10.0, 0.0).as_slice()], 0.0).is_nan());
    }

    #[test]
    fn the_expert_criterion_names_what_it_misses() {
        use crate::reaching::expert::ExpertCriterion;
        let good = trial_metrics(&minjerk_trial(0.1, 0.4, 0.01, 20, 10), 0.015, 0.01);
        let mut good = good;
        good.success = true;
        good.hold_drift = 0.001;
        good.reach_time = 0.35;
        let crit = ExpertCriterion::default();
        let trials: Vec<(usize, TrialMetrics)> = (0..8).flat_map(|k| [(k, good), (k, good)]).collect();
        let ok = crit.check(&trials, 8);
        assert!(ok.met, "{:?}", ok.misses);
        let mut bad = trials.clone();
        bad[3].1.success = false;
        bad[5].1.curvature = 1.2;
        let miss = crit.check(&bad, 8);
        assert!(!miss.met);
        assert_eq!(miss.misses.len(), 2, "{:?}", miss.misses);
        assert_eq!(miss.min_target_success, 0.5);
    }
}
