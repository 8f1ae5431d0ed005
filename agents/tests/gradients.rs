//! The fused kernels against candle autograd of the same cells, and against finite differences (f64).

use candle_core::{DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reachlab_agents::FusedRnn;
use reachlab_agents::{Activation, CellKind};

const T: usize = 6;
const B: usize = 5;
const I: usize = 3;
const H: usize = 4;
/// Columns of the op's weights `[W_ih | W_hh | b_ih | b_hh]`.
const LD: usize = I + H + 2;

fn cells() -> Vec<CellKind> {
    vec![
        CellKind::Vanilla {
            activation: Activation::Tanh,
            alpha: 0.3,
        },
        CellKind::Vanilla {
            activation: Activation::Relu,
            alpha: 1.0,
        },
        CellKind::Gru,
        CellKind::Lstm,
    ]
}

fn random(shape: &[usize], scale: f64, rng: &mut ChaCha8Rng) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.random_range(-scale..scale)).collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

/// The same cell composed from candle ops, step by step (with the input projection `x·W_ihᵀ + b_ih`
/// plus `noise` done up front, as a tracked `[T, B, G·H]` tensor).
fn reference(
    kind: CellKind,
    x: &Tensor,
    h0: &Tensor,
    w: &Tensor,
    noise: Option<&Tensor>,
) -> candle_core::Result<Tensor> {
    let sig = |x: &Tensor| -> candle_core::Result<Tensor> { (x.neg()?.exp()? + 1.0)?.recip() };
    let g = kind.gates() * H;
    let steps = x.dims()[0];
    let wih = w.narrow(1, 0, I)?;
    let whh = w.narrow(1, I, H)?;
    let bih = w.narrow(1, I + H, 1)?.squeeze(1)?;
    let bhh = w.narrow(1, I + H + 1, 1)?.squeeze(1)?;
    let mut xp = x
        .reshape((steps * B, I))?
        .matmul(&wih.t()?)?
        .broadcast_add(&bih)?
        .reshape((steps, B, g))?;
    if let Some(n) = noise {
        xp = (xp + n)?;
    }
    let mut state = h0.clone();
    let mut outs = Vec::new();
    for t in 0..steps {
        let x = xp.get(t)?;
        let h = state.narrow(1, 0, H)?;
        let gh = h.matmul(&whh.t()?)?.broadcast_add(&bhh)?;
        state = match kind {
            CellKind::Vanilla { activation, alpha } => {
                let a = (&x + &gh)?;
                let y = match activation {
                    Activation::Tanh => a.tanh()?,
                    Activation::Relu => a.relu()?,
                };
                ((&h * (1.0 - alpha))? + (y * alpha)?)?
            }
            CellKind::Gru => {
                let r = sig(&(x.narrow(1, 0, H)? + gh.narrow(1, 0, H)?)?)?;
                let z = sig(&(x.narrow(1, H, H)? + gh.narrow(1, H, H)?)?)?;
                let n = (x.narrow(1, 2 * H, H)? + (&r * gh.narrow(1, 2 * H, H)?)?)?.tanh()?;
                ((z.ones_like()? - &z)?.mul(&n)? + z.mul(&h)?)?
            }
            CellKind::Lstm => {
                let c = state.narrow(1, H, H)?;
                let a = (&x + &gh)?;
                let i = sig(&a.narrow(1, 0, H)?)?;
                let f = sig(&a.narrow(1, H, H)?)?;
                let g = a.narrow(1, 2 * H, H)?.tanh()?;
                let o = sig(&a.narrow(1, 3 * H, H)?)?;
                let c2 = (f.mul(&c)? + i.mul(&g)?)?;
                let h2 = o.mul(&c2.tanh()?)?;
                Tensor::cat(&[h2, c2], 1)?
            }
        };
        outs.push(state.narrow(1, 0, H)?);
    }
    Tensor::stack(&outs, 0)
}

struct Case {
    x: Var,
    h0: Var,
    w: Var,
    noise: Tensor,
    probe: Tensor,
}

fn case(kind: CellKind, seed: u64) -> Case {
    case_of(kind, seed, T)
}

fn case_of(kind: CellKind, seed: u64, steps: usize) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let g = kind.gates() * H;
    let s = kind.state_width(H);
    Case {
        x: Var::from_tensor(&random(&[steps, B, I], 1.0, &mut rng)).unwrap(),
        h0: Var::from_tensor(&random(&[B, s], 0.5, &mut rng)).unwrap(),
        w: Var::from_tensor(&random(&[g, LD], 0.8, &mut rng)).unwrap(),
        noise: random(&[steps, B, g], 0.3, &mut rng),
        probe: random(&[steps, B, H], 1.0, &mut rng),
    }
}

/// A scalar loss that weighs every output differently: Σ probe ⊙ h + ½ Σ h².
fn loss_of(h: &Tensor, probe: &Tensor) -> Tensor {
    ((h * probe).unwrap().sum_all().unwrap() + (h.sqr().unwrap().sum_all().unwrap() * 0.5).unwrap()).unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap()
}

/// The fused op against the reference for every cell, with blocks of `rows` rows.
fn check_against_autograd(steps: usize, rows: usize) {
    for (ci, kind) in cells().into_iter().enumerate() {
        let c = case_of(kind, 10 + ci as u64, steps);
        // The vanilla cells with recurrent noise.
        let noise = matches!(kind, CellKind::Vanilla { .. }).then(|| c.noise.clone());
        let op = FusedRnn::new(kind, H, rows).with_noise(noise.clone());
        let fused =
            c.x.as_tensor()
                .apply_op3(c.h0.as_tensor(), c.w.as_tensor(), op)
                .unwrap();
        let refr = reference(kind, c.x.as_tensor(), c.h0.as_tensor(), c.w.as_tensor(), noise.as_ref()).unwrap();
        let d = max_abs_diff(&fused, &refr);
        assert!(d < 1e-12, "{kind:?}: forward differs by {d}");
        let gf = loss_of(&fused, &c.probe).backward().unwrap();
        let gr = loss_of(&refr, &c.probe).backward().unwrap();
        for (name, v) in [("x", &c.x), ("h0", &c.h0), ("w", &c.w)] {
            let a = gf.get(v.as_tensor()).unwrap();
            let b = gr.get(v.as_tensor()).unwrap();
            let d = max_abs_diff(a, b);
            let scale = b
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f64>()
                .unwrap();
            assert!(
                scale > 1e-3,
                "{kind:?} {name}: gradient vanishes, the test proves nothing"
            );
            assert!(
                d < 1e-11 * scale.max(1.0),
                "{kind:?}: gradient of {name} differs by {d} (scale {scale})"
            );
        }
    }
}

#[test]
fn fused_forward_and_backward_match_candle_autograd() {
    // Blocks of 2 rows over a batch of 5: three blocks, the last one short.
    check_against_autograd(T, 2);
}

#[test]
fn fused_weight_gradient_chunks_of_steps_match_candle_autograd() {
    // One block of 5 rows: the weight gradient is accumulated over chunks of ⌈128 / 5⌉ = 26 steps, so 60
    // steps make two full chunks and a short one.
    check_against_autograd(60, 5);
}

#[test]
fn fused_gradients_match_finite_differences() {
    for (ci, kind) in cells().into_iter().enumerate() {
        let c = case(kind, 40 + ci as u64);
        let run = |x: &Tensor, h0: &Tensor, w: &Tensor| -> f64 {
            let h = x.apply_op3(h0, w, FusedRnn::new(kind, H, 3)).unwrap();
            loss_of(&h, &c.probe).to_scalar::<f64>().unwrap()
        };
        let h =
            c.x.as_tensor()
                .apply_op3(c.h0.as_tensor(), c.w.as_tensor(), FusedRnn::new(kind, H, 3))
                .unwrap();
        let grads = loss_of(&h, &c.probe).backward().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        for which in 0..3 {
            let var = [&c.x, &c.h0, &c.w][which];
            let base: Vec<f64> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
            let g: Vec<f64> = grads
                .get(var.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            for _ in 0..8 {
                let k = rng.random_range(0..base.len());
                let eps = 1e-6;
                let eval = |delta: f64| {
                    let mut v = base.clone();
                    v[k] += delta;
                    let t = Tensor::from_vec(v, var.dims(), &Device::Cpu).unwrap();
                    let args: Vec<Tensor> = (0..3)
                        .map(|j| {
                            if j == which {
                                t.clone()
                            } else {
                                [&c.x, &c.h0, &c.w][j].as_tensor().clone()
                            }
                        })
                        .collect();
                    run(&args[0], &args[1], &args[2])
                };
                let fd = (eval(eps) - eval(-eps)) / (2.0 * eps);
                let err = (fd - g[k]).abs();
                // ReLU kinks can sit within eps of an entry; none do for these seeds.
                assert!(
                    err < 1e-6 * (1.0 + g[k].abs()),
                    "{kind:?} arg {which}[{k}]: fd {fd} vs {}",
                    g[k]
                );
            }
        }
    }
}

#[test]
fn fused_results_do_not_depend_on_the_thread_count() {
    let kind = CellKind::Gru;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let g = 3 * 16;
    let x = Var::from_tensor(&random(&[20, 37, 5], 1.0, &mut rng).to_dtype(DType::F32).unwrap()).unwrap();
    let h0 = Tensor::zeros((37, 16), DType::F32, &Device::Cpu).unwrap();
    let w = Var::from_tensor(&random(&[g, 5 + 16 + 2], 0.5, &mut rng).to_dtype(DType::F32).unwrap()).unwrap();
    let run = |threads: usize| -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let h = x
                .as_tensor()
                .apply_op3(&h0, w.as_tensor(), FusedRnn::new(kind, 16, 4))
                .unwrap();
            let grads = h.sqr().unwrap().sum_all().unwrap().backward().unwrap();
            let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            (
                flat(&h),
                flat(grads.get(x.as_tensor()).unwrap()),
                flat(grads.get(w.as_tensor()).unwrap()),
            )
        })
    };
    let one = run(1);
    for threads in [2, 3, 8] {
        assert_eq!(one, run(threads), "{threads} threads");
    }
}
