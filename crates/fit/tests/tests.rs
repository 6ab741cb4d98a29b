//! Integration tests of ligand-fit: one binary, modules per topic.

#![allow(clippy::needless_range_loop)]

mod curve;
mod curvecurator;
mod drc;
mod dual;
mod minpack;
mod nist;
mod nist_formula;
