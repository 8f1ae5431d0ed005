//! Distances between every pair of networks of a collection (a sweep's units, a task population), written
//! once for every kind of run: SVCCA between their state matrices, and DSA's angular score and Euclidean
//! distance between their DMD operators.

use std::path::Path;

use reachlab_analysis::faer::Mat;

use crate::error::{Result, ScenarioError};

/// Row-major `n × n` matrices, NaN where a pair cannot be compared.
pub(crate) struct Pairwise {
    pub n: usize,
    /// SVCCA distance: 1 − mean of the top-10 canonical correlations (states on the same conditions).
    pub svcca: Vec<f64>,
    /// DSA's default score (radians) between the unit-norm operators.
    pub dsa_angular: Vec<f64>,
    /// Euclidean distance between the unit-norm operators.
    pub dsa_distance: Vec<f64>,
}

/// Compares every pair: `states[i]` is network i's `[conditions·time × units]` matrix (pairs whose row
/// counts differ are not comparable), `operators[i]` its DMD operator when it has one.
pub(crate) fn pairwise(states: &[&Mat<f64>], operators: &[Option<Mat<f64>>]) -> Pairwise {
    let n = states.len();
    let cfg = reachlab_analysis::DsaConfig::default();
    let mut out = Pairwise {
        n,
        svcca: vec![f64::NAN; n * n],
        dsa_angular: vec![f64::NAN; n * n],
        dsa_distance: vec![f64::NAN; n * n],
    };
    for i in 0..n {
        for j in 0..n {
            if let (Some(Some(x)), Some(Some(y))) = (operators.get(i), operators.get(j)) {
                if let Ok(r) = reachlab_analysis::dsa_operators(x.as_ref(), y.as_ref(), &cfg) {
                    out.dsa_angular[i * n + j] = r.angular;
                    out.dsa_distance[i * n + j] = r.distance;
                }
            }
            let (a, b) = (states[i], states[j]);
            if a.nrows() == b.nrows() {
                let k = 10.min(a.ncols()).min(b.ncols());
                out.svcca[i * n + j] =
                    reachlab_analysis::svcca(a.as_ref(), b.as_ref(), k).map_or(f64::NAN, |r| r.distance);
            }
        }
    }
    out
}

impl Pairwise {
    /// Writes `svcca_distance.csv`, `dsa_angular.csv` and `dsa_distance.csv` into `dir`, rows and columns
    /// labelled with the networks' unit indices.
    pub(crate) fn write(&self, dir: &Path, labels: &[usize]) -> Result<()> {
        let mut header = vec!["unit".to_string()];
        header.extend(labels.iter().map(usize::to_string));
        for (name, values) in [
            ("svcca_distance.csv", &self.svcca),
            ("dsa_angular.csv", &self.dsa_angular),
            ("dsa_distance.csv", &self.dsa_distance),
        ] {
            let path = dir.join(name);
            let mut w = csv::Writer::from_path(&path).map_err(|e| ScenarioError::output(&path, e))?;
            w.write_record(&header).map_err(|e| ScenarioError::output(&path, e))?;
            for (i, label) in labels.iter().enumerate() {
                let mut rec = vec![label.to_string()];
                rec.extend((0..self.n).map(|j| format!("{:.6}", values[i * self.n + j])));
                w.write_record(&rec).map_err(|e| ScenarioError::output(&path, e))?;
            }
            w.flush().map_err(|e| ScenarioError::io(&path, e))?;
        }
        Ok(())
    }
}
