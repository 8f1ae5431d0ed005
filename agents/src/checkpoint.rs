//! Checkpoints: the weights as `weights.safetensors` (PyTorch names, f32; `safetensors.numpy.load_file`
//! reads it) and everything else as `checkpoint.json` (policy config, spaces, trainer state).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};
use crate::policy::{ActionMap, HeadKind, Policy, PolicyConfig};
use reachlab_envs::Env;

use crate::rollout::EpisodeOutcome;
use crate::train::{Trainer, TrainerState};

/// The JSON half of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointMeta {
    pub format: u32,
    pub policy: PolicyConfig,
    pub obs_dim: usize,
    pub head: HeadKind,
    /// Env action = offset + scale·(head sample), per component.
    pub action_map: ActionMap,
    pub trainer: TrainerState,
}

const FORMAT: u32 = 1;

/// Writes `dir/weights.safetensors` and `dir/checkpoint.json` (creating `dir`).
pub fn save_checkpoint(dir: &Path, policy: &Policy, trainer: TrainerState) -> Result<()> {
    let err = |e: std::io::Error| AgentError::Checkpoint {
        path: dir.to_owned(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    policy.params().save(&dir.join("weights.safetensors"))?;
    let meta = CheckpointMeta {
        format: FORMAT,
        policy: policy.config().clone(),
        obs_dim: policy.obs_dim(),
        head: policy.head_kind(),
        action_map: policy.action_map().clone(),
        trainer,
    };
    let json = serde_json::to_string_pretty(&meta).expect("checkpoint metadata serialises");
    // Write then rename, so a killed run never leaves half a file.
    let tmp = dir.join("checkpoint.json.tmp");
    std::fs::write(&tmp, json).map_err(err)?;
    std::fs::rename(&tmp, dir.join("checkpoint.json")).map_err(err)
}

/// Rebuilds the policy a checkpoint describes and loads its weights; returns the trainer state too.
pub fn load_checkpoint(dir: &Path) -> Result<(Policy, TrainerState)> {
    let path = dir.join("checkpoint.json");
    let text = std::fs::read_to_string(&path).map_err(|e| AgentError::Checkpoint {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let meta: CheckpointMeta = serde_json::from_str(&text).map_err(|e| AgentError::Checkpoint {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if meta.format != FORMAT {
        return Err(AgentError::Checkpoint {
            path,
            reason: format!("format {} (this build reads {FORMAT})", meta.format),
        });
    }
    let mut policy = Policy::new(&meta.policy, meta.obs_dim, meta.head)?;
    policy.params_mut().load(&dir.join("weights.safetensors"))?;
    policy.set_action_map(meta.action_map)?;
    Ok((policy, meta.trainer))
}

/// Saves everything a [`Trainer`] needs to continue exactly: the checkpoint of its policy and state, plus
/// `optimizer.safetensors` (Adam's moments and step count).
pub fn save_trainer<E>(dir: &Path, trainer: &Trainer<E>) -> Result<()>
where
    E: Env,
    E::Info: EpisodeOutcome,
{
    save_checkpoint(dir, trainer.policy(), trainer.state())?;
    let path = dir.join("optimizer.safetensors");
    candle_core::safetensors::save(&trainer.optimizer().state()?, &path).map_err(|e| AgentError::Checkpoint {
        path,
        reason: e.to_string(),
    })
}

/// Restores a trainer (built with the same configuration) from [`save_trainer`]'s files.
pub fn restore_trainer<E>(dir: &Path, trainer: &mut Trainer<E>) -> Result<()>
where
    E: Env,
    E::Info: EpisodeOutcome,
{
    let (policy, state) = load_checkpoint(dir)?;
    if policy.config() != trainer.policy().config() {
        return Err(AgentError::Checkpoint {
            path: dir.to_owned(),
            reason: "the checkpoint's policy configuration differs from this run's".into(),
        });
    }
    trainer
        .policy_mut()
        .params_mut()
        .load(&dir.join("weights.safetensors"))?;
    trainer.set_state(state);
    let path = dir.join("optimizer.safetensors");
    let map = candle_core::safetensors::load(&path, &candle_core::Device::Cpu).map_err(|e| AgentError::Checkpoint {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    trainer.optimizer_mut().load_state(&map)
}
