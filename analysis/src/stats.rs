//! Small statistics: mean ± s.e.m., simple linear regression with its t-test, paired t-test, the
//! Wilcoxon rank-sum (Mann–Whitney) test, and a permutation test of a slope.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

use crate::error::{AnalysisError, Result};

/// Mean and standard error of the mean (s.e.m. is NaN-free: 0 for a single value).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanSem {
    /// Mean.
    pub mean: f64,
    /// Standard error of the mean.
    pub sem: f64,
    /// Number of values.
    pub n: usize,
}

/// Mean ± s.e.m. of `x`.
pub fn mean_sem(x: &[f64]) -> MeanSem {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n.max(1) as f64;
    let sem = if n > 1 {
        (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64 / n as f64).sqrt()
    } else {
        0.0
    };
    MeanSem { mean, sem, n }
}

/// A least-squares line `y = slope·x + intercept`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LineFit {
    /// Slope.
    pub slope: f64,
    /// Intercept.
    pub intercept: f64,
    /// Coefficient of determination.
    pub r2: f64,
    /// Two-sided p-value of the t-test of slope = 0 (n − 2 degrees of freedom).
    pub p_value: f64,
}

/// Fits `y = slope·x + intercept` by least squares.
pub fn linear_fit(x: &[f64], y: &[f64]) -> Result<LineFit> {
    const OP: &str = "linear_fit";
    if x.len() != y.len() {
        return Err(AnalysisError::Shape {
            op: OP,
            expected: format!("{} y values", x.len()),
            got: format!("{}", y.len()),
        });
    }
    let n = x.len();
    if n < 3 {
        return Err(AnalysisError::TooFewSamples {
            op: OP,
            need: 3,
            got: n,
        });
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(AnalysisError::NonFinite { op: OP });
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    let syy: f64 = y.iter().map(|v| (v - my).powi(2)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    if sxx == 0.0 {
        return Err(AnalysisError::InvalidParameter {
            op: OP,
            name: "x",
            reason: "all x values are equal".into(),
        });
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let sse = (syy - slope * sxy).max(0.0);
    let r2 = if syy > 0.0 { 1.0 - sse / syy } else { 1.0 };
    let df = (n - 2) as f64;
    let p_value = if sse == 0.0 {
        if slope == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        let se = (sse / df / sxx).sqrt();
        student_t_two_sided_p(slope / se, df)
    };
    Ok(LineFit {
        slope,
        intercept,
        r2,
        p_value,
    })
}

/// Paired t-test of `a − b` against 0: `(mean difference, t, two-sided p)`.
pub fn paired_t_test(a: &[f64], b: &[f64]) -> Result<(f64, f64, f64)> {
    const OP: &str = "paired_t_test";
    if a.len() != b.len() {
        return Err(AnalysisError::Shape {
            op: OP,
            expected: format!("{} pairs", a.len()),
            got: format!("{}", b.len()),
        });
    }
    if a.len() < 2 {
        return Err(AnalysisError::TooFewSamples {
            op: OP,
            need: 2,
            got: a.len(),
        });
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let ms = mean_sem(&d);
    if ms.sem == 0.0 {
        return Ok((
            ms.mean,
            f64::INFINITY.copysign(ms.mean),
            if ms.mean == 0.0 { 1.0 } else { 0.0 },
        ));
    }
    let t = ms.mean / ms.sem;
    Ok((ms.mean, t, student_t_two_sided_p(t, (d.len() - 1) as f64)))
}

/// Wilcoxon rank-sum (Mann–Whitney U) test, two-sided: `(U of a, p)`. Exact by enumeration when
/// C(n_a + n_b, n_a) ≤ 200 000 (ties get mid-ranks), normal approximation otherwise.
pub fn rank_sum_test(a: &[f64], b: &[f64]) -> Result<(f64, f64)> {
    const OP: &str = "rank_sum_test";
    if a.is_empty() || b.is_empty() {
        return Err(AnalysisError::TooFewSamples {
            op: OP,
            need: 1,
            got: a.len().min(b.len()),
        });
    }
    let all: Vec<f64> = a.iter().chain(b).copied().collect();
    let ranks = mid_ranks(&all);
    let (na, nb) = (a.len(), b.len());
    let rank_sum = |idx: &[usize]| idx.iter().map(|&i| ranks[i]).sum::<f64>();
    let u_of = |r: f64| r - (na * (na + 1)) as f64 / 2.0;
    let observed = u_of(rank_sum(&(0..na).collect::<Vec<_>>()));
    let mean_u = (na * nb) as f64 / 2.0;
    if binomial(na + nb, na) <= 200_000.0 {
        let mut count = 0usize;
        let mut extreme = 0usize;
        let mut idx: Vec<usize> = (0..na).collect();
        loop {
            let u = u_of(rank_sum(&idx));
            count += 1;
            if (u - mean_u).abs() >= (observed - mean_u).abs() - 1e-9 {
                extreme += 1;
            }
            if !next_combination(&mut idx, na + nb) {
                break;
            }
        }
        return Ok((observed, extreme as f64 / count as f64));
    }
    let n = (na + nb) as f64;
    let sd = ((na * nb) as f64 * (n + 1.0) / 12.0).sqrt();
    let z = (observed - mean_u).abs() / sd;
    Ok((observed, (2.0 * normal_sf(z)).min(1.0)))
}

/// Permutation test of the slope of `y` on `x`: the fraction of `n_perm` shuffles of `y` whose |slope| is
/// at least the observed one (with the observed counted, so p ≥ 1/(n_perm + 1)). Seeded.
pub fn permutation_slope_test(x: &[f64], y: &[f64], n_perm: usize, seed: u64) -> Result<f64> {
    let observed = linear_fit(x, y)?.slope.abs();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut shuffled = y.to_vec();
    let mut hits = 1usize;
    for _ in 0..n_perm {
        shuffled.shuffle(&mut rng);
        if linear_fit(x, &shuffled)?.slope.abs() >= observed - 1e-12 {
            hits += 1;
        }
    }
    Ok(hits as f64 / (n_perm + 1) as f64)
}

fn mid_ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

fn next_combination(idx: &mut [usize], n: usize) -> bool {
    let k = idx.len();
    for i in (0..k).rev() {
        if idx[i] < n - k + i {
            idx[i] += 1;
            for j in i + 1..k {
                idx[j] = idx[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// Upper tail of the standard normal, via erfc (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7).
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Two-sided p-value of Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
pub fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    regularized_incomplete_beta(df / (df + t * t), 0.5 * df, 0.5)
}

/// I_x(a, b) by the continued fraction of Numerical Recipes (`betai`/`betacf`).
fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(x, a, b) / a
    } else {
        1.0 - front * beta_cf(1.0 - x, b, a) / b
    }
}

fn beta_cf(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error ~1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from scipy 1.x: `scipy.stats.t.sf(2.0, 10) * 2`, `t.sf(1.0, 1) * 2` (= 0.5),
    /// `norm.sf(1.96)`.
    #[test]
    fn distribution_tails_match_reference_values() {
        assert!((student_t_two_sided_p(2.0, 10.0) - 0.073_388_034_770_740_7).abs() < 1e-9);
        assert!((student_t_two_sided_p(1.0, 1.0) - 0.5).abs() < 1e-12);
        assert!((student_t_two_sided_p(0.0, 5.0) - 1.0).abs() < 1e-12);
        assert!((normal_sf(1.96) - 0.024_997_895_148_220_435).abs() < 2e-7);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
    }

    #[test]
    fn exact_rank_sum_of_separated_groups_of_three() {
        // 3 vs 3, completely separated: the two extreme arrangements out of C(6,3) = 20.
        let (u, p) = rank_sum_test(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
        assert_eq!(u, 0.0);
        assert!((p - 0.1).abs() < 1e-12);
        let (_, p) = rank_sum_test(&[1.0, 4.0, 5.0], &[2.0, 3.0, 6.0]).unwrap();
        assert!(p > 0.5);
    }

    #[test]
    fn linear_fit_recovers_a_line_and_its_significance() {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|v| 2.0 * v + 1.0 + if (*v as i32) % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        let f = linear_fit(&x, &y).unwrap();
        assert!((f.slope - 2.0).abs() < 0.02 && (f.intercept - 1.0).abs() < 0.1);
        assert!(f.r2 > 0.999 && f.p_value < 1e-10);
        let p = permutation_slope_test(&x, &y, 999, 1).unwrap();
        assert!(
            (p - 0.001).abs() < 1e-12,
            "only the identity permutation is as extreme: {p}"
        );
    }

    #[test]
    fn paired_t_test_matches_hand_computation() {
        // d = [1, 2, 3, 4]: mean 2.5, sd 1.291, sem 0.6455, t = 3.873, df 3 → p = 0.0305 (scipy ttest_rel).
        let (m, t, p) = paired_t_test(&[2.0, 4.0, 6.0, 8.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(m, 2.5);
        assert!((t - 3.872_983_346_207_417).abs() < 1e-12);
        assert!((p - 0.030_466_291_662_170_977).abs() < 1e-9);
    }
}
