//! RNN policies and policy-gradient training (not yet built: see issue 3).
