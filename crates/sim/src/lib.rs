//! # ligand-sim: the simulator
//!
//! Placeholder overview; see the modules.

// Numerical kernels read best with explicit indices.
#![allow(clippy::needless_range_loop)]

mod error;
mod observe;
mod scan;
mod simulate;
pub mod solver;
mod steady;
mod system;

pub use error::{Failure, SimError, Stopped};
pub use observe::{Observable, Observables};
pub use scan::{scan, ParameterSets};
pub use simulate::{Dose, Overrides, Settings, Simulator, Trajectory};
pub use solver::{Method, Solver, SolverStats};
pub use steady::{SteadyState, SteadyStateError, SteadyStateMethod, SteadyStateOptions};
pub use system::{CompileOptions, ConstantKind, StateKind, System};
