//! Curve models: what a fit evaluates.
//!
//! A [`CurveModel`] maps an independent variable `x` (and optional per-point
//! covariates such as an antagonist concentration) and a parameter vector to a
//! predicted response, together with the exact gradient with respect to the
//! parameters. Two implementations exist:
//!
//! - [`FormulaModel`]: any expression of the expression language, compiled
//!   once with its symbolic gradient (common subexpressions shared). The
//!   built-in catalogue ([`crate::catalogue`]) is made of these, and so is any
//!   user formula.
//! - [`crate::native::FourParameterLogistic`]: a hand-written 4PL for the
//!   screening hot path, checked against its formula twin in tests.

use ligand_expr::{parse, CompileError, Compiler, Expr, ParseError, Program};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the model reads the independent variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum XKind {
    /// The model is written in `x` as given (a concentration, a time, ...).
    Linear,
    /// The model is written in the decimal logarithm of a concentration. When
    /// the data hold concentrations they are transformed with `log10`; when
    /// they already hold log concentrations (`--x-scale log10`) they are used
    /// as they are.
    Log10,
}

/// A derived quantity: a function of the parameters reported with its own
/// interval (EC50 from logEC50, a half-life from a rate constant, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DerivedDef {
    /// Name.
    pub name: String,
    /// Expression in the parameter (and constant) names.
    pub expr: Expr,
}

/// Errors building a model.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("formula: {0}")]
    /// See the error message.
    Parse(#[from] ParseError),
    #[error("formula: {0}")]
    /// See the error message.
    Compile(#[from] CompileError),
    #[error("formula: {0}")]
    /// See the error message.
    Diff(#[from] ligand_expr::DiffError),
    #[error("the formula does not use the independent variable `{x}`")]
    /// See the error message.
    NoIndependentVariable {
        /// The independent variable's name.
        x: String,
    },
    #[error(
        "the formula has no parameters to fit (every symbol is `{x}`, a covariate or a constant)"
    )]
    /// See the error message.
    NoParameters {
        /// The independent variable's name.
        x: String,
    },
    #[error("unknown model `{id}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    /// See the error message.
    UnknownModel {
        /// Identifier used with `--model`.
        id: String,
        /// A close name, if any.
        suggestion: Option<String>,
    },
    #[error("model `{model}` needs the constant `{name}` ({what}): give it with --constant {name}=VALUE")]
    /// See the error message.
    MissingConstant {
        /// The model id.
        model: String,
        /// Name.
        name: String,
        /// What the constant is.
        what: String,
    },
    #[error("model `{model}` has no constant `{name}`; its constants are: {known}")]
    /// See the error message.
    UnknownConstant {
        /// The model id.
        model: String,
        /// Name.
        name: String,
        /// The names that exist.
        known: String,
    },
    #[error("constant `{name}` = {value}: {why}")]
    /// See the error message.
    InvalidConstant {
        /// The constant.
        name: String,
        /// The value given.
        value: f64,
        /// What is wrong with it.
        why: String,
    },
}

/// A model that a curve fit can evaluate.
pub trait CurveModel: Send + Sync {
    /// The identifier shown in reports (`4pl`, `LL.4`, or the formula text).
    fn id(&self) -> &str;
    /// Parameter names, in the order of the parameter vector.
    fn params(&self) -> &[String];
    /// Covariate names: per-point values beside `x` (empty for most models).
    fn covariates(&self) -> &[String] {
        &[]
    }
    /// How `x` enters the model.
    fn x_kind(&self) -> XKind;
    /// Evaluates the model at every point: `f[i]` and, when `jac` is given,
    /// `jac[i + j * n] = d f_i / d p_j` (column-major, `n = x.len()`).
    /// `cov[c][i]` is covariate `c` at point `i`. `scratch` is reusable memory.
    fn eval(
        &self,
        x: &[f64],
        cov: &[Vec<f64>],
        p: &[f64],
        f: &mut [f64],
        jac: Option<&mut [f64]>,
        scratch: &mut Vec<f64>,
    );
    /// Derived quantities to report.
    fn derived(&self) -> &[DerivedDef] {
        &[]
    }
    /// Automatic initial values from the data (x already transformed per
    /// [`XKind`]; `cov` as in [`CurveModel::eval`]).
    fn initial(&self, x: &[f64], cov: &[Vec<f64>], y: &[f64]) -> Vec<f64>;
    /// The constants the model was built with (name, value), for reports.
    fn constants(&self) -> &[(String, f64)] {
        &[]
    }
    /// Natural lower/upper limits of each parameter (e.g. a Kd cannot be
    /// negative); the fit honours them unless the user gives other bounds.
    fn natural_bounds(&self) -> Vec<(f64, f64)> {
        vec![(f64::NEG_INFINITY, f64::INFINITY); self.params().len()]
    }
}

/// A self-starter: initial parameter values from the data.
pub type Starter = Arc<dyn Fn(&[f64], &[Vec<f64>], &[f64]) -> Vec<f64> + Send + Sync>;

/// A model given by a formula in the expression language.
#[derive(Clone)]
pub struct FormulaModel {
    id: String,
    formula: Expr,
    x_name: String,
    x_kind: XKind,
    covariates: Vec<String>,
    constants: Vec<(String, f64)>,
    params: Vec<String>,
    /// Names shown in reports (usually the same as `params`).
    display: Vec<String>,
    derived: Vec<DerivedDef>,
    starter: Option<Starter>,
    bounds: Vec<(f64, f64)>,
    program: Program,
}

impl std::fmt::Debug for FormulaModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormulaModel")
            .field("id", &self.id)
            .field("formula", &self.formula.to_string())
            .field("params", &self.params)
            .finish()
    }
}

/// Strips an optional `y =` prefix from a formula.
pub fn strip_y_equals(text: &str) -> &str {
    let t = text.trim_start();
    if let Some(rest) = t.strip_prefix('y').or_else(|| t.strip_prefix('Y')) {
        let rest = rest.trim_start();
        if let Some(body) = rest.strip_prefix('=') {
            if !body.starts_with('=') {
                return body;
            }
        }
    }
    text
}

impl FormulaModel {
    /// Builds a model from formula text (`y = ...` or bare). Every free symbol
    /// other than `x_name`, the covariates and the constants is a parameter,
    /// in order of first appearance unless `param_order` is given.
    ///
    /// ```
    /// use ligand_fit::model::{CurveModel, FormulaModel, XKind};
    /// let m = FormulaModel::from_text("y = bmax * x / (kd + x)", "x", XKind::Linear, &[], &[]).unwrap();
    /// assert_eq!(m.params(), ["bmax", "kd"]);
    /// let (mut f, mut j, mut s) = (vec![0.0], vec![0.0; 2], Vec::new());
    /// m.eval(&[2.0], &[], &[10.0, 2.0], &mut f, Some(&mut j), &mut s);
    /// assert_eq!(f[0], 5.0);
    /// assert_eq!(j, [0.5, -1.25]); // d/dbmax = x/(kd+x), d/dkd = -bmax x/(kd+x)^2
    /// ```
    pub fn from_text(
        text: &str,
        x_name: &str,
        x_kind: XKind,
        covariates: &[String],
        constants: &[(String, f64)],
    ) -> Result<FormulaModel, ModelError> {
        let body = strip_y_equals(text);
        let offset = body.as_ptr() as usize - text.as_ptr() as usize;
        let expr = parse(body).map_err(|mut e| {
            // Report columns in the text the user wrote, `y =` included.
            if e.span.line == 1 {
                e.span.column += text[..offset].chars().count();
            }
            e.span.start += offset;
            e.span.end += offset;
            e
        })?;
        Self::from_expr(
            text.trim().to_string(),
            expr,
            x_name,
            x_kind,
            covariates,
            constants,
            None,
        )
    }

    /// Builds a model from a parsed formula.
    #[allow(clippy::too_many_arguments)]
    pub fn from_expr(
        id: String,
        formula: Expr,
        x_name: &str,
        x_kind: XKind,
        covariates: &[String],
        constants: &[(String, f64)],
        param_order: Option<&[&str]>,
    ) -> Result<FormulaModel, ModelError> {
        let free = formula.free_vars();
        if !free.iter().any(|v| v == x_name) {
            return Err(ModelError::NoIndependentVariable {
                x: x_name.to_string(),
            });
        }
        let params: Vec<String> = match param_order {
            Some(order) => order.iter().map(|s| s.to_string()).collect(),
            None => free
                .iter()
                .filter(|v| {
                    *v != x_name
                        && !covariates.contains(v)
                        && !constants.iter().any(|(c, _)| c == *v)
                })
                .cloned()
                .collect(),
        };
        if params.is_empty() {
            return Err(ModelError::NoParameters {
                x: x_name.to_string(),
            });
        }
        // Substitute constants so they fold at compile time.
        let folded = formula.substitute_all(&|n| {
            constants
                .iter()
                .find(|(c, _)| c == n)
                .map(|(_, v)| Expr::Num(*v))
        });
        let folded = ligand_expr::simplify(&folded);
        let mut inputs: Vec<&str> = vec![x_name];
        inputs.extend(covariates.iter().map(|s| s.as_str()));
        inputs.extend(params.iter().map(|s| s.as_str()));
        let mut c = Compiler::new(&inputs);
        c.add(&folded)?;
        for p in &params {
            c.add(&folded.diff(p)?)?;
        }
        let program = c.finish();
        let n = params.len();
        Ok(FormulaModel {
            id,
            formula,
            x_name: x_name.to_string(),
            x_kind,
            covariates: covariates.to_vec(),
            constants: constants.to_vec(),
            display: params.clone(),
            params,
            derived: Vec::new(),
            starter: None,
            bounds: vec![(f64::NEG_INFINITY, f64::INFINITY); n],
            program,
        })
    }

    /// Sets the parameter names shown in reports (same length and order as
    /// the formula's parameters), for names the expression language reserves.
    pub fn with_param_names(mut self, names: &[&str]) -> Self {
        if names.len() == self.params.len() {
            self.display = names.iter().map(|s| s.to_string()).collect();
        }
        self
    }

    /// Sets the derived quantities.
    pub fn with_derived(mut self, derived: Vec<DerivedDef>) -> Self {
        self.derived = derived;
        self
    }

    /// Sets the self-starter.
    pub fn with_starter(mut self, starter: Starter) -> Self {
        self.starter = Some(starter);
        self
    }

    /// Sets natural bounds by parameter name.
    pub fn with_bounds(mut self, bounds: &[(&str, f64, f64)]) -> Self {
        for (name, lo, hi) in bounds {
            if let Some(j) = self.display.iter().position(|p| p == name) {
                self.bounds[j] = (*lo, *hi);
            }
        }
        self
    }

    /// The formula as written.
    pub fn formula(&self) -> &Expr {
        &self.formula
    }

    /// The name of the independent variable.
    pub fn x_name(&self) -> &str {
        &self.x_name
    }
}

impl CurveModel for FormulaModel {
    fn id(&self) -> &str {
        &self.id
    }

    // The names shown to users, which may differ from the formula's own
    // (see `with_param_names`).
    #[allow(clippy::misnamed_getters)]
    fn params(&self) -> &[String] {
        &self.display
    }

    fn covariates(&self) -> &[String] {
        &self.covariates
    }

    fn x_kind(&self) -> XKind {
        self.x_kind
    }

    fn eval(
        &self,
        x: &[f64],
        cov: &[Vec<f64>],
        p: &[f64],
        f: &mut [f64],
        mut jac: Option<&mut [f64]>,
        scratch: &mut Vec<f64>,
    ) {
        let n_slots = self.program.n_slots();
        if scratch.len() != n_slots {
            scratch.clear();
            scratch.resize(n_slots, 0.0);
        }
        // Always: a workspace shared by two models whose programs have as many slots (CRS.4b and
        // CRS.4c differ only in a constant exponent; a model and its `--compare` alternative)
        // would otherwise evaluate one with the other's constants.
        self.program.init_slots(scratch);
        let nc = self.covariates.len();
        scratch[1 + nc..1 + nc + p.len()].copy_from_slice(p);
        let n = x.len();
        for i in 0..n {
            scratch[0] = x[i];
            for (c, col) in cov.iter().enumerate().take(nc) {
                scratch[1 + c] = col[i];
            }
            self.program.run(scratch);
            f[i] = self.program.output(scratch, 0);
            if let Some(j) = jac.as_deref_mut() {
                for k in 0..p.len() {
                    j[i + k * n] = self.program.output(scratch, 1 + k);
                }
            }
        }
    }

    fn derived(&self) -> &[DerivedDef] {
        &self.derived
    }

    fn initial(&self, x: &[f64], cov: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
        match &self.starter {
            Some(s) => s(x, cov, y),
            None => vec![1.0; self.params.len()],
        }
    }

    fn constants(&self) -> &[(String, f64)] {
        &self.constants
    }

    fn natural_bounds(&self) -> Vec<(f64, f64)> {
        self.bounds.clone()
    }
}
