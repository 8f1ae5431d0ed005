//! The crate's layering: no two modules import each other, directly or around a loop (the leaf modules
//! hold the shared vocabulary instead). Read from the sources: every `crate::`/`super::` path outside
//! comments and test modules is an import of the module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`tasks::run`) → source text, test modules cut off.
fn modules(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            modules(&p, &format!("{prefix}{stem}::"), out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let name = match stem.as_str() {
                "lib" => continue,
                "mod" => prefix.trim_end_matches("::").to_string(),
                _ => format!("{prefix}{stem}"),
            };
            let text = std::fs::read_to_string(&p).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let code: String = code
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            out.insert(name, code);
        }
    }
}

/// The modules `code` (of module `name`) refers to, by their longest known path.
fn imports(name: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let path: String = code[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
            if parts[0] == "crate" {
                parts.remove(0);
            } else {
                // `super::` of `a::b` (file a/b.rs, or a/b/mod.rs) is `a`.
                let mut base: Vec<&str> = name.split("::").collect();
                base.pop();
                parts.splice(0..1, base);
            }
            for k in (1..=parts.len()).rev() {
                let cand = parts[..k].join("::");
                if known.contains(&cand) {
                    let related = cand == name
                        || cand.starts_with(&format!("{name}::"))
                        || name.starts_with(&format!("{cand}::"));
                    if !related {
                        out.insert(cand);
                    }
                    break;
                }
            }
        }
    }
    out
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let mut mods = BTreeMap::new();
    modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "", &mut mods);
    assert!(
        mods.contains_key("experiment::reaching") && mods.contains_key("tasks::run"),
        "{:?}",
        mods.keys()
    );
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    let graph: BTreeMap<&str, BTreeSet<String>> =
        mods.iter().map(|(n, c)| (n.as_str(), imports(n, c, &known))).collect();
    assert!(graph["launch"].contains("experiment"), "{:?}", graph["launch"]);
    // Every module reachable from each import must not lead back.
    for (&from, direct) in &graph {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut stack: Vec<(String, Vec<String>)> = direct.iter().map(|d| (d.clone(), vec![d.clone()])).collect();
        while let Some((m, path)) = stack.pop() {
            assert!(m != from, "import loop: {from} -> {}", path.join(" -> "));
            if !seen.insert(m.clone()) {
                continue;
            }
            for next in graph.get(m.as_str()).into_iter().flatten() {
                let mut p = path.clone();
                p.push(next.clone());
                stack.push((next.clone(), p));
            }
        }
    }
}
