//! Competitive antagonism: Schild analysis, Cheng-Prusoff for binding, and
//! the functional conversions of an antagonist IC50 measured against a
//! fixed agonist concentration into K_B (Craig; Leff & Dougall).
//!
//! A competitive antagonist B at concentration b multiplies the agonist's
//! EC50 by the dose ratio r = 1 + b/K_B (Arunlakshana & Schild 1959, Br J
//! Pharmacol 14:48), so log(r - 1) = log b - log K_B and pA2 = -log10 K_B
//! when the Schild slope is 1.
//!
//! An IC50 is not a K_B: it depends on how hard the antagonist must compete.
//! In binding, against a radioligand at concentration L with dissociation
//! constant K_d: K_i = IC50 / (1 + L/K_d) (Cheng & Prusoff 1973, Biochem
//! Pharmacol 22:3099). In a functional assay against an agonist at
//! concentration A whose concentration-response curve has EC50 and slope n,
//! the IC50 is the b at which the agonist response falls to half, which
//! gives K_B = IC50 / ((2 + (A/EC50)^n)^(1/n) - 1) (Leff & Dougall 1993,
//! TiPS 14:110). For n = 1 this is exactly K_B = IC50 / (1 + A/EC50) (Craig
//! 1993, TiPS 14:89): (2 + x) - 1 = 1 + x. For n != 1 it is not the same as
//! the "power" form IC50 / (1 + (A/EC50)^n), which the tests show.

/// The Schild dose ratio of a competitive antagonist: `1 + b / kb`.
///
/// ```
/// use ligand_pharm::dose_ratio;
/// assert_eq!(dose_ratio(9.0, 1.0), 10.0); // 9 K_B shifts the curve 10-fold
/// ```
pub fn dose_ratio(b: f64, kb: f64) -> f64 {
    1.0 + b / kb
}

/// K_B from one dose ratio `r` measured at antagonist concentration `b`
/// (Schild equation, slope 1): `b / (r - 1)`.
///
/// ```
/// use ligand_pharm::kb_from_dose_ratio;
/// assert_eq!(kb_from_dose_ratio(1e-8, 2.0), 1e-8); // pA2 definition: r = 2 at b = K_B
/// ```
pub fn kb_from_dose_ratio(b: f64, r: f64) -> f64 {
    b / (r - 1.0)
}

/// pA2 from one dose ratio `r` at antagonist concentration `b` in mol/L:
/// `log10(r - 1) - log10(b)`, i.e. -log10 K_B.
///
/// ```
/// use ligand_pharm::pa2_from_dose_ratio;
/// // A 2-fold shift at 10 nM is pA2 = 8 (Schild's definition).
/// assert!((pa2_from_dose_ratio(1e-8, 2.0) - 8.0).abs() < 1e-12);
/// ```
pub fn pa2_from_dose_ratio(b_molar: f64, r: f64) -> f64 {
    (r - 1.0).log10() - b_molar.log10()
}

/// The result of a Schild regression of log10(r - 1) on log10(b).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct SchildFit {
    /// The Schild slope; 1 for simple competition.
    pub slope: f64,
    /// The intercept of log10(r - 1) at log10 b = 0.
    pub intercept: f64,
    /// The x-intercept with sign changed: pA2 = intercept / slope
    /// (equals pK_B when the slope is 1).
    pub pa2: f64,
    /// Coefficient of determination of the regression.
    pub r_squared: f64,
}

/// Schild regression (Arunlakshana & Schild 1959) by ordinary least squares
/// of log10(r - 1) against log10(b), from pairs `(b in mol/L, dose ratio)`.
/// Returns `None` with fewer than two usable pairs (b > 0 and r > 1) or when
/// every b is the same.
///
/// ```
/// use ligand_pharm::{dose_ratio, schild_regression};
/// let kb = 3e-9;
/// let pts: Vec<(f64, f64)> = [1e-9, 1e-8, 1e-7].iter().map(|&b| (b, dose_ratio(b, kb))).collect();
/// let fit = schild_regression(&pts).unwrap();
/// assert!((fit.slope - 1.0).abs() < 1e-12);
/// assert!((fit.pa2 + kb.log10()).abs() < 1e-12);
/// ```
pub fn schild_regression(points: &[(f64, f64)]) -> Option<SchildFit> {
    let xy: Vec<(f64, f64)> = points
        .iter()
        .filter(|(b, r)| *b > 0.0 && *r > 1.0 && b.is_finite() && r.is_finite())
        .map(|&(b, r)| (b.log10(), (r - 1.0).log10()))
        .collect();
    if xy.len() < 2 {
        return None;
    }
    let n = xy.len() as f64;
    let mx = xy.iter().map(|p| p.0).sum::<f64>() / n;
    let my = xy.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = xy.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = xy.iter().map(|p| (p.1 - my).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let r_squared = if syy > 0.0 {
        sxy * sxy / (sxx * syy)
    } else {
        1.0
    };
    Some(SchildFit {
        slope,
        intercept,
        pa2: intercept / slope,
        r_squared,
    })
}

/// Cheng-Prusoff for binding: `K_i = IC50 / (1 + l / kd)`, with `l` the
/// radioligand concentration and `kd` its dissociation constant (Cheng &
/// Prusoff 1973, Biochem Pharmacol 22:3099). Assumes no ligand depletion
/// (Munson & Rodbard 1988 give the exact correction).
///
/// ```
/// use ligand_pharm::cheng_prusoff_ki;
/// // Radioligand at its K_d: K_i is half the IC50.
/// assert_eq!(cheng_prusoff_ki(10.0, 2.0, 2.0), 5.0);
/// ```
pub fn cheng_prusoff_ki(ic50: f64, l: f64, kd: f64) -> f64 {
    ic50 / (1.0 + l / kd)
}

/// The inverse of [`cheng_prusoff_ki`]: the IC50 a competitor with `ki` shows
/// against radioligand `l` of dissociation constant `kd`.
///
/// ```
/// use ligand_pharm::cheng_prusoff_ic50;
/// assert_eq!(cheng_prusoff_ic50(5.26, 0.0, 1.0), 5.26); // trace radioligand: IC50 = K_i
/// assert_eq!(cheng_prusoff_ic50(5.0, 2.0, 2.0), 10.0);
/// ```
pub fn cheng_prusoff_ic50(ki: f64, l: f64, kd: f64) -> f64 {
    ki * (1.0 + l / kd)
}

/// Craig's functional form (Craig 1993, TiPS 14:89), for an agonist curve
/// of slope 1: `K_B = IC50 / (1 + a / ec50)`, with `a` the fixed agonist
/// concentration and `ec50` the agonist's EC50.
///
/// ```
/// use ligand_pharm::craig_kb;
/// // Against an EC80 of a hyperbolic agonist (a = 4 EC50) the IC50 is 5 K_B.
/// assert_eq!(craig_kb(50.0, 4.0, 1.0), 10.0);
/// ```
pub fn craig_kb(ic50: f64, a: f64, ec50: f64) -> f64 {
    ic50 / (1.0 + a / ec50)
}

/// The inverse of [`craig_kb`]: `IC50 = K_B (1 + a / ec50)`.
///
/// ```
/// use ligand_pharm::craig_ic50;
/// assert_eq!(craig_ic50(10.0, 4.0, 1.0), 50.0);
/// ```
pub fn craig_ic50(kb: f64, a: f64, ec50: f64) -> f64 {
    kb * (1.0 + a / ec50)
}

/// The Leff-Dougall dose ratio at the IC50: `(2 + (a/ec50)^n)^(1/n)`. The
/// antagonist's IC50 is K_B times this minus one.
fn leff_dougall_ratio(a: f64, ec50: f64, n: f64) -> f64 {
    (2.0 + (a / ec50).powf(n)).powf(1.0 / n)
}

/// Leff & Dougall (1993, TiPS 14:110): K_B of a competitive antagonist from
/// its IC50 against agonist concentration `a`, when the agonist curve is a
/// logistic with `ec50` and slope `n`:
/// `K_B = IC50 / ((2 + (a/ec50)^n)^(1/n) - 1)`.
///
/// Derivation (checked by the tests against a direct solution): with B the
/// agonist EC50 becomes ec50 r, r = 1 + b/K_B, and the IC50 is the b at
/// which the response falls to half its value without B, which gives
/// r^n = 2 + (a/ec50)^n.
///
/// ```
/// use ligand_pharm::{craig_kb, leff_dougall_kb};
/// // n = 1 reduces exactly to Craig.
/// assert!((leff_dougall_kb(50.0, 4.0, 1.0, 1.0) - craig_kb(50.0, 4.0, 1.0)).abs() < 1e-12);
/// // n = 2, a = EC50: r = sqrt(3), K_B = IC50 / (sqrt 3 - 1).
/// assert!((leff_dougall_kb(1.0, 1.0, 1.0, 2.0) - 1.0 / (3f64.sqrt() - 1.0)).abs() < 1e-12);
/// ```
pub fn leff_dougall_kb(ic50: f64, a: f64, ec50: f64, n: f64) -> f64 {
    ic50 / (leff_dougall_ratio(a, ec50, n) - 1.0)
}

/// The inverse of [`leff_dougall_kb`]: the IC50 of an antagonist with `kb`
/// against agonist `a` (curve `ec50`, slope `n`).
///
/// ```
/// use ligand_pharm::{leff_dougall_ic50, leff_dougall_kb};
/// let ic50 = leff_dougall_ic50(5.26, 20.0, 10.0, 1.5);
/// assert!((leff_dougall_kb(ic50, 20.0, 10.0, 1.5) - 5.26).abs() < 1e-12);
/// ```
pub fn leff_dougall_ic50(kb: f64, a: f64, ec50: f64, n: f64) -> f64 {
    kb * (leff_dougall_ratio(a, ec50, n) - 1.0)
}
