//! The units a model declares, as far as converting a concentration given
//! on the command line (`--dose A=100nM`, `--set A=1uM`) needs them: the
//! substance unit of each species (in mol) and the volume unit of each
//! compartment (in litres).
//!
//! The model IR carries no units (ligand does not check them), so they are
//! read here from the model's text:
//!
//! - a **built-in model** is in nM (amounts in nmol, sizes in litres);
//! - **SBML**: the `substance` and `volume` units (Level 2: mole and litre
//!   unless a `unitDefinition` redefines them; Level 3: the model's
//!   `substanceUnits` and `volumeUnits`, no default), a species'
//!   `substanceUnits` and a compartment's `units`, each a base unit (`mole`,
//!   `item`, `litre`, `metre` cubed) or a `unitDefinition` of one, with its
//!   multiplier, scale and exponent;
//! - **Antimony**: `unit substance = ...` and `unit volume = ...` with a
//!   number and `mole`, `mmole`, `umole`, `nmole`, `pmole`, `item`, or
//!   `litre`, `mL`, `uL`, `nL`, `pL`, `fL` (and `liter` spellings).
//!
//! Anything else (a species with its own units in Antimony, a unit in grams,
//! a two-dimensional compartment) is not guessed: the conversion is refused
//! with what is missing.

use std::collections::HashMap;

/// Avogadro's constant (SI 2019, exact), for `item`.
const AVOGADRO: f64 = 6.022_140_76e23;

/// A unit in mol or litres, or why it is not known.
type Factor = Result<f64, String>;

/// The units of a model.
#[derive(Clone, Debug)]
pub(super) enum ModelUnits {
    /// A built-in model: nM.
    Builtin,
    /// Units read from the model's text.
    Declared {
        /// The default substance and volume units (for species and
        /// compartments without their own).
        substance: Factor,
        volume: Factor,
        /// Species with their own substance unit.
        species: HashMap<String, Factor>,
        /// Compartments with their own unit.
        compartments: HashMap<String, Factor>,
    },
}

impl ModelUnits {
    /// How many mol/L one unit of concentration of `species` (in
    /// `compartment`) is: its substance unit over its compartment's volume
    /// unit.
    pub(super) fn molar(&self, species: &str, compartment: &str) -> Result<f64, String> {
        match self {
            ModelUnits::Builtin => Ok(1e-9),
            ModelUnits::Declared {
                substance,
                volume,
                species: sp,
                compartments,
            } => {
                let s = sp.get(species).unwrap_or(substance).clone()?;
                let v = compartments.get(compartment).unwrap_or(volume).clone()?;
                Ok(s / v)
            }
        }
    }

    /// The units of an SBML document.
    pub(super) fn from_sbml(src: &str) -> ModelUnits {
        let level = tags(src, "sbml")
            .first()
            .and_then(|(_, a)| a.get("level").and_then(|l| l.parse::<u32>().ok()))
            .unwrap_or(3);
        // Unit definitions: id -> (the kind of its single base unit, factor).
        let mut defs: HashMap<String, Result<(&'static str, f64), String>> = HashMap::new();
        for (start, attrs) in tags(src, "unitDefinition") {
            let Some(id) = attrs.get("id") else { continue };
            let end = src[start..]
                .find("</unitDefinition>")
                .map_or(src.len(), |e| start + e);
            let units = tags(&src[start..end], "unit");
            defs.insert(id.to_string(), definition(id, &units));
        }
        let resolve = |unit: &str, want: &str| -> Factor {
            let (kind, f) = match defs.get(unit) {
                Some(d) => d.clone()?,
                None => {
                    // Levels 1 and 2 predefine `substance` and `volume`.
                    let builtin = match (unit, level) {
                        ("substance", 1 | 2) => "mole",
                        ("volume", 1 | 2) => "litre",
                        _ => unit,
                    };
                    base(builtin, 1.0, 0.0, 1.0)
                        .ok_or_else(|| format!("the unit `{unit}` is not defined in the model"))?
                }
            };
            if kind == want {
                Ok(f)
            } else {
                Err(format!("the unit `{unit}` is not a {want}"))
            }
        };
        let model = tags(src, "model").into_iter().next().map(|(_, a)| a);
        let global = |attr: &str, l2_default: &str, want: &str| -> Factor {
            let declared = model.as_ref().and_then(|m| m.get(attr)).copied();
            match (declared, level) {
                (Some(u), _) => resolve(u, want),
                (None, 1 | 2) => resolve(l2_default, want),
                (None, _) => Err(format!(
                    "the model declares no {want} unit (SBML Level 3 `{attr}` on the model)"
                )),
            }
        };
        let substance = global("substanceUnits", "substance", "substance");
        let volume = global("volumeUnits", "volume", "volume");
        let mut species = HashMap::new();
        for (_, a) in tags(src, "species") {
            if let (Some(id), Some(u)) = (a.get("id"), a.get("substanceUnits")) {
                species.insert(id.to_string(), resolve(u, "substance"));
            }
        }
        let mut compartments = HashMap::new();
        for (_, a) in tags(src, "compartment") {
            let Some(id) = a.get("id") else { continue };
            let dims = a
                .get("spatialDimensions")
                .and_then(|d| d.parse::<f64>().ok())
                .unwrap_or(3.0);
            let f = if dims != 3.0 {
                Err(format!(
                    "compartment `{id}` has {dims} dimensions, not a volume"
                ))
            } else if let Some(u) = a.get("units") {
                resolve(u, "volume")
            } else {
                continue;
            };
            compartments.insert(id.to_string(), f);
        }
        ModelUnits::Declared {
            substance,
            volume,
            species,
            compartments,
        }
    }

    /// The units of an Antimony text.
    pub(super) fn from_antimony(src: &str) -> ModelUnits {
        let mut substance: Factor =
            Err("the model declares no substance unit (`unit substance = nmole`, say)".into());
        let mut volume: Factor =
            Err("the model declares no volume unit (`unit volume = litre`, say)".into());
        let mut species = HashMap::new();
        for statement in src
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .flat_map(|l| l.split(';'))
        {
            let s = statement.trim();
            if let Some(rest) = s.strip_prefix("unit ") {
                let Some((name, def)) = rest.split_once('=') else {
                    continue;
                };
                match name.trim() {
                    "substance" => substance = antimony_unit(def.trim(), "substance"),
                    "volume" => volume = antimony_unit(def.trim(), "volume"),
                    _ => {}
                }
            } else if let Some((id, _)) = s.split_once(" has ") {
                // A symbol with its own unit: not converted.
                let id = id.trim().to_string();
                species.insert(
                    id.clone(),
                    Err(format!(
                        "`{id}` has its own unit (`has`), which ligand does not convert"
                    )),
                );
            }
        }
        ModelUnits::Declared {
            substance,
            volume,
            compartments: species.clone(),
            species,
        }
    }
}

/// A base unit of SBML with its modifiers: (`substance` or `volume`,
/// factor in mol or litres), or `None` for a kind that is neither.
fn base(kind: &str, multiplier: f64, scale: f64, exponent: f64) -> Option<(&'static str, f64)> {
    let m = multiplier * 10f64.powf(scale);
    // Exponents are small integers in practice; compare them as such.
    let e = exponent.round() as i32;
    if f64::from(e) != exponent {
        return None;
    }
    match (kind, e) {
        ("mole", 1) => Some(("substance", m)),
        ("item", 1) => Some(("substance", m / AVOGADRO)),
        ("litre" | "liter", 1) => Some(("volume", m)),
        ("metre" | "meter", 3) => Some(("volume", m.powi(3) * 1000.0)),
        _ => None,
    }
}

/// An SBML unit definition of one base unit (dimensionless factors aside).
fn definition(
    id: &str,
    units: &[(usize, HashMap<&str, &str>)],
) -> Result<(&'static str, f64), String> {
    let num = |a: &HashMap<&str, &str>, k: &str, d: f64| {
        a.get(k)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(d)
    };
    let mut found: Option<(&'static str, f64)> = None;
    let mut factor = 1.0;
    for (_, a) in units {
        let kind = a.get("kind").copied().unwrap_or("");
        let (m, s, e) = (
            num(a, "multiplier", 1.0),
            num(a, "scale", 0.0),
            num(a, "exponent", 1.0),
        );
        if kind == "dimensionless" {
            factor *= (m * 10f64.powf(s)).powf(e);
            continue;
        }
        match (base(kind, m, s, e), found) {
            (Some(b), None) => found = Some(b),
            _ => {
                return Err(format!(
                    "the unit `{id}` is not a plain substance or volume unit"
                ))
            }
        }
    }
    found
        .map(|(k, f)| (k, f * factor))
        .ok_or_else(|| format!("the unit `{id}` is not a substance or volume unit"))
}

/// An Antimony unit expression: an optional number times one named unit.
fn antimony_unit(def: &str, want: &str) -> Factor {
    let names: [(&str, &str, f64); 16] = [
        ("mole", "substance", 1.0),
        ("mol", "substance", 1.0),
        ("mmole", "substance", 1e-3),
        ("umole", "substance", 1e-6),
        ("nmole", "substance", 1e-9),
        ("pmole", "substance", 1e-12),
        ("item", "substance", 1.0 / AVOGADRO),
        ("litre", "volume", 1.0),
        ("liter", "volume", 1.0),
        ("L", "volume", 1.0),
        ("mL", "volume", 1e-3),
        ("ml", "volume", 1e-3),
        ("uL", "volume", 1e-6),
        ("nL", "volume", 1e-9),
        ("pL", "volume", 1e-12),
        ("fL", "volume", 1e-15),
    ];
    let mut parts = def.split_whitespace().collect::<Vec<_>>();
    let mut factor = 1.0;
    if parts.len() == 2 {
        factor = parts[0]
            .parse::<f64>()
            .map_err(|_| format!("the {want} unit `{def}` is not a number times a unit"))?;
        parts.remove(0);
    }
    match (parts.as_slice(), names.iter().find(|(n, _, _)| parts.first() == Some(n))) {
        ([_], Some((_, kind, f))) if *kind == want => Ok(factor * f),
        _ => Err(format!(
            "the {want} unit `{def}` is not one ligand converts (mole, mmole, umole, nmole, pmole, item; litre, mL, uL, nL, pL, fL)"
        )),
    }
}

/// The start tags `<name ...>` of `src` (unprefixed), with their byte
/// offsets and attributes (`key="value"` or `key='value'`).
fn tags<'a>(src: &'a str, name: &str) -> Vec<(usize, HashMap<&'a str, &'a str>)> {
    let mut out = Vec::new();
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(i) = src[from..].find(&open) {
        let start = from + i;
        let after = start + open.len();
        from = after;
        match src[after..].chars().next() {
            Some(c) if c.is_whitespace() || c == '>' || c == '/' => {}
            _ => continue,
        }
        let end = src[after..].find('>').map_or(src.len(), |e| after + e);
        out.push((start, attributes(&src[after..end])));
    }
    out
}

fn attributes(s: &str) -> HashMap<&str, &str> {
    let mut out = HashMap::new();
    let mut rest = s;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq]
            .trim()
            .rsplit(char::is_whitespace)
            .next()
            .unwrap_or("");
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(close) = after[1..].find(q) else {
            break;
        };
        out.insert(key, &after[1..1 + close]);
        rest = &after[close + 2..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbml_level_2_defaults_to_mole_and_litre() {
        let u = ModelUnits::from_sbml(
            r#"<sbml level="2" version="4"><model id="m"><listOfCompartments><compartment id="c" size="1e-15"/></listOfCompartments></model></sbml>"#,
        );
        assert_eq!(u.molar("A", "c").unwrap(), 1.0);
        // Redefining one keeps the other's default.
        let u = ModelUnits::from_sbml(
            r#"<sbml level="2" version="4"><model id="m"><listOfUnitDefinitions><unitDefinition id="substance"><listOfUnits><unit kind="mole" scale="-9"/></listOfUnits></unitDefinition></listOfUnitDefinitions></model></sbml>"#,
        );
        assert!((u.molar("A", "c").unwrap() - 1e-9).abs() < 1e-24);
    }

    #[test]
    fn sbml_unit_definitions_scale() {
        let u = ModelUnits::from_sbml(
            r#"<sbml level="2" version="4"><model id="m">
<listOfUnitDefinitions>
  <unitDefinition id="substance"><listOfUnits><unit kind="mole" scale="-9"/></listOfUnits></unitDefinition>
  <unitDefinition id="fl"><listOfUnits><unit kind="litre" scale="-15"/></listOfUnits></unitDefinition>
  <unitDefinition id="molecules"><listOfUnits><unit kind="item"/></listOfUnits></unitDefinition>
  <unitDefinition id="gram_per"><listOfUnits><unit kind="gram"/></listOfUnits></unitDefinition>
</listOfUnitDefinitions>
<listOfCompartments><compartment id="c" size="1"/><compartment id="f" units="fl" size="1"/></listOfCompartments>
<listOfSpecies><species id="A" compartment="c"/><species id="N" compartment="f" substanceUnits="molecules"/><species id="G" compartment="c" substanceUnits="gram_per"/></listOfSpecies>
</model></sbml>"#,
        );
        // nmol per litre: nM.
        assert!((u.molar("A", "c").unwrap() - 1e-9).abs() < 1e-24);
        // molecules per fL.
        let f = u.molar("N", "f").unwrap();
        assert!((f - 1.0 / AVOGADRO / 1e-15).abs() < 1e-12 * f);
        assert!(u.molar("G", "c").unwrap_err().contains("gram_per"));
    }

    #[test]
    fn sbml_level_3_needs_declared_units() {
        let u =
            ModelUnits::from_sbml(r#"<sbml level="3" version="2"><model id="m"></model></sbml>"#);
        assert!(u.molar("A", "c").unwrap_err().contains("substanceUnits"));
        let u = ModelUnits::from_sbml(
            r#"<sbml level="3" version="2"><model id="m" substanceUnits="mole" volumeUnits="litre"></model></sbml>"#,
        );
        assert_eq!(u.molar("A", "c").unwrap(), 1.0);
    }

    #[test]
    fn antimony_unit_declarations() {
        let u = ModelUnits::from_antimony(
            "model m\n unit substance = 1e-6 mole; unit volume = litre\n species A in c\nend",
        );
        assert!((u.molar("A", "c").unwrap() - 1e-6).abs() < 1e-20);
        let u = ModelUnits::from_antimony("unit substance = nmole\nunit volume = fL");
        assert!((u.molar("A", "c").unwrap() - 1e6).abs() < 1e-6);
        let u = ModelUnits::from_antimony("species A in c; A = 1");
        assert!(u.molar("A", "c").unwrap_err().contains("no substance unit"));
        let u = ModelUnits::from_antimony("unit substance = 3 furlongs; unit volume = litre");
        assert!(u.molar("A", "c").unwrap_err().contains("furlongs"));
        let u = ModelUnits::from_antimony("unit substance = mole; unit volume = litre; A has uM");
        assert!(u.molar("A", "c").unwrap_err().contains("own unit"));
    }
}
