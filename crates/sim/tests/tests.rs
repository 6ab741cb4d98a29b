//! The integration tests of ligand-sim: one binary, one module per topic.

mod analytic;
mod common;
mod dosing;
mod errors;
mod events;
mod scan;
mod sensitivities;
mod steady;
mod stiff;
