//! # ligand-sim: the simulator
//!
//! Simulates a [`ligand_model::Model`]: time courses with doses and events,
//! steady states, forward sensitivities, and parameter scans in parallel. It
//! knows only the model IR; reading files and printing belong to the CLI.
//!
//! The principal types and how they compose:
//!
//! - [`System::new`] compiles a model once (see the `system` module for the
//!   mathematics): the right-hand side `f(t, x; c)` over the state `x`
//!   (species amounts and rate-rule variables) with assignment rules
//!   substituted, its exact Jacobian and, when [`CompileOptions`] asks for
//!   sensitivities, the derivatives `df/dc`, as allocation-free
//!   [`ligand_expr::Program`]s whose inputs include every parameter, so that
//!   changing a value needs no recompilation. Events and the initial values
//!   are compiled alongside.
//! - [`System::observables`] compiles what to report ([`Observable`]: a
//!   species as concentration or amount, a parameter, a rule variable, a
//!   reaction rate) into [`Observables`].
//! - A [`Simulator`] is the workspace of one thread: an integrator and the
//!   slot arrays of every program. [`Simulator::run`] takes [`Settings`]
//!   (output times, [`Method`], tolerances, [`Dose`]s) and [`Overrides`] of
//!   the model's values and returns a [`Trajectory`]; a run that fails
//!   part-way keeps what it computed and says where and why ([`Stopped`],
//!   [`Failure`]). [`Simulator::steady_state`] solves `f(x) = 0`
//!   ([`SteadyState`] with its stability from [`eigen`], or a diagnosis in
//!   [`SteadyStateError`]).
//! - The absolute tolerances follow the model's scale unless the caller
//!   gives one value ([`AbsoluteTolerance`]); every result carries the
//!   tolerances used, and a trajectory carries warnings when its outputs
//!   show an unconverged solution. A NaN is never reported as a value.
//! - [`scan`] runs one simulation per row of [`ParameterSets`] on every core,
//!   one [`Simulator`] per thread, results in row order.
//! - The integrators live in [`solver`] behind the [`Solver`] trait:
//!   variable-order BDF (the default), TR-BDF2 and Dormand-Prince. The rest of
//!   ligand never sees a solver library.
//!
//! ```
//! use ligand_sim::{CompileOptions, Dose, Observable, Settings, Simulator, System};
//!
//! let src = "
//! model pk
//!   compartment V = 10;
//!   species C in V;
//!   elim: C -> ; V*ke*C
//!   C = 0; ke = 0.1
//! end";
//! let (model, _) = ligand_model::parse_antimony(src).unwrap();
//! let system = System::new(&model, &CompileOptions::default()).unwrap();
//! let observables = system.observables(&[Observable::value("C")]).unwrap();
//! let mut sim = Simulator::new(&system, &observables);
//! let settings = Settings {
//!     times: Settings::grid(0.0, 24.0, 24),
//!     doses: vec![Dose::Bolus { species: "C".into(), time: 0.0, amount: 100.0 }],
//!     rtol: 1e-9,
//!     ..Settings::default()
//! };
//! let t = sim.run(&settings, &[]).unwrap();
//! // 100 mg into 10 L, eliminated at 0.1 per hour.
//! assert!((t.row(10)[0] - 10.0 * (-1.0f64).exp()).abs() < 1e-7);
//!
//! // The same simulation with another elimination rate: no recompilation.
//! let ke = system.base_index("ke").unwrap();
//! let t = sim.run(&settings, &[(ke, 0.2)]).unwrap();
//! assert!((t.row(10)[0] - 10.0 * (-2.0f64).exp()).abs() < 1e-7);
//! ```
//!
//! ## Conventions
//!
//! The state holds species **amounts** (SBML's convention, and the model
//! crate's); where a species' id appears in math it means its concentration
//! (amount over compartment size) unless the species has only substance
//! units. Observables report concentrations by default. Boundary and
//! constant species are never changed by reactions. A time that coincides
//! with a discontinuity (a dose, an event) reports the values just after it.

// Numerical kernels read best with explicit indices.
#![allow(clippy::needless_range_loop)]

pub mod builtin;
mod conservation;
pub mod eigen;
mod error;
mod observe;
mod scan;
mod simulate;
pub mod solver;
mod steady;
mod system;
mod tolerance;

pub use error::{Failure, SimError, Stopped};
pub use observe::{Observable, Observables};
pub use scan::{scan, ParameterSets};
pub use simulate::{Dose, Overrides, Settings, Simulator, Trajectory};
pub use solver::{LinearAlgebra, Method, Solver, SolverStats};
pub use steady::{SteadyState, SteadyStateError, SteadyStateMethod, SteadyStateOptions};
pub use system::{CompileOptions, ConstantKind, StateKind, System};
pub use tolerance::AbsoluteTolerance;
