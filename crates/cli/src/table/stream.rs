//! Reading a table one group at a time.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::rows::RowReader;
use super::{Columns, Group, Point, TableError};

/// An iterator over the groups of a table whose rows are contiguous by group, yielding each group
/// once its last row has been read; made by [`read_groups_streaming`](super::read_groups_streaming).
///
/// Only the group being read is held in memory, plus 24 bytes per group seen (a 128-bit hash of its
/// key and its first line, to notice a group that comes back).
///
/// # Errors
///
/// - A bad cell or a ragged row ([`TableError::is_row_error`]) spoils only its group: the stream
///   yields the first such error of the group in its place (after the group's last row) and goes on
///   with the next group, so one bad curve in a million does not stop the batch.
/// - A group that reappears after another group started is [`TableError::NotContiguous`]; it, like
///   read and gzip errors, ends the stream (the group being read is dropped, as it is incomplete).
///   Tables that are not contiguous by group can be read whole with
///   [`read_dataset`](super::read_dataset), which accepts rows in any order.
pub struct GroupStream {
    rows: RowReader,
    current: Option<Pending>,
    /// Hashes of the keys of all groups started so far, with their first lines.
    seen: HashMap<u128, usize>,
    /// Scratch space for the current row's key.
    key: Vec<u8>,
    done: bool,
}

/// A group being read.
struct Pending {
    key_bytes: Vec<u8>,
    group: Group,
    /// The first row error met in this group; later rows of the group are skipped.
    error: Option<TableError>,
}

impl Pending {
    fn finish(self) -> Result<Group, TableError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.group),
        }
    }
}

fn hash128(key: &[u8]) -> u128 {
    let half = |seed: u64| {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        key.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0x9E37_79B9_7F4A_7C15)) << 64) | u128::from(half(0xC2B2_AE3D_27D4_EB4F))
}

impl GroupStream {
    pub(crate) fn new(rows: RowReader) -> Self {
        GroupStream {
            rows,
            current: None,
            seen: HashMap::new(),
            key: Vec::new(),
            done: false,
        }
    }

    /// The input's name in messages (its path, or `<stdin>`).
    pub fn source(&self) -> &str {
        &self.rows.source
    }

    /// The name of the x column.
    pub fn x_name(&self) -> &str {
        &self.rows.columns.x
    }

    /// The name of the response (see [`Dataset::y_name`](super::Dataset::y_name)).
    pub fn y_name(&self) -> &str {
        &self.rows.cols.y_name
    }

    /// How the columns were assigned.
    pub fn columns(&self) -> &Columns {
        &self.rows.columns
    }

    fn fail(&mut self, error: TableError) -> Option<Result<Group, TableError>> {
        self.done = true;
        self.current = None;
        Some(Err(error))
    }
}

impl Iterator for GroupStream {
    type Item = Result<Group, TableError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            match self.rows.next_row() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return self.current.take().map(Pending::finish);
                }
                Err(e) => return self.fail(e),
            }
            let complete = self.rows.key(&mut self.key);
            // A row too short to hold its key belongs to the group being read (it is ragged and
            // will spoil that group).
            let same = match &self.current {
                Some(p) => !complete || p.key_bytes == self.key,
                None => false,
            };
            let mut finished = None;
            if !same {
                let line = self.rows.line();
                let hash = hash128(&self.key);
                if let Some(&first_line) = self.seen.get(&hash) {
                    let group = Group {
                        key: self.rows.key_pairs(),
                        points: Vec::new(),
                    }
                    .label();
                    let error = TableError::NotContiguous {
                        file: self.rows.source.clone(),
                        line,
                        group,
                        first_line,
                    };
                    return self.fail(error);
                }
                self.seen.insert(hash, line);
                finished = self.current.replace(Pending {
                    key_bytes: self.key.clone(),
                    group: Group {
                        key: self.rows.key_pairs(),
                        points: Vec::new(),
                    },
                    error: None,
                });
            }
            if let Some(p) = self.current.as_mut() {
                if p.error.is_none() {
                    let points: &mut Vec<Point> = &mut p.group.points;
                    if let Err(e) = self.rows.points(points) {
                        p.error = Some(e);
                    }
                }
            }
            if let Some(p) = finished {
                return Some(p.finish());
            }
        }
    }
}

impl std::iter::FusedIterator for GroupStream {}
