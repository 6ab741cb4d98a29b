//! Receptor theory and the built-in compound and target library.
//!
//! Two halves that others build on:
//!
//! - **Receptor theory**: pure functions of concentrations and constants,
//!   each with a doc example that asserts a textbook value.
//!   [`occupancy`] and [`occupancy_hill`] (Hill-Langmuir),
//!   [`gaddum_occupancy`] (competition), [`free_ligand_depletion`] (one-site
//!   binding with depletion); Schild analysis ([`dose_ratio`],
//!   [`pa2_from_dose_ratio`], [`schild_regression`]); Cheng-Prusoff for
//!   binding ([`cheng_prusoff_ki`] and its inverse) and for function against
//!   a fixed agonist ([`craig_kb`], [`leff_dougall_kb`] and inverses); the
//!   Black-Leff operational model ([`operational_response`],
//!   [`operational_ec50`], [`operational_emax`]) with two agonists at one
//!   site ([`operational_two_agonists`], [`partial_agonist_ceiling`]);
//!   [`ec_f`] (ECx from EC50 and slope); and the NMDA receptor Mg2+ block
//!   ([`mg_block`]). Concentrations are in any one consistent unit.
//! - **The library** ([`library`], [`Library`]): compounds ([`Compound`],
//!   with [`Activity`]s at [`Target`]s, properties and in-vivo doses) and
//!   targets, read from `data/compounds.toml` and `data/targets.toml`, which
//!   are compiled in. Every number is a [`Quantity`]: value, unit, system,
//!   source and [`Status`] (verified, unverified, assumed).
//!   [`Library::value`] answers "the Ki of LY3020371 at hmGluR2 in nM".
//!
//! [`units`] converts between units and parses concentrations such as
//! `"100 nM"` or `"0.1 µM"`.
//!
//! The crate does no I/O beyond reading its own compiled-in data, and
//! prints nothing.
//!
//! ```
//! use ligand_pharm::{craig_kb, library, units};
//! // LY3020371 at hmGluR2: the cAMP IC50 against an EC80 of a slope-1 agonist
//! // (A = 4 EC50) corresponds to K_B = IC50 / 5.
//! let ic50 = library().value("LY3020371", "IC50", "hmGluR2", "nM").unwrap();
//! assert_eq!(ic50.value, 16.2);
//! assert!((craig_kb(ic50.value, 4.0, 1.0) - 3.24).abs() < 1e-12);
//! assert!((units::to_molar("16.2 nM").unwrap() - 16.2e-9).abs() < 1e-22);
//! ```

mod antagonism;
mod library;
mod nmda;
mod occupancy;
mod operational;
pub mod units;

pub use antagonism::{
    cheng_prusoff_ic50, cheng_prusoff_ki, craig_ic50, craig_kb, dose_ratio, kb_from_dose_ratio,
    leff_dougall_ic50, leff_dougall_kb, pa2_from_dose_ratio, schild_regression, SchildFit,
};
pub use library::{
    library, Activity, Compound, InVivoDose, Library, LibraryError, Property, Quantity, Status,
    Target,
};
pub use nmda::mg_block;
pub use occupancy::{
    bound_ligand_depletion, free_ligand_depletion, gaddum_occupancy, occupancy, occupancy_hill,
};
pub use operational::{
    ec_f, operational_ec50, operational_emax, operational_response, operational_two_agonists,
    partial_agonist_ceiling, tau_from_efficacy,
};
