//! The reaching findings of `shared/science.md` §7 over seeds: each measure as mean [95 % CI] over seeds
//! (the statistical unit), the per-seed values beside it, and a test suited to it: paired across seeds
//! for savings and adaptation, one-sample for effects against zero, the near/far rank-sum pooled over
//! seeds and a t-test of the per-seed slopes for the uniform shift against distance.
//!
//! A finding is "reproduced" by an explicit rule written in [`Finding::rule`]; an effect that a test
//! cannot show at n seeds is a miss, not a pass.

use std::path::Path;

use reachlab_analysis::stats::{mean_ci, one_sample_t_test, paired_t_test, rank_sum_test, MeanCi};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::measure::Measure;

/// Angular distance (degrees) up to which a target is "near" the trained one, and from which it is "far"
/// (Sun et al.: near = within 45°; the RL paper's 3 near vs 3 far of 8 targets).
pub const NEAR_DEG: f64 = 45.0;
pub const FAR_DEG: f64 = 135.0;

/// What one finished run (one seed) says about the findings, read from its `summary.json` and
/// `analysis.json`; NaN where the run could not give a measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedMeasures {
    pub seed: u64,
    pub expert_baseline: bool,
    /// Initial-error savings (see [`crate::reaching::summary::Summary::savings`]).
    pub savings: f64,
    /// Signed MPD of the trained target in the first / last evaluation block of a stage (cm).
    pub mpd_baseline_late_cm: f64,
    pub mpd_learning_early_cm: f64,
    pub mpd_learning_late_cm: f64,
    pub mpd_relearning_early_cm: f64,
    pub onset_jump_cm: f64,
    pub after_effect_cm: f64,
    /// Fraction of the onset error removed by the end of learning, and at its first evaluation block
    /// (relative to the late baseline; see [`crate::reaching::summary::Summary::error_removed_learning`]).
    pub error_removed_learning: f64,
    pub error_removed_first_block: f64,
    /// Adaptation index of the channel trials in the late learning block (Smith et al. 2006).
    pub adaptation_index_learning_late: f64,
    /// The late washout block is back inside the baseline band (1) or not (0).
    pub washed_out: f64,
    /// Updates until the trained target's MPD is inside the baseline band, in learning and relearning
    /// (NaN when a stage never got there).
    pub updates_to_criterion_learning: f64,
    pub updates_to_criterion_relearning: f64,
    /// Updates the learning and relearning stages ran (where a stage that never reached the band is
    /// censored in the savings test).
    pub updates_learning: f64,
    pub updates_relearning: f64,
    /// Force decoded from the 2-D TDR state fit before learning, tested late in learning
    /// (cross-validated across trials).
    pub tdr_force_r2_learning: f64,
    pub tdr_force_slope_learning: f64,
    /// Uniform shift per target, estimated on one half of the trials and projected from the other, with
    /// each target's angular distance from the trained one.
    pub uniform_shifts: Vec<f64>,
    pub distances_deg: Vec<f64>,
    /// Slope of the uniform shift on distance (per degree).
    pub uniform_shift_slope: f64,
    /// Fraction of the learning shift left after washout: along the uniform axis, in the TDR plane.
    pub uniform_retained: f64,
    pub tdr_retained: f64,
    /// Stable fixed points under the delay inputs, summed over targets and recorded stages; NaN when none
    /// was searched for (the analysis cannot be read, or an LSTM's recordings predate its cell state).
    #[serde(default = "nan")]
    pub stable_prep_fixed_points: f64,
    /// Peak hand speed in the late learning block over that in the late baseline block (each the mean
    /// over the block's normal trials): below 1 when the field slows the reach.
    #[serde(default = "nan")]
    pub peak_speed_ratio: f64,
    pub theta_lw_deg: f64,
}

fn nan() -> f64 {
    f64::NAN
}

/// The scalar measures of a reaching unit, in the order tables show them.
pub const REACHING: &[Measure<SeedMeasures>] = &[
    Measure::<SeedMeasures>::new("savings", "", |m| m.savings).compared(),
    Measure::<SeedMeasures>::new("after_effect_cm", "cm", |m| m.after_effect_cm).compared(),
    Measure::<SeedMeasures>::new("onset_jump_cm", "cm", |m| m.onset_jump_cm).compared(),
    Measure::<SeedMeasures>::new("theta_lw_deg", "deg", |m| m.theta_lw_deg).compared(),
    Measure::<SeedMeasures>::new("uniform_shift_slope", "1/deg", |m| m.uniform_shift_slope).compared(),
    Measure::<SeedMeasures>::new("stable_prep_fixed_points", "", |m| m.stable_prep_fixed_points),
    Measure::<SeedMeasures>::new("peak_speed_ratio", "", |m| m.peak_speed_ratio),
];

impl SeedMeasures {
    /// Every [`REACHING`] measure of this unit, by name.
    pub fn named(&self) -> Vec<(String, f64)> {
        REACHING.iter().map(|m| (m.name.to_string(), (m.read)(self))).collect()
    }

    /// Reads the measures of the finished run in `dir`.
    pub fn read(dir: &Path, seed: u64) -> Result<Self> {
        // A run whose analysis failed (its analysis.json holds the error) gives NaN for these measures.
        let (s, a) = (
            crate::reaching::summary::Summary::read(dir)?,
            crate::reaching::analysis::Analysis::read(dir).ok(),
        );
        // The protocol's stages by role, as the run's scenario names them.
        let ev = crate::reaching::config::Scenario::load(&dir.join("scenario.toml"))
            .map_or_else(|_| Default::default(), |s| s.evaluation);
        let stage = |name: &str, value: fn(&crate::reaching::summary::StageSummary) -> f64| -> f64 {
            s.stages.iter().find(|x| x.stage == name).map_or(f64::NAN, value)
        };
        let decoder = |name: &str| {
            a.as_ref()?
                .tdr_force_decoder
                .iter()
                .find(|(stage, _)| stage == name)
                .map(|(_, d)| *d)
        };
        let split = a.as_ref().and_then(|a| a.uniform_shift_split_half.as_ref());
        Ok(SeedMeasures {
            seed,
            expert_baseline: s.expert_baseline,
            savings: s.savings,
            mpd_baseline_late_cm: stage(&ev.baseline_stage, |x| x.mpd_trained_late_cm),
            mpd_learning_early_cm: stage(&ev.learning_stage, |x| x.mpd_trained_early_cm),
            mpd_learning_late_cm: stage(&ev.learning_stage, |x| x.mpd_trained_late_cm),
            mpd_relearning_early_cm: stage(&ev.relearning_stage, |x| x.mpd_trained_early_cm),
            onset_jump_cm: s.onset_jump_cm,
            after_effect_cm: s.after_effect_cm,
            error_removed_learning: s.error_removed_learning,
            error_removed_first_block: s.error_removed_first_block,
            adaptation_index_learning_late: stage(&ev.learning_stage, |x| x.adaptation_index_late),
            washed_out: f64::from(u8::from(s.washed_out)),
            updates_to_criterion_learning: s.updates_to_criterion_learning,
            updates_to_criterion_relearning: s.updates_to_criterion_relearning,
            updates_learning: stage(&ev.learning_stage, |x| x.updates as f64),
            updates_relearning: stage(&ev.relearning_stage, |x| x.updates as f64),
            tdr_force_r2_learning: decoder(&ev.learning_stage).map_or(f64::NAN, |d| d.r2),
            tdr_force_slope_learning: decoder(&ev.learning_stage).map_or(f64::NAN, |d| d.slope),
            uniform_shifts: split.map_or_else(Vec::new, |u| u.shifts.clone()),
            distances_deg: split.map_or_else(Vec::new, |u| u.distances_deg.clone()),
            uniform_shift_slope: split.map_or(f64::NAN, |u| u.fit.slope),
            uniform_retained: a.as_ref().map_or(f64::NAN, |a| a.uniform_shift_retained_after_washout),
            tdr_retained: a.as_ref().map_or(f64::NAN, |a| a.tdr_shift_retained_after_washout),
            theta_lw_deg: s.theta_lw_deg,
            peak_speed_ratio: stage(&ev.learning_stage, |x| x.peak_speed_late_m_per_s)
                / stage(&ev.baseline_stage, |x| x.peak_speed_late_m_per_s),
            stable_prep_fixed_points: a
                .as_ref()
                .filter(|a| !a.preparatory_fixed_points.is_empty())
                .map_or(f64::NAN, |a| {
                    a.preparatory_fixed_points.iter().map(|p| p.n_stable).sum::<usize>() as f64
                }),
        })
    }

    /// Mean split-half uniform shift over targets.
    pub fn mean_uniform_shift(&self) -> f64 {
        let v: Vec<f64> = self.uniform_shifts.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    }

    /// The shifts of the targets within [`NEAR_DEG`] and from [`FAR_DEG`] of the trained one.
    pub fn near_far(&self) -> (Vec<f64>, Vec<f64>) {
        let pick = |keep: &dyn Fn(f64) -> bool| -> Vec<f64> {
            self.uniform_shifts
                .iter()
                .zip(&self.distances_deg)
                .filter(|(s, d)| s.is_finite() && keep(**d))
                .map(|(s, _)| *s)
                .collect()
        };
        (pick(&|d| d <= NEAR_DEG + 1e-9), pick(&|d| d >= FAR_DEG - 1e-9))
    }
}

/// Whether a finding came out as the paper reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Yes,
    No,
    /// This experiment cannot test it (e.g. a comparison of arms with a single arm).
    NotTested,
}

impl Verdict {
    /// Yes or no by `ok`; not tested when the test's `p` could not be computed (too few seeds, or a
    /// measure the runs could not give).
    fn of(ok: bool, p: f64) -> Self {
        if p.is_nan() {
            Verdict::NotTested
        } else if ok {
            Verdict::Yes
        } else {
            Verdict::No
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Yes => "yes",
            Verdict::No => "**no**",
            Verdict::NotTested => "not tested",
        }
    }
}

/// One row of the findings table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The number in `shared/science.md` §7.
    pub number: u8,
    pub claim: String,
    /// What the papers report.
    pub paper: String,
    /// The measure, with its unit.
    pub measure: String,
    pub ours: MeanCi,
    /// The test and its result.
    pub test: String,
    pub p: f64,
    /// The rule that makes it "reproduced".
    pub rule: String,
    pub reproduced: Verdict,
}

fn abs_all(x: &[f64]) -> Vec<f64> {
    x.iter().map(|v| v.abs()).collect()
}

fn pairs(a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
    a.iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| (*x, *y))
        .unzip()
}

fn paired(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (a, b) = pairs(a, b);
    paired_t_test(&a, &b).map_or((f64::NAN, f64::NAN), |(_, t, p)| (t, p))
}

fn one_sample(x: &[f64], mu: f64) -> (f64, f64) {
    one_sample_t_test(x, mu).map_or((f64::NAN, f64::NAN), |(_, t, p)| (t, p))
}

fn fmt_p(p: f64) -> String {
    if p.is_nan() {
        "n/a".into()
    } else if p < 1e-3 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// The findings of one arm from its seeds' measures.
pub fn findings(seeds: &[SeedMeasures]) -> Vec<Finding> {
    let col = |f: &dyn Fn(&SeedMeasures) -> f64| -> Vec<f64> { seeds.iter().map(f).collect() };
    let ci = |x: &[f64]| mean_ci(x, 0.95);
    let mut out = Vec::new();

    // 1. Savings: the error early in relearning is smaller than early in learning (paired by seed).
    let learn0 = abs_all(&col(&|s| s.mpd_learning_early_cm));
    let relearn0 = abs_all(&col(&|s| s.mpd_relearning_early_cm));
    let savings = col(&|s| s.savings);
    let (t, p) = paired(&learn0, &relearn0);
    let savings_ci = ci(&savings);
    out.push(Finding {
        number: 1,
        claim: "Savings: relearning is faster than learning".into(),
        paper: "relearning faster (RL paper, n = 4; Sun et al.)".into(),
        measure: "initial-error savings 1 − e(relearning) / e(learning), e = mean |MPD − B| over the evaluation blocks of a stage's first 10 updates".into(),
        ours: savings_ci.clone(),
        test: format!("paired t, |MPD₀| learning vs relearning: t = {t:.2}, p = {}", fmt_p(p)),
        p,
        rule: "savings > 0 with p < 0.05".into(),
        reproduced: Verdict::of(savings_ci.mean > 0.0 && p < 0.05, p),
    });

    // A stage that never reached the band counts as reaching it at its last update (censored: the true
    // count is larger). This understates learning's count, i.e. it works against savings, and it counts a
    // relearning that never got there against them too.
    let censored = |reached: f64, ran: f64| if reached.is_finite() { reached } else { ran };
    let ucl = col(&|s| censored(s.updates_to_criterion_learning, s.updates_learning));
    let ucr = col(&|s| censored(s.updates_to_criterion_relearning, s.updates_relearning));
    let both = seeds
        .iter()
        .filter(|s| s.updates_to_criterion_learning.is_finite() && s.updates_to_criterion_relearning.is_finite())
        .count();
    let (t, p) = paired(&ucl, &ucr);
    let (l, r) = pairs(&ucl, &ucr);
    let fewer: Vec<f64> = l.iter().zip(&r).map(|(a, b)| a - b).collect();
    let fewer_ci = ci(&fewer);
    out.push(Finding {
        number: 1,
        claim: "Savings: fewer updates to criterion in relearning".into(),
        paper: "fewer trials to criterion in relearning (savings)".into(),
        measure: format!(
            "updates to the baseline band, learning − relearning ({both} of {} seeds reach it in both; a stage \
             that never did counts its last update)",
            seeds.len()
        ),
        ours: fewer_ci.clone(),
        test: format!("paired t, updates learning vs relearning: t = {t:.2}, p = {}", fmt_p(p)),
        p,
        rule: "> 0 with p < 0.05".into(),
        reproduced: Verdict::of(fewer_ci.mean > 0.0 && p < 0.05, p),
    });

    // 2. Curved reaches in the field, adapted by the end of learning, opposite after-effects.
    let onset = col(&|s| s.onset_jump_cm);
    let (t, p) = one_sample(&onset, 0.0);
    let onset_ci = ci(&onset);
    out.push(Finding {
        number: 2,
        claim: "Field reaches are curved at first".into(),
        paper: "curved, then adapted reaches".into(),
        measure: "onset jump: MPD₀ learning − MPD late baseline (cm)".into(),
        ours: onset_ci.clone(),
        test: format!("one-sample t vs 0: t = {t:.2}, p = {}", fmt_p(p)),
        p,
        rule: "≠ 0 with p < 0.05".into(),
        reproduced: Verdict::of(p < 0.05, p),
    });
    let late = abs_all(&col(&|s| s.mpd_learning_late_cm));
    let adapted = col(&|s| s.error_removed_learning);
    let (t, p) = paired(&learn0, &late);
    let adapted_ci = ci(&adapted);
    out.push(Finding {
        number: 2,
        claim: "… and adapted by the end of learning".into(),
        paper: "monkeys remove nearly all of the error within a session".into(),
        measure: "error removed in learning 1 − |MPD late − B| / |MPD₀ − B|, B = MPD late baseline".into(),
        ours: adapted_ci.clone(),
        test: format!("paired t, |MPD| first vs last block: t = {t:.2}, p = {}", fmt_p(p)),
        p,
        rule: "mean ≥ 0.80 and lower 95% bound ≥ 0.70, p < 0.05".into(),
        reproduced: Verdict::of(adapted_ci.mean >= 0.8 && adapted_ci.ci_low >= 0.7 && p < 0.05, p),
    });
    let first = col(&|s| s.error_removed_first_block);
    let (t, p) = one_sample(&first, 0.5);
    let first_ci = ci(&first);
    out.push(Finding {
        number: 2,
        claim: "… gradually, not in a jump".into(),
        paper: "a learning curve over tens to hundreds of trials".into(),
        measure: "error removed at the first evaluation block inside learning".into(),
        ours: first_ci.clone(),
        test: format!("one-sample t vs 0.5: t = {t:.2}, p = {}", fmt_p(p)),
        p,
        rule: "mean < 0.5".into(),
        reproduced: Verdict::of(first_ci.mean < 0.5, p),
    });
    let index = col(&|s| s.adaptation_index_learning_late);
    let (t, p) = one_sample(&index, 0.0);
    let index_ci = ci(&index);
    out.push(Finding {
        number: 2,
        claim: "Channel trials show the compensation".into(),
        paper: "adaptation index rises toward 0.6–0.9 (Smith et al. 2006)".into(),
        measure: "adaptation index, late learning channel trials".into(),
        ours: index_ci.clone(),
        test: format!("one-sample t vs 0: t = {t:.2}, p = {}", fmt_p(p)),
        p,
        rule: "mean ≥ 0.6".into(),
        reproduced: Verdict::of(index_ci.mean >= 0.6, p),
    });
    let after = col(&|s| s.after_effect_cm);
    let (t, p) = one_sample(&after, 0.0);
    let opposite = seeds
        .iter()
        .filter(|s| s.after_effect_cm * s.onset_jump_cm < 0.0)
        .count();
    let after_ci = ci(&after);
    out.push(Finding {
        number: 2,
        claim: "Early washout shows an opposite after-effect".into(),
        paper: "MPD sign flips in early washout".into(),
        measure: "after-effect: MPD₀ washout − MPD late baseline (cm)".into(),
        ours: after_ci.clone(),
        test: format!(
            "one-sample t vs 0: t = {t:.2}, p = {}; opposite to the onset jump in {opposite}/{}",
            fmt_p(p),
            seeds.len()
        ),
        p,
        rule: "opposite sign to the onset jump, p < 0.05".into(),
        reproduced: Verdict::of(p < 0.05 && after_ci.mean * onset_ci.mean < 0.0, p),
    });
    let washed = col(&|s| s.washed_out);
    let n_washed = washed.iter().filter(|&&w| w > 0.5).count();
    let washed_ci = ci(&washed);
    out.push(Finding {
        number: 2,
        claim: "… and washes out".into(),
        paper: "after-effects decay back to baseline in washout".into(),
        measure: "late washout block inside the baseline band (fraction of seeds)".into(),
        ours: washed_ci,
        test: format!("{n_washed}/{} seeds back in the band", seeds.len()),
        p: f64::NAN,
        rule: "all seeds but at most one".into(),
        reproduced: if seeds.len() < 2 {
            Verdict::NotTested
        } else if n_washed + 1 >= seeds.len() {
            Verdict::Yes
        } else {
            Verdict::No
        },
    });

    // 3. The TDR subspace fit before learning still predicts force after it.
    let r2 = col(&|s| s.tdr_force_r2_learning);
    let slope = col(&|s| s.tdr_force_slope_learning);
    let (t, p) = one_sample(&r2, 0.0);
    let r2ci = ci(&r2);
    let slope_ci = ci(&slope);
    out.push(Finding {
        number: 3,
        claim: "The force subspace fit before learning predicts force after it".into(),
        paper: "monkeys: R² 0.59, slope 0.41 (Sun et al. ED Fig. 2a)".into(),
        measure: "R² of force from the 2-D TDR state, late learning (cross-validated)".into(),
        ours: r2ci.clone(),
        test: format!(
            "one-sample t vs 0: t = {t:.2}, p = {}; slope {:.2} [{:.2}, {:.2}]",
            fmt_p(p),
            slope_ci.mean,
            slope_ci.ci_low,
            slope_ci.ci_high
        ),
        p,
        rule: "R² > 0 with p < 0.05".into(),
        reproduced: Verdict::of(r2ci.mean > 0.0 && p < 0.05, p),
    });

    // 4. The uniform shift is there and does not depend on the distance from the trained target.
    let mean_shift = col(&|s| s.mean_uniform_shift());
    let (t, p_shift) = one_sample(&mean_shift, 0.0);
    let mean_shift_ci = ci(&mean_shift);
    out.push(Finding {
        number: 4,
        claim: "A uniform shift of preparatory states".into(),
        paper: "present after learning (Sun et al.)".into(),
        measure: "mean split-half uniform shift over targets".into(),
        ours: mean_shift_ci.clone(),
        test: format!("one-sample t vs 0: t = {t:.2}, p = {}", fmt_p(p_shift)),
        p: p_shift,
        rule: "> 0 with p < 0.05".into(),
        reproduced: Verdict::of(mean_shift_ci.mean > 0.0 && p_shift < 0.05, p_shift),
    });
    let (mut near, mut far) = (Vec::new(), Vec::new());
    for s in seeds {
        let (n, f) = s.near_far();
        near.extend(n);
        far.extend(f);
    }
    // A test that could not reject even for completely separated groups (3 vs 3 of one seed: p ≥ 0.1)
    // says nothing: not tested.
    let separated: Vec<f64> = (0..near.len() + far.len()).map(|i| i as f64).collect();
    let min_p = rank_sum_test(&separated[..near.len()], &separated[near.len()..]).map_or(f64::NAN, |(_, p)| p);
    let p_nf = match rank_sum_test(&near, &far) {
        Ok((_, p)) if min_p < 0.05 => p,
        _ => f64::NAN,
    };
    let diff: Vec<f64> = seeds
        .iter()
        .map(|s| {
            let (n, f) = s.near_far();
            let m = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            m(&n) - m(&f)
        })
        .collect();
    out.push(Finding {
        number: 4,
        claim: "… the same near and far from the trained target".into(),
        paper: "near vs far n.s. (RL paper p = 0.08, Wilcoxon, n = 4)".into(),
        measure: format!("near (≤ {NEAR_DEG}°) − far (≥ {FAR_DEG}°) shift, per seed"),
        ours: ci(&diff),
        test: format!(
            "rank-sum pooled over seeds ({} near vs {} far): p = {}",
            near.len(),
            far.len(),
            fmt_p(p_nf)
        ),
        p: p_nf,
        rule: "p ≥ 0.05 (no distance dependence detected)".into(),
        reproduced: Verdict::of(p_nf >= 0.05, p_nf),
    });
    let slopes: Vec<f64> = col(&|s| s.uniform_shift_slope).iter().map(|v| v * 90.0).collect();
    let (t, p) = one_sample(&slopes, 0.0);
    out.push(Finding {
        number: 4,
        claim: "… and no trend with distance".into(),
        paper: "slope ≈ 0".into(),
        measure: "slope of the shift on distance, per 90°".into(),
        ours: ci(&slopes),
        test: format!("one-sample t of per-seed slopes vs 0: t = {t:.2}, p = {}", fmt_p(p)),
        p,
        rule: "p ≥ 0.05".into(),
        reproduced: Verdict::of(p >= 0.05, p),
    });

    // 5. The uniform shift outlasts washout, the force-subspace shift does not.
    let uni = col(&|s| s.uniform_retained);
    let tdr = col(&|s| s.tdr_retained);
    let (t, p) = paired(&uni, &tdr);
    let ret_diff: Vec<f64> = uni.iter().zip(&tdr).map(|(a, b)| a - b).collect();
    let ret_diff_ci = ci(&ret_diff);
    out.push(Finding {
        number: 5,
        claim: "The uniform shift persists through washout while force-subspace states revert".into(),
        paper: "uniform shift persists, TDR states revert (Sun et al.)".into(),
        measure: format!(
            "retained after washout: uniform {:.2} − TDR plane {:.2} (fraction of the learning shift)",
            ci(&uni).mean,
            ci(&tdr).mean
        ),
        ours: ret_diff_ci.clone(),
        test: format!("paired t, uniform vs TDR retained: t = {t:.2}, p = {}", fmt_p(p)),
        p,
        rule: "uniform retained > TDR retained with p < 0.05".into(),
        reproduced: Verdict::of(ret_diff_ci.mean > 0.0 && p < 0.05, p),
    });

    // 6. θ_LW (compared between arms by `findings_table`; here its value and its distance from 180°).
    let theta = col(&|s| s.theta_lw_deg);
    let (t, p) = one_sample(&theta, 180.0);
    let theta_ci = ci(&theta);
    out.push(Finding {
        number: 6,
        claim: "Washout does not simply reverse learning (θ_LW < 180°; nearer 90° when pretrained)".into(),
        paper: "more orthogonal when pretrained (RL paper Fig. 4b; angles not retrieved)".into(),
        measure: "θ_LW (degrees)".into(),
        ours: theta_ci.clone(),
        test: format!("one-sample t vs 180°: t = {t:.2}, p = {}", fmt_p(p)),
        p,
        rule: "< 180° with p < 0.05; the arm comparison needs the 2×2 experiment".into(),
        reproduced: Verdict::of(theta_ci.mean < 180.0 && p < 0.05, p),
    });
    out
}

/// The findings of every arm as a Markdown table, with the rule of each row and the per-seed values.
pub fn markdown(arms: &[(String, Vec<SeedMeasures>, Vec<Finding>)], command: &str) -> String {
    let mut md = String::from(
        "| # | finding | papers | measure | ours: mean [95 % CI] (n) | test | reproduced? |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for (arm, seeds, rows) in arms {
        if arms.len() > 1 {
            md += &format!("| | **arm `{arm}`** ({} seeds) | | | | | |\n", seeds.len());
        }
        // A `|` inside a cell (|MPD|) would end it: escaped.
        let cell = |t: &str| t.replace('|', "\\|");
        for f in rows {
            md += &format!(
                "| {} | {} | {} | {} | {:.3} [{:.3}, {:.3}] ({}) | {} | {} ({}) |\n",
                f.number,
                cell(&f.claim),
                cell(&f.paper),
                cell(&f.measure),
                f.ours.mean,
                f.ours.ci_low,
                f.ours.ci_high,
                f.ours.n,
                cell(&f.test),
                f.reproduced.word(),
                cell(&f.rule)
            );
        }
    }
    md += &format!("\nRegenerate: `{command}`.\n\nPer-seed values:\n\n");
    for (arm, _, rows) in arms {
        for f in rows {
            let v: Vec<String> = f.ours.values.iter().map(|x| format!("{x:.3}")).collect();
            md += &format!("- `{arm}` #{} {}: {}\n", f.number, f.measure, v.join(", "));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(k: u64, shift_near: f64, shift_far: f64) -> SeedMeasures {
        let d = [90.0, 135.0, 180.0, 135.0, 90.0, 45.0, 0.0, 45.0];
        let noise = |i: usize| ((k as f64 + 1.0) * (i as f64 + 0.5) * 12.9898).sin() * 0.01;
        let shifts: Vec<f64> = d
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let base = if x <= 45.0 {
                    shift_near
                } else if x >= 135.0 {
                    shift_far
                } else {
                    (shift_near + shift_far) / 2.0
                };
                base + noise(i)
            })
            .collect();
        let fit = reachlab_analysis::stats::linear_fit(&d, &shifts).unwrap();
        let j = 0.1 * (k as f64 - 3.5);
        SeedMeasures {
            seed: k,
            expert_baseline: true,
            savings: 0.3 + 0.02 * j,
            mpd_baseline_late_cm: 0.1,
            mpd_learning_early_cm: -3.0 + j,
            mpd_learning_late_cm: -1.0 + j,
            mpd_relearning_early_cm: -2.0 + 0.5 * j,
            onset_jump_cm: -3.1 + j,
            after_effect_cm: 1.0 + j,
            error_removed_learning: 0.9 + 0.1 * j,
            error_removed_first_block: 0.3 + 0.1 * j,
            adaptation_index_learning_late: 0.8 + 0.1 * j,
            washed_out: 1.0,
            updates_to_criterion_learning: 40.0 + 20.0 * j,
            updates_to_criterion_relearning: 20.0 + 5.0 * j,
            updates_learning: 100.0,
            updates_relearning: 100.0,
            tdr_force_r2_learning: 0.6 + j,
            tdr_force_slope_learning: 0.4,
            uniform_shifts: shifts,
            distances_deg: d.to_vec(),
            uniform_shift_slope: fit.slope,
            uniform_retained: 0.8 + j,
            tdr_retained: 0.2 - j,
            theta_lw_deg: 95.0 + 10.0 * j,
            stable_prep_fixed_points: f64::NAN,
            peak_speed_ratio: f64::NAN,
        }
    }

    #[test]
    fn planted_findings_are_recovered_and_a_distance_effect_is_caught() {
        // Eight seeds with every effect planted and a uniform shift the same near and far.
        let seeds: Vec<SeedMeasures> = (0..8).map(|k| seed(k, 0.2, 0.2)).collect();
        let f = findings(&seeds);
        assert_eq!(f.len(), 14);
        for row in &f {
            assert_eq!(row.reproduced, Verdict::Yes, "{}: {}", row.measure, row.test);
        }
        // Savings: 1 − 2/3 per seed on average, CI around it.
        let (near, far) = seeds[0].near_far();
        assert_eq!((near.len(), far.len()), (3, 3));
        // A shift twice as large near the trained target: the pooled rank-sum (24 vs 24) and the per-seed
        // slopes both see it, where one seed's 3 vs 3 rank-sum cannot go below p = 0.1.
        let seeds: Vec<SeedMeasures> = (0..8).map(|k| seed(k, 0.3, 0.15)).collect();
        let f = findings(&seeds);
        let nf = f.iter().find(|r| r.measure.starts_with("near")).unwrap();
        assert!(nf.p < 1e-6 && nf.reproduced == Verdict::No, "{}", nf.test);
        let sl = f.iter().find(|r| r.measure.starts_with("slope")).unwrap();
        assert!(sl.p < 1e-3 && sl.reproduced == Verdict::No, "{}", sl.test);
        // An after-effect with the same sign as the onset jump is a miss.
        let mut same: Vec<SeedMeasures> = (0..8).map(|k| seed(k, 0.2, 0.2)).collect();
        same.iter_mut().for_each(|s| s.after_effect_cm = -s.after_effect_cm);
        let f = findings(&same);
        let after = f.iter().find(|r| r.claim.contains("after-effect")).unwrap();
        assert_eq!(after.reproduced, Verdict::No);
        assert!(after.test.contains("0/8"));
        // Adaptation that removes half the error, in a jump, with two seeds left outside the band: misses.
        let mut weak: Vec<SeedMeasures> = (0..8).map(|k| seed(k, 0.2, 0.2)).collect();
        for (k, s) in weak.iter_mut().enumerate() {
            s.error_removed_learning -= 0.4;
            s.error_removed_first_block += 0.4;
            s.washed_out = f64::from(u8::from(k >= 2));
        }
        // A relearning that never reaches the band counts its last update: no savings in updates.
        for s in weak.iter_mut() {
            s.updates_to_criterion_relearning = f64::NAN;
        }
        let f = findings(&weak);
        let row = f.iter().find(|r| r.claim.contains("fewer updates")).unwrap();
        assert!(
            row.ours.mean < 0.0 && row.measure.contains("0 of 8"),
            "{}: {:?}",
            row.measure,
            row.ours
        );
        for claim in ["adapted by the end", "gradually", "washes out", "fewer updates"] {
            let row = f.iter().find(|r| r.claim.contains(claim)).unwrap();
            assert_eq!(row.reproduced, Verdict::No, "{claim}: {}", row.test);
        }
        // Every table row has its 7 cells, whatever `|` the measures' names hold.
        let md = markdown(&[("a".into(), seeds.clone(), findings(&seeds))], "cmd");
        for line in md.lines().filter(|l| l.starts_with("| ")) {
            let cells = line.replace("\\|", "").matches('|').count();
            assert_eq!(cells, 8, "{line}");
        }
        // One seed: no test can be made, and none is claimed.
        let f = findings(&same[..1]);
        assert!(f.iter().all(|r| r.reproduced == Verdict::NotTested), "{:?}", f[0]);
    }
}
