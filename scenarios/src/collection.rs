//! The finished units of an experiment, each read once into what its kind of scenario measures: a
//! reaching unit's [`SeedMeasures`](crate::reaching::findings::SeedMeasures), a task unit's
//! [`UnitResult`](crate::tasks::UnitResult), a sweep unit's named measures. The comparison between arms
//! and the findings over seeds (`reaching/compare.rs`), a task run's report (`tasks/report.rs`) and a
//! sweep's population (`population.rs`) all read a [`Collection`], so a unit is read in one place and
//! grouped by one rule (its arm, in the order the arms come).

use std::path::PathBuf;

use crate::error::Result;
use crate::measure::Measure;
use crate::units::Unit;

/// A finished unit and what was read from it.
#[derive(Debug, Clone)]
pub struct Collected<R> {
    pub arm: String,
    pub seed: u64,
    pub dir: PathBuf,
    pub record: R,
}

/// Finished units grouped by arm (for a sweep: by every setting but the seed).
#[derive(Debug, Clone)]
pub struct Collection<R> {
    units: Vec<Collected<R>>,
    arms: Vec<String>,
}

impl<R> Collection<R> {
    /// Reads each of `units`, in order, with `read`.
    pub fn gather(units: &[Unit], mut read: impl FnMut(&Unit) -> Result<R>) -> Result<Self> {
        let records = units.iter().map(&mut read).collect::<Result<Vec<R>>>()?;
        Ok(Self::of(units, records))
    }

    /// `units` with the records already read from them, in the same order (one each).
    pub fn of(units: &[Unit], records: Vec<R>) -> Self {
        assert_eq!(units.len(), records.len(), "one record per unit");
        let mut arms: Vec<String> = Vec::new();
        let units = units
            .iter()
            .zip(records)
            .map(|(u, record)| {
                if !arms.contains(&u.arm) {
                    arms.push(u.arm.clone());
                }
                Collected {
                    arm: u.arm.clone(),
                    seed: u.seed,
                    dir: u.dir.clone(),
                    record,
                }
            })
            .collect();
        Collection { units, arms }
    }

    /// The arms, in the order their first unit came.
    pub fn arms(&self) -> &[String] {
        &self.arms
    }

    /// Every unit, in order.
    pub fn units(&self) -> &[Collected<R>] {
        &self.units
    }

    /// The records of every unit, in order.
    pub fn into_records(self) -> Vec<R> {
        self.units.into_iter().map(|u| u.record).collect()
    }

    /// The units of `arm`, in order.
    pub fn of_arm<'a>(&'a self, arm: &'a str) -> impl Iterator<Item = &'a Collected<R>> + 'a {
        self.units.iter().filter(move |u| u.arm == arm)
    }

    /// The records of `arm`, in order.
    pub fn records_of(&self, arm: &str) -> Vec<&R> {
        self.units.iter().filter(|u| u.arm == arm).map(|u| &u.record).collect()
    }

    /// `measure` of every unit of `arm`, in order.
    pub fn values(&self, arm: &str, measure: &Measure<R>) -> Vec<f64> {
        self.values_by(arm, measure.read)
    }

    /// `read` of every unit of `arm`, in order.
    pub fn values_by(&self, arm: &str, read: impl Fn(&R) -> f64) -> Vec<f64> {
        self.of_arm(arm).map(|u| read(&u.record)).collect()
    }
}

/// `mean ± s.e.m.` of the finite `values` (3 decimals; the mean alone for one), `NaN` for none, and
/// "(k of n)" when only k of the n values are finite.
pub fn summary_cell(values: &[f64]) -> String {
    let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let ms = reachlab_analysis::stats::mean_sem(&finite);
    let cell = match finite.len() {
        0 => "NaN".to_string(),
        1 => format!("{:.3}", ms.mean),
        _ => format!("{:.3} ± {:.3}", ms.mean, ms.sem),
    };
    if finite.len() < values.len() {
        format!("{cell} ({} of {})", finite.len(), values.len())
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn units_group_by_arm_in_order_and_cells_count_the_finite_values() {
        let root = Path::new("/runs");
        let units: Vec<Unit> = [("b", 0), ("a", 0), ("b", 1), ("a", 1)]
            .iter()
            .map(|&(arm, seed)| Unit::new(root, arm, seed))
            .collect();
        let c = Collection::gather(&units, |u| Ok(u.seed as f64 + if u.arm == "a" { 10.0 } else { 0.0 })).unwrap();
        assert_eq!(c.arms(), ["b", "a"]);
        assert_eq!(c.values_by("a", |r| *r), [10.0, 11.0]);
        assert_eq!(c.records_of("b"), [&0.0, &1.0]);
        assert_eq!(c.of_arm("a").map(|u| u.dir.clone()).last(), Some(root.join("a/seed-1")));
        assert_eq!(summary_cell(&[1.0, 3.0]), "2.000 ± 1.000");
        assert_eq!(summary_cell(&[1.0, f64::NAN]), "1.000 (1 of 2)");
        assert_eq!(summary_cell(&[f64::NAN]), "NaN (0 of 1)");
        assert_eq!(summary_cell(&[]), "NaN");
    }
}
