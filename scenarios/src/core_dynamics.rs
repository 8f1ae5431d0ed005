//! The one bridge from a trained policy's recurrent core (vanilla, GRU, LSTM, locality-masked or diagonal
//! vanilla) to the analysis crate's [`Dynamics`], in f64: reaching and task analyses both find their
//! fixed points through it. The state it runs on is the core's full recurrent state (`[h | c]` for an
//! LSTM), as a [`PolicyAgent`](reachlab_agents::PolicyAgent) records it.

use reachlab_agents::{CellKind, Policy};
use reachlab_analysis::{Dynamics, Gru, LeakyRnn, Lstm};

use crate::error::{Result, ScenarioError};

/// A policy's recurrent core as analysis dynamics (the LSTM's state is `[h | c]`).
pub enum CoreDynamics {
    Leaky(LeakyRnn),
    Gru(Gru),
    Lstm(Lstm),
}

impl Dynamics for CoreDynamics {
    fn dim(&self) -> usize {
        match self {
            CoreDynamics::Leaky(d) => d.dim(),
            CoreDynamics::Gru(d) => d.dim(),
            CoreDynamics::Lstm(d) => d.dim(),
        }
    }
    fn input_dim(&self) -> usize {
        match self {
            CoreDynamics::Leaky(d) => d.input_dim(),
            CoreDynamics::Gru(d) => d.input_dim(),
            CoreDynamics::Lstm(d) => d.input_dim(),
        }
    }
    fn step(&self, h: &[f64], u: &[f64], out: &mut [f64]) {
        match self {
            CoreDynamics::Leaky(d) => d.step(h, u, out),
            CoreDynamics::Gru(d) => d.step(h, u, out),
            CoreDynamics::Lstm(d) => d.step(h, u, out),
        }
    }
    fn jacobian(&self, h: &[f64], u: &[f64], jac: &mut [f64]) {
        match self {
            CoreDynamics::Leaky(d) => d.jacobian(h, u, jac),
            CoreDynamics::Gru(d) => d.jacobian(h, u, jac),
            CoreDynamics::Lstm(d) => d.jacobian(h, u, jac),
        }
    }
    fn vjp(&self, h: &[f64], u: &[f64], v: &[f64], out: &mut [f64]) {
        match self {
            CoreDynamics::Leaky(d) => d.vjp(h, u, v, out),
            CoreDynamics::Gru(d) => d.vjp(h, u, v, out),
            CoreDynamics::Lstm(d) => d.vjp(h, u, v, out),
        }
    }
    fn q_and_grad(&self, h: &[f64], u: &[f64], grad: &mut [f64]) -> f64 {
        match self {
            CoreDynamics::Leaky(d) => d.q_and_grad(h, u, grad),
            CoreDynamics::Gru(d) => d.q_and_grad(h, u, grad),
            CoreDynamics::Lstm(d) => d.q_and_grad(h, u, grad),
        }
    }
    fn q_and_grad_batch(&self, hs: &[f64], u: &[f64], grads: &mut [f64], qs: &mut [f64]) {
        match self {
            CoreDynamics::Leaky(d) => d.q_and_grad_batch(hs, u, grads, qs),
            CoreDynamics::Gru(d) => d.q_and_grad_batch(hs, u, grads, qs),
            CoreDynamics::Lstm(d) => d.q_and_grad_batch(hs, u, grads, qs),
        }
    }
}

/// A parameter of `policy` by name, flattened to f64.
pub(crate) fn values(policy: &Policy, name: &str) -> Result<Vec<f64>> {
    let v = policy
        .params()
        .get(name)
        .ok_or_else(|| ScenarioError::MissingParameter { name: name.to_string() })?;
    Ok(v.as_tensor()
        .to_dtype(candle_core::DType::F64)?
        .flatten_all()?
        .to_vec1::<f64>()?)
}

/// The actor core of `policy` as [`Dynamics`], in f64.
pub fn core_dynamics(policy: &Policy) -> Result<CoreDynamics> {
    let core = &policy.config().core;
    let (n, m) = (policy.hidden(), policy.obs_dim());
    let w_ih = values(policy, "actor.weight_ih_l0")?;
    let b_ih = values(policy, "actor.bias_ih_l0")?;
    let b_hh = values(policy, "actor.bias_hh_l0")?;
    let w_hh = || values(policy, "actor.weight_hh_l0");
    Ok(match core.cell() {
        CellKind::Vanilla { activation, alpha } => {
            let w: Vec<f64> = policy
                .actor()
                .effective_w_hh()?
                .to_dtype(candle_core::DType::F64)?
                .flatten_all()?
                .to_vec1()?;
            let bias = b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect();
            let act = match activation {
                reachlab_agents::Activation::Tanh => reachlab_analysis::Activation::Tanh,
                reachlab_agents::Activation::Relu => reachlab_analysis::Activation::Relu,
            };
            CoreDynamics::Leaky(LeakyRnn::new(n, m, w, w_ih, bias, alpha, act)?)
        }
        CellKind::Gru => CoreDynamics::Gru(Gru::new(n, m, w_ih, w_hh()?, b_ih, b_hh)?),
        CellKind::Lstm => CoreDynamics::Lstm(Lstm::new(n, m, w_ih, w_hh()?, b_ih, b_hh)?),
    })
}
