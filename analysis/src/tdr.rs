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
use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
        score_predictions(self.predict(inputs).as_ref(), targets)
    }

    /// Scores predictions `pred` (rows × M) already made against `targets` (R², slope and intercept of
    /// actual on predicted, pooled over components).
    pub fn score_of(pred: MatRef<'_, f64>, targets: MatRef<'_, f64>) -> Result<DecoderScore> {
        score_predictions(pred, targets)
    }

    /// Cross-validated score: rows are split into `folds` interleaved folds (row i in fold i mod folds);
    /// each fold is predicted by a decoder fit on the others, and the pooled held-out predictions are
    /// scored against `targets`. Unlike an in-sample R², it does not grow with the number of inputs.
    pub fn cross_validated(inputs: MatRef<'_, f64>, targets: MatRef<'_, f64>, folds: usize) -> Result<DecoderScore> {
        const OP: &str = "decoder.cross_validated";
        let n = inputs.nrows();
        if folds < 2 || folds > n {
            return Err(AnalysisError::TooFewSamples {
                op: OP,
                need: folds.max(2),
                got: n,
            });
        }
        let mut pred = Mat::<f64>::zeros(n, targets.ncols());
        for f in 0..folds {
            let train: Vec<usize> = (0..n).filter(|i| i % folds != f).collect();
            let test: Vec<usize> = (0..n).filter(|i| i % folds == f).collect();
            let pick = |m: MatRef<'_, f64>, rows: &[usize]| Mat::from_fn(rows.len(), m.ncols(), |i, j| m[(rows[i], j)]);
            let dec = Self::fit(pick(inputs, &train).as_ref(), pick(targets, &train).as_ref())?;
            let p = dec.predict(pick(inputs, &test).as_ref());
            for (k, &i) in test.iter().enumerate() {
                for j in 0..targets.ncols() {
                    pred[(i, j)] = p[(k, j)];
                }
            }
        }
        score_predictions(pred.as_ref(), targets)
    }
}

/// R², slope and intercept of `targets` against predictions `pred`, pooled over components.
fn score_predictions(pred: MatRef<'_, f64>, targets: MatRef<'_, f64>) -> Result<DecoderScore> {
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
    fn the_cross_validated_r2_of_a_planted_noisy_decoder_is_its_analytic_value() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        // y = x·w + ε with x ~ N(0, I₁₀), |w|² = 1, ε ~ N(0, 1): the best possible R² is 1/(1 + 1) = 0.5.
        // With 60 samples and 10 inputs the in-sample R² is inflated above it; a held-out prediction from
        // n = 54 training rows and p = 11 coefficients has expected squared error σ²(1 + p/(n − p − 1))
        // (Gaussian design), so the cross-validated R² is 1 − 1.2619/2 = 0.369.
        let (n, d) = (60, 10);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut g = || -> f64 { StandardNormal.sample(&mut rng) };
        let w: Vec<f64> = (0..d).map(|k| if k < 4 { 0.5 } else { 0.0 }).collect();
        let (mut r2_in, mut r2_cv, mut slope_cv) = (0.0, 0.0, 0.0);
        let reps = 40;
        for _ in 0..reps {
            let x = Mat::from_fn(n, d, |_, _| g());
            let y = Mat::from_fn(n, 1, |i, _| (0..d).map(|k| x[(i, k)] * w[k]).sum::<f64>() + g());
            let fit = LinearDecoder::fit(x.as_ref(), y.as_ref()).unwrap();
            r2_in += fit.score(x.as_ref(), y.as_ref()).unwrap().r2 / reps as f64;
            let cv = LinearDecoder::cross_validated(x.as_ref(), y.as_ref(), 10).unwrap();
            r2_cv += cv.r2 / reps as f64;
            slope_cv += cv.slope / reps as f64;
        }
        assert!(r2_in > 0.55, "in-sample {r2_in}");
        let analytic = 1.0 - (1.0 + 11.0 / 42.0) / 2.0;
        assert!((r2_cv - analytic).abs() < 0.05, "cv {r2_cv} against {analytic}");
        assert!(r2_cv < r2_in - 0.15, "cv {r2_cv}, in-sample {r2_in}");
        // Overfitted predictions are too spread out: actual-on-predicted slope below 1.
        assert!(slope_cv > 0.5 && slope_cv < 1.0, "slope {slope_cv}");
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
