//! The integration tests of ligand-sim: one binary, one module per topic.

// Numerical checks read best with explicit indices.
#![allow(clippy::needless_range_loop)]

mod analytic;
mod common;
mod dosing;
mod errors;
mod events;
mod rules;
mod sbml;
mod scale;
mod scan;
mod sensitivities;
mod steady;
mod stiff;
mod synapse;
mod tolerance;
