//! Whole experiments as data (not yet built: see issue 4).
