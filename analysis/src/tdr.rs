//! The force-predictive (targeted dimensionality reduction, TDR) subspace of Sun et al. (2022) and a
//! linear force decoder read from it.
//!
//! Following `buildTDRSubspace.m` (xlsun79/TDRandUniformShiftAnalyses): with `N` the C × n condition
//! averages, centred, and `X = [F, 1]` the C × (M + 1) behaviour with an intercept column, `β = X \ N`
//! (least squares), the axes are the first M columns of `pinv(β)` (n × M), and Gram–Schmidt makes them
//! orthonormal (`Q`). States in the subspace are `N·Q`.
//!
//! The centring matters beyond an offset: `runAnalyses.m` centres both phases on the mean pooled over the
//! before- and after-learning averages ([`Tdr::fit_pooled`], the paper's), so the fit data's intercept row
//! of β carries minus half the learning shift, and `pinv(β)` tilts the axes toward it. Centring on the fit
//! data alone ([`Tdr::fit`]) leaves the intercept near zero and the axes in the row space of the force
//! coefficients.

use faer::{Mat, MatRef};
use serde::Serialize;

use crate::error::{AnalysisError, Result};
use crate::la::{centred, check_finite, column_means, lstsq, pinv};

/// A fitted TDR subspace.
#[derive(Debug, Clone)]
pub struct Tdr {
    /// The mean the condition averages were centred on (subtracted before projecting).
    pub mean: Vec<f64>,
    /// Orthonormal axes (n × M), in the order of the behavioural variables.
    pub axes: Mat<f64>,
    /// Regression coefficients β ((M + 1) × n), last row the intercept.
    pub beta: Mat<f64>,
}

/// Gram–Schmidt orthonormalisation (thin QR with a positive diagonal of R, so column j of the result
/// is the part of column j of `a` orthogonal to the previous ones, normalised).
pub fn gram_schmidt(a: MatRef<'_, f64>) -> Mat<f64> {
    let qr = a.qr();
    let mut q = qr.compute_thin_Q();
    let r = qr.thin_R();
    for j in 0..q.ncols() {
        if r[(j, j)] < 0.0 {
            for i in 0..q.nrows() {
                q[(i, j)] = -q[(i, j)];
            }
        }
    }
    q
}

impl Tdr {
    /// Fits the subspace to condition averages `states` (C × n) and behaviour `behaviour` (C × M, e.g.
    /// initial force x and y), with C > M + 1, centred on their own mean.
    pub fn fit(states: MatRef<'_, f64>, behaviour: MatRef<'_, f64>) -> Result<Self> {
        Self::fit_centred(states, behaviour, column_means(states))
    }

    /// As Sun et al. (`runAnalyses.m`): fits on `states` (before learning) centred on the mean pooled over
    /// `states` and `other` (the after-learning condition averages, same units).
    pub fn fit_pooled(states: MatRef<'_, f64>, behaviour: MatRef<'_, f64>, other: MatRef<'_, f64>) -> Result<Self> {
        if other.ncols() != states.ncols() {
            return Err(AnalysisError::Shape {
                op: "tdr",
                expected: format!("{} units in the pooled phase", states.ncols()),
                got: format!("{}", other.ncols()),
            });
        }
        check_finite("tdr", other)?;
        let rows = (states.nrows() + other.nrows()) as f64;
        let mean: Vec<f64> = (0..states.ncols())
            .map(|j| {
                let s: f64 = (0..states.nrows()).map(|i| states[(i, j)]).sum::<f64>()
                    + (0..other.nrows()).map(|i| other[(i, j)]).sum::<f64>();
                s / rows
            })
            .collect();
        Self::fit_centred(states, behaviour, mean)
    }

    /// Fits with the condition averages centred on `mean` (one value per unit).
    pub fn fit_centred(states: MatRef<'_, f64>, behaviour: MatRef<'_, f64>, mean: Vec<f64>) -> Result<Self> {
        const OP: &str = "tdr";
        let (c, m) = (states.nrows(), behaviour.ncols());
        if behaviour.nrows() != c {
            return Err(AnalysisError::Shape {
                op: OP,
                expected: format!("{c} behaviour rows (one per condition)"),
                got: format!("{}", behaviour.nrows()),
            });
        }
        if mean.len() != states.ncols() {
            return Err(AnalysisError::Shape {
                op: OP,
                expected: format!("a mean of {} units", states.ncols()),
                got: format!("{}", mean.len()),
            });
        }
        if c < m + 2 {
            return Err(AnalysisError::TooFewSamples {
                op: OP,
                need: m + 2,
                got: c,
            });
        }
        check_finite(OP, states)?;
        check_finite(OP, behaviour)?;
        let n = centred(states, &mean);
        let x = Mat::from_fn(c, m + 1, |i, j| if j < m { behaviour[(i, j)] } else { 1.0 });
        let beta = lstsq(x.as_ref(), n.as_ref());
        let p = pinv(OP, beta.as_ref(), 1e-12)?;
        let axes = gram_schmidt(p.subcols(0, m));
        Ok(Tdr { mean, axes, beta })
    }

    /// Projects states (rows × n) onto the axes: rows × M.
    pub fn project(&self, states: MatRef<'_, f64>) -> Result<Mat<f64>> {
        if states.ncols() != self.mean.len() {
            return Err(AnalysisError::Shape {
                op: "tdr.project",
                expected: format!("{} units", self.mean.len()),
                got: format!("{}", states.ncols()),
            });
        }
        Ok(centred(states, &self.mean) * &self.axes)
    }
}

/// A linear decoder of behaviour (e.g. initial force) from low-dimensional states, with intercept.
#[derive(Debug, Clone)]
pub struct LinearDecoder {
    /// Weights ((d + 1) × M), last row the intercept.
    pub weights: Mat<f64>,
}

/// How well a decoder fit on one phase predicts another: the actual values regressed on the
/// predictions, pooled over components (a perfect decoder gives slope 1, intercept 0, R² 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DecoderScore {
    /// 1 − SSE/SST of the predictions, pooled over components.
    pub r2: f64,
    /// Slope of actual on predicted.
    pub slope: f64,
    /// Intercept of actual on predicted.
    pub intercept: f64,
}

impl LinearDecoder {
    /// Least-squares fit of `targets` (rows × M) from `inputs` (rows × d).
    pub fn fit(inputs: MatRef<'_, f64>, targets: MatRef<'_, f64>) -> Result<Self> {
        const OP: &str = "decoder";
        if inputs.nrows() != targets.nrows() {
            return Err(AnalysisError::Shape {
                op: OP,
                expected: format!("{} target rows", inputs.nrows()),
                got: format!("{}", targets.nrows()),
            });
        }
        let d = inputs.ncols();
        if inputs.nrows() < d + 2 {
            return Err(AnalysisError::TooFewSamples {
                op: OP,
                need: d + 2,
                got: inputs.nrows(),
            });
        }
        let x = with_intercept(inputs);
        Ok(LinearDecoder {
            weights: lstsq(x.as_ref(), targets),
        })
    }

    /// Predictions for `inputs` (rows × d).
    pub fn predict(&self, inputs: MatRef<'_, f64>) -> Mat<f64> {
        with_intercept(inputs) * &self.weights
    }

    /// Scores the predictions for `inputs` against `targets`.
    pub fn score(&self, inputs: MatRef<'_, f64>, targets: MatRef<'_, f64>) -> Result<DecoderScore> {
        let pred = self.predict(inputs);
        let mut p = Vec::new();
        let mut a = Vec::new();
        for j in 0..targets.ncols() {
            for i in 0..targets.nrows() {
                p.push(pred[(i, j)]);
                a.push(targets[(i, j)]);
            }
        }
        let mean_a: f64 = a.iter().sum::<f64>() / a.len() as f64;
        let sst: f64 = a.iter().map(|v| (v - mean_a).powi(2)).sum();
        let sse: f64 = a.iter().zip(&p).map(|(x, y)| (x - y).powi(2)).sum();
        let fit = crate::stats::linear_fit(&p, &a)?;
        Ok(DecoderScore {
            r2: 1.0 - sse / sst,
            slope: fit.slope,
            intercept: fit.intercept,
        })
    }
}

fn with_intercept(x: MatRef<'_, f64>) -> Mat<f64> {
    let d = x.ncols();
    Mat::from_fn(x.nrows(), d + 1, |i, j| if j < d { x[(i, j)] } else { 1.0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subspace::principal_angles;

    /// Eight conditions on a force ring, n = 5 units: before = F·A, after = before + u, with u partly in
    /// the row space of A (units 0–1) and partly outside it (unit 3).
    fn planted() -> (Mat<f64>, Mat<f64>, Mat<f64>, Mat<f64>) {
        let c = 8;
        let force = Mat::from_fn(c, 2, |i, j| {
            let a = std::f64::consts::TAU * i as f64 / c as f64;
            if j == 0 {
                a.cos()
            } else {
                a.sin()
            }
        });
        let a = Mat::from_fn(2, 5, |i, j| match (i, j) {
            (0, 0) => 1.0,
            (1, 1) => 1.0,
            (0, 2) => 0.5,
            _ => 0.0,
        });
        let before = &force * &a;
        let u = [0.4, 0.0, 0.0, 2.0, 0.0];
        let after = Mat::from_fn(c, 5, |i, j| before[(i, j)] + u[j]);
        (before, after, force, a)
    }

    #[test]
    fn fit_only_centring_keeps_the_axes_in_the_force_row_space() {
        let (before, _, force, a) = planted();
        let tdr = Tdr::fit(before.as_ref(), force.as_ref()).unwrap();
        let rows = gram_schmidt(a.transpose());
        let ang = principal_angles(tdr.axes.as_ref(), rows.as_ref()).unwrap();
        assert!(ang.iter().all(|x| x.abs() < 1e-8), "{ang:?}");
        // The intercept row is zero: the force ring is centred.
        assert!((0..5).all(|j| tdr.beta[(2, j)].abs() < 1e-12));
    }

    #[test]
    fn pooled_centring_tilts_the_axes_toward_the_learning_shift() {
        let (before, after, force, a) = planted();
        let tdr = Tdr::fit_pooled(before.as_ref(), force.as_ref(), after.as_ref()).unwrap();
        // runAnalyses.m: the intercept row is −u/2, the first M columns of pinv([A; −u/2]).
        let u = [0.4, 0.0, 0.0, 2.0, 0.0];
        assert!((0..5).all(|j| (tdr.beta[(2, j)] + u[j] / 2.0).abs() < 1e-12));
        let beta = Mat::from_fn(3, 5, |i, j| if i < 2 { a[(i, j)] } else { -u[j] / 2.0 });
        let want = gram_schmidt(pinv("test", beta.as_ref(), 1e-12).unwrap().subcols(0, 2));
        let same = principal_angles(tdr.axes.as_ref(), want.as_ref()).unwrap();
        assert!(same.iter().all(|x| x.abs() < 1e-8), "{same:?}");
        // ... which is not the fit-only plane: the axes pick up unit 3, outside A's row space.
        let fit_only = Tdr::fit(before.as_ref(), force.as_ref()).unwrap();
        let ang = principal_angles(tdr.axes.as_ref(), fit_only.axes.as_ref()).unwrap();
        assert!(ang.iter().any(|x| x.to_degrees() > 5.0), "{ang:?}");
        assert!((0..2).any(|j| tdr.axes[(3, j)].abs() > 0.05));
    }
}
