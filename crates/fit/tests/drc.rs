//! The drc (R package) dose-response fits reproduced with ligand's catalogue models.
//!
//! Data and reference values: `tests/data/drc/` (see its README). Two references:
//!
//! - **computed**: 36 fits made with drc 3.0-5 (R 4.2.2), every estimate and standard error to 10
//!   significant digits, and the residual sum of squares. The 29 least-squares fits are
//!   reproduced here; the 7 binomial (maximum-likelihood) fits are out of scope (ligand fits
//!   least squares).
//! - **published**: the example outputs printed on drc's reference pages (5 to 6 digits). The
//!   ones not already among the computed fits are reproduced (fixed and bounded parameters, the
//!   Brain-Cousens and Cedergreen-Ritz-Streibig hormesis models and the asymptotic regression,
//!   the last three written as user formulas).
//!
//! **Standard errors.** drc's standard errors are not the Wald (Gauss-Newton) ones that
//! `ligand fit` reports: drc inverts the observed Hessian of the sum of squares (`optim(...,
//! hessian = TRUE)`, scaled by `2 s^2`), which adds the curvature term `sum r_i d2f_i` to `2 J'J`.
//! The two differ in the second digit on ryegrass (b: 0.4584 Wald, 0.4651 drc). So the tests
//! compute observed-information standard errors (the Hessian by central differences of the exact
//! gradient `-2 J'r` from the model's own Jacobian) and compare drc's with them at drc's own
//! estimates (drc's Hessian is `optim`'s finite-difference one: 3 to 6 digits), and report the
//! agreement at ligand's estimates and that of the Wald ones.
//!
//! **Estimates.** drc stops its optimiser at a relative change of the sum of squares of 1e-7
//! (`drmc(relTol = 1e-7)`), so its printed 10 digits are not all converged: on ryegrass LL.4 its
//! `c` differs from the least-squares optimum in the sixth digit, and the sum of squares at drc's
//! printed estimates is above ligand's. So beside the number of matching digits (log relative
//! error) the tests assert (see [`compare`]) that ligand's estimates are a stationary point, that
//! one Newton step from drc's estimates lands on ligand's (the difference is drc's convergence),
//! that the two agree within 0.05 standard errors anyway, and that ligand's sum of squares is not
//! above drc's. The published Cedergreen-Ritz-Streibig examples are not least-squares optima:
//! there the tests assert that ligand's sum of squares is lower than at drc's estimates.

use std::path::PathBuf;
use std::sync::Arc;

use ligand_fit::catalogue::build;
use ligand_fit::curve::{fit_curve, CurveData, FitReport, FitSpec, FitStatus, FitWorkspace};
use ligand_fit::global::fit_global;
use ligand_fit::lm::LmOptions;
use ligand_fit::model::{CurveModel, FormulaModel, XKind};

use crate::nist::lre;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/drc")
}

/// A minimal CSV reader for R's `write.csv` output: quoted fields (with `""` escapes) may hold
/// commas.
fn read_csv(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(data_dir().join(name)).unwrap();
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut fields = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        fields.push(cur);
        rows.push(fields);
    }
    let header = rows.remove(0);
    (header, rows)
}

/// What the fit is compared with.
#[derive(Clone, Copy)]
enum Reference {
    /// `drc_reference_estimates.csv` and `drc_reference_fit_summary.csv`, by key.
    Computed(&'static str),
    /// `drc_published_doc_estimates.csv`, by documentation page and object.
    Published(&'static str, &'static str),
}

#[derive(Clone, Copy)]
enum Model {
    /// A catalogue model by id.
    Catalogue(&'static str),
    /// A user formula in `x` (drc's `e` written `e_`, shown as `e`) with constants.
    Formula(&'static str, &'static [(&'static str, f64)]),
}

/// How the initial values are chosen.
#[derive(Clone, Copy)]
enum Start {
    /// The catalogue model's self-starter.
    SelfStarter,
    /// The LL.4 self-starter's (b, c, d, e) and 0 for the hormesis parameter `f`.
    Ll4AndF0,
    /// c: the smallest, d: the largest response, e: the middle dose (asymptotic regression).
    Asymptotic,
    /// The LL.4 self-starter with both slopes b1 and b2 set to its b (where baro5 is LL.4).
    Baro5,
    /// drc's own printed estimates (for models with several local minima).
    Drc,
}

#[derive(Clone, Copy)]
struct Case {
    reference: Reference,
    dataset: &'static str,
    x: &'static str,
    y: &'static str,
    /// Column that identifies the curves (drc's `curveid`).
    curve: Option<&'static str>,
    /// A curve level holding only control (dose 0) rows: they join the first curve (drc counts
    /// them once; with a shared lower limit they determine it whatever curve holds them).
    control: Option<&'static str>,
    model: Model,
    fixed: &'static [(&'static str, f64)],
    lower: &'static [(&'static str, f64)],
    /// Parameters common to all curves (drc's `pmodels` with `~1`).
    shared: &'static [&'static str],
    start: Start,
    /// Whether drc's printed estimates are at a least-squares optimum (false for the published
    /// hormesis examples, whose sums of squares ligand lowers).
    drc_converged: bool,
}

const fn case(reference: Reference, dataset: &'static str, model: Model) -> Case {
    Case {
        reference,
        dataset,
        x: "",
        y: "",
        curve: None,
        control: None,
        model,
        fixed: &[],
        lower: &[],
        shared: &[],
        start: Start::SelfStarter,
        drc_converged: true,
    }
}

/// Every least-squares fit of the computed reference.
fn computed_cases() -> Vec<Case> {
    use Model::Catalogue as C;
    use Reference::Computed as R;
    let ryegrass = |key, id| Case {
        x: "conc",
        y: "rootl",
        ..case(R(key), "ryegrass", C(id))
    };
    vec![
        ryegrass("ryegrass_LL4", "LL.4"),
        ryegrass("ryegrass_LL3", "LL.3"),
        ryegrass("ryegrass_LL5", "LL.5"),
        ryegrass("ryegrass_W14", "W1.4"),
        ryegrass("ryegrass_W24", "W2.4"),
        ryegrass("ryegrass_L4", "L.4"),
        ryegrass("ryegrass_LN4", "LN.4"),
        ryegrass("ryegrass_EXD3", "EXD.3"),
        Case {
            x: "Dose",
            y: "DryMatter",
            curve: Some("Herbicide"),
            ..case(R("S.alba_LL4_separate"), "S.alba", C("LL.4"))
        },
        Case {
            x: "Dose",
            y: "DryMatter",
            curve: Some("Herbicide"),
            shared: &["c", "d"],
            ..case(R("S.alba_LL4_shared_cd"), "S.alba", C("LL.4"))
        },
        Case {
            x: "DOSE",
            y: "SLOPE",
            curve: Some("CURVE"),
            ..case(R("spinach_LL4"), "spinach", C("LL.4"))
        },
        Case {
            x: "conc",
            y: "weight",
            ..case(R("lettuce_LL3"), "lettuce", C("LL.3"))
        },
        Case {
            x: "conc",
            y: "weight",
            ..case(R("lettuce_BC4"), "lettuce", C("BC.4"))
        },
        Case {
            x: "conc",
            y: "vol",
            ..case(R("algae_LL3"), "algae", C("LL.3"))
        },
        Case {
            x: "dose",
            y: "rootl",
            ..case(R("secalonic_LL4"), "secalonic", C("LL.4"))
        },
        Case {
            x: "dose",
            y: "rootl",
            ..case(R("secalonic_LL3"), "secalonic", C("LL.3"))
        },
        Case {
            x: "dose",
            y: "rgr",
            ..case(R("terbuthylazin_LL4"), "terbuthylazin", C("LL.4"))
        },
        Case {
            x: "dose",
            y: "rgr",
            ..case(R("terbuthylazin_W14"), "terbuthylazin", C("W1.4"))
        },
        Case {
            x: "conc",
            y: "weight",
            ..case(R("lepidium_LL4"), "lepidium", C("LL.4"))
        },
        Case {
            x: "conc",
            y: "weight",
            ..case(R("nasturtium_LL3"), "nasturtium", C("LL.3"))
        },
        // LN.3 is LN.4 with the lower limit c fixed at 0.
        Case {
            x: "conc",
            y: "dryweight",
            fixed: &[("c", 0.0)],
            ..case(R("P.promelas_LN3"), "P.promelas", C("LN.4"))
        },
        Case {
            x: "conc",
            y: "dryweight",
            fixed: &[("c", 0.0)],
            ..case(R("M.bahia_LN3"), "M.bahia", C("LN.4"))
        },
        Case {
            x: "conc",
            y: "count",
            fixed: &[("c", 0.0)],
            ..case(R("S.capricornutum_LN3"), "S.capricornutum", C("LN.4"))
        },
        Case {
            x: "conc",
            y: "count",
            ..case(R("S.capricornutum_LL4"), "S.capricornutum", C("LL.4"))
        },
        Case {
            x: "conc",
            y: "effect",
            curve: Some("exper"),
            ..case(R("vinclozolin_LL3"), "vinclozolin", C("LL.3"))
        },
        // pmodels = data.frame(treatment, treatment, 1, treatment): d common.
        Case {
            x: "dose",
            y: "drymatter",
            curve: Some("treatment"),
            shared: &["d"],
            ..case(R("G.aparine_LL4_pm"), "G.aparine", C("LL.4"))
        },
        // EXD.2 is EXD.3 with c fixed at 0; rows with a missing weight are dropped (na.omit).
        Case {
            x: "conc",
            y: "weight",
            fixed: &[("c", 0.0)],
            ..case(R("O.mykiss_EXD2"), "O.mykiss", C("EXD.3"))
        },
        // baro5 is not in the catalogue: a user formula.
        Case {
            x: "pressure",
            y: "rate",
            start: Start::Baro5,
            ..case(
                R("heartrate_baro5"),
                "heartrate",
                Model::Formula(BARO5, &[]),
            )
        },
        // pmodels = list(~1, ~factor(product), ~factor(product)): c common; the control row
        // (dose 0, response c) belongs to no product.
        Case {
            x: "dose",
            y: "gain",
            curve: Some("product"),
            control: Some("control"),
            shared: &["c"],
            ..case(R("methionine_MM3"), "methionine", C("MM.3"))
        },
    ]
}

/// drc's five-parameter Brain-Cousens model (BC.5), as a user formula.
const BC5: &str = "piecewise(c + (d - c + f * x) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, d)";
/// drc's Cedergreen-Ritz-Streibig hormesis model (CRS.5, alpha a constant), as a user formula.
const CRS: &str =
    "piecewise(c + (d - c + f * exp(-1 / x^alpha)) / (1 + exp(b * (ln(x) - ln(e_)))), x > 0, d)";
/// drc's baro5 (asymmetric log-logistic with two slopes joined by a logistic weight
/// `f = 1 / (1 + exp(2 b1 b2 / |b1 + b2| (ln x - ln e)))`, Ricketts & Head 1999), as a user
/// formula.
const BARO5: &str = "c + (d - c) / (1 + exp(b1 * (ln(x) - ln(e_))) / (1 + exp(2 * b1 * b2 / abs(b1 + b2) * (ln(x) - ln(e_)))) + (1 - 1 / (1 + exp(2 * b1 * b2 / abs(b1 + b2) * (ln(x) - ln(e_))))) * exp(b2 * (ln(x) - ln(e_))))";
/// drc's shifted asymptotic regression (AR.3).
const AR3: &str = "c + (d - c) * (1 - exp(-x / e_))";

/// The published fits that the computed reference does not repeat.
fn published_cases() -> Vec<Case> {
    use Model::{Catalogue as C, Formula as F};
    use Reference::Published as P;
    let ryegrass = |page, object, model| Case {
        x: "conc",
        y: "rootl",
        ..case(P(page, object), "ryegrass", model)
    };
    let lettuce = |object, alpha: &'static [(&'static str, f64)], fix_c: bool, start| Case {
        x: "conc",
        y: "weight",
        fixed: if fix_c { &[("c", 0.0)] } else { &[] },
        start,
        drc_converged: false,
        ..case(
            P(if fix_c { "CRS.4a" } else { "CRS.5a" }, object),
            "lettuce",
            F(CRS, alpha),
        )
    };
    vec![
        // W1.3 = W1.4 with c fixed at 0.
        Case {
            fixed: &[("c", 0.0)],
            ..ryegrass("W3", "ryegrass.m1", C("W1.4"))
        },
        Case {
            fixed: &[("b", 1.0)],
            ..ryegrass("weibull1", "ryegrass.m3", C("W1.4"))
        },
        Case {
            lower: &[("b", 3.0)],
            ..ryegrass("weibull1", "ryegrass.m4", C("W1.4"))
        },
        Case {
            lower: &[("b", 3.0)],
            start: Start::Ll4AndF0,
            ..ryegrass("BC", "ryegrass.bcm1", F(BC5, &[]))
        },
        Case {
            lower: &[("f", 0.0)],
            start: Start::Ll4AndF0,
            ..ryegrass("BC", "ryegrass.bcm2", F(BC5, &[]))
        },
        lettuce("lettuce.crsm1", &[("alpha", 1.0)], true, Start::Ll4AndF0),
        lettuce("lettuce.crsm2", &[("alpha", 0.5)], true, Start::Drc),
        lettuce("lettuce.crsm3", &[("alpha", 0.25)], true, Start::Ll4AndF0),
        lettuce("lettuce.m1", &[("alpha", 1.0)], false, Start::Ll4AndF0),
        lettuce("lettuce.m2", &[("alpha", 0.5)], false, Start::Drc),
        lettuce("lettuce.m3", &[("alpha", 0.25)], false, Start::Ll4AndF0),
        Case {
            x: "dose",
            y: "gain",
            curve: Some("product"),
            control: Some("control"),
            shared: &["c"],
            start: Start::Asymptotic,
            ..case(P("AR", "met.as.m1"), "methionine", F(AR3, &[]))
        },
    ]
}

/// One curve's data and its level name.
struct Curves {
    levels: Vec<String>,
    data: Vec<CurveData>,
}

fn load_curves(c: &Case) -> Curves {
    let (header, rows) = read_csv(&format!("{}.csv", c.dataset));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (ix, iy) = (col(c.x), col(c.y));
    let ic = c.curve.map(col);
    let mut levels: Vec<String> = Vec::new();
    let mut data: Vec<CurveData> = Vec::new();
    let mut controls: Vec<(f64, f64, usize)> = Vec::new();
    for (k, row) in rows.iter().enumerate() {
        let (Ok(x), Ok(y)) = (row[ix].parse::<f64>(), row[iy].parse::<f64>()) else {
            continue; // NA: drc's na.omit
        };
        let level = ic.map(|i| row[i].clone()).unwrap_or_default();
        if c.control == Some(level.as_str()) {
            controls.push((x, y, k + 2));
            continue;
        }
        let g = match levels.iter().position(|l| *l == level) {
            Some(g) => g,
            None => {
                levels.push(level);
                data.push(CurveData::default());
                levels.len() - 1
            }
        };
        data[g].x.push(x);
        data[g].y.push(y);
        data[g].lines.push(k + 2);
    }
    for (x, y, line) in controls {
        data[0].x.push(x);
        data[0].y.push(y);
        data[0].lines.push(line);
    }
    Curves { levels, data }
}

fn build_model(m: Model) -> Arc<dyn CurveModel> {
    match m {
        Model::Catalogue(id) => build(id, &[]).unwrap(),
        Model::Formula(text, constants) => {
            let constants: Vec<(String, f64)> =
                constants.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            let model = FormulaModel::from_text(text, "x", XKind::Linear, &[], &constants).unwrap();
            let shown: Vec<&str> = model
                .params()
                .iter()
                .map(|p| if p == "e_" { "e" } else { p.as_str() })
                .collect();
            let shown: Vec<String> = shown.iter().map(|s| s.to_string()).collect();
            let refs: Vec<&str> = shown.iter().map(|s| s.as_str()).collect();
            Arc::new(model.clone().with_param_names(&refs))
        }
    }
}

fn initial_values(
    c: &Case,
    model: &dyn CurveModel,
    curves: &Curves,
    drc: &[RefValue],
) -> Vec<(String, f64)> {
    let first = &curves.data[0];
    let named = |pairs: &[(&str, f64)]| -> Vec<(String, f64)> {
        pairs
            .iter()
            .filter(|(n, _)| model.params().iter().any(|p| p == n))
            .map(|(n, v)| (n.to_string(), *v))
            .collect()
    };
    match c.start {
        Start::SelfStarter => Vec::new(),
        Start::Drc => drc
            .iter()
            .map(|v| {
                let name = v.name.split(':').next().unwrap().to_string();
                (name, v.estimate.parse().unwrap())
            })
            .collect(),
        Start::Ll4AndF0 => {
            let s = build("LL.4", &[]).unwrap().initial(&first.x, &[], &first.y);
            named(&[
                ("b", s[0]),
                ("c", s[1]),
                ("d", s[2]),
                ("e", s[3]),
                ("f", 0.0),
            ])
        }
        Start::Baro5 => {
            let s = build("LL.4", &[]).unwrap().initial(&first.x, &[], &first.y);
            named(&[
                ("b1", s[0]),
                ("b2", s[0]),
                ("c", s[1]),
                ("d", s[2]),
                ("e", s[3]),
            ])
        }
        Start::Asymptotic => {
            let lo = first.y.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = first.y.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let mut xs = first.x.clone();
            xs.sort_by(f64::total_cmp);
            named(&[("c", lo), ("d", hi), ("e", xs[xs.len() / 2])])
        }
    }
}

/// The outcome of one case: ligand's values under drc's names.
struct Fitted {
    names: Vec<String>,
    estimates: Vec<f64>,
    /// ligand's Wald standard errors from the reports.
    wald_se: Vec<Option<f64>>,
    /// Whether the estimate ended on its (lower) bound.
    at_bound: Vec<bool>,
    rss: f64,
    df: usize,
    reports: Vec<FitReport>,
    /// The joint least-squares problem, to evaluate drc's estimates and Hessians.
    joint: Joint,
}

/// Fits a case through `fit_curve` (one curve) or `fit_global` (several).
fn fit_case(c: &Case, drc: &[RefValue]) -> Fitted {
    let curves = load_curves(c);
    let model = build_model(c.model);
    let params: Vec<String> = model.params().to_vec();
    let spec = FitSpec {
        start: initial_values(c, model.as_ref(), &curves, drc),
        fixed: c.fixed.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
        bounds: c
            .lower
            .iter()
            .map(|(n, lo)| (n.to_string(), *lo, f64::INFINITY))
            .collect(),
        lm: LmOptions {
            max_fev: Some(20_000),
            ..LmOptions::default().with_tolerance(1e-13)
        },
        ..FitSpec::default()
    };
    let resolved = spec.resolve(model.as_ref()).unwrap();
    let shared: Vec<String> = c.shared.iter().map(|s| s.to_string()).collect();
    let reports = if curves.data.len() == 1 {
        vec![fit_curve(
            model.as_ref(),
            &curves.data[0],
            &resolved,
            &mut FitWorkspace::new(),
        )]
    } else {
        fit_global(model.as_ref(), &curves.data, &shared, &resolved)
    };
    // Global parameter slots under drc's names.
    let n_curves = curves.data.len();
    let mut names: Vec<String> = Vec::new();
    let mut slot = vec![vec![None; params.len()]; n_curves];
    let mut lower = Vec::new();
    for g in 0..n_curves {
        for (j, p) in params.iter().enumerate() {
            if resolved.fixed[j].is_some() {
                continue;
            }
            let name = if n_curves == 1 || c.shared.contains(&p.as_str()) {
                format!("{p}:(Intercept)")
            } else {
                format!("{p}:{}", curves.levels[g])
            };
            let k = match names.iter().position(|n| *n == name) {
                Some(k) => k,
                None => {
                    names.push(name);
                    lower.push(resolved.lower[j]);
                    names.len() - 1
                }
            };
            slot[g][j] = Some(k);
        }
    }
    let mut estimates = vec![f64::NAN; names.len()];
    let mut wald_se = vec![None; names.len()];
    for g in 0..n_curves {
        for (j, p) in params.iter().enumerate() {
            if let Some(k) = slot[g][j] {
                let r = reports[g].param(p).unwrap();
                estimates[k] = r.estimate;
                wald_se[k] = r.std_error;
            }
        }
    }
    let at_bound = estimates
        .iter()
        .zip(&lower)
        .map(|(p, lo)| p == lo)
        .collect();
    let base: Vec<f64> = (0..params.len())
        .map(|j| resolved.fixed[j].unwrap_or(0.0))
        .collect();
    let n_obs: usize = curves.data.iter().map(|d| d.x.len()).sum();
    let df = n_obs - names.len();
    let joint = Joint {
        model: model.clone(),
        curves: curves.data,
        slot,
        base,
        df,
    };
    let rss = joint.rss(&estimates);
    Fitted {
        names,
        estimates,
        wald_se,
        at_bound,
        rss,
        df,
        reports,
        joint,
    }
}

/// The stacked least-squares problem of all curves, for the sum of squares and its Hessian.
struct Joint {
    model: Arc<dyn CurveModel>,
    curves: Vec<CurveData>,
    slot: Vec<Vec<Option<usize>>>,
    base: Vec<f64>,
    df: usize,
}

impl Joint {
    fn full(&self, g: usize, p: &[f64]) -> Vec<f64> {
        let mut full = self.base.clone();
        for (j, s) in self.slot[g].iter().enumerate() {
            if let Some(k) = s {
                full[j] = p[*k];
            }
        }
        full
    }

    fn rss(&self, p: &[f64]) -> f64 {
        let mut rss = 0.0;
        for (g, d) in self.curves.iter().enumerate() {
            let mut f = vec![0.0; d.x.len()];
            self.model
                .eval(&d.x, &[], &self.full(g, p), &mut f, None, &mut Vec::new());
            rss +=
                d.y.iter()
                    .zip(&f)
                    .map(|(y, f)| (y - f).powi(2))
                    .sum::<f64>();
        }
        rss
    }

    /// The exact gradient of the sum of squares, `-2 J'r`.
    fn gradient(&self, p: &[f64]) -> Vec<f64> {
        let mut grad = vec![0.0; p.len()];
        for (g, d) in self.curves.iter().enumerate() {
            let n = d.x.len();
            let np = self.base.len();
            let mut f = vec![0.0; n];
            let mut jac = vec![0.0; n * np];
            self.model.eval(
                &d.x,
                &[],
                &self.full(g, p),
                &mut f,
                Some(&mut jac),
                &mut Vec::new(),
            );
            for (j, s) in self.slot[g].iter().enumerate() {
                if let Some(k) = s {
                    for i in 0..n {
                        grad[*k] -= 2.0 * (d.y[i] - f[i]) * jac[i + j * n];
                    }
                }
            }
        }
        grad
    }

    /// The Hessian of the sum of squares by central differences of the exact gradient.
    fn hessian(&self, p: &[f64]) -> Vec<Vec<f64>> {
        let n = p.len();
        let mut h = vec![vec![0.0; n]; n];
        for k in 0..n {
            let step = 1e-5 * p[k].abs() + 1e-9;
            let mut up = p.to_vec();
            let mut down = p.to_vec();
            up[k] += step;
            down[k] -= step;
            let (gu, gd) = (self.gradient(&up), self.gradient(&down));
            for i in 0..n {
                h[i][k] = (gu[i] - gd[i]) / (2.0 * step);
            }
        }
        for i in 0..n {
            for k in 0..i {
                let m = 0.5 * (h[i][k] + h[k][i]);
                h[i][k] = m;
                h[k][i] = m;
            }
        }
        h
    }

    /// Standard errors from the observed information at `p`, drc's definition:
    /// `sqrt(diag((H / (2 s^2))^-1))` with `s^2 = RSS(p) / df`.
    fn observed_se(&self, p: &[f64]) -> Vec<f64> {
        let s2 = self.rss(p) / self.df as f64;
        let h = self.hessian(p);
        let a: Vec<Vec<f64>> = h
            .iter()
            .map(|row| row.iter().map(|v| v / (2.0 * s2)).collect())
            .collect();
        let inv = invert(a);
        (0..p.len()).map(|i| inv[i][i].sqrt()).collect()
    }

    /// The Newton step `-H^-1 g` from `p` over the parameters marked free (the others stay).
    fn newton_step(&self, p: &[f64], free: &[bool]) -> Vec<f64> {
        let idx: Vec<usize> = (0..p.len()).filter(|&k| free[k]).collect();
        let h = self.hessian(p);
        let g = self.gradient(p);
        let sub: Vec<Vec<f64>> = idx
            .iter()
            .map(|&i| idx.iter().map(|&k| h[i][k]).collect())
            .collect();
        let inv = invert(sub);
        let mut step = vec![0.0; p.len()];
        for (a, &i) in idx.iter().enumerate() {
            step[i] = -(0..idx.len()).map(|b| inv[a][b] * g[idx[b]]).sum::<f64>();
        }
        step
    }
}

/// Gauss-Jordan inversion with partial pivoting (small matrices).
fn invert(mut a: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap();
        a.swap(col, piv);
        inv.swap(col, piv);
        let d = a[col][col];
        for j in 0..n {
            a[col][j] /= d;
            inv[col][j] /= d;
        }
        for i in 0..n {
            if i != col {
                let m = a[i][col];
                if m != 0.0 {
                    for j in 0..n {
                        a[i][j] -= m * a[col][j];
                        inv[i][j] -= m * inv[col][j];
                    }
                }
            }
        }
    }
    inv
}

/// One reference value: name, value as printed, standard error as printed.
struct RefValue {
    name: String,
    estimate: String,
    se: Option<String>,
}

fn computed_reference(key: &str) -> (Vec<RefValue>, f64) {
    let (_, rows) = read_csv("drc_reference_estimates.csv");
    let values: Vec<RefValue> = rows
        .iter()
        .filter(|r| r[0] == key)
        .map(|r| RefValue {
            name: r[3].clone(),
            estimate: r[4].clone(),
            se: Some(r[5].clone()),
        })
        .collect();
    let (header, rows) = read_csv("drc_reference_fit_summary.csv");
    let irss = header.iter().position(|h| h == "rss").unwrap();
    let rss = rows.iter().find(|r| r[0] == key).unwrap()[irss]
        .parse()
        .unwrap();
    assert!(!values.is_empty(), "{key}");
    (values, rss)
}

/// Published values of one object; the residual standard error (with its df) separately.
fn published_reference(page: &str, object: &str) -> (Vec<RefValue>, Option<(String, usize)>) {
    let (_, rows) = read_csv("drc_published_doc_estimates.csv");
    let mut values = Vec::new();
    let mut rse = None;
    for r in rows.iter().filter(|r| r[0] == page && r[1] == object) {
        if let Some(df) = r[4].strip_prefix("residual_standard_error(df=") {
            rse = Some((r[5].clone(), df.trim_end_matches(')').parse().unwrap()));
        } else {
            values.push(RefValue {
                name: r[4].clone(),
                estimate: r[5].clone(),
                se: Some(r[6].clone()).filter(|s| !s.is_empty()),
            });
        }
    }
    assert!(!values.is_empty(), "{page} {object}");
    (values, rse)
}

/// Half a unit in the last printed digit of `s` (`1.4536e+03` -> 0.05, `0.12945` -> 5e-6).
fn half_unit_printed(s: &str) -> f64 {
    let s = s.trim().trim_start_matches('-');
    let (mantissa, exp) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap()),
        None => (s, 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    0.5 * 10f64.powi(exp - decimals)
}

/// One line of the summary table.
struct Line {
    what: String,
    model: String,
    n_params: usize,
    /// Fewest digits in agreement over the estimates (LRE).
    min_digits: f64,
    /// Largest |ligand - drc| in units of the standard error.
    max_se_units: f64,
    /// Largest |ligand - (drc + Newton step from drc's estimates)| in standard errors.
    newton_gap: f64,
    /// Fewest digits in agreement between drc's standard errors and the observed-information
    /// ones computed at drc's estimates.
    se_digits_at_drc: f64,
    /// The same at ligand's estimates.
    se_digits: f64,
    /// Largest relative difference between ligand's Wald standard errors and drc's.
    wald_rel: f64,
    /// (RSS at drc's printed estimates - ligand's RSS) / ligand's RSS.
    rss_excess: f64,
}

/// Compares ligand's fit with drc's values.
///
/// Asserts: ligand's estimates are a stationary point (Newton step below 1e-4 standard errors);
/// drc's printed estimates, moved by one Newton step, land on ligand's (within 2e-3 standard
/// errors), so any difference is drc's convergence; they agree within 0.05 standard errors
/// anyway; ligand's sum of squares is not above the one at drc's estimates; drc's standard errors
/// equal the observed-information ones at drc's estimates to 4 digits (3 where drc prints fewer).
fn compare(
    what: &str,
    model: String,
    fitted: &Fitted,
    values: &[RefValue],
    printed: bool,
    drc_converged: bool,
    failures: &mut Vec<String>,
) -> Line {
    let mut fail = |m: String| failures.push(format!("{what}: {m}"));
    for r in &fitted.reports {
        if drc_converged && !matches!(r.status, FitStatus::Converged | FitStatus::Ambiguous) {
            fail(format!("{:?} {:?}", r.status, r.messages));
        }
    }
    let names: Vec<&String> = values.iter().map(|v| &v.name).collect();
    let mut sorted_ours = fitted.names.clone();
    sorted_ours.sort();
    let mut sorted_drc: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    sorted_drc.sort();
    assert_eq!(sorted_ours, sorted_drc, "{what}: parameter names");
    let n = fitted.names.len();
    // drc's values in ligand's order.
    let find = |k: usize| values.iter().find(|v| v.name == fitted.names[k]).unwrap();
    let p_drc: Vec<f64> = (0..n).map(|k| find(k).estimate.parse().unwrap()).collect();
    let se_drc: Vec<Option<f64>> = (0..n)
        .map(|k| find(k).se.as_ref().map(|s| s.parse().unwrap()))
        .collect();
    let p = &fitted.estimates;
    let joint = &fitted.joint;
    let se = joint.observed_se(p);
    let se_at_drc = joint.observed_se(&p_drc);
    let free: Vec<bool> = fitted.at_bound.iter().map(|b| !b).collect();
    let own_step = joint.newton_step(p, &free);
    let drc_step = joint.newton_step(&p_drc, &free);
    let mut line = Line {
        what: what.to_string(),
        model,
        n_params: n,
        min_digits: f64::INFINITY,
        max_se_units: 0.0,
        newton_gap: 0.0,
        se_digits_at_drc: f64::INFINITY,
        se_digits: f64::INFINITY,
        wald_rel: 0.0,
        rss_excess: (joint.rss(&p_drc) - fitted.rss) / fitted.rss,
    };
    for k in 0..n {
        let name = &fitted.names[k];
        line.min_digits = nan_min(line.min_digits, lre(p[k], p_drc[k]));
        let units = (p[k] - p_drc[k]).abs() / se[k];
        line.max_se_units = nan_max(line.max_se_units, units);
        let gap = (p[k] - (p_drc[k] + drc_step[k])).abs() / se[k];
        line.newton_gap = nan_max(line.newton_gap, gap);
        if drc_converged && !within(own_step[k].abs() / se[k], 1e-4) {
            fail(format!(
                "{name}: not stationary (Newton step {:e} SE)",
                own_step[k] / se[k]
            ));
        }
        let within_print =
            printed && (p[k] - p_drc[k]).abs() <= 1.01 * half_unit_printed(&find(k).estimate);
        if drc_converged && !(within(gap, 2e-3) || within_print) {
            fail(format!(
                "{name}: ligand {} drc {} + Newton step {} ({gap:.1e} SE apart)",
                p[k], p_drc[k], drc_step[k]
            ));
        }
        if drc_converged && !within(units, 0.05) {
            fail(format!(
                "{name}: ligand {} drc {} ({units:.2e} SE)",
                p[k], p_drc[k]
            ));
        }
        if let Some(s) = se_drc[k] {
            let d_at = lre(se_at_drc[k], s);
            line.se_digits_at_drc = line.se_digits_at_drc.min(d_at);
            line.se_digits = line.se_digits.min(lre(se[k], s));
            // drc's Hessian is optim's finite-difference one: 3 to 6 digits.
            let need = if drc_converged { 2.5 } else { 2.0 };
            if !within(need, d_at) {
                fail(format!(
                    "{name} SE: drc {s}, observed information at drc's estimates {} (at ligand's {})",
                    se_at_drc[k], se[k]
                ));
            }
            if let Some(w) = fitted.wald_se[k] {
                line.wald_rel = line.wald_rel.max((w - s).abs() / s);
            }
        }
    }
    if line.rss_excess < -1e-12 {
        fail(format!(
            "drc's estimates give a lower RSS ({:e})",
            line.rss_excess
        ));
    }
    if line.se_digits_at_drc.is_infinite() {
        line.se_digits_at_drc = f64::NAN;
        line.se_digits = f64::NAN;
    }
    line
}

/// `value <= limit`, false when either is NaN (a NaN never passes a check).
fn within(value: f64, limit: f64) -> bool {
    value <= limit
}

/// The larger of two numbers, NaN if either is.
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// The smaller of two numbers, NaN if either is.
fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn model_name(m: Model) -> String {
    match m {
        Model::Catalogue(id) => id.to_string(),
        Model::Formula(f, k) => {
            let short = if f == BARO5 {
                "baro5 formula"
            } else if f == BC5 {
                "BC.5 formula"
            } else if f == AR3 {
                "AR.3 formula"
            } else {
                "CRS formula"
            };
            match k.first() {
                Some((n, v)) => format!("{short} ({n} = {v})"),
                None => short.to_string(),
            }
        }
    }
}

fn describe(c: &Case) -> String {
    let mut s = model_name(c.model);
    for (n, v) in c.fixed {
        s += &format!(", {n} = {v} fixed");
    }
    for (n, v) in c.lower {
        s += &format!(", {n} >= {v}");
    }
    if !c.shared.is_empty() {
        s += &format!(", {} shared", c.shared.join(", "));
    }
    if matches!(c.start, Start::Drc) {
        s += ", from drc's estimates";
    }
    s
}

fn render(lines: &[Line]) -> String {
    let mut s = String::from(
        "| fit | model | params | min digits | max \\|ligand - drc\\| / SE | max \\|ligand - (drc + Newton step)\\| / SE | SE digits (at drc's estimates) | SE digits (at ligand's) | Wald SE vs drc (max rel.) | RSS(drc) / RSS(ligand) - 1 |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for l in lines {
        s += &format!(
            "| {} | {} | {} | {:.1} | {:.1e} | {:.1e} | {:.1} | {:.1} | {:.1e} | {:.1e} |\n",
            l.what,
            l.model,
            l.n_params,
            l.min_digits,
            l.max_se_units,
            l.newton_gap,
            l.se_digits_at_drc,
            l.se_digits,
            l.wald_rel,
            l.rss_excess
        );
    }
    s
}

/// The 29 least-squares fits of the computed reference (see [`compare`]); ligand's sum of
/// squares is never above drc's printed one.
#[test]
fn drc_computed_reference() {
    let mut failures = Vec::new();
    let mut lines = Vec::new();
    let cases = computed_cases();
    assert_eq!(cases.len(), 29);
    for c in &cases {
        let Reference::Computed(key) = c.reference else {
            unreachable!()
        };
        let (values, rss_drc) = computed_reference(key);
        let fitted = fit_case(c, &values);
        if fitted.rss > rss_drc * (1.0 + 1e-9) {
            failures.push(format!("{key}: RSS {} above drc's {rss_drc}", fitted.rss));
        }
        lines.push(compare(
            key,
            describe(c),
            &fitted,
            &values,
            false,
            true,
            &mut failures,
        ));
    }
    let t = render(&lines);
    println!("{t}");
    assert!(failures.is_empty(), "{failures:#?}\n{t}");
}

/// The published fits that the computed reference lacks (see [`compare`]), with the residual
/// standard errors to the printed digits.
#[test]
fn drc_published_examples() {
    let mut failures = Vec::new();
    let mut lines = Vec::new();
    for c in &published_cases() {
        let Reference::Published(page, object) = c.reference else {
            unreachable!()
        };
        let what = format!("{page}: {object}");
        let (values, rse) = published_reference(page, object);
        let fitted = fit_case(c, &values);
        if let Some((printed, df)) = rse {
            assert_eq!(df, fitted.df, "{what}: degrees of freedom");
            let ours = (fitted.rss / df as f64).sqrt();
            let at_drc = (fitted.joint.rss(
                &fitted
                    .names
                    .iter()
                    .map(|n| {
                        values
                            .iter()
                            .find(|v| v.name == *n)
                            .unwrap()
                            .estimate
                            .parse()
                            .unwrap()
                    })
                    .collect::<Vec<f64>>(),
            ) / df as f64)
                .sqrt();
            let drc: f64 = printed.parse().unwrap();
            // drc prints the residual SE of its own (unrounded) estimates: it must match the
            // one at ligand's optimum or, where drc stopped short of it, at drc's printed ones.
            let tol = 1.01 * half_unit_printed(&printed);
            if (at_drc - drc).abs() > tol && (ours - drc).abs() > tol {
                failures.push(format!("{what}: residual SE at drc's estimates {at_drc} vs drc {printed} (ligand {ours})"));
            }
        }
        lines.push(compare(
            &what,
            describe(c),
            &fitted,
            &values,
            true,
            c.drc_converged,
            &mut failures,
        ));
    }
    let t = render(&lines);
    println!("{t}");
    assert!(failures.is_empty(), "{failures:#?}\n{t}");
}
