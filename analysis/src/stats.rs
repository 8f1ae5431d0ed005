//! Small statistics: mean ± s.e.m., simple linear regression with its t-test, paired t-test, the
//! Wilcoxon rank-sum (Mann–Whitney) test, and a permutation test of a slope.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

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

/// A mean over independent units (seeds) with its confidence interval from Student's t, and the values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeanCi {
    /// Number of finite values (NaN values, e.g. a measure a seed could not give, are left out).
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub sd: f64,
    pub sem: f64,
    /// Confidence level of the interval (0.95).
    pub level: f64,
    /// mean ± t_{(1+level)/2, n−1}·sem; NaN for fewer than 2 values.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Every value, in the order given (NaN included).
    pub values: Vec<f64>,
}

/// Mean and `level` confidence interval of the finite values of `x`.
pub fn mean_ci(x: &[f64], level: f64) -> MeanCi {
    let finite: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    let n = finite.len();
    let ms = mean_sem(&finite);
    let mean = if n == 0 { f64::NAN } else { ms.mean };
    let sd = ms.sem * (n as f64).sqrt();
    let half = if n > 1 {
        student_t_quantile(0.5 + level / 2.0, (n - 1) as f64) * ms.sem
    } else {
        f64::NAN
    };
    MeanCi {
        n,
        mean,
        sd: if n > 1 { sd } else { f64::NAN },
        sem: if n > 1 { ms.sem } else { f64::NAN },
        level,
        ci_low: mean - half,
        ci_high: mean + half,
        values: x.to_vec(),
    }
}

/// One-sample t-test of the finite values of `x` against `mu`: `(mean − mu, t, two-sided p)`.
pub fn one_sample_t_test(x: &[f64], mu: f64) -> Result<(f64, f64, f64)> {
    let d: Vec<f64> = x.iter().filter(|v| v.is_finite()).map(|v| v - mu).collect();
    let zeros = vec![0.0; d.len()];
    paired_t_test(&d, &zeros)
}

/// A least-squares line `y = slope·x + intercept`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
    // Normal approximation with the tie correction of the variance.
    let n = (na + nb) as f64;
    let mut sorted = all.clone();
    sorted.sort_by(f64::total_cmp);
    let ties: f64 = sorted
        .chunk_by(|a, b| a == b)
        .map(|g| (g.len() as f64).powi(3) - g.len() as f64)
        .sum();
    let sd = ((na * nb) as f64 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)))).sqrt();
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

/// Upper tail of the standard normal, P(Z > z).
pub fn normal_sf(z: f64) -> f64 {
    Normal::standard().sf(z)
}

/// Two-sided p-value of Student's t with `df` degrees of freedom, P(|T| ≥ |t|).
pub fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(d) => (2.0 * d.sf(t.abs())).min(1.0),
        Err(_) => f64::NAN,
    }
}

/// The `q` quantile of Student's t with `df` degrees of freedom (NaN for df ≤ 0).
pub fn student_t_quantile(q: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |d| d.inverse_cdf(q))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from scipy 1.x: `scipy.stats.t.sf(2.0, 10) * 2`, `t.sf(1.0, 1) * 2` (= 0.5),
    /// `norm.sf(1.96)`, now computed by statrs.
    #[test]
    fn distribution_tails_match_reference_values() {
        assert!((student_t_two_sided_p(2.0, 10.0) - 0.073_388_034_770_740_7).abs() < 1e-9);
        assert!((student_t_two_sided_p(1.0, 1.0) - 0.5).abs() < 1e-12);
        assert!((student_t_two_sided_p(0.0, 5.0) - 1.0).abs() < 1e-12);
        assert!((normal_sf(1.96) - 0.024_997_895_148_220_435).abs() < 1e-9);
        // t_{0.975, 7} = 2.3646242515927844 (t tables; the 95 % interval of 8 seeds).
        assert!((student_t_quantile(0.975, 7.0) - 2.364_624_251_592_784_4).abs() < 1e-9);
    }

    #[test]
    fn mean_ci_and_one_sample_t_match_hand_values() {
        // x = [1, 2, 3, 4, 5, 6, 7, 8] (+ a NaN left out): mean 4.5, sd √6 = 2.449489742783178,
        // sem = sd/√8 = 0.8660254, 4.5 ± 2.3646243 · 0.8660254 = (2.4521753, 6.5478247).
        let c = mean_ci(&[1.0, 2.0, 3.0, 4.0, f64::NAN, 5.0, 6.0, 7.0, 8.0], 0.95);
        assert_eq!((c.n, c.values.len()), (8, 9));
        assert!((c.mean - 4.5).abs() < 1e-12 && (c.sd - 2.449_489_742_783_178).abs() < 1e-12);
        assert!((c.ci_low - 2.452_175_327_7).abs() < 1e-9 && (c.ci_high - 6.547_824_672_3).abs() < 1e-9);
        let one = mean_ci(&[3.0], 0.95);
        assert!(one.mean == 3.0 && one.ci_low.is_nan());
        // Against 2: t = 2.5/0.8660254 = 2.886751345948129; p = 2∫_t^∞ of the t(7) density = 0.0234246
        // (Simpson's rule, 2e5 intervals).
        let (d, t, p) = one_sample_t_test(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 2.0).unwrap();
        assert!((d - 2.5).abs() < 1e-12 && (t - 2.886_751_345_948_129).abs() < 1e-12);
        assert!((p - 0.023_424_636).abs() < 1e-7, "{p}");
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
    fn large_rank_sums_use_the_normal_approximation() {
        // 20 vs 20, separated: U = 0, mean 200, sd = √(20·20·41/12) = 36.968, z = 5.410,
        // p = 2·P(Z > 5.410) = 6.30e-8. The pooled near/far test of 8 seeds × 3 targets is this size.
        let a: Vec<f64> = (0..20).map(f64::from).collect();
        let b: Vec<f64> = (20..40).map(f64::from).collect();
        let (u, p) = rank_sum_test(&a, &b).unwrap();
        let z = 200.0 / (20.0f64 * 20.0 * 41.0 / 12.0).sqrt();
        assert_eq!(u, 0.0);
        assert!(
            (p - 2.0 * normal_sf(z)).abs() < 1e-15 && (p - 6.30e-8).abs() < 1e-9,
            "{p}"
        );
        // Interleaved groups: U = 190, z = 10/36.968 = 0.27, p = 0.787.
        let c: Vec<f64> = (0..40).filter(|i| i % 2 == 0).map(f64::from).collect();
        let d: Vec<f64> = (0..40).filter(|i| i % 2 == 1).map(f64::from).collect();
        assert!((rank_sum_test(&c, &d).unwrap().1 - 0.7868).abs() < 1e-3);
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
