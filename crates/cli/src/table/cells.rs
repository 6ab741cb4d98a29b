//! Reading single cells: numbers (with their failure modes) and text for messages.

/// Why a cell is not a usable number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CellError {
    /// The cell is empty or whitespace.
    Empty,
    /// The cell is not a decimal number.
    NotANumber,
    /// The cell is NaN or infinite (written so, or overflowing).
    NonFinite,
}

/// The longest cell we copy onto the stack to turn a decimal comma into a point.
const DECIMAL_COMMA_MAX: usize = 64;

/// Parses a cell as a finite `f64`, after trimming ASCII whitespace.
///
/// Accepts what Rust's `f64::from_str` accepts (`1`, `-2.5`, `+.5`, `1e-9`, `3.2E+04`) and, when
/// `decimal_comma` is set (semicolon-delimited tables, as European spreadsheets write them), a comma
/// as the decimal separator (`1,5E-09`). `nan`, `inf`, `Infinity` in any case, and values that
/// overflow to infinity are [`CellError::NonFinite`].
pub(crate) fn parse_number(cell: &[u8], decimal_comma: bool) -> Result<f64, CellError> {
    let cell = cell.trim_ascii();
    if cell.is_empty() {
        return Err(CellError::Empty);
    }
    let value = if decimal_comma && cell.contains(&b',') {
        if cell.len() > DECIMAL_COMMA_MAX {
            return Err(CellError::NotANumber);
        }
        let mut buf = [0u8; DECIMAL_COMMA_MAX];
        for (out, &b) in buf.iter_mut().zip(cell) {
            *out = if b == b',' { b'.' } else { b };
        }
        parse_ascii(&buf[..cell.len()])?
    } else {
        parse_ascii(cell)?
    };
    if value.is_finite() {
        Ok(value)
    } else {
        Err(CellError::NonFinite)
    }
}

fn parse_ascii(bytes: &[u8]) -> Result<f64, CellError> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or(CellError::NotANumber)
}

/// The longest cell text quoted in full in an error message.
const SHOWN_CHARS: usize = 40;

/// Cell text for an error message: trimmed, invalid UTF-8 replaced, control characters escaped,
/// and cut short after [`SHOWN_CHARS`] characters.
pub(crate) fn show(cell: &[u8]) -> String {
    let text = String::from_utf8_lossy(cell.trim_ascii());
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// Advice for a non-numeric cell that looks like a missing value or a spreadsheet error.
pub(crate) fn hint(cell: &[u8], replicate: bool) -> Option<&'static str> {
    let cell = cell.trim_ascii();
    let missing = [
        &b"na"[..],
        b"n/a",
        b"n.a.",
        b"null",
        b"none",
        b"missing",
        b"-",
        b".",
        b"?",
    ]
    .iter()
    .any(|m| cell.eq_ignore_ascii_case(m));
    if cell.is_empty() || missing {
        Some(if replicate {
            "a missing value: leave the replicate cell empty"
        } else {
            "a missing value: delete the row"
        })
    } else if cell.first() == Some(&b'#') {
        Some("a spreadsheet error value: fix the formula or delete the row")
    } else if cell.contains(&b',') && parse_number(cell, true).is_ok() {
        Some("a decimal comma: commas are decimal separators only in semicolon-delimited tables")
    } else {
        None
    }
}

/// Whether every field of a record is empty or whitespace (such rows are skipped as blank lines).
pub(crate) fn is_blank(record: &csv::ByteRecord) -> bool {
    record.iter().all(|f| f.trim_ascii().is_empty())
}

/// Levenshtein distance between two strings, by characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number(b" 1.5e-9 ", false), Ok(1.5e-9));
        assert_eq!(parse_number(b"+.5", false), Ok(0.5));
        assert_eq!(parse_number(b"-3", false), Ok(-3.0));
        assert_eq!(parse_number(b"1,5E-09", true), Ok(1.5e-9));
        assert_eq!(parse_number(b"1,5", false), Err(CellError::NotANumber));
        assert_eq!(parse_number(b"", false), Err(CellError::Empty));
        assert_eq!(parse_number(b" \t", false), Err(CellError::Empty));
        assert_eq!(parse_number(b"abc", false), Err(CellError::NotANumber));
        assert_eq!(parse_number(b"\xff\xfe", false), Err(CellError::NotANumber));
        for text in [
            &b"nan"[..],
            b"NaN",
            b"inf",
            b"-inf",
            b"Infinity",
            b"+INFINITY",
            b"1e999",
        ] {
            assert_eq!(parse_number(text, false), Err(CellError::NonFinite));
        }
    }

    #[test]
    fn shown_text_is_escaped_and_short() {
        assert_eq!(show(b" a\tb "), "a\\tb");
        assert_eq!(show(&[b'x'; 100]).chars().count(), SHOWN_CHARS + 1);
        assert_eq!(show(b"\xff"), "\u{fffd}");
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("response", "respose"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
