//! Errors: [`SimError`] for what prevents a simulation from starting,
//! [`Failure`] for what stops one part-way (the trajectory up to that point
//! is kept).

use ligand_model::Diagnostic;
use serde::{Deserialize, Serialize};

/// A model that cannot be compiled, or settings that cannot be applied.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The model has errors (see [`ligand_model::Model::validate`]).
    #[error("the model has {} error(s); the first: {}", diagnostics.len(), diagnostics.first().map(|d| d.message.as_str()).unwrap_or(""))]
    InvalidModel { diagnostics: Vec<Diagnostic> },
    /// Assignment rules or initial values that depend on each other in a circle.
    #[error("cyclic dependency: {}", cycle.join(" -> "))]
    CyclicRules { cycle: Vec<String> },
    /// A name that the model does not define.
    #[error("unknown variable `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownVariable {
        name: String,
        suggestion: Option<String>,
    },
    /// A variable that cannot be set, dosed or assigned the way asked.
    #[error("`{name}` cannot be set: {reason}")]
    NotSettable { name: String, reason: String },
    /// A variable without an initial value that the simulation needs.
    #[error("`{name}` has no value: give it one in the model or with --set")]
    MissingValue { name: String },
    /// An initial value that is NaN or infinite.
    #[error("the initial value of `{name}` is {value}")]
    NonFiniteInitialValue { name: String, value: f64 },
    /// A feature that the simulator does not support yet.
    #[error("not supported yet: {what}")]
    Unsupported { what: String },
    /// Settings that make no sense (negative tolerance, unsorted times, ...).
    #[error("{message}")]
    InvalidSettings { message: String },
    /// An expression that cannot be compiled (should not happen for a valid model).
    #[error("cannot compile the model: {message}")]
    Compile { message: String },
}

/// Why a simulation stopped before the end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    /// The right-hand side became NaN or infinite.
    #[error(
        "the right-hand side is not finite{}{}",
        fmt_list(" in the derivative of ", variables),
        fmt_list("; offending rates: ", rates)
    )]
    NonFinite {
        /// States whose derivative is not finite.
        variables: Vec<String>,
        /// Reactions whose rate is not finite.
        rates: Vec<String>,
    },
    /// The step size fell below what the time can resolve.
    #[error(
        "the solver cannot advance: the step size fell to {step:e}{}{}",
        fmt_list("; fastest-changing variables: ", variables),
        fmt_tolerances(*rtol, variables, atol)
    )]
    StepSizeTooSmall {
        step: f64,
        variables: Vec<String>,
        /// The relative tolerance in force (0 when unknown).
        #[serde(default)]
        rtol: f64,
        /// The absolute tolerances of `variables`.
        #[serde(default)]
        atol: Vec<f64>,
    },
    /// A reported value is NaN (a rule that divides zero by zero, say).
    #[error("the value of `{variable}` is not a number (NaN)")]
    NotANumber { variable: String },
    /// The Newton matrix stayed singular.
    #[error("the Newton matrix is singular")]
    SingularMatrix,
    /// More steps than allowed.
    #[error("more than {max_steps} steps")]
    TooManySteps { max_steps: u64 },
    /// Events that keep triggering each other at one time.
    #[error("events keep triggering each other at one time (last: `{event}`)")]
    EventLoop { event: String },
}

/// Names the tolerances to change after a failed step.
fn fmt_tolerances(rtol: f64, variables: &[String], atol: &[f64]) -> String {
    if rtol <= 0.0 {
        return String::new();
    }
    let each: Vec<String> = variables
        .iter()
        .zip(atol)
        .map(|(v, a)| format!("`{v}` {a:e}"))
        .collect();
    format!(
        ". The tolerances may not suit the model: try a smaller rtol (now {rtol:e}){}",
        if each.is_empty() {
            String::new()
        } else {
            format!(" or another atol (now {})", each.join(", "))
        }
    )
}

fn fmt_list(prefix: &str, items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!(
            "{prefix}{}",
            items
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// A simulation that stopped early: when, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stopped {
    /// The time reached.
    pub time: f64,
    pub reason: Failure,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stopped at t={}: {}", self.time, self.reason)
    }
}
