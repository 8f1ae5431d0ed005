//! A reaching scenario as an [`Experiment`]: one run through its phases, or arms × seeds of them
//! ([`crate::reaching::compare`]).

use std::path::Path;

use reachlab_analysis::faer::Mat;

use super::{invalid, Experiment, Mode, Outcome, RunOptions, Settings, UnitStates};
use crate::error::Result;
use crate::observer::{Observer, Silent};
use crate::reaching::compare::{self, CompareSpec};
use crate::reaching::config::Scenario;
use crate::reaching::run::{run_reaching, Progress, Start};
use crate::units::{Unit, UnitObservers};

impl Experiment for Scenario {
    fn kind(&self) -> &'static str {
        "reaching"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn to_toml(&self) -> String {
        Scenario::to_toml(self)
    }

    fn validate(&self, file: &Path) -> Result<()> {
        Scenario::validate(self, file)
    }

    fn apply(&mut self, settings: &Settings, label: &str) -> Result<()> {
        if settings.quick {
            *self = self.clone().quick();
        }
        if let Some(seed) = settings.seed {
            if self.compare.is_some() {
                return Err(invalid(
                    label,
                    "seed",
                    "a scenario with [compare] seeds takes its seeds from there; give a list of seeds instead (`--seeds`, or `seeds=` in Python)",
                ));
            }
            self.seed = seed;
        }
        if let Some(n) = settings.threads {
            self.train.threads = n;
        }
        if let Some(seeds) = &settings.seeds {
            match &mut self.compare {
                Some(c) => c.seeds = seeds.clone(),
                None => {
                    self.compare = Some(CompareSpec {
                        seeds: seeds.clone(),
                        arms: Vec::new(),
                    })
                }
            }
        }
        Ok(())
    }

    fn units(&self, dir: &Path) -> Vec<Unit> {
        match &self.compare {
            Some(spec) => compare::units(spec, dir),
            None => vec![Unit {
                arm: self.name.clone(),
                seed: self.seed,
                dir: dir.to_owned(),
            }],
        }
    }

    fn run(
        &self,
        dir: &Path,
        how: RunOptions,
        observer: &mut dyn Observer,
        units: UnitObservers<'_>,
    ) -> Result<Outcome> {
        if self.compare.is_some() {
            return Ok(Outcome::Seeds(compare::run_compare(self, dir, how, observer, units)?));
        }
        let start = match how.mode {
            Mode::Resume { force } => Start::Resume { force },
            Mode::New => Start::Create(Box::new(self.clone())),
        };
        Ok(Outcome::Run(Box::new(run_reaching(start, dir, observer)?)))
    }

    fn finish(&self, dir: &Path, observer: &mut dyn Observer) -> Result<Outcome> {
        if self.compare.is_none() {
            return Ok(Outcome::Run(Box::new(crate::reaching::run::finish(
                self, dir, observer, true,
            )?)));
        }
        for unit in self.units(dir) {
            if Progress::finished_in(&unit.dir) {
                let u = Scenario::load(&unit.dir.join("scenario.toml"))?;
                crate::reaching::run::finish(&u, &unit.dir, observer, true)?;
            }
        }
        // Finished units are skipped: this collects the findings again.
        Ok(Outcome::Seeds(compare::run_compare(
            self,
            dir,
            RunOptions::resume(false),
            observer,
            &|_| Box::new(Silent),
        )?))
    }

    fn report(&self, dir: &Path, outcome: &Outcome) -> String {
        match outcome {
            Outcome::Run(summary) => summary.table(),
            Outcome::Seeds(rows) => format!(
                "{}\nfindings over seeds: {}",
                compare::table(rows),
                dir.join("findings.md").display()
            ),
            Outcome::Tasks(_) => String::new(),
        }
    }

    fn measures(&self, dir: &Path) -> Result<Vec<(String, f64)>> {
        // Every reaching measure, as declared once in `findings::REACHING`.
        Ok(crate::reaching::findings::SeedMeasures::read(dir, self.seed)?.named())
    }

    /// The condition-averaged hidden trajectories of the last recorded stage (its late block, centre-out
    /// trials): one condition per target, `targets · steps` rows.
    fn states(&self, dir: &Path) -> Result<Option<UnitStates>> {
        let Some(stage) = self.phases.iter().rev().find(|p| p.record) else {
            return Ok(None);
        };
        let path = dir.join("recordings").join(format!("{}_late.safetensors", stage.name));
        if !path.exists() {
            return Ok(None);
        }
        let rec = crate::output::LoadedRecording::load(&path)?;
        let (k, t, h) = (self.env.n_targets, rec.t, rec.h);
        let mut m = Mat::<f64>::zeros(k * t, h);
        for target in 0..k {
            let trials: Vec<usize> = (0..rec.n)
                .filter(|&i| rec.trial_type[i] == 0 && rec.target[i] as usize == target)
                .collect();
            for &i in &trials {
                for step in 0..t {
                    for j in 0..h {
                        m[(target * t + step, j)] +=
                            f64::from(rec.hidden[(i * t + step) * h + j]) / trials.len() as f64;
                    }
                }
            }
        }
        let per: Vec<_> = (0..k).map(|c| m.subrows(c * t, t)).collect();
        let operator = super::operator(&per);
        Ok(Some(UnitStates { states: m, operator }))
    }
}
