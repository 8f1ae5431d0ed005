//! Setting dotted scenario keys: `--set key=value` on the command line (as rl-zoo's `--hyperparams`), so
//! that a built-in can be varied without copying it, and the axes of a sweep file. Keys are set on the
//! scenario with every default written out, so a key must exist (a typo is refused with the nearest key);
//! the result then parses and validates as a file would ([`crate::builtin::resolve_any_with`]).
//!
//! ```
//! use reachlab_scenarios::overrides::{parse_value, set_key};
//! let mut v: toml::Value = toml::from_str("[training]\nupdates = 10\n[[arm]]\nname = \"a\"\n").unwrap();
//! set_key(&mut v, "training.updates", parse_value("200")).unwrap();
//! set_key(&mut v, "arm.0.name", parse_value("b")).unwrap();
//! assert_eq!(v["training"]["updates"].as_integer(), Some(200));
//! assert_eq!(v["arm"][0]["name"].as_str(), Some("b"));
//! assert!(set_key(&mut v, "training.updatez", parse_value("1")).unwrap_err().contains("did you mean `updates`"));
//! ```

/// `root` (a scenario as TOML, every default written out) with each `key=value` of `sets` applied in
/// order (see [`set_key`] and [`parse_value`]); on failure, the key and the reason.
pub fn apply(mut root: toml::Value, sets: &[String]) -> Result<toml::Value, (String, String)> {
    for set in sets {
        let Some((key, value)) = set.split_once('=') else {
            return Err((
                set.clone(),
                "expected KEY=VALUE (a dotted scenario key, e.g. training.updates=200)".into(),
            ));
        };
        let key = key.trim();
        set_key(&mut root, key, parse_value(value.trim())).map_err(|reason| (key.to_string(), reason))?;
    }
    Ok(root)
}

/// A TOML value (`128`, `1e-3`, `true`, `[0, 1]`, `"text"`), or the text as a string where it is not one
/// (`gru`).
pub fn parse_value(text: &str) -> toml::Value {
    format!("v = {text}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()))
}

/// Former names of top-level tables, still taken as the first part of a key: a reaching scenario's
/// `[train]` is `[training]`, the name task scenarios use (sweeps and commands written before keep working).
const ALIASES: &[(&str, &str)] = &[("train", "training")];

/// Sets the existing `key` (`a.b.c`; a number picks an array entry, `arm.1.core.hidden`) in `root` to
/// `value`; the reason, naming the nearest key, when the key is not there.
pub fn set_key(root: &mut toml::Value, key: &str, value: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err("a key is dotted names, e.g. policy.core.hidden".into());
    }
    let mut cur = root;
    for (i, p) in parts.iter().enumerate() {
        let here = parts[..i].join(".");
        let slot = match cur {
            toml::Value::Table(t) => {
                let known: Vec<&str> = t.keys().map(String::as_str).collect();
                let hint =
                    crate::error::nearest(p, &known).map_or(String::new(), |s| format!(" (did you mean `{s}`?)"));
                let within = if here.is_empty() {
                    String::new()
                } else {
                    format!(" in `{here}`")
                };
                // A table's former name still works as the first part of a key.
                let p = match ALIASES
                    .iter()
                    .find(|(old, _)| i == 0 && old == p && !t.contains_key(*old))
                {
                    Some((_, now)) if t.contains_key(*now) => now,
                    _ => p,
                };
                t.get_mut(*p).ok_or_else(|| format!("no key `{p}`{within}{hint}"))?
            }
            toml::Value::Array(a) => {
                let n = a.len();
                match p.parse::<usize>() {
                    Ok(k) if k < n => &mut a[k],
                    Ok(k) => return Err(format!("`{here}` has {n} entries; there is no entry {k}")),
                    Err(_) => return Err(format!("`{here}` is an array: give an entry number, e.g. `{here}.0`")),
                }
            }
            _ => return Err(format!("`{here}` is a value, not a table")),
        };
        if i + 1 == parts.len() {
            *slot = value;
            return Ok(());
        }
        cur = slot;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_tables_and_array_entries() {
        let mut v: toml::Value = toml::from_str(
            "seeds = [0]\n[training]\nlr = 0.1\n[[arm]]\nname = \"a\"\n[[arm]]\nname = \"b\"\ncore = { hidden = 64 }\n",
        )
        .unwrap();
        for (k, val) in [
            ("seeds", "[0, 1, 2]"),
            ("arm.1.core.hidden", "128"),
            ("arm.0.name", "c"),
            ("training.lr", "1e-3"),
        ] {
            set_key(&mut v, k, parse_value(val)).unwrap();
        }
        assert_eq!(v["seeds"].as_array().unwrap().len(), 3);
        assert_eq!(v["arm"][1]["core"]["hidden"].as_integer(), Some(128));
        assert_eq!(v["arm"][0]["name"].as_str(), Some("c"));
        assert_eq!(v["training"]["lr"].as_float(), Some(1e-3));
        // The table's former name.
        set_key(&mut v, "train.lr", parse_value("2e-3")).unwrap();
        assert_eq!(v["training"]["lr"].as_float(), Some(2e-3));
    }

    #[test]
    fn wrong_keys_are_named() {
        let mut v: toml::Value = toml::from_str("seed = 1\n[[arm]]\nname = \"a\"\n").unwrap();
        for (key, needle) in [
            ("sead", "no key `sead` (did you mean `seed`?)"),
            ("seed.x", "`seed` is a value"),
            ("arm.3.name", "`arm` has 1 entries; there is no entry 3"),
            ("arm.name", "`arm` is an array"),
            ("arm.0.nam", "no key `nam` in `arm.0` (did you mean `name`?)"),
            ("a..b", "dotted names"),
        ] {
            let e = set_key(&mut v, key, parse_value("1")).unwrap_err();
            assert!(e.contains(needle), "{key}: {e}");
        }
    }
}
