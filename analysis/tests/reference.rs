//! Analyses checked on data built with known answers: planted subspaces, rotations, linear maps with known
//! spectra, hand-built flip-flops, finite-difference Jacobians.

use faer::Mat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use reachlab_analysis::*;

fn randn(rng: &mut ChaCha8Rng, r: usize, c: usize) -> Mat<f64> {
    Mat::from_fn(r, c, |_, _| rng.sample::<f64, _>(StandardNormal))
}

fn max_angle_deg(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    principal_angles(a.as_ref(), b.as_ref())
        .unwrap()
        .iter()
        .fold(0.0f64, |m, v| m.max(*v))
        .to_degrees()
}

#[test]
fn principal_angles_of_constructed_subspaces() {
    let (a1, a2) = (0.3f64, 1.1f64);
    // A = span(e1, e2); B = span(e1·cos a1 + e3·sin a1, e2·cos a2 + e4·sin a2), scaled and mixed.
    let a = Mat::from_fn(5, 2, |i, j| if i == j { 1.0 } else { 0.0 });
    let b0 = Mat::from_fn(5, 2, |i, j| match (i, j) {
        (0, 0) => a1.cos(),
        (2, 0) => a1.sin(),
        (1, 1) => a2.cos(),
        (3, 1) => a2.sin(),
        _ => 0.0,
    });
    let mix = mat_from_rows(2, 2, &[2.0, 1.0, -0.5, 3.0]).unwrap();
    let b = &b0 * &mix;
    let angles = principal_angles(a.as_ref(), b.as_ref()).unwrap();
    assert!(
        (angles[0] - a1).abs() < 1e-12 && (angles[1] - a2).abs() < 1e-12,
        "{angles:?}"
    );
}

#[test]
fn pca_recovers_a_planted_plane_and_its_variances() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let n = 4000;
    // Latent with standard deviations 3 and 1, embedded by an orthonormal 8×2 basis, plus an offset.
    let basis = orthonormal_basis(randn(&mut rng, 8, 2).as_ref());
    let latent = Mat::from_fn(n, 2, |_, j| {
        rng.sample::<f64, _>(StandardNormal) * if j == 0 { 3.0 } else { 1.0 }
    });
    let x = Mat::from_fn(n, 8, |i, j| {
        (0..2).map(|k| latent[(i, k)] * basis[(j, k)]).sum::<f64>() + j as f64
    });
    let pca = Pca::fit(x.as_ref(), 3).unwrap();
    assert!(max_angle_deg(&pca.components.subcols(0, 2).to_owned(), &basis) < 1e-6);
    assert!(
        (pca.explained_variance[0] / 9.0 - 1.0).abs() < 0.06,
        "{:?}",
        pca.explained_variance
    );
    assert!((pca.explained_variance[1] - 1.0).abs() < 0.06);
    assert!(pca.explained_variance_ratio[2] < 1e-20);
    let total: f64 = pca.explained_variance_ratio.iter().sum();
    assert!((total - 1.0).abs() < 1e-12);
    assert!(Pca::fit(mat_from_rows(2, 1, &[1.0, f64::NAN]).unwrap().as_ref(), 1).is_err());
}

#[test]
fn cca_is_one_under_invertible_maps_and_matches_pearson_in_1d() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let x = randn(&mut rng, 500, 4);
    let m = randn(&mut rng, 4, 4);
    let y = Mat::from_fn(500, 4, |i, j| (&x * &m)[(i, j)] + 7.0);
    let r = cca(x.as_ref(), y.as_ref()).unwrap();
    assert!(
        r.correlations.iter().all(|c| (c - 1.0).abs() < 1e-10),
        "{:?}",
        r.correlations
    );
    assert!(r.distance.abs() < 1e-10);
    // One dimension: the canonical correlation is |Pearson r|.
    let a: Vec<f64> = (0..300).map(|_| rng.sample(StandardNormal)).collect();
    let b: Vec<f64> = a
        .iter()
        .map(|v| -0.6 * v + rng.sample::<f64, _>(StandardNormal))
        .collect();
    let (ma, mb) = (a.iter().sum::<f64>() / 300.0, b.iter().sum::<f64>() / 300.0);
    let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    let pearson = cov / (va * vb).sqrt();
    let r = cca(
        mat_from_rows(300, 1, &a).unwrap().as_ref(),
        mat_from_rows(300, 1, &b).unwrap().as_ref(),
    )
    .unwrap();
    assert!((r.correlations[0] - pearson.abs()).abs() < 1e-12);
    // SVCCA of a network and a rotated, noisy copy of its top 3 dimensions is near 1.
    let s = svcca(x.as_ref(), y.as_ref(), 3).unwrap();
    assert!(s.distance < 0.05, "{s:?}");
}

/// States with a planted force subspace: N_c = Q·F_c·gain + P·z_c + noise, with P ⟂ Q and z independent
/// of the force.
fn planted(
    rng: &mut ChaCha8Rng,
    q: &Mat<f64>,
    p: &Mat<f64>,
    conditions: usize,
    other_scale: f64,
    noise: f64,
) -> (Mat<f64>, Mat<f64>) {
    let n = q.nrows();
    let force = randn(rng, conditions, 2);
    let z = randn(rng, conditions, p.ncols());
    let states = Mat::from_fn(conditions, n, |c, i| {
        let f: f64 = (0..2).map(|k| q[(i, k)] * force[(c, k)] * 2.0).sum();
        let o: f64 = (0..p.ncols()).map(|k| p[(i, k)] * z[(c, k)] * other_scale).sum();
        f + o + noise * rng.sample::<f64, _>(StandardNormal) + 0.3
    });
    (states, force)
}

#[test]
fn tdr_recovers_a_planted_force_subspace_and_its_decoder_transfers() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let basis = orthonormal_basis(randn(&mut rng, 30, 5).as_ref());
    let q = basis.subcols(0, 2).to_owned();
    let p = basis.subcols(2, 3).to_owned();
    // Exact data, 8 conditions (one per target): the subspace is recovered to rounding.
    let (states, force) = planted(&mut rng, &q, &p, 8, 0.0, 0.0);
    let exact = Tdr::fit(states.as_ref(), force.as_ref()).unwrap();
    assert!(max_angle_deg(&exact.axes, &q) < 1e-9);
    // With force-unrelated activity (¼ of the force-driven amplitude) and noise, 200 conditions.
    let (states, force) = planted(&mut rng, &q, &p, 200, 0.5, 0.01);
    let tdr = Tdr::fit(states.as_ref(), force.as_ref()).unwrap();
    let angle = max_angle_deg(&tdr.axes, &q);
    assert!(angle < 5.0, "largest principal angle {angle}°");
    // Orthonormal axes.
    let gram = tdr.axes.transpose() * &tdr.axes;
    for i in 0..2 {
        for j in 0..2 {
            assert!((gram[(i, j)] - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
        }
    }
    // Fit a decoder on this "phase", test it on a fresh one from the same subspace.
    let decoder = LinearDecoder::fit(tdr.project(states.as_ref()).unwrap().as_ref(), force.as_ref()).unwrap();
    let (states2, force2) = planted(&mut rng, &q, &p, 200, 0.5, 0.01);
    let score = decoder
        .score(tdr.project(states2.as_ref()).unwrap().as_ref(), force2.as_ref())
        .unwrap();
    assert!(score.r2 > 0.9 && (score.slope - 1.0).abs() < 0.1, "{score:?}");
}

#[test]
fn shift_angle_and_uniform_shift_tests_on_constructed_shifts() {
    let n = 6;
    let base = vec![0.0; n];
    let late_learning = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let late_washout = vec![1.0, 2.0, 0.0, 0.0, 0.0, 0.0];
    let s = shift_angles(&base, &late_learning, &late_washout).unwrap();
    assert!((s.theta_lw_deg - 90.0).abs() < 1e-12);
    let back = shift_angles(&base, &late_learning, &base).unwrap();
    assert!((back.theta_lw_deg - 180.0).abs() < 1e-12);

    // 8 targets; "after" = "before" + a shift along e3 that is uniform (plus small per-target jitter),
    // or that falls with distance from target 2.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let before = randn(&mut rng, 8, n);
    let tdr_axes = Mat::from_fn(n, 2, |i, j| if i == j { 1.0 } else { 0.0 });
    for (uniform, expect_significant) in [(true, false), (false, true)] {
        let after = Mat::from_fn(8, n, |t, i| {
            let d = ((t as i64 - 2).rem_euclid(8)).min((2 - t as i64).rem_euclid(8)) as f64 * 45.0;
            let amount = if uniform {
                1.0 + 0.05 * ((t * 7 % 5) as f64 - 2.0)
            } else {
                2.0 - d / 90.0
            };
            before[(t, i)] + if i == 3 { amount } else { 0.0 } + if i == 0 { 0.7 } else { 0.0 }
        });
        let axis = uniform_shift_axis(before.as_ref(), after.as_ref(), Some(tdr_axes.as_ref())).unwrap();
        // The TDR-plane part (e1) is projected out; what is left is e3.
        assert!((axis[3] - 1.0).abs() < 1e-12 && axis[0].abs() < 1e-12, "{axis:?}");
        let test = uniform_shift_vs_distance(before.as_ref(), after.as_ref(), &axis, 2, 999, 9).unwrap();
        assert_eq!(
            test.distances_deg,
            vec![90.0, 45.0, 0.0, 45.0, 90.0, 135.0, 180.0, 135.0]
        );
        if expect_significant {
            assert!((test.fit.slope + 1.0 / 90.0).abs() < 1e-12);
            assert!(test.permutation_p < 0.01 && test.fit.p_value < 1e-6);
            assert!(
                (test.near_far_p - 0.1).abs() < 1e-12,
                "3 near vs 3 far, fully separated"
            );
        } else {
            assert!(test.fit.slope.abs() < 1e-3 && test.permutation_p > 0.2, "{test:?}");
        }
    }
}

/// A discrete map with known fixed points: x' = x + 0.1·(x − x³), y' = 0.5·y has stable points (±1, 0)
/// (∂x'/∂x = 0.8) and a saddle at the origin (1.1).
struct DoubleWell;
impl Dynamics for DoubleWell {
    fn dim(&self) -> usize {
        2
    }
    fn input_dim(&self) -> usize {
        0
    }
    fn step(&self, h: &[f64], _u: &[f64], out: &mut [f64]) {
        out[0] = h[0] + 0.1 * (h[0] - h[0].powi(3));
        out[1] = 0.5 * h[1];
    }
    fn jacobian(&self, h: &[f64], _u: &[f64], jac: &mut [f64]) {
        jac.copy_from_slice(&[1.0 + 0.1 * (1.0 - 3.0 * h[0] * h[0]), 0.0, 0.0, 0.5]);
    }
}

fn grid_starts(dim: usize, per_axis: usize, lo: f64, hi: f64) -> Vec<Vec<f64>> {
    let total = per_axis.pow(dim as u32);
    (0..total)
        .map(|mut k| {
            (0..dim)
                .map(|_| {
                    let i = k % per_axis;
                    k /= per_axis;
                    lo + (hi - lo) * (i as f64 + 0.37) / per_axis as f64
                })
                .collect()
        })
        .collect()
}

#[test]
fn fixed_points_of_a_double_well_and_of_linear_maps() {
    let found = find_fixed_points(
        &DoubleWell,
        &[],
        &grid_starts(2, 9, -1.5, 1.5),
        &FixedPointConfig::default(),
    )
    .unwrap();
    let mut xs: Vec<(f64, Stability)> = found.points.iter().map(|p| (p.x[0], p.stability)).collect();
    xs.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(xs.len(), 3, "{xs:?}");
    for ((x, st), (ex, est)) in xs.iter().zip([
        (-1.0, Stability::Stable),
        (0.0, Stability::Saddle { unstable: 1 }),
        (1.0, Stability::Stable),
    ]) {
        assert!((x - ex).abs() < 1e-9 && *st == est, "{x} {st:?}");
    }
    assert!(found.points.iter().all(|p| p.converged && p.q < 1e-20));

    // h' = A·h + c: one fixed point (I − A)⁻¹·c, stable for eigenvalues (0.5, 0.8), a saddle with one
    // unstable mode for (0.5, 1.5).
    for (a22, expected) in [(0.8, Stability::Stable), (1.5, Stability::Saddle { unstable: 1 })] {
        let map = LinearMap::new(2, 0, vec![0.5, 0.2, 0.0, a22], vec![], vec![1.0, -1.0]).unwrap();
        let y = -1.0 / (1.0 - a22);
        let x = (1.0 + 0.2 * y) / 0.5;
        let found = find_fixed_points(
            &map,
            &[],
            &[vec![0.0, 0.0], vec![1.0, 1.0]],
            &FixedPointConfig::default(),
        )
        .unwrap();
        assert_eq!(found.points.len(), 1);
        let p = &found.points[0];
        assert!((p.x[0] - x).abs() < 1e-9 && (p.x[1] - y).abs() < 1e-9, "{:?}", p.x);
        assert_eq!(p.stability, expected);
        let mut moduli = vec![0.5, a22];
        moduli.sort_by(|a, b| b.total_cmp(a));
        assert!(p.eigen_moduli.iter().zip(&moduli).all(|(a, b)| (a - b).abs() < 1e-12));
    }
}

/// A hand-built 3-bit flip-flop: three independent units h' = tanh(2·h). Each has stable points ±x*
/// (x* = tanh(2x*) ≈ 0.9575) and an unstable one at 0, so there are 2³ = 8 stable fixed points and
/// saddles whose number of unstable modes is the number of zero coordinates.
#[test]
fn hand_built_flip_flop_has_eight_stable_fixed_points() {
    let w = vec![2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0];
    let rnn = LeakyRnn::new(3, 0, w, vec![], vec![0.0; 3], 1.0, Activation::Tanh).unwrap();
    let found = find_fixed_points(&rnn, &[], &grid_starts(3, 7, -1.2, 1.2), &FixedPointConfig::default()).unwrap();
    assert_eq!(
        found.n_stable(),
        8,
        "{:#?}",
        found.points.iter().map(|p| (&p.x, p.stability)).collect::<Vec<_>>()
    );
    for p in &found.points {
        let zeros = p.x.iter().filter(|v| v.abs() < 1e-6).count();
        let expected = if zeros == 0 {
            Stability::Stable
        } else {
            Stability::Saddle { unstable: zeros }
        };
        assert_eq!(p.stability, expected, "{:?}", p.x);
        assert!(
            p.x.iter()
                .all(|v| v.abs() < 1e-6 || (v.abs() - 0.957_504_876_1).abs() < 1e-6),
            "{:?}",
            p.x
        );
    }
}

fn fd_jacobian<D: Dynamics>(d: &D, h: &[f64], u: &[f64]) -> Vec<f64> {
    let n = d.dim();
    let eps = 1e-6;
    let mut jac = vec![0.0; n * n];
    let (mut fp, mut fm) = (vec![0.0; n], vec![0.0; n]);
    for j in 0..n {
        let mut hp = h.to_vec();
        let mut hm = h.to_vec();
        hp[j] += eps;
        hm[j] -= eps;
        d.step(&hp, u, &mut fp);
        d.step(&hm, u, &mut fm);
        for i in 0..n {
            jac[i * n + j] = (fp[i] - fm[i]) / (2.0 * eps);
        }
    }
    jac
}

#[test]
fn analytic_jacobians_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (n, m) = (7, 3);
    let mut v =
        |len: usize, s: f64| -> Vec<f64> { (0..len).map(|_| rng.sample::<f64, _>(StandardNormal) * s).collect() };
    let gru = Gru::new(n, m, v(3 * n * m, 0.5), v(3 * n * n, 0.5), v(3 * n, 0.3), v(3 * n, 0.3)).unwrap();
    let rnn = LeakyRnn::new(n, m, v(n * n, 0.6), v(n * m, 0.5), v(n, 0.2), 0.2, Activation::Tanh).unwrap();
    let h = v(n, 0.7);
    let u = v(m, 1.0);
    let mut jac = vec![0.0; n * n];
    gru.jacobian(&h, &u, &mut jac);
    let fd = fd_jacobian(&gru, &h, &u);
    assert!(jac.iter().zip(&fd).all(|(a, b)| (a - b).abs() < 1e-8), "GRU");
    rnn.jacobian(&h, &u, &mut jac);
    let fd = fd_jacobian(&rnn, &h, &u);
    assert!(jac.iter().zip(&fd).all(|(a, b)| (a - b).abs() < 1e-8), "leaky RNN");
    let lstm = Lstm::new(n, m, v(4 * n * m, 0.5), v(4 * n * n, 0.5), v(4 * n, 0.3), v(4 * n, 0.3)).unwrap();
    let x = v(2 * n, 0.7);
    let mut jac = vec![0.0; 4 * n * n];
    lstm.jacobian(&x, &u, &mut jac);
    let fd = fd_jacobian(&lstm, &x, &u);
    assert!(jac.iter().zip(&fd).all(|(a, b)| (a - b).abs() < 1e-8), "LSTM");
    // The vector–Jacobian products equal Jᵀ·v.
    let check = |d: &dyn Dynamics, x: &[f64], v: &[f64], name: &str| {
        let k = d.dim();
        let mut jac = vec![0.0; k * k];
        d.jacobian(x, &u, &mut jac);
        let mut out = vec![0.0; k];
        d.vjp(x, &u, v, &mut out);
        for j in 0..k {
            let want: f64 = (0..k).map(|i| jac[i * k + j] * v[i]).sum();
            assert!((out[j] - want).abs() < 1e-12, "{name} vjp[{j}]: {} vs {want}", out[j]);
        }
    };
    let v1 = v(n, 1.0);
    let v2 = v(2 * n, 1.0);
    check(&gru, &h, &v1, "GRU");
    check(&rnn, &h, &v1, "leaky RNN");
    check(&lstm, &x, &v2, "LSTM");
    // q and its gradient (the GRU's one-state form is a batch of one): rows of a batch are independent of
    // each other, and the gradient equals (J − I)ᵀ·(F − h) from the analytic Jacobian.
    let batch: Vec<f64> = v(5 * n, 0.7);
    let (mut grads, mut qs) = (vec![0.0; 5 * n], vec![0.0; 5]);
    gru.q_and_grad_batch(&batch, &u, &mut grads, &mut qs);
    for (row, h) in batch.chunks_exact(n).enumerate() {
        let mut g = vec![0.0; n];
        let q = gru.q_and_grad(h, &u, &mut g);
        assert!(
            (q - qs[row]).abs() < 1e-12 * q.max(1.0),
            "q of row {row}: {q} vs {}",
            qs[row]
        );
        let (mut f, mut jac) = (vec![0.0; n], vec![0.0; n * n]);
        gru.step(h, &u, &mut f);
        gru.jacobian(h, &u, &mut jac);
        for j in 0..n {
            let want: f64 = (0..n)
                .map(|i| (jac[i * n + j] - f64::from(i == j)) * (f[i] - h[i]))
                .sum();
            assert!(
                (g[j] - grads[row * n + j]).abs() < 1e-12,
                "batched gradient [{row}, {j}]"
            );
            assert!((g[j] - want).abs() < 1e-11, "gradient [{row}, {j}]: {} vs {want}", g[j]);
        }
    }
}

/// For a linear map the Lyapunov exponents are log|eigenvalues| (per step), whatever the basis.
#[test]
fn lyapunov_spectrum_of_a_linear_map_is_log_abs_eigenvalues() {
    // A = P·diag(−1.2, 0.9, 0.5)·P⁻¹ with a non-orthogonal P.
    let p = mat_from_rows(3, 3, &[1.0, 0.5, 0.2, 0.0, 1.0, 0.7, 0.3, 0.0, 1.0]).unwrap();
    let d = Mat::from_fn(3, 3, |i, j| if i == j { [-1.2, 0.9, 0.5][i] } else { 0.0 });
    let pinv = {
        use faer::linalg::solvers::Solve;
        p.partial_piv_lu().solve(Mat::<f64>::identity(3, 3))
    };
    let a = &(&p * &d) * &pinv;
    let a_rows: Vec<f64> = (0..9).map(|k| a[(k / 3, k % 3)]).collect();
    let map = LinearMap::new(3, 0, a_rows, vec![], vec![0.0; 3]).unwrap();
    let inputs = vec![vec![]; 4000];
    // Start at the fixed point 0 (the Jacobian of a linear map is the same everywhere; the state stays finite).
    let spec = lyapunov_spectrum(&map, &[0.0; 3], &inputs, 3, 100, 1.0).unwrap();
    for (got, want) in spec.iter().zip([1.2f64.ln(), 0.9f64.ln(), 0.5f64.ln()]) {
        assert!((got - want).abs() < 2e-3, "{spec:?}");
    }
    let halved = lyapunov_spectrum(&map, &[0.0; 3], &inputs, 1, 100, 0.5).unwrap();
    assert!((halved[0] - 2.0 * spec[0]).abs() < 1e-12, "divided by dt");
}

/// Points in the plane are recovered, up to a rigid motion, from their distance matrix.
#[test]
fn classical_mds_recovers_planar_distances() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let n = 7;
    let p: Vec<(f64, f64)> = (0..n)
        .map(|_| {
            (
                rng.sample::<f64, _>(StandardNormal),
                rng.sample::<f64, _>(StandardNormal),
            )
        })
        .collect();
    let d: Vec<f64> = (0..n * n)
        .map(|k| {
            let (a, b) = (p[k / n], p[k % n]);
            (a.0 - b.0).hypot(a.1 - b.1)
        })
        .collect();
    let x = classical_mds(&d, n, 3).unwrap();
    for i in 0..n {
        for j in 0..n {
            let e: f64 = (0..3)
                .map(|k| (x[i * 3 + k] - x[j * 3 + k]).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!((e - d[i * n + j]).abs() < 1e-8, "{i},{j}: {e} vs {}", d[i * n + j]);
        }
        assert!(x[i * 3 + 2].abs() < 1e-6, "a planar configuration needs 2 dimensions");
    }
    assert!(classical_mds(&d[..5], n, 2).is_err());
}

/// DMD recovers the eigenvalues of a known linear system, and with delays those of a scalar oscillator.
#[test]
fn dmd_recovers_linear_dynamics() {
    let a = mat_from_rows(3, 3, &[0.9, -0.2, 0.0, 0.2, 0.9, 0.0, 0.1, 0.0, 0.5]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let trajs: Vec<Mat<f64>> = (0..3)
        .map(|_| {
            let mut x = randn(&mut rng, 3, 1);
            let mut rows = Vec::new();
            for _ in 0..40 {
                rows.extend((0..3).map(|i| x[(i, 0)]));
                x = &a * &x;
            }
            mat_from_rows(40, 3, &rows).unwrap()
        })
        .collect();
    let refs: Vec<_> = trajs.iter().map(|t| t.as_ref()).collect();
    let fit = dmd_operator(&refs, 1, 3, 0.0).unwrap();
    let mut got: Vec<(f64, f64)> = fit.eigenvalues().unwrap().iter().map(|z| (z.re, z.im)).collect();
    let mut want: Vec<(f64, f64)> = a.eigenvalues().unwrap().iter().map(|z| (z.re, z.im)).collect();
    let key = |p: &(f64, f64)| (p.0 * 1e6).round() as i64 * 1_000_000 + (p.1 * 1e6).round() as i64;
    got.sort_by_key(key);
    want.sort_by_key(key);
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g.0 - w.0).abs() < 1e-8 && (g.1 - w.1).abs() < 1e-8,
            "{got:?} vs {want:?}"
        );
    }
    // cos(ωt) seen one value at a time: two delays make it a rotation by ±ω.
    let w = 0.4;
    let x = Mat::from_fn(50, 1, |t, _| (w * t as f64).cos());
    let fit = dmd_operator(&[x.as_ref()], 2, 2, 0.0).unwrap();
    for z in fit.eigenvalues().unwrap() {
        assert!(
            (z.re - w.cos()).abs() < 1e-8 && (z.im.abs() - w.sin()).abs() < 1e-8,
            "{z:?}"
        );
    }
}

/// For symmetric operators the orthogonal Procrustes distance is known in closed form (Hoffman–Wielandt):
/// min_C ‖A − C·B·Cᵀ‖_F = ‖λ↓(A) − λ↓(B)‖. DSA's optimiser reaches it; conjugates are at distance 0.
#[test]
fn procrustes_dynamics_meets_hoffman_wielandt() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let r = 5;
    let sym = |rng: &mut ChaCha8Rng| {
        let g = randn(rng, r, r);
        Mat::from_fn(r, r, |i, j| 0.5 * (g[(i, j)] + g[(j, i)]))
    };
    let cfg = DsaConfig::default();
    for _ in 0..3 {
        let (a, b) = (sym(&mut rng), sym(&mut rng));
        let eig = |m: &Mat<f64>| {
            let mut v: Vec<f64> = m.eigenvalues().unwrap().iter().map(|z| z.re).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let hw = eig(&a)
            .iter()
            .zip(eig(&b))
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        let (d, c) = procrustes_dynamics(a.as_ref(), b.as_ref(), &cfg).unwrap();
        assert!((d - hw).abs() < 1e-6 * (1.0 + hw), "{d} vs Hoffman–Wielandt {hw}");
        let ctc = c.transpose() * &c;
        assert!((0..r).all(|i| (0..r).all(|j| (ctc[(i, j)] - if i == j { 1.0 } else { 0.0 }).abs() < 1e-9)));
    }
    // A non-symmetric operator and an orthogonal conjugate of it.
    let a = randn(&mut rng, r, r) * 0.3;
    let q = randn(&mut rng, r, r).qr().compute_Q();
    let b = q.transpose() * &a * &q;
    let (d, _) = procrustes_dynamics(a.as_ref(), b.as_ref(), &cfg).unwrap();
    assert!(d < 1e-6, "conjugate at {d}");
}

/// DSA as its reference code computes it: the DMD in whitened coordinates, so a system and the same
/// system seen through any invertible (here strongly non-orthogonal) map of its states score 0; operators
/// scaled to unit norm, so a scaled conjugate also scores 0; and the angular score is
/// arccos(⟨A, C·B·Cᵀ⟩/(‖A‖‖B‖)) at the best C (simdist.py), π/2 for orthogonal operators.
#[test]
fn dsa_is_blind_to_invertible_maps_of_the_states_as_in_the_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let n = 3;
    let a = Mat::from_fn(n, n, |i, j| [[0.9, -0.3, 0.0], [0.3, 0.9, 0.1], [0.0, -0.1, 0.7]][i][j]);
    let trajs: Vec<Mat<f64>> = (0..4)
        .map(|_| {
            let mut x = randn(&mut rng, n, 1);
            Mat::from_fn(40, n, |t, j| {
                if j == 0 && t > 0 {
                    x = &a * &x;
                }
                x[(j, 0)]
            })
        })
        .collect();
    // States seen through M = [[1, 5, 0], [0, 1, 0], [0, 2, 0.2]] (condition number ~ 140).
    let m = Mat::from_fn(n, n, |i, j| [[1.0, 5.0, 0.0], [0.0, 1.0, 0.0], [0.0, 2.0, 0.2]][i][j]);
    let seen: Vec<Mat<f64>> = trajs.iter().map(|t| t * m.transpose()).collect();
    let cfg = DsaConfig {
        n_delays: 1,
        rank: 3,
        ..DsaConfig::default()
    };
    let x: Vec<_> = trajs.iter().map(|t| t.as_ref()).collect();
    let y: Vec<_> = seen.iter().map(|t| t.as_ref()).collect();
    let r = dsa(&x, &y, &cfg).unwrap();
    assert!(r.distance < 1e-6 && r.angular < 1e-5, "{} {}", r.distance, r.angular);
    // Fitted in unwhitened coordinates (H·V, as before), the two operators are similar only through
    // a non-orthogonal map, and the orthogonal Procrustes distance between them is not 0.
    let raw = |ts: &[Mat<f64>]| -> Mat<f64> {
        use faer::linalg::solvers::Solve;
        let h = Mat::from_fn(ts.len() * 40, n, |i, j| ts[i / 40][(i % 40, j)]);
        let v = h.thin_svd().unwrap().V().to_owned();
        let z: Vec<Mat<f64>> = ts.iter().map(|t| t * &v).collect();
        let zm = Mat::from_fn(z.len() * 39, n, |i, j| z[i / 39][(i % 39, j)]);
        let zp = Mat::from_fn(z.len() * 39, n, |i, j| z[i / 39][(i % 39 + 1, j)]);
        let at = (zm.transpose() * &zm).partial_piv_lu().solve(zm.transpose() * &zp);
        at.transpose().to_owned()
    };
    let unit = |m: Mat<f64>| {
        let f = m.norm_l2();
        m * (1.0 / f)
    };
    let (d_raw, _) = procrustes_dynamics(unit(raw(&trajs)).as_ref(), unit(raw(&seen)).as_ref(), &cfg).unwrap();
    assert!(d_raw > 0.05, "unwhitened operators at {d_raw}");
    // A scaled orthogonal conjugate scores 0; orthogonal operators score π/2 by the angular formula.
    let q = randn(&mut rng, n, n).qr().compute_Q();
    let b = (q.transpose() * &a * &q) * 3.0;
    let s = dsa_operators(a.as_ref(), b.as_ref(), &cfg).unwrap();
    assert!(s.distance < 1e-6 && s.angular < 1e-5, "{} {}", s.distance, s.angular);
    let p = Mat::from_fn(2, 2, |i, j| [[1.0, 0.0], [0.0, 1.0]][i][j]);
    let rot = Mat::from_fn(2, 2, |i, j| [[0.0, -1.0], [1.0, 0.0]][i][j]);
    let s = dsa_operators(p.as_ref(), rot.as_ref(), &DsaConfig { rank: 2, ..cfg }).unwrap();
    // ⟨I, C·R·Cᵀ⟩ = tr(R) = 0 for every orthogonal C: arccos 0 = π/2, distance √2.
    assert!((s.angular - std::f64::consts::FRAC_PI_2).abs() < 1e-9, "{}", s.angular);
    // ‖I/√2 − C·R·Cᵀ/√2‖² = (2 + 2 − 0)/2: distance √2 for every C.
    assert!((s.distance - 2f64.sqrt()).abs() < 1e-9, "{}", s.distance);
}

#[test]
fn fixed_points_do_not_depend_on_the_thread_count() {
    // A GRU with strong recurrence (several fixed points) and 100 starts: four groups of starts, the last
    // one short, spread over 1 or 3 threads.
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (n, m) = (16, 2);
    let mut v =
        |len: usize, s: f64| -> Vec<f64> { (0..len).map(|_| rng.sample::<f64, _>(StandardNormal) * s).collect() };
    let gru = Gru::new(n, m, v(3 * n * m, 0.5), v(3 * n * n, 0.6), v(3 * n, 0.3), v(3 * n, 0.3)).unwrap();
    let starts: Vec<Vec<f64>> = (0..100).map(|_| v(n, 0.8)).collect();
    let run = |threads: usize| {
        let cfg = FixedPointConfig {
            threads,
            max_iters: 1500,
            ..FixedPointConfig::default()
        };
        let r = find_fixed_points(&gru, &[0.0; 2], &starts, &cfg).unwrap();
        let pts: Vec<(Vec<f64>, f64)> = r.points.iter().map(|p| (p.x.clone(), p.q)).collect();
        (pts, r.n_converged, r.n_failed)
    };
    let one = run(1);
    assert!(one.1 > 0, "no start converged: the test proves nothing");
    assert_eq!(one, run(3));
}

/// A multistable GRU (a symmetric candidate block above gain 1: many stable points and saddles), starts
/// from its own trajectories. Checked without the finder: every fixed point it reports maps to itself,
/// every stable one pulls a perturbed copy back under the map, every saddle pushes one away along its
/// unstable mode, and every start is counted once.
#[test]
fn fixed_points_of_a_multistable_gru_are_checked_by_iterating_the_map() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (n, m) = (32, 1);
    let k = 1.0 / (n as f64).sqrt();
    let uni = |len: usize, rng: &mut ChaCha8Rng| -> Vec<f64> { (0..len).map(|_| rng.random_range(-k..k)).collect() };
    let (w_ih, mut w_hh, b_ih, b_hh) = (
        uni(3 * n * m, &mut rng),
        uni(3 * n * n, &mut rng),
        uni(3 * n, &mut rng),
        uni(3 * n, &mut rng),
    );
    let a: Vec<f64> = (0..n * n).map(|_| rng.sample(StandardNormal)).collect();
    for i in 0..n {
        for j in 0..n {
            w_hh[2 * n * n + i * n + j] = 2.0 * (a[i * n + j] + a[j * n + i]) / (2.0 * n as f64).sqrt();
        }
    }
    let gru = Gru::new(n, m, w_ih, w_hh, b_ih, b_hh).unwrap();
    let u = [0.0];
    let mut next = vec![0.0; n];
    let mut iterate = |x: &[f64], steps: usize| -> Vec<f64> {
        let mut h = x.to_vec();
        for _ in 0..steps {
            gru.step(&h, &u, &mut next);
            h.copy_from_slice(&next);
        }
        h
    };
    let starts: Vec<Vec<f64>> = (0..256)
        .map(|i| {
            let x: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            iterate(&x, i % 20)
        })
        .collect();
    let r = find_fixed_points(&gru, &u, &starts, &FixedPointConfig::default()).unwrap();
    assert_eq!(r.n_converged + r.n_slow + r.n_outliers + r.n_failed, starts.len());
    let fixed: Vec<&FixedPoint> = r.points.iter().filter(|p| p.converged).collect();
    let stable = fixed.iter().filter(|p| p.stability == Stability::Stable).count();
    eprintln!(
        "multistable GRU-32: {} fixed points ({stable} stable); starts: {} fixed, {} slow, {} nothing",
        fixed.len(),
        r.n_converged,
        r.n_slow,
        r.n_failed + r.n_outliers
    );
    assert!(
        stable >= 2 && fixed.len() > stable,
        "{} fixed, {stable} stable: not multistable",
        fixed.len()
    );
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    let mut perturb = ChaCha8Rng::seed_from_u64(6);
    for p in &fixed {
        assert!(dist(&iterate(&p.x, 1), &p.x) < 1e-5, "not a fixed point of the map");
        let nudged: Vec<f64> =
            p.x.iter()
                .map(|x| x + 1e-4 * perturb.sample::<f64, _>(StandardNormal))
                .collect();
        let after = dist(&iterate(&nudged, 3000), &p.x);
        match p.stability {
            Stability::Stable if p.eigen_moduli[0] < 0.99 => assert!(after < 1e-6, "a stable point let go: {after}"),
            Stability::Saddle { .. } if p.eigen_moduli[0] > 1.01 => {
                assert!(after > 1e-3, "a saddle held a perturbed state: {after}")
            }
            _ => {} // within 1 % of marginal: too slow to tell in 3000 steps
        }
    }
}

/// A GRU whose first `k` units are held by their update gates (bias 9: z = σ(9), a leak of 1.2e-4 per
/// step) and whose other units forget at z = ½: its one fixed point, the origin, has exactly `k`
/// eigenvalues within `marginal_tol` of the unit circle, each σ(9) (the Jacobian there is diagonal,
/// diag(z), since every weight into the candidate and the gates is 0 and the candidate is tanh(0) = 0).
#[test]
fn units_held_by_their_gates_are_marginal_modes_of_value_sigma_of_the_bias() {
    let (n, m, k) = (8, 1, 3);
    let mut b_ih = vec![0.0; 3 * n];
    for b in &mut b_ih[n..n + k] {
        *b = 9.0;
    }
    let gru = Gru::new(n, m, vec![0.0; 3 * n * m], vec![0.0; 3 * n * n], b_ih, vec![0.0; 3 * n]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let starts: Vec<Vec<f64>> = (0..16)
        .map(|_| (0..n).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    let r = find_fixed_points(&gru, &[0.0], &starts, &FixedPointConfig::default()).unwrap();
    assert_eq!(
        r.points.len(),
        1,
        "{:?}",
        r.points.iter().map(|p| (p.q, p.converged)).collect::<Vec<_>>()
    );
    let p = &r.points[0];
    assert!(p.converged && p.x.iter().all(|x| x.abs() < 1e-6), "{p:?}");
    assert_eq!(p.marginal_modes, k);
    let held = 1.0 / (1.0 + (-9.0f64).exp());
    assert!(
        p.eigen_moduli[..k].iter().all(|m| (m - held).abs() < 1e-9),
        "{:?}",
        p.eigen_moduli
    );
    assert!(
        p.eigen_moduli[k..].iter().all(|m| (m - 0.5).abs() < 1e-9),
        "{:?}",
        p.eigen_moduli
    );
}
