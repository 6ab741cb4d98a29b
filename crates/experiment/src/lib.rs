//! # ligand-experiment: virtual assays and the dossiers reproduced
//!
//! A virtual assay is a protocol run on a mechanism: it produces a
//! [`plate::Plate`] of wells (dilution series, replicates, controls, realistic
//! noise from a seeded [`rng::Rng`]) that `ligand fit` analyses exactly as it
//! would a real plate. The assays ([`assays`]) are those of the dossiers:
//!
//! - [`assays::RadioligandBinding`]: competition binding by filtration, with
//!   nonspecific binding, radioligand depletion and counting noise; IC50,
//!   then Ki by Cheng-Prusoff;
//! - [`assays::GiCampSystem`] with [`assays::Htrf`]: forskolin-stimulated cAMP
//!   inhibited by an agonist at its EC80 (found from its own curve in the same
//!   virtual system) and rescued by an antagonist, read as an HTRF ratio and
//!   converted to cAMP through a fitted standard curve;
//! - [`assays::NativeAntagonism`]: agonist-suppressed responses of native
//!   tissue (synaptosomes, neurons, slices) reversed by the antagonist;
//! - [`assays::GlycineSite`]: the NMDA receptor glycine site shared by
//!   glycine, D-serine and a partial agonist.
//!
//! [`reproduce::reproduce`] runs them all from the built-in compound library
//! (`ligand-pharm`) with a fixed seed and returns the table of every in vitro
//! number of the dossiers beside the value obtained, with its status
//! (`input`, `calibrated` or `predicted`), and the fitted plates;
//! [`svg::plot`] draws a plate with its fitted curve.

pub mod assays;
pub mod plate;
pub mod reproduce;
pub mod rng;
pub mod svg;
