//! arm26's step as one node of candle's graph: the env's own step (`Arm26Model::step`, written once over
//! `Real`/`Lanes`) run per trial in `f64` forward, and in forward-mode [`Dual`] numbers backward, whose
//! derivatives are the step's Jacobian; the node's backward multiplies the incoming gradient by it.
//!
//! Why a custom node: run on tensors, the step is about 250 candle operations on `[N, 1]` and `[N, 6]`
//! tensors, each a few microseconds with its backward node, so that at small batches an update through the
//! arm costs what the operations' overhead costs (docs/results.md, the arm26 speed table). Here a step is
//! one operation, whatever the batch; the numbers are the env's (its `f64` step, bit for bit, rounded once
//! to the graph's dtype).
//!
//! One trial's packed state, [`WIDTH`] columns: the joints (θ₁, θ₂, θ̇₁, θ̇₂), the six activations, the
//! six muscle forces — the [`INPUTS`] numbers the next step reads — then what is read off the state: the
//! six fibre lengths and velocities (the proprioception's raw values) and the hand's position relative to
//! the start and its velocity.

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Shape, Tensor};
use reachlab_envs::effector::arm26::{Arm26Model, Arm26State, Muscles, N_MUSCLES};
use reachlab_envs::effector::real::infallible;
use reachlab_envs::effector::{Lanes, LawCoefficients, Real};

use super::dual::{Dual, DualLanes, LaneCoupling};
use crate::kernels::contiguous;

/// Columns of the packed state the step reads: joints, activations, forces.
pub const STATE: usize = 4 + 2 * N_MUSCLES;
/// The numbers a step is differentiated with respect to: the state it reads and the excitations.
pub const INPUTS: usize = STATE + N_MUSCLES;
/// Columns of the packed state: [`STATE`], fibre lengths and velocities, hand position and velocity.
pub const WIDTH: usize = STATE + 2 * N_MUSCLES + 4;
/// Where the fibre lengths start (velocities follow).
pub const FIBRE: usize = STATE;
/// Where the hand's position starts (its velocity follows).
pub const HAND: usize = STATE + 2 * N_MUSCLES;

type D = Dual<INPUTS>;
/// The muscles' lanes: each depends on the joints (shared) and on its own activation, force and excitation.
type DL = DualLanes<4, 3, N_MUSCLES>;

/// The packed state of `state` (its hand relative to `start`).
pub fn pack(model: &Arm26Model, state: &Arm26State<f64, [f64; N_MUSCLES]>, start: [f64; 2]) -> [f64; WIDTH] {
    let mut out = [0.0; WIDTH];
    infallible(write_state(model, &state.joint, &state.muscles, start, &mut out));
    out
}

/// Lane `m` of `Self` as a number `R` of the trial.
pub trait Lane<R> {
    fn lane(&self, m: usize) -> R;
}

impl Lane<f64> for [f64; N_MUSCLES] {
    fn lane(&self, m: usize) -> f64 {
        self[m]
    }
}

impl Lane<D> for DL {
    fn lane(&self, m: usize) -> D {
        DualLanes::lane(self, m)
    }
}

/// Writes `state`'s packed columns into `out`.
fn write_state<R, L>(
    model: &Arm26Model,
    joint: &[R; 4],
    m: &Muscles<L>,
    start: [f64; 2],
    out: &mut [R],
) -> Result<(), R::Error>
where
    R: Real + Copy,
    L: Lanes<R> + Lane<R>,
{
    out[..4].copy_from_slice(joint);
    for (k, lanes) in [&m.activation, &m.force, &m.length, &m.velocity]
        .into_iter()
        .enumerate()
    {
        for (i, o) in out[4 + k * N_MUSCLES..4 + (k + 1) * N_MUSCLES].iter_mut().enumerate() {
            *o = lanes.lane(i);
        }
    }
    let ([x, y], [vx, vy]) = model.fingertip(joint)?;
    let hand = [x.add_c(-start[0])?, y.add_c(-start[1])?, vx, vy];
    out[HAND..].copy_from_slice(&hand);
    Ok(())
}

/// One trial's step on numbers `R`: the state it reads (joints, activations, forces), excitations `u`,
/// the trial's force law acting when `on`; writes the next packed state into `out`.
#[allow(clippy::too_many_arguments)]
fn trial_step<R, L>(
    model: &Arm26Model,
    start: [f64; 2],
    law: &LawCoefficients<R>,
    on: bool,
    joint: [R; 4],
    activation: L,
    force: L,
    u: L,
    out: &mut [R],
) -> Result<(), R::Error>
where
    R: Real + Copy,
    L: Lanes<R> + Lane<R>,
{
    let geometry = model.geometry::<R, L>(&joint)?;
    // The step reads the activations, the forces and the geometry of the joints; the other muscle
    // quantities are recomputed by it.
    let muscles = Muscles {
        activation: activation.clone(),
        length: activation.clone(),
        velocity: activation.clone(),
        flpe: activation.clone(),
        flce: activation.clone(),
        active_force: activation,
        force,
    };
    let state = Arm26State {
        joint,
        muscles,
        geometry,
    };
    let ([x, y], vel) = model.fingertip(&state.joint)?;
    let pos = [x.add_c(-start[0])?, y.add_c(-start[1])?];
    let load = if on {
        law.force(&pos, &vel)?
    } else {
        let zero = x.full_like(0.0)?;
        [zero, zero]
    };
    let (joint, muscles) = model.advance(&state, &u, &load)?;
    write_state(model, &joint, &muscles, start, out)
}

/// arm26's step for a batch of trials as a candle operation: `(state [N, WIDTH], u [N, 6], on [N, 1])` →
/// the next state `[N, WIDTH]`, differentiable in the state's first [`STATE`] columns and in `u`.
pub struct FusedArm26Step {
    pub model: Arm26Model,
    /// The fingertip at the start posture.
    pub start: [f64; 2],
    /// Each trial's force law.
    pub laws: Vec<LawCoefficients<f64>>,
}

/// The inputs of a step as `f64`, whatever the graph's dtype.
fn to_f64(s: &CpuStorage, l: &Layout, name: &str) -> candle_core::Result<Vec<f64>> {
    match s {
        CpuStorage::F32(v) => Ok(contiguous(v, l, "arm26 step", name)?
            .iter()
            .map(|&x| f64::from(x))
            .collect()),
        CpuStorage::F64(v) => Ok(contiguous(v, l, "arm26 step", name)?.to_vec()),
        _ => Err(candle_core::Error::Msg(format!(
            "arm26 step: {name} must be f32 or f64"
        ))),
    }
}

fn lanes(v: &[f64]) -> [f64; N_MUSCLES] {
    std::array::from_fn(|i| v[i])
}

impl FusedArm26Step {
    fn batch(&self, l1: &Layout, l2: &Layout, l3: &Layout) -> candle_core::Result<usize> {
        let n = self.laws.len();
        if l1.dims() != [n, WIDTH] || l2.dims() != [n, N_MUSCLES] || l3.dims() != [n, 1] {
            return Err(candle_core::Error::Msg(format!(
                "arm26 step: expected state [{n}, {WIDTH}], u [{n}, {N_MUSCLES}], on [{n}, 1]; got {:?}, {:?}, {:?}",
                l1.dims(),
                l2.dims(),
                l3.dims()
            )));
        }
        Ok(n)
    }

    /// The next packed states of `n` trials, in `f64`.
    fn forward(&self, state: &[f64], u: &[f64], on: &[f64]) -> Vec<f64> {
        let n = self.laws.len();
        let mut out = vec![0.0; n * WIDTH];
        for (i, o) in out.chunks_exact_mut(WIDTH).enumerate() {
            let s = &state[i * WIDTH..];
            let joint = [s[0], s[1], s[2], s[3]];
            infallible(trial_step(
                &self.model,
                self.start,
                &self.laws[i],
                on[i] != 0.0,
                joint,
                lanes(&s[4..]),
                lanes(&s[4 + N_MUSCLES..]),
                lanes(&u[i * N_MUSCLES..]),
                o,
            ));
        }
        out
    }

    /// `gᵀ·J` for each trial: the gradients with respect to the state `[N, WIDTH]` (zero past [`STATE`])
    /// and to `u` `[N, 6]`, given the gradient `g` `[N, WIDTH]` of the next state.
    fn backward(&self, state: &[f64], u: &[f64], on: &[f64], g: &[f64]) -> Result<(Vec<f64>, Vec<f64>), LaneCoupling> {
        let n = self.laws.len();
        let (mut gs, mut gu) = (vec![0.0; n * WIDTH], vec![0.0; n * N_MUSCLES]);
        let mut out = [D::constant(0.0); WIDTH];
        for i in 0..n {
            let s = &state[i * WIDTH..];
            let joint = std::array::from_fn(|j| Dual::input(s[j], j));
            // The lanes' own inputs in the order of the packed columns: activation, force, excitation.
            let activation = DL::own_inputs(&s[4..], 0);
            let force = DL::own_inputs(&s[4 + N_MUSCLES..], 1);
            let ui = DL::own_inputs(&u[i * N_MUSCLES..], 2);
            let law = lift(&self.laws[i]);
            trial_step::<D, DL>(
                &self.model,
                self.start,
                &law,
                on[i] != 0.0,
                joint,
                activation,
                force,
                ui,
                &mut out,
            )?;
            let gi = &g[i * WIDTH..(i + 1) * WIDTH];
            let mut acc = [0.0; INPUTS];
            for (o, &go) in out.iter().zip(gi) {
                if go != 0.0 {
                    for (a, d) in acc.iter_mut().zip(&o.d) {
                        *a += go * d;
                    }
                }
            }
            gs[i * WIDTH..i * WIDTH + STATE].copy_from_slice(&acc[..STATE]);
            gu[i * N_MUSCLES..(i + 1) * N_MUSCLES].copy_from_slice(&acc[STATE..]);
        }
        Ok((gs, gu))
    }
}

/// A force law's constants as duals.
fn lift(law: &LawCoefficients<f64>) -> LawCoefficients<D> {
    let c = Dual::constant;
    LawCoefficients {
        viscous: law.viscous.map(|row| row.map(c)),
        channel: law.channel.map(|(k, d, n)| (c(k), c(d), n.map(c))),
    }
}

fn storage(v: Vec<f64>, dtype: DType) -> CpuStorage {
    match dtype {
        DType::F32 => CpuStorage::F32(v.into_iter().map(|x| x as f32).collect()),
        _ => CpuStorage::F64(v),
    }
}

fn tensor_f64(t: &Tensor) -> candle_core::Result<Vec<f64>> {
    t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()
}

impl CustomOp3 for FusedArm26Step {
    fn name(&self) -> &'static str {
        "arm26_step"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let n = self.batch(l1, l2, l3)?;
        let state = to_f64(s1, l1, "state")?;
        let next = self.forward(&state, &to_f64(s2, l2, "u")?, &to_f64(s3, l3, "on")?);
        let dtype = if matches!(s1, CpuStorage::F32(_)) {
            DType::F32
        } else {
            DType::F64
        };
        Ok((storage(next, dtype), Shape::from((n, WIDTH))))
    }

    fn bwd(
        &self,
        state: &Tensor,
        u: &Tensor,
        on: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let n = self.batch(state.layout(), u.layout(), on.layout())?;
        let (gs, gu) = self
            .backward(
                &tensor_f64(state)?,
                &tensor_f64(u)?,
                &tensor_f64(on)?,
                &tensor_f64(grad)?,
            )
            .map_err(|e| candle_core::Error::Msg(format!("arm26 step: {e}")))?;
        let dev = state.device();
        let gs = Tensor::from_vec(gs, (n, WIDTH), dev)?.to_dtype(state.dtype())?;
        let gu = Tensor::from_vec(gu, (n, N_MUSCLES), dev)?.to_dtype(u.dtype())?;
        Ok((Some(gs), Some(gu), None))
    }
}
