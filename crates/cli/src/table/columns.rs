//! Assigning the header's columns to x, y, group and sd: by name where the specification names
//! them, by the auto-detection rules of [`TableSpec`] where it does not.

use csv::ByteRecord;

use super::cells::{edit_distance, parse_number, CellError};
use super::{ColumnRole, Format, TableError, TableSpec};

/// Names (after [`normalize`]) that mark the x column.
const X_NAMES: &[&str] = &[
    "x",
    "conc",
    "concentration",
    "dose",
    "log_conc",
    "log_concentration",
    "log_dose",
    "logconc",
    "log(conc)",
    "log(dose)",
    "time",
    "t",
];

/// Units that may follow an x name after `_` (`conc_nm`, `dose_mg/kg`, `time_min`), lower-cased.
const X_UNITS: &[&str] = &[
    "m", "mm", "um", "µm", "μm", "nm", "pm", "fm", "molar", "mol/l", "g/l", "mg/l", "ug/l", "ng/l",
    "mg/ml", "ug/ml", "ng/ml", "mg/kg", "ug/kg", "mg", "ug", "ng", "s", "sec", "min", "h", "hr",
    "hours", "minutes", "days",
];

/// Whether a normalised column name marks x: one of [`X_NAMES`], or one of them but `x` and `t`
/// followed by `_` and a unit of [`X_UNITS`] (`conc_nm`, `log_conc_m`, `time_min`).
fn is_x_name(name: &str) -> bool {
    X_NAMES.iter().any(|x| {
        name == *x
            || (x.len() > 1
                && name
                    .strip_prefix(x)
                    .and_then(|rest| rest.strip_prefix('_'))
                    .is_some_and(|unit| X_UNITS.contains(&unit)))
    })
}

/// Names (after [`normalize`]) that mark the y column of a long table.
const Y_NAMES: &[&str] = &["y", "response", "signal", "value", "effect"];

/// Names (after [`normalize`]) that mark group columns when none are given.
const GROUP_NAMES: &[&str] = &[
    "curve",
    "curve_id",
    "curveid",
    "group",
    "group_id",
    "compound",
    "compound_id",
    "sample",
    "sample_id",
    "series",
    "dataset",
    "drug",
    "ligand",
];

/// The columns of a table, by 0-based index into the header.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub x: usize,
    pub ys: Vec<usize>,
    pub groups: Vec<usize>,
    pub sd: Option<usize>,
    pub format: Format,
    /// Named columns that play no role.
    pub ignored: Vec<usize>,
    /// The name of the response: the y column in long format; in wide format the replicate
    /// columns' common stem (`resp_1, resp_2` give `resp`), or `y` if that is empty or only says
    /// "replicate".
    pub y_name: String,
}

/// Lower-cases a column name, drops a trailing unit in parentheses or brackets that follows a space
/// (`Conc (nM)`, `dose [mg/kg]`), and joins words with `_` (`Log Conc` gives `log_conc`).
pub(crate) fn normalize(name: &str) -> String {
    let mut name = name.trim().to_lowercase();
    for (open, close) in [(" (", ')'), (" [", ']')] {
        if name.ends_with(close) {
            if let Some(i) = name.rfind(open) {
                name.truncate(i);
            }
        }
    }
    let mut out = String::with_capacity(name.len());
    for word in name.split([' ', '-', '\t']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(word);
    }
    out
}

/// The stem shared by replicate columns: the name without a trailing number (`rep1`, `Y 2`,
/// `resp_3`, `1`) or a single trailing letter after a separator (`rep_a`), lower-cased, with trailing
/// separators removed. `None` if the name has neither. Lone letters (`A`, `B`) are not replicates:
/// in Prism they name data sets, which are different curves.
fn replicate_stem(name: &str) -> Option<String> {
    let lower = name.trim().to_lowercase();
    let without_number = lower.trim_end_matches(|c: char| c.is_ascii_digit());
    let stem = if without_number.len() < lower.len() {
        without_number
    } else {
        let mut chars = lower.chars();
        let last = chars.next_back()?;
        let rest = chars.as_str();
        let after_separator = rest.len() > 1 && rest.ends_with([' ', '_', '-', '.', ':']);
        if !last.is_ascii_alphabetic() || !after_separator {
            return None;
        }
        rest
    };
    Some(
        stem.trim_end_matches([' ', '_', '-', '.', ':', '#'])
            .to_string(),
    )
}

/// Finds the column `name`: an exact match, else the one match ignoring case.
fn find(file: &str, header: &[String], role: ColumnRole, name: &str) -> Result<usize, TableError> {
    let name = name.trim();
    let exact: Vec<usize> = (0..header.len()).filter(|&i| header[i] == name).collect();
    let matches = if exact.is_empty() {
        (0..header.len())
            .filter(|&i| header[i].to_lowercase() == name.to_lowercase())
            .collect()
    } else {
        exact
    };
    match matches.as_slice() {
        [i] => Ok(*i),
        [] => Err(TableError::MissingColumn {
            file: file.to_string(),
            role,
            name: name.to_string(),
            available: header.to_vec(),
            suggestion: suggest(header, name),
        }),
        several => Err(TableError::DuplicateColumn {
            file: file.to_string(),
            name: name.to_string(),
            positions: several.iter().map(|i| i + 1).collect(),
        }),
    }
}

/// The header name closest to `name`: within an edit distance of a third of its length (at least
/// 2), or one of them a prefix of the other; ignoring case.
fn suggest(header: &[String], name: &str) -> Option<String> {
    let wanted = name.to_lowercase();
    let limit = (wanted.chars().count() / 3).max(2);
    header
        .iter()
        .filter(|h| !h.is_empty())
        .filter_map(|h| {
            let lower = h.to_lowercase();
            let d = edit_distance(&lower, &wanted);
            let prefix = lower.starts_with(&wanted) || wanted.starts_with(&lower);
            (d <= limit || prefix).then_some((d, h))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, h)| h.clone())
}

/// Assigns the columns (see [`TableSpec`] for the rules). `first_row` is the first data row, used to
/// check that would-be replicate columns hold numbers.
pub(crate) fn resolve(
    file: &str,
    header: &[String],
    first_row: &ByteRecord,
    spec: &TableSpec,
    delimiter: u8,
) -> Result<Resolved, TableError> {
    let decimal_comma = delimiter == b';';
    let layout = |message: String| TableError::Layout {
        file: file.to_string(),
        message,
    };
    let n = header.len();
    // Two columns of one name: whichever we took, the user may have meant the other.
    for i in 0..n {
        if header[i].is_empty() {
            continue;
        }
        let same: Vec<usize> = (i..n).filter(|&j| header[j] == header[i]).collect();
        if same.len() > 1 {
            return Err(TableError::DuplicateColumn {
                file: file.to_string(),
                name: header[i].clone(),
                positions: same.iter().map(|j| j + 1).collect(),
            });
        }
    }
    // Which role each column has taken, to catch one column in two roles.
    let mut role: Vec<Option<ColumnRole>> = vec![None; n];
    let claim = |i: usize, r: ColumnRole, role: &mut [Option<ColumnRole>]| match role[i] {
        Some(other) if other == r => Err(layout(format!(
            "expected each column once for {r}, found `{}` twice",
            header[i]
        ))),
        Some(other) => Err(layout(format!(
            "expected different columns for {other} and {r}, found `{}` named for both",
            header[i]
        ))),
        _ => {
            role[i] = Some(r);
            Ok(())
        }
    };

    // 1. Columns named in the specification.
    let mut groups = Vec::new();
    for name in &spec.group {
        let i = find(file, header, ColumnRole::Group, name)?;
        if !groups.contains(&i) {
            claim(i, ColumnRole::Group, &mut role)?;
            groups.push(i);
        }
    }
    let sd = match &spec.sd {
        Some(name) => {
            let i = find(file, header, ColumnRole::Sd, name)?;
            claim(i, ColumnRole::Sd, &mut role)?;
            Some(i)
        }
        None => None,
    };
    let x = match &spec.x {
        Some(name) => {
            let i = find(file, header, ColumnRole::X, name)?;
            claim(i, ColumnRole::X, &mut role)?;
            Some(i)
        }
        None => None,
    };
    let mut ys = Vec::new();
    for name in &spec.y {
        let i = find(file, header, ColumnRole::Y, name)?;
        claim(i, ColumnRole::Y, &mut role)?;
        ys.push(i);
    }
    if ys.len() > 1 && sd.is_some() {
        return Err(layout(format!(
            "expected one y column with the sd column `{}`, found {} replicate y columns; \
             an sd column goes with a long table (one row per point)",
            header[sd.unwrap_or(0)],
            ys.len()
        )));
    }

    let named = |i: usize, role: &[Option<ColumnRole>]| role[i].is_none() && !header[i].is_empty();

    // 2. Group columns by name, when none were given.
    if spec.group.is_empty() && !spec.no_auto_group {
        for i in 0..n {
            if named(i, &role) && GROUP_NAMES.contains(&normalize(&header[i]).as_str()) {
                role[i] = Some(ColumnRole::Group);
                groups.push(i);
            }
        }
    }

    // 3. The x column: by name only. Falling back to "the first column left" turned well numbers
    //    and sample indices into concentrations with a good-looking fit, so an unrecognised header
    //    is an error that lists the columns and says how to name x.
    let x = match x {
        Some(i) => i,
        None => {
            let i = (0..n)
                .find(|&i| named(i, &role) && is_x_name(&normalize(&header[i])))
                .ok_or_else(|| {
                    let left: Vec<String> = (0..n)
                        .filter(|&i| named(i, &role))
                        .map(|i| header[i].clone())
                        .collect();
                    layout(format!(
                        "cannot tell which column holds x: expected a column named {} (a unit may \
                         follow, as in `conc_nM` or `Conc (nM)`), found {}; name it with --x COLUMN",
                        X_NAMES.join(", "),
                        if left.is_empty() {
                            "no column left".to_string()
                        } else {
                            list(&left)
                        }
                    ))
                })?;
            role[i] = Some(ColumnRole::X);
            i
        }
    };

    // 4. The y column(s): by name, else the one column left, else replicates.
    let mut format = if ys.len() > 1 {
        Format::Wide
    } else {
        Format::Long
    };
    if ys.is_empty() {
        let by_name =
            (0..n).find(|&i| named(i, &role) && Y_NAMES.contains(&normalize(&header[i]).as_str()));
        let left: Vec<usize> = (0..n).filter(|&i| named(i, &role)).collect();
        if let Some(i) = by_name {
            ys.push(i);
        } else if left.len() == 1 {
            ys.push(left[0]);
        } else if left.is_empty() {
            return Err(layout(format!(
                "expected a y column besides the x column `{}`, found no other column (the header \
                 line, split at {}, gives {}; the delimiters read are comma, tab and semicolon)",
                header[x],
                match delimiter {
                    b'\t' => "tabs",
                    b';' => "semicolons",
                    _ => "commas",
                },
                list(header)
            )));
        } else {
            let stems: Vec<Option<String>> =
                left.iter().map(|&i| replicate_stem(&header[i])).collect();
            let same_stem = stems[0].is_some() && stems.iter().all(|s| *s == stems[0]);
            let numeric = left.iter().all(|&i| {
                matches!(
                    parse_number(first_row.get(i).unwrap_or(b""), decimal_comma),
                    Ok(_) | Err(CellError::Empty)
                )
            });
            if !(same_stem && numeric) {
                return Err(layout(format!(
                    "cannot tell which column holds the response: expected a column named {}, \
                     or replicate columns of numbers named alike with a number (rep1, rep2, ... or Y1, Y2, ...), \
                     found {}; name the y column(s) explicitly",
                    Y_NAMES.join(", "),
                    list(&left.iter().map(|&i| header[i].clone()).collect::<Vec<_>>())
                )));
            }
            if sd.is_some() {
                return Err(layout(format!(
                    "expected one y column with the sd column, found replicate columns {}; name the y column",
                    list(&left.iter().map(|&i| header[i].clone()).collect::<Vec<_>>())
                )));
            }
            ys = left;
            format = Format::Wide;
        }
        for &i in &ys {
            role[i] = Some(ColumnRole::Y);
        }
    }

    let y_name = match format {
        Format::Long => header[ys[0]].clone(),
        Format::Wide => {
            let stem = replicate_stem(&header[ys[0]]).unwrap_or_default();
            let all_same = ys
                .iter()
                .all(|&i| replicate_stem(&header[i]).as_deref() == Some(stem.as_str()));
            if !all_same || matches!(stem.as_str(), "" | "y" | "r" | "rep" | "replicate") {
                "y".to_string()
            } else {
                stem
            }
        }
    };
    let ignored = (0..n).filter(|&i| named(i, &role)).collect();
    Ok(Resolved {
        x,
        ys,
        groups,
        sd,
        format,
        ignored,
        y_name,
    })
}

/// A list of column names for a message.
fn list(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(20).map(|n| format!("`{n}`")).collect();
    let mut out = shown.join(", ");
    if names.len() > 20 {
        out.push_str(&format!(" and {} more", names.len() - 20));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_names() {
        assert_eq!(normalize(" Conc (nM) "), "conc");
        assert_eq!(normalize("Log Conc"), "log_conc");
        assert_eq!(normalize("log(conc)"), "log(conc)");
        assert_eq!(normalize("dose [mg/kg]"), "dose");
        assert_eq!(normalize("Curve-ID"), "curve_id");
    }

    #[test]
    fn replicate_stems() {
        assert_eq!(replicate_stem("rep1").as_deref(), Some("rep"));
        assert_eq!(replicate_stem("Y 2").as_deref(), Some("y"));
        assert_eq!(replicate_stem("resp_3").as_deref(), Some("resp"));
        assert_eq!(replicate_stem("rep_b").as_deref(), Some("rep"));
        assert_eq!(replicate_stem("A"), None);
        assert_eq!(replicate_stem("_a"), None);
        assert_eq!(replicate_stem("12").as_deref(), Some(""));
        assert_eq!(replicate_stem("agonist"), None);
    }
}
