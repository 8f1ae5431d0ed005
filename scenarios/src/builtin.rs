//! The scenarios that ship with reachlab (files in `scenarios/builtin/`, compiled in).

use std::path::Path;

use crate::error::{nearest, Result, ScenarioError};
use crate::reaching::config::Scenario;
use crate::tasks::TaskScenario;

/// (name, TOML text) of every built-in scenario.
pub const BUILTIN: &[(&str, &str)] = &[
    ("curl_field", include_str!("../builtin/curl_field.toml")),
    ("curl_field_compare", include_str!("../builtin/curl_field_compare.toml")),
    ("curl_field_paper", include_str!("../builtin/curl_field_paper.toml")),
    ("curl_field_plant", include_str!("../builtin/curl_field_plant.toml")),
    ("curl_field_arm26", include_str!("../builtin/curl_field_arm26.toml")),
    ("flipflop", include_str!("../builtin/flipflop.toml")),
    ("yang20", include_str!("../builtin/yang20.toml")),
    ("modcog", include_str!("../builtin/modcog.toml")),
    ("lmrnn_sparsity", include_str!("../builtin/lmrnn_sparsity.toml")),
    ("decision_ppo", include_str!("../builtin/decision_ppo.toml")),
];

/// A scenario of either kind: reaching (phases of a force field) or cognitive tasks (a `[tasks]` table).
#[derive(Debug, Clone, PartialEq)]
pub enum AnyScenario {
    Reaching(Box<Scenario>),
    Tasks(Box<TaskScenario>),
}

impl AnyScenario {
    /// Parses either kind: a file with a top-level `[tasks]` table is a task scenario.
    pub fn from_toml(text: &str, file: &Path) -> Result<Self> {
        let is_tasks = text.parse::<toml::Table>().is_ok_and(|t| t.contains_key("tasks"));
        if is_tasks {
            Ok(AnyScenario::Tasks(Box::new(TaskScenario::from_toml(text, file)?)))
        } else {
            Ok(AnyScenario::Reaching(Box::new(Scenario::from_toml(text, file)?)))
        }
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, e))?;
        Self::from_toml(&text, path)
    }

    pub fn name(&self) -> &str {
        self.experiment().name()
    }

    pub fn description(&self) -> &str {
        match self {
            AnyScenario::Reaching(s) => &s.description,
            AnyScenario::Tasks(s) => &s.description,
        }
    }

    pub fn to_toml(&self) -> String {
        self.experiment().to_toml()
    }

    /// The scenario as `train_agent --print-scenario` prints it: every key that has an effect, with its
    /// value, and none that the runner sets itself (the seeds it derives from `seed`, the rollout length
    /// and recording it takes from the env) or that the chosen core ignores (the vanilla family's
    /// activation, α, σ_rec and gain on a GRU or LSTM; the sparse core's density on the others). It
    /// parses back to the same scenario.
    pub fn to_toml_printed(&self) -> String {
        let mut t: toml::Table = toml::from_str(&self.to_toml()).expect("a scenario's TOML parses");
        let remove = |t: &mut toml::Table, path: &[&str]| {
            let (last, parents) = path.split_last().expect("a key");
            let mut cur = Some(t);
            for p in parents {
                cur = cur.and_then(|c| c.get_mut(*p)).and_then(toml::Value::as_table_mut);
            }
            if let Some(c) = cur {
                c.remove(*last);
            }
        };
        remove(&mut t, &["policy", "init_seed"]);
        if let AnyScenario::Reaching(_) = self {
            for path in [
                &["training", "seed"][..],
                &["training", "rollout", "max_steps"],
                &["training", "rollout", "record_infos"],
            ] {
                remove(&mut t, path);
            }
        }
        let kind = t
            .get("policy")
            .and_then(|p| p.get("core"))
            .and_then(|c| c.get("kind"))
            .and_then(toml::Value::as_str)
            .unwrap_or("gru")
            .to_string();
        let unused: &[&str] = match kind.as_str() {
            "gru" | "lstm" => &["activation", "alpha", "sigma_rec", "gain", "density"],
            "sparse" => &[],
            _ => &["density"],
        };
        for key in unused {
            remove(&mut t, &["policy", "core", key]);
        }
        with_units(&toml::to_string(&t).expect("a TOML table serialises"))
    }
}

/// The physical unit of a key, by its table (`[[phase]]` and `[phase.field]` count as `phase` and
/// `phase.field`), as the fields' documentation gives it.
const UNITS: &[(&str, &str, &str)] = &[
    ("env", "radius", "m"),
    ("env", "dt", "s"),
    ("env", "trial_steps", "steps of dt"),
    ("env", "movement_time", "s"),
    ("env.cue_time", "s", "s"),
    ("env.cue_time", "lo", "s"),
    ("env.cue_time", "hi", "s"),
    ("env.delay", "s", "s"),
    ("env.delay", "lo", "s"),
    ("env.delay", "hi", "s"),
    ("env.effector", "mass", "kg"),
    ("env.reward", "success_radius", "m"),
    ("env.reward", "hold_time", "s"),
    ("env.premature", "radius", "m"),
    ("env.observation", "position_scale", "1/m"),
    ("env.observation", "velocity_scale", "s/m"),
    ("env.observation", "field_input_scale", "k per N·s/m of b"),
    ("env.channel", "stiffness", "N/m"),
    ("env.channel", "damping", "N·s/m"),
    ("env.cost", "move_time", "s after the go cue"),
    ("evaluation", "band_floor", "m"),
    ("pretraining.field", "b", "N·s/m"),
    ("pretraining.field", "b_max", "N·s/m"),
    ("phase.field", "b", "N·s/m"),
    ("phase.field", "b_max", "N·s/m"),
];

/// `text` (TOML) with the unit of each key that has one as a comment at the end of its line.
fn with_units(text: &str) -> String {
    let mut table = String::new();
    let mut out = String::with_capacity(text.len() + 512);
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            table = t.trim_matches(|c| c == '[' || c == ']').to_string();
        } else if let Some((key, _)) = t.split_once(" = ") {
            if let Some((_, _, unit)) = UNITS.iter().find(|(tb, k, _)| *tb == table && *k == key) {
                out.push_str(line);
                out.push_str(&format!("  # {unit}\n"));
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// As [`resolve_any`], with `--set key=value` overrides (see [`crate::overrides`]) applied.
pub fn resolve_any_with(name_or_path: &str, sets: &[String]) -> Result<AnyScenario> {
    let s = resolve_any(name_or_path)?;
    if sets.is_empty() {
        return Ok(s);
    }
    let file = match text(name_or_path) {
        Some(_) => format!("<built-in {name_or_path}> with --set"),
        None => format!("{name_or_path} with --set"),
    };
    let root: toml::Value = toml::from_str(&s.to_toml()).expect("a scenario serialises to TOML");
    let root = crate::overrides::apply(root, sets).map_err(|(key, reason)| ScenarioError::Invalid {
        file: file.clone().into(),
        key,
        reason,
    })?;
    AnyScenario::from_toml(
        &toml::to_string(&root).expect("a TOML value serialises"),
        Path::new(&file),
    )
}

/// A built-in scenario of either kind by name, or a scenario file by path.
pub fn resolve_any(name_or_path: &str) -> Result<AnyScenario> {
    if let Some(t) = text(name_or_path) {
        return AnyScenario::from_toml(t, Path::new(&format!("<built-in {name_or_path}>")));
    }
    let path = Path::new(name_or_path);
    if path.exists() {
        return AnyScenario::load(path);
    }
    let known = names();
    Err(ScenarioError::UnknownScenario {
        name: name_or_path.to_string(),
        known: known.join(", "),
        suggestion: nearest(name_or_path, &known),
    })
}

/// The names of the built-in scenarios.
pub fn names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// The TOML text of a built-in scenario.
pub fn text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A built-in reaching scenario by name, or a reaching scenario file by path.
pub fn resolve(name_or_path: &str) -> Result<Scenario> {
    match resolve_any(name_or_path)? {
        AnyScenario::Reaching(s) => Ok(*s),
        AnyScenario::Tasks(_) => Err(ScenarioError::Invalid {
            file: name_or_path.into(),
            key: "tasks".into(),
            reason: "this is a task scenario; a reaching scenario (phases of a force field) is needed here".into(),
        }),
    }
}

/// One line per built-in scenario: its name and description.
pub fn list() -> Vec<(String, String)> {
    BUILTIN
        .iter()
        .map(|(n, t)| {
            let d = AnyScenario::from_toml(t, Path::new(n))
                .map_or_else(|e| format!("(invalid: {e})"), |s| s.description().to_string());
            (n.to_string(), d)
        })
        .collect()
}
