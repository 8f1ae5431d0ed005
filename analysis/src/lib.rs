//! Population geometry and dynamical-systems analysis (not yet built: see issue 5).
