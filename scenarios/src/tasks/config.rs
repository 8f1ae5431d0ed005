//! The cognitive-task scenario file: a battery, a network, supervised training, evaluation and the
//! analysis, with optional arms (network variants) × seeds compared in one table.

use std::path::Path;

use reachlab_agents::OutputActivation;
use reachlab_agents::{CoreConfig, PolicyConfig};
use reachlab_envs::cognitive::{ContextIntegration, Conventions, FlipFlop, SineWave, Task, TaskSet, TrialBatch};
use reachlab_envs::seeding::derive_seed;
use serde::{Deserialize, Serialize};

use crate::error::{parse_error, Result, ScenarioError};
use crate::reaching::config::is_folder_name;

/// A cognitive-task experiment (a scenario file with a `[tasks]` table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskScenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Seed of the initial weights, the training batches and the recurrent noise.
    #[serde(default)]
    pub seed: u64,
    pub tasks: TasksSpec,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub training: TaskTraining,
    #[serde(default)]
    pub analysis: TaskAnalysis,
    /// Network variants trained side by side on the same tasks (`[[arm]]`); none = one network.
    #[serde(default, rename = "arm", skip_serializing_if = "Vec::is_empty")]
    pub arms: Vec<Arm>,
    /// Seeds each arm runs with (default: the scenario's seed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<u64>,
    /// The reduced run (`--quick`, [`TaskScenario::quick`]): kept with the scenario so that an arm's
    /// overrides are reduced as well (an arm that sets a larger network or more steps still runs quick).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quick: bool,
}

/// Which tasks, how they are weighted, and their conventions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TasksSpec {
    /// Task names (`delaygo`, `dm1_seqr`, `flipflop`, …) and batteries (`yang20`, `modcog`, …).
    pub names: Vec<String>,
    /// Sampling weights, one per task after batteries are expanded (default: equal).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<f64>,
    #[serde(default)]
    pub conventions: Conventions,
    /// Parameters of the classic tasks, when they are used.
    #[serde(default)]
    pub flipflop: FlipFlop,
    #[serde(default)]
    pub context_integration: ContextIntegration,
    #[serde(default)]
    pub sine_wave: SineWave,
}

/// How the network is trained on the tasks: by supervised BPTT on their targets (Yang et al.'s weighted
/// squared error, the default) or by a policy gradient on the tasks as a decision env (`method`). The
/// keys below `method` are shared: `updates` and `learning_rate` mean the same for both, `batch_size`
/// is trials per gradient step (supervised) or episodes per update (policy gradient).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaskTraining {
    /// `supervised` (BPTT on targets), or `ppo`, `a2c`, `reinforce` (a recurrent policy acting in
    /// [`DecisionEnv`](reachlab_envs::cognitive::DecisionEnv): fixate or choose a ring direction,
    /// rewarded by its rules).
    pub method: TaskMethod,
    /// The policy-gradient settings (`[training.policy_gradient]`), read when `method` is not
    /// `supervised`.
    pub policy_gradient: PolicyGradient,
    /// Gradient steps at most.
    pub updates: usize,
    /// Trials per step.
    pub batch_size: usize,
    /// `one_task`: each batch holds trials of one task drawn by weight (Yang et al.'s scheme; shorter
    /// padding); `mixed`: each trial draws its own task.
    pub batches: BatchMode,
    pub learning_rate: f64,
    pub max_grad_norm: f64,
    pub activity_l2: f64,
    pub weight_l2: f64,
    /// `sigmoid` for the Yang tasks (targets 0.05–0.85), `linear` for the classic ones (±1 targets).
    pub output: OutputActivation,
    /// Evaluate (and checkpoint) every this many steps.
    pub eval_every: usize,
    /// Evaluation trials per task (a fixed set, the same at every evaluation).
    pub eval_trials_per_task: usize,
    /// Performance that counts as learned: steps-to-criterion is the first evaluation where the *minimum*
    /// over tasks reaches it (for one task, its performance).
    pub criterion: f64,
    /// A second, gentler measure of learning speed: the first evaluated step at which the *mean* over
    /// tasks reaches this (reported beside steps-to-criterion; it exists even when one hard task keeps
    /// the minimum below the criterion).
    pub mean_criterion: f64,
    /// Stop once the criterion is reached (after `extra_evals_after_criterion` more evaluations).
    pub stop_at_criterion: bool,
    pub extra_evals_after_criterion: usize,
}

impl Default for TaskTraining {
    fn default() -> Self {
        TaskTraining {
            method: TaskMethod::Supervised,
            policy_gradient: PolicyGradient::default(),
            updates: 2000,
            batch_size: 64,
            batches: BatchMode::OneTask,
            learning_rate: 1e-3,
            max_grad_norm: 1.0,
            activity_l2: 0.0,
            weight_l2: 0.0,
            output: OutputActivation::Linear,
            eval_every: 50,
            eval_trials_per_task: 64,
            criterion: 0.9,
            mean_criterion: 0.8,
            stop_at_criterion: false,
            extra_evals_after_criterion: 0,
        }
    }
}

/// The training method of a task scenario.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskMethod {
    #[default]
    Supervised,
    Ppo,
    A2c,
    Reinforce,
}

impl TaskMethod {
    /// The policy-gradient algorithm, or `None` for supervised training.
    pub fn algorithm(self) -> Option<reachlab_agents::Algorithm> {
        use reachlab_agents::Algorithm;
        match self {
            TaskMethod::Supervised => None,
            TaskMethod::Ppo => Some(Algorithm::Ppo),
            TaskMethod::A2c => Some(Algorithm::A2c),
            TaskMethod::Reinforce => Some(Algorithm::Reinforce),
        }
    }
}

/// Policy-gradient training on the tasks as a [`DecisionEnv`](reachlab_envs::cognitive::DecisionEnv)
/// (ring tasks: action 0 fixates, action k chooses direction `2π(k−1)/n_ring`). Learning rate, updates,
/// gradient clip, activity and weight penalties come from `[training]`; these are the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyGradient {
    pub gamma: f64,
    pub gae_lambda: f64,
    /// PPO: passes over each rollout, and minibatches per pass.
    pub epochs: usize,
    pub minibatches: usize,
    /// PPO ratio clip ε.
    pub clip: f64,
    pub value_coef: f64,
    pub entropy_coef: f64,
    /// Episodes per rollout block (fixes the work split: results depend on it, not on the threads).
    pub envs_per_block: usize,
    /// Steps after which an episode is cut (a trial ends itself before, with a choice or its end).
    pub max_steps: usize,
    /// Rewards and rules of the decision env (default: Mod-Cog's).
    pub rewards: reachlab_envs::cognitive::DecisionRewards,
    /// The learning rate falls linearly to this fraction of `training.learning_rate` over
    /// `training.updates` (1: constant, the default).
    pub lr_final_fraction: f64,
}

impl Default for PolicyGradient {
    fn default() -> Self {
        let t = reachlab_agents::TrainConfig::default();
        PolicyGradient {
            gamma: t.gamma,
            gae_lambda: t.gae_lambda,
            epochs: t.epochs,
            minibatches: t.minibatches,
            clip: t.clip,
            value_coef: t.value_coef,
            entropy_coef: t.entropy_coef,
            envs_per_block: t.envs_per_block,
            max_steps: 500,
            rewards: Default::default(),
            lr_final_fraction: 1.0,
        }
    }
}

impl TaskTraining {
    /// The agents crate's training configuration for a policy-gradient run of the unit with `seed`.
    pub fn train_config(&self, seed: u64) -> reachlab_agents::TrainConfig {
        use reachlab_agents::{Algorithm, RegularizerConfig, RolloutConfig, TrainConfig};
        let pg = &self.policy_gradient;
        TrainConfig {
            algorithm: self.method.algorithm().unwrap_or(Algorithm::Ppo),
            episodes_per_update: self.batch_size,
            envs_per_block: pg.envs_per_block,
            // Every rollout thread gives the same numbers (the work split is fixed by `envs_per_block`).
            threads: 0,
            rollout: RolloutConfig {
                max_steps: pg.max_steps,
                ..RolloutConfig::default()
            },
            gamma: pg.gamma,
            gae_lambda: pg.gae_lambda,
            epochs: pg.epochs,
            minibatches: pg.minibatches,
            clip: pg.clip,
            value_coef: pg.value_coef,
            entropy_coef: pg.entropy_coef,
            max_grad_norm: self.max_grad_norm,
            learning_rate: self.learning_rate,
            lr_final_fraction: pg.lr_final_fraction,
            anneal_updates: if pg.lr_final_fraction == 1.0 { 0 } else { self.updates },
            regularizers: RegularizerConfig {
                activity_l2: self.activity_l2,
                weight_l2: self.weight_l2,
                ..RegularizerConfig::default()
            },
            seed: derive_seed(seed, 4),
            ..TrainConfig::default()
        }
    }
}

/// How the tasks of a training batch are drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchMode {
    #[default]
    OneTask,
    Mixed,
}

/// The analysis after training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaskAnalysis {
    /// Find the fixed points of the trained network under zero input, started from hidden states of the
    /// evaluation trials (the flip-flop's 8 stable memories).
    pub fixed_points: bool,
    /// Starts for the fixed-point search.
    pub fixed_point_starts: usize,
    /// The input held during the search: `zero` (the flip-flop's memories), or `fixation` (one search
    /// per task under the input of its fixation epoch: fixation and rule units on, no stimulus, as
    /// Yang et al. analyse their networks), started from that task's evaluation states.
    pub fixed_point_input: FixedPointInput,
    /// The search's settings (Adam's rate and iterations, the tolerances of a fixed and a slow point, …;
    /// `reachlab_analysis::FixedPointConfig`, its defaults unless set).
    pub fixed_point_search: reachlab_analysis::FixedPointConfig,
}

/// The input held constant during a task network's fixed-point search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixedPointInput {
    #[default]
    Zero,
    Fixation,
}

impl Default for TaskAnalysis {
    fn default() -> Self {
        TaskAnalysis {
            fixed_points: false,
            fixed_point_starts: 256,
            fixed_point_input: FixedPointInput::Zero,
            fixed_point_search: reachlab_analysis::FixedPointConfig::default(),
        }
    }
}

/// One variant: its name, optionally the core settings that replace `policy.core`, and any dotted-key
/// overrides of the scenario (`set = ["training.learning_rate=1e-3", "policy.core.kind=lstm"]`, as
/// `--set` takes them; see [`crate::arms`]). The tasks, seeds and names are shared by every arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core: Option<CoreConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
}

/// What a task arm may not vary: what the arms are compared on.
const SHARED: &[&str] = &["name", "description", "seed", "seeds", "arm", "tasks", "quick"];

impl Arm {
    /// The scenario this arm's units run: `base` with its core and overrides (no arms, no seeds).
    pub fn scenario(&self, base: &TaskScenario) -> std::result::Result<TaskScenario, (String, String)> {
        let mut s = base.clone();
        s.arms.clear();
        s.seeds.clear();
        if let Some(core) = &self.core {
            s.policy.core = core.clone();
        }
        let s = crate::arms::apply(&s, &self.set, SHARED)?;
        Ok(if s.quick { s.quick() } else { s })
    }
}

impl TasksSpec {
    /// The tasks as a decision env with `pg`'s rewards (refused unless every task is a ring task).
    pub fn decision_env(&self, pg: &PolicyGradient) -> reachlab_envs::Result<reachlab_envs::cognitive::DecisionEnv> {
        reachlab_envs::cognitive::DecisionEnv::new(self.task_set()?, pg.rewards)
    }

    /// The task set this spec names.
    pub fn task_set(&self) -> reachlab_envs::Result<TaskSet> {
        let named = TaskSet::from_names(&self.names, self.conventions)?;
        let tasks: Vec<Task> = named
            .tasks()
            .iter()
            .map(|t| match t {
                Task::FlipFlop(_) => Task::FlipFlop(self.flipflop.clone()),
                Task::ContextIntegration(_) => Task::ContextIntegration(self.context_integration.clone()),
                Task::SineWave(_) => Task::SineWave(self.sine_wave.clone()),
                other => other.clone(),
            })
            .collect();
        if self.weights.is_empty() {
            TaskSet::new(tasks, self.conventions)
        } else {
            TaskSet::weighted(tasks, &self.weights, self.conventions)
        }
    }
}

impl TaskScenario {
    /// Parses a task scenario; errors name `file`, the key and the line.
    pub fn from_toml(text: &str, file: &Path) -> Result<Self> {
        let s: TaskScenario = toml::from_str(text).map_err(|e| parse_error(text, file, &e))?;
        s.validate(file)?;
        Ok(s)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, e))?;
        Self::from_toml(&text, path)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a task scenario serialises to TOML")
    }

    /// The arms to run: the `[[arm]]`s, or the scenario's own network as the arm `main`.
    pub fn arm_list(&self) -> Vec<Arm> {
        if self.arms.is_empty() {
            vec![Arm {
                name: "main".into(),
                core: None,
                set: Vec::new(),
            }]
        } else {
            self.arms.clone()
        }
    }

    /// The seeds to run.
    pub fn seed_list(&self) -> Vec<u64> {
        if self.seeds.is_empty() {
            vec![self.seed]
        } else {
            self.seeds.clone()
        }
    }

    /// True when the run has several (arm, seed) units, each in its own folder.
    pub fn is_comparison(&self) -> bool {
        self.arm_list().len() * self.seed_list().len() > 1
    }

    pub fn validate(&self, file: &Path) -> Result<()> {
        let bad = |key: &str, reason: String| ScenarioError::Invalid {
            file: file.to_owned(),
            key: key.to_string(),
            reason,
        };
        self.tasks.task_set().map_err(|e| bad("tasks", e.to_string()))?;
        // Every task table, whether its task is trained or not (each error names its key).
        let classic = [
            self.tasks.flipflop.validate(),
            self.tasks.context_integration.validate(),
            self.tasks.sine_wave.validate(),
        ];
        for r in classic {
            r.map_err(|e| bad("tasks", e.to_string()))?;
        }
        let t = &self.training;
        if t.updates == 0 || t.batch_size == 0 || t.eval_every == 0 || t.eval_trials_per_task == 0 {
            return Err(bad(
                "training",
                "updates, batch_size, eval_every and eval_trials_per_task must be at least 1".into(),
            ));
        }
        if !(t.learning_rate > 0.0 && t.learning_rate.is_finite()) {
            return Err(bad("training.learning_rate", "must be finite and > 0".into()));
        }
        if !(0.0..=1.0).contains(&t.criterion) {
            return Err(bad("training.criterion", "must be in [0, 1]".into()));
        }
        if !(0.0..=1.0).contains(&t.mean_criterion) {
            return Err(bad("training.mean_criterion", "must be in [0, 1]".into()));
        }
        if !(t.max_grad_norm >= 0.0 && t.max_grad_norm.is_finite()) {
            return Err(bad(
                "training.max_grad_norm",
                "must be finite and >= 0 (0 = off)".into(),
            ));
        }
        for (key, v) in [
            ("training.activity_l2", t.activity_l2),
            ("training.weight_l2", t.weight_l2),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(bad(key, "must be finite and >= 0".into()));
            }
        }
        // The policy-gradient settings are checked whatever the method (a table is valid or refused
        // whether it is used or not); the trainer checks its own, its errors name the key.
        t.train_config(0)
            .validate_at("training.policy_gradient")
            .map_err(|e| bad("training.policy_gradient", e.to_string()))?;
        if t.policy_gradient.max_steps == 0 {
            return Err(bad("training.policy_gradient.max_steps", "must be at least 1".into()));
        }
        t.policy_gradient
            .rewards
            .validate()
            .map_err(|e| bad("training.policy_gradient", e.to_string()))?;
        if t.method.algorithm().is_some() {
            // Only ring tasks have a decision env; the error names the task.
            self.tasks
                .decision_env(&t.policy_gradient)
                .map_err(|e| bad("tasks.names", e.to_string()))?;
        }
        self.policy.validate().map_err(|e| bad("policy", e.to_string()))?;
        self.analysis
            .fixed_point_search
            .check()
            .map_err(|(key, why)| bad(&format!("analysis.fixed_point_search.{key}"), why))?;
        let mut names = std::collections::HashSet::new();
        for (i, arm) in self.arm_list().iter().enumerate() {
            if !is_folder_name(&arm.name) || !names.insert(arm.name.clone()) {
                return Err(bad(
                    &format!("arm[{i}].name"),
                    "must be unique and use letters, digits, `_` or `-`".into(),
                ));
            }
            if self.arms.is_empty() {
                continue;
            }
            if let Some(core) = &arm.core {
                core.validate()
                    .map_err(|e| bad(&format!("arm[{i}].core"), e.to_string()))?;
            }
            // The arm's whole scenario, checked as a scenario of its own.
            let own = arm
                .scenario(self)
                .map_err(|(key, reason)| bad(&format!("arm[{i}].set: {key}"), reason))?;
            own.validate(file)
                .map_err(|e| bad(&format!("arm[{i}]"), e.to_string()))?;
        }
        crate::memory::check(file, &self.memory_needs()?, crate::memory::available())
    }

    /// What the run's largest buffers take (see [`crate::memory`]), with the longest trial of one drawn
    /// per task.
    pub fn memory_needs(&self) -> Result<Vec<crate::memory::Need>> {
        use crate::memory::Need;
        let set = self.tasks.task_set()?;
        let mut rng = reachlab_envs::seeding::rng_from_seed(self.seed);
        let steps = (0..set.tasks().len())
            .map(|i| set.trial_of(i, &mut rng).steps)
            .max()
            .unwrap_or(1);
        let hidden = self
            .arm_list()
            .iter()
            .map(|a| a.core.as_ref().map_or(self.policy.core.hidden, |c| c.hidden))
            .max()
            .unwrap_or(0);
        let t = &self.training;
        Ok(vec![
            Need::rollout(
                t.batch_size,
                steps,
                hidden,
                "training.batch_size × trial steps × policy.core.hidden",
            ),
            Need::recording(
                t.eval_trials_per_task * set.tasks().len(),
                steps,
                hidden,
                "training.eval_trials_per_task × tasks × trial steps × policy.core.hidden",
            ),
            Need::weights(hidden, "policy.core.hidden"),
        ])
    }

    /// The reduced version `--quick` runs: a small network, a few steps.
    pub fn quick(mut self) -> Self {
        self.quick = true;
        let shrink = |c: &mut CoreConfig| c.hidden = c.hidden.min(32);
        shrink(&mut self.policy.core);
        self.arms.iter_mut().filter_map(|a| a.core.as_mut()).for_each(shrink);
        self.training.updates = self.training.updates.min(6);
        self.training.eval_every = 3;
        self.training.batch_size = self.training.batch_size.min(16);
        self.training.eval_trials_per_task = self.training.eval_trials_per_task.min(8);
        self.analysis.fixed_point_starts = self.analysis.fixed_point_starts.min(16);
        self.seeds.truncate(1);
        self.arms.truncate(2);
        self
    }
}

/// The fixed evaluation trials of task `k`: the same for every arm and seed, so arms are compared on the
/// same trials.
pub fn eval_batch(set: &TaskSet, k: usize, trials: usize) -> Result<TrialBatch> {
    Ok(set.batch_of(k, trials, derive_seed(0xE7A1, k as u64))?)
}
