//! Receptor occupancy at equilibrium: Hill-Langmuir, Gaddum competition and
//! one-site binding with ligand depletion.
//!
//! For a ligand A at concentration `a` binding one site with dissociation
//! constant `K_A`, the fraction of sites occupied is the Hill-Langmuir
//! isotherm p = a / (a + K_A) (Hill 1910; Langmuir 1918); with a slope
//! factor n it is a^n / (a^n + K^n). When a competitive ligand B shares the
//! site, A's occupancy follows Gaddum (1937):
//! p_A = a / (a + K_A (1 + b / K_B)).
//!
//! All concentrations are in one consistent unit (any: the formulas are
//! homogeneous); callers convert with [`crate::units`].

/// Fractional occupancy of one site, Hill-Langmuir: `a / (a + ka)`.
///
/// At `a = ka` half the sites are occupied (the textbook definition of the
/// dissociation constant).
///
/// ```
/// use ligand_pharm::occupancy;
/// assert_eq!(occupancy(5.26, 5.26), 0.5);
/// assert!((occupancy(9.0, 1.0) - 0.9).abs() < 1e-15);
/// ```
pub fn occupancy(a: f64, ka: f64) -> f64 {
    a / (a + ka)
}

/// Occupancy (or fractional response) with a Hill slope `n`:
/// `a^n / (a^n + k^n)`, evaluated as `1 / (1 + (k/a)^n)` so that large
/// exponents do not overflow.
///
/// ```
/// use ligand_pharm::occupancy_hill;
/// // With n = 2, a concentration 3-fold above K gives 9/10.
/// assert!((occupancy_hill(3.0, 1.0, 2.0) - 0.9).abs() < 1e-15);
/// assert_eq!(occupancy_hill(0.0, 1.0, 1.0), 0.0);
/// ```
pub fn occupancy_hill(a: f64, k: f64, n: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    1.0 / (1.0 + (k / a).powf(n))
}

/// Occupancy of A in the presence of a competitive ligand B, Gaddum (1937):
/// `a / (a + ka (1 + b / kb))`.
///
/// Source: Gaddum JH, J Physiol 1937; the form as in Buchwald 2017 (Pharmacol
/// Res Perspect, eq. A2).
///
/// ```
/// use ligand_pharm::gaddum_occupancy;
/// // B at its K_B doubles A's apparent K_A: a = ka now occupies 1/3.
/// assert!((gaddum_occupancy(1.0, 1.0, 1.0, 1.0) - 1.0 / 3.0).abs() < 1e-15);
/// // Without B it is Hill-Langmuir.
/// assert_eq!(gaddum_occupancy(1.0, 1.0, 0.0, 1.0), 0.5);
/// ```
pub fn gaddum_occupancy(a: f64, ka: f64, b: f64, kb: f64) -> f64 {
    a / (a + ka * (1.0 + b / kb))
}

/// The free ligand concentration at equilibrium for one-site binding when
/// binding depletes the ligand: total ligand `l_total`, total receptor
/// `r_total`, dissociation constant `kd` (all in one unit).
///
/// The complex C solves C^2 - (L_t + R_t + K_d) C + L_t R_t = 0; the
/// physical root is taken in the cancellation-free form
/// C = 2 L_t R_t / (s + sqrt(s^2 - 4 L_t R_t)), s = L_t + R_t + K_d, and the
/// free ligand is L_t - C. (Goldstein & Barrett 1987, Mol Pharmacol 31:603;
/// Munson & Rodbard 1988 on the consequences for Cheng-Prusoff.)
///
/// ```
/// use ligand_pharm::free_ligand_depletion;
/// // Textbook case: L_t = R_t = K_d = 1 gives C = (3 - sqrt 5)/2, free L = (sqrt 5 - 1)/2.
/// let l = free_ligand_depletion(1.0, 1.0, 1.0);
/// assert!((l - (5f64.sqrt() - 1.0) / 2.0).abs() < 1e-15);
/// // With negligible receptor, free equals total.
/// assert!((free_ligand_depletion(10.0, 1e-9, 1.0) - 10.0).abs() < 1e-8);
/// ```
pub fn free_ligand_depletion(l_total: f64, r_total: f64, kd: f64) -> f64 {
    l_total - bound_ligand_depletion(l_total, r_total, kd)
}

/// The bound ligand (receptor-ligand complex) concentration of
/// [`free_ligand_depletion`]'s model.
///
/// ```
/// use ligand_pharm::bound_ligand_depletion;
/// // Far above K_d all receptors are occupied.
/// assert!((bound_ligand_depletion(1e6, 2.0, 1.0) - 2.0).abs() < 1e-5);
/// ```
pub fn bound_ligand_depletion(l_total: f64, r_total: f64, kd: f64) -> f64 {
    let s = l_total + r_total + kd;
    let disc = (s * s - 4.0 * l_total * r_total).max(0.0);
    let denom = s + disc.sqrt();
    if denom == 0.0 {
        return 0.0;
    }
    2.0 * l_total * r_total / denom
}
