//! The simulation driver: initial values, the integration loop, dense output
//! at the requested times, doses, events, and diagnosis of failures.
//!
//! ## Discontinuities
//!
//! Doses and events change the state (or a constant, or an infusion rate)
//! instantaneously. The driver integrates up to each one exactly (known times
//! are stop times the integrator never steps over; state-dependent triggers
//! are located by root finding on the dense output), applies it, and restarts
//! the integrator there, so no step straddles a discontinuity. An output time
//! that coincides with a discontinuity reports the values just after it.
//!
//! ## Events (SBML Level 3)
//!
//! A trigger is a logical expression; its comparisons `a op b` give the root
//! functions `a - b`, which are evaluated at the end of each step. When the
//! side of a root function changes, its crossing is located by the Illinois
//! variant of regula falsi on the interpolated state, to within
//! `100 eps (|t| + |h|)`, and the triggers are evaluated just after it. An
//! event whose trigger turns from false to true is *triggered*: its delay and,
//! if it uses values from the trigger time, its assignment values are computed
//! then. Events due at one time execute one at a time, highest priority first
//! (in trigger order among absent priorities; among equal given priorities in
//! an order drawn from a generator seeded at the start of each run, as SBML
//! asks for a random order, so a run is reproducible), and triggers are
//! re-evaluated after each execution, so events can trigger events. A
//! non-persistent event whose trigger turns false before it executes is
//! cancelled. An event's `initial_value` is the trigger's value just before
//! the start, so an event with `initial_value = false` whose trigger holds at
//! the start fires at the start.

use crate::error::{Failure, SimError, Stopped};
use crate::observe::Observables;
use crate::solver::{
    LinearAlgebra, Method, OdeProblem, Solver, SolverStats, StepError, Tolerances,
};
use crate::system::{ConstantKind, StateKind, System};
use crate::tolerance::{absolute_tolerances, floored_scales, typical_scales, AbsoluteTolerance};
use serde::{Deserialize, Serialize};

/// A dose: a bolus (an amount added at once) or an infusion (a constant rate
/// of amount per time over an interval). Doses are applied by the driver, not
/// by events written into the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Dose {
    /// `amount` (in the model's substance units) added to `species` at `time`.
    Bolus {
        species: String,
        time: f64,
        amount: f64,
    },
    /// `rate` (amount per time) into `species` from `start` to `end`. The
    /// species must be listed in
    /// [`CompileOptions::infusions`](crate::CompileOptions::infusions).
    Infusion {
        species: String,
        start: f64,
        end: f64,
        rate: f64,
    },
}

/// How to run one simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The start time.
    pub start: f64,
    /// Output times: non-decreasing, none before `start`. The simulation ends
    /// at the last.
    pub times: Vec<f64>,
    pub method: Method,
    pub rtol: f64,
    /// The absolute tolerances: by default scaled to the model (see
    /// [`AbsoluteTolerance`]).
    pub atol: AbsoluteTolerance,
    /// The largest internal step (`inf` for no limit).
    pub max_step: f64,
    /// The most internal steps of one simulation.
    pub max_steps: u64,
    pub doses: Vec<Dose>,
    /// Dense or sparse Newton matrices in the BDF integrator (by default
    /// chosen from the size and fill of the Jacobian).
    pub linear_algebra: LinearAlgebra,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            start: 0.0,
            times: Vec::new(),
            method: Method::Bdf,
            rtol: 1e-6,
            atol: AbsoluteTolerance::Scaled,
            max_step: f64::INFINITY,
            max_steps: 1_000_000,
            doses: Vec::new(),
            linear_algebra: LinearAlgebra::Auto,
        }
    }
}

impl Settings {
    /// `steps + 1` equally spaced times from `start` to `start + duration`
    /// (the last exactly `start + duration`).
    pub fn grid(start: f64, duration: f64, steps: usize) -> Vec<f64> {
        let steps = steps.max(1);
        let mut v: Vec<f64> = (0..=steps)
            .map(|i| start + duration * i as f64 / steps as f64)
            .collect();
        v[steps] = start + duration;
        v
    }
}

/// New values for base values, by index ([`System::base_index`]).
pub type Overrides = [(usize, f64)];

/// The seed of the generator that orders ready events of equal priority.
const TIE_SEED: u64 = 0x005E_ED0F_E7E7;

/// The result of one simulation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// The observables' ids.
    pub names: Vec<String>,
    /// The output times reached.
    pub times: Vec<f64>,
    /// Row-major values, `times.len() x names.len()`.
    pub values: Vec<f64>,
    /// The parameters of the sensitivities (empty without).
    pub sensitivity_parameters: Vec<String>,
    /// Row-major `d value / d parameter`: for each time, for each observable,
    /// for each parameter.
    pub sensitivities: Vec<f64>,
    /// Events executed: (time, event id).
    pub events: Vec<(f64, String)>,
    pub stats: SolverStats,
    /// Set when the simulation stopped before the last output time.
    pub stopped: Option<Stopped>,
    /// The relative tolerance used.
    #[serde(default)]
    pub rtol: f64,
    /// The absolute tolerance used for each state, in the order of
    /// [`System::states`].
    #[serde(default)]
    pub atol: Vec<f64>,
    /// Signs that the results may not be converged (a species amount
    /// materially negative, a conserved total that drifted), each once.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl Trajectory {
    /// The values at output row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        let m = self.names.len();
        &self.values[i * m..(i + 1) * m]
    }

    /// The column of observable `name`.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let j = self.names.iter().position(|n| n == name)?;
        let m = self.names.len();
        Some(
            (0..self.times.len())
                .map(|i| self.values[i * m + j])
                .collect(),
        )
    }

    /// `d names[k] / d sensitivity_parameters[j]` at row `i`.
    pub fn sensitivity(&self, i: usize, k: usize, j: usize) -> f64 {
        let m = self.names.len();
        let p = self.sensitivity_parameters.len();
        self.sensitivities[(i * m + k) * p + j]
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Pending {
    event: usize,
    time: f64,
    values: Option<Vec<f64>>,
    seq: u64,
}

enum Target {
    State(usize),
    Constant(usize),
}

/// One simulation workspace: the integrator and the slot arrays of every
/// program. Make one per thread and run any number of simulations with it;
/// nothing is allocated per step.
pub struct Simulator<'s> {
    pub(crate) sys: &'s System,
    pub(crate) obs: &'s Observables,
    pub(crate) solver: Box<dyn Solver>,
    pub(crate) rhs_slots: Vec<f64>,
    pub(crate) jac_slots: Vec<f64>,
    pub(crate) root_slots: Vec<f64>,
    pub(crate) evm_slots: Vec<f64>,
    pub(crate) obs_slots: Vec<f64>,
    pub(crate) init_slots: Vec<f64>,
    /// The state (with sensitivities after it).
    pub(crate) y: Vec<f64>,
    pub(crate) buf: Vec<f64>,
    pub(crate) dcdp: Vec<f64>,
    pub(crate) np: usize,
    pub(crate) linear_algebra: LinearAlgebra,
    // Event bookkeeping.
    pub(crate) trig_prev: Vec<bool>,
    pub(crate) g_lo: Vec<f64>,
    pub(crate) g_hi: Vec<f64>,
    pub(crate) g_mid: Vec<f64>,
    pub(crate) pending: Vec<Pending>,
    pub(crate) seq: u64,
    /// SplitMix64 state for choosing among ready events of equal priority, reset at the start
    /// of each simulation so that a run is reproducible.
    pub(crate) tie_rng: u64,
    // Convergence checks of the outputs.
    checks: Checks,
}

/// What the outputs are checked against: the typical scales and absolute
/// tolerances of the states, the conserved totals since the last
/// discontinuity, and what was already reported.
#[derive(Default)]
struct Checks {
    rtol: f64,
    scales: Vec<f64>,
    atol: Vec<f64>,
    /// The conservation laws checked (none with infusions into their species).
    laws: Vec<usize>,
    totals: Vec<f64>,
    warned_state: Vec<bool>,
    warned_law: Vec<bool>,
    /// The first observable that was NaN, and when.
    nan: Option<(f64, String)>,
}

/// A step failure or a setup failure inside the loop.
enum LoopEnd {
    Done,
    Failed(f64, Failure),
}

impl<'s> Simulator<'s> {
    /// A workspace for `system`, reporting `observables`.
    pub fn new(system: &'s System, observables: &'s Observables) -> Simulator<'s> {
        let n = system.n_states();
        let np = system.sens_params.len();
        Simulator {
            sys: system,
            obs: observables,
            solver: Method::Bdf.solver(),
            linear_algebra: LinearAlgebra::Auto,
            rhs_slots: system.rhs.new_slots(),
            jac_slots: system.jac.new_slots(),
            root_slots: system
                .events
                .as_ref()
                .map_or_else(Vec::new, |e| e.roots.new_slots()),
            evm_slots: system
                .events
                .as_ref()
                .map_or_else(Vec::new, |e| e.math.new_slots()),
            obs_slots: observables.program.new_slots(),
            init_slots: system.init.new_slots(),
            y: vec![0.0; n * (1 + np)],
            buf: vec![0.0; n * (1 + np)],
            dcdp: vec![0.0; system.sens_constants.len() * np],
            np,
            trig_prev: Vec::new(),
            g_lo: Vec::new(),
            g_hi: Vec::new(),
            g_mid: Vec::new(),
            pending: Vec::new(),
            seq: 0,
            tie_rng: TIE_SEED,
            checks: Checks::default(),
        }
    }

    /// The system simulated.
    pub fn system(&self) -> &'s System {
        self.sys
    }

    pub(crate) fn set_input(&mut self, slot: usize, v: f64) {
        self.rhs_slots[slot] = v;
        self.jac_slots[slot] = v;
        self.obs_slots[slot] = v;
        if !self.root_slots.is_empty() {
            self.root_slots[slot] = v;
            self.evm_slots[slot] = v;
        }
    }

    /// Computes the initial state and constants from the base values with
    /// `overrides` at time `t0`; fills `y` (and the initial sensitivities).
    pub(crate) fn initialize(&mut self, t0: f64, overrides: &Overrides) -> Result<(), SimError> {
        let sys = self.sys;
        let n = sys.n_states();
        let nc = sys.constants.len();
        let np = self.np;
        self.init_slots[..sys.base_defaults.len()].copy_from_slice(&sys.base_defaults);
        for &(i, v) in overrides {
            if i == 0 || i >= sys.base_defaults.len() {
                return Err(SimError::InvalidSettings {
                    message: format!("base value index {i} out of range"),
                });
            }
            self.init_slots[i] = v;
        }
        self.init_slots[0] = t0;
        sys.init.run(&mut self.init_slots);
        for i in 0..n {
            let v = sys.init.output(&self.init_slots, i);
            if !v.is_finite() {
                return Err(self.bad_initial(&sys.states[i].0, v));
            }
            self.y[i] = v;
        }
        for c in 0..nc {
            let v = sys.init.output(&self.init_slots, n + c);
            // A constant may be infinite (SBML allows `INF` values); only a
            // missing value is an error, since constants are not integrated.
            if !v.is_finite() && sys.constant_used[c] {
                let e = self.bad_initial(&sys.constants[c].0, v);
                if matches!(e, SimError::MissingValue { .. }) {
                    return Err(e);
                }
            }
            self.set_input(sys.constant_slot(c), v);
        }
        for k in 0..sys.infusions.len() {
            self.set_input(sys.infusion_slot(k), 0.0);
        }
        if np > 0 {
            let base = n + nc;
            for i in 0..n {
                for j in 0..np {
                    self.y[n * (1 + j) + i] = sys.init.output(&self.init_slots, base + i * np + j);
                }
            }
            for (ci, &c) in sys.sens_constants.iter().enumerate() {
                for j in 0..np {
                    self.dcdp[ci * np + j] =
                        sys.init.output(&self.init_slots, base + (n + c) * np + j);
                }
            }
        }
        Ok(())
    }

    fn bad_initial(&self, name: &str, v: f64) -> SimError {
        let sys = self.sys;
        let missing = sys
            .base_names
            .iter()
            .zip(&sys.base_defaults)
            .any(|(b, d)| b == name && d.is_nan());
        if v.is_nan() && missing {
            SimError::MissingValue {
                name: name.to_string(),
            }
        } else {
            SimError::NonFiniteInitialValue {
                name: name.to_string(),
                value: v,
            }
        }
    }

    /// The typical scale of every state at the initial state of the last
    /// [`Simulator::initialize`], with the amounts `settings` doses into it.
    pub(crate) fn scales(&self, doses: &[Dose]) -> Vec<f64> {
        let sys = self.sys;
        let n = sys.n_states();
        let mut dosed = vec![0.0; n];
        for d in doses {
            let (species, amount) = match d {
                Dose::Bolus {
                    species, amount, ..
                } => (species, amount.abs()),
                Dose::Infusion {
                    species,
                    start,
                    end,
                    rate,
                } => (species, (rate * (end - start)).abs()),
            };
            if let Some(i) = sys
                .states
                .iter()
                .position(|(s, k)| s == species && matches!(k, StateKind::SpeciesAmount { .. }))
            {
                dosed[i] += amount;
            }
        }
        typical_scales(sys, &self.y[..n], &dosed)
    }

    pub(crate) fn tolerances(&self, settings: &Settings, atol_states: &[f64]) -> Tolerances {
        let n = self.sys.n_states();
        let mut atol = vec![0.0; n * (1 + self.np)];
        atol[..n].copy_from_slice(atol_states);
        for j in 0..self.np {
            // Sensitivities scale like x / p: so does their absolute tolerance.
            let p = self.init_slots[self.sys.sens_base[j]].abs();
            let scale = if p > 0.0 && p.is_finite() { p } else { 1.0 };
            for i in 0..n {
                atol[n * (1 + j) + i] = atol_states[i] / scale;
            }
        }
        Tolerances {
            rtol: settings.rtol,
            atol,
            max_step: settings.max_step,
        }
    }

    /// The absolute tolerance of every state (in the order of
    /// [`System::states`]) that [`Simulator::run`] would use with these
    /// settings and overrides.
    pub fn absolute_tolerances(
        &mut self,
        settings: &Settings,
        overrides: &Overrides,
    ) -> Result<Vec<f64>, SimError> {
        Self::check_settings(settings)?;
        self.initialize(settings.start, overrides)?;
        let scales = self.scales(&settings.doses);
        Ok(absolute_tolerances(
            self.sys,
            settings.atol,
            settings.rtol,
            &scales,
        ))
    }

    pub(crate) fn check_settings(settings: &Settings) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::InvalidSettings { message: m });
        if !(settings.rtol > 0.0 && settings.rtol < 1.0) {
            return bad(format!(
                "the relative tolerance must be in (0, 1), not {}",
                settings.rtol
            ));
        }
        if let AbsoluteTolerance::Absolute(a) = settings.atol {
            if !(a >= 0.0 && a.is_finite()) {
                return bad(format!(
                    "the absolute tolerance must be finite and non-negative, not {a}"
                ));
            }
        }
        if !settings.start.is_finite() {
            return bad("the start time must be finite".into());
        }
        let mut prev = settings.start;
        for &t in &settings.times {
            if !t.is_finite() {
                return bad(format!("output time {t} is not finite"));
            }
            if t < prev {
                return bad(if t < settings.start {
                    format!(
                        "output time {t} is before the start time {}",
                        settings.start
                    )
                } else {
                    format!("output times must not decrease ({prev} then {t})")
                });
            }
            prev = t;
        }
        if settings.max_step.is_nan() || settings.max_step <= 0.0 {
            return bad("the largest step must be positive".into());
        }
        Ok(())
    }

    fn resolve_doses(&self, settings: &Settings) -> Result<Vec<(f64, Target, f64)>, SimError> {
        let sys = self.sys;
        let mut out = Vec::new();
        for d in &settings.doses {
            let Dose::Bolus {
                species,
                time,
                amount,
            } = d
            else {
                continue;
            };
            if !time.is_finite() || !amount.is_finite() {
                return Err(SimError::InvalidSettings {
                    message: format!("dose of `{species}`: time and amount must be finite"),
                });
            }
            if *time < settings.start {
                return Err(SimError::InvalidSettings {
                    message: format!(
                        "dose of `{species}` at t={time} is before the start time {}",
                        settings.start
                    ),
                });
            }
            let target = if let Some(i) = sys
                .states
                .iter()
                .position(|(s, k)| s == species && matches!(k, StateKind::SpeciesAmount { .. }))
            {
                Target::State(i)
            } else if let Some(c) = sys
                .constants
                .iter()
                .position(|(s, k)| s == species && matches!(k, ConstantKind::SpeciesAmount(_)))
            {
                Target::Constant(c)
            } else {
                return Err(if sys.species_ids.contains(species) {
                    SimError::NotSettable {
                        name: species.clone(),
                        reason: "a dose needs a species whose amount is not set by a rule".into(),
                    }
                } else {
                    SimError::UnknownVariable {
                        name: species.clone(),
                        suggestion: ligand_expr::closest(
                            species,
                            sys.species_ids.iter().map(|s| s.as_str()),
                        )
                        .map(str::to_string),
                    }
                });
            };
            out.push((*time, target, *amount));
        }
        for d in &settings.doses {
            if let Dose::Infusion {
                species,
                start,
                end,
                rate,
            } = d
            {
                let ok = sys.infusions.iter().any(|&i| sys.states[i].0 == *species);
                if !ok {
                    return Err(SimError::NotSettable {
                        name: species.clone(),
                        reason: "infusions into it were not compiled (list it in CompileOptions::infusions)".into(),
                    });
                }
                if !(start.is_finite() && end.is_finite() && rate.is_finite() && end >= start) {
                    return Err(SimError::InvalidSettings {
                        message: format!(
                            "infusion into `{species}`: start, end and rate must be finite, end after start"
                        ),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(out)
    }

    /// Computes the initial state (amounts and rate-rule values, in the order
    /// of [`System::states`]) and sets the constants for `overrides` at time
    /// `t0`, for [`Simulator::derivatives`].
    pub fn initial_state(&mut self, t0: f64, overrides: &Overrides) -> Result<Vec<f64>, SimError> {
        self.initialize(t0, overrides)?;
        Ok(self.y[..self.sys.n_states()].to_vec())
    }

    /// The right-hand side `f(t, x)` and, if asked, the Jacobian `df/dx`
    /// (row-major), with the constants of the last
    /// [`Simulator::initial_state`] or run.
    pub fn derivatives(&mut self, t: f64, x: &[f64], f: &mut [f64], jacobian: Option<&mut [f64]>) {
        let n = self.sys.n_states();
        let np = self.np;
        // The augmented problem would also integrate sensitivities: use the
        // plain one.
        self.np = 0;
        {
            let (_, mut p) = self.parts();
            p.rhs(t, &x[..n], &mut f[..n]);
            if let Some(j) = jacobian {
                p.jacobian(t, &x[..n], &mut j[..n * n]);
            }
        }
        self.np = np;
    }

    /// Runs one simulation.
    pub fn run(
        &mut self,
        settings: &Settings,
        overrides: &Overrides,
    ) -> Result<Trajectory, SimError> {
        Self::check_settings(settings)?;
        let boluses = self.resolve_doses(settings)?;
        if self.solver.method() != settings.method {
            self.solver = settings.method.solver();
        }
        self.linear_algebra = settings.linear_algebra;
        let t0 = settings.start;
        self.initialize(t0, overrides)?;
        let scales = self.scales(&settings.doses);
        let atol_states = absolute_tolerances(self.sys, settings.atol, settings.rtol, &scales);
        let tol = self.tolerances(settings, &atol_states);
        self.start_checks(settings, scales, &atol_states);
        let sys = self.sys;
        let np = self.np;
        let m = self.obs.len();
        let nt = settings.times.len();
        let mut traj = Trajectory {
            names: self.obs.names(),
            times: Vec::with_capacity(nt),
            values: Vec::with_capacity(nt * m),
            sensitivity_parameters: sys.sens_params.clone(),
            sensitivities: Vec::with_capacity(if np > 0 { nt * m * np } else { 0 }),
            events: Vec::new(),
            stats: SolverStats::default(),
            stopped: None,
            rtol: settings.rtol,
            atol: atol_states,
            warnings: Vec::new(),
        };
        let stats0 = self.solver.stats();
        let t_end = settings.times.last().copied().unwrap_or(t0);

        // Discontinuity times: boluses, infusion switches.
        let mut stops: Vec<f64> = boluses.iter().map(|b| b.0).collect();
        for d in &settings.doses {
            if let Dose::Infusion { start, end, .. } = d {
                stops.push(*start);
                stops.push(*end);
            }
        }
        stops.retain(|&t| t >= t0 && t <= t_end);
        stops.sort_by(f64::total_cmp);
        stops.dedup();
        let mut next_stop = 0;
        let mut next_bolus = 0;
        let mut next_out = 0;

        // Events: initial trigger values.
        self.pending.clear();
        self.tie_rng = TIE_SEED;
        if let Some(ev) = &sys.events {
            self.trig_prev = ev.events.iter().map(|e| e.initial_value).collect();
            self.g_lo = vec![0.0; ev.n_atoms];
            self.g_hi = vec![0.0; ev.n_atoms];
        }

        let mut t = t0;
        let mut end = LoopEnd::Done;
        // Discontinuities at the start.
        if let Err(f) = self.discontinuity(t, settings, &boluses, &mut next_bolus, &mut traj) {
            end = LoopEnd::Failed(t, f);
        }
        while next_stop < stops.len() && stops[next_stop] <= t {
            next_stop += 1;
        }
        if let LoopEnd::Done = end {
            while next_out < nt && settings.times[next_out] <= t {
                self.emit_exact(settings.times[next_out], &mut traj);
                next_out += 1;
            }
            if next_out < nt {
                if let Err(e) = self.restart(t, &tol) {
                    end = LoopEnd::Failed(t, self.diagnose(t, e, &tol));
                }
            }
        }
        let max_steps = settings.max_steps;
        while matches!(end, LoopEnd::Done) && next_out < nt && self.checks.nan.is_none() {
            let mut t_stop = t_end;
            if next_stop < stops.len() {
                t_stop = t_stop.min(stops[next_stop]);
            }
            let mut pending_due = false;
            for p in &self.pending {
                if p.time < t_stop {
                    t_stop = p.time;
                }
            }
            if let Some(p) = self.pending.iter().map(|p| p.time).reduce(f64::min) {
                pending_due = p <= t_stop;
            }
            let r = {
                let (solver, mut p) = self.parts();
                solver.step(&mut p, t_stop)
            };
            if let Err(e) = r {
                let tf = self.solver.t();
                end = LoopEnd::Failed(tf, self.diagnose(tf, e, &tol));
                break;
            }
            let steps = self.solver.stats().steps - stats0.steps;
            if steps > max_steps {
                end = LoopEnd::Failed(self.solver.t(), Failure::TooManySteps { max_steps });
                break;
            }
            let t_new = self.solver.t();
            // A trigger that changes within the step.
            let te = if sys.events.is_some() {
                self.locate_trigger(t_new)
            } else {
                None
            };
            let at_stop = t_new >= t_stop
                && ((next_stop < stops.len() && stops[next_stop] <= t_new) || pending_due);
            let disc = te.is_some() || at_stop;
            let t_valid = te.unwrap_or(t_new);
            // A trigger's crossing is located to within about 100 eps |t|: an
            // output time closer than that to it coincides with the event and
            // reports the values after it (`time >= 14` fires at 14, not at
            // the next float after the located root).
            let snap = if te.is_some() {
                1e3 * f64::EPSILON * t_valid.abs()
            } else {
                0.0
            };
            while next_out < nt {
                let to = settings.times[next_out];
                if to < t_valid - snap || (!disc && to <= t_valid) {
                    self.emit_interpolated(to, &mut traj);
                    next_out += 1;
                } else {
                    break;
                }
            }
            if disc {
                if te.is_some() {
                    let mut yb = std::mem::take(&mut self.buf);
                    self.solver.interpolate(t_valid, &mut yb);
                    self.y.copy_from_slice(&yb);
                    self.buf = yb;
                } else {
                    self.y.copy_from_slice(self.solver.y());
                }
                t = t_valid;
                while next_stop < stops.len() && stops[next_stop] <= t {
                    next_stop += 1;
                }
                if let Err(f) =
                    self.discontinuity(t, settings, &boluses, &mut next_bolus, &mut traj)
                {
                    end = LoopEnd::Failed(t, f);
                    break;
                }
                while next_out < nt && settings.times[next_out] <= t {
                    self.emit_exact(settings.times[next_out], &mut traj);
                    next_out += 1;
                }
                if next_out < nt {
                    if let Err(e) = self.restart(t, &tol) {
                        end = LoopEnd::Failed(t, self.diagnose(t, e, &tol));
                        break;
                    }
                }
            } else if sys.events.is_some() {
                {
                    std::mem::swap(&mut self.g_lo, &mut self.g_hi);
                }
            }
        }
        let mut stats = self.solver.stats();
        stats.steps -= stats0.steps;
        stats.rejected_steps -= stats0.rejected_steps;
        stats.rhs_evals -= stats0.rhs_evals;
        stats.jacobian_evals -= stats0.jacobian_evals;
        stats.lu_factorizations -= stats0.lu_factorizations;
        stats.newton_iterations -= stats0.newton_iterations;
        stats.newton_failures -= stats0.newton_failures;
        traj.stats = stats;
        if let Some((time, variable)) = self.checks.nan.take() {
            traj.stopped = Some(Stopped {
                time,
                reason: Failure::NotANumber { variable },
            });
        } else if let LoopEnd::Failed(time, reason) = end {
            traj.stopped = Some(Stopped { time, reason });
        }
        Ok(traj)
    }

    /// The integrator and the problem it integrates, borrowed together.
    pub(crate) fn parts(&mut self) -> (&mut dyn Solver, Problem<'_>) {
        (
            &mut *self.solver,
            Problem {
                sys: self.sys,
                rhs_slots: &mut self.rhs_slots,
                jac_slots: &mut self.jac_slots,
                np: self.np,
                dcdp: &self.dcdp,
                sparse: self
                    .linear_algebra
                    .use_sparse(self.sys.n_states(), self.sys.jac_pattern.len()),
            },
        )
    }

    fn restart(&mut self, t: f64, tol: &Tolerances) -> Result<(), StepError> {
        let y = std::mem::take(&mut self.y);
        let r = {
            let (solver, mut p) = self.parts();
            solver.init(&mut p, t, &y, tol)
        };
        self.y = y;
        if self.sys.events.is_some() {
            let y = std::mem::take(&mut self.y);
            self.eval_roots(t, &y);
            self.y = y;
            let ev = self.sys.events.as_ref().expect("events");
            for (i, g) in self.g_lo.iter_mut().enumerate() {
                *g = ev.roots.output(&self.root_slots, i);
            }
        }
        r
    }

    fn eval_roots(&mut self, t: f64, y: &[f64]) {
        let n = self.sys.n_states();
        let ev = self.sys.events.as_ref().expect("events");
        self.root_slots[0] = t;
        self.root_slots[1..=n].copy_from_slice(&y[..n]);
        ev.roots.run(&mut self.root_slots);
    }

    fn trigger(&self, e: usize) -> bool {
        let ev = self.sys.events.as_ref().expect("events");
        let v = ev.roots.output(&self.root_slots, ev.n_atoms + e);
        v != 0.0 && !v.is_nan()
    }

    fn triggers_changed(&self) -> bool {
        (0..self.trig_prev.len()).any(|e| self.trigger(e) != self.trig_prev[e])
    }

    /// After a step to `t_new`: the time of the first trigger change in the
    /// step, if any. Updates `g_hi` (the root functions at `t_new`).
    fn locate_trigger(&mut self, t_new: f64) -> Option<f64> {
        let na = self.g_lo.len();
        let y = std::mem::take(&mut self.buf);
        let mut y = y;
        y.copy_from_slice(self.solver.y());
        self.eval_roots(t_new, &y);
        for i in 0..na {
            self.g_hi[i] = self
                .sys
                .events
                .as_ref()
                .unwrap()
                .roots
                .output(&self.root_slots, i);
        }
        let changed_at_end = self.triggers_changed();
        let mut t_lo = self.solver.t_prev();
        let t_hi = t_new;
        // Root-function values at the left end of the search (no allocation per step).
        let mut g_lo = std::mem::take(&mut self.g_mid);
        g_lo.clear();
        g_lo.extend_from_slice(&self.g_lo);
        let mut result = None;
        // Walk the crossings in time order; stop at the first that changes a trigger.
        for _ in 0..(na + 2) {
            let mut best: Option<f64> = None;
            for a in 0..na {
                if (g_lo[a] > 0.0) != (self.g_hi[a] > 0.0) {
                    let tc = self.illinois(a, t_lo, g_lo[a], t_hi, self.g_hi[a], &mut y);
                    if best.is_none_or(|b| tc < b) {
                        best = Some(tc);
                    }
                }
            }
            let Some(tc) = best else { break };
            self.solver.interpolate(tc, &mut y);
            self.eval_roots(tc, &y);
            if self.triggers_changed() {
                result = Some(tc);
                break;
            }
            // A root function exactly zero at `tc` leaves a strict comparison
            // (`S < 0.1`) unchanged there; it changes just after.
            if let Some(tn) = self.first_change_after(tc, t_hi, &mut y) {
                result = Some(tn);
                break;
            }
            self.solver.interpolate(tc, &mut y);
            self.eval_roots(tc, &y);
            for (a, g) in g_lo.iter_mut().enumerate().take(na) {
                *g = self
                    .sys
                    .events
                    .as_ref()
                    .unwrap()
                    .roots
                    .output(&self.root_slots, a);
            }
            t_lo = tc;
            if tc >= t_hi {
                break;
            }
        }
        if result.is_none() && changed_at_end {
            result = Some(t_new);
        }
        self.g_mid = g_lo;
        self.buf = y;
        result
    }

    /// The first time in a few ulps-growing steps after `tc` (and before
    /// `t_hi`) at which a trigger differs from its value before the step.
    fn first_change_after(&mut self, tc: f64, t_hi: f64, y: &mut [f64]) -> Option<f64> {
        let mut dt = 4.0 * f64::EPSILON * tc.abs().max(f64::MIN_POSITIVE);
        for _ in 0..8 {
            let tn = tc + dt;
            if tn >= t_hi {
                return None;
            }
            self.solver.interpolate(tn, y);
            self.eval_roots(tn, y);
            if self.triggers_changed() {
                return Some(tn);
            }
            dt *= 16.0;
        }
        None
    }

    /// The crossing of root function `a` in `(tl, th]`, to within the time
    /// resolution: the right end of the final bracket.
    fn illinois(
        &mut self,
        a: usize,
        mut tl: f64,
        mut gl: f64,
        mut th: f64,
        mut gh: f64,
        y: &mut [f64],
    ) -> f64 {
        let side_l = gl > 0.0;
        let tol = 100.0 * f64::EPSILON * (th.abs() + (th - tl).abs()) + f64::MIN_POSITIVE;
        let mut last_side = 0i8;
        for _ in 0..200 {
            if th - tl <= tol {
                break;
            }
            let mut tm = if (gh - gl).abs() > 0.0 && gl.is_finite() && gh.is_finite() {
                th - gh * (th - tl) / (gh - gl)
            } else {
                0.5 * (tl + th)
            };
            // Keep the trial strictly inside the bracket.
            let margin = 0.1 * tol;
            if !(tm > tl + margin && tm < th - margin) {
                tm = 0.5 * (tl + th);
            }
            self.solver.interpolate(tm, y);
            self.eval_roots(tm, y);
            let gm = self
                .sys
                .events
                .as_ref()
                .unwrap()
                .roots
                .output(&self.root_slots, a);
            if (gm > 0.0) == side_l {
                tl = tm;
                gl = gm;
                if last_side == -1 {
                    gh *= 0.5;
                }
                last_side = -1;
            } else {
                th = tm;
                gh = gm;
                if last_side == 1 {
                    gl *= 0.5;
                }
                last_side = 1;
            }
        }
        th
    }

    /// Applies the boluses due at `t`, sets the infusion rates for the
    /// interval starting at `t`, and executes the events due at `t`.
    fn discontinuity(
        &mut self,
        t: f64,
        settings: &Settings,
        boluses: &[(f64, Target, f64)],
        next_bolus: &mut usize,
        traj: &mut Trajectory,
    ) -> Result<(), Failure> {
        let sys = self.sys;
        while *next_bolus < boluses.len() && boluses[*next_bolus].0 <= t {
            let (_, target, amount) = &boluses[*next_bolus];
            match target {
                Target::State(i) => self.y[*i] += amount,
                Target::Constant(c) => {
                    let slot = sys.constant_slot(*c);
                    let v = self.rhs_slots[slot] + amount;
                    self.set_input(slot, v);
                }
            }
            *next_bolus += 1;
        }
        for (k, &i) in sys.infusions.iter().enumerate() {
            let name = &sys.states[i].0;
            let mut rate = 0.0;
            for d in &settings.doses {
                if let Dose::Infusion {
                    species,
                    start,
                    end,
                    rate: r,
                } = d
                {
                    if species == name && *start <= t && t < *end {
                        rate += r;
                    }
                }
            }
            self.set_input(sys.infusion_slot(k), rate);
        }
        if sys.events.is_some() {
            self.execute_events(t, traj)?;
        }
        self.reset_totals();
        Ok(())
    }

    fn execute_events(&mut self, t: f64, traj: &mut Trajectory) -> Result<(), Failure> {
        let sys = self.sys;
        let ev = sys.events.as_ref().expect("events");
        let n = sys.n_states();
        let mut ready: Vec<Pending> = Vec::new();
        let mut last = String::new();
        for _ in 0..10_000 {
            let y = std::mem::take(&mut self.y);
            self.eval_roots(t, &y);
            self.eval_math(t, &y);
            self.y = y;
            for e in 0..ev.events.len() {
                let trig = self.trigger(e);
                let prev = self.trig_prev[e];
                self.trig_prev[e] = trig;
                if trig && !prev {
                    let ce = &ev.events[e];
                    let delay = ce.delay.map_or(0.0, |d| ev.math.output(&self.evm_slots, d));
                    let values = if ce.from_trigger {
                        Some(
                            ce.assignments
                                .iter()
                                .map(|&(_, o)| ev.math.output(&self.evm_slots, o))
                                .collect(),
                        )
                    } else {
                        None
                    };
                    self.seq += 1;
                    let p = Pending {
                        event: e,
                        time: t + delay.max(0.0),
                        values,
                        seq: self.seq,
                    };
                    if delay > 0.0 {
                        self.pending.push(p);
                    } else {
                        ready.push(p);
                    }
                } else if !trig && prev && !ev.events[e].persistent {
                    self.pending.retain(|p| p.event != e);
                    ready.retain(|p| p.event != e);
                }
            }
            let mut i = 0;
            while i < self.pending.len() {
                if self.pending[i].time <= t {
                    ready.push(self.pending.swap_remove(i));
                } else {
                    i += 1;
                }
            }
            if ready.is_empty() {
                return Ok(());
            }
            // The highest priority first; among equals without a priority, the first
            // triggered; among equal given priorities, one chosen at random (SBML: their
            // order is random), from a generator seeded at the start of the run.
            let mut best = 0;
            for k in 1..ready.len() {
                let pk = self.priority(ready[k].event);
                let pb = self.priority(ready[best].event);
                if pk > pb || (pk == pb && ready[k].seq < ready[best].seq) {
                    best = k;
                }
            }
            if ev.events[ready[best].event].priority.is_some() {
                let top = self.priority(ready[best].event);
                let ties: Vec<usize> = (0..ready.len())
                    .filter(|&k| {
                        ev.events[ready[k].event].priority.is_some()
                            && self.priority(ready[k].event) == top
                    })
                    .collect();
                if ties.len() > 1 {
                    self.tie_rng = self.tie_rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = self.tie_rng;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    z ^= z >> 31;
                    best = ties[(z % ties.len() as u64) as usize];
                }
            }
            let p = ready.remove(best);
            let ce = &ev.events[p.event];
            let values: Vec<f64> = match p.values {
                Some(v) => v,
                None => ce
                    .assignments
                    .iter()
                    .map(|&(_, o)| ev.math.output(&self.evm_slots, o))
                    .collect(),
            };
            for (&(slot, _), v) in ce.assignments.iter().zip(values) {
                if slot >= 1 && slot <= n {
                    self.y[slot - 1] = v;
                } else {
                    self.set_input(slot, v);
                }
            }
            last = ce.id.clone();
            traj.events.push((t, ce.id.clone()));
        }
        Err(Failure::EventLoop { event: last })
    }

    fn priority(&self, e: usize) -> f64 {
        let ev = self.sys.events.as_ref().expect("events");
        match ev.events[e].priority {
            Some(o) => {
                let v = ev.math.output(&self.evm_slots, o);
                if v.is_nan() {
                    f64::NEG_INFINITY
                } else {
                    v
                }
            }
            None => f64::NEG_INFINITY,
        }
    }

    fn eval_math(&mut self, t: f64, y: &[f64]) {
        let n = self.sys.n_states();
        let ev = self.sys.events.as_ref().expect("events");
        self.evm_slots[0] = t;
        self.evm_slots[1..=n].copy_from_slice(&y[..n]);
        ev.math.run(&mut self.evm_slots);
    }

    fn emit_exact(&mut self, t: f64, traj: &mut Trajectory) {
        let y = std::mem::take(&mut self.y);
        self.emit(t, &y, traj);
        self.y = y;
    }

    fn emit_interpolated(&mut self, t: f64, traj: &mut Trajectory) {
        let mut y = std::mem::take(&mut self.buf);
        self.solver.interpolate(t, &mut y);
        self.emit(t, &y, traj);
        self.buf = y;
    }

    fn emit(&mut self, t: f64, y: &[f64], traj: &mut Trajectory) {
        let sys = self.sys;
        let n = sys.n_states();
        let m = self.obs.len();
        let prog = &self.obs.program;
        self.obs_slots[0] = t;
        self.obs_slots[1..=n].copy_from_slice(&y[..n]);
        prog.run(&mut self.obs_slots);
        if self.checks.nan.is_some() {
            return;
        }
        if let Some(k) = (0..m).find(|&k| prog.output(&self.obs_slots, k).is_nan()) {
            self.checks.nan = Some((t, self.obs.names()[k].clone()));
            return;
        }
        self.check_convergence(t, y, traj);
        traj.times.push(t);
        for k in 0..m {
            traj.values.push(prog.output(&self.obs_slots, k));
        }
        if self.obs.with_derivatives {
            let np = self.np;
            let nsc = sys.sens_constants.len();
            let stride = n + nsc;
            for k in 0..m {
                let base = m + k * stride;
                for j in 0..np {
                    let mut s = 0.0;
                    for i in 0..n {
                        let d = prog.output(&self.obs_slots, base + i);
                        if d != 0.0 {
                            s += d * y[n * (1 + j) + i];
                        }
                    }
                    for ci in 0..nsc {
                        let d = prog.output(&self.obs_slots, base + n + ci);
                        if d != 0.0 {
                            s += d * self.dcdp[ci * np + j];
                        }
                    }
                    traj.sensitivities.push(s);
                }
            }
        }
    }

    /// Prepares the convergence checks of a run: the scales and tolerances,
    /// and which conservation laws hold (none whose species are infused).
    fn start_checks(&mut self, settings: &Settings, scales: Vec<f64>, atol: &[f64]) {
        let sys = self.sys;
        let infused: Vec<usize> = settings
            .doses
            .iter()
            .filter_map(|d| match d {
                Dose::Infusion { species, .. } => sys.states.iter().position(|(s, _)| s == species),
                Dose::Bolus { .. } => None,
            })
            .collect();
        let laws: Vec<usize> = (0..sys.conservation.len())
            .filter(|&k| {
                !sys.conservation[k]
                    .1
                    .iter()
                    .any(|(i, _)| infused.contains(i))
            })
            .collect();
        self.checks = Checks {
            rtol: settings.rtol,
            warned_state: vec![false; scales.len()],
            warned_law: vec![false; sys.conservation.len()],
            totals: vec![0.0; sys.conservation.len()],
            scales: floored_scales(sys, &scales),
            atol: atol.to_vec(),
            laws,
            nan: None,
        };
        self.reset_totals();
    }

    /// The conserved totals of the current state (after a discontinuity).
    fn reset_totals(&mut self) {
        let sys = self.sys;
        for &k in &self.checks.laws {
            self.checks.totals[k] = sys.conservation[k]
                .1
                .iter()
                .map(|&(i, w)| w * self.y[i])
                .sum();
        }
    }

    /// Warns (once per species or law) when an output suggests that the
    /// integration is not converged: a species amount negative by more than
    /// a thousandth of its typical amount (with the floor of the tolerance
    /// rule, plus ten absolute tolerances), or a conserved total that drifted
    /// by as much. A converged solution stays far inside both: BDF preserves
    /// linear invariants up to its Newton tolerance, and an amount overshoots
    /// zero by about its local error. (A model may mean an amount to go
    /// negative, which the warning says.)
    fn check_convergence(&mut self, t: f64, y: &[f64], traj: &mut Trajectory) {
        let sys = self.sys;
        let c = &mut self.checks;
        if c.scales.is_empty() {
            return;
        }
        let limit = |scale: f64, atol: f64| 1e-3 * scale + 10.0 * atol;
        for (i, (id, kind)) in sys.states.iter().enumerate() {
            if c.warned_state[i] || !matches!(kind, StateKind::SpeciesAmount { .. }) {
                continue;
            }
            if y[i] < -limit(c.scales[i], c.atol[i]) {
                c.warned_state[i] = true;
                traj.warnings.push(format!(
                    "the amount of `{id}` is negative ({}) at t={}, against a typical amount of {}: unless the model means amounts below zero, the solution is not converged; try a smaller rtol (now {})",
                    ligand_expr::format_number(y[i]),
                    ligand_expr::format_number(t),
                    ligand_expr::format_number(c.scales[i]),
                    ligand_expr::format_number(c.rtol)
                ));
            }
        }
        for &k in &c.laws {
            if c.warned_law[k] {
                continue;
            }
            let w = &sys.conservation[k].1;
            let now: f64 = w.iter().map(|&(i, v)| v * y[i]).sum();
            let size: f64 = w.iter().map(|&(i, v)| v.abs() * c.scales[i]).sum();
            let atol: f64 = w.iter().map(|&(i, v)| v.abs() * c.atol[i]).sum();
            if (now - c.totals[k]).abs() > limit(size, atol) {
                c.warned_law[k] = true;
                let names: Vec<String> = w
                    .iter()
                    .map(|&(i, v)| {
                        if v == 1.0 {
                            sys.states[i].0.clone()
                        } else {
                            format!("{}*{}", ligand_expr::format_number(v), sys.states[i].0)
                        }
                    })
                    .collect();
                traj.warnings.push(format!(
                    "the conserved total {} changed from {} to {} by t={}: the solution is not converged; try a smaller rtol (now {})",
                    names.join(" + "),
                    ligand_expr::format_number(c.totals[k]),
                    ligand_expr::format_number(now),
                    ligand_expr::format_number(t),
                    ligand_expr::format_number(c.rtol)
                ));
            }
        }
    }

    /// The derivative at `(t, y)`, the states whose derivative is not
    /// finite, and the reactions whose rate is not finite.
    fn culprits(&mut self, t: f64, y: &[f64]) -> (Vec<f64>, Vec<String>, Vec<String>) {
        let sys = self.sys;
        let n = sys.n_states();
        let mut f = vec![0.0; n];
        self.rhs_slots[0] = t;
        self.rhs_slots[1..=n].copy_from_slice(&y[..n]);
        sys.rhs.eval(&mut self.rhs_slots, &mut f);
        let slots = &self.rhs_slots;
        let lookup = |name: &str| -> Option<f64> {
            sys.input_names
                .iter()
                .position(|s| s == name)
                .map(|i| slots[i])
        };
        let variables: Vec<String> = (0..n)
            .filter(|&i| !f[i].is_finite())
            .map(|i| sys.states[i].0.clone())
            .collect();
        let rates: Vec<String> = sys
            .fluxes
            .iter()
            .filter(|(_, e)| e.eval(&lookup).map_or(true, |v| !v.is_finite()))
            .map(|(id, _)| id.clone())
            .collect();
        (f, variables, rates)
    }

    /// Names what went wrong at a failure at time `t`: the right-hand side
    /// is examined at the last accepted state and, if it is finite there, at
    /// the trial point where the integrator last saw it fail.
    fn diagnose(&mut self, t: f64, e: StepError, tol: &Tolerances) -> Failure {
        let sys = self.sys;
        let n = sys.n_states();
        let y: Vec<f64> = self.solver.y()[..n].to_vec();
        let (f, mut variables, mut rates) = self.culprits(t, &y);
        if variables.is_empty() {
            let failed = self
                .solver
                .failed_point()
                .map(|(tf, yf)| (tf, yf[..n].to_vec()));
            if let Some((tf, yf)) = failed {
                let (_, v, r) = self.culprits(tf, &yf);
                variables = v;
                rates = r;
            }
        }
        if matches!(e, StepError::NonFinite { .. }) || !variables.is_empty() {
            return Failure::NonFinite { variables, rates };
        }
        match e {
            StepError::SingularMatrix { .. } => Failure::SingularMatrix,
            StepError::StepSizeTooSmall { h, .. } => {
                let mut idx: Vec<usize> = (0..n).collect();
                let w = |i: usize| f[i].abs() / (tol.atol[i] + tol.rtol * y[i].abs());
                idx.sort_by(|&a, &b| w(b).total_cmp(&w(a)));
                idx.truncate(3);
                Failure::StepSizeTooSmall {
                    step: h,
                    variables: idx.iter().map(|&i| sys.states[i].0.clone()).collect(),
                    rtol: tol.rtol,
                    atol: idx.iter().map(|&i| tol.atol[i]).collect(),
                }
            }
            StepError::NonFinite { .. } => unreachable!("handled above"),
        }
    }
}

/// The problem an integrator sees: the compiled right-hand side (augmented
/// with the sensitivity equations when compiled) and Jacobian.
pub(crate) struct Problem<'a> {
    sys: &'a System,
    rhs_slots: &'a mut Vec<f64>,
    jac_slots: &'a mut Vec<f64>,
    np: usize,
    dcdp: &'a [f64],
    /// Whether the integrator gets the Jacobian's structure (sparse LU).
    sparse: bool,
}

impl OdeProblem for Problem<'_> {
    fn dim(&self) -> usize {
        self.sys.n_states() * (1 + self.np)
    }

    fn block(&self) -> usize {
        self.sys.n_states()
    }

    #[inline]
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
        let sys = self.sys;
        let n = sys.n_states();
        if self.np == 0 {
            let s = &mut **self.rhs_slots;
            s[0] = t;
            s[1..=n].copy_from_slice(&y[..n]);
            sys.rhs.eval(s, &mut dy[..n]);
            return;
        }
        let np = self.np;
        let s = &mut **self.jac_slots;
        s[0] = t;
        s[1..=n].copy_from_slice(&y[..n]);
        let prog = &sys.jac;
        prog.run(s);
        for (i, d) in dy[..n].iter_mut().enumerate() {
            *d = prog.output(s, i);
        }
        let nnz = sys.jac_pattern.len();
        for j in 0..np {
            let (lo, hi) = (n * (1 + j), n * (2 + j));
            dy[lo..hi].fill(0.0);
            for (e, &(r, k)) in sys.jac_pattern.iter().enumerate() {
                dy[lo + r as usize] += prog.output(s, n + e) * y[lo + k as usize];
            }
            for (e, &(r, ci)) in sys.dfdc_pattern.iter().enumerate() {
                dy[lo + r as usize] +=
                    prog.output(s, n + nnz + e) * self.dcdp[ci as usize * np + j];
            }
        }
    }

    fn jacobian_pattern(&self) -> Option<&[(u32, u32)]> {
        self.sparse.then_some(&self.sys.jac_pattern[..])
    }

    fn jacobian_values(&mut self, t: f64, y: &[f64], values: &mut [f64]) {
        let sys = self.sys;
        let n = sys.n_states();
        let s = &mut **self.jac_slots;
        s[0] = t;
        s[1..=n].copy_from_slice(&y[..n]);
        sys.jac.run(s);
        for (e, v) in values.iter_mut().enumerate() {
            *v = sys.jac.output(s, n + e);
        }
    }

    fn jacobian(&mut self, t: f64, y: &[f64], jac: &mut [f64]) {
        let sys = self.sys;
        let n = sys.n_states();
        let s = &mut **self.jac_slots;
        s[0] = t;
        s[1..=n].copy_from_slice(&y[..n]);
        sys.jac.run(s);
        jac.fill(0.0);
        for (e, &(r, k)) in sys.jac_pattern.iter().enumerate() {
            jac[r as usize * n + k as usize] = sys.jac.output(s, n + e);
        }
    }
}
