//! Behaviour of one reaching trial, from the env's per-step infos.

use reachlab_envs::reach::{ReachInfo, TrialType};
use serde::Serialize;

/// What one trial's hand path shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrialMetrics {
    /// Signed maximum perpendicular deviation (m) from the start→target line between the go cue and the
    /// first entry into the target zone (or the trial's end): positive to the left of the reach direction
    /// (counter-clockwise), so a curl field's deviation and its after-effect have opposite signs. NaN when
    /// the trial ended before the go cue.
    pub mpd: f64,
    /// Path length over straight-line distance in the same window (1 = straight; NaN if the hand did not
    /// move).
    pub curvature: f64,
    /// Time (s) from the go cue to the first entry into the target zone (NaN if never).
    pub reach_time: f64,
    /// Largest magnitude (N) of the force the field or channel applied in the window; in channel trials
    /// this is the lateral force the policy pushes into the channel with (its feedforward compensation).
    pub peak_force: f64,
    pub success: bool,
    pub premature: bool,
}

/// Metrics of a trial from the infos after each of its steps.
pub fn trial_metrics(infos: &[ReachInfo], success_radius: f64, dt: f64) -> TrialMetrics {
    let nan = f64::NAN;
    let Some(last) = infos.last() else {
        return TrialMetrics {
            mpd: nan,
            curvature: nan,
            reach_time: nan,
            peak_force: nan,
            success: false,
            premature: false,
        };
    };
    let tp = last.target_pos;
    let dist = tp[0].hypot(tp[1]);
    let u = if dist > 0.0 {
        [tp[0] / dist, tp[1] / dist]
    } else {
        [1.0, 0.0]
    };
    let go = last.go_step as usize;
    let mut mpd: f64 = 0.0;
    let mut path = 0.0;
    let mut prev: Option<[f64; 2]> = None;
    let mut reach_step = None;
    let mut peak: f64 = 0.0;
    let mut moved = false;
    for info in infos.iter().filter(|i| i.step as usize >= go) {
        moved = true;
        let p = info.hand.pos;
        let perp = u[0] * p[1] - u[1] * p[0];
        if perp.abs() > mpd.abs() {
            mpd = perp;
        }
        if let Some(q) = prev {
            path += (p[0] - q[0]).hypot(p[1] - q[1]);
        }
        prev = Some(p);
        peak = peak.max(info.field_force[0].hypot(info.field_force[1]));
        if (p[0] - tp[0]).hypot(p[1] - tp[1]) <= success_radius {
            reach_step = Some(info.step);
            break;
        }
    }
    let start = infos
        .iter()
        .rev()
        .find(|i| (i.step as usize) < go)
        .map_or([0.0, 0.0], |i| i.hand.pos);
    let end = prev.unwrap_or(start);
    let straight = (end[0] - start[0]).hypot(end[1] - start[1]);
    TrialMetrics {
        // A trial that ended before the go cue (a premature start) has no movement to measure.
        mpd: if moved { mpd } else { nan },
        curvature: if straight > 1e-6 { path / straight } else { nan },
        reach_time: reach_step.map_or(nan, |s| (f64::from(s) - go as f64) * dt),
        peak_force: if last.trial_type == TrialType::Channel || peak > 0.0 {
            peak
        } else {
            0.0
        },
        success: last.success,
        premature: last.premature,
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
        assert!(m.mpd.is_nan() && m.reach_time.is_nan());
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
        let m = trial_metrics(&infos, 0.015, 0.01);
        assert!((m.mpd - -0.02).abs() < 1e-12, "{}", m.mpd);
        assert!((m.reach_time - 0.04).abs() < 1e-12);
        let seg = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
        let path = seg([0.0, 0.0], pts[0]) + seg(pts[0], pts[1]) + seg(pts[1], pts[2]) + seg(pts[2], pts[3]);
        assert!((m.curvature - path / 0.095).abs() < 1e-12);
    }
}
