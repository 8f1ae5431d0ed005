//! reachlab's analysis (`reachlab-analysis`) on numpy arrays, for networks trained anywhere: the cells
//! take PyTorch's parameter layout and gate order (`torch.nn.GRU`, `LSTM`, `RNN`), the population
//! measures take states as `samples × units` arrays. Results cross as JSON text that the Python side
//! (`reachlab/analysis.py`) turns into numpy arrays, so every number is the Rust API's own.

use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use reachlab_analysis::faer::{Mat, MatRef};
use reachlab_analysis::{Activation, AnalysisError, DsaConfig, Dynamics, FixedPointConfig, Gru, LeakyRnn, Lstm};

use crate::from_json;

fn analysis_err(e: AnalysisError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn vec2(a: &PyReadonlyArray2<'_, f64>) -> (usize, usize, Vec<f64>) {
    let v = a.as_array();
    let (r, c) = (v.nrows(), v.ncols());
    (r, c, v.iter().copied().collect())
}

fn vec1(a: &PyReadonlyArray1<'_, f64>) -> Vec<f64> {
    a.as_array().iter().copied().collect()
}

fn mat(a: &PyReadonlyArray2<'_, f64>) -> Mat<f64> {
    let v = a.as_array();
    Mat::from_fn(v.nrows(), v.ncols(), |i, j| v[[i, j]])
}

/// A cell from PyTorch-layout weights: `kind` "gru" (`weight_ih` 3n × m, gates r, z, n), "lstm" (4n × m,
/// gates i, f, g, o; state `[h | c]`), "rnn_tanh" / "rnn_relu" (`torch.nn.RNN`, h' = φ(W_ih·u + b_ih +
/// W_hh·h + b_hh)), or "leaky_tanh" / "leaky_relu" (h' = (1 − α)·h + α·φ(…), Yang et al.'s RNN).
pub(crate) enum Cell {
    Gru(Gru),
    Lstm(Lstm),
    Leaky(LeakyRnn),
}

/// A cell as Python passes it: `(kind, weight_ih, weight_hh, bias_ih, bias_hh, alpha)`, PyTorch's layout.
#[derive(FromPyObject)]
pub(crate) struct CellArgs<'py>(
    String,
    PyReadonlyArray2<'py, f64>,
    PyReadonlyArray2<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    f64,
);

impl Cell {
    fn new(args: &CellArgs<'_>) -> PyResult<Cell> {
        let CellArgs(kind, w_ih, w_hh, b_ih, b_hh, alpha) = args;
        let (kind, alpha) = (kind.as_str(), *alpha);
        let (rows, m, w_ih) = vec2(w_ih);
        let (hh_rows, n, w_hh) = vec2(w_hh);
        let (b_ih, b_hh) = (vec1(b_ih), vec1(b_hh));
        let gates = match kind {
            "gru" => 3,
            "lstm" => 4,
            "rnn_tanh" | "rnn_relu" | "leaky_tanh" | "leaky_relu" => 1,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "kind `{kind}`: expected \"gru\", \"lstm\", \"rnn_tanh\", \"rnn_relu\", \"leaky_tanh\" or \"leaky_relu\""
                )))
            }
        };
        if hh_rows != gates * n || rows != gates * n {
            return Err(PyValueError::new_err(format!(
                "{kind}: weight_hh is {hh_rows} × {n} and weight_ih {rows} × {m}; expected {g}n × n and {g}n × m \
                 ({g} gate block(s) of n rows, PyTorch's layout)",
                g = gates
            )));
        }
        Ok(match kind {
            "gru" => Cell::Gru(Gru::new(n, m, w_ih, w_hh, b_ih, b_hh).map_err(analysis_err)?),
            "lstm" => Cell::Lstm(Lstm::new(n, m, w_ih, w_hh, b_ih, b_hh).map_err(analysis_err)?),
            _ => {
                if b_ih.len() != n || b_hh.len() != n {
                    return Err(PyValueError::new_err(format!(
                        "{kind}: bias_ih has {} and bias_hh {} entries; expected {n}",
                        b_ih.len(),
                        b_hh.len()
                    )));
                }
                let activation = if kind.ends_with("relu") {
                    Activation::Relu
                } else {
                    Activation::Tanh
                };
                let alpha = if kind.starts_with("rnn") { 1.0 } else { alpha };
                let bias = b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect();
                Cell::Leaky(LeakyRnn::new(n, m, w_hh, w_ih, bias, alpha, activation).map_err(analysis_err)?)
            }
        })
    }
}

/// Runs `$body` with `$d` bound to the concrete cell (the finders are generic over [`Dynamics`]).
macro_rules! on_cell {
    ($cell:expr, $d:ident => $body:expr) => {
        match $cell {
            Cell::Gru($d) => $body,
            Cell::Lstm($d) => $body,
            Cell::Leaky($d) => $body,
        }
    };
}

fn input(u: Option<PyReadonlyArray1<'_, f64>>, m: usize) -> Vec<f64> {
    u.map_or_else(|| vec![0.0; m], |u| vec1(&u))
}

/// Fixed and slow points of a cell under a constant input, from the given starts (rows), with
/// reachlab's finder (`FixedPointConfig` keys as JSON). Returns the `FixedPointResult` as JSON.
#[pyfunction]
#[pyo3(signature = (cell, starts, u = None, config_json = None))]
pub(crate) fn fixed_points(
    py: Python<'_>,
    cell: CellArgs<'_>,
    starts: PyReadonlyArray2<'_, f64>,
    u: Option<PyReadonlyArray1<'_, f64>>,
    config_json: Option<&str>,
) -> PyResult<String> {
    let cell = Cell::new(&cell)?;
    let cfg: FixedPointConfig = match config_json {
        Some(j) => from_json("config", j)?,
        None => FixedPointConfig::default(),
    };
    let (m, n) = on_cell!(&cell, d => (d.input_dim(), d.dim()));
    let u = input(u, m);
    let s = starts.as_array();
    if s.ncols() != n {
        return Err(PyValueError::new_err(format!(
            "starts have {} columns; the state has {n} (an LSTM's state is [h | c], 2 × hidden)",
            s.ncols()
        )));
    }
    let starts: Vec<Vec<f64>> = s.rows().into_iter().map(|r| r.to_vec()).collect();
    let result = py.detach(|| on_cell!(&cell, d => reachlab_analysis::find_fixed_points(d, &u, &starts, &cfg)));
    json(&result.map_err(analysis_err)?)
}

/// One step `F(h, u)` and its Jacobian ∂F/∂h (row-major n × n) at `h`: `(next, jacobian)`.
#[pyfunction]
#[pyo3(signature = (cell, h, u = None))]
pub(crate) fn step_and_jacobian(
    cell: CellArgs<'_>,
    h: PyReadonlyArray1<'_, f64>,
    u: Option<PyReadonlyArray1<'_, f64>>,
) -> PyResult<(Vec<f64>, Vec<f64>)> {
    let cell = Cell::new(&cell)?;
    let (m, n) = on_cell!(&cell, d => (d.input_dim(), d.dim()));
    let (h, u) = (vec1(&h), input(u, m));
    if h.len() != n {
        return Err(PyValueError::new_err(format!(
            "h has {} entries; the state has {n}",
            h.len()
        )));
    }
    let mut next = vec![0.0; n];
    let mut jac = vec![0.0; n * n];
    on_cell!(&cell, d => {
        d.step(&h, &u, &mut next);
        d.jacobian(&h, &u, &mut jac);
    });
    Ok((next, jac))
}

/// The `k` largest Lyapunov exponents along the trajectory from `h0` driven by `inputs` (T × m, one row
/// per step), after `warmup` steps, per unit time `dt`.
#[pyfunction]
#[pyo3(signature = (cell, h0, inputs, k, warmup, dt = 1.0))]
pub(crate) fn lyapunov_spectrum(
    py: Python<'_>,
    cell: CellArgs<'_>,
    h0: PyReadonlyArray1<'_, f64>,
    inputs: PyReadonlyArray2<'_, f64>,
    k: usize,
    warmup: usize,
    dt: f64,
) -> PyResult<Vec<f64>> {
    let cell = Cell::new(&cell)?;
    let h0 = vec1(&h0);
    let inputs: Vec<Vec<f64>> = inputs.as_array().rows().into_iter().map(|r| r.to_vec()).collect();
    py.detach(|| on_cell!(&cell, d => reachlab_analysis::lyapunov_spectrum(d, &h0, &inputs, k, warmup, dt)))
        .map_err(analysis_err)
}

/// CCA (`k` = None) or SVCCA (top `k` principal directions of each) between two sets of states (samples ×
/// units, the same samples): `CcaResult` as JSON.
#[pyfunction]
#[pyo3(signature = (x, y, k = None))]
pub(crate) fn cca(x: PyReadonlyArray2<'_, f64>, y: PyReadonlyArray2<'_, f64>, k: Option<usize>) -> PyResult<String> {
    let (x, y) = (mat(&x), mat(&y));
    let r = match k {
        None => reachlab_analysis::cca(x.as_ref(), y.as_ref()),
        Some(k) => reachlab_analysis::svcca(x.as_ref(), y.as_ref(), k),
    };
    json(&r.map_err(analysis_err)?)
}

/// DSA between two systems, each given as trajectories (T × n arrays): `DsaResult` as JSON
/// (`DsaConfig` keys as JSON).
#[pyfunction]
#[pyo3(signature = (x, y, config_json = None))]
pub(crate) fn dsa(
    py: Python<'_>,
    x: Vec<PyReadonlyArray2<'_, f64>>,
    y: Vec<PyReadonlyArray2<'_, f64>>,
    config_json: Option<&str>,
) -> PyResult<String> {
    let cfg: DsaConfig = match config_json {
        Some(j) => from_json("config", j)?,
        None => DsaConfig::default(),
    };
    let (xm, ym): (Vec<Mat<f64>>, Vec<Mat<f64>>) = (x.iter().map(mat).collect(), y.iter().map(mat).collect());
    let r = py.detach(|| {
        let xr: Vec<MatRef<'_, f64>> = xm.iter().map(|m| m.as_ref()).collect();
        let yr: Vec<MatRef<'_, f64>> = ym.iter().map(|m| m.as_ref()).collect();
        reachlab_analysis::dsa(&xr, &yr, &cfg)
    });
    json(&r.map_err(analysis_err)?)
}

/// θ_LW and the learning/washout shifts from three centroids (Sun et al.): `ShiftAngles` as JSON.
#[pyfunction]
pub(crate) fn shift_angles(
    base: PyReadonlyArray1<'_, f64>,
    late_learning: PyReadonlyArray1<'_, f64>,
    late_washout: PyReadonlyArray1<'_, f64>,
) -> PyResult<String> {
    let r = reachlab_analysis::shift_angles(&vec1(&base), &vec1(&late_learning), &vec1(&late_washout));
    json(&r.map_err(analysis_err)?)
}

/// The uniform-shift axis from condition averages before and after (targets × units), orthogonal to
/// the orthonormal columns of `exclude` (units × M), and the per-target shifts along it against their
/// distance from `trained_target`: `(axis, UniformShiftTest as JSON)`.
#[pyfunction]
#[pyo3(signature = (before, after, trained_target, exclude = None, n_perm = 10000, seed = 0))]
pub(crate) fn uniform_shift(
    before: PyReadonlyArray2<'_, f64>,
    after: PyReadonlyArray2<'_, f64>,
    trained_target: usize,
    exclude: Option<PyReadonlyArray2<'_, f64>>,
    n_perm: usize,
    seed: u64,
) -> PyResult<(Vec<f64>, String)> {
    let (b, a) = (mat(&before), mat(&after));
    let ex = exclude.as_ref().map(mat);
    let axis = reachlab_analysis::uniform_shift_axis(b.as_ref(), a.as_ref(), ex.as_ref().map(|m| m.as_ref()))
        .map_err(analysis_err)?;
    let test =
        reachlab_analysis::uniform_shift_vs_distance(b.as_ref(), a.as_ref(), &axis, trained_target, n_perm, seed)
            .map_err(analysis_err)?;
    Ok((axis, json(&test)?))
}

/// Targeted dimensionality reduction: condition averages (conditions × units) regressed on behaviour
/// (conditions × M): `(mean, axes as units × M row-major, beta as (M + 1) × units row-major)`.
#[pyfunction]
pub(crate) fn tdr(
    states: PyReadonlyArray2<'_, f64>,
    behaviour: PyReadonlyArray2<'_, f64>,
) -> PyResult<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let t = reachlab_analysis::Tdr::fit(mat(&states).as_ref(), mat(&behaviour).as_ref()).map_err(analysis_err)?;
    let flat = |m: &Mat<f64>| -> Vec<f64> {
        (0..m.nrows())
            .flat_map(|i| (0..m.ncols()).map(move |j| (i, j)))
            .map(|(i, j)| m[(i, j)])
            .collect()
    };
    Ok((t.mean.clone(), flat(&t.axes), flat(&t.beta)))
}
