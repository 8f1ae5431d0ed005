//! The analysis of a trained task network: its fixed points under zero input (or each task's fixation
//! input), started from hidden states the network visits on the evaluation trials, classified by the
//! eigenvalues of their Jacobians, with the network's readout at each stable point (for the flip-flop:
//! which of the 2³ memories it holds).

use std::path::Path;

use reachlab_agents::ActOut;
use reachlab_agents::Policy;
use reachlab_analysis::{find_fixed_points, Stability};
use reachlab_envs::cognitive::TaskSet;
use reachlab_envs::cognitive::TrialBatch;
use serde::{Deserialize, Serialize};

use super::config::eval_batch;
use super::config::{FixedPointInput, TaskScenario};
use crate::core_dynamics::{core_dynamics, values};
use crate::error::{Result, ScenarioError};

/// What the analysis of one unit found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitAnalysis {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_points: Option<FixedPointSummary>,
}

/// Fixed points of the autonomous network (zero input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixedPointSummary {
    pub starts: usize,
    /// Distinct points with q below the fixed-point tolerance.
    pub fixed: usize,
    pub stable: usize,
    /// Saddles by number of unstable modes: `saddles[k]` has `k + 1` unstable modes.
    pub saddles: Vec<usize>,
    /// Distinct slow points (q below the slow tolerance only).
    pub slow: usize,
    /// At each point found (fixed, then slow), its Jacobian's eigenvalues within `marginal_tol` of the
    /// unit circle: a few mark a line or ring attractor; dozens at slow points mark a slow manifold (a
    /// continuum of nearly fixed states, e.g. units whose update gates hold them) rather than isolated
    /// points that the search failed to reach.
    #[serde(default)]
    pub marginal_modes: Vec<usize>,
    /// What each start ended as: a fixed point (q below its tolerance), a slow point, or nothing
    /// (neither tolerance reached, or an outlier far from the states), as FixedPointFinder users count them.
    #[serde(default)]
    pub start_outcomes: StartOutcomes,
    /// The readout (network output) at each stable fixed point.
    pub stable_readouts: Vec<Vec<f64>>,
    /// Distinct sign patterns of the readouts at the stable points (the flip-flop's memories).
    pub distinct_readout_signs: usize,
}

/// How many starts of the fixed-point search ended at a fixed point, a slow point, or nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StartOutcomes {
    pub fixed: usize,
    pub slow: usize,
    pub nothing: usize,
}

/// The full recurrent state (`[h | c]` for the LSTM) at every step of every trial of `batch`, time-major
/// `[T·B × S]`, from the graph-free acting path (recurrent noise, if the core has any, from a fixed stream).
pub fn states(policy: &Policy, batch: &TrialBatch) -> Result<(Vec<f32>, usize)> {
    let snap = policy.snapshot()?;
    let b = batch.batch;
    let mut st = snap.state(b);
    let s = st.actor.len() / b.max(1);
    let mut head = vec![0.0f32; b * policy.head_kind().out_dim()];
    let mut value = vec![0.0f32; b];
    let mut rng = reachlab_envs::seeding::rng_from_seed(0);
    let mut out = Vec::with_capacity(batch.steps * b * s);
    let i_dim = batch.input_dim;
    for t in 0..batch.steps {
        let obs = &batch.inputs[t * b * i_dim..(t + 1) * b * i_dim];
        snap.step(
            &mut st,
            obs,
            &mut rng,
            ActOut {
                head: &mut head,
                value: &mut value,
            },
        );
        out.extend_from_slice(&st.actor);
    }
    Ok((out, s))
}

/// The input a task's trial gives in its first step without input noise: fixation on, the task's rule
/// unit on, no stimulus (for the ring tasks; the classic tasks' first input).
fn fixation_input(s: &TaskScenario, k: usize) -> Result<Vec<f64>> {
    let mut spec = s.tasks.clone();
    spec.conventions.sigma_x = 0.0;
    let b = spec.task_set()?.batch_of(k, 1, 0)?;
    Ok(b.inputs[..b.input_dim].iter().map(|&x| f64::from(x)).collect())
}

/// Runs the analysis the scenario asks for on a trained unit's policy: one fixed-point search under zero
/// input, or (`fixed_point_input = "fixation"`) one per task under its fixation input, started from that
/// task's evaluation states, the counts summed over tasks.
pub fn analyse_unit(s: &TaskScenario, set: &TaskSet, policy: &Policy, dir: &Path) -> Result<UnitAnalysis> {
    let mut out = UnitAnalysis::default();
    if !s.analysis.fixed_points {
        return Ok(out);
    }
    let dynamics = core_dynamics(policy)?;
    let h = policy.hidden();
    let searches: Vec<(Option<usize>, Vec<f64>)> = match s.analysis.fixed_point_input {
        FixedPointInput::Zero => vec![(None, vec![0.0; policy.obs_dim()])],
        FixedPointInput::Fixation => (0..set.tasks().len())
            .map(|k| Ok((Some(k), fixation_input(s, k)?)))
            .collect::<Result<_>>()?,
    };
    let w_pi = values(policy, "pi.weight")?;
    let b_pi = values(policy, "pi.bias")?;
    let o = b_pi.len();
    let readout = |x: &[f64]| -> Vec<f64> {
        (0..o)
            .map(|k| b_pi[k] + (0..h).map(|j| w_pi[k * h + j] * x[j]).sum::<f64>())
            .collect()
    };
    let mut saddles = Vec::new();
    let (mut fixed, mut stable, mut slow, mut n_starts) = (0, 0, 0, 0);
    let mut outcomes = StartOutcomes::default();
    let mut stable_readouts = Vec::new();
    let mut marginal_modes = Vec::new();
    let cfg = s.analysis.fixed_point_search;
    for (task, u) in &searches {
        // Starts: states of the evaluation trials (of the first task under zero input, as before; of
        // this task under its fixation input), evenly spaced over trials and steps.
        let want = (s.analysis.fixed_point_starts / searches.len()).max(1);
        let b = eval_batch(set, task.unwrap_or(0), s.training.eval_trials_per_task)?;
        let (st, sw) = states(policy, &b)?;
        let total = b.steps * b.batch;
        let stride = (total / want).max(1);
        let starts: Vec<Vec<f64>> = (0..total)
            .step_by(stride)
            .take(want)
            .map(|i| st[i * sw..(i + 1) * sw].iter().map(|&x| f64::from(x)).collect())
            .collect();
        n_starts += starts.len();
        let res = find_fixed_points(&dynamics, u, &starts, &cfg).map_err(|e| ScenarioError::output(dir, e))?;
        let file = match task {
            None => "fixed_points.safetensors".to_string(),
            Some(k) => format!("fixed_points_{}.safetensors", set.tasks()[*k].name()),
        };
        crate::output::save_fixed_points(&dir.join(file), &res)?;
        outcomes.fixed += res.n_converged;
        outcomes.slow += res.n_slow;
        outcomes.nothing += res.n_failed + res.n_outliers;
        for p in &res.points {
            marginal_modes.push(p.marginal_modes);
            if !p.converged {
                slow += 1;
                continue;
            }
            fixed += 1;
            match p.stability {
                Stability::Stable => {
                    stable += 1;
                    stable_readouts.push(readout(&p.x));
                }
                Stability::Saddle { unstable } => {
                    if saddles.len() < unstable {
                        saddles.resize(unstable, 0);
                    }
                    saddles[unstable - 1] += 1;
                }
            }
        }
    }
    let signs: std::collections::BTreeSet<Vec<bool>> = stable_readouts
        .iter()
        .map(|r| r.iter().map(|&v| v > 0.0).collect())
        .collect();
    out.fixed_points = Some(FixedPointSummary {
        starts: n_starts,
        fixed,
        stable,
        saddles,
        slow,
        marginal_modes,
        start_outcomes: outcomes,
        distinct_readout_signs: signs.len(),
        stable_readouts,
    });
    Ok(out)
}
