//! Evaluation blocks of a run: deterministic trials on every target (and the block's summary row), the
//! behavioural stopping criteria they decide, and the baseline band.

use reachlab_agents::PolicyAgent;
use reachlab_envs::effector::Effector;
use reachlab_envs::reach::{FieldSpec, Reach, ReachInfo, ReachOptions, TrialType};
use reachlab_envs::seeding::derive_seed;
use reachlab_envs::Env;

use super::RunOf;
use crate::error::Result;
use crate::output::Recording;
use crate::reaching::config::{StageSpec, Until};
use crate::reaching::metrics::{adaptation_index, trial_metrics, TrialMetrics};
use crate::rows::{baseline_band, mean, median, reference_b, EvalRow, TrialRow};

impl<B: Effector> RunOf<'_, B> {
    /// Whether an evaluation block meets a stage's behavioural criterion.
    pub(super) fn criterion_met(&self, until: Until, block: &EvalRow) -> bool {
        match until {
            Until::Never => false,
            Until::Expert => block.expert,
            Until::BaselineBand => {
                let (mean, half) = baseline_band(&self.scenario, &self.eval_rows);
                (block.mpd_trained_cm - mean).abs() <= half
            }
        }
    }

    /// An evaluation block: trials with the deterministic policy (every target × trial type) written to
    /// `trials.csv`, their summary to `evaluations.csv`, and, for the stage's `early` and `late` blocks when
    /// it records, the arrays to `recordings/<stage>_<block>.safetensors`.
    pub(super) fn evaluate_block(&mut self, st: &StageSpec, block: &str) -> Result<EvalRow> {
        let ev = &self.scenario.evaluation;
        let mut env: Reach<B> = Reach::new(self.scenario.env.clone())?;
        let mut phase = st.phase();
        if matches!(phase.field, FieldSpec::RandomCurl { .. }) {
            // Agents pretrained on random fields are tested with the field off and k = 0 (the RL paper).
            phase.field = FieldSpec::Null;
        }
        env.set_phase(phase)?;
        let mut plan: Vec<(u64, ReachOptions)> = Vec::new();
        let n_targets = self.scenario.env.n_targets;
        let stage = self.progress.stage as u64;
        let seed0 = match block {
            "early" | "late" => derive_seed(self.scenario.seed, 3 + stage * 2 + u64::from(block == "late")),
            _ => derive_seed(
                derive_seed(self.scenario.seed, 1000 + stage),
                self.progress.stage_update as u64,
            ),
        };
        for (kind, count) in [
            (TrialType::Normal, ev.trials_per_target),
            (TrialType::Channel, ev.channel_trials_per_target),
            (TrialType::Catch, ev.catch_trials_per_target),
        ] {
            for target in 0..n_targets {
                for _ in 0..count {
                    let seed = derive_seed(seed0, plan.len() as u64);
                    plan.push((
                        seed,
                        ReachOptions {
                            target: Some(target),
                            trial_type: Some(kind),
                        },
                    ));
                }
            }
        }
        let mut agent = PolicyAgent::new(self.trainer.policy().snapshot()?, true, seed0);
        let steps = self.scenario.env.trial_steps as usize;
        let episodes = reachlab_agents::evaluate(&mut env, &mut agent, &plan, steps)?;
        let rc = &self.scenario.env;
        let record = st.record && matches!(block, "early" | "late");
        let (obs_dim, action_dim) = (env.obs_dim(), env.action_space().flat_dim());
        let mut rec = record.then(|| {
            Recording::new(
                episodes.len(),
                steps,
                (
                    self.trainer.policy().hidden(),
                    self.trainer
                        .policy()
                        .config()
                        .core
                        .cell()
                        .state_width(self.trainer.policy().hidden()),
                ),
                obs_dim,
                action_dim,
            )
        });
        let mut normal = Vec::new();
        // The trained target's channel trials and their peak forces.
        let mut channel_trained: Vec<(&[ReachInfo<B::Command>], f64)> = Vec::new();
        for (i, ep) in episodes.iter().enumerate() {
            let last = ep.final_info();
            let m: TrialMetrics = trial_metrics(&ep.infos, rc.reward.success_radius, rc.dt);
            self.trials.write(&TrialRow {
                stage: st.name.clone(),
                block: block.to_string(),
                trial: i,
                target: last.target,
                trial_type: format!("{:?}", last.trial_type).to_lowercase(),
                steps: ep.infos.len(),
                mpd_cm: 100.0 * m.mpd,
                curvature: m.curvature,
                reach_time_s: m.reach_time,
                peak_speed_m_per_s: m.peak_speed,
                time_to_peak_s: m.time_to_peak,
                speed_peaks: m.speed_peaks,
                minjerk_corr: m.minjerk_corr,
                endpoint_error_cm: 100.0 * m.endpoint_error,
                hold_drift_cm: 100.0 * m.hold_drift,
                peak_force_n: m.peak_force,
                success: m.success,
                premature: m.premature,
            })?;
            match last.trial_type {
                TrialType::Normal => normal.push((last.target, m)),
                TrialType::Channel if last.target == ev.trained_target => {
                    channel_trained.push((ep.infos.as_slice(), m.peak_force));
                }
                _ => {}
            }
            if let Some(rec) = &mut rec {
                rec.push(i, ep);
            }
        }
        if let Some(mut rec) = rec {
            rec.describe("scenario", &self.scenario.name);
            rec.describe("stage", &st.name);
            rec.describe("block", block);
            rec.describe("seed", self.scenario.seed);
            rec.describe("dt_s", rc.dt);
            if let Some(actions) = B::describe_actions() {
                rec.describe("actions", actions);
            }
            rec.save(
                &self
                    .dir
                    .join("recordings")
                    .join(format!("{}_{block}.safetensors", st.name)),
            )?;
        }
        let trained = ev.trained_target;
        let check = ev.expert.check(&normal, n_targets);
        let ms = |f: fn(&TrialMetrics) -> f64| normal.iter().map(move |(_, m)| f(m));
        let row = EvalRow {
            stage: st.name.clone(),
            block: block.to_string(),
            stage_update: self.progress.stage_update,
            update: self.curve.rows(),
            success_rate: mean(ms(|m| f64::from(u8::from(m.success)))),
            mpd_trained_cm: 100.0 * mean(normal.iter().filter(|(k, _)| *k == trained).map(|(_, m)| m.mpd)),
            mpd_abs_cm: 100.0 * mean(ms(|m| m.mpd.abs())),
            curvature_median: median(ms(|m| m.curvature)),
            peak_speed_m_per_s: mean(ms(|m| m.peak_speed)),
            time_to_peak_s: mean(ms(|m| m.time_to_peak)),
            single_peak_fraction: mean(ms(|m| f64::from(u8::from(m.speed_peaks == 1)))),
            minjerk_corr_median: median(ms(|m| m.minjerk_corr)),
            reach_time_s: mean(ms(|m| m.reach_time)),
            endpoint_error_cm: 100.0 * mean(ms(|m| m.endpoint_error)),
            hold_drift_max_cm: 100.0 * ms(|m| m.hold_drift).fold(f64::NAN, f64::max),
            channel_force_trained_n: mean(channel_trained.iter().map(|(_, f)| *f)),
            adaptation_index: adaptation_index(channel_trained.iter().map(|(t, _)| *t), reference_b(&self.scenario)),
            expert: check.met,
            expert_misses: check.misses.join("; "),
        };
        self.evals.write(&row)?;
        self.eval_rows.push(row.clone());
        Ok(row)
    }
}
