//! An arm is a name and a list of dotted-key overrides (`set = ["policy.core.kind=lstm",
//! "training.learning_rate=1e-3"]`), applied to the scenario it varies exactly as `--set` and a sweep's
//! axes are ([`crate::overrides`]): any key the scenario holds, checked against it, an error naming the
//! arm and the key. Both kinds of scenario build their arms' settings here.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// `base` with the overrides `set` applied (in order), read back as `T`. Keys starting with one of
/// `fixed` (what an arm may not vary: its seeds, its name, what the arms are compared on) are refused.
/// Errors are `(key, reason)`.
pub fn apply<T: Serialize + DeserializeOwned + Clone>(
    base: &T,
    set: &[String],
    fixed: &[&str],
) -> Result<T, (String, String)> {
    if set.is_empty() {
        return Ok(base.clone());
    }
    for entry in set {
        let key = entry.split_once('=').map_or(entry.as_str(), |(k, _)| k.trim());
        if let Some(f) = fixed.iter().find(|f| key == **f || key.starts_with(&format!("{f}."))) {
            return Err((
                key.to_string(),
                format!("an arm cannot vary `{f}` (every arm shares it)"),
            ));
        }
    }
    let root = toml::Value::try_from(base).map_err(|e| (String::new(), e.to_string()))?;
    let root = crate::overrides::apply(root, set)?;
    root.try_into()
        .map_err(|e: toml::de::Error| (set.join(", "), e.message().to_string()))
}
