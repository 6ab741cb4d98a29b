//! Voltage-dependent Mg2+ block of NMDA receptors.
//!
//! Jahr & Stevens (1990, J Neurosci 10:3178) fitted the fraction of NMDA
//! receptor conductance left unblocked by extracellular Mg2+ as
//! B(V) = 1 / (1 + exp(-0.062 V) [Mg2+] / 3.57), V in mV and [Mg2+] in mM.
//! The constants are as coded in ModelDB 128559 (`mGluR_DynSyn.mod`), which
//! the notes verified.

/// Jahr & Stevens (1990): the unblocked fraction of NMDA conductance at
/// membrane potential `v_mv` (mV) and extracellular `mg_mm` (mM):
/// `1 / (1 + exp(-0.062 v) mg / 3.57)`.
///
/// ```
/// use ligand_pharm::mg_block;
/// // At 0 mV and 1 mM Mg2+: 1 / (1 + 1/3.57) = 0.7812...
/// assert!((mg_block(0.0, 1.0) - 3.57 / 4.57).abs() < 1e-12);
/// // At rest (-70 mV, 1 mM) about 4 % is unblocked.
/// let b = mg_block(-70.0, 1.0);
/// assert!(b > 0.04 && b < 0.05);
/// // Without Mg2+ there is no block.
/// assert_eq!(mg_block(-70.0, 0.0), 1.0);
/// ```
pub fn mg_block(v_mv: f64, mg_mm: f64) -> f64 {
    1.0 / (1.0 + (-0.062 * v_mv).exp() * mg_mm / 3.57)
}
