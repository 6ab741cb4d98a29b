//! Reading assay data tables for `ligand fit DATA ...`.
//!
//! A table is read into a [`Dataset`]: the curves ([`Group`]s, in order of first appearance), each a
//! list of [`Point`]s `(x, y, sd)` that remember the file line they came from. [`TableSpec`] says
//! which columns are x, y, group and sd; what it leaves out is detected (the rules are on
//! [`TableSpec`]). [`read_dataset`] reads a whole table; [`read_groups_streaming`] yields one group
//! at a time from a table sorted by group, so a million curves never sit in memory together. Both
//! report problems as a [`TableError`] that names the file, the line and the column.
//!
//! # Input
//!
//! - A path, or `-` for stdin. Gzip is decompressed when the name ends in `.gz` or the data starts
//!   with the gzip magic bytes (`1f 8b`); concatenated gzip members (bgzip) are read in full.
//! - CSV, TSV or semicolon-separated: the delimiter is the most frequent of tab, comma and semicolon
//!   outside double quotes in the header line (ties go to tab, then comma). In a semicolon-delimited
//!   table a comma inside a number is a decimal comma (`1,5E-09`), as European spreadsheets write it.
//! - Fields may be double-quoted (`"a, b"`, `"say ""hi"""`); quoted fields may span lines.
//! - A UTF-8 byte-order mark is dropped; UTF-16 is refused with a clear message. Line ends may be
//!   `\n`, `\r\n`, or `\r` alone (old Mac spreadsheets).
//! - Blank lines, rows whose cells are all empty, and lines starting with `#` are skipped, both
//!   before the header and among the data; line numbers in messages are still the real 1-based
//!   lines of the (decompressed) file. A `#` counts only as the first byte of a line.
//! - Cells are trimmed of whitespace; header names too.
//!
//! # Layouts
//!
//! - **Long** ([`Format::Long`]): one row per point: `curve_id,conc,response`, optionally an sd
//!   column; replicates are simply more rows with the same x.
//! - **Wide** ([`Format::Wide`]), as a GraphPad Prism XY table with replicates: one x column and
//!   several replicate y columns, `conc,rep1,rep2,rep3` or `X,Y1,Y2`; each non-empty replicate cell
//!   is a point, and an empty replicate cell is a missing replicate (skipped, not an error).
//!
//! Both layouts may have group columns, and every row must have as many fields as the header
//! (extra trailing empty fields, as some spreadsheets write, are allowed).
//!
//! # Example
//!
//! ```text
//! let spec = TableSpec { group: vec!["curve_id".into()], ..TableSpec::default() };
//! for group in read_groups_streaming("plates.csv.gz", &spec)? {
//!     let group = group?;
//!     println!("{}: {} points", group.label(), group.points.len());
//! }
//! ```

mod cells;
mod columns;
mod error;
mod input;
mod rows;
mod stream;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

pub use error::{ColumnRole, TableError};
pub use stream::GroupStream;

pub(crate) use columns::normalize as normalize_name;

use rows::RowReader;

/// Which columns hold x, y, groups and standard deviations. Column names match exactly, or else
/// ignoring case if only one column matches.
///
/// # Auto-detection
///
/// What the specification leaves out is detected from the header, in this order. Names are compared
/// after lower-casing, dropping a trailing unit after a space (`Conc (nM)`, `Dose [mg/kg]`) and
/// joining words with `_` (`Log Conc` is `log_conc`).
///
/// 1. **Groups**, if `group` is empty and `no_auto_group` is false: every column named `curve`,
///    `curve_id`, `curveid`, `group`, `group_id`, `compound`, `compound_id`, `sample`, `sample_id`,
///    `series`, `dataset`, `drug` or `ligand`. Without group columns the whole table is one group.
/// 2. **x**, if `x` is `None`: the first column named `x`, `conc`, `concentration`, `dose`,
///    `log_conc`, `log_concentration`, `log_dose`, `logconc`, `log(conc)`, `log(dose)`, `time` or
///    `t`, or one of these (but `x` and `t`) followed by `_` and a unit such as `nM`, `M`, `mg/kg`,
///    `min` or `h` (`conc_nM`, `time_min`; `dose_index` is not x).
///    There is no fallback: a table whose x column has another name is a [`TableError::Layout`]
///    that lists the columns (a well number or sample index must never become a concentration).
/// 3. **y**, if `y` is empty: the first column left named `y`, `response`, `signal`, `value` or
///    `effect` (long format); else, if one column is left, that one (long format); else, if all the
///    columns left are replicates, wide format with each of them a replicate. Columns are
///    replicates when their names share a stem followed by a number or by a single letter after a
///    separator (`rep1, rep2`; `Y1, Y2`; `resp_a, resp_b`; `1, 2, 3`; not `A, B, C`, which in Prism
///    name different data sets) and the first data row holds a number (or nothing) in each. Anything else is an ambiguous
///    [`TableError::Layout`]: name the y column(s).
///
/// Several names in `y` mean wide format (they are replicates). An sd column goes only with a single
/// y column. Columns that play no role are listed in [`Columns::ignored`], so a caller can warn
/// about them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableSpec {
    /// The x column; `None` detects it.
    pub x: Option<String>,
    /// The y column (long format) or the replicate columns (wide format); empty detects them.
    pub y: Vec<String>,
    /// The columns whose values together identify a curve; empty detects them by name unless
    /// `no_auto_group` is set.
    pub group: Vec<String>,
    /// A column of standard deviations (positive), for long format.
    pub sd: Option<String>,
    /// Do not detect group columns by name: with `group` empty, the whole table is one group.
    pub no_auto_group: bool,
}

/// One observation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    /// The standard deviation given in the sd column, if there is one.
    pub sd: Option<f64>,
    /// The 1-based line of the input the point came from.
    pub line: usize,
}

/// The points of one curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Group column and its value, in the order the group columns were given or found; empty when
    /// the table has no group columns.
    pub key: Vec<(String, String)>,
    /// The points in input order (in wide format, row by row, replicates left to right).
    pub points: Vec<Point>,
}

impl Group {
    /// The key as `column=value, column=value` (empty without group columns).
    pub fn label(&self) -> String {
        let pairs: Vec<String> = self.key.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join(", ")
    }
}

/// The layout of a table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One row per point.
    #[default]
    Long,
    /// One row per x value, one column per replicate.
    Wide,
}

/// How the columns of a table were assigned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Columns {
    pub x: String,
    /// The y column (long format) or the replicate columns (wide format).
    pub y: Vec<String>,
    pub group: Vec<String>,
    pub sd: Option<String>,
    /// Named columns that play no role.
    pub ignored: Vec<String>,
    pub format: Format,
    /// The delimiter found in the header line.
    pub delimiter: char,
}

/// A whole table, read by [`read_dataset`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// The input's name in messages (its path, or `<stdin>`).
    pub source: String,
    pub x_name: String,
    /// The y column's name in long format; in wide format the replicate columns' common stem
    /// (`resp_1, resp_2` give `resp`), or `y` when the stem is empty or just says "replicate".
    pub y_name: String,
    /// The groups in order of first appearance.
    pub groups: Vec<Group>,
    pub columns: Columns,
}

/// Reads a whole table from a path (`-` for stdin); see the [module documentation](self) for the
/// input accepted and [`TableSpec`] for how columns are chosen.
///
/// Rows of a group need not be contiguous: groups are kept in order of first appearance and each
/// gets its rows in input order. The first error ends the reading.
pub fn read_dataset(path: &str, spec: &TableSpec) -> Result<Dataset, TableError> {
    let (source, raw) = input::open_path(path)?;
    read_dataset_impl(RowReader::new(source, raw, spec)?)
}

/// Like [`read_dataset`], from any byte stream; `source` names it in messages, and a `source`
/// ending in `.gz` means gzip (as do the gzip magic bytes).
pub fn read_dataset_from<R: Read + 'static>(
    reader: R,
    source: &str,
    spec: &TableSpec,
) -> Result<Dataset, TableError> {
    read_dataset_impl(RowReader::new(source.to_string(), Box::new(reader), spec)?)
}

fn read_dataset_impl(mut rows: RowReader) -> Result<Dataset, TableError> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut key = Vec::new();
    let mut last_key = Vec::new();
    let mut last = usize::MAX;
    while rows.next_row()? {
        rows.key(&mut key);
        // Rows of one group usually follow each other: compare with the last key before hashing.
        if last == usize::MAX || key != last_key {
            last = match index.get(&key) {
                Some(&i) => i,
                None => {
                    groups.push(Group {
                        key: rows.key_pairs(),
                        points: Vec::new(),
                    });
                    index.insert(key.clone(), groups.len() - 1);
                    groups.len() - 1
                }
            };
            last_key.clone_from(&key);
        }
        rows.points(&mut groups[last].points)?;
    }
    Ok(Dataset {
        source: rows.source,
        x_name: rows.columns.x.clone(),
        y_name: rows.cols.y_name,
        groups,
        columns: rows.columns,
    })
}

/// Opens a table (a path, `-` for stdin) for reading one group at a time; the rows of each group
/// must be contiguous. Errors in the header and the column assignment come here; errors in the data
/// come from the iterator (see [`GroupStream`] for which ones end it).
pub fn read_groups_streaming(path: &str, spec: &TableSpec) -> Result<GroupStream, TableError> {
    let (source, raw) = input::open_path(path)?;
    Ok(GroupStream::new(RowReader::new(source, raw, spec)?))
}

/// Like [`read_groups_streaming`], from any byte stream; `source` names it in messages.
pub fn read_groups_streaming_from<R: Read + 'static>(
    reader: R,
    source: &str,
    spec: &TableSpec,
) -> Result<GroupStream, TableError> {
    Ok(GroupStream::new(RowReader::new(
        source.to_string(),
        Box::new(reader),
        spec,
    )?))
}
