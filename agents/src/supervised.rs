//! Supervised BPTT (to do).
