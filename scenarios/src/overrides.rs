//! `--set key=value`: dotted scenario keys set on a scenario before it is parsed (as rl-zoo's
//! `--hyperparams`), so that a built-in can be varied without copying it. The scenario then parses and
//! validates as a file would: an unknown key or a value out of its domain is refused with its name.
//!
//! ```
//! use reachlab_scenarios::overrides::apply;
//! let text = "name = \"x\"\n[training]\nupdates = 10\n";
//! let set = ["training.updates=200".to_string(), "policy.core.kind=gru".to_string()];
//! let out: toml::Table = apply(text, "x", &set).unwrap().parse().unwrap();
//! assert_eq!(out["training"]["updates"].as_integer(), Some(200));
//! assert_eq!(out["policy"]["core"]["kind"].as_str(), Some("gru"));
//! ```

use std::path::PathBuf;

use crate::error::{Result, ScenarioError};

/// `text` (a scenario's TOML) with each `key=value` of `sets` applied in order. A key is dotted
/// (`policy.core.hidden`); a number picks an entry of an array (`arm.1.core.hidden`); tables on the way
/// are created when missing. The value is read as a TOML value (`128`, `1e-3`, `true`, `[0, 1]`,
/// `"text"`), and as a string when it is not one (`kind=gru`). `label` names the scenario in errors.
pub fn apply(text: &str, label: &str, sets: &[String]) -> Result<String> {
    let bad = |key: &str, reason: String| ScenarioError::Invalid {
        file: PathBuf::from(format!("{label} --set")),
        key: key.to_string(),
        reason,
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| bad("", e.message().to_string()))?;
    let mut root = toml::Value::Table(table);
    for set in sets {
        let Some((key, value)) = set.split_once('=') else {
            return Err(bad(
                set,
                "expected KEY=VALUE (a dotted scenario key, e.g. training.updates=200)".into(),
            ));
        };
        let key = key.trim();
        let path: Vec<&str> = key.split('.').collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(bad(key, "a key is dotted names, e.g. policy.core.hidden".into()));
        }
        set_in(&mut root, &path, 0, parse_value(value.trim())).map_err(|reason| bad(key, reason))?;
    }
    Ok(toml::to_string(&root).expect("a TOML table serialises"))
}

/// A TOML value, or the text as a string where it is not one.
fn parse_value(text: &str) -> toml::Value {
    format!("v = {text}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()))
}

/// Sets `path` (the rest of `full` from `depth` on) in `v` to `value`; the reason when a step of the path
/// is neither a table nor an array entry.
fn set_in(v: &mut toml::Value, full: &[&str], depth: usize, value: toml::Value) -> std::result::Result<(), String> {
    let (seg, last) = (full[depth], depth + 1 == full.len());
    match v {
        toml::Value::Table(t) if last => {
            t.insert(seg.to_string(), value);
            Ok(())
        }
        toml::Value::Table(t) => {
            let child = t
                .entry(seg.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            set_in(child, full, depth + 1, value)
        }
        toml::Value::Array(a) => {
            let parent = full[..depth].join(".");
            let k = match seg.parse::<usize>() {
                Ok(k) if k < a.len() => k,
                Ok(k) => return Err(format!("`{parent}` has {} entries; there is no entry {k}", a.len())),
                Err(_) => {
                    return Err(format!(
                        "`{parent}` is an array: give an entry number, e.g. `{parent}.0`"
                    ))
                }
            };
            if last {
                a[k] = value;
                Ok(())
            } else {
                set_in(&mut a[k], full, depth + 1, value)
            }
        }
        _ => Err(format!("`{}` is a value, not a table", full[..depth].join("."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(text: &str, path: &[&str]) -> toml::Value {
        let t: toml::Table = text.parse().unwrap();
        let mut v = toml::Value::Table(t);
        for p in path {
            v = match v {
                toml::Value::Table(mut t) => t.remove(*p).unwrap(),
                toml::Value::Array(mut a) => a.remove(p.parse().unwrap()),
                _ => panic!("not a container"),
            };
        }
        v
    }

    #[test]
    fn values_tables_and_array_entries() {
        let text = "name = \"x\"\n[[arm]]\nname = \"a\"\n[[arm]]\nname = \"b\"\ncore = { hidden = 64 }\n";
        let sets = [
            "seeds=[0, 1, 2]".to_string(),
            "arm.1.core.hidden=128".to_string(),
            "arm.0.name=c".to_string(),
            "training.learning_rate = 1e-3".to_string(),
        ];
        let out = apply(text, "x", &sets).unwrap();
        assert_eq!(get(&out, &["seeds"]).as_array().unwrap().len(), 3);
        assert_eq!(get(&out, &["arm", "1", "core", "hidden"]).as_integer(), Some(128));
        assert_eq!(get(&out, &["arm", "0", "name"]).as_str(), Some("c"));
        assert_eq!(get(&out, &["training", "learning_rate"]).as_float(), Some(1e-3));
    }

    #[test]
    fn bad_sets_name_the_key() {
        let text = "name = \"x\"\nseed = 1\n[[arm]]\nname = \"a\"\n";
        for (set, needle) in [
            ("seed", "KEY=VALUE"),
            ("seed.x=1", "`seed` is a value"),
            ("arm.3.name=b", "`arm` has 1 entries; there is no entry 3"),
            ("arm.name=b", "`arm` is an array"),
            ("a..b=1", "dotted names"),
        ] {
            let e = apply(text, "x", &[set.to_string()]).unwrap_err().to_string();
            assert!(e.contains(needle), "{set}: {e}");
            assert!(e.contains("x --set"), "{set}: {e}");
        }
    }
}
