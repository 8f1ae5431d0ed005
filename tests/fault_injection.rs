//! Kills at exact file operations. strace's fault injection (`-e inject=SYSCALL:signal=KILL:when=K`) sends
//! SIGKILL at the K-th call of a file-system syscall of a short reaching run and a short task run; the run
//! is then continued with `--resume` (or started again when the kill came before its `scenario.toml`
//! existed), and everything it writes must equal the uninterrupted run: the CSV files (timing columns
//! aside), `summary.json`, `analysis.json`, `result.json`, the recordings and the final weights.
//!
//! By default twelve calls of each syscall, spread over the run, are kill points;
//! `REACHLAB_FAULT_POINTS=all` makes every call one (the counts quoted in the notes: about 400 kills of a
//! quick reaching run and 100 of a quick task run). Skipped, with the reason printed, where `strace` is missing or cannot trace (CI installs
//! it; `REACHLAB_REQUIRE_STRACE=1` turns the skip into a failure).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const BIN: &str = env!("CARGO_BIN_EXE_train_agent");

/// The syscalls a kill is injected at: those that make or remove a name, and those that write contents.
const SYSCALLS: [&str; 11] = [
    "rename",
    "renameat",
    "renameat2",
    "symlink",
    "symlinkat",
    "unlink",
    "unlinkat",
    "mkdir",
    "write",
    "ftruncate",
    "pwrite64",
];

/// Kill points per syscall in the default (sampled) mode.
const SAMPLE: usize = 12;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reachlab-fault-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Whether strace can trace here (it is missing on some machines and refused in some containers).
fn strace_works() -> Result<(), String> {
    let out = Command::new("strace")
        .args(["-qq", "-o", "/dev/null", "true"])
        .output()
        .map_err(|e| format!("strace not found ({e})"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "strace cannot trace here: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// How many times the run calls each of [`SYSCALLS`].
fn count_calls(args: &[&str], out: &Path) -> BTreeMap<String, usize> {
    let log = out.with_extension("strace");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e"])
        .arg(format!("trace={}", SYSCALLS.join(",")))
        .arg("-o")
        .arg(&log)
        .arg(BIN)
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the traced run failed");
    let mut counts = BTreeMap::new();
    for line in std::fs::read_to_string(&log).unwrap().lines() {
        if line.contains("resumed>") {
            continue;
        }
        // `PID name(args) = result`
        let rest = line.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start();
        if let Some(name) = rest.split('(').next().filter(|n| SYSCALLS.contains(n)) {
            *counts.entry(name.to_string()).or_insert(0) += 1;
        }
    }
    let _ = std::fs::remove_file(&log);
    counts
}

/// The outputs that must not depend on a kill: file name → contents, timing columns and fields removed.
fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut files = Vec::new();
    for sub in ["", "recordings", "checkpoints/latest"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
            for e in rd.flatten() {
                if e.path().is_file() {
                    files.push(e.path());
                }
            }
        }
    }
    for p in files {
        let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        let bytes = std::fs::read(&p).unwrap();
        let kept = match ext {
            "csv" => without_timing_columns(&String::from_utf8(bytes).unwrap()).into_bytes(),
            "json" => without_timing_fields(&String::from_utf8(bytes).unwrap()).into_bytes(),
            "md" => without_timing_table_columns(&String::from_utf8(bytes).unwrap()).into_bytes(),
            "safetensors" | "toml" => bytes,
            _ => continue,
        };
        m.insert(name, kept);
    }
    m
}

fn timing(name: &str) -> bool {
    name.starts_with("wall") || name.ends_with("per_second")
}

pub(crate) fn without_timing_columns(text: &str) -> String {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return String::new();
    };
    let keep: Vec<bool> = header.split(',').map(|h| !timing(h)).collect();
    let pick = |line: &str| -> String {
        line.split(',')
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(v, _)| v)
            .collect::<Vec<_>>()
            .join(",")
    };
    std::iter::once(header)
        .chain(lines)
        .map(pick)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Markdown report without the table columns whose header names a wall time (`median wall (s)`): a
/// resumed run measures its own.
fn without_timing_table_columns(text: &str) -> String {
    let mut keep: Vec<bool> = Vec::new();
    let mut in_table = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if !line.starts_with('|') {
            in_table = false;
            out.push(line.to_string());
            continue;
        }
        let cells: Vec<&str> = line.split('|').collect();
        if !in_table {
            keep = cells.iter().map(|c| !c.contains("wall")).collect();
            in_table = true;
        }
        let kept: Vec<&str> = cells
            .iter()
            .zip(keep.iter().chain(std::iter::repeat(&true)))
            .filter(|(_, k)| **k)
            .map(|(c, _)| *c)
            .collect();
        out.push(kept.join("|"));
    }
    out.join("\n")
}

fn without_timing_fields(text: &str) -> String {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                o.retain(|k, _| !timing(k));
                o.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    strip(&mut v);
    v.to_string()
}

/// What happened at one kill point.
enum Outcome {
    /// The run was killed there and its resume reproduced the uninterrupted run.
    Same,
    /// The call was not reached (the counts of a traced run can differ by a few).
    NotReached,
    /// The resume failed.
    Unresumable(String),
    /// The resumed run finished with different outputs.
    Diverged(Vec<String>),
}

/// The command that starts the run in `dir`, or continues it: `--resume`, or the first command again when
/// the kill came before the folder held a run (no `scenario.toml`).
fn start_or_resume(args: &[&str], dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    if dir.join("scenario.toml").exists() {
        c.arg("--resume").arg(dir);
    } else {
        c.args(args).arg("--out").arg(dir);
    }
    c.arg("--quiet");
    c
}

/// Runs `c` under strace, killed at the `k`-th call of `syscall`; whether the kill happened.
fn killed_at(c: &Command, syscall: &str, k: usize) -> bool {
    let status = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e"])
        .arg(format!("trace={syscall}"))
        .arg("-e")
        .arg(format!("inject={syscall}:signal=KILL:when={k}"))
        .arg(c.get_program())
        .args(c.get_args())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    !status.success()
}

/// Kills the run at each of `kills` in turn (the first in the fresh run, the next in its resume, …), then
/// lets it finish and compares its outputs with `reference`.
fn kill_and_resume(
    args: &[&str],
    dir: &Path,
    kills: &[(&str, usize)],
    reference: &BTreeMap<String, Vec<u8>>,
) -> Outcome {
    let _ = std::fs::remove_dir_all(dir);
    for (i, &(syscall, k)) in kills.iter().enumerate() {
        if !killed_at(&start_or_resume(args, dir), syscall, k) && i == 0 {
            let _ = std::fs::remove_dir_all(dir);
            return Outcome::NotReached;
        }
    }
    let again = start_or_resume(args, dir).output().unwrap();
    if !again.status.success() {
        let msg = String::from_utf8_lossy(&again.stderr).trim().to_string();
        return Outcome::Unresumable(msg);
    }
    let got = outputs(dir);
    let mut differ: Vec<String> = reference
        .iter()
        .filter(|(name, bytes)| got.get(*name) != Some(bytes))
        .map(|(name, _)| name.clone())
        .collect();
    differ.extend(
        got.keys()
            .filter(|n| !reference.contains_key(*n))
            .map(|n| format!("{n} (extra)")),
    );
    let _ = std::fs::remove_dir_all(dir);
    if differ.is_empty() {
        Outcome::Same
    } else {
        Outcome::Diverged(differ)
    }
}

/// Kills `args`'s run at each chosen call and checks every resume; returns one line of counts.
fn inject_everywhere(label: &str, args: &[&str]) -> String {
    let all = std::env::var("REACHLAB_FAULT_POINTS").is_ok_and(|v| v == "all");
    let reference_dir = tmp(&format!("{label}-reference"));
    let counts = count_calls(args, &reference_dir);
    let reference = outputs(&reference_dir);
    assert!(
        reference.len() > 5,
        "the reference run wrote too little: {:?}",
        reference.keys()
    );
    let mut points = Vec::new();
    for (syscall, &n) in &counts {
        // Every call, or up to SAMPLE calls spread evenly over the run, the first and the last included.
        let picked: Vec<usize> = if all || n <= SAMPLE {
            (1..=n).collect()
        } else {
            let mut v: Vec<usize> = (0..SAMPLE).map(|i| 1 + i * (n - 1) / (SAMPLE - 1)).collect();
            v.dedup();
            v
        };
        points.extend(picked.into_iter().map(|k| vec![(syscall.clone(), k)]));
    }
    // A kill during the resume as well: while it cuts the CSV files back (ftruncate) and while it writes.
    let second: Vec<Vec<(String, usize)>> = points
        .iter()
        .step_by(4)
        .flat_map(|p| {
            [("ftruncate", 1), ("ftruncate", 2), ("write", 3)].map(|(s, k)| {
                let mut chain = p.clone();
                chain.push((s.to_string(), k));
                chain
            })
        })
        .collect();
    let second_len = second.len();
    points.extend(second);
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    std::thread::scope(|s| {
        for w in 0..workers {
            let (points, next, results, reference) = (&points, &next, &results, &reference);
            s.spawn(move || {
                let dir = tmp(&format!("{label}-w{w}"));
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(chain) = points.get(i) else { break };
                    let kills: Vec<(&str, usize)> = chain.iter().map(|(s, k)| (s.as_str(), *k)).collect();
                    let outcome = kill_and_resume(args, &dir, &kills, reference);
                    let label: Vec<String> = chain.iter().map(|(s, k)| format!("{s} #{k}")).collect();
                    results.lock().unwrap().push((label.join(" then "), outcome));
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&reference_dir);
    let results = results.into_inner().unwrap();
    let killed = results.iter().filter(|r| !matches!(r.1, Outcome::NotReached)).count();
    let bad: Vec<String> = results
        .iter()
        .filter_map(|(at, o)| match o {
            Outcome::Unresumable(msg) => Some(format!("{at}: the resume failed: {msg}")),
            Outcome::Diverged(files) => Some(format!("{at}: resumed to different {}", files.join(", "))),
            Outcome::Same | Outcome::NotReached => None,
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{label}: {} of {killed} kill points went wrong:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert!(
        killed * 10 >= points.len() * 9,
        "{label}: only {killed} of {} kills happened",
        points.len()
    );
    format!(
        "{label}: {killed} runs killed ({} of them killed again while resuming) at calls of {counts:?}; \
         all resumed to the uninterrupted outputs",
        second_len
    )
}

/// A full disk at `writes` of the run's write calls: the run stops with exit status 1 and a message (no
/// panic, no abort), and a resume once there is space again gives the uninterrupted outputs.
fn full_disk_at(label: &str, args: &[&str], writes: &[usize]) -> String {
    let reference_dir = tmp(&format!("{label}-disk-reference"));
    let status = Command::new(BIN)
        .args(args)
        .arg("--out")
        .arg(&reference_dir)
        .arg("--quiet")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let reference = outputs(&reference_dir);
    let dir = tmp(&format!("{label}-disk"));
    let mut failed = 0;
    for &k in writes {
        let _ = std::fs::remove_dir_all(&dir);
        let out = Command::new("strace")
            .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=write", "-e"])
            .arg(format!("inject=write:error=ENOSPC:when={k}"))
            .arg(BIN)
            .args(args)
            .arg("--out")
            .arg(&dir)
            .arg("--quiet")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            continue;
        }
        failed += 1;
        assert_eq!(out.status.code(), Some(1), "{label}, full disk at write #{k}: {err}");
        assert!(
            err.contains("No space left on device"),
            "{label}, full disk at write #{k}: {err}"
        );
        let again = start_or_resume(args, &dir).output().unwrap();
        assert!(
            again.status.success(),
            "{label}, after a full disk at write #{k}: {}",
            String::from_utf8_lossy(&again.stderr)
        );
        let got = outputs(&dir);
        assert_eq!(got.keys().collect::<Vec<_>>(), reference.keys().collect::<Vec<_>>());
        for (name, bytes) in &reference {
            assert!(
                got[name] == *bytes,
                "{label}, after a full disk at write #{k}: {name} differs"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&reference_dir);
    format!("{label}: {failed} runs stopped by a full disk, each with exit status 1 and the reason, then resumed to the uninterrupted outputs")
}

#[test]
fn kills_at_every_file_operation_resume_to_the_same_outputs() {
    if let Err(why) = strace_works() {
        assert!(
            std::env::var("REACHLAB_REQUIRE_STRACE").is_err(),
            "REACHLAB_REQUIRE_STRACE is set but {why}"
        );
        eprintln!("skipping the fault-injection test: {why}");
        return;
    }
    let reaching = inject_everywhere("reaching", &["--scenario", "curl_field", "--quick"]);
    let tasks = inject_everywhere("tasks", &["--scenario", "flipflop", "--quick"]);
    let disk = full_disk_at(
        "reaching",
        &["--scenario", "curl_field", "--quick"],
        &[1, 2, 20, 60, 100, 140],
    );
    eprintln!("{reaching}\n{tasks}\n{disk}");
}
