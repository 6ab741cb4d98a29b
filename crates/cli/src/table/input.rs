//! Opening the input: path or stdin, gzip, byte-order marks, old Mac line ends, and the delimiter.
//!
//! The reader peeks at the start of the (decompressed) text, up to the end of the header line, to
//! choose the delimiter; the peeked bytes are then put back in front of the stream so that the CSV
//! parser sees the whole input and line numbers stay those of the file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};

use flate2::read::MultiGzDecoder;

use super::TableError;

/// How much of the input we look at, at most, to find the header line and choose the delimiter.
const PEEK_LIMIT: u64 = 1 << 20;

/// The delimiters we detect, in the order that breaks ties.
const DELIMITERS: [u8; 3] = [b'\t', b',', b';'];

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A decoded input ready for the CSV parser.
pub(crate) struct Input {
    /// The whole text (decompressed, BOM removed, `\r`-only line ends turned into `\n`), followed by
    /// one extra `\n` so that every record ends with a line terminator (see `RowReader::line`).
    pub reader: Box<dyn Read>,
    pub delimiter: u8,
    /// Whether the input is gzip-compressed (read errors are then reported as gzip errors).
    pub gzip: bool,
}

/// Opens `path`, or stdin for `-`; returns the name to report in messages and the raw byte stream.
pub(crate) fn open_path(path: &str) -> Result<(String, Box<dyn Read>), TableError> {
    if path == "-" {
        return Ok(("<stdin>".to_string(), Box::new(io::stdin())));
    }
    let file = File::open(path).map_err(|source| TableError::Io {
        file: path.to_string(),
        source,
    })?;
    Ok((path.to_string(), Box::new(file)))
}

/// Turns an I/O error met while reading the (possibly decompressed) text into a [`TableError`].
pub(crate) fn read_error(file: &str, gzip: bool, error: io::Error) -> TableError {
    let corrupt = matches!(
        error.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
    );
    if gzip && corrupt {
        TableError::Gzip {
            file: file.to_string(),
            reason: error.to_string(),
        }
    } else {
        TableError::Io {
            file: file.to_string(),
            source: error,
        }
    }
}

/// Prepares a raw byte stream: gzip when the name ends in `.gz` or the data starts with the gzip
/// magic bytes `1f 8b`; strips a UTF-8 byte-order mark; rejects UTF-16; turns `\r`-only line ends
/// into `\n`; and detects the delimiter in the header line.
pub(crate) fn prepare(file: &str, mut raw: Box<dyn Read>) -> Result<Input, TableError> {
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut raw, &mut magic).map_err(|e| read_error(file, false, e))?;
    let gzip = file.to_ascii_lowercase().ends_with(".gz") || (n == 2 && magic == [0x1f, 0x8b]);
    let raw = Cursor::new(magic[..n].to_vec()).chain(raw);
    let decoded: Box<dyn Read> = if gzip {
        Box::new(MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let mut text: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1 << 16, decoded));
    let err = |e| read_error(file, gzip, e);

    let mut prefix = Vec::new();
    read_line(&mut text, &mut prefix).map_err(err)?;
    if prefix.starts_with(UTF8_BOM) {
        prefix.drain(..UTF8_BOM.len());
    } else if prefix.starts_with(b"\xFF\xFE") || prefix.starts_with(b"\xFE\xFF") {
        return Err(TableError::Encoding {
            file: file.to_string(),
            found: "UTF-16 text (it starts with a UTF-16 byte-order mark)".to_string(),
        });
    }
    // Classic Mac line ends: the first line holds `\r` but no `\n`.
    if !prefix.contains(&b'\n') && prefix.contains(&b'\r') {
        cr_to_lf(&mut prefix);
        text = Box::new(BufReader::with_capacity(1 << 16, CrToLf(text)));
    }

    let delimiter = detect_delimiter(&mut text, &mut prefix).map_err(err)?;
    let reader = Cursor::new(prefix).chain(text).chain(&b"\n"[..]);
    Ok(Input {
        reader: Box::new(reader),
        delimiter,
        gzip,
    })
}

/// Reads until `buf` is full or the stream ends; returns how many bytes were read.
fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Appends one line (with its `\n`) to `prefix`, reading at most up to [`PEEK_LIMIT`] bytes in all.
/// Returns false at the end of the input or of the peek budget.
fn read_line(text: &mut Box<dyn BufRead>, prefix: &mut Vec<u8>) -> io::Result<bool> {
    let budget = PEEK_LIMIT.saturating_sub(prefix.len() as u64);
    if budget == 0 {
        return Ok(false);
    }
    let n = text.by_ref().take(budget).read_until(b'\n', prefix)?;
    Ok(n > 0)
}

/// Whether a physical line counts as blank for finding the header: only whitespace and delimiters,
/// as a row of empty cells (`,,,`) is skipped as blank too.
fn blank_line(line: &[u8]) -> bool {
    line.iter()
        .all(|b| b.is_ascii_whitespace() || DELIMITERS.contains(b))
}

/// Finds the header line (the first line that is neither blank nor a `#` comment), reading more
/// lines into `prefix` as needed, and counts the candidate delimiters in it outside double quotes.
/// The most frequent wins; ties go to tab, then comma, then semicolon; none at all means comma.
fn detect_delimiter(text: &mut Box<dyn BufRead>, prefix: &mut Vec<u8>) -> io::Result<u8> {
    let mut start = 0;
    // Skip blank and comment lines before the header.
    loop {
        let end = match prefix[start..].iter().position(|&b| b == b'\n') {
            Some(i) => start + i + 1,
            None => {
                if read_line(text, prefix)? {
                    continue;
                }
                prefix.len()
            }
        };
        let line = &prefix[start..end];
        if end > start && (blank_line(line) || line[0] == b'#') {
            start = end;
            continue;
        }
        break;
    }
    // Count delimiters in the header, which may span lines inside quotes.
    let mut counts = [0usize; DELIMITERS.len()];
    let mut in_quotes = false;
    let mut i = start;
    loop {
        if i == prefix.len() {
            if read_line(text, prefix)? {
                continue;
            }
            break;
        }
        let b = prefix[i];
        i += 1;
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if in_quotes {
            continue;
        } else if b == b'\n' {
            break;
        } else if let Some(k) = DELIMITERS.iter().position(|&d| d == b) {
            counts[k] += 1;
        }
    }
    let mut best = 1; // comma
    for k in 0..DELIMITERS.len() {
        if counts[k] > counts[best] || (counts[k] == counts[best] && k < best && counts[k] > 0) {
            best = k;
        }
    }
    Ok(DELIMITERS[best])
}

fn cr_to_lf(bytes: &mut [u8]) {
    for b in bytes {
        if *b == b'\r' {
            *b = b'\n';
        }
    }
}

/// Turns every `\r` into `\n`, for files with classic Mac line ends.
struct CrToLf<R>(R);

impl<R: Read> Read for CrToLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        cr_to_lf(&mut buf[..n]);
        Ok(n)
    }
}
