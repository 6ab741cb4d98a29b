//! The Antimony-compatible text format: [`parse_antimony`] and
//! [`Model::to_antimony`](crate::Model::to_antimony).
//!
//! Reading happens in three stages: the lexer turns text into tokens and a
//! comment-free copy of the text; the parser reads statements, handing each
//! expression's text to `ligand_expr::parse_with` and translating its error
//! spans into file positions; a builder then applies Antimony's rules for
//! what each name is (a name in a reaction is a species, a name after `in` a
//! compartment, any other name given a value a parameter) and produces the
//! [`Model`]. Finally [`Model::validate`] runs, and the location of each of
//! its diagnostics is narrowed from the element to the offending name.

mod builder;
mod lexer;
mod parser;
mod writer;

use crate::diagnostic::{has_errors, Diagnostic, DiagnosticKind, Loc};
use crate::ir::Model;

/// Reads a model written in the supported subset of Antimony.
///
/// On success, returns the model and its warnings (ignored units, display
/// names, elements without values, ...). On failure, returns every
/// diagnostic, errors first, each with a line and column; render them with
/// [`Diagnostic::render`].
///
/// ```
/// use ligand_model::{parse_antimony, InitialQuantity};
/// let src = "
/// model decay
///   compartment cell = 1;
///   species A in cell;
///   J1: A -> ; k*A
///   A = 10; k = 0.1
/// end";
/// let (m, warnings) = parse_antimony(src).unwrap();
/// assert!(warnings.is_empty());
/// assert_eq!(m.name.as_deref(), Some("decay"));
/// assert_eq!(m.species[0].initial, Some(InitialQuantity::Concentration(10.0)));
/// assert_eq!(m.reactions[0].rate_law.as_ref().unwrap().to_string(), "k * A");
///
/// let errors = parse_antimony("J1: A -> B; k1*A\nA = 1; B = 0; k = 1").unwrap_err();
/// assert_eq!(errors[0].message, "undefined symbol `k1` in the rate law of reaction `J1`");
/// assert_eq!((errors[0].loc.unwrap().line, errors[0].loc.unwrap().column), (1, 13));
/// assert_eq!(errors[0].help.as_deref(), Some("did you mean `k`?"));
/// ```
pub fn parse_antimony(src: &str) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (model, diagnostics) = parse_antimony_partial(src);
    if has_errors(&diagnostics) {
        Err(diagnostics)
    } else {
        Ok((model, diagnostics))
    }
}

/// Reads as much of a model as can be read, whatever the errors: for editors
/// and for tools that show a model together with its problems. The
/// diagnostics are sorted errors first, then by location.
pub fn parse_antimony_partial(src: &str) -> (Model, Vec<Diagnostic>) {
    let mut p = parser::Parser::new(src);
    p.run();
    let (model, mut diagnostics, context) = p.finish();
    for mut d in model.validate_as_text() {
        // A definition that failed to parse was reported already; its
        // element's missing value or rate law is no news.
        let failed = d
            .symbol
            .as_ref()
            .is_some_and(|s| context.failed.contains(s));
        if failed
            && matches!(
                d.kind,
                DiagnosticKind::MissingValue | DiagnosticKind::MissingRateLaw
            )
        {
            continue;
        }
        context.refine(&mut d);
        diagnostics.push(d);
    }
    diagnostics.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.loc.is_none().cmp(&b.loc.is_none()))
            .then_with(|| a.loc.cmp(&b.loc))
    });
    (model, diagnostics)
}

/// Byte offsets to lines and columns.
pub(crate) struct SourceMap<'a> {
    src: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceMap<'a> {
    pub fn new(src: &'a str) -> SourceMap<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        SourceMap { src, line_starts }
    }

    pub fn loc(&self, offset: usize) -> Loc {
        let offset = offset.min(self.src.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let column = self
            .src
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        Loc { line, column }
    }

    pub fn offset(&self, loc: Loc) -> Option<usize> {
        let start = *self.line_starts.get(loc.line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(loc.line)
            .map_or(self.src.len(), |e| e - 1);
        let line = self.src.get(start..end)?;
        Some(
            line.char_indices()
                .nth(loc.column.saturating_sub(1))
                .map_or(end, |(i, _)| start + i),
        )
    }

    /// Width in characters of `start..end`, cut at the end of its first line.
    pub fn width(&self, start: usize, end: usize) -> usize {
        let end = end.min(self.src.len()).max(start);
        self.src
            .get(start..end)
            .map_or(1, |s| s.split('\n').next().unwrap_or("").chars().count())
            .max(1)
    }
}

/// What is needed after parsing to point validation diagnostics at names.
pub(crate) struct RefineContext<'a> {
    map: SourceMap<'a>,
    cleaned: String,
    /// Byte ranges of statements, in order.
    statements: Vec<(usize, usize)>,
    /// Names whose definitions failed to parse.
    failed: Vec<String>,
}

impl RefineContext<'_> {
    /// Moves a diagnostic that names a symbol from its element's location to
    /// the symbol itself: first within the element's statement, else at the
    /// symbol's first occurrence in the text.
    fn refine(&self, d: &mut Diagnostic) {
        let (Some(loc), Some(symbol)) = (d.loc, d.symbol.as_deref()) else {
            return;
        };
        let Some(offset) = self.map.offset(loc) else {
            return;
        };
        let k = self.statements.partition_point(|&(s, _)| s <= offset);
        let in_statement = k
            .checked_sub(1)
            .map(|k| self.statements[k])
            .filter(|&(_, e)| offset < e)
            .and_then(|(s, e)| find_word(&self.cleaned, symbol, offset.max(s), e));
        let found =
            in_statement.or_else(|| find_word(&self.cleaned, symbol, 0, self.cleaned.len()));
        if let Some(at) = found {
            d.loc = Some(self.map.loc(at));
            d.width = symbol.chars().count().max(1);
        }
    }
}

/// The first occurrence of `word` as a whole identifier in `text[from..to]`.
fn find_word(text: &str, word: &str, from: usize, to: usize) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    let to = to.min(text.len());
    let hay = text.get(from..to)?;
    let is_id = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let bytes = text.as_bytes();
    let mut base = 0;
    while let Some(i) = hay[base..].find(word) {
        let at = from + base + i;
        let before_ok = at == 0 || !is_id(bytes[at - 1]);
        let after = at + word.len();
        let after_ok = after >= bytes.len() || !is_id(bytes[after]);
        if before_ok && after_ok {
            return Some(at);
        }
        base += i + word.len().max(1);
        if base >= hay.len() {
            break;
        }
    }
    None
}
