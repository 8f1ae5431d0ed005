//! Recurrent policies and their training by policy gradient.
//!
//! - `kernels`: the fused whole-sequence recurrent kernels (vanilla, GRU, LSTM), forward and BPTT
//!   backward, as a candle `CustomOp3`, and the same cell steps for acting without a graph.
//! - `core`: recurrent cores (vanilla, GRU, LSTM, locality-masked sparse, diagonal autapse) with their
//!   parameters in candle.
//! - `policy`: the actor-critic (Gaussian or categorical head, value head, shared or separate critic)
//!   and its graph-free [`PolicySnapshot`] for acting.
//! - `rollout`: whole-episode collection on worker threads, bit-identical for any thread count.
//! - `train`: PPO, A2C and REINFORCE with GAE, whole-episode BPTT and regularisers.
//! - `supervised`: BPTT on tasks with a ground-truth output.
//! - `plant`: reaching policies trained by backpropagation through the plant (MotorNet's way), on the
//!   env's own per-step cost.
//! - [`twin`]: the effectors' differentiable twins that `plant` steps (the point mass's exact affine map,
//!   arm26's step run on tensors), built from the env's own definitions.
//! - [`agreement`]: the pathwise and likelihood-ratio gradients of that shared objective, side by side.
//! - `agent`: the [`Agent`] trait shared by trained policies and hand-written controllers, and
//!   [`evaluate`].
//! - `checkpoint`: safetensors weights + JSON metadata (+ optimiser state for resuming).
//! - `optim`: Adam with a step count per variable (PyTorch's) and a checkpointable state.
//! - [`tune_allocator`] and [`fix_kernel_threads`]: process settings that training binaries call once.

mod agent;
pub mod agreement;
mod alloc;
mod checkpoint;
mod core;
mod distributions;
mod error;
mod gae;
mod kernels;
mod optim;
mod params;
mod plant;
mod policy;
mod rollout;
mod supervised;
mod threads;
mod train;
pub mod twin;

pub use agent::{evaluate, Agent, Episode, PolicyAgent};
pub use alloc::tune_allocator;
pub use checkpoint::{load_checkpoint, restore_trainer, save_checkpoint, save_trainer, CheckpointMeta};
pub use core::{locality_mask, CoreConfig, CoreKind, CoreStepper, RecurrentCore};
pub use distributions::{categorical_entropy, categorical_log_prob, gaussian_entropy, gaussian_kl, gaussian_log_prob};
pub use error::{AgentError, Result};
pub use gae::{gae, RunningMeanStd};
pub use kernels::{Activation, CellKind, FusedRnn};
pub use optim::{clip_grad_norm, Adam};
pub use params::Params;
pub use plant::{
    closed_loop, drop_frozen, plant_bptt_step, plant_rollout, PlantBpttConfig, PlantBpttStats, PlantRollout,
};
pub use policy::{
    ActOut, ActState, ActionMap, HeadKind, Layer, Policy, PolicyConfig, PolicyOutput, PolicySnapshot, PolicyStepper,
};
pub use rollout::{EpisodeOutcome, Rollout, RolloutConfig, RolloutWorkers};
pub use supervised::{OutputActivation, Prediction, SupervisedBatch, SupervisedConfig, SupervisedTrainer};
pub use threads::{default_kernel_threads, fix_kernel_threads};
pub use train::{Algorithm, RegularizerConfig, TrainConfig, Trainer, TrainerState, UpdateStats};
pub use twin::{curl_maps, law_maps, PlantModel};
