//! The built-in compound and target library.
//!
//! The data live in `data/compounds.toml` and `data/targets.toml`, compiled
//! into the binary with `include_str!` and parsed once, at first use, by
//! [`library`]. Every number carries its unit, the system it was measured
//! in, its source (a seed table row, a paper, or `assumed: reason`) and a
//! [`Status`] taken from the project's pharmacology notes.
//!
//! ```
//! use ligand_pharm::{library, Status};
//! let ki = library().value("LY3020371", "Ki", "hmGluR2", "nM").unwrap();
//! assert_eq!(ki.value, 5.26);
//! assert_eq!(ki.status, Status::Verified);
//! let e = library().value("42d", "efficacy", "GluN2B", "fraction").unwrap();
//! assert!((e.value - 0.24).abs() < 1e-15);
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use thiserror::Error;

use crate::units;

const COMPOUNDS_TOML: &str = include_str!("../data/compounds.toml");
const TARGETS_TOML: &str = include_str!("../data/targets.toml");

/// How far a number can be trusted (the convention of the pharmacology
/// notes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The number appears verbatim in the cited source.
    Verified,
    /// From a secondary source or recollection: check before relying on it.
    Unverified,
    /// Not in the literature we have: a modelling choice, with its reason in
    /// the source field.
    Assumed,
}

impl Status {
    /// The lowercase name used in the data files and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Unverified => "unverified",
            Status::Assumed => "assumed",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A number with its unit, the system it was measured in, its source and
/// its status.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quantity {
    pub value: f64,
    pub unit: String,
    pub system: String,
    pub source: String,
    pub status: Status,
    /// Where the source gives a range (a dose range, "1-2.5 uM"), its ends
    /// in `unit`; `value` is then the representative value the source
    /// line explains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<[f64; 2]>,
}

impl Quantity {
    /// The same quantity in another unit of the same dimension.
    pub fn converted(&self, unit: &str) -> Result<Quantity, units::UnitError> {
        let value = units::convert(self.value, &self.unit, unit)?;
        let range = match self.range {
            Some([lo, hi]) => Some([
                units::convert(lo, &self.unit, unit)?,
                units::convert(hi, &self.unit, unit)?,
            ]),
            None => None,
        };
        Ok(Quantity {
            value,
            unit: unit.to_string(),
            range,
            ..self.clone()
        })
    }
}

/// A measured activity of a compound at a target ("Ki", "IC50", "EC50",
/// "KB", "Kd", "efficacy", "nH", ...).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Activity {
    /// The canonical name of a [`Target`] in the library.
    pub target: String,
    pub quantity: String,
    #[serde(flatten)]
    pub value: Quantity,
}

/// A named property that is not an activity at a target: a salt's molecular
/// weight, a brain concentration, a deactivation time constant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Property {
    pub name: String,
    #[serde(flatten)]
    pub value: Quantity,
}

/// A dose from an in-vivo study.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InVivoDose {
    pub assay: String,
    pub species: String,
    /// "i.v.", "i.p.", "p.o.", ...
    pub route: String,
    /// "ED50", "dose range", "dose".
    pub measure: String,
    pub effect: String,
    #[serde(flatten)]
    pub dose: Quantity,
}

/// A compound of the library.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Compound {
    pub name: String,
    pub aliases: Vec<String>,
    /// Its pharmacological kind, e.g. "mGluR2/3 antagonist (orthosteric)".
    pub kind: String,
    pub description: String,
    pub molecular_weight: Option<Quantity>,
    pub activities: Vec<Activity>,
    pub properties: Vec<Property>,
    pub doses: Vec<InVivoDose>,
}

/// A receptor (or receptor preparation) of the library.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    pub name: String,
    pub aliases: Vec<String>,
    pub family: String,
    pub species: String,
    /// Signalling: G protein or ion permeability.
    pub coupling: String,
    /// Where in the synapse or tissue it sits.
    pub location: String,
    pub description: String,
    pub properties: Vec<Property>,
}

/// Why library data could not be read.
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum LibraryError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{item}: unit `{unit}` is not known")]
    UnknownUnit { item: String, unit: String },
    #[error("{item}: the source is empty")]
    EmptySource { item: String },
    #[error("{item}: the value {value} is not finite")]
    NotFinite { item: String, value: f64 },
    #[error("{item}: target `{target}` is not in the target library")]
    UnknownTarget { item: String, target: String },
    #[error("the name `{name}` is used twice (`{first}` and `{second}`)")]
    DuplicateName {
        name: String,
        first: String,
        second: String,
    },
}

/// The compounds and targets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Library {
    compounds: Vec<Compound>,
    targets: Vec<Target>,
    // Normalised name or alias -> index. BTreeMap: deterministic and small.
    #[serde(skip)]
    compound_index: BTreeMap<String, usize>,
    #[serde(skip)]
    target_index: BTreeMap<String, usize>,
}

/// The built-in library, parsed at first use.
///
/// # Panics
/// Only if the built-in data are malformed, which the crate's tests guard
/// against.
pub fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        Library::from_toml(COMPOUNDS_TOML, TARGETS_TOML)
            .unwrap_or_else(|e| panic!("the built-in compound library is malformed: {e}"))
    })
}

/// Lookup key: case-insensitive, ignoring spaces, hyphens and underscores,
/// and treating both micro signs alike, so "ly-3020371" finds "LY3020371".
fn key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Library {
    /// Parses a library from the text of a compounds file and a targets
    /// file (the format of `crates/pharm/data/*.toml`), and checks it: every
    /// unit known, every source non-empty, every value finite, every
    /// activity's target present, no name or alias used twice.
    pub fn from_toml(compounds: &str, targets: &str) -> Result<Library, LibraryError> {
        let raw_c: raw::CompoundsFile =
            toml::from_str(compounds).map_err(|e| LibraryError::Syntax {
                file: "compounds.toml".into(),
                message: e.to_string(),
            })?;
        let raw_t: raw::TargetsFile =
            toml::from_str(targets).map_err(|e| LibraryError::Syntax {
                file: "targets.toml".into(),
                message: e.to_string(),
            })?;

        let mut target_index = BTreeMap::new();
        let mut targets_out = Vec::new();
        for t in raw_t.target {
            let i = targets_out.len();
            for n in std::iter::once(&t.name).chain(&t.aliases) {
                insert_unique(&mut target_index, n, i, &t.name, |j| {
                    targets_out
                        .get(j)
                        .map_or(t.name.clone(), |x: &Target| x.name.clone())
                })?;
            }
            let properties = t
                .property
                .into_iter()
                .map(|p| p.build(&t.name))
                .collect::<Result<_, _>>()?;
            targets_out.push(Target {
                name: t.name,
                aliases: t.aliases,
                family: t.family,
                species: t.species,
                coupling: t.coupling,
                location: t.location,
                description: t.description,
                properties,
            });
        }

        let mut compound_index = BTreeMap::new();
        let mut compounds_out: Vec<Compound> = Vec::new();
        for c in raw_c.compound {
            let i = compounds_out.len();
            for n in std::iter::once(&c.name).chain(&c.aliases) {
                insert_unique(&mut compound_index, n, i, &c.name, |j| {
                    compounds_out
                        .get(j)
                        .map_or(c.name.clone(), |x| x.name.clone())
                })?;
            }
            let molecular_weight = c
                .molecular_weight
                .map(|q| q.build(&format!("{}: molecular weight", c.name)))
                .transpose()?;
            let mut activities = Vec::new();
            for a in c.activity {
                let item = format!("{}: {} at {}", c.name, a.quantity, a.target);
                let Some(&ti) = target_index.get(&key(&a.target)) else {
                    return Err(LibraryError::UnknownTarget {
                        item,
                        target: a.target,
                    });
                };
                activities.push(Activity {
                    target: targets_out[ti].name.clone(),
                    quantity: a.quantity,
                    value: raw::RawQuantity {
                        value: a.value,
                        unit: a.unit,
                        system: a.system,
                        source: a.source,
                        status: a.status,
                        range: a.range,
                    }
                    .build(&item)?,
                });
            }
            let properties = c
                .property
                .into_iter()
                .map(|p| p.build(&c.name))
                .collect::<Result<_, _>>()?;
            let doses = c
                .dose
                .into_iter()
                .map(|d| {
                    let item = format!("{}: dose in {}", c.name, d.assay);
                    Ok(InVivoDose {
                        dose: raw::RawQuantity {
                            value: d.value,
                            unit: d.unit,
                            system: d.system,
                            source: d.source,
                            status: d.status,
                            range: d.range,
                        }
                        .build(&item)?,
                        assay: d.assay,
                        species: d.species,
                        route: d.route,
                        measure: d.measure,
                        effect: d.effect,
                    })
                })
                .collect::<Result<_, LibraryError>>()?;
            compounds_out.push(Compound {
                name: c.name,
                aliases: c.aliases,
                kind: c.kind,
                description: c.description,
                molecular_weight,
                activities,
                properties,
                doses,
            });
        }
        Ok(Library {
            compounds: compounds_out,
            targets: targets_out,
            compound_index,
            target_index,
        })
    }

    /// Every compound, in the order of the data file.
    pub fn compounds(&self) -> &[Compound] {
        &self.compounds
    }

    /// Every target, in the order of the data file.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The compound called `name` or with alias `name` (case-insensitive;
    /// spaces, hyphens and underscores ignored).
    pub fn compound(&self, name: &str) -> Option<&Compound> {
        self.compound_index
            .get(&key(name))
            .map(|&i| &self.compounds[i])
    }

    /// The target called `name` or with alias `name` (as [`Library::compound`]).
    pub fn target(&self, name: &str) -> Option<&Target> {
        self.target_index.get(&key(name)).map(|&i| &self.targets[i])
    }

    /// Every compound name and alias, for "did you mean" suggestions.
    pub fn compound_names(&self) -> Vec<&str> {
        self.compounds
            .iter()
            .flat_map(|c| {
                std::iter::once(c.name.as_str()).chain(c.aliases.iter().map(|s| s.as_str()))
            })
            .collect()
    }

    /// Every target name and alias.
    pub fn target_names(&self) -> Vec<&str> {
        self.targets
            .iter()
            .flat_map(|t| {
                std::iter::once(t.name.as_str()).chain(t.aliases.iter().map(|s| s.as_str()))
            })
            .collect()
    }

    /// Every activity of `compound` of kind `quantity` (case-insensitive) at
    /// `target` (name or alias), in data-file order.
    pub fn activities(&self, compound: &str, quantity: &str, target: &str) -> Vec<&Activity> {
        let (Some(c), Some(t)) = (self.compound(compound), self.target(target)) else {
            return Vec::new();
        };
        c.activities
            .iter()
            .filter(|a| a.target == t.name && a.quantity.eq_ignore_ascii_case(quantity))
            .collect()
    }

    /// The value of `quantity` ("Ki", "IC50", "EC50", "KB", "Kd",
    /// "efficacy", ...) of `compound` at `target`, converted to `unit` ("nM",
    /// "M", "uM", "%", "fraction", ...). Where several systems report the
    /// quantity, the first in the data file (the primary one) is returned;
    /// [`Library::value_in`] picks by system. `None` when the compound, the
    /// target or the activity is missing, or the unit does not fit.
    pub fn value(
        &self,
        compound: &str,
        quantity: &str,
        target: &str,
        unit: &str,
    ) -> Option<Quantity> {
        self.activities(compound, quantity, target)
            .first()
            .and_then(|a| a.value.converted(unit).ok())
    }

    /// As [`Library::value`], for the first activity whose system contains
    /// `system` (case-insensitive), e.g. "glutamate release".
    pub fn value_in(
        &self,
        compound: &str,
        quantity: &str,
        target: &str,
        system: &str,
        unit: &str,
    ) -> Option<Quantity> {
        let needle = system.to_lowercase();
        self.activities(compound, quantity, target)
            .into_iter()
            .find(|a| a.value.system.to_lowercase().contains(&needle))
            .and_then(|a| a.value.converted(unit).ok())
    }
}

fn insert_unique(
    index: &mut BTreeMap<String, usize>,
    name: &str,
    i: usize,
    owner: &str,
    name_of: impl Fn(usize) -> String,
) -> Result<(), LibraryError> {
    match index.get(&key(name)) {
        // A compound may list an alias that normalises to its own name.
        Some(&j) if j == i => Ok(()),
        Some(&j) => Err(LibraryError::DuplicateName {
            name: name.to_string(),
            first: name_of(j),
            second: owner.to_string(),
        }),
        None => {
            index.insert(key(name), i);
            Ok(())
        }
    }
}

/// The shapes of the data files.
mod raw {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct CompoundsFile {
        #[serde(default)]
        pub compound: Vec<RawCompound>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct TargetsFile {
        #[serde(default)]
        pub target: Vec<RawTarget>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawQuantity {
        pub value: f64,
        pub unit: String,
        #[serde(default)]
        pub system: String,
        pub source: String,
        pub status: Status,
        #[serde(default)]
        pub range: Option<[f64; 2]>,
    }

    impl RawQuantity {
        pub fn build(self, item: &str) -> Result<Quantity, LibraryError> {
            if units::unit_scale(&self.unit).is_err() {
                return Err(LibraryError::UnknownUnit {
                    item: item.to_string(),
                    unit: self.unit,
                });
            }
            if self.source.trim().is_empty() {
                return Err(LibraryError::EmptySource {
                    item: item.to_string(),
                });
            }
            for v in std::iter::once(self.value).chain(self.range.into_iter().flatten()) {
                if !v.is_finite() {
                    return Err(LibraryError::NotFinite {
                        item: item.to_string(),
                        value: v,
                    });
                }
            }
            Ok(Quantity {
                value: self.value,
                unit: self.unit,
                system: self.system,
                source: self.source,
                status: self.status,
                range: self.range,
            })
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawProperty {
        pub name: String,
        pub value: f64,
        pub unit: String,
        #[serde(default)]
        pub system: String,
        pub source: String,
        pub status: Status,
        #[serde(default)]
        pub range: Option<[f64; 2]>,
    }

    impl RawProperty {
        pub fn build(self, owner: &str) -> Result<Property, LibraryError> {
            let item = format!("{owner}: {}", self.name);
            let q = RawQuantity {
                value: self.value,
                unit: self.unit,
                system: self.system,
                source: self.source,
                status: self.status,
                range: self.range,
            };
            Ok(Property {
                value: q.build(&item)?,
                name: self.name,
            })
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawActivity {
        pub target: String,
        pub quantity: String,
        pub value: f64,
        pub unit: String,
        #[serde(default)]
        pub system: String,
        pub source: String,
        pub status: Status,
        #[serde(default)]
        pub range: Option<[f64; 2]>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawDose {
        pub assay: String,
        pub species: String,
        pub route: String,
        pub measure: String,
        #[serde(default)]
        pub effect: String,
        pub value: f64,
        pub unit: String,
        #[serde(default)]
        pub system: String,
        pub source: String,
        pub status: Status,
        #[serde(default)]
        pub range: Option<[f64; 2]>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawCompound {
        pub name: String,
        #[serde(default)]
        pub aliases: Vec<String>,
        pub kind: String,
        #[serde(default)]
        pub description: String,
        #[serde(default)]
        pub molecular_weight: Option<RawQuantity>,
        #[serde(default)]
        pub activity: Vec<RawActivity>,
        #[serde(default)]
        pub property: Vec<RawProperty>,
        #[serde(default)]
        pub dose: Vec<RawDose>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawTarget {
        pub name: String,
        #[serde(default)]
        pub aliases: Vec<String>,
        pub family: String,
        #[serde(default)]
        pub species: String,
        #[serde(default)]
        pub coupling: String,
        #[serde(default)]
        pub location: String,
        #[serde(default)]
        pub description: String,
        #[serde(default)]
        pub property: Vec<RawProperty>,
    }
}
