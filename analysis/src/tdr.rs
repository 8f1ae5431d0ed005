//! The force-predictive (targeted dimensionality reduction, TDR) subspace of Sun et al. (2022) and a
//! linear force decoder read from it.
//!
//! Following `buildTDRSubspace.m` (xlsun79/TDRandUniformShiftAnalyses): with `N` the C × n condition
//! averages centred on their pooled mean and `X = [F, 1]` the C × (M + 1) behaviour with an intercept
//! column, `β = X \ N` (least squares), the axes are the first M columns of `pinv(β)` (n × M), and
//! Gram–Schmidt makes them orthonormal (`Q`). States in the subspace are `N·Q`.

use faer::{Mat, MatRef};
use serde::Serialize;

use crate::error::{AnalysisError, Result};
use crate::la::{centred, check_finite, column_means, lstsq, pinv};

/// A fitted TDR subspace.
#[derive(Debug, Clone)]
pub struct Tdr {
    /// Pooled mean of the condition averages used for the fit (subtracted before projecting).
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
    /// initial force x and y), with C > M + 1.
    pub fn fit(states: MatRef<'_, f64>, behaviour: MatRef<'_, f64>) -> Result<Self> {
        const OP: &str = "tdr";
        let (c, m) = (states.nrows(), behaviour.ncols());
        if behaviour.nrows() != c {
            return Err(AnalysisError::Shape {
                op: OP,
                expected: format!("{c} behaviour rows (one per condition)"),
                got: format!("{}", behaviour.nrows()),
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
        let mean = column_means(states);
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
