//! Units of the library's numbers and conversions between them.
//!
//! A unit belongs to one dimension (concentration, fraction, dose per body
//! mass, molar mass, time, voltage); conversion is a multiplication by the
//! ratio of the two units' scale factors and is refused across dimensions.
//! Concentrations accept the spellings people type: `nM`, `uM`, `µM` (micro
//! sign U+00B5) and `μM` (Greek mu U+03BC), `M`, `mol/L`.
//!
//! ```
//! use ligand_pharm::units;
//! assert!((units::to_molar("100 nM").unwrap() - 1e-7).abs() < 1e-21);
//! assert!((units::to_molar("0.1µM").unwrap() - 1e-7).abs() < 1e-20);
//! assert!((units::convert(24.0, "%", "fraction").unwrap() - 0.24).abs() < 1e-15);
//! assert!(units::convert(1.0, "nM", "%").is_err());
//! ```

use thiserror::Error;

/// What a unit measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dimension {
    /// Amount concentration; the base unit is mol/L (M).
    Concentration,
    /// A dimensionless fraction or percentage; the base unit is 1.
    Fraction,
    /// Dose per body mass; the base unit is mg/kg.
    DosePerMass,
    /// Molar mass; the base unit is g/mol.
    MolarMass,
    /// Time; the base unit is the second.
    Time,
    /// Electric potential; the base unit is the millivolt.
    Voltage,
}

/// A unit that could not be read or converted.
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum UnitError {
    #[error("unknown unit `{unit}`")]
    UnknownUnit { unit: String },
    #[error("cannot convert `{from}` to `{to}`: they measure different things")]
    Incompatible { from: String, to: String },
    #[error("`{text}` is not a number followed by a unit (e.g. `100 nM`)")]
    Malformed { text: String },
    #[error("`{text}` is not a concentration (expected M, mM, uM, nM, pM, ...)")]
    NotConcentration { text: String },
}

/// The dimension and the scale factor to the dimension's base unit.
pub fn unit_scale(unit: &str) -> Result<(Dimension, f64), UnitError> {
    use Dimension::*;
    let u = unit.trim();
    // Both micro signs people type (U+00B5 and U+03BC) mean `u`.
    let norm = u.replace(['\u{b5}', '\u{3bc}'], "u");
    let found = match norm.as_str() {
        "M" | "mol/L" | "mol/l" => (Concentration, 1.0),
        "mM" => (Concentration, 1e-3),
        "uM" => (Concentration, 1e-6),
        "nM" => (Concentration, 1e-9),
        "pM" => (Concentration, 1e-12),
        "fM" => (Concentration, 1e-15),
        "1" | "fraction" | "" => (Fraction, 1.0),
        "%" | "percent" => (Fraction, 1e-2),
        "mg/kg" => (DosePerMass, 1.0),
        "ug/kg" => (DosePerMass, 1e-3),
        "g/kg" => (DosePerMass, 1e3),
        "g/mol" | "Da" => (MolarMass, 1.0),
        "kDa" => (MolarMass, 1e3),
        "s" => (Time, 1.0),
        "ms" => (Time, 1e-3),
        "min" => (Time, 60.0),
        "h" => (Time, 3600.0),
        "mV" => (Voltage, 1.0),
        "V" => (Voltage, 1e3),
        _ => {
            return Err(UnitError::UnknownUnit {
                unit: u.to_string(),
            })
        }
    };
    Ok(found)
}

/// The dimension of `unit`.
pub fn dimension(unit: &str) -> Result<Dimension, UnitError> {
    unit_scale(unit).map(|(d, _)| d)
}

/// Converts `value` from unit `from` to unit `to` (same dimension).
///
/// ```
/// use ligand_pharm::units::convert;
/// assert!((convert(5.26, "nM", "M").unwrap() - 5.26e-9).abs() < 1e-24);
/// assert!((convert(2.5, "uM", "nM").unwrap() - 2500.0).abs() < 1e-9);
/// ```
pub fn convert(value: f64, from: &str, to: &str) -> Result<f64, UnitError> {
    let (df, sf) = unit_scale(from)?;
    let (dt, st) = unit_scale(to)?;
    if df != dt {
        return Err(UnitError::Incompatible {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    if sf == st {
        return Ok(value);
    }
    Ok(value * sf / st)
}

/// Splits `"100 nM"`, `"1e-7M"` or `"0.1µM"` into the number and the unit
/// text (which may be empty).
///
/// ```
/// use ligand_pharm::units::parse_quantity;
/// assert_eq!(parse_quantity("1e-7 M").unwrap(), (1e-7, "M".to_string()));
/// assert_eq!(parse_quantity("24%").unwrap(), (24.0, "%".to_string()));
/// ```
pub fn parse_quantity(text: &str) -> Result<(f64, String), UnitError> {
    let t = text.trim();
    let malformed = || UnitError::Malformed {
        text: text.to_string(),
    };
    // The longest prefix that parses as a number is the value; an exponent
    // marker `e` is taken only when digits follow it, so `1e` stays malformed
    // rather than splitting as `1` and unit `e`.
    let bytes = t.as_bytes();
    let mut end = 0;
    for i in 1..=bytes.len() {
        if !t.is_char_boundary(i) {
            continue;
        }
        if t[..i].parse::<f64>().is_ok() && !t[..i].ends_with(['e', 'E']) {
            end = i;
        }
    }
    if end == 0 {
        return Err(malformed());
    }
    let value: f64 = t[..end].parse().map_err(|_| malformed())?;
    let unit = t[end..].trim().to_string();
    // Reject texts such as `inf nM` read as numbers by f64::from_str but not
    // meant as concentrations.
    if !value.is_finite() {
        return Err(malformed());
    }
    Ok((value, unit))
}

/// Parses a concentration such as `"100nM"`, `"100 nM"`, `"1e-7 M"`,
/// `"0.1uM"` or `"0.1 µM"` and returns it in mol/L. A bare number is
/// refused: a concentration without a unit is ambiguous.
///
/// ```
/// use ligand_pharm::units::to_molar;
/// assert_eq!(to_molar("1e-7 M").unwrap(), 1e-7);
/// assert!((to_molar("33nM").unwrap() - 3.3e-8).abs() < 1e-22);
/// assert!(to_molar("100").is_err());
/// ```
pub fn to_molar(text: &str) -> Result<f64, UnitError> {
    let (value, unit) = parse_quantity(text)?;
    match unit_scale(&unit) {
        Ok((Dimension::Concentration, s)) => Ok(value * s),
        _ => Err(UnitError::NotConcentration {
            text: text.to_string(),
        }),
    }
}
