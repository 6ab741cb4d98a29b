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

use crate::lm::{minimize, Bounds, LeastSquaresProblem, LmOptions, LmWorkspace, ParameterMask};
use crate::model::{CurveModel, XKind};
use crate::stats::{self, ParameterStatistics, ProfileLimit, ProfileOptions};
use serde::{Deserialize, Serialize, Serializer};
use statrs::distribution::{ContinuousCDF, StudentsT};

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
    /// Solver tolerances and limits.
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
    /// Name.
    pub name: String,
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
    pub ambiguous: Vec<String>,
    /// Parameters that ended on a bound.
    pub at_bound: Vec<String>,
    /// Dependency (Prism) per free parameter.
    pub dependency: Vec<(String, f64)>,
    /// Accepted solver steps.
    pub iterations: usize,
    /// Model evaluations.
    pub evaluations: usize,
    /// Why the solver stopped.
    pub termination: String,
}

/// The report of one fit, in the shape of `ligand fit --format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    #[serde(serialize_with = "serialize_group")]
    /// Group column values, or none for a single curve.
    pub group: Option<Vec<(String, String)>>,
    /// The model id.
    pub model: String,
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
            model: model.to_string(),
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
            .find(|p| p.name == name)
            .map(|p| p.estimate)
    }

    /// A parameter or derived quantity by name.
    pub fn param(&self, name: &str) -> Option<&ParamReport> {
        self.parameters
            .iter()
            .chain(&self.derived)
            .find(|p| p.name == name)
    }
}

/// Per-thread scratch memory for [`fit_curve`].
#[derive(Default)]
pub struct FitWorkspace {
    lm: LmWorkspace,
    scratch: Vec<f64>,
}

impl FitWorkspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The least-squares problem over the free parameters of one curve.
struct CurveProblem<'a> {
    model: &'a dyn CurveModel,
    x: &'a [f64],
    y: &'a [f64],
    cov: &'a [Vec<f64>],
    /// sqrt of the weights, or empty for unweighted.
    sqrt_w: Vec<f64>,
    /// Full parameter vector (fixed values in place).
    full: Vec<f64>,
    free_idx: Vec<usize>,
    f: Vec<f64>,
    jac_full: Vec<f64>,
    scratch: &'a mut Vec<f64>,
}

impl CurveProblem<'_> {
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
        self.model.eval(
            self.x,
            self.cov,
            &self.full,
            &mut self.f,
            None,
            self.scratch,
        );
        let mut ok = true;
        for i in 0..self.x.len() {
            let w = if self.sqrt_w.is_empty() {
                1.0
            } else {
                self.sqrt_w[i]
            };
            r[i] = w * (self.y[i] - self.f[i]);
            ok &= r[i].is_finite();
        }
        ok
    }

    fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
        self.set_free(p);
        let n = self.x.len();
        self.model.eval(
            self.x,
            self.cov,
            &self.full,
            &mut self.f,
            Some(&mut self.jac_full),
            self.scratch,
        );
        let mut ok = true;
        for (k, &j) in self.free_idx.iter().enumerate() {
            for i in 0..n {
                let w = if self.sqrt_w.is_empty() {
                    1.0
                } else {
                    self.sqrt_w[i]
                };
                let v = -w * self.jac_full[i + j * n];
                jac[i + k * n] = v;
                ok &= v.is_finite();
            }
        }
        ok
    }
}

fn fmt_num(v: f64) -> String {
    ligand_expr::format_number(v)
}

/// Transforms x to the model's scale; reports the first unusable value.
fn transform_x(
    model: &dyn CurveModel,
    data: &CurveData,
    x_is_log10: bool,
) -> Result<Vec<f64>, String> {
    match (model.x_kind(), x_is_log10) {
        (XKind::Log10, false) => {
            let mut out = Vec::with_capacity(data.x.len());
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
            Ok(out)
        }
        (XKind::Linear, true) => Ok(data.x.iter().map(|x| 10f64.powf(*x)).collect()),
        _ => Ok(data.x.clone()),
    }
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
}

fn run_lm(
    prob: &mut CurveProblem<'_>,
    p0: &[f64],
    bounds: &Bounds,
    opts: &LmOptions,
    ws: &mut LmWorkspace,
) -> Result<RunOutcome, String> {
    let b = if bounds.is_unbounded() {
        None
    } else {
        Some(bounds)
    };
    match minimize(prob, p0, b, opts, ws) {
        Ok(r) => Ok(RunOutcome {
            params: r.params,
            termination: r.termination,
            iterations: r.n_iter,
            evaluations: r.n_fev,
        }),
        Err(e) => Err(e.to_string()),
    }
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
    let x = match transform_x(model, data, spec.x_is_log10) {
        Ok(x) => x,
        Err(msg) => return FitReport::failed(model.id(), n_all, msg),
    };
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
    let free_idx: Vec<usize> = (0..n_par)
        .filter(|j| resolved.fixed[*j].is_none())
        .collect();
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
    let auto = model.initial(&x, &data.cov, &data.y);
    let mut full: Vec<f64> = (0..n_par)
        .map(|j| {
            resolved.fixed[j]
                .or(resolved.start[j])
                .or_else(|| auto.get(j).copied())
                .unwrap_or(1.0)
        })
        .collect();
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
    let bounds = Bounds::new(
        free_idx.iter().map(|&j| resolved.lower[j]).collect(),
        free_idx.iter().map(|&j| resolved.upper[j]).collect(),
    );

    let mut messages: Vec<String> = Vec::new();
    let mut diagnostics = Diagnostics::default();

    // Points in play (ROUT may remove some).
    let mut keep: Vec<bool> = vec![true; n_all];
    let mut outcome: Option<RunOutcome> = None;
    let mut sqrt_w_final: Vec<f64> = Vec::new();

    // Stage A: robust fit (for --robust, and as the first step of ROUT).
    let robust_stage = spec.robust || spec.outliers.is_some();
    let p_init: Vec<f64> = free_idx.iter().map(|&j| full[j]).collect();
    let mut p_current = p_init.clone();

    let subset = |keep: &[bool]| -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>, Vec<f64>) {
        let idx: Vec<usize> = (0..n_all).filter(|i| keep[*i]).collect();
        let xs = idx.iter().map(|&i| x[i]).collect();
        let ys = idx.iter().map(|&i| data.y[i]).collect();
        let cs = data
            .cov
            .iter()
            .map(|col| idx.iter().map(|&i| col[i]).collect())
            .collect();
        let sd = match &data.sd {
            Some(sd) => idx.iter().map(|&i| sd[i]).collect(),
            None => Vec::new(),
        };
        (xs, ys, cs, sd)
    };

    let FitWorkspace { lm: lm_ws, scratch } = ws;

    let mut fit_once = |keep: &[bool],
                        p0: &[f64],
                        weighting: Weighting,
                        robust: bool,
                        messages: &mut Vec<String>|
     -> Result<(RunOutcome, Vec<f64>, usize), String> {
        let (xs, ys, cs, sd) = subset(keep);
        let n = xs.len();
        let mut prob = CurveProblem {
            model,
            x: &xs,
            y: &ys,
            cov: &cs,
            sqrt_w: Vec::new(),
            full: full.clone(),
            free_idx: free_idx.clone(),
            f: vec![0.0; n],
            jac_full: vec![0.0; n * n_par],
            scratch,
        };
        if weighting == Weighting::Sd {
            prob.sqrt_w = sd.iter().map(|s| 1.0 / s).collect();
        }
        let mut out = run_lm(&mut prob, p0, &bounds, &spec.lm, lm_ws)?;
        let reweight = matches!(
            weighting,
            Weighting::InverseY2 | Weighting::InverseY | Weighting::Poisson
        ) || robust;
        if reweight {
            let mut converged = false;
            for _round in 0..50 {
                prob.set_free(&out.params);
                let full_now = prob.full.clone();
                let f = prob.predict(&full_now);
                let resid: Vec<f64> = ys.iter().zip(&f).map(|(y, f)| y - f).collect();
                let scale = rsdr(&resid, free_idx.len()).max(1e-300);
                prob.sqrt_w = f
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
                let next = run_lm(&mut prob, &out.params, &bounds, &spec.lm, lm_ws)?;
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
        let sqrt_w = prob.sqrt_w.clone();
        Ok((out, sqrt_w, n))
    };

    if robust_stage {
        match fit_once(&keep, &p_current, Weighting::None, true, &mut messages) {
            Ok((o, w, _)) => {
                p_current = o.params.clone();
                if spec.robust && spec.outliers.is_none() {
                    sqrt_w_final = w;
                    outcome = Some(o);
                }
            }
            Err(e) => return FitReport::failed(model.id(), n_all, e),
        }
        if let Some(q) = spec.outliers {
            // Residuals of the robust fit, unweighted.
            let mut full_now = full.clone();
            for (k, &j) in free_idx.iter().enumerate() {
                full_now[j] = p_current[k];
            }
            let mut f = vec![0.0; n_all];
            model.eval(&x, &data.cov, &full_now, &mut f, None, &mut Vec::new());
            let resid: Vec<f64> = data.y.iter().zip(&f).map(|(y, f)| y - f).collect();
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
        match fit_once(&keep, &p_current, spec.weighting, false, &mut messages) {
            Ok((o, w, _)) => {
                sqrt_w_final = w;
                outcome = Some(o);
            }
            Err(e) => return FitReport::failed(model.id(), n_all, e),
        }
    }
    let outcome = outcome.expect("set above");

    // Statistics at the optimum, on the points kept.
    let (xs, ys, cs, _) = subset(&keep);
    let n = xs.len();
    let mut prob = CurveProblem {
        model,
        x: &xs,
        y: &ys,
        cov: &cs,
        sqrt_w: sqrt_w_final.clone(),
        full: full.clone(),
        free_idx: free_idx.clone(),
        f: vec![0.0; n],
        jac_full: vec![0.0; n * n_par],
        scratch,
    };
    prob.set_free(&outcome.params);
    let best_full = prob.full.clone();
    let mut jac = vec![0.0; n * n_free];
    let mut r = vec![0.0; n];
    let finite =
        prob.residuals(&outcome.params, &mut r) && prob.jacobian(&outcome.params, &mut jac);
    let rss: f64 = r.iter().map(|v| v * v).sum();
    diagnostics.iterations = outcome.iterations;
    diagnostics.evaluations = outcome.evaluations;
    diagnostics.termination = format!("{:?}", outcome.termination);
    if !finite || !rss.is_finite() {
        return FitReport::failed(
            model.id(),
            n_all,
            "the model is not finite at the best fit (check the data and the starting values)"
                .into(),
        );
    }
    let df = n.saturating_sub(n_free);
    let mut status =
        if outcome.termination.is_converged() || outcome.termination.is_at_machine_precision() {
            FitStatus::Converged
        } else if outcome.termination.is_limit() {
            messages.push("stopped at the iteration limit before converging".into());
            FitStatus::NotConverged
        } else {
            messages.push(format!("solver stopped: {:?}", outcome.termination));
            FitStatus::Failed
        };

    let st = if df > 0 {
        ParameterStatistics::from_jacobian(&jac, n, n_free, rss).ok()
    } else {
        messages
            .push("as many parameters as points: no degrees of freedom, no standard errors".into());
        None
    };
    // Poisson regression: dispersion fixed at 1.
    let se_scale = if spec.weighting == Weighting::Poisson {
        st.as_ref()
            .map(|s| 1.0 / s.residual_variance.sqrt())
            .unwrap_or(1.0)
    } else {
        1.0
    };
    let t_crit = if df > 0 {
        stats::t_quantile(0.5 + 0.5 * spec.level, df as f64)
    } else {
        f64::NAN
    };

    let mut parameters: Vec<ParamReport> = Vec::with_capacity(n_par);
    let mut free_se: Vec<Option<f64>> = vec![None; n_free];
    for j in 0..n_par {
        let fixed = resolved.fixed[j].is_some();
        let k = free_idx.iter().position(|&f| f == j);
        let se = match (k, &st) {
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
            name: resolved.names[j].clone(),
            estimate: best_full[j],
            std_error: se,
            ci_low: lo,
            ci_high: hi,
            fixed,
        });
    }
    if let Some(s) = &st {
        for (k, &j) in free_idx.iter().enumerate() {
            diagnostics
                .dependency
                .push((resolved.names[j].clone(), s.dependency[k]));
            if s.ambiguous[k] {
                diagnostics.ambiguous.push(resolved.names[j].clone());
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
            diagnostics.at_bound.push(resolved.names[j].clone());
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
            Some(&bounds)
        };
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
        let Ok(value) = d.expr.eval(&lookup) else {
            continue;
        };
        let vars = d.expr.free_vars();
        // Delta-method standard error over the free parameters.
        let mut se = None;
        if let Some(s) = &st {
            if let Some(cov) = &s.covariance {
                let grads: Vec<f64> = free_idx
                    .iter()
                    .map(|&j| {
                        d.expr
                            .diff(&resolved.names[j])
                            .ok()
                            .and_then(|g| g.eval(&lookup).ok())
                            .unwrap_or(f64::NAN)
                    })
                    .collect();
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
        let single: Vec<usize> = vars
            .iter()
            .filter_map(|v| resolved.names.iter().position(|p| p == v))
            .collect();
        let (mut lo, mut hi) = (None, None);
        if single.len() == 1 {
            let j = single[0];
            if let (Some(a), Some(b)) = (parameters[j].ci_low, parameters[j].ci_high) {
                let at = |v: f64| {
                    d.expr
                        .eval(&|n| {
                            if n == resolved.names[j] {
                                Some(v)
                            } else {
                                lookup(n)
                            }
                        })
                        .ok()
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
            name: d.name.clone(),
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
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| xs[*a].total_cmp(&xs[*b]));
    let sorted_r: Vec<f64> = order.iter().map(|&i| r[i]).collect();
    let runs = stats::runs_test(&sorted_r);
    if runs.n_positive > 0 && runs.n_negative > 0 {
        diagnostics.runs_test_p = Some(runs.p_too_few);
        diagnostics.runs = Some(runs.runs);
    }
    let groups = stats::replicate_groups(&xs);
    let n_groups = groups.iter().copied().max().map(|m| m + 1).unwrap_or(0);
    if n_groups < n && n_groups > n_free {
        if let Ok(rt) = stats::replicates_test(&r, &groups, n_free) {
            diagnostics.replicates_test_p = Some(rt.p_value);
            diagnostics.replicates_test_f = Some(rt.f);
        }
    }

    FitReport {
        group: None,
        model: model.id().to_string(),
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
