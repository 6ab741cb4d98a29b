//! The Black-Leff operational model of agonism and its consequences:
//! observed EC50 and maximum, two agonists at one site (a partial agonist as
//! a functional antagonist), and ECx from EC50 and slope.
//!
//! Black & Leff (1983, Proc R Soc Lond B 220:141) model the response as a
//! hyperbolic (or, with slope n, logistic) transducer function of occupancy:
//! E = E_m τ^n A^n / ((K_A + A)^n + τ^n A^n), where K_A is the agonist's
//! dissociation constant and τ = [R]_tot / K_E the transducer ratio
//! (efficacy times receptor reserve). The observed maximum is
//! E_m τ^n / (1 + τ^n) and the observed EC50 is K_A / ((2 + τ^n)^(1/n) - 1),
//! which for n = 1 are the familiar E_m τ/(1 + τ) and K_A/(1 + τ) (Black,
//! Leff, Shankley & Wood 1985, Br J Pharmacol 84:561).
//!
//! Two agonists at one site (n = 1) share the occupancy and add their
//! stimuli: E = E_m (τ_A a + τ_B b) / (1 + a + b + τ_A a + τ_B b), with a =
//! A/K_A and b = B/K_B (Leff et al. 1993, Br J Pharmacol; fitted by
//! Buchwald 2017, Pharmacol Res Perspect 5:e00311, for histamine with the
//! partial agonist impromidine). As B grows the response tends to
//! E_m τ_B/(1 + τ_B) whatever A is: a partial agonist pulls a full agonist's
//! response down to its own ceiling.

/// Black-Leff operational response with transducer slope `n`:
/// `em τ^n a^n / ((ka + a)^n + τ^n a^n)`.
///
/// ```
/// use ligand_pharm::operational_response;
/// // n = 1, τ = 1, A = K_A: E = E_m · 1/(2 + 1) = E_m / 3.
/// assert!((operational_response(1.0, 1.0, 1.0, 100.0, 1.0) - 100.0 / 3.0).abs() < 1e-12);
/// assert_eq!(operational_response(0.0, 1.0, 10.0, 100.0, 1.0), 0.0);
/// ```
pub fn operational_response(a: f64, ka: f64, tau: f64, em: f64, n: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    let stim = (tau * a).powf(n);
    em * stim / ((ka + a).powf(n) + stim)
}

/// The observed EC50 of [`operational_response`]:
/// `ka / ((2 + τ^n)^(1/n) - 1)`; for n = 1, `ka / (1 + τ)`.
///
/// ```
/// use ligand_pharm::operational_ec50;
/// // A receptor reserve τ = 9 puts the EC50 10-fold below K_A.
/// assert!((operational_ec50(100.0, 9.0, 1.0) - 10.0).abs() < 1e-12);
/// ```
pub fn operational_ec50(ka: f64, tau: f64, n: f64) -> f64 {
    ka / ((2.0 + tau.powf(n)).powf(1.0 / n) - 1.0)
}

/// The observed maximum of [`operational_response`]: `em τ^n / (1 + τ^n)`;
/// for n = 1, `em τ / (1 + τ)`.
///
/// ```
/// use ligand_pharm::operational_emax;
/// assert!((operational_emax(9.0, 100.0, 1.0) - 90.0).abs() < 1e-12);
/// // τ = 1 is a half-maximal partial agonist.
/// assert_eq!(operational_emax(1.0, 100.0, 1.0), 50.0);
/// ```
pub fn operational_emax(tau: f64, em: f64, n: f64) -> f64 {
    let t = tau.powf(n);
    em * t / (1.0 + t)
}

/// The transducer ratio τ that gives a partial agonist the observed maximum
/// `fraction` of E_m (n = 1): `τ = f / (1 - f)`. The inverse of
/// [`operational_emax`] with `em = 1, n = 1`.
///
/// ```
/// use ligand_pharm::tau_from_efficacy;
/// // 42d reaches 24 % of glycine's maximum at GluN1/GluN2B (Ascic et al. 2024):
/// // τ = 0.24/0.76 if glycine were a full agonist.
/// assert!((tau_from_efficacy(0.24) - 0.24 / 0.76).abs() < 1e-15);
/// ```
pub fn tau_from_efficacy(fraction: f64) -> f64 {
    fraction / (1.0 - fraction)
}

/// Two agonists at one site in the operational model (n = 1):
/// `em (τ_A a + τ_B b) / (1 + a + b + τ_A a + τ_B b)`, a = `conc_a/ka`, b =
/// `conc_b/kb`.
///
/// ```
/// use ligand_pharm::{operational_response, operational_two_agonists};
/// // Without B it is the one-agonist operational model.
/// let e1 = operational_two_agonists(3.0, 1.0, 10.0, 0.0, 1.0, 0.3, 100.0);
/// assert!((e1 - operational_response(3.0, 1.0, 10.0, 100.0, 1.0)).abs() < 1e-12);
/// // A huge excess of the partial agonist (τ_B = 0.25) brings E to its ceiling 20 % of E_m.
/// let e = operational_two_agonists(3.0, 1.0, 10.0, 1e12, 1.0, 0.25, 100.0);
/// assert!((e - 20.0).abs() < 1e-6);
/// ```
pub fn operational_two_agonists(
    conc_a: f64,
    ka: f64,
    tau_a: f64,
    conc_b: f64,
    kb: f64,
    tau_b: f64,
    em: f64,
) -> f64 {
    let a = conc_a / ka;
    let b = conc_b / kb;
    let stim = tau_a * a + tau_b * b;
    em * stim / (1.0 + a + b + stim)
}

/// The limit of [`operational_two_agonists`] as the partial agonist's
/// concentration grows without bound: `em τ_B / (1 + τ_B)`, whatever the
/// full agonist's concentration. Below this ceiling the partial agonist
/// adds response; above it (a full agonist at high occupancy) it inhibits.
///
/// ```
/// use ligand_pharm::partial_agonist_ceiling;
/// assert_eq!(partial_agonist_ceiling(1.0, 100.0), 50.0);
/// ```
pub fn partial_agonist_ceiling(tau_b: f64, em: f64) -> f64 {
    em * tau_b / (1.0 + tau_b)
}

/// ECx from EC50 and Hill slope: `ECF = EC50 (F / (100 - F))^(1/n)`, with
/// `f_percent` in (0, 100) (the logistic solved for the concentration giving
/// F % of the maximum; e.g. Motulsky & Christopoulos 2004, "Fitting models
/// to biological data", ch. 42).
///
/// ```
/// use ligand_pharm::ec_f;
/// // EC80 of a slope-1 curve is 4 EC50; EC90 is 9 EC50; EC50 is itself.
/// assert!((ec_f(1.0, 80.0, 1.0) - 4.0).abs() < 1e-12);
/// assert!((ec_f(1.0, 90.0, 1.0) - 9.0).abs() < 1e-12);
/// assert_eq!(ec_f(7.0, 50.0, 1.3), 7.0);
/// // With slope 2, EC90 is 3 EC50.
/// assert!((ec_f(1.0, 90.0, 2.0) - 3.0).abs() < 1e-12);
/// ```
pub fn ec_f(ec50: f64, f_percent: f64, n: f64) -> f64 {
    ec50 * (f_percent / (100.0 - f_percent)).powf(1.0 / n)
}
