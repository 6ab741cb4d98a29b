//! Virtual plates: what an assay produces and what the fitter reads.

use ligand_fit::curve::{CurveData, FitReport};
use serde::Serialize;

/// One well.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Well {
    /// Concentration of the varied compound, in M (0 for control wells).
    pub conc: f64,
    /// The measured response, in `Plate::response_unit`.
    pub response: f64,
    /// Replicate number (1-based).
    pub replicate: usize,
    /// `sample`, or a control kind (`total`, `nonspecific`, `basal`, `standard`).
    pub kind: String,
}

/// A plate: the wells of one concentration-response experiment.
#[derive(Clone, Debug, Serialize)]
pub struct Plate {
    /// Short identifier, used for file names (`binding-hmGluR2`).
    pub id: String,
    /// What was done, in words.
    pub description: String,
    /// The compound varied across the plate.
    pub compound: String,
    /// The readout's name and unit (`counts (cpm)`, `cAMP (nM)`).
    pub response_unit: String,
    pub wells: Vec<Well>,
}

impl Plate {
    /// The sample wells as curve data for the fitter (x in M).
    pub fn curve(&self) -> CurveData {
        let mut d = CurveData::default();
        for (i, w) in self.wells.iter().enumerate() {
            if w.kind == "sample" && w.conc > 0.0 {
                d.x.push(w.conc);
                d.y.push(w.response);
                d.lines.push(i + 2);
            }
        }
        d
    }

    /// Mean response of the wells of a kind.
    pub fn mean_of(&self, kind: &str) -> Option<f64> {
        let v: Vec<f64> = self
            .wells
            .iter()
            .filter(|w| w.kind == kind)
            .map(|w| w.response)
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }

    /// The plate as CSV (`kind,replicate,conc_M,response`), one row per well.
    pub fn to_csv(&self) -> String {
        let mut s = format!(
            "# {}\n# compound varied: {}; response: {}\nkind,replicate,conc_M,response\n",
            self.description, self.compound, self.response_unit
        );
        for w in &self.wells {
            s += &format!(
                "{},{},{},{}\n",
                w.kind,
                w.replicate,
                ligand_fit_format(w.conc),
                ligand_fit_format(w.response)
            );
        }
        s
    }
}

fn ligand_fit_format(v: f64) -> String {
    // Shortest round-trip representation, as everywhere in ligand's output.
    let s = format!("{v:?}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A plate with the fit made of it.
#[derive(Clone, Debug, Serialize)]
pub struct FittedPlate {
    pub plate: Plate,
    pub fit: FitReport,
}

/// Half-log dilution series from `lo` to `hi` (M), inclusive.
pub fn half_log_series(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (lo.log10(), hi.log10());
    let n = ((b - a) / 0.5).round() as usize;
    (0..=n).map(|i| 10f64.powf(a + 0.5 * i as f64)).collect()
}
