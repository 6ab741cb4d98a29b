//! Tokens of the Antimony text, and a copy of the text with comments blanked.
//!
//! The statement parser works on tokens; expressions are handed to
//! `ligand_expr::parse_with` as slices of the *cleaned* text, in which every
//! byte of a comment or line continuation is a space (newlines kept), so that
//! byte offsets in the cleaned text and the source agree and an expression may
//! carry a comment or span lines.

/// Operators and punctuation, longest first.
const PUNCT: &[&str] = &[
    "->", "=>", ":=", "<=", ">=", "==", "!=", "&&", "||", "**", ";", ":", "=", "'", ",", "(", ")",
    "$", ".", "@", "+", "-", "*", "/", "^", "<", ">", "!", "{", "}", "[", "]", "|", "&", "%", "~",
    "?",
];

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Num(f64),
    /// Text that starts like a number but is not one (`1.2.3`).
    BadNum,
    /// A quoted string (`"..."` or a ```` ``` ```` block): only annotations use them.
    Str,
    /// A line break outside parentheses matters: it ends a statement.
    Newline,
    Punct(&'static str),
    /// Any other character.
    Other(char),
    Eof,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte range in the source.
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn is_ident(&self, word: &str) -> bool {
        matches!(&self.tok, Tok::Ident(w) if w == word)
    }

    pub fn is_punct(&self, p: &str) -> bool {
        matches!(&self.tok, Tok::Punct(q) if *q == p)
    }

    pub fn describe(&self, src: &str) -> String {
        match &self.tok {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Num(_) | Tok::BadNum => format!("the number `{}`", &src[self.start..self.end]),
            Tok::Str => "a string".into(),
            Tok::Newline => "the end of the line".into(),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Other(c) => format!("the character `{c}`"),
            Tok::Eof => "the end of the text".into(),
        }
    }
}

/// A lexical problem: byte range and message.
pub(crate) struct LexError {
    pub start: usize,
    pub end: usize,
    pub message: String,
}

pub(crate) struct Lexed {
    pub tokens: Vec<Token>,
    /// The source with comments and line continuations replaced by spaces.
    pub cleaned: String,
    pub errors: Vec<LexError>,
}

fn blank(cleaned: &mut [u8], from: usize, to: usize) {
    for b in &mut cleaned[from..to] {
        if *b != b'\n' {
            *b = b' ';
        }
    }
}

pub(crate) fn lex(src: &str) -> Lexed {
    let bytes = src.as_bytes();
    let mut cleaned = bytes.to_vec();
    let mut tokens = Vec::new();
    let mut errors = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c == b'\n' {
            tokens.push(Token {
                tok: Tok::Newline,
                start,
                end: i + 1,
            });
            i += 1;
            continue;
        }
        if c == b' ' || c == b'\t' || c == b'\r' || c == 0x0c {
            i += 1;
            continue;
        }
        // A byte-order mark (from some editors) is whitespace too.
        if src[i..].starts_with('\u{feff}') {
            blank(&mut cleaned, i, i + '\u{feff}'.len_utf8());
            i += '\u{feff}'.len_utf8();
            continue;
        }
        // Comments.
        if c == b'#' || (c == b'/' && bytes.get(i + 1) == Some(&b'/')) {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            blank(&mut cleaned, start, i);
            continue;
        }
        if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            let close = src[i + 2..].find("*/").map(|k| i + 2 + k + 2);
            let end = close.unwrap_or(bytes.len());
            if close.is_none() {
                errors.push(LexError {
                    start,
                    end: start + 2,
                    message: "this comment is not closed with `*/`".into(),
                });
            }
            blank(&mut cleaned, start, end);
            if src[start..end].contains('\n') {
                // A comment spanning lines separates statements like a line break.
                tokens.push(Token {
                    tok: Tok::Newline,
                    start,
                    end,
                });
            }
            i = end;
            continue;
        }
        // A backslash at the end of a line continues the statement on the next.
        if c == b'\\' {
            let mut j = i + 1;
            while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\r') {
                j += 1;
            }
            if j >= bytes.len() || bytes[j] == b'\n' {
                let end = (j + 1).min(bytes.len());
                blank(&mut cleaned, start, end);
                i = end;
                continue;
            }
        }
        // Strings.
        if c == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                if bytes[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            let end = (j + 1).min(bytes.len());
            if j >= bytes.len() {
                errors.push(LexError {
                    start,
                    end: start + 1,
                    message: "this string is not closed with `\"`".into(),
                });
            }
            tokens.push(Token {
                tok: Tok::Str,
                start,
                end,
            });
            i = end;
            continue;
        }
        if src[i..].starts_with("```") {
            let close = src[i + 3..].find("```").map(|k| i + 3 + k + 3);
            let end = close.unwrap_or(bytes.len());
            if close.is_none() {
                errors.push(LexError {
                    start,
                    end: start + 3,
                    message: "this block of notes is not closed with ```".into(),
                });
            }
            tokens.push(Token {
                tok: Tok::Str,
                start,
                end,
            });
            i = end;
            continue;
        }
        // Numbers, lexed as the expression language lexes them.
        if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let mut j = i + 1;
                if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                    j += 1;
                }
                if j < bytes.len() && bytes[j].is_ascii_digit() {
                    while j < bytes.len() && bytes[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let tok = match src[start..i].parse::<f64>() {
                Ok(v) => Tok::Num(v),
                Err(_) => Tok::BadNum,
            };
            tokens.push(Token { tok, start, end: i });
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push(Token {
                tok: Tok::Ident(src[start..i].to_string()),
                start,
                end: i,
            });
            continue;
        }
        if let Some(p) = PUNCT.iter().find(|p| src[i..].starts_with(**p)) {
            i += p.len();
            tokens.push(Token {
                tok: Tok::Punct(p),
                start,
                end: i,
            });
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or('?');
        i += ch.len_utf8().max(1);
        tokens.push(Token {
            tok: Tok::Other(ch),
            start,
            end: i,
        });
    }
    tokens.push(Token {
        tok: Tok::Eof,
        start: bytes.len(),
        end: bytes.len(),
    });
    // Blanking replaced whole characters byte by byte with ASCII spaces, so the
    // result is still valid UTF-8; the fallback only guards against a bug.
    let cleaned = String::from_utf8(cleaned).unwrap_or_else(|e| {
        String::from_utf8_lossy(e.as_bytes())
            .chars()
            .map(|c| if c == '\u{fffd}' { ' ' } else { c })
            .collect()
    });
    Lexed {
        tokens,
        cleaned,
        errors,
    }
}
