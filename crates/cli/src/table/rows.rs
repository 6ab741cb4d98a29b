//! The row reader shared by [`read_dataset`](super::read_dataset) and
//! [`GroupStream`](super::GroupStream): one reused `csv::ByteRecord`, exact line numbers, and
//! parsing a row into points without allocating.

use std::io::Read;

use csv::{ByteRecord, ReaderBuilder, Terminator};

use super::cells::{self, is_blank, parse_number, CellError};
use super::columns::{self, Resolved};
use super::input::{self, Input};
use super::{Columns, Format, Point, TableError, TableSpec};

pub(crate) struct RowReader {
    pub source: String,
    pub header: Vec<String>,
    pub cols: Resolved,
    pub columns: Columns,
    csv: csv::Reader<Box<dyn Read>>,
    record: ByteRecord,
    /// The first data row was read ahead (to resolve the columns) and is in `record`.
    pending: bool,
    /// The 1-based file line on which the current record starts.
    line: usize,
    gzip: bool,
    decimal_comma: bool,
}

impl RowReader {
    /// Reads the header and the first data row and assigns the columns.
    pub fn new(source: String, raw: Box<dyn Read>, spec: &TableSpec) -> Result<Self, TableError> {
        let Input {
            reader,
            delimiter,
            gzip,
        } = input::prepare(&source, raw)?;
        let csv = ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .comment(Some(b'#'))
            // Only `\n` ends a record (a `\r` before it is trimmed with the cell), so that the
            // line count after a record tells where it started: see `read`.
            .terminator(Terminator::Any(b'\n'))
            .buffer_capacity(1 << 16)
            .from_reader(reader);
        let mut rows = RowReader {
            source,
            header: Vec::new(),
            cols: Resolved {
                x: 0,
                ys: Vec::new(),
                groups: Vec::new(),
                sd: None,
                format: Format::Long,
                ignored: Vec::new(),
                y_name: String::new(),
            },
            columns: Columns::default(),
            csv,
            record: ByteRecord::new(),
            pending: false,
            line: 0,
            gzip,
            decimal_comma: delimiter == b';',
        };

        if !rows.read()? {
            return Err(TableError::Empty { file: rows.source });
        }
        let header_line = rows.line;
        rows.header = rows
            .record
            .iter()
            .map(|f| String::from_utf8_lossy(f.trim_ascii()).into_owned())
            .collect();
        let all_numbers = rows.record.iter().all(|f| {
            matches!(
                parse_number(f, rows.decimal_comma),
                Ok(_) | Err(CellError::Empty | CellError::NonFinite)
            )
        });
        if all_numbers {
            return Err(TableError::MissingHeader {
                file: rows.source,
                line: header_line,
                found: rows
                    .record
                    .iter()
                    .take(4)
                    .map(cells::show)
                    .collect::<Vec<_>>()
                    .join(&char::from(delimiter).to_string()),
            });
        }
        if !rows.read()? {
            return Err(TableError::NoData {
                file: rows.source,
                header_line,
            });
        }
        rows.pending = true;

        rows.cols = columns::resolve(&rows.source, &rows.header, &rows.record, spec, delimiter)?;
        let name = |i: &usize| rows.header[*i].clone();
        rows.columns = Columns {
            x: rows.header[rows.cols.x].clone(),
            y: rows.cols.ys.iter().map(name).collect(),
            group: rows.cols.groups.iter().map(name).collect(),
            sd: rows.cols.sd.as_ref().map(name),
            ignored: rows.cols.ignored.iter().map(name).collect(),
            format: rows.cols.format,
            delimiter: char::from(delimiter),
        };
        Ok(rows)
    }

    /// The line on which the current record starts.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Reads the next record that is not blank; false at the end of the input.
    fn read(&mut self) -> Result<bool, TableError> {
        loop {
            match self.csv.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) => return Err(self.csv_error(e)),
            }
            // Every record ends with a `\n` (the input gets one appended), which csv-core has counted
            // when it returns the record, as it has the line breaks inside quoted fields.
            let after = usize::try_from(self.csv.position().line()).unwrap_or(usize::MAX);
            let inside = self
                .record
                .as_slice()
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line = after.saturating_sub(1 + inside).max(1);
            if !is_blank(&self.record) {
                return Ok(true);
            }
        }
    }

    /// Advances to the next data row; false at the end of the input.
    pub fn next_row(&mut self) -> Result<bool, TableError> {
        if self.pending {
            self.pending = false;
            return Ok(true);
        }
        self.read()
    }

    fn csv_error(&self, error: csv::Error) -> TableError {
        let line = error.position().map(|p| p.line() as usize);
        let message = error.to_string();
        match error.into_kind() {
            csv::ErrorKind::Io(e) => input::read_error(&self.source, self.gzip, e),
            _ => TableError::Csv {
                file: self.source.clone(),
                line,
                message,
            },
        }
    }

    /// Writes the current row's group key into `key` (each trimmed group cell, prefixed by its
    /// length, so that keys compare equal exactly when all cells do). Returns false if the row is
    /// too short to hold all group cells.
    pub fn key(&self, key: &mut Vec<u8>) -> bool {
        key.clear();
        let mut complete = true;
        for &g in &self.cols.groups {
            let cell = match self.record.get(g) {
                Some(cell) => cell.trim_ascii(),
                None => {
                    complete = false;
                    b""
                }
            };
            key.extend_from_slice(&(cell.len() as u64).to_le_bytes());
            key.extend_from_slice(cell);
        }
        complete
    }

    /// The current row's group key as `(column, value)` pairs.
    pub fn key_pairs(&self) -> Vec<(String, String)> {
        self.cols
            .groups
            .iter()
            .map(|&g| {
                let cell = self.record.get(g).unwrap_or(b"").trim_ascii();
                (
                    self.header[g].clone(),
                    String::from_utf8_lossy(cell).into_owned(),
                )
            })
            .collect()
    }

    /// Parses the current row and appends its points (one in long format, one per non-empty
    /// replicate cell in wide format) to `out`.
    pub fn points(&self, out: &mut Vec<Point>) -> Result<(), TableError> {
        let expected = self.header.len();
        let found = self.record.len();
        let extra_blank = || {
            self.record
                .iter()
                .skip(expected)
                .all(|f| f.trim_ascii().is_empty())
        };
        if found < expected || (found > expected && !extra_blank()) {
            return Err(TableError::Ragged {
                file: self.source.clone(),
                line: self.line,
                expected,
                found,
            });
        }
        let x = self.number(self.cols.x, false)?;
        let sd = match self.cols.sd {
            Some(i) => {
                let sd = self.number(i, false)?;
                if sd <= 0.0 {
                    return Err(TableError::InvalidSd {
                        file: self.source.clone(),
                        line: self.line,
                        column: self.header[i].clone(),
                        found: cells::show(self.cell(i)),
                    });
                }
                Some(sd)
            }
            None => None,
        };
        match self.cols.format {
            Format::Long => {
                let y = self.number(self.cols.ys[0], false)?;
                out.push(Point {
                    x,
                    y,
                    sd,
                    line: self.line,
                });
            }
            Format::Wide => {
                for &i in &self.cols.ys {
                    if self.cell(i).trim_ascii().is_empty() {
                        continue;
                    }
                    let y = self.number(i, true)?;
                    out.push(Point {
                        x,
                        y,
                        sd,
                        line: self.line,
                    });
                }
            }
        }
        Ok(())
    }

    fn cell(&self, i: usize) -> &[u8] {
        self.record.get(i).unwrap_or(b"")
    }

    fn number(&self, i: usize, replicate: bool) -> Result<f64, TableError> {
        let cell = self.cell(i);
        parse_number(cell, self.decimal_comma).map_err(|e| match e {
            CellError::NonFinite => TableError::NonFinite {
                file: self.source.clone(),
                line: self.line,
                column: self.header[i].clone(),
                found: cells::show(cell),
            },
            CellError::Empty | CellError::NotANumber => TableError::NotANumber {
                file: self.source.clone(),
                line: self.line,
                column: self.header[i].clone(),
                found: cells::show(cell),
                hint: cells::hint(cell, replicate),
            },
        })
    }
}
