//! The scenarios that ship with reachlab (files in `scenarios/builtin/`, compiled in).

use std::path::Path;

use crate::config::Scenario;
use crate::error::{nearest, Result, ScenarioError};

/// (name, TOML text) of every built-in scenario.
pub const BUILTIN: &[(&str, &str)] = &[
    ("curl_field", include_str!("../builtin/curl_field.toml")),
    ("curl_field_compare", include_str!("../builtin/curl_field_compare.toml")),
];

/// The names of the built-in scenarios.
pub fn names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// The TOML text of a built-in scenario.
pub fn text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A built-in scenario by name, or a scenario file by path.
pub fn resolve(name_or_path: &str) -> Result<Scenario> {
    if let Some(t) = text(name_or_path) {
        return Scenario::from_toml(t, Path::new(&format!("<built-in {name_or_path}>")));
    }
    let path = Path::new(name_or_path);
    if path.exists() {
        return Scenario::load(path);
    }
    let known = names();
    Err(ScenarioError::UnknownScenario {
        name: name_or_path.to_string(),
        known: known.join(", "),
        suggestion: nearest(name_or_path, &known),
    })
}

/// One line per built-in scenario: its name and description.
pub fn list() -> Vec<(String, String)> {
    BUILTIN
        .iter()
        .map(|(n, t)| {
            let d = Scenario::from_toml(t, Path::new(n)).map_or_else(|e| format!("(invalid: {e})"), |s| s.description);
            (n.to_string(), d)
        })
        .collect()
}
