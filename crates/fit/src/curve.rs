//! Fitting one curve: the pipeline from data and a model to a report.
//!
//! [`FitSpec::resolve`] checks the user's settings against the model once
//! (parameter names in `--start`, `--fix`, `--bound`), so a typo is one error
//! for the whole run rather than one per curve. [`fit_curve`] then fits a
//! single data set:
//!
//! 1. transform `x` to the model's scale and check the data (enough points,
//!    responses not all equal, concentrations positive for log models);
//! 2. initial values: the user's, else the model's self-starter;
//! 3. Levenberg-Marquardt on the free parameters, within bounds;
//! 4. weighting by the curve (1/Y², 1/Y, Poisson) by iterated reweighting,
//!    robust (Lorentzian) fitting by iterated reweighting on a robust scale,
//!    and ROUT outlier removal (Motulsky & Brown 2006, BMC Bioinformatics 7:123);
//! 5. statistics: standard errors and Wald or profile-likelihood intervals
//!    (Student t), derived quantities (EC50 from logEC50, Ki, half-lives) with
//!    intervals, R², Sy.x, AICc, runs test, replicates test, and the
//!    ambiguous flag of Prism for parameters that the data do not determine.
//!
//! Nothing here panics on bad data: every problem becomes a `failed` status
//! with a message naming the line or the parameter.

use crate::lm::{
    gauss_newton_ratios, minimize, Bounds, LeastSquaresProblem, LmOptions, LmWorkspace,
    ParameterMask,
};
use crate::model::{CurveModel, DerivedDef, XKind};
use crate::stats::{self, ParameterStatistics, ProfileLimit, ProfileOptions, StatsWorkspace};
use ligand_expr::{Compiler, Expr, Program};
use serde::{Deserialize, Serialize, Serializer};
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::borrow::Cow;
use std::sync::Arc;

/// One curve's data. `x` as given in the file; `cov[c][i]` is covariate `c`
/// at point `i`; `lines` are the source lines of the points (for messages).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CurveData {
    /// Independent variable, as given in the file.
    pub x: Vec<f64>,
    /// Responses.
    pub y: Vec<f64>,
    /// Standard deviations of the responses, when weighting by SD.
    pub sd: Option<Vec<f64>>,
    /// Covariates: `cov[c][i]` for covariate `c` at point `i`.
    pub cov: Vec<Vec<f64>>,
    /// Source line of each point, for messages.
    pub lines: Vec<usize>,
}

/// How points are weighted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Weighting {
    /// Ordinary least squares.
    #[default]
    None,
    /// Relative weighting 1/Y², Y from the curve (iterated to convergence).
    InverseY2,
    /// Weighting 1/Y, Y from the curve (iterated).
    InverseY,
    /// Poisson regression: weights 1/Y from the curve and a dispersion of 1
    /// (standard errors are not scaled by the residual variance).
    Poisson,
    /// Weights 1/SD² from a column of standard deviations.
    Sd,
}

impl Weighting {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Weighting::None => "none",
            Weighting::InverseY2 => "1/y^2",
            Weighting::InverseY => "1/y",
            Weighting::Poisson => "poisson",
            Weighting::Sd => "sd",
        }
    }
}

/// How confidence intervals are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CiMethod {
    /// Asymptotic (symmetric), from the covariance and a t quantile.
    #[default]
    Wald,
    /// Profile likelihood (asymmetric), by re-optimising with the parameter fixed.
    Profile,
}

/// The user's fit settings, by parameter name.
#[derive(Clone, Debug, PartialEq)]
pub struct FitSpec {
    /// Initial values by name (`--start`).
    pub start: Vec<(String, f64)>,
    /// Fixed values by name (`--fix`).
    pub fixed: Vec<(String, f64)>,
    /// Bounds by name (`--bound`).
    pub bounds: Vec<(String, f64, f64)>,
    /// Weighting scheme.
    pub weighting: Weighting,
    /// Robust (Lorentzian) fitting.
    pub robust: bool,
    /// ROUT coefficient Q in percent (Prism's default is 1).
    pub outliers: Option<f64>,
    /// How intervals are computed.
    pub ci: CiMethod,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    /// The x column already holds log10 concentrations.
    pub x_is_log10: bool,
    /// Solver tolerances and limits. The default tolerance, `ftol = xtol = 1e-10`, is stricter
    /// than MINPACK's `1.49e-8` (scipy's `curve_fit`, R's `minpack.lm`): from a poor start
    /// (a formula's parameters all start at 1) the path can cross a region where each step
    /// gains less than `1.49e-8` and MINPACK's relative parameter test, measured against a
    /// parameter that has run off to a huge value, stops it there.
    pub lm: LmOptions,
}

impl Default for FitSpec {
    fn default() -> Self {
        FitSpec {
            start: Vec::new(),
            fixed: Vec::new(),
            bounds: Vec::new(),
            weighting: Weighting::None,
            robust: false,
            outliers: None,
            ci: CiMethod::Wald,
            level: 0.95,
            x_is_log10: false,
            lm: LmOptions::default().with_tolerance(1e-10),
        }
    }
}

/// A setting that does not fit the model.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    #[error("{option}: model `{model}` has no parameter `{name}`{}; its parameters are {known}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    /// See the error message.
    UnknownParameter {
        /// The option that named it.
        option: &'static str,
        /// The model id.
        model: String,
        /// Name.
        name: String,
        /// A close name, if any.
        suggestion: Option<String>,
        /// The names that exist.
        known: String,
    },
    #[error("--bound {name}={lo}:{hi}: the lower bound must be below the upper bound")]
    /// See the error message.
    EmptyBound {
        /// The parameter.
        name: String,
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    #[error("--level {0}: expected a confidence level strictly between 0 and 1 (e.g. 0.95)")]
    /// See the error message.
    Level(f64),
    #[error("--outliers rout={0}: expected Q in percent, between 0 and 50 (Prism's default is 1)")]
    /// See the error message.
    RoutQ(f64),
    #[error("--robust and --outliers cannot be combined with weighting `{0}`: robust fitting ignores weights")]
    /// See the error message.
    RobustWeights(String),
    /// Every parameter is fixed.
    #[error("every parameter is fixed: nothing to fit")]
    AllFixed,
}

/// A [`FitSpec`] checked against a model: per-parameter vectors.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// Parameter names.
    pub names: Vec<String>,
    /// Initial values by name (`--start`).
    pub start: Vec<Option<f64>>,
    /// Fixed values by name (`--fix`).
    pub fixed: Vec<Option<f64>>,
    /// Lower bounds.
    pub lower: Vec<f64>,
    /// Upper bounds.
    pub upper: Vec<f64>,
    /// The settings resolved.
    pub spec: FitSpec,
    /// The names and the model id as reports carry them (shared, not copied per report).
    shared_names: Vec<Arc<str>>,
    model_id: Arc<str>,
}

impl FitSpec {
    /// Checks the settings against the model's parameters.
    pub fn resolve(&self, model: &dyn CurveModel) -> Result<Resolved, SpecError> {
        let names: Vec<String> = model.params().to_vec();
        let find = |option: &'static str, name: &str| -> Result<usize, SpecError> {
            names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| SpecError::UnknownParameter {
                    option,
                    model: model.id().to_string(),
                    name: name.to_string(),
                    suggestion: ligand_expr::closest(name, names.iter().map(|s| s.as_str()))
                        .map(str::to_string),
                    known: names.join(", "),
                })
        };
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(SpecError::Level(self.level));
        }
        if let Some(q) = self.outliers {
            if !(q > 0.0 && q <= 50.0) {
                return Err(SpecError::RoutQ(q));
            }
        }
        if (self.robust || self.outliers.is_some()) && self.weighting != Weighting::None {
            return Err(SpecError::RobustWeights(self.weighting.name().to_string()));
        }
        let n = names.len();
        let mut start = vec![None; n];
        let mut fixed = vec![None; n];
        let natural = model.natural_bounds();
        let mut lower: Vec<f64> = natural.iter().map(|b| b.0).collect();
        let mut upper: Vec<f64> = natural.iter().map(|b| b.1).collect();
        for (name, v) in &self.start {
            start[find("--start", name)?] = Some(*v);
        }
        for (name, v) in &self.fixed {
            fixed[find("--fix", name)?] = Some(*v);
        }
        for (name, lo, hi) in &self.bounds {
            let j = find("--bound", name)?;
            if lo >= hi {
                return Err(SpecError::EmptyBound {
                    name: name.clone(),
                    lo: *lo,
                    hi: *hi,
                });
            }
            lower[j] = *lo;
            upper[j] = *hi;
        }
        if fixed.iter().all(|f| f.is_some()) {
            return Err(SpecError::AllFixed);
        }
        Ok(Resolved {
            shared_names: names.iter().map(|n| Arc::from(n.as_str())).collect(),
            model_id: Arc::from(model.id()),
            names,
            start,
            fixed,
            lower,
            upper,
            spec: self.clone(),
        })
    }
}

/// The outcome class of a fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FitStatus {
    /// Converged, every parameter determined by the data.
    Converged,
    /// Converged, but some parameter is not determined (Prism's "ambiguous").
    Ambiguous,
    /// Stopped at the iteration limit.
    NotConverged,
    /// No fit could be made; `messages` say why.
    Failed,
}

/// A parameter (or derived quantity) in a report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamReport {
    /// Name (shared between the reports of a batch).
    pub name: Arc<str>,
    /// Best-fit value.
    pub estimate: f64,
    /// Asymptotic standard error (absent when not determined).
    pub std_error: Option<f64>,
    /// Lower confidence limit.
    pub ci_low: Option<f64>,
    /// Upper confidence limit.
    pub ci_high: Option<f64>,
    /// Fixed values by name (`--fix`).
    pub fixed: bool,
}

/// Residual diagnostics and solver details.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Runs test: P(too few runs).
    pub runs_test_p: Option<f64>,
    /// Number of runs of equal-signed residuals.
    pub runs: Option<usize>,
    /// Replicates test P value (lack of fit).
    pub replicates_test_p: Option<f64>,
    /// Replicates test F ratio.
    pub replicates_test_f: Option<f64>,
    /// Source lines of points removed as outliers (ROUT).
    pub outlier_lines: Vec<usize>,
    /// Parameters the data do not determine.
    pub ambiguous: Vec<Arc<str>>,
    /// Parameters that ended on a bound.
    pub at_bound: Vec<Arc<str>>,
    /// Dependency (Prism) per free parameter.
    pub dependency: Vec<(Arc<str>, f64)>,
    /// Accepted solver steps.
    pub iterations: usize,
    /// Model evaluations.
    pub evaluations: usize,
    /// Why the solver stopped (a [`Termination`](crate::lm::Termination) name).
    pub termination: Cow<'static, str>,
}

/// The report of one fit, in the shape of `ligand fit --format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    #[serde(serialize_with = "serialize_group")]
    /// Group column values, or none for a single curve.
    pub group: Option<Vec<(String, String)>>,
    /// The model id.
    pub model: Arc<str>,
    /// Outcome class.
    pub status: FitStatus,
    /// Fitted (and fixed) parameters.
    pub parameters: Vec<ParamReport>,
    /// Derived quantities: (name, formula).
    pub derived: Vec<ParamReport>,
    /// Number of points fitted.
    pub n: usize,
    /// Degrees of freedom.
    pub df: usize,
    /// Residual sum of squares (weighted when weighting).
    pub rss: Option<f64>,
    /// Standard deviation of the residuals, Sy.x.
    pub sy_x: Option<f64>,
    /// Coefficient of determination.
    pub r_squared: Option<f64>,
    /// Akaike information criterion, corrected for small samples.
    pub aicc: Option<f64>,
    /// Residual diagnostics and solver details.
    pub diagnostics: Diagnostics,
    /// Notes, warnings and reasons for failure.
    pub messages: Vec<String>,
}

fn serialize_group<S: Serializer>(
    group: &Option<Vec<(String, String)>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    match group {
        None => s.serialize_none(),
        Some(kv) => {
            let mut m = s.serialize_map(Some(kv.len()))?;
            for (k, v) in kv {
                m.serialize_entry(k, v)?;
            }
            m.end()
        }
    }
}

impl FitReport {
    /// A failed report with one message.
    pub fn failed(model: &str, n: usize, message: String) -> FitReport {
        FitReport {
            group: None,
            model: Arc::from(model),
            status: FitStatus::Failed,
            parameters: Vec::new(),
            derived: Vec::new(),
            n,
            df: 0,
            rss: None,
            sy_x: None,
            r_squared: None,
            aicc: None,
            diagnostics: Diagnostics::default(),
            messages: vec![message],
        }
    }

    /// The estimate of a parameter or derived quantity by name.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.parameters
            .iter()
            .chain(&self.derived)
            .find(|p| &*p.name == name)
            .map(|p| p.estimate)
    }

    /// A parameter or derived quantity by name.
    pub fn param(&self, name: &str) -> Option<&ParamReport> {
        self.parameters
            .iter()
            .chain(&self.derived)
            .find(|p| &*p.name == name)
    }
}

/// Per-thread scratch memory for [`fit_curve`]: the solver's workspace and the buffers of one
/// fit, reused from curve to curve so that a batch allocates little beyond its reports.
#[derive(Default)]
pub struct FitWorkspace {
    lm: LmWorkspace,
    scratch: Vec<f64>,
    /// `x` on the model's scale, transformed from `x_source` for the key (the model's scale,
    /// whether the data are log10 already).
    x: Vec<f64>,
    x_source: Vec<f64>,
    x_key: Option<(XKind, bool)>,
    /// Model values and full Jacobian at the current point, and that point.
    f: Vec<f64>,
    jac_full: Vec<f64>,
    jac_at: Vec<f64>,
    /// Residuals and free-parameter Jacobian at the optimum.
    r: Vec<f64>,
    jac: Vec<f64>,
    /// Residuals in the order of `x`, for the runs test.
    order: Vec<usize>,
    sorted_r: Vec<f64>,
    /// Student t quantiles by (level, df): a batch needs the same few for every curve.
    t_quantiles: Vec<(f64, usize, f64)>,
    /// Runs-test p values by (positive, negative, runs).
    runs_p: Vec<((usize, usize, usize), f64)>,
    /// Replicate groups of the points and the distinct x values.
    groups: Vec<usize>,
    seen: Vec<f64>,
    /// Gradients of a derived quantity.
    grads: Vec<f64>,
    /// Symbolic derivatives of derived quantities, so that a batch differentiates once.
    derivatives: Vec<DerivativeCache>,
    /// Replicate groups of the points in play, for solving over weighted means.
    replicates: Replicates,
    /// Residuals of every point at the optimum (when the solve was over means).
    point_r: Vec<f64>,
    /// Replicate means and summed weights for the self-starter.
    start_y: Vec<f64>,
    start_w: Vec<f64>,
    /// The responses, square-root weights and full parameter vector of the problem being
    /// solved.
    prob_y: Vec<f64>,
    prob_w: Vec<f64>,
    prob_full: Vec<f64>,
    /// The indices of the free parameters, the start (all parameters), the free parameters'
    /// start and their bounds, and the best fit (all parameters).
    free_idx: Vec<usize>,
    full: Vec<f64>,
    p_current: Vec<f64>,
    bounds: Bounds,
    best_full: Vec<f64>,
    /// Statistics at the optimum, and their scratch memory.
    stats: ParameterStatistics,
    stats_ws: StatsWorkspace,
    /// Group sums and counts for the replicates test.
    group_sums: Vec<(f64, usize)>,
}

impl FitWorkspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Points that share `x` and every covariate (replicates), solved through their weighted means.
///
/// For weights `w_i` held fixed during one solve, with `W_g` the summed weight of replicate group
/// `g`, `ybar_g` its weighted mean and `C = sum_i w_i (y_i - ybar_g(i))^2` the pure-error sum of
/// squares,
///
/// ```text
/// sum_i w_i (y_i - f(x_i))^2 = sum_g W_g (ybar_g - f(x_g))^2 + C.
/// ```
///
/// The reduced residuals `sqrt(W_g) (ybar_g - f(x_g))` have the same `J^T J` and `J^T r` as the
/// full ones, so the solver takes the same steps (with `C` as the problem's
/// [`LeastSquaresProblem::constant_ss`], its relative tests are the same too) and the
/// covariance is the same, at a third of the cost for triplicates. Residual diagnostics (runs,
/// replicates test, R²) still use every point.
#[derive(Default)]
struct Replicates {
    /// The points sorted by `x` (ties in input order): the runs test's order as well.
    order: Vec<usize>,
    /// Group of each point; groups are numbered in order of `x`.
    of_point: Vec<usize>,
    /// `x` and covariates of each group.
    x: Vec<f64>,
    cov: Vec<Vec<f64>>,
    /// The first point of each group (to compare covariates).
    first: Vec<usize>,
}

impl Replicates {
    /// Groups the points. Returns whether solving over the groups is worthwhile and possible:
    /// some point has a replicate, and there are at least `min_groups` groups (fewer than the
    /// free parameters leave the solver underdetermined; the full data then give the
    /// diagnosis).
    fn group(&mut self, x: &[f64], cov: &[Vec<f64>], min_groups: usize) -> bool {
        let n = x.len();
        self.order.clear();
        self.order.extend(0..n);
        if !x.windows(2).all(|w| w[0] <= w[1]) {
            self.order
                .sort_unstable_by(|&a, &b| x[a].total_cmp(&x[b]).then(a.cmp(&b)));
        }
        self.of_point.clear();
        self.of_point.resize(n, 0);
        self.x.clear();
        self.first.clear();
        for c in &mut self.cov {
            c.clear();
        }
        self.cov.resize_with(cov.len(), Vec::new);
        self.cov.truncate(cov.len());
        if cov.is_empty() {
            // Groups are runs of equal x in the sorted order.
            let mut last = f64::NAN;
            for &i in &self.order {
                if self.x.is_empty() || x[i] != last {
                    last = x[i];
                    self.x.push(last);
                    self.first.push(i);
                }
                self.of_point[i] = self.x.len() - 1;
            }
            return self.x.len() < n && self.x.len() >= min_groups.max(1);
        }
        let same_cov = |a: usize, b: usize| cov.iter().all(|c| c[a] == c[b]);
        let mut run_start = 0; // first group of the current run of equal x
        for k in 0..n {
            let i = self.order[k];
            let new_run = k == 0 || x[i] != x[self.order[k - 1]];
            if new_run {
                run_start = self.x.len();
            }
            let found = if new_run {
                None
            } else {
                (run_start..self.x.len()).find(|&g| same_cov(self.first[g], i))
            };
            let g = match found {
                Some(g) => g,
                None => {
                    self.x.push(x[i]);
                    for (c, col) in self.cov.iter_mut().zip(cov) {
                        c.push(col[i]);
                    }
                    self.first.push(i);
                    self.x.len() - 1
                }
            };
            self.of_point[i] = g;
        }
        self.x.len() < n && self.x.len() >= min_groups.max(1)
    }

    /// The reduced data for one solve: the weighted mean response and the square root of the
    /// summed weight of each group into `y` and `sqrt_w`; returns the pure-error sum of squares.
    /// `point_sqrt_w` empty means unit weights.
    fn means(
        &self,
        y: &[f64],
        point_sqrt_w: &[f64],
        ybar: &mut Vec<f64>,
        sqrt_w: &mut Vec<f64>,
    ) -> f64 {
        let g = self.x.len();
        ybar.clear();
        ybar.resize(g, 0.0);
        sqrt_w.clear();
        sqrt_w.resize(g, 0.0);
        let groups = &self.of_point[..y.len()];
        // Summed weights (in sqrt_w for now) and weighted sums.
        if point_sqrt_w.is_empty() {
            for (&k, &yi) in groups.iter().zip(y) {
                sqrt_w[k] += 1.0;
                ybar[k] += yi;
            }
        } else {
            for ((&k, &yi), &s) in groups.iter().zip(y).zip(point_sqrt_w) {
                let w = s * s;
                sqrt_w[k] += w;
                ybar[k] += w * yi;
            }
        }
        for (m, w) in ybar.iter_mut().zip(sqrt_w.iter()) {
            *m = if *w > 0.0 { *m / *w } else { 0.0 };
        }
        let mut pure_error = 0.0;
        if point_sqrt_w.is_empty() {
            for (&k, &yi) in groups.iter().zip(y) {
                let d = yi - ybar[k];
                pure_error += d * d;
            }
        } else {
            for ((&k, &yi), &s) in groups.iter().zip(y).zip(point_sqrt_w) {
                let d = s * (yi - ybar[k]);
                pure_error += d * d;
            }
        }
        for w in sqrt_w.iter_mut() {
            *w = w.sqrt();
        }
        pure_error
    }
}

/// Positive residuals, negative ones and runs of equal sign (zeros and NaN skipped), counted as
/// [`stats::runs_test`] counts them.
fn count_runs(residuals: &[f64]) -> (usize, usize, usize) {
    let (mut n_pos, mut n_neg, mut runs) = (0, 0, 0);
    let mut last: Option<bool> = None;
    for &r in residuals {
        if r == 0.0 || r.is_nan() {
            continue;
        }
        let positive = r > 0.0;
        if positive {
            n_pos += 1;
        } else {
            n_neg += 1;
        }
        if last != Some(positive) {
            runs += 1;
        }
        last = Some(positive);
    }
    (n_pos, n_neg, runs)
}

/// The two-sided critical t value for `level` and `df`, from `cache` when it was needed before.
fn t_critical(cache: &mut Vec<(f64, usize, f64)>, level: f64, df: usize) -> f64 {
    if let Some(&(_, _, t)) = cache.iter().find(|(l, d, _)| *l == level && *d == df) {
        return t;
    }
    let t = stats::t_quantile(0.5 + 0.5 * level, df as f64);
    if cache.len() >= 64 {
        cache.clear();
    }
    cache.push((level, df, t));
    t
}

/// A derived quantity's expression, its free variables and its derivatives by parameter name
/// (`None` where differentiation failed).
struct DerivativeCache {
    /// The quantity's name, as reports carry it.
    name: Arc<str>,
    expr: Expr,
    vars: Vec<String>,
    derivatives: Vec<(String, Option<Expr>)>,
    /// The quantity compiled for the parameter names it holds (`None` inside: not compilable).
    compiled: Option<(Vec<String>, Option<CompiledDerived>)>,
}

/// The cache entry of `d` (found by comparing expressions, added when missing).
fn derivative_entry<'c>(
    cache: &'c mut Vec<DerivativeCache>,
    d: &DerivedDef,
) -> &'c mut DerivativeCache {
    let k = match cache
        .iter()
        .position(|c| c.expr == d.expr && *c.name == *d.name)
    {
        Some(k) => k,
        None => {
            if cache.len() >= 64 {
                cache.clear();
            }
            cache.push(DerivativeCache {
                name: Arc::from(d.name.as_str()),
                expr: d.expr.clone(),
                vars: d.expr.free_vars(),
                derivatives: Vec::new(),
                compiled: None,
            });
            cache.len() - 1
        }
    };
    &mut cache[k]
}

/// A derived quantity and its derivatives by every model parameter, compiled over the
/// parameters (in the model's order) as the program's inputs: output 0 is the value, output
/// `1 + j` the derivative by parameter `j`.
struct CompiledDerived {
    program: Program,
    slots: Vec<f64>,
}

impl CompiledDerived {
    /// Compiles `expr` and its gradient over `names`; `None` when the expression uses a name
    /// that is not a parameter, cannot be differentiated or compiled (the interpreter then
    /// takes it, with the same outcome).
    fn new(expr: &Expr, names: &[String]) -> Option<Self> {
        let mut c = Compiler::new(names);
        c.add(expr).ok()?;
        for name in names {
            c.add(&expr.diff(name).ok()?).ok()?;
        }
        let program = c.finish();
        let slots = program.new_slots();
        Some(CompiledDerived { program, slots })
    }

    /// Runs the program at the parameters `full`.
    fn run(&mut self, full: &[f64]) {
        self.slots[..full.len()].copy_from_slice(full);
        self.program.run(&mut self.slots);
    }

    /// The value at `full` with parameter `j` replaced by `v`.
    fn value_with(&mut self, full: &[f64], j: usize, v: f64) -> f64 {
        self.slots[..full.len()].copy_from_slice(full);
        self.slots[j] = v;
        self.program.run(&mut self.slots);
        self.program.output(&self.slots, 0)
    }
}

impl DerivativeCache {
    /// The quantity compiled over the parameters `names` (compiled on first use for them).
    fn compiled(&mut self, names: &[String]) -> Option<&mut CompiledDerived> {
        let stale = match &self.compiled {
            Some((for_names, _)) => for_names[..] != names[..],
            None => true,
        };
        if stale {
            self.compiled = Some((names.to_vec(), CompiledDerived::new(&self.expr, names)));
        }
        self.compiled.as_mut().and_then(|(_, c)| c.as_mut())
    }

    /// The derivative with respect to `name`, differentiating on first use.
    fn derivative(&mut self, name: &str) -> Option<&Expr> {
        let k = match self.derivatives.iter().position(|(n, _)| n == name) {
            Some(k) => k,
            None => {
                let g = self.expr.diff(name).ok();
                self.derivatives.push((name.to_string(), g));
                self.derivatives.len() - 1
            }
        };
        self.derivatives[k].1.as_ref()
    }
}

/// Workspace buffers lent to a [`CurveProblem`].
struct ProblemBuffers<'a> {
    f: &'a mut Vec<f64>,
    jac_full: &'a mut Vec<f64>,
    jac_at: &'a mut Vec<f64>,
    scratch: &'a mut Vec<f64>,
    y: &'a mut Vec<f64>,
    sqrt_w: &'a mut Vec<f64>,
    full: &'a mut Vec<f64>,
}

/// The least-squares problem over the free parameters of one curve.
struct CurveProblem<'a> {
    model: &'a dyn CurveModel,
    x: &'a [f64],
    /// The responses: one per point, or the weighted means of replicate groups.
    y: &'a mut Vec<f64>,
    cov: &'a [Vec<f64>],
    /// sqrt of the weights, or empty for unweighted.
    sqrt_w: &'a mut Vec<f64>,
    /// The pure-error sum of squares of the points about their group means when `y` holds
    /// means; 0 otherwise.
    offset: f64,
    /// Full parameter vector (fixed values in place).
    full: &'a mut Vec<f64>,
    free_idx: &'a [usize],
    /// Model values (length `n`) and full Jacobian (`n` by all parameters): workspace buffers.
    f: &'a mut Vec<f64>,
    jac_full: &'a mut Vec<f64>,
    /// The full parameter vector at which `jac_full` was evaluated (empty: none yet).
    jac_at: &'a mut Vec<f64>,
    scratch: &'a mut Vec<f64>,
}

impl<'a> CurveProblem<'a> {
    /// A problem on `x`, `y`, `cov` from the parameters `start` (fixed values in place), in the
    /// workspace's buffers.
    fn new(
        model: &'a dyn CurveModel,
        x: &'a [f64],
        cov: &'a [Vec<f64>],
        start: &[f64],
        free_idx: &'a [usize],
        buffers: ProblemBuffers<'a>,
    ) -> Self {
        let prob = Self::resume(model, x, cov, start, free_idx, buffers);
        prob.jac_at.clear();
        prob
    }

    /// [`new`](Self::new), keeping the model values and Jacobian that the buffers hold from the
    /// last evaluation of a problem on the same model, `x` and `cov` (they are reused when the
    /// parameters are the same).
    fn resume(
        model: &'a dyn CurveModel,
        x: &'a [f64],
        cov: &'a [Vec<f64>],
        start: &[f64],
        free_idx: &'a [usize],
        buffers: ProblemBuffers<'a>,
    ) -> Self {
        let n = x.len();
        let ProblemBuffers {
            f,
            jac_full,
            jac_at,
            scratch,
            y,
            sqrt_w,
            full,
        } = buffers;
        y.clear();
        sqrt_w.clear();
        full.clear();
        full.extend_from_slice(start);
        if f.len() != n || jac_full.len() != n * full.len() {
            f.clear();
            f.resize(n, 0.0);
            jac_full.clear();
            jac_full.resize(n * full.len(), 0.0);
            jac_at.clear();
        }
        CurveProblem {
            model,
            x,
            y,
            cov,
            sqrt_w,
            offset: 0.0,
            full,
            free_idx,
            f,
            jac_full,
            jac_at,
            scratch,
        }
    }

    /// Evaluates the model and its full Jacobian at the current `full` (once per point: the
    /// solver asks for the Jacobian where it last evaluated the residuals, and for the models
    /// compiled from formulas the values and the derivatives come from one program run).
    fn evaluate(&mut self) {
        self.model.eval(
            self.x,
            self.cov,
            self.full,
            self.f,
            Some(self.jac_full),
            self.scratch,
        );
        self.jac_at.clear();
        self.jac_at.extend_from_slice(self.full);
    }

    /// Whether the buffers hold the model at the current parameters.
    fn evaluated(&self) -> bool {
        self.jac_at[..] == self.full[..]
    }

    /// Loads the responses and per-point square-root weights (empty: unit weights) of one
    /// solve: as they are, or reduced to the means of the replicate groups `reps`.
    /// `unit_means` are those means already formed for unit weights (means, square roots of the
    /// counts, pure-error sum of squares), taken instead of forming them again.
    fn load(
        &mut self,
        reps: Option<&Replicates>,
        y: &[f64],
        point_sqrt_w: &[f64],
        unit_means: Option<(&[f64], &[f64], f64)>,
    ) {
        match (reps, unit_means) {
            (Some(_), Some((ybar, sqrt_w, pure_error))) if point_sqrt_w.is_empty() => {
                self.y.clear();
                self.y.extend_from_slice(ybar);
                self.sqrt_w.clear();
                self.sqrt_w.extend_from_slice(sqrt_w);
                self.offset = pure_error;
            }
            (Some(reps), _) => {
                self.offset = reps.means(y, point_sqrt_w, self.y, self.sqrt_w);
            }
            (None, _) => {
                self.y.clear();
                self.y.extend_from_slice(y);
                self.sqrt_w.clear();
                self.sqrt_w.extend_from_slice(point_sqrt_w);
                self.offset = 0.0;
            }
        }
    }

    fn set_free(&mut self, p: &[f64]) {
        for (k, &j) in self.free_idx.iter().enumerate() {
            self.full[j] = p[k];
        }
    }

    fn predict(&mut self, full: &[f64]) -> Vec<f64> {
        let mut f = vec![0.0; self.x.len()];
        self.model
            .eval(self.x, self.cov, full, &mut f, None, self.scratch);
        f
    }
}

impl LeastSquaresProblem for CurveProblem<'_> {
    fn n_params(&self) -> usize {
        self.free_idx.len()
    }

    fn n_residuals(&self) -> usize {
        self.x.len()
    }

    fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
        self.set_free(p);
        if !self.evaluated() {
            self.evaluate();
        }
        let mut ok = true;
        if self.sqrt_w.is_empty() {
            for i in 0..self.x.len() {
                r[i] = self.y[i] - self.f[i];
                ok &= r[i].is_finite();
            }
        } else {
            for i in 0..self.x.len() {
                r[i] = self.sqrt_w[i] * (self.y[i] - self.f[i]);
                ok &= r[i].is_finite();
            }
        }
        ok
    }

    fn constant_ss(&self) -> f64 {
        self.offset
    }

    fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
        self.set_free(p);
        let n = self.x.len();
        if !self.evaluated() {
            self.evaluate();
        }
        for (k, &j) in self.free_idx.iter().enumerate() {
            let src = &self.jac_full[j * n..(j + 1) * n];
            let dst = &mut jac[k * n..(k + 1) * n];
            if self.sqrt_w.is_empty() {
                for i in 0..n {
                    dst[i] = -src[i];
                }
            } else {
                let w = &self.sqrt_w[..n];
                for i in 0..n {
                    dst[i] = -w[i] * src[i];
                }
            }
        }
        true
    }
}

fn fmt_num(v: f64) -> String {
    ligand_expr::format_number(v)
}

/// Transforms x to the model's scale into `out`; reports the first unusable value.
fn transform_x(
    model: &dyn CurveModel,
    data: &CurveData,
    x_is_log10: bool,
    out: &mut Vec<f64>,
) -> Result<(), String> {
    out.clear();
    match (model.x_kind(), x_is_log10) {
        (XKind::Log10, false) => {
            for (i, &x) in data.x.iter().enumerate() {
                if x <= 0.0 {
                    let at = data
                        .lines
                        .get(i)
                        .map(|l| format!("line {l}: "))
                        .unwrap_or_default();
                    return Err(format!(
                        "{at}concentration {} cannot be log-transformed for model `{}`; \
                         remove zero-concentration controls (or use them to normalise), \
                         or give log10 concentrations with --x-scale log10",
                        fmt_num(x),
                        model.id()
                    ));
                }
                out.push(x.log10());
            }
        }
        (XKind::Linear, true) => out.extend(data.x.iter().map(|x| 10f64.powf(*x))),
        _ => out.extend_from_slice(&data.x),
    }
    Ok(())
}

/// Robust standard deviation of the residuals (Motulsky & Brown 2006): the
/// 68.27th percentile of |residual|, corrected for the number of parameters.
pub fn rsdr(residuals: &[f64], n_params: usize) -> f64 {
    let mut a: Vec<f64> = residuals.iter().map(|r| r.abs()).collect();
    if a.is_empty() {
        return 0.0;
    }
    a.sort_by(f64::total_cmp);
    let n = a.len();
    let pos = 0.6827 * (n as f64 - 1.0);
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let p68 = a[lo] + (pos - lo as f64) * (a[hi] - a[lo]);
    if n > n_params {
        p68 * n as f64 / (n - n_params) as f64
    } else {
        p68
    }
}

/// ROUT outlier identification: indices of points whose residuals are
/// outliers at false discovery rate `q` (a fraction, e.g. 0.01), given the
/// residuals of a robust fit with `n_params` free parameters.
pub fn rout_outliers(residuals: &[f64], n_params: usize, q: f64) -> Vec<usize> {
    let n = residuals.len();
    if n <= n_params + 1 {
        return Vec::new();
    }
    let scale = rsdr(residuals, n_params);
    if scale <= 0.0 || !scale.is_finite() {
        return Vec::new();
    }
    let df = (n - n_params) as f64;
    let Ok(t) = StudentsT::new(0.0, 1.0, df) else {
        return Vec::new();
    };
    let mut p: Vec<(f64, usize)> = residuals
        .iter()
        .enumerate()
        .map(|(i, r)| (2.0 * t.sf(r.abs() / scale), i))
        .collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Benjamini-Hochberg: the largest k with p_(k) <= q k / n.
    let mut k_max = 0;
    for (k, (pv, _)) in p.iter().enumerate() {
        if *pv <= q * (k + 1) as f64 / n as f64 {
            k_max = k + 1;
        }
    }
    let mut out: Vec<usize> = p[..k_max].iter().map(|(_, i)| *i).collect();
    out.sort_unstable();
    out
}

struct RunOutcome {
    params: Vec<f64>,
    termination: crate::lm::Termination,
    iterations: usize,
    evaluations: usize,
    /// The largest Gauss-Newton step left at the reported optimum, in standard errors, when it
    /// is above [`GN_RATIO_LIMIT`] after the polishing rounds (the fit may not be converged).
    unconverged_ratio: Option<f64>,
}

/// The solver's first stop is accepted when the Gauss-Newton step left there is at most this many
/// standard errors for every parameter that it moves by more than [`GN_RELATIVE_LIMIT`]. At the
/// default tolerance (1e-10) a noisy 4PL stops at 1e-6 to 1e-5 standard errors (92 % of the
/// 10,000 benchmark curves below this limit), NIST's ill-conditioned ENSO, MGH09 and Thurber at
/// 1.2e-5 to 6.6e-5 (4 to 5.7 correct digits): those are polished.
const GN_TRIGGER: f64 = 5e-6;
/// Once polishing, a parameter is converged when the step left is at most this many standard
/// errors (statistically irrelevant)...
const GN_RATIO_LIMIT: f64 = 1e-6;
/// ...or at most this fraction of its value (numerically irrelevant: 7 digits).
const GN_RELATIVE_LIMIT: f64 = 1e-7;
/// Polishing rounds at tighter tolerances before a fit is reported as possibly not converged.
const GN_ROUNDS: usize = 3;

/// Runs the solver, then checks the optimum it reports: a relative tolerance on the sum of
/// squares stops an ill-conditioned problem (NIST's MGH09, Thurber, ENSO at 1e-10) while the
/// parameters can still move by 1e-5 of their values. Where the Gauss-Newton step left at the
/// optimum is above both [`GN_TRIGGER`] standard errors and [`GN_RELATIVE_LIMIT`] of the value,
/// the solver goes on from there, each round with a tolerance 1000 times tighter (down to 1e-15),
/// until the step is below [`GN_RATIO_LIMIT`], for at most [`GN_ROUNDS`] rounds. Most fits pass
/// the check at once; it costs no model evaluation, as the problem caches its last one, which is
/// the optimum.
fn run_lm(
    prob: &mut CurveProblem<'_>,
    p0: &[f64],
    bounds: &Bounds,
    opts: &LmOptions,
    df: usize,
    ws: &mut LmWorkspace,
) -> Result<RunOutcome, String> {
    let b = if bounds.is_unbounded() {
        None
    } else {
        Some(bounds)
    };
    let r = minimize(prob, p0, b, opts, ws).map_err(|e| e.to_string())?;
    let mut out = RunOutcome {
        params: r.params,
        termination: r.termination,
        iterations: r.n_iter,
        evaluations: r.n_fev,
        unconverged_ratio: None,
    };
    let n = out.params.len();
    let (mut ratio_stack, mut step_stack) = ([0.0; 8], [0.0; 8]);
    let (mut ratio_heap, mut step_heap) = (Vec::new(), Vec::new());
    let (ratio, step): (&mut [f64], &mut [f64]) = if n <= 8 {
        (&mut ratio_stack[..n], &mut step_stack[..n])
    } else {
        ratio_heap.resize(n, 0.0);
        step_heap.resize(n, 0.0);
        (&mut ratio_heap[..], &mut step_heap[..])
    };
    // A parameter held at a bound changes the linearised problem of the others: no check.
    let at_bound = |p: &[f64]| {
        p.iter()
            .enumerate()
            .any(|(j, &v)| v <= bounds.lower[j] || v >= bounds.upper[j])
    };
    let mut tol = opts.ftol.min(opts.xtol);
    let mut last_worst = f64::INFINITY;
    for round in 0..=GN_ROUNDS {
        let converged = out.termination.is_converged() || out.termination.is_at_machine_precision();
        if !converged || at_bound(&out.params) {
            return Ok(out);
        }
        if !gauss_newton_ratios(prob, &out.params, df, ws, ratio, step) {
            return Ok(out);
        }
        let worst = (0..n)
            .filter(|&j| step[j].abs() > GN_RELATIVE_LIMIT * out.params[j].abs())
            .map(|j| ratio[j])
            .fold(0.0f64, f64::max);
        // Converged; or a round at a tighter tolerance did not shrink the step tenfold, so what
        // is left is rounding (the solver cannot reduce the sum of squares along it).
        let limit = if round == 0 {
            GN_TRIGGER
        } else {
            GN_RATIO_LIMIT
        };
        if worst <= limit || worst > 0.1 * last_worst {
            return Ok(out);
        }
        if round == GN_ROUNDS || tol <= 1e-15 {
            out.unconverged_ratio = Some(worst);
            return Ok(out);
        }
        last_worst = worst;
        tol = (tol * 1e-3).max(1e-15);
        // From the optimum with a small trust region: the step wanted is small, and a wide first
        // step could leave for another basin.
        let tight = LmOptions {
            factor: 1e-3,
            ..opts.with_tolerance(tol)
        };
        let r = minimize(prob, &out.params, b, &tight, ws).map_err(|e| e.to_string())?;
        out.params = r.params;
        out.termination = r.termination;
        out.iterations += r.n_iter;
        out.evaluations += r.n_fev;
    }
    Ok(out)
}

/// Fits one curve.
///
/// ```
/// use ligand_fit::catalogue::build;
/// use ligand_fit::curve::{fit_curve, CurveData, FitSpec, FitStatus, FitWorkspace};
/// let model = build("4pl", &[]).unwrap();
/// let x: Vec<f64> = (0..8).map(|i| 10f64.powf(-9.0 + 0.5 * i as f64)).collect();
/// let y: Vec<f64> = x.iter().map(|c| 2.0 + 98.0 / (1.0 + (1e-7 / c).powf(1.2))).collect();
/// let data = CurveData { x, y, ..Default::default() };
/// let spec = FitSpec::default().resolve(model.as_ref()).unwrap();
/// let r = fit_curve(model.as_ref(), &data, &spec, &mut FitWorkspace::new());
/// assert_eq!(r.status, FitStatus::Converged);
/// assert!((r.value("logec50").unwrap() + 7.0).abs() < 1e-6);
/// assert!((r.value("ec50").unwrap() / 1e-7 - 1.0).abs() < 1e-5);
/// ```
pub fn fit_curve(
    model: &dyn CurveModel,
    data: &CurveData,
    resolved: &Resolved,
    ws: &mut FitWorkspace,
) -> FitReport {
    let spec = &resolved.spec;
    let n_all = data.y.len();
    let FitWorkspace {
        lm: lm_ws,
        scratch,
        x: x_buf,
        x_source,
        x_key,
        f: f_buf,
        jac_full: jac_full_buf,
        jac_at: jac_at_buf,
        r: r_buf,
        jac: jac_buf,
        order,
        sorted_r,
        t_quantiles,
        runs_p,
        groups,
        seen,
        grads,
        derivatives,
        replicates,
        point_r,
        start_y,
        start_w,
        prob_y: y_buf,
        prob_w: w_buf,
        prob_full,
        free_idx,
        full,
        p_current,
        bounds,
        best_full,
        stats: st_buf,
        stats_ws,
        group_sums,
    } = ws;
    // The workspace buffers every curve problem below borrows (one problem at a time).
    macro_rules! buffers {
        () => {
            ProblemBuffers {
                f: f_buf,
                jac_full: jac_full_buf,
                jac_at: jac_at_buf,
                scratch,
                y: y_buf,
                sqrt_w: w_buf,
                full: prob_full,
            }
        };
    }
    // A batch of plates usually repeats one dilution series: transform it once.
    let key = (model.x_kind(), spec.x_is_log10);
    let same_x = x_source.len() == data.x.len()
        && x_source
            .iter()
            .zip(&data.x)
            .all(|(a, b)| a.to_bits() == b.to_bits());
    if *x_key != Some(key) || !same_x {
        *x_key = None;
        if let Err(msg) = transform_x(model, data, spec.x_is_log10, x_buf) {
            return FitReport::failed(model.id(), n_all, msg);
        }
        x_source.clear();
        x_source.extend_from_slice(&data.x);
        *x_key = Some(key);
    }
    let x: &[f64] = x_buf;
    for (c, name) in model.covariates().iter().enumerate() {
        if data.cov.get(c).is_none_or(|col| col.len() != n_all) {
            return FitReport::failed(
                model.id(),
                n_all,
                format!(
                    "model `{}` needs the covariate `{name}` for every point",
                    model.id()
                ),
            );
        }
    }
    let n_par = resolved.names.len();
    free_idx.clear();
    free_idx.extend((0..n_par).filter(|j| resolved.fixed[*j].is_none()));
    let free_idx: &[usize] = free_idx;
    let n_free = free_idx.len();
    if n_all < n_free {
        return FitReport::failed(
            model.id(),
            n_all,
            format!("{n_all} points are fewer than the {n_free} parameters to fit"),
        );
    }
    let ymin = data.y.iter().cloned().fold(f64::INFINITY, f64::min);
    let ymax = data.y.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if n_all > 0 && ymin == ymax {
        return FitReport::failed(
            model.id(),
            n_all,
            format!(
                "every response equals {}: a constant response determines no curve",
                fmt_num(ymin)
            ),
        );
    }
    if spec.weighting == Weighting::Sd && data.sd.is_none() {
        return FitReport::failed(
            model.id(),
            n_all,
            "weighting by SD needs an sd column".into(),
        );
    }

    // Initial values: the user's, else the self-starter; fixed values in place.
    // Replicates of every point, and the self-starter on their means (the plateaus, the
    // midpoint and the slope that a self-starter reads off are those of the means anyway).
    let mut replicates_of_all = replicates.group(x, &data.cov, n_free);
    // The unweighted means of every point (for the starter, and for the solve when it is
    // unweighted) and their pure-error sum of squares.
    let mut start_pe = 0.0;
    let auto = if replicates_of_all {
        start_pe = replicates.means(&data.y, &[], start_y, start_w);
        model.initial(&replicates.x, &replicates.cov, start_y)
    } else {
        model.initial(x, &data.cov, &data.y)
    };
    full.clear();
    full.extend((0..n_par).map(|j| {
        resolved.fixed[j]
            .or(resolved.start[j])
            .or_else(|| auto.get(j).copied())
            .unwrap_or(1.0)
    }));
    for j in 0..n_par {
        if !full[j].is_finite() {
            full[j] = 1.0;
        }
        full[j] = full[j].clamp(resolved.lower[j], resolved.upper[j]);
        if resolved.fixed[j].is_none()
            && full[j] == resolved.lower[j]
            && resolved.lower[j].is_finite()
        {
            // Start strictly inside: a start on a bound can freeze the parameter.
            let hi = resolved.upper[j];
            full[j] = if hi.is_finite() {
                0.5 * (resolved.lower[j] + hi)
            } else {
                resolved.lower[j] + 1e-3 * (1.0 + resolved.lower[j].abs())
            };
        }
    }
    let full: &[f64] = full;
    bounds.lower.clear();
    bounds
        .lower
        .extend(free_idx.iter().map(|&j| resolved.lower[j]));
    bounds.upper.clear();
    bounds
        .upper
        .extend(free_idx.iter().map(|&j| resolved.upper[j]));
    let bounds: &Bounds = bounds;

    let mut messages: Vec<String> = Vec::new();
    let mut diagnostics = Diagnostics::default();

    // Points in play (ROUT may remove some): empty means all.
    let mut keep: Vec<bool> = Vec::new();
    let mut outcome: Option<RunOutcome> = None;
    let mut sqrt_w_final: Vec<f64> = Vec::new();
    let mut grouped_final = false;

    // Stage A: robust fit (for --robust, and as the first step of ROUT).
    let robust_stage = spec.robust || spec.outliers.is_some();
    p_current.clear();
    p_current.extend(free_idx.iter().map(|&j| full[j]));

    // The points in play: the data themselves unless ROUT removed some.
    type Points<'p> = (
        Cow<'p, [f64]>,
        Cow<'p, [f64]>,
        Cow<'p, [Vec<f64>]>,
        Cow<'p, [f64]>,
    );
    let subset = |keep: &[bool]| -> Points<'_> {
        if keep.iter().all(|k| *k) {
            return (
                Cow::Borrowed(x),
                Cow::Borrowed(&data.y[..]),
                Cow::Borrowed(&data.cov[..]),
                Cow::Borrowed(data.sd.as_deref().unwrap_or(&[])),
            );
        }
        let idx: Vec<usize> = (0..n_all).filter(|&i| keep[i]).collect();
        let xs = idx.iter().map(|&i| x[i]).collect();
        let ys = idx.iter().map(|&i| data.y[i]).collect();
        let cs: Vec<Vec<f64>> = data
            .cov
            .iter()
            .map(|col| idx.iter().map(|&i| col[i]).collect())
            .collect();
        let sd = match &data.sd {
            Some(sd) => idx.iter().map(|&i| sd[i]).collect(),
            None => Vec::new(),
        };
        (
            Cow::Owned(xs),
            Cow::Owned(ys),
            Cow::Owned(cs),
            Cow::Owned(sd),
        )
    };

    // One fit of the points in `keep`: a solve with fixed weights, repeated with updated weights
    // when the weights depend on the curve (1/Y², 1/Y, Poisson) or on the residuals (robust).
    // Returns the outcome, the final per-point square-root weights (empty: unit weights) and
    // whether the solve ran over replicate means (then `replicates` describes the groups).
    let mut fit_once = |keep: &[bool],
                        p0: &[f64],
                        weighting: Weighting,
                        robust: bool,
                        messages: &mut Vec<String>|
     -> Result<(RunOutcome, Vec<f64>, bool), String> {
        let (xs, ys, cs, sd) = subset(keep);
        let mut point_sqrt_w: Vec<f64> = if weighting == Weighting::Sd {
            sd.iter().map(|s| 1.0 / s).collect()
        } else {
            Vec::new()
        };
        let all_kept = keep.iter().all(|k| *k);
        // The groups of every point, whose unweighted means the starter formed.
        let start_means = all_kept && replicates_of_all;
        let grouped = if start_means {
            true
        } else {
            replicates_of_all = false;
            replicates.group(&xs, &cs, free_idx.len())
        };
        let grouped = grouped && point_sqrt_w.iter().all(|w| w.is_finite());
        let reps = grouped.then_some(&*replicates);
        let (px, pcov): (&[f64], &[Vec<f64>]) = match reps {
            Some(r) => (&r.x, &r.cov),
            None => (&xs, &cs),
        };
        let mut prob = CurveProblem::new(model, px, pcov, full, free_idx, buffers!());
        // The unweighted means of every point were formed for the starter.
        let unit_means = start_means.then_some((&start_y[..], &start_w[..], start_pe));
        prob.load(reps, &ys, &point_sqrt_w, unit_means);
        let df = ys.len().saturating_sub(free_idx.len());
        let mut out = run_lm(&mut prob, p0, bounds, &spec.lm, df, lm_ws)?;
        let reweight = matches!(
            weighting,
            Weighting::InverseY2 | Weighting::InverseY | Weighting::Poisson
        ) || robust;
        if reweight {
            let mut converged = false;
            for _round in 0..50 {
                prob.set_free(&out.params);
                let full_now = prob.full.to_vec();
                let f_rows = prob.predict(&full_now);
                let f: Vec<f64> = match reps {
                    Some(r) => r.of_point.iter().map(|&g| f_rows[g]).collect(),
                    None => f_rows,
                };
                let resid: Vec<f64> = ys.iter().zip(&f).map(|(y, f)| y - f).collect();
                let scale = rsdr(&resid, free_idx.len()).max(1e-300);
                point_sqrt_w = f
                    .iter()
                    .zip(&resid)
                    .map(|(fi, ri)| {
                        let w = if robust {
                            1.0 / (1.0 + (ri / scale).powi(2))
                        } else {
                            let a = fi.abs().max(1e-300);
                            match weighting {
                                Weighting::InverseY2 => 1.0 / (a * a),
                                _ => 1.0 / a,
                            }
                        };
                        w.sqrt()
                    })
                    .collect();
                prob.load(reps, &ys, &point_sqrt_w, None);
                let next = run_lm(&mut prob, &out.params, bounds, &spec.lm, df, lm_ws)?;
                let change = next
                    .params
                    .iter()
                    .zip(&out.params)
                    .map(|(a, b)| (a - b).abs() / (1e-12 + b.abs()))
                    .fold(0.0, f64::max);
                out = next;
                if change < 1e-9 {
                    converged = true;
                    break;
                }
            }
            if !converged {
                messages.push("iterated reweighting did not settle within 50 rounds".into());
            }
        }
        Ok((out, point_sqrt_w, grouped))
    };

    if robust_stage {
        match fit_once(&keep, p_current, Weighting::None, true, &mut messages) {
            Ok((o, w, g)) => {
                p_current.clear();
                p_current.extend_from_slice(&o.params);
                if spec.robust && spec.outliers.is_none() {
                    sqrt_w_final = w;
                    grouped_final = g;
                    outcome = Some(o);
                }
            }
            Err(e) => return FitReport::failed(model.id(), n_all, e),
        }
        if let Some(q) = spec.outliers {
            // Residuals of the robust fit, unweighted.
            let mut full_now = full.to_vec();
            for (k, &j) in free_idx.iter().enumerate() {
                full_now[j] = p_current[k];
            }
            let mut f = vec![0.0; n_all];
            model.eval(x, &data.cov, &full_now, &mut f, None, &mut Vec::new());
            let resid: Vec<f64> = data.y.iter().zip(&f).map(|(y, f)| y - f).collect();
            keep = vec![true; n_all];
            for i in rout_outliers(&resid, n_free, q / 100.0) {
                keep[i] = false;
                diagnostics
                    .outlier_lines
                    .push(data.lines.get(i).copied().unwrap_or(i + 1));
            }
            if !diagnostics.outlier_lines.is_empty() {
                messages.push(format!(
                    "ROUT (Q = {q} %) removed {} outlier(s)",
                    diagnostics.outlier_lines.len()
                ));
            }
            if keep.iter().filter(|k| **k).count() < n_free {
                return FitReport::failed(
                    model.id(),
                    n_all,
                    "too few points left after outlier removal".into(),
                );
            }
        }
    }
    if outcome.is_none() {
        match fit_once(&keep, p_current, spec.weighting, false, &mut messages) {
            Ok((o, w, g)) => {
                sqrt_w_final = w;
                grouped_final = g;
                outcome = Some(o);
            }
            Err(e) => return FitReport::failed(model.id(), n_all, e),
        }
    }
    let outcome = outcome.expect("set above");

    // Statistics at the optimum, on the points kept: the Jacobian of the last solve (over
    // replicate means when it was; its J^T J is that of the points) and every point's residual.
    let (xs, ys, cs, _) = subset(&keep);
    let n = xs.len();
    let reps = grouped_final.then_some(&*replicates);
    let (px, pcov): (&[f64], &[Vec<f64>]) = match reps {
        Some(r) => (&r.x, &r.cov),
        None => (&xs, &cs),
    };
    let rows = px.len();
    // The same model, x and covariates as the last solve: the model values and Jacobian at its
    // last point are still in the buffers, and that point is usually the optimum.
    let mut prob = CurveProblem::resume(model, px, pcov, full, free_idx, buffers!());
    let unit_means = keep
        .is_empty()
        .then_some((&start_y[..], &start_w[..], start_pe));
    prob.load(reps, &ys, &sqrt_w_final, unit_means);
    prob.set_free(&outcome.params);
    best_full.clear();
    best_full.extend_from_slice(prob.full);
    let best_full: &[f64] = best_full;
    r_buf.clear();
    r_buf.resize(rows, 0.0);
    jac_buf.clear();
    jac_buf.resize(rows * n_free, 0.0);
    let finite = prob.residuals(&outcome.params, r_buf)
        && prob.jacobian(&outcome.params, jac_buf)
        && r_buf.iter().chain(jac_buf.iter()).all(|v| v.is_finite());
    let rss: f64 = r_buf.iter().map(|v| v * v).sum::<f64>() + prob.offset;
    // Every point's residual (weighted as in the fit).
    let r: &[f64] = match reps {
        Some(reps) => {
            point_r.clear();
            point_r.extend(ys.iter().enumerate().map(|(i, &y)| {
                let w = sqrt_w_final.get(i).copied().unwrap_or(1.0);
                w * (y - prob.f[reps.of_point[i]])
            }));
            point_r
        }
        None => r_buf,
    };
    let jac: &[f64] = jac_buf;
    diagnostics.iterations = outcome.iterations;
    diagnostics.evaluations = outcome.evaluations;
    diagnostics.termination = Cow::Borrowed(outcome.termination.name());
    if !finite || !rss.is_finite() {
        return FitReport::failed(
            model.id(),
            n_all,
            "the model is not finite at the best fit (check the data and the starting values)"
                .into(),
        );
    }
    let df = n.saturating_sub(n_free);
    let mut status = if let Some(ratio) = outcome.unconverged_ratio {
        messages.push(format!(
            "may not be converged: the solver stopped where a Gauss-Newton step of {} standard \
             errors is left, also after {GN_ROUNDS} rounds at tighter tolerances",
            fmt_num(ratio)
        ));
        FitStatus::NotConverged
    } else if outcome.termination.is_converged() || outcome.termination.is_at_machine_precision() {
        FitStatus::Converged
    } else if outcome.termination.is_limit() {
        messages.push("stopped at the iteration limit before converging".into());
        FitStatus::NotConverged
    } else {
        messages.push(format!("solver stopped: {:?}", outcome.termination));
        FitStatus::Failed
    };

    let st: Option<&ParameterStatistics> = if df > 0 {
        st_buf
            .compute_rows(jac, rows, n_free, df, rss, stats_ws)
            .ok()
            .map(|()| &*st_buf)
    } else {
        messages
            .push("as many parameters as points: no degrees of freedom, no standard errors".into());
        None
    };
    // Poisson regression: dispersion fixed at 1.
    let se_scale = if spec.weighting == Weighting::Poisson {
        st.map(|s| 1.0 / s.residual_variance.sqrt()).unwrap_or(1.0)
    } else {
        1.0
    };
    let t_crit = if df > 0 {
        t_critical(t_quantiles, spec.level, df)
    } else {
        f64::NAN
    };

    let mut parameters: Vec<ParamReport> = Vec::with_capacity(n_par);
    let mut free_se: Vec<Option<f64>> = vec![None; n_free];
    for j in 0..n_par {
        let fixed = resolved.fixed[j].is_some();
        let k = free_idx.iter().position(|&f| f == j);
        let se = match (k, st) {
            (Some(k), Some(s)) if !s.ambiguous[k] => s.standard_errors[k].map(|v| v * se_scale),
            _ => None,
        };
        if let Some(k) = k {
            free_se[k] = se;
        }
        let (lo, hi) = match se {
            Some(se) if t_crit.is_finite() => (
                Some(best_full[j] - t_crit * se),
                Some(best_full[j] + t_crit * se),
            ),
            _ => (None, None),
        };
        parameters.push(ParamReport {
            name: resolved.shared_names[j].clone(),
            estimate: best_full[j],
            std_error: se,
            ci_low: lo,
            ci_high: hi,
            fixed,
        });
    }
    if let Some(s) = st {
        for (k, &j) in free_idx.iter().enumerate() {
            diagnostics
                .dependency
                .push((resolved.shared_names[j].clone(), s.dependency[k]));
            if s.ambiguous[k] {
                diagnostics.ambiguous.push(resolved.shared_names[j].clone());
            }
        }
        if !diagnostics.ambiguous.is_empty() && status == FitStatus::Converged {
            status = FitStatus::Ambiguous;
            messages.push(format!(
                "ambiguous: the data do not determine {} (dependency > 0.9999)",
                diagnostics.ambiguous.join(", ")
            ));
        }
    }
    for (k, &j) in free_idx.iter().enumerate() {
        let v = outcome.params[k];
        if v == bounds.lower[k] || v == bounds.upper[k] {
            diagnostics.at_bound.push(resolved.shared_names[j].clone());
        }
    }
    if !diagnostics.at_bound.is_empty() {
        messages.push(format!(
            "at a bound: {} (intervals assume the bound is not active)",
            diagnostics.at_bound.join(", ")
        ));
    }

    // Profile-likelihood intervals.
    if spec.ci == CiMethod::Profile && df > 0 && status != FitStatus::Failed {
        let opts = ProfileOptions {
            level: spec.level,
            lm: spec.lm,
            ..ProfileOptions::default()
        };
        let mask = ParameterMask::all_free(n_free);
        let b = if bounds.is_unbounded() {
            None
        } else {
            Some(bounds)
        };
        // The profile counts degrees of freedom by residuals: solve over every point.
        let mut prob = CurveProblem::new(model, &xs, &cs, full, free_idx, buffers!());
        prob.load(None, &ys, &sqrt_w_final, None);
        for k in 0..n_free {
            let j = free_idx[k];
            let step = free_se[k].unwrap_or(0.1 * (1.0 + outcome.params[k].abs()));
            match stats::profile_interval(
                &mut prob,
                &outcome.params,
                rss,
                &mask,
                b,
                k,
                step,
                &opts,
                lm_ws,
            ) {
                Ok(pi) => {
                    let lim = |l: &ProfileLimit| match l {
                        ProfileLimit::Found { value } | ProfileLimit::BoundReached { value } => {
                            Some(*value)
                        }
                        _ => None,
                    };
                    parameters[j].ci_low = lim(&pi.lower);
                    parameters[j].ci_high = lim(&pi.upper);
                    if pi.better_rss.is_some() {
                        messages.push(format!(
                            "the profile of {} found a lower sum of squares: the fit may not be at the global minimum",
                            resolved.names[j]
                        ));
                    }
                    if matches!(
                        pi.lower,
                        ProfileLimit::NotFound { .. } | ProfileLimit::FitFailed { .. }
                    ) || matches!(
                        pi.upper,
                        ProfileLimit::NotFound { .. } | ProfileLimit::FitFailed { .. }
                    ) {
                        messages.push(format!(
                            "the profile interval of {} is open (very wide)",
                            resolved.names[j]
                        ));
                    }
                }
                Err(e) => messages.push(format!("profile of {}: {e}", resolved.names[j])),
            }
        }
    }

    // Derived quantities.
    let lookup = |n: &str| -> Option<f64> {
        resolved
            .names
            .iter()
            .position(|p| p == n)
            .map(|j| best_full[j])
    };
    let mut derived = Vec::new();
    for d in model.derived() {
        // The expression's variables and derivatives, computed (and compiled) once per batch.
        let entry = derivative_entry(derivatives, d);
        let value = match entry.compiled(&resolved.names) {
            Some(c) => {
                c.run(best_full);
                grads.clear();
                grads.extend(free_idx.iter().map(|&j| c.program.output(&c.slots, 1 + j)));
                c.program.output(&c.slots, 0)
            }
            None => {
                let Ok(value) = d.expr.eval(&lookup) else {
                    continue;
                };
                grads.clear();
                grads.extend(free_idx.iter().map(|&j| {
                    entry
                        .derivative(&resolved.names[j])
                        .and_then(|g| g.eval(&lookup).ok())
                        .unwrap_or(f64::NAN)
                }));
                value
            }
        };
        // Delta-method standard error over the free parameters.
        let mut se = None;
        if let Some(s) = st {
            if let Some(cov) = &s.covariance {
                let mut var = 0.0;
                for a in 0..n_free {
                    for b in 0..n_free {
                        var += grads[a] * cov.get(a, b) * grads[b];
                    }
                }
                if var.is_finite() && var >= 0.0 {
                    se = Some(var.sqrt() * se_scale);
                }
            }
        }
        // A function of one parameter: transform that parameter's interval
        // (asymmetric, as Prism reports EC50 from logEC50).
        let mut params_used = entry
            .vars
            .iter()
            .filter_map(|v| resolved.names.iter().position(|p| p == v));
        let single = match (params_used.next(), params_used.next()) {
            (Some(j), None) => Some(j),
            _ => None,
        };
        let (mut lo, mut hi) = (None, None);
        if let Some(j) = single {
            if let (Some(a), Some(b)) = (parameters[j].ci_low, parameters[j].ci_high) {
                let mut at = |v: f64| match entry.compiled(&resolved.names) {
                    Some(c) => Some(c.value_with(best_full, j, v)),
                    None => d
                        .expr
                        .eval(&|n| {
                            if n == resolved.names[j] {
                                Some(v)
                            } else {
                                lookup(n)
                            }
                        })
                        .ok(),
                };
                if let (Some(fa), Some(fb)) = (at(a), at(b)) {
                    lo = Some(fa.min(fb));
                    hi = Some(fa.max(fb));
                }
            }
        } else if let Some(se) = se {
            if t_crit.is_finite() {
                lo = Some(value - t_crit * se);
                hi = Some(value + t_crit * se);
            }
        }
        derived.push(ParamReport {
            name: entry.name.clone(),
            estimate: value,
            std_error: se,
            ci_low: lo,
            ci_high: hi,
            fixed: false,
        });
    }

    // Goodness of fit and residual diagnostics.
    let weights: Option<Vec<f64>> = if sqrt_w_final.is_empty() {
        None
    } else {
        Some(sqrt_w_final.iter().map(|w| w * w).collect())
    };
    let (r_squared, sy_x) = match stats::goodness_of_fit(&ys, weights.as_deref(), rss, n_free) {
        Ok(g) => (Some(g.r_squared), if df > 0 { Some(g.sy_x) } else { None }),
        Err(_) => (None, None),
    };
    let aicc = stats::aicc(rss, n, n_free).ok();
    // Runs test on residuals ordered by x.
    // (Ties in x keep their order, as a stable sort would; the replicate groups have that
    // order already.)
    let order: &[usize] = match reps {
        Some(reps) => &reps.order,
        None => {
            order.clear();
            order.extend(0..n);
            order.sort_unstable_by(|&a, &b| xs[a].total_cmp(&xs[b]).then(a.cmp(&b)));
            order
        }
    };
    sorted_r.clear();
    sorted_r.extend(order.iter().map(|&i| r[i]));
    let (n_positive, n_negative, n_runs) = count_runs(sorted_r);
    if n_positive > 0 && n_negative > 0 {
        // The p value depends on the three counts only; a batch meets the same few.
        let p = match runs_p
            .iter()
            .find(|(k, _)| *k == (n_positive, n_negative, n_runs))
        {
            Some((_, p)) => *p,
            None => {
                let t = stats::runs_test(sorted_r);
                debug_assert_eq!(
                    (t.n_positive, t.n_negative, t.runs),
                    (n_positive, n_negative, n_runs)
                );
                if runs_p.len() >= 4096 {
                    runs_p.clear();
                }
                runs_p.push(((n_positive, n_negative, n_runs), t.p_too_few));
                t.p_too_few
            }
        };
        diagnostics.runs_test_p = Some(p);
        diagnostics.runs = Some(n_runs);
    }
    // Replicate groups: points of equal x. Without covariates those are the groups of the
    // solve; otherwise labelled as `stats::replicate_groups` labels them (by first appearance).
    // The test does not depend on the labels.
    let (groups, n_groups): (&[usize], usize) = match reps {
        Some(reps) if cs.is_empty() => (&reps.of_point, reps.x.len()),
        _ => {
            groups.clear();
            seen.clear();
            for &v in xs.iter() {
                let g = match seen.iter().position(|&s| s == v) {
                    Some(g) => g,
                    None => {
                        seen.push(v);
                        seen.len() - 1
                    }
                };
                groups.push(g);
            }
            (groups, seen.len())
        }
    };
    if n_groups < n && n_groups > n_free {
        if let Ok(rt) = stats::replicates_test_in(r, groups, n_free, group_sums) {
            diagnostics.replicates_test_p = Some(rt.p_value);
            diagnostics.replicates_test_f = Some(rt.f);
        }
    }

    FitReport {
        group: None,
        model: if *resolved.model_id == *model.id() {
            resolved.model_id.clone()
        } else {
            Arc::from(model.id())
        },
        status,
        parameters,
        derived,
        n,
        df,
        rss: Some(rss),
        sy_x,
        r_squared,
        aicc,
        diagnostics,
        messages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_derived_quantities_match_the_interpreter() {
        let names: Vec<String> = ["bottom", "top", "logec50", "hill", "f"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let full = [2.0, 98.0, -7.3, 1.2, 80.0];
        let lookup = |n: &str| names.iter().position(|p| p == n).map(|j| full[j]);
        for text in [
            "10^logec50",
            "logec50 - log10(f / (100 - f)) / hill",
            "(top - bottom) * hill / 4 * ln(10)",
            "if(hill > 0, top, bottom)",
        ] {
            let e = ligand_expr::parse(text).unwrap();
            let mut c = CompiledDerived::new(&e, &names).expect(text);
            c.run(&full);
            let v = e.eval(&lookup).unwrap();
            let got = c.program.output(&c.slots, 0);
            // The compiler takes b^x as exp(x ln b), whose rounding error is |x ln b| epsilon
            // relative (17 epsilon at logec50 = -7.3) where powf is within one.
            assert!((got - v).abs() <= 1e-14 * v.abs(), "{text}: {got} vs {v}");
            for (j, name) in names.iter().enumerate() {
                let d = e.diff(name).unwrap().eval(&lookup).unwrap();
                let got = c.program.output(&c.slots, 1 + j);
                assert!(
                    (got - d).abs() <= 1e-14 * (1.0 + d.abs()),
                    "d({text})/d{name}: {got} vs {d}"
                );
            }
            // One parameter replaced, as for the interval of a transformed parameter.
            let moved = e
                .eval(&|n| {
                    if n == "logec50" {
                        Some(-6.0)
                    } else {
                        lookup(n)
                    }
                })
                .unwrap();
            let got = c.value_with(&full, 2, -6.0);
            assert!((got - moved).abs() <= 1e-14 * moved.abs());
        }
        // A name that is not a parameter leaves the quantity to the interpreter.
        let e = ligand_expr::parse("kd * 10^logec50").unwrap();
        assert!(CompiledDerived::new(&e, &names).is_none());
    }
}
