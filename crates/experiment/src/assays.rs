//! The dossiers' protocols as simulated experiments.
//!
//! Each assay is a plain settings struct (every number in SI-like units: M,
//! s; counts per minute; ratios) and a `run(&self, rng) -> Plate` that
//! produces wells the way the bench would: replicates, a dilution series,
//! controls, and realistic noise (counting noise for radioactivity, pipetting
//! and biological variation as log-normal factors, reader noise). The plate is
//! then analysed by `ligand fit` exactly as a real plate would be.
//!
//! Receptor pharmacology inside the assays is the textbook mechanism: Gaddum
//! competition at one site for binding, the Black-Leff operational model
//! (transducer slope 1) for functional responses, and two agonists sharing
//! the GluN1 glycine site for NMDA receptors (see `ligand_pharm`).

use crate::plate::{half_log_series, Plate, Well};
use crate::rng::Rng;
use serde::Serialize;

/// Radioligand competition binding by rapid filtration.
///
/// Membranes with receptor density `receptors` (M in the well), radioligand
/// at `radioligand` (M) with dissociation constant `kd`, competitor with
/// `ki`; nonspecific binding proportional to the free radioligand
/// (`nsb_fraction` of the radioligand bound nonspecifically); radioligand
/// depletion solved exactly when `depletion` is set; counts from the specific
/// activity and counting efficiency with Poisson counting noise and
/// log-normal pipetting noise. Nonspecific binding wells hold a saturating
/// unlabelled agonist.
#[derive(Clone, Debug, Serialize)]
pub struct RadioligandBinding {
    pub id: String,
    pub compound: String,
    pub receptor: String,
    pub radioligand_name: String,
    pub receptors: f64,
    pub radioligand: f64,
    pub kd: f64,
    pub ki: f64,
    pub nsb_fraction: f64,
    pub depletion: bool,
    /// Well volume, L.
    pub volume: f64,
    /// Specific activity, Ci/mmol.
    pub specific_activity: f64,
    /// Counting efficiency (fraction) and counting time (min).
    pub efficiency: f64,
    pub count_minutes: f64,
    pub pipetting_cv: f64,
    pub concentrations: Vec<f64>,
    pub replicates: usize,
}

impl RadioligandBinding {
    /// Bound radioligand (M in the well): specific and nonspecific, at
    /// competitor concentration `i` and, for nonspecific wells, a saturating
    /// unlabelled ligand.
    pub fn bound(&self, i: f64, saturating_cold: bool) -> (f64, f64) {
        let specific = |free: f64| {
            if saturating_cold {
                0.0
            } else {
                self.receptors * free / (free + self.kd * (1.0 + i / self.ki))
            }
        };
        let nsb = |free: f64| self.nsb_fraction * free;
        let free = if self.depletion {
            // total = free + specific(free) + nsb(free): monotone in free, bisect.
            let (mut lo, mut hi) = (0.0, self.radioligand);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if mid + specific(mid) + nsb(mid) > self.radioligand {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            0.5 * (lo + hi)
        } else {
            self.radioligand
        };
        (specific(free), nsb(free))
    }

    /// Counts per minute expected for `bound` M of radioligand in the well.
    pub fn cpm(&self, bound: f64) -> f64 {
        let fmol = bound * self.volume * 1e15;
        // 1 Ci = 2.22e12 dpm; Ci/mmol -> dpm per fmol.
        let dpm_per_fmol = self.specific_activity * 2.22e12 / 1e12;
        fmol * dpm_per_fmol * self.efficiency
    }

    fn measure(&self, bound: f64, rng: &mut Rng) -> f64 {
        let expected =
            self.cpm(bound) * self.count_minutes * rng.lognormal_factor(self.pipetting_cv);
        rng.poisson(expected) / self.count_minutes
    }

    /// Runs the plate.
    pub fn run(&self, rng: &mut Rng) -> Plate {
        let mut wells = Vec::new();
        for r in 1..=self.replicates {
            let (s, n) = self.bound(0.0, false);
            wells.push(Well {
                conc: 0.0,
                response: self.measure(s + n, rng),
                replicate: r,
                kind: "total".into(),
            });
            let (s, n) = self.bound(0.0, true);
            wells.push(Well {
                conc: 0.0,
                response: self.measure(s + n, rng),
                replicate: r,
                kind: "nonspecific".into(),
            });
        }
        for &c in &self.concentrations {
            for r in 1..=self.replicates {
                let (s, n) = self.bound(c, false);
                wells.push(Well {
                    conc: c,
                    response: self.measure(s + n, rng),
                    replicate: r,
                    kind: "sample".into(),
                });
            }
        }
        Plate {
            id: self.id.clone(),
            description: format!(
                "radioligand competition binding by filtration: {} membranes ({:.3} nM receptors), {} at {:.3} nM (Kd {:.3} nM), {} series, nonspecific with a saturating unlabelled agonist{}",
                self.receptor,
                self.receptors * 1e9,
                self.radioligand_name,
                self.radioligand * 1e9,
                self.kd * 1e9,
                self.compound,
                if self.depletion { ", radioligand depletion included" } else { "" }
            ),
            compound: self.compound.clone(),
            response_unit: "bound radioactivity (cpm)".into(),
            wells,
        }
    }
}

/// The HTRF cAMP readout: a competitive immunoassay whose 665/620 ratio
/// (x 10^4) falls as cAMP rises, read through a cAMP standard curve.
#[derive(Clone, Debug, Serialize)]
pub struct Htrf {
    /// Ratio with no cAMP and at saturating cAMP.
    pub ratio_max: f64,
    pub ratio_min: f64,
    /// cAMP (M, in the detection well) halving the FRET signal.
    pub k_camp: f64,
    /// Reader noise, coefficient of variation of the ratio.
    pub reader_cv: f64,
}

impl Htrf {
    /// The ratio for a cAMP concentration (M).
    pub fn ratio(&self, camp: f64) -> f64 {
        self.ratio_min + (self.ratio_max - self.ratio_min) / (1.0 + camp / self.k_camp)
    }

    /// A measured ratio.
    pub fn read(&self, camp: f64, rng: &mut Rng) -> f64 {
        self.ratio(camp) * rng.lognormal_factor(self.reader_cv)
    }

    /// The standard-curve plate: cAMP standards (M) read in duplicate.
    pub fn standard_curve(&self, id: &str, rng: &mut Rng) -> Plate {
        let mut wells = Vec::new();
        for c in half_log_series(1e-11, 1e-6) {
            for r in 1..=2 {
                wells.push(Well {
                    conc: c,
                    response: self.read(c, rng),
                    replicate: r,
                    kind: "sample".into(),
                });
            }
        }
        Plate {
            id: id.into(),
            description:
                "HTRF cAMP standard curve: known cAMP concentrations, 665/620 ratio x 10^4".into(),
            compound: "cAMP standard".into(),
            response_unit: "HTRF ratio (665/620 x 10^4)".into(),
            wells,
        }
    }
}

/// A Gi-coupled receptor in cells: forskolin-stimulated cAMP accumulation
/// inhibited by an agonist (operational model, transducer slope 1) and the
/// inhibition reversed by a competitive antagonist.
#[derive(Clone, Debug, Serialize)]
pub struct GiCampSystem {
    pub receptor: String,
    /// Agonist affinity (M) and efficacy tau.
    pub agonist: String,
    pub agonist_ka: f64,
    pub agonist_tau: f64,
    /// Antagonist equilibrium dissociation constant (M).
    pub antagonist: String,
    pub antagonist_kb: f64,
    /// cAMP accumulated (M, in the detection well) without and with forskolin.
    pub camp_basal: f64,
    pub camp_forskolin: f64,
    /// Fraction of the forskolin response that full Gi activation removes.
    pub max_inhibition: f64,
    /// Biological well-to-well variation (CV).
    pub biological_cv: f64,
}

impl GiCampSystem {
    /// Stimulus of the operational model for agonist `a` and antagonist `b` (M): E/Em.
    pub fn stimulus(&self, a: f64, b: f64) -> f64 {
        let x = a / self.agonist_ka;
        let y = b / self.antagonist_kb;
        self.agonist_tau * x / (1.0 + x + y + self.agonist_tau * x)
    }

    /// cAMP (M) with forskolin, agonist `a` and antagonist `b`.
    pub fn camp(&self, a: f64, b: f64) -> f64 {
        let fsk = self.camp_forskolin - self.camp_basal;
        self.camp_basal + fsk * (1.0 - self.max_inhibition * self.stimulus(a, b))
    }

    /// The agonist's EC50 in this system (transducer slope 1): KA/(1 + tau).
    pub fn agonist_ec50(&self) -> f64 {
        self.agonist_ka / (1.0 + self.agonist_tau)
    }

    /// An agonist concentration-response plate read by HTRF (ratios).
    pub fn agonist_plate(&self, id: &str, htrf: &Htrf, rng: &mut Rng) -> Plate {
        let mut wells = Vec::new();
        for c in half_log_series(1e-11, 1e-4) {
            for r in 1..=3 {
                let camp = self.camp(c, 0.0) * rng.lognormal_factor(self.biological_cv);
                wells.push(Well {
                    conc: c,
                    response: htrf.read(camp, rng),
                    replicate: r,
                    kind: "sample".into(),
                });
            }
        }
        Plate {
            id: id.into(),
            description: format!(
                "cAMP accumulation in CHO-{} cells: forskolin plus an {} series, read by HTRF",
                self.receptor, self.agonist
            ),
            compound: self.agonist.clone(),
            response_unit: "HTRF ratio (665/620 x 10^4)".into(),
            wells,
        }
    }

    /// An antagonist series against a fixed agonist concentration `a` (M).
    pub fn antagonist_plate(&self, id: &str, a: f64, htrf: &Htrf, rng: &mut Rng) -> Plate {
        let mut wells = Vec::new();
        for c in half_log_series(1e-11, 1e-5) {
            for r in 1..=3 {
                let camp = self.camp(a, c) * rng.lognormal_factor(self.biological_cv);
                wells.push(Well {
                    conc: c,
                    response: htrf.read(camp, rng),
                    replicate: r,
                    kind: "sample".into(),
                });
            }
        }
        Plate {
            id: id.into(),
            description: format!(
                "cAMP accumulation in CHO-{} cells: forskolin, {} at {:.4} nM (its EC80), {} series, read by HTRF",
                self.receptor,
                self.agonist,
                a * 1e9,
                self.antagonist
            ),
            compound: self.antagonist.clone(),
            response_unit: "HTRF ratio (665/620 x 10^4)".into(),
            wells,
        }
    }
}

/// A native-tissue functional assay: an agonist-suppressed response (second
/// messenger, K+-evoked glutamate release, Ca2+ oscillations, a slice
/// response) reversed by a competitive antagonist, normalised as usual to the
/// controls: 0 % is the response with the agonist alone, 100 % the response
/// without agonist.
#[derive(Clone, Debug, Serialize)]
pub struct NativeAntagonism {
    pub id: String,
    pub system: String,
    pub readout: String,
    pub antagonist: String,
    pub antagonist_kb: f64,
    /// The agonist's concentration relative to its EC50 in this tissue.
    pub agonist_over_ec50: f64,
    /// Well-to-well noise, standard deviation in % of the control window.
    pub noise_sd: f64,
    pub replicates: usize,
}

impl NativeAntagonism {
    /// Reversal (%) of the agonist's effect at antagonist `b` (M): the
    /// operational model with transducer slope 1, written in the agonist's
    /// concentration relative to its EC50 (which makes tau drop out), so the
    /// half-reversal point is KB (1 + [A]/EC50).
    pub fn response(&self, b: f64) -> f64 {
        let a = self.agonist_over_ec50;
        let effect = |b: f64| a / (a + 1.0 + b / self.antagonist_kb);
        100.0 * (1.0 - effect(b) / effect(0.0))
    }

    /// Runs the plate.
    pub fn run(&self, rng: &mut Rng) -> Plate {
        let mut wells = Vec::new();
        for c in half_log_series(1e-10, 1e-5) {
            for r in 1..=self.replicates {
                let y = self.response(c) + self.noise_sd * rng.normal();
                wells.push(Well {
                    conc: c,
                    response: y,
                    replicate: r,
                    kind: "sample".into(),
                });
            }
        }
        Plate {
            id: self.id.clone(),
            description: format!(
                "{}: {} suppressed by an mGluR2/3 agonist at {:.3} x its EC50, reversed by {}",
                self.system, self.readout, self.agonist_over_ec50, self.antagonist
            ),
            compound: self.antagonist.clone(),
            response_unit: format!("reversal of the agonist effect on {} (%)", self.readout),
            wells,
        }
    }
}

/// The NMDA receptor glycine site: two agonists sharing one site
/// (operational form with relative efficacies; Gaddum occupancy), glutamate
/// saturating, read as Ca2+ influx in % of the glycine maximum.
#[derive(Clone, Debug, Serialize)]
pub struct GlycineSite {
    pub receptor: String,
    /// Equilibrium constants (M) and efficacies relative to glycine.
    pub k_glycine: f64,
    pub k_dserine: f64,
    pub eff_dserine: f64,
    pub k_partial: f64,
    pub eff_partial: f64,
    pub partial: String,
    pub biological_cv: f64,
}

impl GlycineSite {
    /// Response (% of glycine maximum) for glycine, D-serine and the partial agonist (M).
    pub fn response(&self, gly: f64, dser: f64, partial: f64) -> f64 {
        let g = gly / self.k_glycine;
        let s = dser / self.k_dserine;
        let d = partial / self.k_partial;
        100.0 * (g + self.eff_dserine * s + self.eff_partial * d) / (1.0 + g + s + d)
    }

    /// A concentration-response plate for one ligand in the presence of
    /// fixed glycine and D-serine (M).
    pub fn plate(&self, id: &str, ligand: &str, gly: f64, dser: f64, rng: &mut Rng) -> Plate {
        let mut wells = Vec::new();
        for c in half_log_series(1e-10, 1e-3) {
            for r in 1..=3 {
                let y = match ligand {
                    "glycine" => self.response(gly + c, dser, 0.0),
                    _ => self.response(gly, dser, c),
                };
                wells.push(Well {
                    conc: c,
                    response: y * rng.lognormal_factor(self.biological_cv),
                    replicate: r,
                    kind: "sample".into(),
                });
            }
        }
        let background = if gly == 0.0 && dser == 0.0 {
            "no added co-agonist".to_string()
        } else {
            format!("glycine {:.3} uM, D-serine {:.3} uM", gly * 1e6, dser * 1e6)
        };
        Plate {
            id: id.into(),
            description: format!(
                "{} receptors, glutamate saturating, {} series ({}), Ca2+ influx",
                self.receptor, ligand, background
            ),
            compound: ligand.into(),
            response_unit: "Ca2+ influx (% of glycine maximum)".into(),
            wells,
        }
    }
}
