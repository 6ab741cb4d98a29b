//! The built-in model catalogue.
//!
//! Every model is a formula in the expression language (so its gradient is
//! exact and symbolic) plus a self-starter, natural bounds and derived
//! quantities. Models of log-concentration curves (`XKind::Log10`) are written
//! in `x = log10(concentration)`: give concentrations and ligand takes the
//! logarithm, or give log concentrations with `--x-scale log10`. The drc
//! families are written in the dose itself, with drc's parameter names and
//! parametrisation, so that estimates compare one to one with R's `drm`.
//!
//! Sources: the GraphPad Prism Curve Fitting Guide (equations of the
//! dose-response, binding, kinetics and receptor-theory panels); Ritz et al.
//! (2015) PLOS ONE 10:e0146021 and the drc manual (families `LL.*`, `W1.*`,
//! `W2.*`, `LN.*`, `L.*`, `EXD.*`, `BC.*`, `MM.*`); Motulsky & Mahan (1984)
//! Mol Pharmacol 25:1-9; Black & Leff (1983) Proc R Soc Lond B 220:141-162;
//! Cheng & Prusoff (1973) Biochem Pharmacol 22:3099-3108; Arunlakshana &
//! Schild (1959) Br J Pharmacol 14:48-58.

use crate::model::{CurveModel, DerivedDef, FormulaModel, ModelError, Starter, XKind};
use crate::start;
use ligand_expr::parse;
use serde::Serialize;
use std::sync::Arc;

/// A constant a model needs (or accepts).
#[derive(Clone, Debug, Serialize)]
pub struct ConstantSpec {
    /// Name.
    pub name: &'static str,
    /// What it is, for help texts.
    pub description: &'static str,
    /// `None` when the constant must be given.
    pub default: Option<f64>,
}

/// One catalogue entry.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    /// Identifier used with `--model`.
    pub id: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// Family: dose-response, drc, binding, kinetics or receptor.
    pub family: &'static str,
    /// What it is, for help texts.
    pub description: &'static str,
    /// `log10` when the formula's `x` is a log10 concentration.
    pub x: &'static str,
    /// The formula, in `x`.
    pub formula: &'static str,
    /// Parameter names, in order.
    pub params: &'static [&'static str],
    /// Per-point covariates read from columns.
    pub covariates: &'static [&'static str],
    /// Constants the model takes (`--constant`).
    pub constants: &'static [ConstantSpec],
    /// Derived quantities: (name, formula).
    pub derived: &'static [(&'static str, &'static str)],
}

const NONE: &[&str] = &[];
const NO_CONST: &[ConstantSpec] = &[];

macro_rules! model {
    ($id:expr, $aliases:expr, $family:expr, $x:expr, $desc:expr, $formula:expr, $params:expr, $cov:expr, $consts:expr, $derived:expr) => {
        ModelInfo {
            id: $id,
            aliases: $aliases,
            family: $family,
            x: $x,
            description: $desc,
            formula: $formula,
            params: $params,
            covariates: $cov,
            constants: $consts,
            derived: $derived,
        }
    };
}

const EC50: &[(&str, &str)] = &[("ec50", "10^logec50")];

/// The catalogue.
pub const MODELS: &[ModelInfo] = &[
    // ---- Dose-response (Prism), x = log10 concentration ----
    model!("4pl", &["log-agonist-variable-slope", "variable-slope"], "dose-response", "log10",
        "Four-parameter logistic: bottom and top plateaus, logEC50 and Hill slope (positive for a rising curve).",
        "bottom + (top - bottom) / (1 + 10^((logec50 - x) * hill))",
        &["bottom", "top", "logec50", "hill"], NONE, NO_CONST, EC50),
    model!("3pl", &["log-agonist-standard-slope"], "dose-response", "log10",
        "Three-parameter logistic (Hill slope 1).",
        "bottom + (top - bottom) / (1 + 10^(logec50 - x))",
        &["bottom", "top", "logec50"], NONE, NO_CONST, EC50),
    model!("5pl", &["asymmetric-5pl", "richards"], "dose-response", "log10",
        "Asymmetric five-parameter logistic (Richards); logec50 is the true half-maximal concentration.",
        "bottom + (top - bottom) / (1 + 10^((logec50 + log10(2^(1/s) - 1) / hill - x) * hill))^s",
        &["bottom", "top", "logec50", "hill", "s"], NONE, NO_CONST, EC50),
    model!("ecanything", &["ecf"], "dose-response", "log10",
        "Four-parameter logistic parametrised by the concentration giving F % of the response (constant F, default 80).",
        "bottom + (top - bottom) / (1 + 10^((logecf - log10(F / (100 - F)) / hill - x) * hill))",
        &["bottom", "top", "logecf", "hill"], NONE,
        &[ConstantSpec { name: "F", description: "the percentage of the response, 0 < F < 100", default: Some(80.0) }],
        &[("ecf", "10^logecf")]),
    model!("biphasic", &[], "dose-response", "log10",
        "Biphasic dose-response: two sigmoid phases sharing bottom and top; frac is the share of the first phase.",
        "bottom + (top - bottom) * frac / (1 + 10^((logec50_1 - x) * hill1)) + (top - bottom) * (1 - frac) / (1 + 10^((logec50_2 - x) * hill2))",
        &["bottom", "top", "frac", "logec50_1", "hill1", "logec50_2", "hill2"], NONE, NO_CONST,
        &[("ec50_1", "10^logec50_1"), ("ec50_2", "10^logec50_2")]),
    model!("bell", &["bell-shaped"], "dose-response", "log10",
        "Bell-shaped dose-response: from plateau1 at low concentrations to a middle plateau `dip` (a peak or a trough), then to plateau2 (Hill slopes positive).",
        "dip + (plateau1 - dip) / (1 + 10^((x - logec50_1) * hill1)) + (plateau2 - dip) / (1 + 10^((logec50_2 - x) * hill2))",
        &["plateau1", "dip", "plateau2", "logec50_1", "hill1", "logec50_2", "hill2"], NONE, NO_CONST,
        &[("ec50_1", "10^logec50_1"), ("ec50_2", "10^logec50_2")]),
    // ---- drc families, x = dose ----
    model!("LL.2", &["ll2"], "drc", "linear",
        "drc log-logistic, lower limit 0 and upper limit 1: 1/(1 + exp(b (ln x - ln e))).",
        "piecewise(1 / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, piecewise(1, b > 0, 0, b < 0, 0.5))",
        &["b", "e"], NONE, NO_CONST, &[]),
    model!("LL.3", &["ll3"], "drc", "linear",
        "drc log-logistic, lower limit 0: d/(1 + exp(b (ln x - ln e))).",
        "piecewise(d / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, piecewise(d, b > 0, 0, b < 0, d / 2))",
        &["b", "d", "e"], NONE, NO_CONST, &[]),
    model!("LL.4", &["ll4"], "drc", "linear",
        "drc four-parameter log-logistic: c + (d - c)/(1 + exp(b (ln x - ln e))); e is the ED50, b > 0 for a falling curve.",
        "piecewise(c + (d - c) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, piecewise(d, b > 0, c, b < 0, (c + d) / 2))",
        &["b", "c", "d", "e"], NONE, NO_CONST, &[]),
    model!("LL.5", &["ll5"], "drc", "linear",
        "drc five-parameter (asymmetric) log-logistic: c + (d - c)/(1 + exp(b (ln x - ln e)))^f.",
        "piecewise(c + (d - c) / (1 + exp(b * (ln(x) - ln(e_))))^f, x > 0, piecewise(d, b > 0, c))",
        &["b", "c", "d", "e", "f"], NONE, NO_CONST, &[]),
    model!("W1.4", &["w14"], "drc", "linear",
        "drc Weibull type 1: c + (d - c) exp(-exp(b (ln x - ln e))).",
        "piecewise(c + (d - c) * exp(-exp(b * (ln(x) - ln(e_)))), x > 0, piecewise(d, b > 0, c))",
        &["b", "c", "d", "e"], NONE, NO_CONST, &[]),
    model!("W2.4", &["w24"], "drc", "linear",
        "drc Weibull type 2: c + (d - c)(1 - exp(-exp(b (ln x - ln e)))).",
        "piecewise(c + (d - c) * (1 - exp(-exp(b * (ln(x) - ln(e_))))), x > 0, piecewise(c, b > 0, d))",
        &["b", "c", "d", "e"], NONE, NO_CONST, &[]),
    model!("LN.4", &["ln4"], "drc", "linear",
        "drc log-normal: c + (d - c) Phi(b (ln x - ln e)).",
        "piecewise(c + (d - c) * 0.5 * erfc(-b * (ln(x) - ln(e_)) / sqrt(2)), x > 0, piecewise(c, b > 0, d))",
        &["b", "c", "d", "e"], NONE, NO_CONST, &[]),
    model!("L.4", &["l4"], "drc", "linear",
        "drc logistic on the dose scale: c + (d - c)/(1 + exp(b (x - e_))).",
        "c + (d - c) / (1 + exp(b * (x - e_)))",
        &["b", "c", "d", "e"], NONE, NO_CONST, &[]),
    model!("EXD.3", &["exd3"], "drc", "linear",
        "drc exponential decay: c + (d - c) exp(-x/e).",
        "c + (d - c) * exp(-x / e_)",
        &["c", "d", "e"], NONE, NO_CONST, &[]),
    model!("BC.4", &["bc4"], "drc", "linear",
        "drc Brain-Cousens hormesis with lower limit 0: (d + f x)/(1 + exp(b (ln x - ln e))).",
        "piecewise((d + f * x) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, piecewise(d, b > 0, 0))",
        &["b", "d", "e", "f"], NONE, NO_CONST, &[]),
    model!("MM.3", &["mm3"], "drc", "linear",
        "drc Michaelis-Menten with a lower limit: c + (d - c)/(1 + e/x).",
        "c + (d - c) * x / (x + e_)",
        &["c", "d", "e"], NONE, NO_CONST, &[]),
    // The reduced and extended drc families under drc's own names (`fct = LN.3()` is
    // `--model LN.3`): the same formulas with a limit fixed, or a hormesis or threshold term.
    model!("LL.3u", &["ll3u"], "drc", "linear",
        "drc log-logistic, upper limit 1: c + (1 - c)/(1 + exp(b (ln x - ln e))).",
        "piecewise(c + (1 - c) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, piecewise(1, b > 0, c, b < 0, (c + 1) / 2))",
        &["b", "c", "e"], NONE, NO_CONST, &[]),
    model!("W1.2", &["w12"], "drc", "linear",
        "drc Weibull type 1, limits 0 and 1: exp(-exp(b (ln x - ln e))).",
        "piecewise(exp(-exp(b * (ln(x) - ln(e_)))), x > 0, piecewise(1, b > 0, 0))",
        &["b", "e"], NONE, NO_CONST, &[]),
    model!("W1.3", &["w13"], "drc", "linear",
        "drc Weibull type 1, lower limit 0: d exp(-exp(b (ln x - ln e))).",
        "piecewise(d * exp(-exp(b * (ln(x) - ln(e_)))), x > 0, piecewise(d, b > 0, 0))",
        &["b", "d", "e"], NONE, NO_CONST, &[]),
    model!("W2.2", &["w22"], "drc", "linear",
        "drc Weibull type 2, limits 0 and 1: 1 - exp(-exp(b (ln x - ln e))).",
        "piecewise(1 - exp(-exp(b * (ln(x) - ln(e_)))), x > 0, piecewise(0, b > 0, 1))",
        &["b", "e"], NONE, NO_CONST, &[]),
    model!("W2.3", &["w23"], "drc", "linear",
        "drc Weibull type 2, lower limit 0: d (1 - exp(-exp(b (ln x - ln e)))).",
        "piecewise(d * (1 - exp(-exp(b * (ln(x) - ln(e_))))), x > 0, piecewise(0, b > 0, d))",
        &["b", "d", "e"], NONE, NO_CONST, &[]),
    model!("LN.2", &["ln2"], "drc", "linear",
        "drc log-normal, limits 0 and 1: Phi(b (ln x - ln e)).",
        "piecewise(0.5 * erfc(-b * (ln(x) - ln(e_)) / sqrt(2)), x > 0, piecewise(0, b > 0, 1))",
        &["b", "e"], NONE, NO_CONST, &[]),
    model!("LN.3", &["ln3"], "drc", "linear",
        "drc log-normal, lower limit 0: d Phi(b (ln x - ln e)).",
        "piecewise(d * 0.5 * erfc(-b * (ln(x) - ln(e_)) / sqrt(2)), x > 0, piecewise(0, b > 0, d))",
        &["b", "d", "e"], NONE, NO_CONST, &[]),
    model!("LN.3u", &["ln3u"], "drc", "linear",
        "drc log-normal, upper limit 1: c + (1 - c) Phi(b (ln x - ln e)).",
        "piecewise(c + (1 - c) * 0.5 * erfc(-b * (ln(x) - ln(e_)) / sqrt(2)), x > 0, piecewise(c, b > 0, 1))",
        &["b", "c", "e"], NONE, NO_CONST, &[]),
    model!("L.3", &["l3"], "drc", "linear",
        "drc logistic on the dose scale, lower limit 0: d/(1 + exp(b (x - e))).",
        "d / (1 + exp(b * (x - e_)))",
        &["b", "d", "e"], NONE, NO_CONST, &[]),
    model!("L.5", &["l5"], "drc", "linear",
        "drc generalised logistic on the dose scale: c + (d - c)/(1 + exp(b (x - e)))^f.",
        "c + (d - c) / (1 + exp(b * (x - e_)))^f",
        &["b", "c", "d", "e", "f"], NONE, NO_CONST, &[]),
    model!("EXD.2", &["exd2"], "drc", "linear",
        "drc exponential decay to 0: d exp(-x/e).",
        "d * exp(-x / e_)",
        &["d", "e"], NONE, NO_CONST, &[]),
    model!("AR.2", &["ar2"], "drc", "linear",
        "drc asymptotic regression from 0: d (1 - exp(-x/e)).",
        "d * (1 - exp(-x / e_))",
        &["d", "e"], NONE, NO_CONST, &[]),
    model!("AR.3", &["ar3"], "drc", "linear",
        "drc shifted asymptotic regression: c + (d - c)(1 - exp(-x/e)).",
        "c + (d - c) * (1 - exp(-x / e_))",
        &["c", "d", "e"], NONE, NO_CONST, &[]),
    model!("MM.2", &["mm2"], "drc", "linear",
        "drc Michaelis-Menten: d/(1 + e/x).",
        "d * x / (x + e_)",
        &["d", "e"], NONE, NO_CONST, &[]),
    model!("BC.5", &["bc5"], "drc", "linear",
        "drc Brain-Cousens hormesis: c + (d - c + f x)/(1 + exp(b (ln x - ln e))).",
        "piecewise(c + (d - c + f * x) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, piecewise(d, b > 0, c))",
        &["b", "c", "d", "e", "f"], NONE, NO_CONST, &[]),
    model!("CRS.4a", &["crs4a"], "drc", "linear",
        "drc Cedergreen-Ritz-Streibig hormesis, lower limit 0, alpha 1: (d + f exp(-1/x))/(1 + exp(b (ln x - ln e))).",
        "piecewise((d + f * exp(-1 / x)) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, d)",
        &["b", "d", "e", "f"], NONE, NO_CONST, &[]),
    model!("CRS.4b", &["crs4b"], "drc", "linear",
        "drc Cedergreen-Ritz-Streibig hormesis, lower limit 0, alpha 0.5: (d + f exp(-1/x^0.5))/(1 + exp(b (ln x - ln e))).",
        "piecewise((d + f * exp(-1 / x^0.5)) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, d)",
        &["b", "d", "e", "f"], NONE, NO_CONST, &[]),
    model!("CRS.4c", &["crs4c"], "drc", "linear",
        "drc Cedergreen-Ritz-Streibig hormesis, lower limit 0, alpha 0.25: (d + f exp(-1/x^0.25))/(1 + exp(b (ln x - ln e))).",
        "piecewise((d + f * exp(-1 / x^0.25)) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, d)",
        &["b", "d", "e", "f"], NONE, NO_CONST, &[]),
    model!("CRS.5a", &["crs5a"], "drc", "linear",
        "drc Cedergreen-Ritz-Streibig hormesis, alpha 1: c + (d - c + f exp(-1/x))/(1 + exp(b (ln x - ln e))).",
        "piecewise(c + (d - c + f * exp(-1 / x)) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, d)",
        &["b", "c", "d", "e", "f"], NONE, NO_CONST, &[]),
    model!("CRS.5b", &["crs5b"], "drc", "linear",
        "drc Cedergreen-Ritz-Streibig hormesis, alpha 0.5: c + (d - c + f exp(-1/x^0.5))/(1 + exp(b (ln x - ln e))).",
        "piecewise(c + (d - c + f * exp(-1 / x^0.5)) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, d)",
        &["b", "c", "d", "e", "f"], NONE, NO_CONST, &[]),
    model!("CRS.5c", &["crs5c"], "drc", "linear",
        "drc Cedergreen-Ritz-Streibig hormesis, alpha 0.25: c + (d - c + f exp(-1/x^0.25))/(1 + exp(b (ln x - ln e))).",
        "piecewise(c + (d - c + f * exp(-1 / x^0.25)) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, d)",
        &["b", "c", "d", "e", "f"], NONE, NO_CONST, &[]),
    model!("baro5", &[], "drc", "linear",
        "drc baroreflex model: log-logistic with slopes b1 and b2 joined by the weight f = 1/(1 + exp(2 b1 b2/|b1 + b2| (ln x - ln e))) (Ricketts and Head 1999).",
        "c + (d - c) / (1 + exp(b1 * (ln(x) - ln(e_))) / (1 + exp(2 * b1 * b2 / abs(b1 + b2) * (ln(x) - ln(e_)))) + (1 - 1 / (1 + exp(2 * b1 * b2 / abs(b1 + b2) * (ln(x) - ln(e_))))) * exp(b2 * (ln(x) - ln(e_))))",
        &["b1", "b2", "c", "d", "e"], NONE, NO_CONST, &[]),
    // ---- Radioligand binding ----
    model!("saturation-one-site", &["one-site-specific", "hyperbola"], "binding", "linear",
        "Specific binding at one site: bmax x/(kd + x); x is the free radioligand concentration.",
        "bmax * x / (kd + x)",
        &["bmax", "kd"], NONE, NO_CONST, &[]),
    model!("saturation-one-site-total", &["one-site-total-nonspecific"], "binding", "linear",
        "Total and nonspecific binding fitted together: covariate `nonspecific` is 1 for nonspecific-binding points (ns x + background) and 0 for total binding (adds bmax x/(kd + x)).",
        "bmax * x / (kd + x) * (1 - nonspecific) + ns * x + background",
        &["bmax", "kd", "ns", "background"], &["nonspecific"], NO_CONST, &[]),
    model!("saturation-two-sites", &["two-sites-specific"], "binding", "linear",
        "Specific binding at two sites.",
        "bmax1 * x / (kd1 + x) + bmax2 * x / (kd2 + x)",
        &["bmax1", "kd1", "bmax2", "kd2"], NONE, NO_CONST, &[]),
    model!("competition-one-site", &["one-site-logic50", "one-site-fit-logic50"], "binding", "log10",
        "Competitive binding at one site, Hill slope -1: bottom + (top - bottom)/(1 + 10^(x - logic50)).",
        "bottom + (top - bottom) / (1 + 10^(x - logic50))",
        &["bottom", "top", "logic50"], NONE, NO_CONST, &[("ic50", "10^logic50")]),
    model!("competition-one-site-ki", &["one-site-fit-ki", "ki"], "binding", "log10",
        "Competitive binding at one site fitted for logKi, Cheng-Prusoff built in: IC50 = Ki (1 + radioligand/kd). radioligand and kd in the units of x.",
        "bottom + (top - bottom) / (1 + 10^(x - logki - log10(1 + radioligand / kd)))",
        &["bottom", "top", "logki"], NONE,
        &[ConstantSpec { name: "radioligand", description: "radioligand concentration, in the units of x", default: None },
          ConstantSpec { name: "kd", description: "radioligand Kd, in the units of x", default: None }],
        &[("ki", "10^logki"), ("ic50", "10^logki * (1 + radioligand / kd)")]),
    model!("competition-two-sites", &["two-sites-logic50"], "binding", "log10",
        "Competitive binding at two sites; frac is the share of the high-affinity (first) site.",
        "bottom + (top - bottom) * (frac / (1 + 10^(x - logic50_1)) + (1 - frac) / (1 + 10^(x - logic50_2)))",
        &["bottom", "top", "frac", "logic50_1", "logic50_2"], NONE, NO_CONST,
        &[("ic50_1", "10^logic50_1"), ("ic50_2", "10^logic50_2")]),
    model!("homologous", &["homologous-competition"], "binding", "log10",
        "Homologous competition (unlabelled ligand identical to the radioligand): bmax hot/(hot + 10^x + 10^logkd) + bottom; constant hot in the units of 10^x.",
        "bmax * hot / (hot + 10^x + 10^logkd) + bottom",
        &["bmax", "logkd", "bottom"], NONE,
        &[ConstantSpec { name: "hot", description: "radioligand concentration, in the units of 10^x", default: None }],
        &[("kd", "10^logkd")]),
    model!("association", &["one-phase-association"], "kinetics", "linear",
        "Association: ymax (1 - exp(-kob x)); x is time.",
        "ymax * (1 - exp(-kob * x))",
        &["ymax", "kob"], NONE, NO_CONST, &[("half_time", "ln(2) / kob")]),
    model!("association-kon", &[], "kinetics", "linear",
        "Association at one radioligand concentration with koff known: kob = kon radioligand + koff.",
        "ymax * (1 - exp(-(kon * radioligand + koff) * x))",
        &["ymax", "kon"], NONE,
        &[ConstantSpec { name: "radioligand", description: "radioligand concentration", default: None },
          ConstantSpec { name: "koff", description: "dissociation rate constant (1/time)", default: None }],
        &[("kd", "koff / kon")]),
    model!("dissociation", &["one-phase-decay"], "kinetics", "linear",
        "Dissociation: (y0 - ns) exp(-koff x) + ns; x is time.",
        "(y0 - ns) * exp(-koff * x) + ns",
        &["y0", "ns", "koff"], NONE, NO_CONST, &[("half_life", "ln(2) / koff")]),
    model!("motulsky-mahan", &["competitive-kinetics", "kinetics-competitive"], "kinetics", "linear",
        "Kinetics of competitive binding (Motulsky & Mahan 1984): radioligand association in the presence of an unlabelled competitor; fits the competitor's k3 (kon) and k4 (koff). Concentrations and kon in consistent units.",
        "bmax * k1 * hot / (0.5 * (k1 * hot + k2 + k3 * cold + k4 + sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold)) - 0.5 * (k1 * hot + k2 + k3 * cold + k4 - sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold))) * (k4 * (0.5 * (k1 * hot + k2 + k3 * cold + k4 + sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold)) - 0.5 * (k1 * hot + k2 + k3 * cold + k4 - sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold))) / (0.5 * (k1 * hot + k2 + k3 * cold + k4 + sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold)) * (0.5 * (k1 * hot + k2 + k3 * cold + k4 - sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold)))) + (k4 - 0.5 * (k1 * hot + k2 + k3 * cold + k4 + sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold))) / (0.5 * (k1 * hot + k2 + k3 * cold + k4 + sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold))) * exp(-(0.5 * (k1 * hot + k2 + k3 * cold + k4 + sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold))) * x) - (k4 - 0.5 * (k1 * hot + k2 + k3 * cold + k4 - sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold))) / (0.5 * (k1 * hot + k2 + k3 * cold + k4 - sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold))) * exp(-(0.5 * (k1 * hot + k2 + k3 * cold + k4 - sqrt((k1 * hot + k2 - k3 * cold - k4)^2 + 4 * k1 * k3 * hot * cold))) * x))",
        &["k3", "k4", "bmax"], NONE,
        &[ConstantSpec { name: "hot", description: "radioligand concentration", default: None },
          ConstantSpec { name: "cold", description: "unlabelled competitor concentration", default: None },
          ConstantSpec { name: "k1", description: "radioligand kon (1/(concentration time))", default: None },
          ConstantSpec { name: "k2", description: "radioligand koff (1/time)", default: None }],
        &[("competitor_kd", "k4 / k3")]),
    // ---- Receptor theory ----
    model!("gaddum-schild", &["schild", "ec50-shift-schild"], "receptor", "log10",
        "Gaddum/Schild global fit of agonist curves at several antagonist concentrations (covariate `antagonist`, in molar units of x): EC50 shifts by 1 + (antagonist/10^-pA2)^schild_slope.",
        "bottom + (top - bottom) / (1 + 10^((logec50 + log10(1 + piecewise((antagonist * 10^pa2)^schild_slope, antagonist > 0, 0)) - x) * hill))",
        &["bottom", "top", "logec50", "hill", "pa2", "schild_slope"], &["antagonist"], NO_CONST,
        &[("ec50", "10^logec50"), ("kb", "10^-pa2")]),
    model!("operational-partial", &["operational-model-partial-agonist"], "receptor", "log10",
        "Operational model (Black & Leff): a full agonist (covariate partial = 0; logistic curve defining basal and emax) fitted globally with a partial agonist (partial = 1; affinity logka and efficacy logtau).",
        "basal + (emax - basal) * ((1 - partial) / (1 + 10^((logec50_full - x) * hill)) + partial / (1 + ((10^logka + 10^x) / (10^logtau * 10^x))^hill))",
        &["basal", "emax", "logec50_full", "hill", "logka", "logtau"], &["partial"], NO_CONST,
        &[("ka", "10^logka"), ("tau", "10^logtau")]),
    model!("operational-depletion", &["operational-model-receptor-depletion", "furchgott"], "receptor", "log10",
        "Operational model with receptor depletion (Furchgott): control curve (depleted = 0) and curve after irreversible antagonist (depleted = 1) share KA, Em, basal and slope; tau falls from 10^logtau to 10^logtau_depleted.",
        "basal + (em - basal) / (1 + ((10^logka + 10^x) / ((10^logtau * (1 - depleted) + 10^logtau_depleted * depleted) * 10^x))^hill)",
        &["basal", "em", "logka", "logtau", "logtau_depleted", "hill"], &["depleted"], NO_CONST,
        &[("ka", "10^logka"), ("tau", "10^logtau"), ("tau_depleted", "10^logtau_depleted")]),
];

/// Looks a model up by id or alias (case-insensitive).
pub fn info(id: &str) -> Option<&'static ModelInfo> {
    MODELS.iter().find(|m| {
        m.id.eq_ignore_ascii_case(id) || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
    })
}

fn four_pl_start(x: &[f64], y: &[f64]) -> [f64; 4] {
    let s = start::sigmoid(x, y);
    [s.bottom, s.top, s.mid_x, s.slope]
}

/// Maps a log-logistic start to drc's (b, c, d, e) on dose data: c is the
/// smaller and d the larger plateau, and b > 0 for a falling curve (drc's
/// convention: the response tends to d as the dose tends to 0 when b > 0).
fn drc_ll_start(x: &[f64], y: &[f64]) -> [f64; 4] {
    let (lx, ly) = start::ln_positive(x, y);
    let s = start::sigmoid(&lx, &ly);
    // s.slope is d log10(odds) / d ln x; drc's b is minus d ln(odds) / d ln x.
    let b = -s.slope * std::f64::consts::LN_10;
    [b, s.bottom, s.top, s.mid_x.exp()]
}

fn starter(id: &str, constants: &[(String, f64)]) -> Starter {
    let konst = |name: &str| {
        constants
            .iter()
            .find(|(c, _)| c == name)
            .map(|(_, v)| *v)
            .unwrap_or(f64::NAN)
    };
    match id {
        "4pl" => Arc::new(|x, _, y| four_pl_start(x, y).to_vec()),
        "3pl" => Arc::new(|x, _, y| four_pl_start(x, y)[..3].to_vec()),
        "5pl" => Arc::new(|x, _, y| {
            let s = four_pl_start(x, y);
            vec![s[0], s[1], s[2], s[3], 1.0]
        }),
        "ecanything" => {
            let f = konst("F");
            Arc::new(move |x, _, y| {
                let s = four_pl_start(x, y);
                let logecf = s[2] + (f / (100.0 - f)).log10() / s[3];
                vec![s[0], s[1], logecf, s[3]]
            })
        }
        "biphasic" => Arc::new(|x, _, y| {
            let s = four_pl_start(x, y);
            let h = s[3].signum();
            vec![s[0], s[1], 0.5, s[2] - 1.0, h, s[2] + 1.0, h]
        }),
        "bell" => Arc::new(|x, _, y| {
            let m = start::mean_by_x(x, y);
            let (mut imax, mut vmax) = (0, f64::NEG_INFINITY);
            for (i, p) in m.iter().enumerate() {
                if p.1 > vmax {
                    vmax = p.1;
                    imax = i;
                }
            }
            let first = m.first().map(|p| p.1).unwrap_or(0.0);
            let last = m.last().map(|p| p.1).unwrap_or(0.0);
            let xpeak = m.get(imax).map(|p| p.0).unwrap_or(0.0);
            let x0 = m.first().map(|p| p.0).unwrap_or(0.0);
            let x1 = m.last().map(|p| p.0).unwrap_or(0.0);
            // plateau1 is at low x; the dip parameter is the plateau reached in between.
            vec![
                first,
                vmax,
                last,
                0.5 * (x0 + xpeak),
                1.0,
                0.5 * (xpeak + x1),
                1.0,
            ]
        }),
        "LL.2" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![s[0], s[3]]
        }),
        "LL.3" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![s[0], s[1].max(s[2]), s[3]]
        }),
        "LL.4" | "W1.4" => Arc::new(|x, _, y| drc_ll_start(x, y).to_vec()),
        // Weibull type 2 and the log-normal fall when b < 0.
        "W2.4" | "LN.4" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![-s[0], s[1], s[2], s[3]]
        }),
        "LL.5" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![s[0], s[1], s[2], s[3], 1.0]
        }),
        "BC.4" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![s[0], s[1].max(s[2]), s[3], 0.0]
        }),
        "LL.3u" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![s[0], s[1], s[3]]
        }),
        "W1.2" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![s[0], s[3]]
        }),
        "W1.3" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![s[0], s[1].max(s[2]), s[3]]
        }),
        // Weibull type 2 and the log-normal rise when b > 0: the sign of drc's LL b flips.
        "W2.2" | "LN.2" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![-s[0], s[3]]
        }),
        "W2.3" | "LN.3" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![-s[0], s[1].max(s[2]), s[3]]
        }),
        "LN.3u" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![-s[0], s[1].min(s[2]), s[3]]
        }),
        "BC.5" | "CRS.5a" | "CRS.5b" | "CRS.5c" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![s[0], s[1], s[2], s[3], 0.0]
        }),
        "CRS.4a" | "CRS.4b" | "CRS.4c" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![s[0], s[1].max(s[2]), s[3], 0.0]
        }),
        "baro5" => Arc::new(|x, _, y| {
            let s = drc_ll_start(x, y);
            vec![s[0], s[0], s[1], s[2], s[3]]
        }),
        "L.3" | "L.5" => {
            let five = id == "L.5";
            Arc::new(move |x, _, y| {
                let s = start::sigmoid(x, y);
                let b = -s.slope * std::f64::consts::LN_10;
                let m = start::mean_by_x(x, y);
                let first = m.first().map(|p| p.1).unwrap_or(s.top);
                let last = m.last().map(|p| p.1).unwrap_or(s.bottom);
                if five {
                    vec![b, last, first, s.mid_x, 1.0]
                } else {
                    vec![b, first.max(last), s.mid_x]
                }
            })
        }
        "EXD.2" => Arc::new(|x, _, y| {
            let m = start::mean_by_x(x, y);
            let first = m.first().map(|p| p.1).unwrap_or(1.0);
            let t_half = start::x_at_half_decay(x, y);
            vec![first, (t_half / std::f64::consts::LN_2).max(1e-12)]
        }),
        "AR.2" | "MM.2" => {
            let ar = id == "AR.2";
            Arc::new(move |x, _, y| {
                let top = start::max_mean(x, y);
                let half = start::x_at_fraction_of_max(x, y, 0.5).max(1e-12);
                // d (1 - exp(-x/e)) is half-way at x = e ln 2.
                vec![
                    top,
                    if ar {
                        half / std::f64::consts::LN_2
                    } else {
                        half
                    },
                ]
            })
        }
        "AR.3" => Arc::new(|x, _, y| {
            let m = start::mean_by_x(x, y);
            let first = m.first().map(|p| p.1).unwrap_or(0.0);
            let top = start::max_mean(x, y);
            let half = start::x_at_fraction_of_max(x, y, 0.5).max(1e-12);
            vec![first, top, half / std::f64::consts::LN_2]
        }),
        "L.4" => Arc::new(|x, _, y| {
            let s = start::sigmoid(x, y);
            let b = -s.slope * std::f64::consts::LN_10;
            let m = start::mean_by_x(x, y);
            let first = m.first().map(|p| p.1).unwrap_or(s.top);
            let last = m.last().map(|p| p.1).unwrap_or(s.bottom);
            vec![b, last, first, s.mid_x]
        }),
        "EXD.3" => Arc::new(|x, _, y| {
            let m = start::mean_by_x(x, y);
            let first = m.first().map(|p| p.1).unwrap_or(1.0);
            let last = m.last().map(|p| p.1).unwrap_or(0.0);
            let t_half = start::x_at_half_decay(x, y);
            vec![last, first, (t_half / std::f64::consts::LN_2).max(1e-12)]
        }),
        "MM.3" => Arc::new(|x, _, y| {
            let m = start::mean_by_x(x, y);
            let first = m.first().map(|p| p.1).unwrap_or(0.0);
            let top = start::max_mean(x, y);
            vec![
                first,
                top,
                start::x_at_fraction_of_max(x, y, 0.5).max(1e-12),
            ]
        }),
        "saturation-one-site" => Arc::new(|x, _, y| {
            vec![
                start::max_mean(x, y) * 1.2,
                start::x_at_fraction_of_max(x, y, 0.5).max(1e-12),
            ]
        }),
        "saturation-one-site-total" => Arc::new(|x, cov, y| {
            // Nonspecific: a line through the origin fitted to the nonspecific points.
            let nonspecific = &cov[0];
            let (xn, yn) = start::select(x, y, nonspecific, 1.0);
            let sxy: f64 = xn.iter().zip(&yn).map(|(a, b)| a * b).sum();
            let sxx: f64 = xn.iter().map(|a| a * a).sum();
            let ns = if sxx > 0.0 { sxy / sxx } else { 0.0 };
            let (xt, yt) = start::select(x, y, nonspecific, 0.0);
            let spec: Vec<f64> = xt.iter().zip(&yt).map(|(a, b)| b - ns * a).collect();
            vec![
                start::max_mean(&xt, &spec) * 1.2,
                start::x_at_fraction_of_max(&xt, &spec, 0.5).max(1e-12),
                ns,
                0.0,
            ]
        }),
        "saturation-two-sites" => Arc::new(|x, _, y| {
            let bmax = start::max_mean(x, y);
            let kd = start::x_at_fraction_of_max(x, y, 0.5).max(1e-12);
            vec![0.5 * bmax, kd / 10.0, 0.7 * bmax, kd * 10.0]
        }),
        "competition-one-site" => Arc::new(|x, _, y| {
            let s = start::sigmoid(x, y);
            vec![s.bottom, s.top, s.mid_x]
        }),
        "competition-one-site-ki" => {
            let shift = (1.0 + konst("radioligand") / konst("kd")).log10();
            Arc::new(move |x, _, y| {
                let s = start::sigmoid(x, y);
                vec![s.bottom, s.top, s.mid_x - shift]
            })
        }
        "competition-two-sites" => Arc::new(|x, _, y| {
            let s = start::sigmoid(x, y);
            vec![s.bottom, s.top, 0.5, s.mid_x - 1.0, s.mid_x + 1.0]
        }),
        "homologous" => {
            let hot = konst("hot");
            Arc::new(move |x, _, y| {
                let s = start::sigmoid(x, y);
                // IC50 = hot + Kd for homologous competition.
                let kd = (10f64.powf(s.mid_x) - hot).max(hot * 0.1);
                let bmax = (s.top - s.bottom) * (hot + kd) / hot;
                vec![bmax, kd.log10(), s.bottom]
            })
        }
        "association" => Arc::new(|x, _, y| {
            let t = start::x_at_fraction_of_max(x, y, 0.5).max(1e-12);
            vec![start::max_mean(x, y), std::f64::consts::LN_2 / t]
        }),
        "association-kon" => {
            let (l, koff) = (konst("radioligand"), konst("koff"));
            Arc::new(move |x, _, y| {
                let t = start::x_at_fraction_of_max(x, y, 0.5).max(1e-12);
                let kob = std::f64::consts::LN_2 / t;
                vec![start::max_mean(x, y), ((kob - koff) / l).max(kob / l * 0.1)]
            })
        }
        "dissociation" => Arc::new(|x, _, y| {
            let m = start::mean_by_x(x, y);
            let first = m.first().map(|p| p.1).unwrap_or(1.0);
            let last = m.last().map(|p| p.1).unwrap_or(0.0);
            let t = start::x_at_half_decay(x, y).max(1e-12);
            vec![first, last, std::f64::consts::LN_2 / t]
        }),
        "motulsky-mahan" => {
            let (k1, k2) = (konst("k1"), konst("k2"));
            Arc::new(move |x, _, y| vec![k1, k2, start::max_mean(x, y) * 1.5])
        }
        "gaddum-schild" => Arc::new(|x, cov, y| {
            let b = &cov[0];
            let mut levels: Vec<f64> = b.to_vec();
            levels.sort_by(f64::total_cmp);
            levels.dedup();
            let (x0, y0) = start::select(x, y, b, levels[0]);
            let s0 = start::sigmoid(&x0, &y0);
            // Schild regression of log(DR - 1) on log B over the shifted curves.
            let (mut sx, mut sy, mut sxx, mut sxy, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for &level in levels.iter().filter(|l| **l > 0.0) {
                let (xb, yb) = start::select(x, y, b, level);
                let mid = start::sigmoid(&xb, &yb).mid_x;
                let dr = 10f64.powf(mid - s0.mid_x);
                if dr > 1.0 {
                    let (u, v) = (level.log10(), (dr - 1.0).log10());
                    sx += u;
                    sy += v;
                    sxx += u * u;
                    sxy += u * v;
                    n += 1.0;
                }
            }
            let (slope, pa2) = if n >= 2.0 && sxx - sx * sx / n > 0.0 {
                let slope = (sxy - sx * sy / n) / (sxx - sx * sx / n);
                let icpt = (sy - slope * sx) / n;
                (slope, icpt / slope)
            } else if n >= 1.0 {
                (1.0, sy / n - sx / n)
            } else {
                (1.0, -s0.mid_x)
            };
            let slope = if slope.is_finite() && slope > 0.1 {
                slope
            } else {
                1.0
            };
            vec![s0.bottom, s0.top, s0.mid_x, s0.slope, pa2, slope]
        }),
        "operational-partial" => Arc::new(|x, cov, y| {
            let p = &cov[0];
            let (xf, yf) = start::select(x, y, p, 0.0);
            let (xp, yp) = start::select(x, y, p, 1.0);
            let sf = start::sigmoid(&xf, &yf);
            let sp = start::sigmoid(&xp, &yp);
            let frac = ((sp.top - sf.bottom) / (sf.top - sf.bottom)).clamp(0.05, 0.95);
            let tau = frac / (1.0 - frac);
            vec![
                sf.bottom,
                sf.top,
                sf.mid_x,
                sf.slope.abs().max(0.3),
                sp.mid_x + (1.0 + tau).log10(),
                tau.log10(),
            ]
        }),
        "operational-depletion" => Arc::new(|x, cov, y| {
            let d = &cov[0];
            let (xc, yc) = start::select(x, y, d, 0.0);
            let (xd, yd) = start::select(x, y, d, 1.0);
            let sc = start::sigmoid(&xc, &yc);
            let sd = start::sigmoid(&xd, &yd);
            let frac = ((sd.top - sc.bottom) / (sc.top - sc.bottom)).clamp(0.05, 0.95);
            let tau_d = frac / (1.0 - frac);
            let logka = sd.mid_x + (1.0 + tau_d).log10();
            let tau = 10f64.powf(logka - sc.mid_x) - 1.0;
            vec![
                sc.bottom,
                sc.top * 1.05,
                logka,
                tau.max(1.0).log10(),
                tau_d.log10(),
                sc.slope.abs().max(0.3),
            ]
        }),
        _ => Arc::new(|_, _, _| Vec::new()),
    }
}

fn natural_bounds(id: &str) -> Vec<(&'static str, f64, f64)> {
    let pos = 0.0;
    let inf = f64::INFINITY;
    match id {
        "5pl" => vec![("s", 1e-6, inf)],
        "biphasic" => vec![("frac", 0.0, 1.0)],
        "competition-two-sites" => vec![("frac", 0.0, 1.0)],
        "LL.2" | "LL.3" | "LL.3u" | "LL.4" | "LL.5" | "W1.2" | "W1.3" | "W1.4" | "W2.2"
        | "W2.3" | "W2.4" | "LN.2" | "LN.3" | "LN.3u" | "LN.4" | "BC.4" | "BC.5" | "CRS.4a"
        | "CRS.4b" | "CRS.4c" | "CRS.5a" | "CRS.5b" | "CRS.5c" | "baro5" => {
            vec![
                ("e", 1e-300, inf),
                ("f", if id == "LL.5" { 1e-6 } else { -inf }, inf),
            ]
        }
        "L.5" => vec![("f", 1e-6, inf)],
        "EXD.2" | "EXD.3" | "MM.2" | "MM.3" | "AR.2" | "AR.3" => vec![("e", 1e-300, inf)],
        "saturation-one-site" | "saturation-one-site-total" => vec![("kd", pos, inf)],
        "saturation-two-sites" => vec![("kd1", pos, inf), ("kd2", pos, inf)],
        "association" => vec![("kob", pos, inf)],
        "association-kon" => vec![("kon", pos, inf)],
        "dissociation" => vec![("koff", pos, inf)],
        "motulsky-mahan" => vec![("k3", pos, inf), ("k4", pos, inf)],
        _ => Vec::new(),
    }
}

/// Builds a catalogue model with the given constants (`--constant`).
///
/// ```
/// use ligand_fit::catalogue::build;
/// use ligand_fit::model::CurveModel;
/// let m = build("4pl", &[]).unwrap();
/// assert_eq!(m.params(), ["bottom", "top", "logec50", "hill"]);
/// let ki = build("competition-one-site-ki", &[("radioligand".into(), 1.0), ("kd".into(), 1.0)]).unwrap();
/// assert_eq!(ki.params(), ["bottom", "top", "logki"]);
/// let missing = build("competition-one-site-ki", &[]).err().unwrap();
/// assert!(missing.to_string().contains("radioligand"));
/// assert!(build("4PL", &[]).is_ok());
/// let typo = build("4pk", &[]).err().unwrap();
/// assert!(typo.to_string().contains("did you mean `4pl`"));
/// ```
pub fn build(id: &str, constants: &[(String, f64)]) -> Result<Arc<dyn CurveModel>, ModelError> {
    let Some(info) = info(id) else {
        let mut names: Vec<&str> = MODELS.iter().map(|m| m.id).collect();
        names.extend(MODELS.iter().flat_map(|m| m.aliases.iter().copied()));
        let lower = id.to_ascii_lowercase();
        let suggestion = ligand_expr::closest(&lower, names.iter().copied())
            .or_else(|| ligand_expr::closest(id, names.iter().copied()))
            .map(str::to_string);
        return Err(ModelError::UnknownModel {
            id: id.to_string(),
            suggestion,
        });
    };
    for (name, _) in constants {
        if !info.constants.iter().any(|c| c.name == name) {
            let known: Vec<&str> = info.constants.iter().map(|c| c.name).collect();
            return Err(ModelError::UnknownConstant {
                model: info.id.to_string(),
                name: name.clone(),
                known: if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
            });
        }
    }
    let mut values: Vec<(String, f64)> = Vec::new();
    for spec in info.constants {
        let v = constants
            .iter()
            .find(|(n, _)| n == spec.name)
            .map(|(_, v)| *v)
            .or(spec.default)
            .ok_or_else(|| ModelError::MissingConstant {
                model: info.id.to_string(),
                name: spec.name.to_string(),
                what: spec.description.to_string(),
            })?;
        if !v.is_finite() {
            return Err(ModelError::InvalidConstant {
                name: spec.name.into(),
                value: v,
                why: "must be a finite number".into(),
            });
        }
        if spec.name == "F" && !(v > 0.0 && v < 100.0) {
            return Err(ModelError::InvalidConstant {
                name: "F".into(),
                value: v,
                why: "must lie strictly between 0 and 100".into(),
            });
        }
        if matches!(spec.name, "kd" | "hot" | "k1" | "k2") && v <= 0.0 {
            return Err(ModelError::InvalidConstant {
                name: spec.name.into(),
                value: v,
                why: "must be positive".into(),
            });
        }
        values.push((spec.name.to_string(), v));
    }
    if info.id == "4pl" {
        // The hand-written twin of the formula: same parameters, starter and
        // derived EC50, several times faster (checked against the formula in tests).
        return Ok(Arc::new(crate::native::FourParameterLogistic::default()));
    }
    build_formula(info, values)
}

/// Builds the formula version of a catalogue model, even where a native
/// twin exists (tests compare the two).
pub fn build_formula_model(id: &str) -> Result<Arc<dyn CurveModel>, ModelError> {
    let info = info(id).ok_or_else(|| ModelError::UnknownModel {
        id: id.to_string(),
        suggestion: None,
    })?;
    let values = info
        .constants
        .iter()
        .map(|c| (c.name.to_string(), c.default.unwrap_or(1.0)))
        .collect();
    build_formula(info, values)
}

fn build_formula(
    info: &'static ModelInfo,
    values: Vec<(String, f64)>,
) -> Result<Arc<dyn CurveModel>, ModelError> {
    let formula = parse(info.formula).expect("catalogue formulas parse");
    let covariates: Vec<String> = info.covariates.iter().map(|s| s.to_string()).collect();
    let x_kind = if info.x == "log10" {
        XKind::Log10
    } else {
        XKind::Linear
    };
    let derived = info
        .derived
        .iter()
        .map(|(name, text)| DerivedDef {
            name: name.to_string(),
            expr: parse(text)
                .expect("catalogue derived formulas parse")
                .substitute_all(&|n| {
                    values
                        .iter()
                        .find(|(c, _)| c == n)
                        .map(|(_, v)| ligand_expr::Expr::Num(*v))
                }),
        })
        .collect();
    // `e` is Euler's number in the expression language, so drc's parameter
    // `e` is written `e_` in the formulas and shown as `e`.
    let internal: Vec<&str> = info
        .params
        .iter()
        .map(|p| if *p == "e" { "e_" } else { *p })
        .collect();
    let model = FormulaModel::from_expr(
        info.id.to_string(),
        formula,
        "x",
        x_kind,
        &covariates,
        &values,
        Some(&internal),
    )?
    .with_param_names(info.params)
    .with_derived(derived)
    .with_starter(starter(info.id, &values))
    .with_bounds(&natural_bounds(info.id));
    Ok(Arc::new(model))
}
