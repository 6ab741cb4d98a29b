//! The library behind the `ligand` binary: command implementations, table
//! reading, atomic output and progress reporting. It holds no numerical
//! logic: every number comes from the library crates (`ligand-expr`,
//! `ligand-fit`, ...). It is a library so that integration tests can drive
//! the commands in-process.

pub mod compound_cmd;
pub mod expr_cmd;
pub mod fit_cmd;
pub mod output;
pub mod progress;
pub mod reproduce_cmd;
pub mod table;
