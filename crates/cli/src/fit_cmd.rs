//! `ligand fit`: concentration-response and binding analysis of a table.
//!
//! Reads the table (see [`crate::table`]), builds the model, fits every group
//! in parallel (results in input order, streamed in chunks so that a million
//! curves never sit in memory together), and writes a table, CSV or JSON.

use crate::output::{write_output, OutputTarget};
use crate::table::{self, Group, TableError, TableSpec};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use ligand_fit::catalogue::{self, MODELS};
use ligand_fit::curve::{
    fit_curve, CiMethod, CurveData, FitReport, FitSpec, FitStatus, FitWorkspace, Resolved,
    Weighting,
};
use ligand_fit::model::{CurveModel, FormulaModel, XKind};
use ligand_fit::stats;
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;
use std::sync::Arc;

/// Arguments of `ligand fit`.
#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
  ligand fit --example\n  \
  ligand fit plate.csv --model 4pl --group compound\n  \
  ligand fit binding.csv --model competition-one-site-ki --constant radioligand=1e-9,kd=2e-9\n  \
  ligand fit data.csv --formula \"y = bmax * x / (kd + x)\" --format json -o fits.json\n  \
  ligand fit --list-models")]
pub struct FitArgs {
    /// The data table: CSV or TSV (delimiter detected), `.gz` accepted, `-` for standard input.
    /// Long format (one row per point) or wide format (an x column and replicate y columns).
    pub data: Option<String>,
    /// A built-in model (see --list-models), e.g. 4pl, LL.4, competition-one-site-ki.
    #[arg(long, conflicts_with = "formula")]
    pub model: Option<String>,
    /// A formula, `y = ...` or bare, in the variable named by --x (default `x`); every other
    /// symbol is a parameter unless given by --constant.
    #[arg(long)]
    pub formula: Option<String>,
    /// The x column (detected when omitted).
    #[arg(long)]
    pub x: Option<String>,
    /// The y column, or several (comma-separated) replicate columns.
    #[arg(long, value_delimiter = ',')]
    pub y: Vec<String>,
    /// Group columns: one curve per distinct combination (repeatable).
    #[arg(long)]
    pub group: Vec<String>,
    /// How x is given: `linear` concentrations (log-concentration models take log10 of them)
    /// or `log10` concentrations. Detected from an x column named log... when omitted.
    #[arg(long, value_enum)]
    pub x_scale: Option<XScale>,
    /// Initial values, e.g. --start logec50=-7,hill=1.
    #[arg(long, value_delimiter = ',')]
    pub start: Vec<String>,
    /// Fixed parameters, e.g. --fix bottom=0,top=100.
    #[arg(long, value_delimiter = ',')]
    pub fix: Vec<String>,
    /// Bounds, e.g. --bound hill=0.2:5,bottom=-10:inf.
    #[arg(long, value_delimiter = ',')]
    pub bound: Vec<String>,
    /// Parameters shared across groups (a global fit), e.g. --share top,bottom.
    #[arg(long, value_delimiter = ',')]
    pub share: Vec<String>,
    /// Model constants, e.g. --constant radioligand=1e-9,kd=2e-9 or F=80.
    #[arg(long, value_delimiter = ',')]
    pub constant: Vec<String>,
    /// Covariates from group columns, e.g. --covariate antagonist=antagonist_conc (for
    /// gaddum-schild; nonspecific, partial and depleted for the other covariate models).
    #[arg(long, value_delimiter = ',')]
    pub covariate: Vec<String>,
    /// Weighting: none, 1/y^2, 1/y, poisson, or sd:COLUMN.
    #[arg(long, default_value = "none")]
    pub weight: String,
    /// Robust (Lorentzian) regression.
    #[arg(long)]
    pub robust: bool,
    /// ROUT outlier removal, `rout` or `rout=Q` with Q in percent (default 1).
    #[arg(long)]
    pub outliers: Option<String>,
    /// Confidence intervals: wald (asymptotic) or profile (profile likelihood).
    #[arg(long, value_enum, default_value = "wald")]
    pub ci: CiArg,
    /// Confidence level.
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Convergence tolerance: the solver stops when one step changes the sum of squares, or the
    /// parameters, by at most this relative amount (MINPACK's ftol = xtol; scipy's curve_fit
    /// uses 1.49e-8). Smaller is stricter and slower.
    #[arg(long, default_value_t = 1e-10)]
    pub tolerance: f64,
    /// Compare with a second model (id or formula): extra-sum-of-squares F test and AICc.
    #[arg(long)]
    pub compare: Option<String>,
    /// Normalise each curve to 0-100 % between its smallest and largest mean response
    /// (`minmax`) or between given values (`zero=V,hundred=V`) before fitting.
    #[arg(long)]
    pub normalize: Option<String>,
    /// Interpolate unknowns from each fitted curve: comma-separated responses whose x is wanted.
    #[arg(long, value_delimiter = ',')]
    pub interpolate: Vec<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write to this file (atomically) instead of standard output.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Fit the built-in example plate (no input file needed).
    #[arg(long)]
    pub example: bool,
    /// List the built-in models and exit.
    #[arg(long)]
    pub list_models: bool,
}

/// How x is given.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum XScale {
    Linear,
    Log10,
}

/// Confidence interval method.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum CiArg {
    Wald,
    Profile,
}

/// Output format.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// The example plate shipped in the binary: three compounds, eleven
/// concentrations, triplicates (synthetic data generated from known curves
/// with Gaussian noise; `examples/plate.csv` states the parameters used).
pub const EXAMPLE_PLATE: &str = include_str!("../examples/plate.csv");

fn parse_pairs(option: &str, items: &[String]) -> Result<Vec<(String, f64)>> {
    let pairs = items
        .iter()
        .map(|item| {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| anyhow!("{option} `{item}`: expected name=value"))?;
            let v = parse_number(v).with_context(|| {
                format!("{option} `{item}`: expected a number after `=`, found `{v}`")
            })?;
            Ok((k.trim().to_string(), v))
        })
        .collect::<Result<Vec<_>>>()?;
    refuse_repeats(option, pairs.iter().map(|p| p.0.as_str()))?;
    Ok(pairs)
}

/// A name given twice to one option is an error (which value was meant?).
fn refuse_repeats<'a>(option: &str, names: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for n in names {
        if !seen.insert(n) {
            bail!("{option}: `{n}` is given twice; give each name once");
        }
    }
    Ok(())
}

fn parse_number(s: &str) -> Result<f64> {
    let t = s.trim();
    let v = match t {
        "inf" | "+inf" | "Inf" => f64::INFINITY,
        "-inf" | "-Inf" => f64::NEG_INFINITY,
        _ => t.parse::<f64>().map_err(|_| anyhow!("not a number"))?,
    };
    if v.is_nan() {
        bail!("not a number");
    }
    Ok(v)
}

fn parse_bounds(items: &[String]) -> Result<Vec<(String, f64, f64)>> {
    let bounds = items
        .iter()
        .map(|item| {
            let (k, range) = item
                .split_once('=')
                .ok_or_else(|| anyhow!("--bound `{item}`: expected name=low:high"))?;
            let (lo, hi) = range.split_once(':').ok_or_else(|| {
                anyhow!("--bound `{item}`: expected name=low:high (e.g. hill=0.2:5)")
            })?;
            let lo = if lo.trim().is_empty() {
                f64::NEG_INFINITY
            } else {
                parse_number(lo)
                    .with_context(|| format!("--bound `{item}`: bad lower bound `{lo}`"))?
            };
            let hi = if hi.trim().is_empty() {
                f64::INFINITY
            } else {
                parse_number(hi)
                    .with_context(|| format!("--bound `{item}`: bad upper bound `{hi}`"))?
            };
            Ok((k.trim().to_string(), lo, hi))
        })
        .collect::<Result<Vec<_>>>()?;
    refuse_repeats("--bound", bounds.iter().map(|b| b.0.as_str()))?;
    Ok(bounds)
}

/// Builds the model from --model or --formula.
fn build_model(
    model: Option<&str>,
    formula: Option<&str>,
    x_name: &str,
    extra_x: &[String],
    constants: &[(String, f64)],
) -> Result<Arc<dyn CurveModel>> {
    match (model, formula) {
        (Some(id), _) => Ok(catalogue::build(id, constants)?),
        (None, Some(text)) => {
            FormulaModel::from_text(text, x_name, XKind::Linear, extra_x, constants)
                .map(|m| Arc::new(m) as Arc<dyn CurveModel>)
                .map_err(|e| match e {
                    ligand_fit::model::ModelError::Parse(pe) => {
                        anyhow!("--formula: {}", pe.render(text))
                    }
                    other => anyhow!("--formula: {other}"),
                })
        }
        (None, None) => Ok(catalogue::build("4pl", constants)?),
    }
}

fn list_models() -> String {
    let mut out = String::new();
    let mut family = "";
    for m in MODELS {
        if m.family != family {
            family = m.family;
            out += &format!("\n{family}:\n");
        }
        let consts: Vec<String> = m
            .constants
            .iter()
            .map(|c| match c.default {
                Some(d) => format!("{}={}", c.name, d),
                None => c.name.to_string(),
            })
            .collect();
        out += &format!(
            "  {:<28} {}\n  {:<28} parameters: {}{}{}{}\n",
            m.id,
            m.description,
            "",
            m.params.join(", "),
            if m.x == "log10" {
                "; x: log10 concentration"
            } else {
                ""
            },
            if consts.is_empty() {
                String::new()
            } else {
                format!("; constants: {}", consts.join(", "))
            },
            if m.covariates.is_empty() {
                String::new()
            } else {
                format!("; covariates: {}", m.covariates.join(", "))
            },
        );
    }
    out
}

/// Normalisation settings.
#[derive(Clone, Copy, Debug)]
enum Normalize {
    MinMax,
    Values(f64, f64),
}

fn parse_normalize(s: &str) -> Result<Normalize> {
    if s == "minmax" {
        return Ok(Normalize::MinMax);
    }
    let pairs = parse_pairs(
        "--normalize",
        &s.split(',').map(str::to_string).collect::<Vec<_>>(),
    )?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    match (get("zero"), get("hundred")) {
        (Some(z), Some(h)) if z != h => Ok(Normalize::Values(z, h)),
        _ => bail!(
            "--normalize `{s}`: expected `minmax` or `zero=V,hundred=V` with different values"
        ),
    }
}

fn normalize(y: &mut [f64], x: &[f64], how: Normalize) {
    let (zero, hundred) = match how {
        Normalize::Values(z, h) => (z, h),
        Normalize::MinMax => {
            let m = ligand_fit::start::mean_by_x(x, y);
            let lo = m.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            let hi = m.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            (lo, hi)
        }
    };
    if hundred != zero {
        for v in y.iter_mut() {
            *v = 100.0 * (*v - zero) / (hundred - zero);
        }
    }
}

/// One group's result: the fit, optionally the comparison and interpolations.
#[derive(Serialize, Clone)]
struct Comparison {
    #[serde(serialize_with = "group_map")]
    group: Option<Vec<(String, String)>>,
    model: String,
    alternative: String,
    /// Extra-sum-of-squares F test (the model with fewer parameters is the null).
    f: Option<f64>,
    p_value: Option<f64>,
    df_numerator: Option<usize>,
    df_denominator: Option<usize>,
    aicc_model: Option<f64>,
    aicc_alternative: Option<f64>,
    /// Probability that the alternative is the better model (Akaike weights).
    probability_alternative: Option<f64>,
    preferred: Option<String>,
    messages: Vec<String>,
}

fn group_map<S: serde::Serializer>(
    g: &Option<Vec<(String, String)>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    match g {
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

#[derive(Serialize, Clone)]
struct Interpolated {
    y: f64,
    x: Option<f64>,
}

/// Fit plus extras, in the JSON shape.
#[derive(Serialize, Clone)]
struct FitOut {
    #[serde(flatten)]
    fit: FitReport,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    interpolated: Vec<Interpolated>,
}

struct Job {
    model: Arc<dyn CurveModel>,
    resolved: Resolved,
    alternative: Option<(Arc<dyn CurveModel>, Resolved)>,
    normalize: Option<Normalize>,
    interpolate: Vec<f64>,
    covariate_cols: Vec<(String, String)>,
}

/// One curve to fit: a table group, or several groups merged because they
/// differ only in covariate columns (each point then keeps its own key).
struct Curve {
    key: Vec<(String, String)>,
    points: Vec<table::Point>,
    point_keys: Option<Vec<Vec<(String, String)>>>,
}

impl From<Group> for Curve {
    fn from(g: Group) -> Curve {
        Curve {
            key: g.key,
            points: g.points,
            point_keys: None,
        }
    }
}

/// Merges groups that differ only in covariate columns into one curve.
fn merge_covariate_groups(groups: Vec<Group>, covariate_columns: &[String]) -> Vec<Curve> {
    if covariate_columns.is_empty() {
        return groups.into_iter().map(Curve::from).collect();
    }
    let mut merged: Vec<Curve> = Vec::new();
    for g in groups {
        let key: Vec<(String, String)> = g
            .key
            .iter()
            .filter(|(k, _)| !covariate_columns.contains(k))
            .cloned()
            .collect();
        let idx = match merged.iter().position(|c| c.key == key) {
            Some(i) => i,
            None => {
                merged.push(Curve {
                    key,
                    points: Vec::new(),
                    point_keys: Some(Vec::new()),
                });
                merged.len() - 1
            }
        };
        let c = &mut merged[idx];
        for pt in g.points {
            c.points.push(pt);
            if let Some(pk) = c.point_keys.as_mut() {
                pk.push(g.key.clone());
            }
        }
    }
    merged
}

/// Converts a curve into fit data, reading covariates from the (per-point)
/// group keys.
fn curve_data(curve: &Curve, job: &Job) -> Result<CurveData, String> {
    let n = curve.points.len();
    let mut x = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    let mut lines = Vec::with_capacity(n);
    let mut sd = Vec::new();
    let mut has_sd = true;
    for p in &curve.points {
        x.push(p.x);
        y.push(p.y);
        lines.push(p.line);
        match p.sd {
            Some(s) => sd.push(s),
            None => has_sd = false,
        }
    }
    let mut cov = Vec::new();
    for name in job.model.covariates() {
        let col = job
            .covariate_cols
            .iter()
            .find(|(c, _)| c == name)
            .map(|(_, col)| col.clone())
            .unwrap_or_else(|| name.clone());
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            let key = match &curve.point_keys {
                Some(pk) => &pk[i],
                None => &curve.key,
            };
            let Some((_, v)) = key.iter().find(|(k, _)| *k == col) else {
                return Err(format!(
                    "model `{}` needs the covariate `{name}`: name the column that holds it with --covariate {name}=COLUMN",
                    job.model.id()
                ));
            };
            let value: f64 = v.trim().parse().map_err(|_| {
                format!(
                    "line {}: covariate `{name}` (column `{col}`): expected a number, found `{v}`",
                    curve.points[i].line
                )
            })?;
            values.push(value);
        }
        cov.push(values);
    }
    if let Some(how) = job.normalize {
        normalize(&mut y, &x, how);
    }
    Ok(CurveData {
        x,
        y,
        sd: if has_sd && !sd.is_empty() {
            Some(sd)
        } else {
            None
        },
        cov,
        lines,
    })
}

/// x at which the fitted curve reaches `y`, by bisection on the model's x
/// scale over the data range widened by two decades (or units).
fn interpolate_x(
    model: &dyn CurveModel,
    fit: &FitReport,
    data: &CurveData,
    x_is_log10: bool,
    target: f64,
) -> Option<f64> {
    if fit.status == FitStatus::Failed {
        return None;
    }
    let p: Vec<f64> = fit.parameters.iter().map(|p| p.estimate).collect();
    let to_model = |x: f64| match (model.x_kind(), x_is_log10) {
        (XKind::Log10, false) => x.log10(),
        (XKind::Linear, true) => 10f64.powf(x),
        _ => x,
    };
    let from_model = |u: f64| match (model.x_kind(), x_is_log10) {
        (XKind::Log10, false) => 10f64.powf(u),
        (XKind::Linear, true) => u.log10(),
        _ => u,
    };
    let xs: Vec<f64> = data
        .x
        .iter()
        .map(|v| to_model(*v))
        .filter(|v| v.is_finite())
        .collect();
    let lo0 = xs.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi0 = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let width = (hi0 - lo0).max(1e-12);
    let (mut lo, mut hi) = (lo0 - width, hi0 + width);
    let cov: Vec<Vec<f64>> = data
        .cov
        .iter()
        .map(|c| vec![c.first().copied().unwrap_or(0.0)])
        .collect();
    let mut scratch = Vec::new();
    let mut f = |u: f64| {
        let mut out = [0.0];
        model.eval(&[u], &cov, &p, &mut out, None, &mut scratch);
        out[0] - target
    };
    let (mut flo, fhi) = (f(lo), f(hi));
    if !(flo.is_finite() && fhi.is_finite()) || flo * fhi > 0.0 {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        let fm = f(mid);
        if fm == 0.0 {
            return Some(from_model(mid));
        }
        if (fm < 0.0) == (flo < 0.0) {
            lo = mid;
            flo = fm;
        } else {
            hi = mid;
        }
        if (hi - lo).abs() <= 1e-13 * (1.0 + mid.abs()) {
            break;
        }
    }
    Some(from_model(0.5 * (lo + hi)))
}

fn compare(
    group: Option<Vec<(String, String)>>,
    a: &FitReport,
    b: &FitReport,
    n_free_a: usize,
    n_free_b: usize,
) -> Comparison {
    let mut c = Comparison {
        group,
        model: a.model.to_string(),
        alternative: b.model.to_string(),
        f: None,
        p_value: None,
        df_numerator: None,
        df_denominator: None,
        aicc_model: a.aicc,
        aicc_alternative: b.aicc,
        probability_alternative: None,
        preferred: None,
        messages: Vec::new(),
    };
    if a.status == FitStatus::Failed || b.status == FitStatus::Failed {
        c.messages
            .push("one of the fits failed: no comparison".into());
        return c;
    }
    let (Some(rss_a), Some(rss_b)) = (a.rss, b.rss) else {
        return c;
    };
    // The model with fewer parameters is the null hypothesis.
    let ((rs, ds), (rc, dc), simple_is_a) = if n_free_a <= n_free_b {
        ((rss_a, a.df), (rss_b, b.df), true)
    } else {
        ((rss_b, b.df), (rss_a, a.df), false)
    };
    if n_free_a != n_free_b {
        match stats::f_test_nested(rs, ds, rc, dc) {
            Ok(t) => {
                c.f = Some(t.f);
                c.p_value = Some(t.p_value);
                c.df_numerator = Some(ds - dc);
                c.df_denominator = Some(dc);
                c.messages
                    .push("the F test assumes the models are nested".into());
            }
            Err(e) => c.messages.push(format!("F test: {e}")),
        }
    } else {
        c.messages
            .push("same number of parameters: no F test, AICc only".into());
    }
    if let (Some(x), Some(y)) = (a.aicc, b.aicc) {
        let w = stats::akaike_weights(&[x, y]);
        c.probability_alternative = Some(w[1]);
        c.preferred = Some(if w[1] > 0.5 {
            b.model.to_string()
        } else {
            a.model.to_string()
        });
    }
    // With an F test, the verdict follows the test at 0.05.
    if let Some(p) = c.p_value {
        let complex = if simple_is_a { &b.model } else { &a.model };
        let simple = if simple_is_a { &a.model } else { &b.model };
        c.preferred = Some(if p < 0.05 {
            complex.to_string()
        } else {
            simple.to_string()
        });
    }
    c
}

fn fit_one(curve: &Curve, job: &Job, ws: &mut FitWorkspace) -> (FitOut, Option<Comparison>) {
    let group_key = if curve.key.is_empty() {
        None
    } else {
        Some(curve.key.clone())
    };
    let data = match curve_data(curve, job) {
        Ok(d) => d,
        Err(msg) => {
            let mut r = FitReport::failed(job.model.id(), curve.points.len(), msg);
            r.group = group_key;
            return (
                FitOut {
                    fit: r,
                    interpolated: Vec::new(),
                },
                None,
            );
        }
    };
    let mut fit = fit_curve(job.model.as_ref(), &data, &job.resolved, ws);
    fit.group = group_key.clone();
    let interpolated = job
        .interpolate
        .iter()
        .map(|&y| Interpolated {
            y,
            x: interpolate_x(
                job.model.as_ref(),
                &fit,
                &data,
                job.resolved.spec.x_is_log10,
                y,
            ),
        })
        .collect();
    let comparison = job.alternative.as_ref().map(|(alt, res)| {
        let mut other = fit_curve(alt.as_ref(), &data, res, ws);
        other.group = group_key.clone();
        let na = job.resolved.fixed.iter().filter(|f| f.is_none()).count();
        let nb = res.fixed.iter().filter(|f| f.is_none()).count();
        compare(group_key.clone(), &fit, &other, na, nb)
    });
    (FitOut { fit, interpolated }, comparison)
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(fmt_sig).unwrap_or_default()
}

/// Six significant digits for tables.
fn fmt_sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return ligand_expr::format_number(v);
    }
    let mag = v.abs().log10().floor() as i32;
    if (-4..6).contains(&mag) {
        let decimals = (5 - mag).max(0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{v:.5e}")
    }
}

fn csv_escape(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

struct Writer<'a> {
    format: Format,
    out: &'a mut dyn Write,
    group_cols: Vec<String>,
    params: Vec<String>,
    derived: Vec<String>,
    first: bool,
    level: f64,
    /// The JSON of how the input was read (columns and x scale).
    input: String,
}

impl Writer<'_> {
    fn header(&mut self) -> std::io::Result<()> {
        match self.format {
            Format::Json => write!(self.out, "{{\"input\": {},\n\"fits\": [", self.input),
            Format::Csv => {
                let mut cols: Vec<String> = self.group_cols.iter().map(|s| csv_escape(s)).collect();
                cols.extend(["model".into(), "status".into()]);
                for p in self.params.iter().chain(&self.derived) {
                    for suffix in ["", "_se", "_ci_low", "_ci_high"] {
                        cols.push(csv_escape(&format!("{p}{suffix}")));
                    }
                }
                cols.extend(
                    ["n", "df", "rss", "sy_x", "r_squared", "aicc", "messages"].map(String::from),
                );
                writeln!(self.out, "{}", cols.join(","))
            }
            Format::Table => Ok(()),
        }
    }

    fn fit(&mut self, f: &FitOut) -> std::io::Result<()> {
        match self.format {
            Format::Json => {
                if !self.first {
                    write!(self.out, ",")?;
                }
                self.first = false;
                write!(
                    self.out,
                    "\n  {}",
                    serde_json::to_string(f).map_err(std::io::Error::other)?
                )
            }
            Format::Csv => {
                let r = &f.fit;
                let mut cols: Vec<String> = self
                    .group_cols
                    .iter()
                    .map(|g| {
                        r.group
                            .as_ref()
                            .and_then(|kv| kv.iter().find(|(k, _)| k == g))
                            .map(|(_, v)| csv_escape(v))
                            .unwrap_or_default()
                    })
                    .collect();
                cols.push(csv_escape(&r.model));
                cols.push(status_name(r.status).into());
                for name in self.params.iter().chain(&self.derived) {
                    match r.param(name) {
                        Some(p) => {
                            cols.push(ligand_expr::format_number(p.estimate));
                            for v in [p.std_error, p.ci_low, p.ci_high] {
                                cols.push(v.map(ligand_expr::format_number).unwrap_or_default());
                            }
                        }
                        None => cols.extend(std::iter::repeat_n(String::new(), 4)),
                    }
                }
                cols.push(r.n.to_string());
                cols.push(r.df.to_string());
                for v in [r.rss, r.sy_x, r.r_squared, r.aicc] {
                    cols.push(v.map(ligand_expr::format_number).unwrap_or_default());
                }
                cols.push(csv_escape(&r.messages.join("; ")));
                writeln!(self.out, "{}", cols.join(","))
            }
            Format::Table => {
                let r = &f.fit;
                let title = match &r.group {
                    Some(kv) => kv
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    None => "all data".into(),
                };
                writeln!(
                    self.out,
                    "== {title} [{}] {}",
                    r.model,
                    status_name(r.status)
                )?;
                if !r.parameters.is_empty() {
                    writeln!(
                        self.out,
                        "  {:<14} {:>14} {:>12} {:>27}",
                        "parameter",
                        "estimate",
                        "std. error",
                        format!("{}% CI", ligand_expr::format_number(100.0 * self.level))
                    )?;
                }
                for p in r.parameters.iter().chain(&r.derived) {
                    let ci = match (p.ci_low, p.ci_high) {
                        (Some(a), Some(b)) => format!("[{}, {}]", fmt_sig(a), fmt_sig(b)),
                        _ if p.fixed => "(fixed)".into(),
                        _ => String::new(),
                    };
                    writeln!(
                        self.out,
                        "  {:<14} {:>14} {:>12} {:>27}",
                        p.name,
                        fmt_sig(p.estimate),
                        fmt_opt(p.std_error),
                        ci
                    )?;
                }
                if r.status != FitStatus::Failed {
                    writeln!(
                        self.out,
                        "  n = {}, df = {}, R² = {}, Sy.x = {}, AICc = {}",
                        r.n,
                        r.df,
                        fmt_opt(r.r_squared),
                        fmt_opt(r.sy_x),
                        fmt_opt(r.aicc)
                    )?;
                }
                for i in &f.interpolated {
                    writeln!(
                        self.out,
                        "  interpolated: y = {} at x = {}",
                        fmt_sig(i.y),
                        fmt_opt(i.x)
                    )?;
                }
                for m in &r.messages {
                    writeln!(self.out, "  note: {m}")?;
                }
                Ok(())
            }
        }
    }

    fn footer(&mut self, comparisons: &[Comparison]) -> std::io::Result<()> {
        match self.format {
            Format::Json => {
                write!(self.out, "\n], \"comparisons\": [")?;
                for (i, c) in comparisons.iter().enumerate() {
                    if i > 0 {
                        write!(self.out, ",")?;
                    }
                    write!(
                        self.out,
                        "\n  {}",
                        serde_json::to_string(c).map_err(std::io::Error::other)?
                    )?;
                }
                writeln!(self.out, "\n]}}")
            }
            Format::Csv => Ok(()),
            Format::Table => {
                for c in comparisons {
                    let title = match &c.group {
                        Some(kv) => kv
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        None => "all data".into(),
                    };
                    writeln!(
                        self.out,
                        "== comparison {title}: {} vs {}",
                        c.model, c.alternative
                    )?;
                    if let (Some(f), Some(p)) = (c.f, c.p_value) {
                        writeln!(
                            self.out,
                            "  F({}, {}) = {}, P = {}",
                            c.df_numerator.unwrap_or(0),
                            c.df_denominator.unwrap_or(0),
                            fmt_sig(f),
                            fmt_sig(p)
                        )?;
                    }
                    writeln!(
                        self.out,
                        "  AICc {} vs {}; probability {} is correct: {}",
                        fmt_opt(c.aicc_model),
                        fmt_opt(c.aicc_alternative),
                        c.alternative,
                        fmt_opt(c.probability_alternative)
                    )?;
                    if let Some(p) = &c.preferred {
                        writeln!(self.out, "  preferred: {p}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

fn status_name(s: FitStatus) -> &'static str {
    match s {
        FitStatus::Converged => "converged",
        FitStatus::Ambiguous => "ambiguous",
        FitStatus::NotConverged => "not-converged",
        FitStatus::Failed => "failed",
    }
}

/// How the x column is read: on which scale its values are, and what the model does with them.
/// Decided once per run and stated on standard error and in the JSON (`input`).
#[derive(Clone, Debug, Serialize)]
struct XReading {
    /// The column's values are log10 concentrations.
    #[serde(skip)]
    log10: bool,
    /// `linear`, `log10` or `as written` (a formula reads its x as written).
    scale: &'static str,
    /// Where the scale came from: `--x-scale`, `column name` or `default`.
    decided_by: &'static str,
    /// What the model does with the values: `none`, `log10` or `10^x`.
    transform: &'static str,
    /// A formula's independent variables besides x (`--x x1,x2` gives `x2`), read per point.
    variables: Vec<String>,
}

impl XReading {
    fn decide(given: Option<XScale>, formula: bool, x_col: &str, kind: XKind) -> Result<XReading> {
        if formula {
            if given.is_some() {
                bail!(
                    "--x-scale does not apply to --formula: a formula reads its x column `{x_col}` as \
                     written (write 10^x in the formula if the column holds log10 concentrations)"
                );
            }
            return Ok(XReading {
                log10: false,
                scale: "as written",
                decided_by: "--formula",
                transform: "none",
                variables: Vec::new(),
            });
        }
        let (log10, decided_by) = match given {
            Some(XScale::Log10) => (true, "--x-scale"),
            Some(XScale::Linear) => (false, "--x-scale"),
            None if table::normalize_name(x_col).starts_with("log") => (true, "column name"),
            None => (false, "default"),
        };
        let transform = match (kind, log10) {
            (XKind::Log10, false) => "log10",
            (XKind::Linear, true) => "10^x",
            _ => "none",
        };
        Ok(XReading {
            log10,
            scale: if log10 { "log10" } else { "linear" },
            decided_by,
            transform,
            variables: Vec::new(),
        })
    }

    /// One line saying which columns were used and how x is read.
    fn describe(&self, c: &table::Columns) -> String {
        let names = |v: &[String]| {
            v.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let scale = match (self.scale, self.decided_by) {
            ("as written", _) => "read as written by the formula".to_string(),
            (s, "default") => format!("{s} concentrations (the default; --x-scale log10 if not)"),
            (s, "column name") => {
                format!("{s} concentrations (from the column's name; --x-scale linear if not)")
            }
            (s, by) => format!("{s} concentrations ({by})"),
        };
        let transform = match self.transform {
            "log10" => ", the model takes log10 of it",
            "10^x" => ", the model takes 10^x of it",
            _ => "",
        };
        let mut out = format!("x = `{}`, {scale}{transform}; y = {}", c.x, names(&c.y));
        if !self.variables.is_empty() {
            out.push_str(&format!(
                "; other independent variables: {}",
                names(&self.variables)
            ));
        }
        if c.format == table::Format::Wide {
            out.push_str(" (replicates)");
        }
        if !c.group.is_empty() {
            out.push_str(&format!("; curves by {}", names(&c.group)));
        }
        if let Some(sd) = &c.sd {
            out.push_str(&format!("; sd = `{sd}`"));
        }
        if !c.ignored.is_empty() {
            out.push_str(&format!("; ignored: {}", names(&c.ignored)));
        }
        out
    }

    /// Checks the x values against the reading: refuses molar values read as log10 and negative
    /// values read as concentrations; warns about an x column that looks like a well index.
    fn check(&self, x_col: &str, xs: &[f64]) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        let finite: Vec<f64> = xs.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.is_empty() || self.scale == "as written" {
            return Ok(warnings);
        }
        let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if self.log10 && min > 0.0 && max < 1e-2 {
            bail!(
                "x column `{x_col}` is read as log10 concentrations ({}), but its values lie \
                 between {} and {}, which look like molar concentrations (log10 concentrations are \
                 mostly between -12 and -2); use --x-scale linear",
                self.decided_by,
                fmt_sig(min),
                fmt_sig(max)
            );
        }
        if !self.log10 && min < 0.0 {
            bail!(
                "x column `{x_col}` is read as linear concentrations ({}), but it holds negative \
                 values (down to {}), which a concentration cannot have; if these are log10 \
                 concentrations, use --x-scale log10",
                self.decided_by,
                fmt_sig(min)
            );
        }
        // A run of consecutive integers (1, 2, 3, ... 12 or more, each once) is a well or row
        // index far more often than a dilution series.
        let mut distinct = finite.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        let consecutive = distinct.len() >= 12
            && distinct.len() == finite.len()
            && distinct.iter().all(|v| v.fract() == 0.0)
            && distinct.windows(2).all(|w| w[1] - w[0] == 1.0);
        if consecutive {
            warnings.push(format!(
                "x column `{x_col}` holds the consecutive integers {} to {}, each once: is it a \
                 well or row index rather than a concentration? (name x with --x)",
                distinct[0],
                distinct[distinct.len() - 1]
            ));
        }
        Ok(warnings)
    }
}

/// Options that would be ignored, or that contradict each other, are errors: a result computed
/// without an option the user gave must never look like one computed with it.
fn refuse_conflicts(args: &FitArgs) -> Result<()> {
    if !args.share.is_empty() {
        let ignored = [
            (args.compare.is_some(), "--compare"),
            (!args.interpolate.is_empty(), "--interpolate"),
            (args.ci == CiArg::Profile, "--ci profile"),
            (args.weight != "none", "--weight"),
            (args.robust, "--robust"),
            (args.outliers.is_some(), "--outliers"),
        ];
        if let Some((_, name)) = ignored.iter().find(|(given, _)| *given) {
            bail!(
                "{name} cannot be combined with --share: global fits use ordinary least squares \
                 with Wald intervals, one curve set at a time; fit without --share to use {name}"
            );
        }
    }
    if args.list_models {
        let given = [
            (args.data.is_some(), "DATA"),
            (args.example, "--example"),
            (args.model.is_some(), "--model"),
            (args.formula.is_some(), "--formula"),
            (args.output.is_some(), "--output"),
        ];
        if let Some((_, name)) = given.iter().find(|(g, _)| *g) {
            bail!("--list-models lists the models and fits nothing: drop {name}");
        }
    }
    if !(args.level > 0.0 && args.level < 1.0) {
        bail!(
            "--level: expected a confidence level between 0 and 1 (e.g. 0.95), got {}",
            args.level
        );
    }
    Ok(())
}

/// Runs `ligand fit`.
pub fn run(args: FitArgs) -> Result<()> {
    refuse_conflicts(&args)?;
    if args.list_models {
        print!("{}", list_models());
        return Ok(());
    }
    let data_path = match (&args.data, args.example) {
        (Some(p), false) => p.clone(),
        (None, true) => String::new(),
        (Some(_), true) => bail!("give either a DATA file or --example, not both"),
        (None, false) => bail!("no data: give a DATA file (or `-` for standard input), or --example to fit the built-in plate"),
    };
    OutputTarget::new(args.output.as_deref()).refuse_inputs("--output", &[&data_path])?;
    let constants = parse_pairs("--constant", &args.constant)?;
    let covariate_cols: Vec<(String, String)> = args
        .covariate
        .iter()
        .map(|item| {
            item.split_once('=')
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .ok_or_else(|| anyhow!("--covariate `{item}`: expected name=COLUMN"))
        })
        .collect::<Result<_>>()?;
    // `--x x1,x2`: a formula of several independent variables; the first is x, the others are
    // read per point like covariates.
    let x_names: Vec<String> = match &args.x {
        Some(list) => list.split(',').map(|n| n.trim().to_string()).collect(),
        None => Vec::new(),
    };
    if x_names.iter().any(|n| n.is_empty()) {
        bail!(
            "--x `{}`: expected a column name, or several separated by commas",
            args.x.as_deref().unwrap_or("")
        );
    }
    refuse_repeats("--x", x_names.iter().map(String::as_str))?;
    if x_names.len() > 1 && args.formula.is_none() {
        bail!(
            "--x `{}`: several x columns need a --formula that uses them; built-in models take one x",
            x_names.join(",")
        );
    }
    let x_name = x_names.first().cloned().unwrap_or_else(|| "x".into());
    let extra_x: Vec<String> = x_names.iter().skip(1).cloned().collect();
    let mut covariate_cols = covariate_cols;
    for n in &extra_x {
        if covariate_cols.iter().any(|(_, c)| c == n) {
            bail!("--x {n}: column `{n}` is also named by --covariate");
        }
        covariate_cols.push((n.clone(), n.clone()));
    }
    let model = build_model(
        args.model.as_deref(),
        args.formula.as_deref(),
        &x_name,
        &extra_x,
        &constants,
    )?;

    let (weighting, sd_col) = match args.weight.as_str() {
        "none" => (Weighting::None, None),
        "1/y^2" | "1/y2" | "1/Y^2" => (Weighting::InverseY2, None),
        "1/y" | "1/Y" => (Weighting::InverseY, None),
        "poisson" => (Weighting::Poisson, None),
        w if w.starts_with("sd:") => (Weighting::Sd, Some(w[3..].to_string())),
        w => bail!("--weight `{w}`: expected none, 1/y^2, 1/y, poisson or sd:COLUMN"),
    };
    let outliers = match args.outliers.as_deref() {
        None => None,
        Some("rout") => Some(1.0),
        Some(s) => match s.strip_prefix("rout=") {
            Some(q) => Some(
                parse_number(q)
                    .with_context(|| format!("--outliers `{s}`: Q must be a number (percent)"))?,
            ),
            None => {
                bail!("--outliers `{s}`: expected `rout` or `rout=Q` (Q in percent, e.g. rout=1)")
            }
        },
    };

    // Read the table. The example plate ships inside the binary.
    let mut group_cols = args.group.clone();
    for (_, col) in &covariate_cols {
        if !group_cols.contains(col) {
            group_cols.push(col.clone());
        }
    }
    let spec = TableSpec {
        x: x_names.first().cloned(),
        y: args.y.clone(),
        group: group_cols,
        sd: sd_col,
        no_auto_group: false,
    };
    let stream_input = !args.example
        && data_path != "-"
        && std::fs::metadata(&data_path)
            .map(|m| m.len() > 64 << 20)
            .unwrap_or(false);
    let dataset: Option<table::Dataset>;
    let mut stream: Option<table::GroupStream> = None;
    let (source, x_col, columns_group);
    if args.example {
        let d = table::read_dataset_from(
            std::io::Cursor::new(EXAMPLE_PLATE.as_bytes()),
            "<example plate>",
            &spec,
        )
        .map_err(|e| anyhow!("{e}"))?;
        source = d.source.clone();
        x_col = d.columns.x.clone();
        columns_group = d.columns.group.clone();
        dataset = Some(d);
    } else if stream_input {
        let s = table::read_groups_streaming(&data_path, &spec).map_err(|e| anyhow!("{e}"))?;
        source = s.source().to_string();
        x_col = s.columns().x.clone();
        columns_group = s.columns().group.clone();
        stream = Some(s);
        dataset = None;
    } else {
        let d = table::read_dataset(&data_path, &spec).map_err(|e| anyhow!("{e}"))?;
        source = d.source.clone();
        x_col = d.columns.x.clone();
        columns_group = d.columns.group.clone();
        dataset = Some(d);
    }
    let columns = match (&dataset, &stream) {
        (Some(d), _) => d.columns.clone(),
        (None, Some(s)) => s.columns().clone(),
        _ => unreachable!("a table was read"),
    };
    let x_reading = XReading::decide(args.x_scale, args.formula.is_some(), &x_col, model.x_kind())?;
    if !args.quiet {
        eprintln!("note: {source}: {}", x_reading.describe(&columns));
    }
    // The x values are checked against the reading: the whole table here, or the first chunk of
    // curves of a streamed one.
    let check_x = |xs: &[f64]| -> Result<()> {
        for w in x_reading.check(&x_col, xs)? {
            if !args.quiet {
                eprintln!("warning: {source}: {w}");
            }
        }
        Ok(())
    };
    if let Some(d) = &dataset {
        let xs: Vec<f64> = d
            .groups
            .iter()
            .flat_map(|g| g.points.iter().map(|p| p.x))
            .collect();
        check_x(&xs)?;
    }
    let x_is_log10 = x_reading.log10;
    // A formula names its independent variable after --x (default x).
    if args.formula.is_some() && args.x.is_none() && x_col != "x" {
        if let Some(f) = &args.formula {
            if !ligand_fit::model::strip_y_equals(f).contains('x') {
                bail!("--formula: the formula does not use `x`; name the x column with --x {x_col} and use that name in the formula");
            }
        }
    }

    if !(args.tolerance > 0.0 && args.tolerance < 1.0) {
        bail!(
            "--tolerance: expected a number between 0 and 1 (e.g. 1e-10), got {}",
            args.tolerance
        );
    }
    let start = parse_pairs("--start", &args.start)?;
    let fixed = parse_pairs("--fix", &args.fix)?;
    let bounds = parse_bounds(&args.bound)?;
    let is_fixed = |name: &str| fixed.iter().any(|(f, _)| f == name);
    let ignored = start
        .iter()
        .map(|s| ("--start", &s.0))
        .chain(bounds.iter().map(|b| ("--bound", &b.0)))
        .find(|(_, name)| is_fixed(name));
    if let Some((option, name)) = ignored {
        bail!("{option} {name}: `{name}` is fixed by --fix, so {option} would be ignored; give one of the two");
    }
    let fit_spec = FitSpec {
        start,
        fixed,
        bounds,
        weighting,
        robust: args.robust,
        outliers,
        ci: match args.ci {
            CiArg::Wald => CiMethod::Wald,
            CiArg::Profile => CiMethod::Profile,
        },
        level: args.level,
        x_is_log10,
        lm: FitSpec::default().lm.with_tolerance(args.tolerance),
    };
    let resolved = fit_spec.resolve(model.as_ref())?;
    for s in &args.share {
        if !resolved.names.contains(s) {
            bail!(
                "--share: model `{}` has no parameter `{s}`; its parameters are {}",
                model.id(),
                resolved.names.join(", ")
            );
        }
    }
    let alternative = match &args.compare {
        None => None,
        Some(text) => {
            let alt = if catalogue::info(text).is_some() {
                catalogue::build(text, &[])?
            } else {
                build_model(None, Some(text), &x_name, &extra_x, &constants).with_context(|| {
                    format!("--compare `{text}`: neither a built-in model nor a valid formula")
                })?
            };
            let alt_spec = FitSpec {
                start: Vec::new(),
                fixed: Vec::new(),
                bounds: Vec::new(),
                ..fit_spec.clone()
            };
            let res = alt_spec.resolve(alt.as_ref())?;
            Some((alt, res))
        }
    };
    let job = Job {
        model: model.clone(),
        resolved,
        alternative,
        normalize: args.normalize.as_deref().map(parse_normalize).transpose()?,
        interpolate: args.interpolate.clone(),
        covariate_cols: covariate_cols.clone(),
    };
    let cov_col_names: Vec<String> = covariate_cols.iter().map(|(_, c)| c.clone()).collect();
    let visible_groups: Vec<String> = columns_group
        .iter()
        .filter(|c| !cov_col_names.contains(c))
        .cloned()
        .collect();

    // Output.
    let input_json = serde_json::json!({
        "source": source,
        "columns": columns,
        "x": x_reading,
    })
    .to_string();
    let target = OutputTarget::new(args.output.as_deref());
    let quiet = args.quiet;
    let model_params = model.params().to_vec();
    let derived_names: Vec<String> = model.derived().iter().map(|d| d.name.clone()).collect();
    write_output(&target, |out| {
        let mut w = Writer {
            format: args.format,
            out,
            group_cols: visible_groups.clone(),
            params: model_params.clone(),
            derived: derived_names.clone(),
            first: true,
            level: args.level,
            input: input_json.clone(),
        };
        w.header()?;
        let mut comparisons: Vec<Comparison> = Vec::new();
        let progress = crate::progress::Progress::new(quiet, "fitting", "curves");
        if !args.share.is_empty() {
            // Global fit: everything in memory.
            let groups: Vec<Group> = match (&dataset, stream.take()) {
                (Some(d), _) => d.groups.clone(),
                (None, Some(s)) => s.collect::<Result<Vec<_>, TableError>>().map_err(std::io::Error::other)?,
                _ => Vec::new(),
            };
            let curves = merge_covariate_groups(groups, &cov_col_names);
            let mut datas = Vec::new();
            let mut keys = Vec::new();
            for c in &curves {
                match curve_data(c, &job) {
                    Ok(d) => {
                        datas.push(d);
                        keys.push(if c.key.is_empty() { None } else { Some(c.key.clone()) });
                    }
                    Err(msg) => {
                        let label: Vec<String> = c.key.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        return Err(std::io::Error::other(format!("{source}: {}: {msg}", label.join(", "))));
                    }
                }
            }
            let reports = ligand_fit::global::fit_global(job.model.as_ref(), &datas, &args.share, &job.resolved);
            for (mut r, k) in reports.into_iter().zip(keys) {
                r.group = k;
                w.fit(&FitOut { fit: r, interpolated: Vec::new() })?;
            }
            progress.finish();
            return w.footer(&comparisons);
        }
        const CHUNK: usize = 2048;
        let process = |chunk: Vec<Result<Curve, TableError>>, w: &mut Writer, comparisons: &mut Vec<Comparison>| -> std::io::Result<()> {
            let results: Vec<(FitOut, Option<Comparison>)> = chunk
                .into_par_iter()
                .map_init(FitWorkspace::new, |ws, g| match g {
                    Ok(g) => fit_one(&g, &job, ws),
                    Err(e) => {
                        // A bad row spoils only its group: report it in its own row.
                        let mut r = FitReport::failed(job.model.id(), 0, e.to_string());
                        r.group = None;
                        (FitOut { fit: r, interpolated: Vec::new() }, None)
                    }
                })
                .collect();
            progress.add(results.len() as u64);
            for (f, c) in results {
                w.fit(&f)?;
                if let Some(c) = c {
                    comparisons.push(c);
                }
            }
            Ok(())
        };
        match (&dataset, stream.take()) {
            (Some(d), _) => {
                let groups = merge_covariate_groups(d.groups.clone(), &cov_col_names);
                let mut it = groups.into_iter().map(Ok).peekable();
                while it.peek().is_some() {
                    let chunk: Vec<_> = it.by_ref().take(CHUNK).collect();
                    process(chunk, &mut w, &mut comparisons)?;
                }
            }
            (None, Some(s)) => {
                if !cov_col_names.is_empty() {
                    return Err(std::io::Error::other("covariate models read the whole table; the input is too large to stream with --covariate"));
                }
                let mut it = s.map(|g| g.map(Curve::from)).peekable();
                let mut first = true;
                while it.peek().is_some() {
                    let chunk: Vec<_> = it.by_ref().take(CHUNK).collect();
                    if std::mem::take(&mut first) {
                        let xs: Vec<f64> = chunk
                            .iter()
                            .flatten()
                            .flat_map(|c| c.points.iter().map(|p| p.x))
                            .collect();
                        check_x(&xs).map_err(|e| std::io::Error::other(format!("{e:#}")))?;
                    }
                    // A read error that ends the stream is fatal (not a row error).
                    if let Some(Err(e)) = chunk.last() {
                        if !e.is_row_error() {
                            let (good, bad): (Vec<_>, Vec<_>) = chunk.into_iter().partition(|g| g.is_ok());
                            process(good, &mut w, &mut comparisons)?;
                            let e = bad.into_iter().next().and_then(|b| b.err()).expect("an error");
                            return Err(std::io::Error::other(e.to_string()));
                        }
                    }
                    process(chunk, &mut w, &mut comparisons)?;
                }
            }
            _ => {}
        }
        progress.finish();
        w.footer(&comparisons)
    })
    .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_bounds_parse_with_located_errors() {
        let p = parse_pairs("--fix", &["bottom=0".into(), " top = 100".into()]).unwrap();
        assert_eq!(p, vec![("bottom".into(), 0.0), ("top".into(), 100.0)]);
        let e = parse_pairs("--fix", &["bottom".into()]).unwrap_err();
        assert!(e
            .to_string()
            .contains("--fix `bottom`: expected name=value"));
        let e = parse_pairs("--start", &["hill=abc".into()]).unwrap_err();
        assert!(format!("{e:#}").contains("expected a number after `=`, found `abc`"));
        let b = parse_bounds(&["hill=0.2:5".into(), "top=:inf".into()]).unwrap();
        assert_eq!(b[0], ("hill".into(), 0.2, 5.0));
        assert_eq!(b[1].1, f64::NEG_INFINITY);
        assert!(parse_bounds(&["hill=1".into()]).is_err());
    }

    #[test]
    fn significant_digit_formatting() {
        assert_eq!(fmt_sig(1.234567891), "1.23457");
        assert_eq!(fmt_sig(-7.000000001), "-7");
        assert_eq!(fmt_sig(1.5e-9), "1.50000e-9");
        assert_eq!(fmt_sig(123456.7), "123457");
    }

    #[test]
    fn normalisation() {
        let mut y = vec![10.0, 20.0, 110.0];
        normalize(&mut y, &[1.0, 2.0, 3.0], Normalize::MinMax);
        assert_eq!(y, vec![0.0, 10.0, 100.0]);
        assert!(parse_normalize("zero=1,hundred=1").is_err());
    }
}
