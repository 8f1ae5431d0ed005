//! Memory estimates, checked when a scenario is validated, before anything is allocated: a setting too
//! large for this machine is refused with the keys that make it large, instead of an abort in the
//! allocator hours later (`hidden = 100000` asked for 240 GB; `episodes_per_update = 1e9` aborted).
//!
//! The estimates are upper bounds of the buffers that grow with the settings (rollouts and their
//! backward pass, BPTT through the plant, recordings, weights with their Adam moments); a run needs less.

use std::path::Path;

use crate::error::{Result, ScenarioError};

const F32: f64 = 4.0;
/// Floats kept per episode, step and hidden unit by a rollout and its backward pass through the fused
/// kernels (hidden states, up to four gates, their gradients, the critic's copy), rounded up.
const ROLLOUT_FLOATS: f64 = 16.0;
/// The same for BPTT through the plant in candle's graph (every step's gate tensors stay alive).
const GRAPH_FLOATS: f64 = 40.0;
/// Copies of the recurrent weights in training: parameters, gradient, two Adam moments, four gates.
const WEIGHT_FLOATS: f64 = 16.0;

/// One buffer: its estimated size and the settings it grows with.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub bytes: f64,
    pub keys: String,
}

impl Need {
    pub fn rollout(episodes: usize, steps: usize, hidden: usize, keys: &str) -> Self {
        Need {
            bytes: episodes as f64 * steps as f64 * hidden as f64 * ROLLOUT_FLOATS * F32,
            keys: keys.into(),
        }
    }

    pub fn graph(batch: usize, steps: usize, hidden: usize, keys: &str) -> Self {
        Need {
            bytes: batch as f64 * steps as f64 * hidden as f64 * GRAPH_FLOATS * F32,
            keys: keys.into(),
        }
    }

    pub fn recording(trials: usize, steps: usize, hidden: usize, keys: &str) -> Self {
        Need {
            bytes: trials as f64 * steps as f64 * hidden as f64 * F32,
            keys: keys.into(),
        }
    }

    pub fn weights(hidden: usize, keys: &str) -> Self {
        Need {
            bytes: (hidden as f64).powi(2) * WEIGHT_FLOATS * F32,
            keys: keys.into(),
        }
    }
}

/// The memory the operating system can give this process now (Linux: `MemAvailable`), if known.
pub fn available() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Refuses `needs` whose sum exceeds `available` bytes, naming the largest buffer's settings.
pub fn check(file: &Path, needs: &[Need], available: Option<f64>) -> Result<()> {
    let Some(avail) = available else { return Ok(()) };
    let total: f64 = needs.iter().map(|n| n.bytes).sum();
    let Some(largest) = needs.iter().max_by(|a, b| a.bytes.total_cmp(&b.bytes)) else {
        return Ok(());
    };
    if total <= avail {
        return Ok(());
    }
    let gib = |b: f64| b / (1u64 << 30) as f64;
    Err(ScenarioError::Invalid {
        file: file.to_owned(),
        key: largest.keys.clone(),
        reason: format!(
            "this run would need about {:.3} GiB ({} alone: {:.3} GiB) and this machine has {:.1} GiB \
             available; make them smaller",
            gib(total),
            largest.keys,
            gib(largest.bytes),
            gib(avail)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_too_large_is_refused_with_its_keys_and_a_small_one_passes() {
        let file = Path::new("s.toml");
        let huge = [
            Need::rollout(
                65_536,
                100_000,
                8192,
                "training.episodes_per_update × env.trial_steps × policy.core.hidden",
            ),
            Need::weights(8192, "policy.core.hidden"),
        ];
        // 65536 · 1e5 · 8192 · 16 floats · 4 B = 3.4e18 B.
        assert!((huge[0].bytes - 65_536.0 * 1e5 * 8192.0 * 64.0).abs() < 1.0);
        let e = check(file, &huge, Some(64.0 * (1u64 << 30) as f64))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("training.episodes_per_update × env.trial_steps") && e.contains("64.0 GiB"),
            "{e}"
        );
        let small = [
            Need::rollout(64, 180, 128, "x"),
            Need::weights(128, "policy.core.hidden"),
        ];
        // 64 · 180 · 128 · 64 B = 94 MB.
        assert!(check(file, &small, Some(1e9)).is_ok());
        assert!(check(file, &small, Some(1e7)).is_err());
        assert!(check(file, &huge, None).is_ok(), "no check where the memory is unknown");
    }
}
