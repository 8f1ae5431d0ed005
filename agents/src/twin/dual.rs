//! Forward-mode dual numbers over [`Real`]/[`Lanes`]: a value and its derivatives with respect to `D`
//! inputs, so that an effector's one step (written once over those traits in `reachlab_envs`) also gives
//! its Jacobian, trial by trial, in `f64`.
//!
//! Written here rather than taken from a crate: the step needs the `Real`/`Lanes` operations (constants,
//! per-lane constants, branch selection by mask) on a fixed-size tangent array that the compiler can
//! vectorise, and the derivative of `max`/`min` at a tie split in halves as candle's autograd splits it,
//! so that the fused twin's gradient equals the graph's wherever the graph's is defined.

use reachlab_envs::effector::{Lanes, Real};

/// A value `v` and its partial derivatives `d` with respect to `D` inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual<const D: usize> {
    pub v: f64,
    pub d: [f64; D],
}

impl<const D: usize> Dual<D> {
    /// A constant (every derivative 0).
    #[inline]
    pub fn constant(v: f64) -> Self {
        Dual { v, d: [0.0; D] }
    }

    /// Input number `i` with value `v` (derivative 1 with respect to itself).
    #[inline]
    pub fn input(v: f64, i: usize) -> Self {
        let mut d = [0.0; D];
        d[i] = 1.0;
        Dual { v, d }
    }

    /// `a·x.d + b·y.d` with value `v`.
    #[inline(always)]
    fn combine(v: f64, a: f64, x: &Self, b: f64, y: &Self) -> Self {
        let mut r = *x;
        r.v = v;
        for (r, y) in r.d.iter_mut().zip(&y.d) {
            *r = a * *r + b * y;
        }
        r
    }

    /// The value `v` with the derivatives scaled by `a`.
    #[inline(always)]
    fn scaled(v: f64, a: f64, x: &Self) -> Self {
        let mut r = *x;
        r.v = v;
        r.d.iter_mut().for_each(|d| *d *= a);
        r
    }

    /// `max(self, c)` or `min(self, c)` (`keep_self` says which side wins): the derivative of the side
    /// that wins, halved at a tie (candle's rule for `maximum`/`minimum`).
    #[inline]
    fn clamp_side(&self, c: f64, value: f64, keep_self: bool) -> Self {
        if self.v == c {
            Self::scaled(value, 0.5, self)
        } else if keep_self {
            *self
        } else {
            Self::constant(value)
        }
    }
}

impl<const D: usize> Real for Dual<D> {
    type Error = LaneCoupling;
    type Mask = bool;

    #[inline(always)]
    fn add(&self, o: &Self) -> Result<Self, LaneCoupling> {
        Ok(Self::combine(self.v + o.v, 1.0, self, 1.0, o))
    }
    #[inline(always)]
    fn sub(&self, o: &Self) -> Result<Self, LaneCoupling> {
        Ok(Self::combine(self.v - o.v, 1.0, self, -1.0, o))
    }
    #[inline(always)]
    fn mul(&self, o: &Self) -> Result<Self, LaneCoupling> {
        Ok(Self::combine(self.v * o.v, o.v, self, self.v, o))
    }
    #[inline(always)]
    fn div(&self, o: &Self) -> Result<Self, LaneCoupling> {
        let inv = 1.0 / o.v;
        Ok(Self::combine(self.v / o.v, inv, self, -self.v * inv * inv, o))
    }
    #[inline(always)]
    fn neg(&self) -> Result<Self, LaneCoupling> {
        Ok(Self::scaled(-self.v, -1.0, self))
    }
    #[inline(always)]
    fn add_c(&self, c: f64) -> Result<Self, LaneCoupling> {
        Ok(Dual {
            v: self.v + c,
            d: self.d,
        })
    }
    #[inline(always)]
    fn mul_c(&self, c: f64) -> Result<Self, LaneCoupling> {
        Ok(Self::scaled(self.v * c, c, self))
    }
    #[inline(always)]
    fn max_c(&self, c: f64) -> Result<Self, LaneCoupling> {
        Ok(self.clamp_side(c, self.v.max(c), self.v > c))
    }
    #[inline(always)]
    fn min_c(&self, c: f64) -> Result<Self, LaneCoupling> {
        Ok(self.clamp_side(c, self.v.min(c), self.v < c))
    }
    #[inline(always)]
    fn sin(&self) -> Result<Self, LaneCoupling> {
        Ok(Self::scaled(self.v.sin(), self.v.cos(), self))
    }
    #[inline(always)]
    fn cos(&self) -> Result<Self, LaneCoupling> {
        Ok(Self::scaled(self.v.cos(), -self.v.sin(), self))
    }
    #[inline(always)]
    fn full_like(&self, c: f64) -> Result<Self, LaneCoupling> {
        Ok(Self::constant(c))
    }
    #[inline(always)]
    fn gt(&self, o: &Self) -> Result<bool, LaneCoupling> {
        Ok(self.v > o.v)
    }
    #[inline(always)]
    fn gt_c(&self, c: f64) -> Result<bool, LaneCoupling> {
        Ok(self.v > c)
    }
    #[inline(always)]
    fn lt_c(&self, c: f64) -> Result<bool, LaneCoupling> {
        Ok(self.v < c)
    }
    #[inline(always)]
    fn le_c(&self, c: f64) -> Result<bool, LaneCoupling> {
        Ok(self.v <= c)
    }
    #[inline(always)]
    fn ge_c(&self, c: f64) -> Result<bool, LaneCoupling> {
        Ok(self.v >= c)
    }
    #[inline(always)]
    fn select(mask: &bool, on_true: &Self, on_false: &Self) -> Result<Self, LaneCoupling> {
        Ok(if *mask { *on_true } else { *on_false })
    }
}

/// What a lane operation reports when a step mixes lanes other than through the numbers every lane shares
/// (a lane times a number that depends on another lane's own inputs): [`DualLanes`] cannot hold that
/// derivative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a lane was multiplied by a number that depends on the lanes' own inputs: the step is not lane-separable")]
pub struct LaneCoupling;

/// One lane's dual number: a value, its derivatives with respect to the `J` inputs every lane shares (the
/// joints), and with respect to the `O` inputs of its own lane (its activation, force and excitation);
/// its derivatives with respect to the other lanes' own inputs are zero and not stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneDual<const J: usize, const O: usize> {
    pub v: f64,
    pub shared: [f64; J],
    pub own: [f64; O],
}

impl<const J: usize, const O: usize> LaneDual<J, O> {
    #[inline(always)]
    fn constant(v: f64) -> Self {
        LaneDual {
            v,
            shared: [0.0; J],
            own: [0.0; O],
        }
    }

    #[inline(always)]
    fn combine(v: f64, a: f64, x: &Self, b: f64, y: &Self) -> Self {
        let mut r = LaneDual { v, ..*x };
        for (r, (x, y)) in r.shared.iter_mut().zip(x.shared.iter().zip(&y.shared)) {
            *r = a * x + b * y;
        }
        for (r, (x, y)) in r.own.iter_mut().zip(x.own.iter().zip(&y.own)) {
            *r = a * x + b * y;
        }
        r
    }

    #[inline(always)]
    fn scaled(v: f64, a: f64, x: &Self) -> Self {
        let mut r = LaneDual { v, ..*x };
        r.shared.iter_mut().for_each(|d| *d *= a);
        r.own.iter_mut().for_each(|d| *d *= a);
        r
    }

    #[inline(always)]
    fn clamp_side(&self, c: f64, value: f64, keep_self: bool) -> Self {
        if self.v == c {
            Self::scaled(value, 0.5, self)
        } else if keep_self {
            *self
        } else {
            Self::constant(value)
        }
    }
}

/// `K` lanes of a trial (one per muscle) as [`LaneDual`]s; a scalar of the same trial is a [`Dual`] over
/// `D = J + O·K` inputs, ordered: the shared ones, then own input `q` of lane `m` at `J + q·K + m`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DualLanes<const J: usize, const O: usize, const K: usize>(pub [LaneDual<J, O>; K]);

impl<const J: usize, const O: usize, const K: usize> DualLanes<J, O, K> {
    /// Own input `q` of every lane, with values `v`.
    pub fn own_inputs(v: &[f64], q: usize) -> Self {
        DualLanes(std::array::from_fn(|m| {
            let mut d = LaneDual::constant(v[m]);
            d.own[q] = 1.0;
            d
        }))
    }

    /// Lane `m` as a scalar [`Dual`] over all `D` inputs.
    #[inline(always)]
    pub fn lane<const D: usize>(&self, m: usize) -> Dual<D> {
        const { assert!(J + O * K <= D) };
        let l = &self.0[m];
        let mut d = Dual::constant(l.v);
        d.d[..J].copy_from_slice(&l.shared);
        for (q, x) in l.own.iter().enumerate() {
            d.d[J + q * K + m] = *x;
        }
        d
    }

    #[inline(always)]
    fn map(&self, f: impl Fn(&LaneDual<J, O>) -> LaneDual<J, O>) -> Self {
        let mut r = *self;
        for l in r.0.iter_mut() {
            *l = f(l);
        }
        r
    }

    #[inline(always)]
    fn zip(&self, o: &Self, f: impl Fn(&LaneDual<J, O>, &LaneDual<J, O>) -> LaneDual<J, O>) -> Self {
        let mut r = *self;
        for (l, b) in r.0.iter_mut().zip(&o.0) {
            *l = f(l, b);
        }
        r
    }

    #[inline(always)]
    fn mask(&self, f: impl Fn(&LaneDual<J, O>) -> bool) -> [bool; K] {
        std::array::from_fn(|i| f(&self.0[i]))
    }

    /// A scalar `r` as a lane's derivatives, if it depends on the shared inputs only.
    #[inline(always)]
    fn shared_part<const D: usize>(r: &Dual<D>) -> Result<[f64; J], LaneCoupling> {
        const { assert!(J + O * K <= D) };
        if r.d[J..].iter().any(|&d| d != 0.0) {
            return Err(LaneCoupling);
        }
        Ok(std::array::from_fn(|i| r.d[i]))
    }
}

impl<const J: usize, const O: usize, const K: usize> Real for DualLanes<J, O, K> {
    type Error = LaneCoupling;
    type Mask = [bool; K];

    #[inline(always)]
    fn add(&self, o: &Self) -> Result<Self, LaneCoupling> {
        Ok(self.zip(o, |a, b| LaneDual::combine(a.v + b.v, 1.0, a, 1.0, b)))
    }
    #[inline(always)]
    fn sub(&self, o: &Self) -> Result<Self, LaneCoupling> {
        Ok(self.zip(o, |a, b| LaneDual::combine(a.v - b.v, 1.0, a, -1.0, b)))
    }
    #[inline(always)]
    fn mul(&self, o: &Self) -> Result<Self, LaneCoupling> {
        Ok(self.zip(o, |a, b| LaneDual::combine(a.v * b.v, b.v, a, a.v, b)))
    }
    #[inline(always)]
    fn div(&self, o: &Self) -> Result<Self, LaneCoupling> {
        Ok(self.zip(o, |a, b| {
            let inv = 1.0 / b.v;
            LaneDual::combine(a.v / b.v, inv, a, -a.v * inv * inv, b)
        }))
    }
    #[inline(always)]
    fn neg(&self) -> Result<Self, LaneCoupling> {
        Ok(self.map(|a| LaneDual::scaled(-a.v, -1.0, a)))
    }
    #[inline(always)]
    fn add_c(&self, c: f64) -> Result<Self, LaneCoupling> {
        Ok(self.map(|a| LaneDual { v: a.v + c, ..*a }))
    }
    #[inline(always)]
    fn mul_c(&self, c: f64) -> Result<Self, LaneCoupling> {
        Ok(self.map(|a| LaneDual::scaled(a.v * c, c, a)))
    }
    #[inline(always)]
    fn max_c(&self, c: f64) -> Result<Self, LaneCoupling> {
        Ok(self.map(|a| a.clamp_side(c, a.v.max(c), a.v > c)))
    }
    #[inline(always)]
    fn min_c(&self, c: f64) -> Result<Self, LaneCoupling> {
        Ok(self.map(|a| a.clamp_side(c, a.v.min(c), a.v < c)))
    }
    #[inline(always)]
    fn sin(&self) -> Result<Self, LaneCoupling> {
        Ok(self.map(|a| LaneDual::scaled(a.v.sin(), a.v.cos(), a)))
    }
    #[inline(always)]
    fn cos(&self) -> Result<Self, LaneCoupling> {
        Ok(self.map(|a| LaneDual::scaled(a.v.cos(), -a.v.sin(), a)))
    }
    #[inline(always)]
    fn full_like(&self, c: f64) -> Result<Self, LaneCoupling> {
        Ok(DualLanes([LaneDual::constant(c); K]))
    }
    #[inline(always)]
    fn gt(&self, o: &Self) -> Result<[bool; K], LaneCoupling> {
        Ok(std::array::from_fn(|i| self.0[i].v > o.0[i].v))
    }
    #[inline(always)]
    fn gt_c(&self, c: f64) -> Result<[bool; K], LaneCoupling> {
        Ok(self.mask(|a| a.v > c))
    }
    #[inline(always)]
    fn lt_c(&self, c: f64) -> Result<[bool; K], LaneCoupling> {
        Ok(self.mask(|a| a.v < c))
    }
    #[inline(always)]
    fn le_c(&self, c: f64) -> Result<[bool; K], LaneCoupling> {
        Ok(self.mask(|a| a.v <= c))
    }
    #[inline(always)]
    fn ge_c(&self, c: f64) -> Result<[bool; K], LaneCoupling> {
        Ok(self.mask(|a| a.v >= c))
    }
    #[inline(always)]
    fn select(mask: &[bool; K], on_true: &Self, on_false: &Self) -> Result<Self, LaneCoupling> {
        let mut r = *on_false;
        for ((l, t), m) in r.0.iter_mut().zip(&on_true.0).zip(mask) {
            if *m {
                *l = *t;
            }
        }
        Ok(r)
    }
}

impl<const D: usize, const J: usize, const O: usize, const K: usize> Lanes<Dual<D>> for DualLanes<J, O, K> {
    #[inline(always)]
    fn add_k(&self, k: &[f64]) -> Result<Self, LaneCoupling> {
        let mut r = *self;
        for (l, k) in r.0.iter_mut().zip(k) {
            l.v += k;
        }
        Ok(r)
    }
    #[inline(always)]
    fn mul_k(&self, k: &[f64]) -> Result<Self, LaneCoupling> {
        let mut r = *self;
        for (l, k) in r.0.iter_mut().zip(k) {
            *l = LaneDual::scaled(l.v * k, *k, l);
        }
        Ok(r)
    }
    #[inline(always)]
    fn scaled(r: &Dual<D>, k: &[f64]) -> Result<Self, LaneCoupling> {
        let shared = Self::shared_part(r)?;
        Ok(DualLanes(std::array::from_fn(|m| LaneDual {
            v: r.v * k[m],
            shared: shared.map(|d| d * k[m]),
            own: [0.0; O],
        })))
    }
    #[inline(always)]
    fn mul_r(&self, r: &Dual<D>) -> Result<Self, LaneCoupling> {
        let shared = Self::shared_part(r)?;
        let mut out = *self;
        for l in out.0.iter_mut() {
            let mut n = LaneDual::scaled(l.v * r.v, r.v, l);
            for (d, s) in n.shared.iter_mut().zip(&shared) {
                *d += l.v * s;
            }
            *l = n;
        }
        Ok(out)
    }
    #[inline(always)]
    fn sum(&self) -> Result<Dual<D>, LaneCoupling> {
        const { assert!(J + O * K <= D) };
        // From lane 0 up, as the f64 lanes sum (the value bit for bit).
        let mut acc = Dual::<D>::constant(0.0);
        for (m, l) in self.0.iter().enumerate() {
            acc.v += l.v;
            for (a, d) in acc.d.iter_mut().zip(&l.shared) {
                *a += d;
            }
            for (q, d) in l.own.iter().enumerate() {
                acc.d[J + q * K + m] += d;
            }
        }
        Ok(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of `f` at `x` against the dual's derivative, for a function of two inputs
    /// built from every operation.
    #[test]
    fn derivatives_match_central_differences() {
        fn g<R: Real>(x: &R, y: &R) -> Result<R, R::Error> {
            let a = x.mul(y)?.add(&x.sin()?)?;
            let b = y.cos()?.div(&x.add_c(3.0)?)?;
            a.sub(&b)?.mul_c(1.7)?.neg()?.max_c(-10.0)?.min_c(10.0)
        }
        fn f<R: Real>(x: &R, y: &R) -> R {
            g(x, y).expect("no error in f64 or duals")
        }
        for (x, y) in [(0.3, -1.2), (1.1, 0.4), (-0.7, 2.5)] {
            let d = f(&Dual::<2>::input(x, 0), &Dual::<2>::input(y, 1));
            let h = 1e-6;
            let dx = (f(&(x + h), &y) - f(&(x - h), &y)) / (2.0 * h);
            let dy = (f(&x, &(y + h)) - f(&x, &(y - h))) / (2.0 * h);
            assert_eq!(d.v, f(&x, &y));
            assert!((d.d[0] - dx).abs() < 1e-8, "{} vs {dx}", d.d[0]);
            assert!((d.d[1] - dy).abs() < 1e-8, "{} vs {dy}", d.d[1]);
        }
    }

    /// A lane-separable function (lanes times shared numbers, summed) in [`DualLanes`] against the same in
    /// dense duals over every input.
    #[test]
    fn lanes_carry_the_derivatives_that_dense_duals_do() {
        fn g<R: Real, L: Lanes<R>>(x: &R, a: &L, b: &L) -> Result<R, R::Error> {
            let phi = x.sin()?.add_c(0.3)?;
            let l = L::scaled(&phi, &[1.0, -2.0, 0.5])?;
            let m = a.mul(b)?.div(&b.add_c(2.0)?)?.mul_r(&phi)?.add(&l)?.max_c(-0.2)?;
            m.mul_k(&[0.7, 1.1, -0.4])?.sum()
        }
        let (x, a, b) = (0.4, [0.2, -0.5, 1.3], [0.9, 0.1, -0.7]);
        // Dense: inputs x, a0..a2, b0..b2 — the lane layout's order (shared, then own q of lane m at 1 + 3q + m).
        type Dense = Dual<7>;
        let dense = |v: &[f64; 3], q: usize| DenseLanes(std::array::from_fn(|m| Dense::input(v[m], 1 + 3 * q + m)));
        let want = g::<Dense, DenseLanes>(&Dense::input(x, 0), &dense(&a, 0), &dense(&b, 1)).unwrap();
        let got = g::<Dense, DualLanes<1, 2, 3>>(
            &Dense::input(x, 0),
            &DualLanes::own_inputs(&a, 0),
            &DualLanes::own_inputs(&b, 1),
        )
        .unwrap();
        assert_eq!(got.v, want.v);
        for (g, w) in got.d.iter().zip(&want.d) {
            assert!((g - w).abs() < 1e-14, "{:?} vs {:?}", got.d, want.d);
        }
        // A lane times a number that depends on a lane's own input is refused, not wrong.
        let own = DualLanes::<1, 2, 3>::own_inputs(&a, 0);
        let coupled: Dense = Lanes::<Dense>::sum(&own).unwrap();
        assert_eq!(Lanes::<Dense>::mul_r(&own, &coupled), Err(LaneCoupling));
    }

    /// Dense lanes (every lane with every derivative), the reference for the test above.
    #[derive(Debug, Clone, Copy)]
    struct DenseLanes([Dual<7>; 3]);

    impl Real for DenseLanes {
        type Error = LaneCoupling;
        type Mask = [bool; 3];
        fn add(&self, o: &Self) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(std::array::from_fn(|i| self.0[i].add(&o.0[i]).unwrap())))
        }
        fn sub(&self, o: &Self) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(std::array::from_fn(|i| self.0[i].sub(&o.0[i]).unwrap())))
        }
        fn mul(&self, o: &Self) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(std::array::from_fn(|i| self.0[i].mul(&o.0[i]).unwrap())))
        }
        fn div(&self, o: &Self) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(std::array::from_fn(|i| self.0[i].div(&o.0[i]).unwrap())))
        }
        fn neg(&self) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(self.0.map(|a| a.neg().unwrap())))
        }
        fn add_c(&self, c: f64) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(self.0.map(|a| a.add_c(c).unwrap())))
        }
        fn mul_c(&self, c: f64) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(self.0.map(|a| a.mul_c(c).unwrap())))
        }
        fn max_c(&self, c: f64) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(self.0.map(|a| a.max_c(c).unwrap())))
        }
        fn min_c(&self, c: f64) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(self.0.map(|a| a.min_c(c).unwrap())))
        }
        fn sin(&self) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(self.0.map(|a| a.sin().unwrap())))
        }
        fn cos(&self) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(self.0.map(|a| a.cos().unwrap())))
        }
        fn full_like(&self, c: f64) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes([Dual::constant(c); 3]))
        }
        fn gt(&self, o: &Self) -> Result<[bool; 3], LaneCoupling> {
            Ok(std::array::from_fn(|i| self.0[i].v > o.0[i].v))
        }
        fn gt_c(&self, c: f64) -> Result<[bool; 3], LaneCoupling> {
            Ok(self.0.map(|a| a.v > c))
        }
        fn lt_c(&self, c: f64) -> Result<[bool; 3], LaneCoupling> {
            Ok(self.0.map(|a| a.v < c))
        }
        fn le_c(&self, c: f64) -> Result<[bool; 3], LaneCoupling> {
            Ok(self.0.map(|a| a.v <= c))
        }
        fn ge_c(&self, c: f64) -> Result<[bool; 3], LaneCoupling> {
            Ok(self.0.map(|a| a.v >= c))
        }
        fn select(mask: &[bool; 3], t: &Self, f: &Self) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(std::array::from_fn(
                |i| if mask[i] { t.0[i] } else { f.0[i] },
            )))
        }
    }

    impl Lanes<Dual<7>> for DenseLanes {
        fn add_k(&self, k: &[f64]) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(std::array::from_fn(|i| self.0[i].add_c(k[i]).unwrap())))
        }
        fn mul_k(&self, k: &[f64]) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(std::array::from_fn(|i| self.0[i].mul_c(k[i]).unwrap())))
        }
        fn scaled(r: &Dual<7>, k: &[f64]) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(std::array::from_fn(|i| r.mul_c(k[i]).unwrap())))
        }
        fn mul_r(&self, r: &Dual<7>) -> Result<Self, LaneCoupling> {
            Ok(DenseLanes(self.0.map(|a| a.mul(r).unwrap())))
        }
        fn sum(&self) -> Result<Dual<7>, LaneCoupling> {
            Ok(self.0.iter().fold(Dual::constant(0.0), |acc, x| acc.add(x).unwrap()))
        }
    }

    #[test]
    fn a_tie_at_a_clamp_halves_the_derivative_as_candle_does() {
        let x = Dual::<1>::input(0.5, 0);
        assert_eq!(x.max_c(0.5).unwrap().d[0], 0.5);
        assert_eq!(x.min_c(0.5).unwrap().d[0], 0.5);
        assert_eq!(x.max_c(0.4).unwrap().d[0], 1.0);
        assert_eq!(x.max_c(0.6).unwrap().d[0], 0.0);
    }
}
