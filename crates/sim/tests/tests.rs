//! The integration tests of ligand-sim: one binary, one module per topic.

mod analytic;
mod common;
