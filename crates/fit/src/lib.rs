//! Least squares and the fit model catalogue (arriving).
