//! The errors of the table reader.
//!
//! Every variant names the input (`file`: a path, or `<stdin>`) and, where it applies, the real 1-based
//! line of the file and the column name, and its message says what was expected and what was found.
//! The crate has no `thiserror` dependency, so `Display` and `Error` are written out by hand below.

use std::fmt;
use std::io;

/// The role a column plays in the table, used to say which column could not be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    /// The independent variable (concentration, dose, log concentration).
    X,
    /// The response (one column in long format, one per replicate in wide format).
    Y,
    /// A column whose values identify the curve a row belongs to.
    Group,
    /// The standard deviation of each point.
    Sd,
}

impl fmt::Display for ColumnRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColumnRole::X => "x",
            ColumnRole::Y => "y",
            ColumnRole::Group => "group",
            ColumnRole::Sd => "sd",
        })
    }
}

/// Why a data table could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum TableError {
    /// The input could not be opened or read.
    Io { file: String, source: io::Error },
    /// The input is (or, by its `.gz` name, should be) gzip-compressed but does not decompress.
    Gzip { file: String, reason: String },
    /// The text is not in an encoding we read (UTF-16 from "Unicode text" spreadsheet exports).
    Encoding { file: String, found: String },
    /// There is no header line: the input is empty or holds only blank and comment lines.
    Empty { file: String },
    /// The first line holds numbers where column names were expected.
    MissingHeader {
        file: String,
        line: usize,
        found: String,
    },
    /// There is a header line but no data row after it.
    NoData { file: String, header_line: usize },
    /// A column named in the specification (or required by the layout) is not in the header.
    MissingColumn {
        file: String,
        role: ColumnRole,
        name: String,
        available: Vec<String>,
        suggestion: Option<String>,
    },
    /// A column named in the specification appears more than once in the header.
    DuplicateColumn {
        file: String,
        name: String,
        /// 1-based positions of the columns of that name.
        positions: Vec<usize>,
    },
    /// The columns cannot be assigned to x, y, group and sd (ambiguous or contradictory layout).
    Layout { file: String, message: String },
    /// A cell that must hold a number holds something else (or nothing).
    NotANumber {
        file: String,
        line: usize,
        column: String,
        found: String,
        /// Advice for common missing-value markers and spreadsheet error values.
        hint: Option<&'static str>,
    },
    /// A cell holds NaN or an infinite value (`nan`, `inf`, `Infinity`, or an overflowing `1e999`).
    NonFinite {
        file: String,
        line: usize,
        column: String,
        found: String,
    },
    /// A standard deviation is zero or negative.
    InvalidSd {
        file: String,
        line: usize,
        column: String,
        found: String,
    },
    /// A row has a different number of fields than the header.
    Ragged {
        file: String,
        line: usize,
        expected: usize,
        found: usize,
    },
    /// Streaming only: a group's rows reappear after another group started.
    NotContiguous {
        file: String,
        line: usize,
        /// The group, as `column=value, ...`.
        group: String,
        /// The line on which that group first appeared.
        first_line: usize,
    },
    /// Any other error of the CSV parser.
    Csv {
        file: String,
        line: Option<usize>,
        message: String,
    },
}

impl TableError {
    /// The input the error is about (a path, or `<stdin>`).
    pub fn file(&self) -> &str {
        match self {
            TableError::Io { file, .. }
            | TableError::Gzip { file, .. }
            | TableError::Encoding { file, .. }
            | TableError::Empty { file }
            | TableError::MissingHeader { file, .. }
            | TableError::NoData { file, .. }
            | TableError::MissingColumn { file, .. }
            | TableError::DuplicateColumn { file, .. }
            | TableError::Layout { file, .. }
            | TableError::NotANumber { file, .. }
            | TableError::NonFinite { file, .. }
            | TableError::InvalidSd { file, .. }
            | TableError::Ragged { file, .. }
            | TableError::NotContiguous { file, .. }
            | TableError::Csv { file, .. } => file,
        }
    }

    /// The 1-based line of the input the error is about, where there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            TableError::MissingHeader { line, .. }
            | TableError::NotANumber { line, .. }
            | TableError::NonFinite { line, .. }
            | TableError::InvalidSd { line, .. }
            | TableError::Ragged { line, .. }
            | TableError::NotContiguous { line, .. } => Some(*line),
            TableError::NoData { header_line, .. } => Some(*header_line),
            TableError::Csv { line, .. } => *line,
            _ => None,
        }
    }

    /// Whether the error is confined to one row, so that a
    /// [`GroupStream`](super::GroupStream) goes on with the next group after it.
    ///
    /// Errors about the input as a whole (I/O, gzip, header, columns, contiguity) are fatal: the stream
    /// ends after yielding them.
    pub fn is_row_error(&self) -> bool {
        matches!(
            self,
            TableError::NotANumber { .. }
                | TableError::NonFinite { .. }
                | TableError::InvalidSd { .. }
                | TableError::Ragged { .. }
        )
    }
}

/// Writes `found` for a message: `` `abc` `` or "an empty cell".
fn found(f: &mut fmt::Formatter<'_>, found: &str) -> fmt::Result {
    if found.is_empty() {
        f.write_str("an empty cell")
    } else {
        write!(f, "`{found}`")
    }
}

/// Writes a list of column names, cut short after a screenful.
fn names(f: &mut fmt::Formatter<'_>, names: &[String]) -> fmt::Result {
    const SHOWN: usize = 20;
    let shown: Vec<&String> = names.iter().filter(|n| !n.is_empty()).collect();
    if shown.is_empty() {
        return f.write_str("none");
    }
    for (i, name) in shown.iter().take(SHOWN).enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "`{name}`")?;
    }
    if shown.len() > SHOWN {
        write!(f, " and {} more", shown.len() - SHOWN)?;
    }
    Ok(())
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::Io { file, source } => write!(f, "{file}: cannot read: {source}"),
            TableError::Gzip { file, reason } => {
                write!(f, "{file}: expected gzip-compressed data, but it does not decompress: {reason}")
            }
            TableError::Encoding { file, found } => write!(
                f,
                "{file}: expected UTF-8 text, found {found}; save the table as UTF-8 CSV"
            ),
            TableError::Empty { file } => write!(
                f,
                "{file}: expected a header line with column names, found an empty input \
                 (or only blank and comment lines)"
            ),
            TableError::MissingHeader { file, line, found } => write!(
                f,
                "{file}, line {line}: expected a header line with column names, found numbers \
                 (`{found}`); add a header such as `conc,response`"
            ),
            TableError::NoData { file, header_line } => write!(
                f,
                "{file}: expected data rows after the header on line {header_line}, found none"
            ),
            TableError::MissingColumn {
                file,
                role,
                name,
                available,
                suggestion,
            } => {
                write!(f, "{file}: expected a column `{name}` (for {role}), found no such column; available columns: ")?;
                names(f, available)?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean `{s}`?")?;
                }
                Ok(())
            }
            TableError::DuplicateColumn {
                file,
                name,
                positions,
            } => {
                write!(f, "{file}: expected one column named `{name}`, found {} (columns ", positions.len())?;
                for (i, p) in positions.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                f.write_str("); rename all but one")
            }
            TableError::Layout { file, message } => write!(f, "{file}: {message}"),
            TableError::NotANumber {
                file,
                line,
                column,
                found: cell,
                hint,
            } => {
                write!(f, "{file}, line {line}, column `{column}`: expected a number, found ")?;
                found(f, cell)?;
                if let Some(hint) = hint {
                    write!(f, " ({hint})")?;
                }
                Ok(())
            }
            TableError::NonFinite {
                file,
                line,
                column,
                found: cell,
            } => write!(
                f,
                "{file}, line {line}, column `{column}`: expected a finite number, found `{cell}`; \
                 NaN and infinite values are not accepted (delete the row, or leave a replicate cell empty)"
            ),
            TableError::InvalidSd {
                file,
                line,
                column,
                found: cell,
            } => write!(
                f,
                "{file}, line {line}, column `{column}`: expected a positive standard deviation, found `{cell}`"
            ),
            TableError::Ragged {
                file,
                line,
                expected,
                found,
            } => write!(
                f,
                "{file}, line {line}: expected {expected} fields (as many as the header has), found {found}"
            ),
            TableError::NotContiguous {
                file,
                line,
                group,
                first_line,
            } => write!(
                f,
                "{file}, line {line}: group `{group}` (first seen on line {first_line}) reappears after other \
                 groups; streaming expects the input contiguous by group: sort it by the group columns, \
                 or read it whole (without streaming)"
            ),
            TableError::Csv {
                file,
                line: Some(line),
                message,
            } => write!(f, "{file}, line {line}: {message}"),
            TableError::Csv {
                file,
                line: None,
                message,
            } => write!(f, "{file}: {message}"),
        }
    }
}

impl std::error::Error for TableError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TableError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
