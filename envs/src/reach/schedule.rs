//! Experimental phases: which field acts, on which targets, with which mix of catch and channel trials.

use serde::{Deserialize, Serialize};

use crate::effector::Mat2;
use crate::error::{EnvError, Result};
use crate::reach::config::{PrematureConfig, RewardConfig};

/// The force field of a phase, on after the go cue only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum FieldSpec {
    /// No field.
    Null,
    /// A curl field `F = b·[[0, 1], [−1, 0]]·v` (N·s/m); b > 0 pushes clockwise.
    Curl {
        /// Field coefficient b (N·s/m).
        b: f64,
    },
    /// Any viscous field `F = B·v`.
    Viscous {
        /// B (N·s/m), row-major.
        matrix: Mat2,
    },
    /// A curl field whose coefficient is drawn per trial, uniformly in `[−b_max, b_max]`
    /// (pretraining on random fields).
    RandomCurl {
        /// Largest |b| (N·s/m).
        b_max: f64,
    },
}

impl FieldSpec {
    /// The viscous field of Shadmehr & Mussa-Ivaldi (1994), B = [[−10.1, −11.2], [−11.2, 11.1]] N·s/m.
    pub fn shadmehr_mussa_ivaldi() -> Self {
        FieldSpec::Viscous {
            matrix: [[-10.1, -11.2], [-11.2, 11.1]],
        }
    }

    fn validate(&self, key: &str) -> Result<()> {
        // Fields far beyond any robot's (tens of N·s/m) overflow the hand state within a step.
        const MAX: f64 = 1e4;
        let sane = |v: f64| v.is_finite() && v.abs() <= MAX;
        let ok = match self {
            FieldSpec::Null => true,
            FieldSpec::Curl { b } => sane(*b),
            FieldSpec::Viscous { matrix } => matrix.iter().flatten().all(|v| sane(*v)),
            FieldSpec::RandomCurl { b_max } => sane(*b_max) && *b_max >= 0.0,
        };
        if ok {
            Ok(())
        } else {
            Err(EnvError::config(
                key,
                format!("field {self:?} has a non-finite, negative or larger than 1e4 N·s/m coefficient"),
            ))
        }
    }
}

/// Which targets a phase's field acts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TargetSet {
    /// Every target.
    #[default]
    All,
    /// Only these target indices (the "trained target" design of Sun et al. 2022).
    Only(Vec<usize>),
}

impl TargetSet {
    /// True when target `k` is in the set.
    pub fn contains(&self, k: usize) -> bool {
        match self {
            TargetSet::All => true,
            TargetSet::Only(v) => v.contains(&k),
        }
    }
}

/// One phase of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Name, used in logs (`baseline`, `learning`, …).
    pub name: String,
    /// Field on normal trials (after the go cue).
    pub field: FieldSpec,
    /// Targets the field acts on.
    #[serde(default)]
    pub field_targets: TargetSet,
    /// Probability of a catch trial (field off).
    #[serde(default)]
    pub catch_prob: f64,
    /// Probability of a force-channel (error-clamp) trial.
    #[serde(default)]
    pub channel_prob: f64,
    /// Whether the field-strength input k shows the trial's field coefficient (pretraining) or stays 0.
    #[serde(default)]
    pub show_field_input: bool,
    /// The reward this phase pays instead of the env's `reward` table (a curriculum: e.g. a dense
    /// reward while pretraining, the task's sparse one after). A whole table: keys left out take
    /// [`RewardConfig`]'s defaults, not the env's values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<RewardConfig>,
    /// The premature-start rule of this phase instead of the env's `premature` table (whole table, as
    /// `reward`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premature: Option<PrematureConfig>,
}

impl Phase {
    /// A phase with no field and only normal trials.
    pub fn null(name: impl Into<String>) -> Self {
        Phase {
            name: name.into(),
            field: FieldSpec::Null,
            field_targets: TargetSet::All,
            catch_prob: 0.0,
            channel_prob: 0.0,
            show_field_input: false,
            reward: None,
            premature: None,
        }
    }

    /// Checks probabilities, target indices (against `n_targets`), field coefficients and the reward
    /// and premature-start overrides.
    pub fn validate(&self, n_targets: usize) -> Result<()> {
        let key = |k: &str| format!("phase `{}`.{k}", self.name);
        for (k, p) in [("catch_prob", self.catch_prob), ("channel_prob", self.channel_prob)] {
            if !(0.0..=1.0).contains(&p) {
                return Err(EnvError::config(key(k), format!("must be in [0, 1], got {p}")));
            }
        }
        if self.catch_prob + self.channel_prob > 1.0 {
            return Err(EnvError::config(
                key("catch_prob"),
                "catch_prob + channel_prob must be ≤ 1",
            ));
        }
        if let TargetSet::Only(v) = &self.field_targets {
            if let Some(bad) = v.iter().find(|&&k| k >= n_targets) {
                return Err(EnvError::config(
                    key("field_targets"),
                    format!("target {bad} does not exist (there are {n_targets})"),
                ));
            }
        }
        if let Some(r) = &self.reward {
            r.validate(&key("reward"))?;
        }
        if let Some(p) = &self.premature {
            p.validate(&key("premature"))?;
        }
        self.field.validate(&key("field"))
    }
}

/// An ordered list of phases. The env itself holds one phase at a time
/// ([`Reach::set_phase`](crate::reach::Reach::set_phase)); the schedule is what a training loop walks
/// through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseSchedule {
    /// The phases, in order.
    pub phases: Vec<Phase>,
}

impl PhaseSchedule {
    /// Baseline (null) → learning (curl `b` on `field_targets`) → washout (null) → relearning (curl `b`),
    /// each with the given catch and channel probabilities.
    pub fn standard(b: f64, field_targets: TargetSet, catch_prob: f64, channel_prob: f64) -> Self {
        let curl = |name: &str| Phase {
            name: name.into(),
            field: FieldSpec::Curl { b },
            field_targets: field_targets.clone(),
            catch_prob,
            channel_prob,
            show_field_input: false,
            reward: None,
            premature: None,
        };
        let null = |name: &str| Phase {
            channel_prob,
            ..Phase::null(name)
        };
        PhaseSchedule {
            phases: vec![null("baseline"), curl("learning"), null("washout"), curl("relearning")],
        }
    }

    /// The phase named `name`.
    pub fn get(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// Validates every phase.
    pub fn validate(&self, n_targets: usize) -> Result<()> {
        self.phases.iter().try_for_each(|p| p.validate(n_targets))
    }
}
