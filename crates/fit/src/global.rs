//! Global fits: several curves fitted together with some parameters shared.
//!
//! Prism calls this sharing a parameter across data sets; drc does it with
//! `pmodels`. The joint problem stacks the residuals of every curve; its
//! parameter vector holds each shared parameter once and every other free
//! parameter once per curve. Standard errors come from the joint Jacobian,
//! so a shared parameter's uncertainty reflects all the curves, and the
//! extra-sum-of-squares F test against separate fits tells whether sharing is
//! justified ([`crate::stats::f_test_nested`]).

use crate::curve::{
    CurveData, Diagnostics, FitReport, FitStatus, ParamReport, Resolved, Weighting,
};
use crate::lm::{minimize, Bounds, LeastSquaresProblem, LmWorkspace};
use crate::model::{CurveModel, XKind};
use crate::stats::{self, ParameterStatistics};

struct Curve {
    x: Vec<f64>,
    y: Vec<f64>,
    cov: Vec<Vec<f64>>,
}

struct GlobalProblem<'a> {
    model: &'a dyn CurveModel,
    curves: &'a [Curve],
    /// slot[g][j]: index in the global vector of parameter j of curve g, or None when fixed.
    slot: &'a [Vec<Option<usize>>],
    fixed: &'a [Option<f64>],
    n_global: usize,
    n_res: usize,
    full: Vec<f64>,
    f: Vec<f64>,
    jac: Vec<f64>,
    scratch: Vec<f64>,
}

impl GlobalProblem<'_> {
    fn curve_params(&mut self, g: usize, p: &[f64]) {
        for (j, s) in self.slot[g].iter().enumerate() {
            self.full[j] = match s {
                Some(k) => p[*k],
                None => self.fixed[j].unwrap_or(0.0),
            };
        }
    }
}

impl LeastSquaresProblem for GlobalProblem<'_> {
    fn n_params(&self) -> usize {
        self.n_global
    }

    fn n_residuals(&self) -> usize {
        self.n_res
    }

    fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
        let mut off = 0;
        let mut ok = true;
        for g in 0..self.curves.len() {
            self.curve_params(g, p);
            let c = &self.curves[g];
            let n = c.x.len();
            self.f.resize(n, 0.0);
            self.model.eval(
                &c.x,
                &c.cov,
                &self.full,
                &mut self.f,
                None,
                &mut self.scratch,
            );
            for i in 0..n {
                r[off + i] = c.y[i] - self.f[i];
                ok &= r[off + i].is_finite();
            }
            off += n;
        }
        ok
    }

    fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
        jac.iter_mut().for_each(|v| *v = 0.0);
        let m = self.n_res;
        let np = self.full.len();
        let mut off = 0;
        let mut ok = true;
        for g in 0..self.curves.len() {
            self.curve_params(g, p);
            let c = &self.curves[g];
            let n = c.x.len();
            self.f.resize(n, 0.0);
            self.jac.resize(n * np, 0.0);
            self.model.eval(
                &c.x,
                &c.cov,
                &self.full,
                &mut self.f,
                Some(&mut self.jac),
                &mut self.scratch,
            );
            for (j, s) in self.slot[g].iter().enumerate() {
                if let Some(k) = s {
                    for i in 0..n {
                        let v = -self.jac[i + j * n];
                        jac[off + i + k * m] = v;
                        ok &= v.is_finite();
                    }
                }
            }
            off += n;
        }
        ok
    }
}

/// Fits `curves` together, sharing the parameters whose names are in `shared`
/// (they must be model parameters; check with [`crate::curve::FitSpec::resolve`]
/// first). Returns one report per curve, in order; shared parameters carry
/// the same estimate and interval in every report. Weighting, robust fitting,
/// outlier removal and profile intervals are not available in global fits;
/// the caller is told through an error message in every report.
pub fn fit_global(
    model: &dyn CurveModel,
    data: &[CurveData],
    shared: &[String],
    resolved: &Resolved,
) -> Vec<FitReport> {
    let spec = &resolved.spec;
    let n_curves = data.len();
    let fail_all = |msg: String| -> Vec<FitReport> {
        data.iter()
            .map(|d| FitReport::failed(model.id(), d.y.len(), msg.clone()))
            .collect()
    };
    if spec.weighting != Weighting::None || spec.robust || spec.outliers.is_some() {
        return fail_all(
            "global fits (--share) support ordinary least squares only: drop --weight, --robust and --outliers".into(),
        );
    }
    let names = &resolved.names;
    let np = names.len();
    let is_shared: Vec<bool> = names.iter().map(|n| shared.contains(n)).collect();
    // Transform x and collect curves.
    let mut curves = Vec::with_capacity(n_curves);
    for d in data {
        let x: Vec<f64> = match (model.x_kind(), spec.x_is_log10) {
            (XKind::Log10, false) => {
                if let Some(i) = d.x.iter().position(|v| *v <= 0.0) {
                    let at = d
                        .lines
                        .get(i)
                        .map(|l| format!("line {l}: "))
                        .unwrap_or_default();
                    return fail_all(format!(
                        "{at}concentration {} cannot be log-transformed; give log10 concentrations with --x-scale log10",
                        d.x[i]
                    ));
                }
                d.x.iter().map(|v| v.log10()).collect()
            }
            (XKind::Linear, true) => d.x.iter().map(|v| 10f64.powf(*v)).collect(),
            _ => d.x.clone(),
        };
        curves.push(Curve {
            x,
            y: d.y.clone(),
            cov: d.cov.clone(),
        });
    }
    // Global slots.
    let mut slot: Vec<Vec<Option<usize>>> = vec![vec![None; np]; n_curves];
    let mut n_global = 0;
    let mut shared_slot: Vec<Option<usize>> = vec![None; np];
    for j in 0..np {
        if resolved.fixed[j].is_none() && is_shared[j] {
            shared_slot[j] = Some(n_global);
            n_global += 1;
        }
    }
    for row in slot.iter_mut() {
        for j in 0..np {
            if resolved.fixed[j].is_some() {
                continue;
            }
            row[j] = if is_shared[j] {
                shared_slot[j]
            } else {
                n_global += 1;
                Some(n_global - 1)
            };
        }
    }
    let n_res: usize = curves.iter().map(|c| c.x.len()).sum();
    if n_res < n_global {
        return fail_all(format!(
            "{n_res} points are fewer than the {n_global} parameters of the global fit"
        ));
    }
    // Start: each curve's own self-start, shared parameters averaged.
    let mut p0 = vec![0.0; n_global];
    let mut count = vec![0usize; n_global];
    for (g, c) in curves.iter().enumerate() {
        let auto = model.initial(&c.x, &c.cov, &c.y);
        for j in 0..np {
            if let Some(k) = slot[g][j] {
                let v = resolved.start[j]
                    .or_else(|| auto.get(j).copied())
                    .filter(|v| v.is_finite())
                    .unwrap_or(1.0);
                p0[k] += v;
                count[k] += 1;
            }
        }
    }
    for k in 0..n_global {
        p0[k] /= count[k].max(1) as f64;
    }
    let mut lower = vec![f64::NEG_INFINITY; n_global];
    let mut upper = vec![f64::INFINITY; n_global];
    for row in &slot {
        for j in 0..np {
            if let Some(k) = row[j] {
                lower[k] = resolved.lower[j];
                upper[k] = resolved.upper[j];
                p0[k] = p0[k].clamp(lower[k], upper[k]);
            }
        }
    }
    let bounds = Bounds::new(lower, upper);
    let mut prob = GlobalProblem {
        model,
        curves: &curves,
        slot: &slot,
        fixed: &resolved.fixed,
        n_global,
        n_res,
        full: vec![0.0; np],
        f: Vec::new(),
        jac: Vec::new(),
        scratch: Vec::new(),
    };
    let mut ws = LmWorkspace::new();
    let b = if bounds.is_unbounded() {
        None
    } else {
        Some(&bounds)
    };
    let result = match minimize(&mut prob, &p0, b, &spec.lm, &mut ws) {
        Ok(r) => r,
        Err(e) => return fail_all(e.to_string()),
    };
    let p = result.params.clone();
    let mut r = vec![0.0; n_res];
    let mut jac = vec![0.0; n_res * n_global];
    if !(prob.residuals(&p, &mut r) && prob.jacobian(&p, &mut jac)) {
        return fail_all("the model is not finite at the best global fit".into());
    }
    let rss: f64 = r.iter().map(|v| v * v).sum();
    let df = n_res - n_global;
    let st = if df > 0 {
        ParameterStatistics::from_jacobian(&jac, n_res, n_global, rss).ok()
    } else {
        None
    };
    let t_crit = if df > 0 {
        stats::t_quantile(0.5 + 0.5 * spec.level, df as f64)
    } else {
        f64::NAN
    };
    let status =
        if result.termination.is_converged() || result.termination.is_at_machine_precision() {
            if st.as_ref().is_some_and(|s| s.ambiguous.iter().any(|a| *a)) {
                FitStatus::Ambiguous
            } else {
                FitStatus::Converged
            }
        } else if result.termination.is_limit() {
            FitStatus::NotConverged
        } else {
            FitStatus::Failed
        };
    let shared_names: Vec<&str> = names
        .iter()
        .zip(&is_shared)
        .filter(|(_, s)| **s)
        .map(|(n, _)| n.as_str())
        .collect();
    let sy_x = if df > 0 {
        Some((rss / df as f64).sqrt())
    } else {
        None
    };
    let mut reports = Vec::with_capacity(n_curves);
    let mut off = 0;
    for (g, c) in curves.iter().enumerate() {
        let n = c.x.len();
        let rg: f64 = r[off..off + n].iter().map(|v| v * v).sum();
        off += n;
        let mean = c.y.iter().sum::<f64>() / n.max(1) as f64;
        let tss: f64 = c.y.iter().map(|y| (y - mean).powi(2)).sum();
        let mut params = Vec::with_capacity(np);
        let mut estimates = vec![0.0; np];
        for j in 0..np {
            let (est, se) = match slot[g][j] {
                Some(k) => (
                    p[k],
                    st.as_ref()
                        .filter(|s| !s.ambiguous[k])
                        .and_then(|s| s.standard_errors[k]),
                ),
                None => (resolved.fixed[j].unwrap_or(0.0), None),
            };
            estimates[j] = est;
            let (lo, hi) = match se {
                Some(se) if t_crit.is_finite() => {
                    (Some(est - t_crit * se), Some(est + t_crit * se))
                }
                _ => (None, None),
            };
            params.push(ParamReport {
                name: names[j].as_str().into(),
                estimate: est,
                std_error: se,
                ci_low: lo,
                ci_high: hi,
                fixed: resolved.fixed[j].is_some(),
            });
        }
        let lookup = |n: &str| names.iter().position(|p| p == n).map(|j| estimates[j]);
        let mut derived = Vec::new();
        for d in model.derived() {
            let Ok(value) = d.expr.eval(&lookup) else {
                continue;
            };
            let deps: Vec<usize> = d
                .expr
                .free_vars()
                .iter()
                .filter_map(|v| names.iter().position(|p| p == v))
                .collect();
            let (mut lo, mut hi) = (None, None);
            if deps.len() == 1 {
                let j = deps[0];
                if let (Some(a), Some(b)) = (params[j].ci_low, params[j].ci_high) {
                    let at = |v: f64| {
                        d.expr
                            .eval(&|n| if n == names[j] { Some(v) } else { lookup(n) })
                            .ok()
                    };
                    if let (Some(fa), Some(fb)) = (at(a), at(b)) {
                        lo = Some(fa.min(fb));
                        hi = Some(fa.max(fb));
                    }
                }
            }
            derived.push(ParamReport {
                name: d.name.as_str().into(),
                estimate: value,
                std_error: None,
                ci_low: lo,
                ci_high: hi,
                fixed: false,
            });
        }
        let mut messages = vec![format!(
            "global fit of {n_curves} curves sharing {}: df, Sy.x and intervals are those of the joint fit (RSS {})",
            if shared_names.is_empty() { "nothing".to_string() } else { shared_names.join(", ") },
            ligand_expr::format_number(rss)
        )];
        if status == FitStatus::Ambiguous {
            messages.push("ambiguous: some parameters are not determined by the data".into());
        }
        reports.push(FitReport {
            group: None,
            model: model.id().into(),
            status,
            parameters: params,
            derived,
            n,
            df,
            rss: Some(rg),
            sy_x,
            r_squared: if tss > 0.0 {
                Some(1.0 - rg / tss)
            } else {
                None
            },
            aicc: None,
            diagnostics: Diagnostics {
                iterations: result.n_iter,
                evaluations: result.n_fev,
                termination: result.termination.name().into(),
                ..Diagnostics::default()
            },
            messages,
        });
    }
    reports
}
