//! Integration tests of ligand-pharm: one binary, one module per topic.

mod library;
mod theory;
mod units;
