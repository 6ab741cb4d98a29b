//! The dossiers reproduced: every in vitro number obtained through a virtual
//! assay and a fit, beside the published value.
//!
//! Each row's `status` says how honest the comparison is:
//! - `input`: the number is a model parameter (a Ki given to the binding
//!   model); the row shows it recovered through the simulated plate and the fit;
//! - `calibrated`: a free parameter of the assay (one the dossier does not
//!   state) was tuned to this number;
//! - `predicted`: no parameter was set from the number.

use crate::assays::{GiCampSystem, GlycineSite, Htrf, NativeAntagonism, RadioligandBinding};
use crate::plate::{half_log_series, FittedPlate, Plate};
use crate::rng::Rng;
use ligand_fit::catalogue;
use ligand_fit::curve::{fit_curve, FitReport, FitSpec, FitWorkspace};
use ligand_pharm::library;
use serde::Serialize;

/// The default seed of `ligand reproduce`.
pub const DEFAULT_SEED: u64 = 20_261_121;

/// One row of the reproduction table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub id: String,
    pub compound: String,
    pub quantity: String,
    pub system: String,
    /// The published value (None for rows the dossiers only describe).
    pub seed_value: Option<f64>,
    pub unit: String,
    pub value: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// `input`, `calibrated` or `predicted`.
    pub status: String,
    pub source: String,
    /// How the value was obtained, and any explanation of a deviation.
    pub note: String,
}

impl Row {
    /// value / seed value.
    pub fn ratio(&self) -> Option<f64> {
        self.seed_value.map(|s| self.value / s)
    }
}

/// Everything a reproduction produced.
#[derive(Clone, Debug, Serialize)]
pub struct Reproduction {
    pub seed: u64,
    pub rows: Vec<Row>,
    pub plates: Vec<FittedPlate>,
}

fn lib_value(compound: &str, quantity: &str, target: &str, unit: &str) -> (f64, String) {
    match library().value(compound, quantity, target, unit) {
        Some(q) => (q.value, q.source.clone()),
        None => panic!("the built-in library lacks {quantity} of {compound} at {target}"),
    }
}

fn fit(plate: Plate, model: &str, constants: &[(String, f64)], spec: FitSpec) -> FittedPlate {
    let m = catalogue::build(model, constants).expect("catalogue model");
    let resolved = spec.resolve(m.as_ref()).expect("valid fit settings");
    let report = fit_curve(
        m.as_ref(),
        &plate.curve(),
        &resolved,
        &mut FitWorkspace::new(),
    );
    FittedPlate { plate, fit: report }
}

fn derived(r: &FitReport, name: &str) -> (f64, Option<f64>, Option<f64>) {
    let p = r
        .param(name)
        .unwrap_or_else(|| panic!("fit of {} has no {name}: {:?}", r.model, r.messages));
    (p.estimate, p.ci_low, p.ci_high)
}

fn nm(v: (f64, Option<f64>, Option<f64>)) -> (f64, Option<f64>, Option<f64>) {
    (v.0 * 1e9, v.1.map(|x| x * 1e9), v.2.map(|x| x * 1e9))
}

/// Converts a plate of HTRF ratios into cAMP through a fitted standard
/// curve (the inverse of the fitted 4PL), as the kit's data reduction does.
fn ratios_to_camp(plate: &Plate, standard: &FitReport) -> Plate {
    let p: Vec<f64> = standard.parameters.iter().map(|p| p.estimate).collect();
    let (bottom, top, logec50, hill) = (p[0], p[1], p[2], p[3]);
    let mut out = plate.clone();
    out.response_unit = "cAMP (nM, from the HTRF standard curve)".into();
    for w in &mut out.wells {
        // y = bottom + (top - bottom)/(1 + 10^((logec50 - x) hill)) solved for x.
        let frac = (top - bottom) / (w.response - bottom) - 1.0;
        let x = logec50 - frac.log10() / hill;
        // Outside the standard curve's range the well is clipped to its limits.
        let camp = if frac.is_finite() && frac > 0.0 && x.is_finite() {
            10f64.powf(x.clamp(-12.0, -5.0))
        } else if w.response <= bottom.min(top) {
            1e-5
        } else {
            1e-12
        };
        w.response = camp * 1e9;
    }
    out
}

/// Runs every virtual assay of the dossiers with a seed and fits each plate.
pub fn reproduce(seed: u64) -> Reproduction {
    let mut rng = Rng::new(seed);
    let mut rows = Vec::new();
    let mut plates = Vec::new();
    let nm_to_m = 1e-9;

    // ---- 1. Radioligand competition binding, Ki by Cheng-Prusoff ----
    for (target, system, id) in [
        (
            "hmGluR2",
            "membranes of CHO cells expressing hmGluR2",
            "binding-hmGluR2",
        ),
        (
            "hmGluR3",
            "membranes of CHO cells expressing hmGluR3",
            "binding-hmGluR3",
        ),
        (
            "rat mGluR2/3",
            "rat frontal cortical membranes",
            "binding-rat-cortex",
        ),
    ] {
        let (ki, ki_source) = lib_value("LY3020371", "Ki", target, "nM");
        let (kd, _) = lib_value("[3H]-459477", "Kd", target, "nM");
        let assay = RadioligandBinding {
            id: id.into(),
            compound: "LY3020371".into(),
            receptor: target.into(),
            radioligand_name: "[3H]-459477".into(),
            // Assumed assay design (typical filtration binding): 0.2 nM receptors
            // in 0.25 mL, radioligand at its Kd, 10 % nonspecific at that level.
            receptors: 0.2 * nm_to_m,
            radioligand: kd * nm_to_m,
            kd: kd * nm_to_m,
            ki: ki * nm_to_m,
            nsb_fraction: 0.01,
            depletion: true,
            volume: 250e-6,
            specific_activity: 40.0,
            efficiency: 0.45,
            count_minutes: 2.0,
            pipetting_cv: 0.04,
            concentrations: half_log_series(1e-11, 1e-5),
            replicates: 3,
        };
        let plate = assay.run(&mut rng);
        let fp = fit(plate, "competition-one-site", &[], FitSpec::default());
        let (ic50, lo, hi) = derived(&fp.fit, "ic50");
        let factor = 1.0 + assay.radioligand / assay.kd;
        let ki_fit = nm((
            ic50 / factor,
            lo.map(|v| v / factor),
            hi.map(|v| v / factor),
        ));
        rows.push(Row {
            id: format!("ki-{}", id.trim_start_matches("binding-")),
            compound: "LY3020371".into(),
            quantity: "Ki".into(),
            system: system.into(),
            seed_value: Some(ki),
            unit: "nM".into(),
            value: ki_fit.0,
            ci_low: ki_fit.1,
            ci_high: ki_fit.2,
            status: "input".into(),
            source: ki_source,
            note: format!(
                "competition binding plate fitted with competition-one-site: IC50 {:.3} nM, Ki = IC50/(1 + L/Kd) with L = Kd = {kd} nM (radioligand Kd assumed)",
                ic50 * 1e9
            ),
        });
        plates.push(fp);
    }

    // ---- 2. cAMP accumulation with an HTRF readout ----
    let htrf = Htrf {
        // Assumed kit behaviour (typical Cisbio cAMP Gs dynamic kit ranges).
        ratio_max: 3000.0,
        ratio_min: 350.0,
        k_camp: 15e-9,
        reader_cv: 0.025,
    };
    for (target, id, seed_ic50_target) in [
        ("hmGluR2", "camp-hmGluR2", "hmGluR2"),
        ("hmGluR3", "camp-hmGluR3", "hmGluR3"),
    ] {
        let (ki, _) = lib_value("LY3020371", "Ki", target, "nM");
        let (seed_ic50, ic50_source) = lib_value("LY3020371", "IC50", seed_ic50_target, "nM");
        let (dcg_ec50, _) = lib_value("DCG-IV", "EC50", target, "nM");
        // Assumed: DCG-IV efficacy tau = 3 (a full agonist with modest reserve);
        // KA follows from its EC50 = KA/(1 + tau).
        let tau = 3.0;
        let system = GiCampSystem {
            receptor: target.into(),
            agonist: "DCG-IV".into(),
            agonist_ka: dcg_ec50 * nm_to_m * (1.0 + tau),
            agonist_tau: tau,
            antagonist: "LY3020371".into(),
            antagonist_kb: ki * nm_to_m,
            camp_basal: 2e-9,
            camp_forskolin: 60e-9,
            max_inhibition: 1.0,
            biological_cv: 0.05,
        };
        let std_plate = htrf.standard_curve(&format!("{id}-standard-curve"), &mut rng);
        let std_fit = fit(std_plate, "4pl", &[], FitSpec::default());
        // The agonist's own concentration-response, to find its EC80.
        let ag_plate = ratios_to_camp(
            &system.agonist_plate(&format!("{id}-dcg-iv"), &htrf, &mut rng),
            &std_fit.fit,
        );
        let ag_fit = fit(ag_plate, "4pl", &[], FitSpec::default());
        let (ag_ec50, _, _) = derived(&ag_fit.fit, "ec50");
        let hill = ag_fit.fit.value("hill").unwrap_or(-1.0).abs();
        let ec80 = ag_ec50 * 4f64.powf(1.0 / hill);
        let an_plate = ratios_to_camp(
            &system.antagonist_plate(&format!("{id}-ly3020371"), ec80, &htrf, &mut rng),
            &std_fit.fit,
        );
        let an_fit = fit(an_plate, "4pl", &[], FitSpec::default());
        let ic50 = nm(derived(&an_fit.fit, "ec50"));
        rows.push(Row {
            id: format!("ic50-{id}"),
            compound: "LY3020371".into(),
            quantity: "IC50".into(),
            system: format!("block of DCG-IV (EC80)-inhibited, forskolin-stimulated cAMP, CHO-{target}, HTRF"),
            seed_value: Some(seed_ic50),
            unit: "nM".into(),
            value: ic50.0,
            ci_low: ic50.1,
            ci_high: ic50.2,
            status: "predicted".into(),
            source: ic50_source,
            note: format!(
                "from Ki {ki} nM through the simulated assay: DCG-IV EC50 {:.1} nM and Hill {:.2} fitted in the same virtual system, EC80 {:.1} nM; competitive theory gives IC50 = Ki (1 + [A]/EC50) = 5 Ki at an EC80 with slope 1. The published IC50/Ki ratio ({:.1}) is smaller than 5, as if the agonist were used nearer its EC70 or its curve were steeper than slope 1 (DCG-IV's potency and slope in these cells are not in the dossier)",
                ag_ec50 * 1e9,
                hill,
                ec80 * 1e9,
                seed_ic50 / ki
            ),
        });
        plates.push(std_fit);
        plates.push(ag_fit);
        plates.push(an_fit);
    }

    // ---- 3. Native tissue (rat): agonist-suppressed responses reversed ----
    let (kb_rat, _) = lib_value("LY3020371", "Ki", "rat mGluR2/3", "nM");
    for (id, system, readout, system_match) in [
        (
            "synaptosome-second-messenger",
            "rat cortical synaptosomes",
            "second messenger",
            "second messenger",
        ),
        (
            "synaptosome-glutamate-release",
            "rat cortical synaptosomes",
            "K+-evoked glutamate release",
            "glutamate release",
        ),
        (
            "neuron-ca-oscillations",
            "rat primary cortical neurons",
            "Ca2+ oscillations",
            "oscillation",
        ),
        (
            "hippocampal-slice",
            "rat hippocampal slice",
            "slice response",
            "slice",
        ),
    ] {
        let seed = library()
            .value_in("LY3020371", "IC50", "rat mGluR2/3", system_match, "nM")
            .unwrap_or_else(|| panic!("library lacks the {system_match} IC50"));
        // The agonist concentration is not in the dossier: it is the one free
        // parameter, set so that competitive theory gives the published IC50
        // (IC50 = KB (1 + [A]/EC50)); it cannot go below KB.
        let wanted = seed.value / kb_rat - 1.0;
        let a = wanted.max(0.05);
        let assay = NativeAntagonism {
            id: id.into(),
            system: system.into(),
            readout: readout.into(),
            antagonist: "LY3020371".into(),
            antagonist_kb: kb_rat * nm_to_m,
            agonist_over_ec50: a,
            noise_sd: 4.0,
            replicates: 4,
        };
        let plate = assay.run(&mut rng);
        let fp = fit(plate, "4pl", &[], FitSpec::default());
        let ic50 = nm(derived(&fp.fit, "ec50"));
        rows.push(Row {
            id: format!("ic50-{id}"),
            compound: "LY3020371".into(),
            quantity: "IC50".into(),
            system: format!("{system}: agonist-suppressed {readout}"),
            seed_value: Some(seed.value),
            unit: "nM".into(),
            value: ic50.0,
            ci_low: ic50.1,
            ci_high: ic50.2,
            status: "calibrated".into(),
            source: seed.source.clone(),
            note: if wanted >= 0.05 {
                format!("native KB = rat cortical Ki {kb_rat} nM; the agonist concentration (not in the dossier) calibrated to {a:.3} x its EC50")
            } else {
                format!("native KB = rat cortical Ki {kb_rat} nM; the published IC50 is below KB, which competitive antagonism cannot produce: the agonist concentration is set to its floor (0.05 x EC50), so the IC50 cannot fall below 1.05 KB")
            },
        });
        plates.push(fp);
    }

    // ---- 4. NMDA receptor glycine site: 42d ----
    let (k42d, src42d) = lib_value("42d", "EC50", "GluN1/GluN2B", "nM");
    let (eff42d, src_eff) = lib_value("42d", "efficacy", "GluN1/GluN2B", "%");
    let (kgly, _) = lib_value("glycine", "EC50", "GluN1/GluN2B", "nM");
    let site = GlycineSite {
        receptor: "GluN1/GluN2B".into(),
        k_glycine: kgly * nm_to_m,
        // D-serine is 3-4 times more potent than glycine (Matsui et al. 1995) and a full agonist.
        k_dserine: kgly * nm_to_m / 3.5,
        eff_dserine: 1.0,
        k_partial: k42d * nm_to_m,
        eff_partial: eff42d / 100.0,
        partial: "42d".into(),
        biological_cv: 0.05,
    };
    let gly_plate = site.plate("nmda-glycine", "glycine", 0.0, 0.0, &mut rng);
    let gly_fit = fit(
        gly_plate,
        "4pl",
        &[],
        FitSpec {
            fixed: vec![("bottom".into(), 0.0)],
            ..FitSpec::default()
        },
    );
    let d_plate = site.plate("nmda-42d", "42d", 0.0, 0.0, &mut rng);
    let d_fit = fit(
        d_plate,
        "4pl",
        &[],
        FitSpec {
            fixed: vec![("bottom".into(), 0.0)],
            ..FitSpec::default()
        },
    );
    let ec50 = nm(derived(&d_fit.fit, "ec50"));
    rows.push(Row {
        id: "ec50-42d-glun2b".into(),
        compound: "42d".into(),
        quantity: "EC50".into(),
        system: "GluN1/GluN2B, glycine-site agonism (glutamate saturating, no added co-agonist)".into(),
        seed_value: Some(k42d),
        unit: "nM".into(),
        value: ec50.0,
        ci_low: ec50.1,
        ci_high: ec50.2,
        status: "input".into(),
        source: src42d,
        note: "two-agonist operational form at the glycine site; 42d concentration-response fitted with a 4PL (bottom 0)".into(),
    });
    let top42 = d_fit.fit.param("top").expect("top");
    let topgly = gly_fit.fit.value("top").unwrap_or(f64::NAN);
    rows.push(Row {
        id: "efficacy-42d-glun2b".into(),
        compound: "42d".into(),
        quantity: "efficacy".into(),
        system: "GluN1/GluN2B: maximal response relative to glycine's maximum".into(),
        seed_value: Some(eff42d),
        unit: "%".into(),
        value: 100.0 * top42.estimate / topgly,
        ci_low: top42.ci_low.map(|v| 100.0 * v / topgly),
        ci_high: top42.ci_high.map(|v| 100.0 * v / topgly),
        status: "input".into(),
        source: src_eff,
        note: "top of the 42d fit over the top of the glycine fit on the same receptors".into(),
    });
    // With the site saturated by endogenous D-serine (6.5 uM, Matsui et al. 1995),
    // 42d pulls the response down to its own ceiling.
    // Extracellular D-serine in rodent frontal cortex: 6.5 uM (Matsui et al.,
    // J Neurochem 1995;65:454; verified in the pharmacology notes).
    let dser = 6500.0;
    let sat_plate = site.plate("nmda-42d-vs-dserine", "42d", 0.0, dser * nm_to_m, &mut rng);
    let sat_fit = fit(sat_plate, "4pl", &[], FitSpec::default());
    let floor = sat_fit.fit.param("bottom").expect("bottom");
    let top_sat = sat_fit.fit.value("top").unwrap_or(f64::NAN);
    rows.push(Row {
        id: "ceiling-42d-vs-dserine".into(),
        compound: "42d".into(),
        quantity: "Ca2+ influx at saturating 42d".into(),
        system: format!("GluN1/GluN2B with the glycine site saturated by D-serine ({:.1} uM): response left at high 42d", dser / 1000.0),
        seed_value: None,
        unit: "% of glycine maximum".into(),
        value: floor.estimate,
        ci_low: floor.ci_low,
        ci_high: floor.ci_high,
        status: "predicted".into(),
        source: "dossier (Lu AF90103): less Ca2+ influx than a full agonist; D-serine level from Matsui et al., J Neurochem 1995".into(),
        note: format!(
            "a partial agonist acting as a functional antagonist: 42d lowers the D-serine-driven response ({top_sat:.1} %) to its own ceiling (efficacy {eff42d} %)"
        ),
    });
    plates.push(gly_fit);
    plates.push(d_fit);
    plates.push(sat_fit);

    Reproduction { seed, rows, plates }
}
