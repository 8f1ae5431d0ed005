//! The scenario file: a whole experiment as TOML (serde, unknown keys refused).

use std::path::Path;

use reachlab_agents::{Layer, PlantBpttConfig, PolicyConfig, TrainConfig};
use reachlab_envs::effector::Effector;
use reachlab_envs::reach::{
    EffectorVisitor, FieldSpec, Phase, PrematureConfig, Reach, ReachConfig, RewardConfig, TargetSet,
};
use serde::{Deserialize, Serialize};

use crate::error::{parse_error, Result, ScenarioError};
use crate::reaching::expert::ExpertCriterion;

/// A whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// One line, shown by `train_agent --list-scenarios`.
    #[serde(default)]
    pub description: String,
    /// Seed of the policy's initial weights, the rollouts and the evaluation trials.
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub env: ReachConfig,
    #[serde(default)]
    pub policy: PolicyConfig,
    /// The policy-gradient training (`[training]`; `[train]`, its name before, is read too).
    #[serde(default, rename = "training", alias = "train")]
    pub train: TrainConfig,
    /// Training through the plant, for stages with `method = "plant_bptt"`.
    #[serde(default)]
    pub plant_bptt: PlantBpttConfig,
    pub pretraining: StageSpec,
    /// The phases after pretraining, in order (`[[phase]]` tables).
    #[serde(rename = "phase")]
    pub phases: Vec<StageSpec>,
    #[serde(default)]
    pub evaluation: EvaluationConfig,
    /// Save a checkpoint every this many updates (and at every stage end); a resumed run restarts there.
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: usize,
    /// Run these phases for several arms and seeds and compare them (see [`crate::reaching::compare`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<CompareSpec>,
    /// The reduced run (`--quick`, [`Scenario::quick`]): kept with the scenario so that an arm's overrides
    /// are reduced as well (an arm that sets a larger network or more updates still runs quick).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quick: bool,
}

fn default_checkpoint_every() -> usize {
    10
}

/// One stage of training: the field and trial mix the env runs, and how long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    pub name: String,
    /// How the stage trains the policy: by policy gradient on the env's rewards (`train`), or by
    /// backpropagation through the point mass (`plant_bptt`, every trial type of the phase simulated).
    #[serde(default)]
    pub method: Method,
    #[serde(default = "null_field")]
    pub field: FieldSpec,
    /// Targets the field acts on (`"all"` or `{ only = [6] }`).
    #[serde(default)]
    pub field_targets: TargetSet,
    #[serde(default)]
    pub catch_prob: f64,
    #[serde(default)]
    pub channel_prob: f64,
    /// Show the field-strength input k (needs `env.observation.field_input = true`).
    #[serde(default)]
    pub show_field_input: bool,
    /// Updates to run (the maximum, with a stopping criterion).
    pub updates: usize,
    /// Learning rate of this stage's updates (default: its method's, `training.learning_rate` for a
    /// policy-gradient stage, `plant_bptt.learning_rate` for a stage trained through the plant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    /// A stage trained through the plant: its rate falls linearly to this fraction of its start over
    /// the stage's `updates` (1, the default: constant). Policy-gradient stages anneal through
    /// `training.lr_final_fraction` instead.
    #[serde(default = "one_f64")]
    pub lr_final_fraction: f64,
    /// Stop once the training success rate reaches this for `consecutive` updates in a row (0 = never).
    #[serde(default)]
    pub stop_at_success: f64,
    #[serde(default = "one")]
    pub consecutive: usize,
    /// Stop at a behavioural criterion, checked on the deterministic evaluation blocks (every
    /// `evaluation.every` updates) and met in `consecutive` blocks in a row; `updates` is the cap.
    #[serde(default, skip_serializing_if = "Until::is_never")]
    pub until: Until,
    /// The reward this stage's env pays instead of `env.reward` (a curriculum: a dense reward while
    /// pretraining, the task's sparse one after). A whole table: keys left out take the defaults of
    /// `env.reward`'s keys, not the scenario's values. Success is measured by the env's window either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<RewardConfig>,
    /// The premature-start rule of this stage instead of `env.premature` (whole table, as `reward`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premature: Option<PrematureConfig>,
    /// Layers of the actor this stage leaves unchanged (`["input", "output"]`: only the recurrent weights
    /// learn, as in savings studies that adapt through the plant with the input and output layers fixed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freeze: Vec<Layer>,
    /// Record hidden states and behaviour at the start and end of the stage (for analysis and figures).
    #[serde(default = "yes")]
    pub record: bool,
}

/// How a stage trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Policy gradient (`train.algorithm`) on the env's rewards.
    #[default]
    Rl,
    /// Backpropagation through the plant with effort and jerk costs (`plant_bptt`), as MotorNet trains.
    PlantBptt,
    /// Policy-gradient rollouts that fit the value function only; the policy does not change (a critic
    /// warm-up for a policy trained through the plant).
    Critic,
}

/// Centring of the TDR fit (see [`EvaluationConfig::tdr_centring`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TdrCentring {
    #[default]
    Pooled,
    FitOnly,
}

/// A behavioural stopping criterion of a stage, checked on its evaluation blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Until {
    /// Run every update.
    #[default]
    Never,
    /// The expert-baseline criterion (`evaluation.expert`) on every target.
    Expert,
    /// The trained target's MPD back inside the baseline band (mean ± 2 s.d. of the baseline stage's
    /// blocks, at least ± `evaluation.band_floor`): washout to a washed-out state.
    BaselineBand,
}

impl Until {
    fn is_never(&self) -> bool {
        *self == Until::Never
    }

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Until::Never => "never",
            Until::Expert => "expert",
            Until::BaselineBand => "baseline_band",
        }
    }
}

fn null_field() -> FieldSpec {
    FieldSpec::Null
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

fn one_f64() -> f64 {
    1.0
}

impl StageSpec {
    /// The env phase this stage runs.
    pub fn phase(&self) -> Phase {
        Phase {
            name: self.name.clone(),
            field: self.field.clone(),
            field_targets: self.field_targets.clone(),
            catch_prob: self.catch_prob,
            channel_prob: self.channel_prob,
            show_field_input: self.show_field_input,
            reward: self.reward,
            premature: self.premature,
        }
    }
}

fn is_learning(s: &str) -> bool {
    s == "learning"
}
fn is_washout(s: &str) -> bool {
    s == "washout"
}
fn is_relearning(s: &str) -> bool {
    s == "relearning"
}

/// Evaluation trials: deterministic policy, one env, targets and trial types forced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluationConfig {
    /// The target the learning field acts on (behaviour is reported for it separately).
    pub trained_target: usize,
    /// Normal trials per target in each recorded block (stage start and end).
    pub trials_per_target: usize,
    /// Force-channel trials per target in each recorded block (peak lateral force: the feedforward
    /// compensation).
    pub channel_trials_per_target: usize,
    /// Catch trials per target in each recorded block (field off: after-effects within a field stage).
    pub catch_trials_per_target: usize,
    /// Preparatory window for the analysis: this many steps ending at the go cue.
    pub prep_window_steps: usize,
    /// An evaluation block every this many updates inside a stage, besides its start and end (0 = only
    /// those); the learning curve of the deterministic policy (`evaluations.csv`) and the stages'
    /// behavioural stopping criteria use them.
    pub every: usize,
    /// The expert-baseline criterion (`until = "expert"`).
    pub expert: ExpertCriterion,
    /// The stage whose evaluation blocks define the baseline band of the trained target's MPD.
    pub baseline_stage: String,
    /// The protocol's other roles, by phase name: the stage in which the field is learned (onset jump,
    /// TDR after learning, generalisation, θ_LW), washed out (after-effect, θ_LW) and relearned
    /// (savings). Default: the phases named `learning`, `washout`, `relearning`; a scenario that names its
    /// phases otherwise says which is which here. Written out only when not the default.
    #[serde(skip_serializing_if = "is_learning")]
    pub learning_stage: String,
    #[serde(skip_serializing_if = "is_washout")]
    pub washout_stage: String,
    #[serde(skip_serializing_if = "is_relearning")]
    pub relearning_stage: String,
    /// How the condition averages are centred before the TDR regression: on the mean pooled over the
    /// baseline and late-learning averages (`pooled`, Sun et al.'s `runAnalyses.m`) or on the baseline's
    /// own (`fit_only`).
    pub tdr_centring: TdrCentring,
    /// Smallest half-width of the baseline band (m): a deterministic policy's block means can agree to a
    /// few micrometres, narrower than any washout could return to.
    pub band_floor: f64,
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        EvaluationConfig {
            trained_target: 6,
            trials_per_target: 4,
            channel_trials_per_target: 2,
            catch_trials_per_target: 0,
            prep_window_steps: 10,
            every: 5,
            expert: ExpertCriterion::default(),
            baseline_stage: "baseline".into(),
            learning_stage: "learning".into(),
            washout_stage: "washout".into(),
            relearning_stage: "relearning".into(),
            tdr_centring: TdrCentring::Pooled,
            band_floor: 0.0025,
        }
    }
}

impl Scenario {
    /// Parses a scenario; errors name `file`, the key and the line, with the nearest valid key.
    pub fn from_toml(text: &str, file: &Path) -> Result<Self> {
        let mut s: Scenario = toml::from_str(text).map_err(|e| parse_error(text, file, &e))?;
        // Files written before the cost moved to `env.cost` (run folders among them) keep their meaning.
        s.plant_bptt.take_legacy_cost(&mut s.env.cost);
        s.validate(file)?;
        Ok(s)
    }

    /// Reads and parses a scenario file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, e))?;
        Self::from_toml(&text, path)
    }

    /// The resolved TOML (every default written out).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scenario serialises to TOML")
    }

    /// Checks values the types cannot (ranges, targets, names).
    pub fn validate(&self, file: &Path) -> Result<()> {
        let bad = |key: String, reason: String| ScenarioError::Invalid {
            file: file.to_owned(),
            key,
            reason,
        };
        if self.phases.is_empty() {
            return Err(bad("phase".into(), "at least one [[phase]] is needed".into()));
        }
        let n = self.env.n_targets;
        let ev = &self.evaluation;
        if ev.trials_per_target == 0 {
            return Err(bad(
                "evaluation.trials_per_target".into(),
                "must be at least 1 (the evaluation blocks measure the normal trials)".into(),
            ));
        }
        // The expert criterion, whether a stage asks for it or not.
        ev.expert
            .validate()
            .map_err(|(key, reason)| bad(format!("evaluation.expert.{key}"), reason))?;
        if !(ev.band_floor.is_finite() && ev.band_floor >= 0.0) {
            return Err(bad(
                "evaluation.band_floor".into(),
                format!("{} must be finite and ≥ 0", ev.band_floor),
            ));
        }
        if self.evaluation.trained_target >= n {
            return Err(bad(
                "evaluation.trained_target".into(),
                format!(
                    "target {} does not exist (there are {n})",
                    self.evaluation.trained_target
                ),
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (i, st) in std::iter::once(&self.pretraining).chain(&self.phases).enumerate() {
            let key = if i == 0 {
                "pretraining".to_string()
            } else {
                format!("phase[{}]", i - 1)
            };
            if !names.insert(st.name.clone()) {
                return Err(bad(format!("{key}.name"), format!("`{}` is used twice", st.name)));
            }
            if !is_folder_name(&st.name) {
                return Err(bad(format!("{key}.name"), "use letters, digits, `_` or `-`".into()));
            }
            if st.name == crate::commit::LATEST || st.name.starts_with("commit-") {
                return Err(bad(
                    format!("{key}.name"),
                    format!("`{}` is reserved for the checkpoints a resume reads", st.name),
                ));
            }
            if st.updates == 0 {
                return Err(bad(format!("{key}.updates"), "must be at least 1".into()));
            }
            if !(st.stop_at_success.is_finite() && (0.0..=1.0).contains(&st.stop_at_success)) {
                return Err(bad(
                    format!("{key}.stop_at_success"),
                    format!("{} is not in [0, 1] (0 = off)", st.stop_at_success),
                ));
            }
            for (what, v) in [("catch_prob", st.catch_prob), ("channel_prob", st.channel_prob)] {
                if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                    return Err(bad(format!("{key}.{what}"), format!("{v} is not in [0, 1]")));
                }
            }
            if st.method == Method::Critic && !self.policy.separate_critic {
                return Err(bad(
                    format!("{key}.method"),
                    "`critic` needs policy.separate_critic = true: with a shared core the value loss would move the policy".into(),
                ));
            }
            if let Some(lr) = st.learning_rate {
                if !(lr.is_finite() && lr > 0.0) {
                    return Err(bad(
                        format!("{key}.learning_rate"),
                        format!("{lr} must be finite and > 0"),
                    ));
                }
            }
            if !(st.lr_final_fraction > 0.0 && st.lr_final_fraction <= 1.0) {
                return Err(bad(
                    format!("{key}.lr_final_fraction"),
                    format!("{} is not in (0, 1]", st.lr_final_fraction),
                ));
            }
            if st.lr_final_fraction != 1.0 && st.method != Method::PlantBptt {
                return Err(bad(
                    format!("{key}.lr_final_fraction"),
                    "anneals a plant_bptt stage only (a policy-gradient run anneals through training.lr_final_fraction)".into(),
                ));
            }
            if st.until != Until::Never && st.stop_at_success > 0.0 {
                return Err(bad(
                    format!("{key}.until"),
                    "use either `until` or `stop_at_success`, not both (they share `consecutive`)".into(),
                ));
            }
            if st.until != Until::Never && self.evaluation.every == 0 {
                return Err(bad(
                    format!("{key}.until"),
                    "a behavioural criterion needs evaluation blocks: set evaluation.every ≥ 1".into(),
                ));
            }
            if st.until == Until::BaselineBand && !self.phases.iter().any(|p| p.name == self.evaluation.baseline_stage)
            {
                return Err(bad(
                    format!("{key}.until"),
                    format!(
                        "the baseline band needs the stage evaluation.baseline_stage = `{}`",
                        self.evaluation.baseline_stage
                    ),
                ));
            }
            if st.show_field_input && !self.env.observation.field_input {
                return Err(bad(
                    format!("{key}.show_field_input"),
                    "needs env.observation.field_input = true".into(),
                ));
            }
            st.phase().validate(n).map_err(|e| bad(key.clone(), e.to_string()))?;
        }
        struct Build<'a>(&'a ReachConfig);
        impl EffectorVisitor for Build<'_> {
            type Output = reachlab_envs::Result<()>;
            fn visit<B: Effector>(self) -> Self::Output {
                Reach::<B>::new(self.0.clone()).map(|_| ())
            }
        }
        self.env
            .effector
            .visit(Build(&self.env))
            .map_err(|e| bad("env".into(), e.to_string()))?;
        self.policy
            .validate()
            .map_err(|e| bad("policy".into(), e.to_string()))?;
        self.train
            .validate_at("training")
            .map_err(|e| bad("training".into(), e.to_string()))?;
        self.plant_bptt
            .validate()
            .map_err(|e| bad("plant_bptt".into(), e.to_string()))?;
        if std::iter::once(&self.pretraining)
            .chain(&self.phases)
            .any(|st| st.method == Method::PlantBptt)
        {
            reachlab_agents::twin::check(&self.env).map_err(|e| bad("env.effector".into(), e.to_string()))?;
        }
        if self.checkpoint_every == 0 {
            return Err(bad("checkpoint_every".into(), "must be at least 1".into()));
        }
        if let Some(c) = &self.compare {
            if c.seeds.is_empty() {
                return Err(bad("compare.seeds".into(), "needs at least one seed".into()));
            }
            let mut distinct = c.seeds.clone();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() != c.seeds.len() {
                return Err(bad("compare.seeds".into(), "a seed is listed twice".into()));
            }
            let mut names = std::collections::HashSet::new();
            for (i, arm) in c.arm_list().iter().enumerate() {
                if !is_folder_name(&arm.name) || !names.insert(arm.name.clone()) {
                    return Err(bad(
                        format!("compare.arm[{i}].name"),
                        "must be unique and use letters, digits, `_` or `-`".into(),
                    ));
                }
                let mut probe = arm
                    .scenario(self, c.seeds[0])
                    .map_err(|(key, reason)| bad(format!("compare.arm[{i}].set: {key}"), reason))?;
                probe.compare = None;
                probe
                    .validate(file)
                    .map_err(|e| bad(format!("compare.arm[{i}]"), e.to_string()))?;
            }
        }
        crate::memory::check(file, &self.memory_needs(), crate::memory::available())
    }

    /// What the run's largest buffers take (see [`crate::memory`]).
    pub fn memory_needs(&self) -> Vec<crate::memory::Need> {
        use crate::memory::Need;
        let (steps, hidden) = (self.env.trial_steps as usize, self.policy.core.hidden);
        let critic = if self.policy.separate_critic { 2 } else { 1 };
        let e = &self.evaluation;
        let per_target = e.trials_per_target + e.channel_trials_per_target + e.catch_trials_per_target;
        let mut needs = vec![
            Need::rollout(
                self.train.episodes_per_update * critic,
                steps,
                hidden,
                "training.episodes_per_update × env.trial_steps × policy.core.hidden",
            ),
            Need::recording(
                self.env.n_targets * per_target,
                steps,
                hidden + self.env.obs_dim(),
                "env.n_targets × evaluation.trials_per_target × env.trial_steps × policy.core.hidden",
            ),
            Need::weights(hidden * critic, "policy.core.hidden"),
        ];
        if std::iter::once(&self.pretraining)
            .chain(&self.phases)
            .any(|st| st.method == Method::PlantBptt)
        {
            needs.push(Need::graph(
                self.plant_bptt.batch,
                steps,
                hidden,
                "plant_bptt.batch × env.trial_steps × policy.core.hidden",
            ));
        }
        needs
    }

    /// The reduced version `--quick` runs: small network and batches, a few updates per stage.
    pub fn quick(mut self) -> Self {
        self.quick = true;
        self.policy.core.hidden = self.policy.core.hidden.min(32);
        self.train.episodes_per_update = 16;
        self.train.minibatches = 2;
        self.train.epochs = 2;
        for st in std::iter::once(&mut self.pretraining).chain(self.phases.iter_mut()) {
            st.updates = st.updates.min(3);
        }
        self.evaluation.trials_per_target = 1;
        self.evaluation.channel_trials_per_target = 1;
        self.evaluation.every = self.evaluation.every.min(2);
        self.plant_bptt.batch = self.plant_bptt.batch.min(16);
        self.checkpoint_every = 2;
        if let Some(c) = &mut self.compare {
            c.seeds.truncate(2);
        }
        self
    }
}

/// Stage and arm names become file and folder names: non-empty, letters, digits, `_` or `-`.
pub(crate) fn is_folder_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The `[compare]` table of a scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareSpec {
    /// Seeds; every arm runs every seed (paired by seed in the tests).
    pub seeds: Vec<u64>,
    /// The arms (`[[compare.arm]]`); the first is the reference of the paired tests. None: one arm,
    /// `scenario`, that runs the scenario as it is (a multi-seed experiment).
    #[serde(rename = "arm", default, skip_serializing_if = "Vec::is_empty")]
    pub arms: Vec<Arm>,
}

impl CompareSpec {
    /// The arms, or the one arm that runs the scenario unchanged.
    pub fn arm_list(&self) -> Vec<Arm> {
        if self.arms.is_empty() {
            vec![Arm {
                name: "scenario".into(),
                pretraining_field: None,
                field_input: None,
                set: Vec::new(),
            }]
        } else {
            self.arms.clone()
        }
    }
}

/// One arm: how pretraining differs from the scenario's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    pub name: String,
    /// The field during pretraining (`{ kind = "null" }` for a naive agent, `{ kind = "random_curl",
    /// b_max = 15.0 }` for prior experience); absent: the scenario's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretraining_field: Option<FieldSpec>,
    /// Give the network the k input (and show k during pretraining); k = 0 in the test phases. Absent:
    /// the scenario's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_input: Option<bool>,
    /// Any other difference, as dotted-key overrides of the scenario (`set = ["policy.core.kind=lstm",
    /// "plant_bptt.learning_rate=1e-3"]`, as `--set` takes them; see [`crate::arms`]), applied after
    /// the two above. The seeds, the name and `compare` are shared by every arm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
}

/// What a reaching arm may not vary.
const SHARED: &[&str] = &["name", "description", "seed", "compare", "quick"];

impl Arm {
    /// The scenario this arm runs for one seed; `(key, reason)` when an override does not apply.
    pub fn scenario(&self, base: &Scenario, seed: u64) -> std::result::Result<Scenario, (String, String)> {
        let mut s = base.clone();
        s.compare = None;
        s.name = format!("{}-{}-seed{seed}", base.name, self.name);
        s.seed = seed;
        if let Some(f) = &self.pretraining_field {
            s.pretraining.field = f.clone();
        }
        if let Some(k) = self.field_input {
            s.env.observation.field_input = k;
            s.pretraining.show_field_input = k;
            for p in &mut s.phases {
                p.show_field_input = false;
            }
        }
        let s = crate::arms::apply(&s, &self.set, SHARED)?;
        Ok(if s.quick { s.quick() } else { s })
    }
}
