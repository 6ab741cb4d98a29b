//! Diagnostics: errors and warnings with a source location.
//!
//! Both the text-format parser and [`Model::validate`](crate::Model::validate)
//! report problems as [`Diagnostic`] values rather than failing on the first
//! one, so that a user sees every problem of a model at once. A diagnostic
//! names the construct it is about, carries a [`Loc`] when the element came
//! from text, and renders itself with the offending source line and a caret
//! ([`Diagnostic::render`]) in the same style as
//! [`ligand_expr::ParseError::render`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// A position in source text: 1-based line and 1-based column, the column
/// counted in characters (not bytes), as in `ligand_expr::Span`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Loc {
    pub line: usize,
    pub column: usize,
}

impl Loc {
    /// A location at `line`, `column` (both 1-based).
    pub fn new(line: usize, column: usize) -> Loc {
        Loc { line, column }
    }

    /// The byte offset of this location in `source`, if the line exists; a
    /// column past the end of its line is clamped to the line's end.
    ///
    /// ```
    /// use ligand_model::Loc;
    /// assert_eq!(Loc::new(2, 3).byte_offset("ab\ncdé"), Some(5));
    /// assert_eq!(Loc::new(3, 1).byte_offset("ab\ncd"), None);
    /// ```
    pub fn byte_offset(&self, source: &str) -> Option<usize> {
        let mut start = 0;
        for _ in 1..self.line {
            start += source[start..].find('\n')? + 1;
        }
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let offset = source[start..line_end]
            .char_indices()
            .nth(self.column.saturating_sub(1))
            .map_or(line_end, |(i, _)| start + i);
        Some(offset)
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// The model is usable, but something was ignored or looks wrong.
    Warning,
    /// The model is not usable as written.
    Error,
}

/// What a diagnostic is about; lets callers (and tests) react to a class of
/// problem without matching on message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// Text that does not follow the grammar, including malformed expressions.
    Syntax,
    /// A construct of the Antimony language that ligand does not support.
    Unsupported,
    /// A construct that carries no meaning for simulation (units, display
    /// names, annotations) and was skipped.
    Ignored,
    /// A name used in math or as a reference that no element defines.
    UndefinedSymbol,
    /// A call of a function that is neither built in nor defined by the model.
    UndefinedFunction,
    /// A species placed in a compartment that the model does not declare.
    UndeclaredCompartment,
    /// Two elements share one id.
    DuplicateId,
    /// One name used as two different kinds of element (say a species and a compartment).
    KindConflict,
    /// A name that cannot be an id, because the expression language reads it
    /// as a constant (`e`, `pi`, `time`, ...).
    ReservedName,
    /// Assignment rules (or initial values) that depend on each other in a circle.
    CyclicRules,
    /// Two rules (or a rule and an initial assignment) that both determine one variable.
    ConflictingRules,
    /// A rule or event that changes an element declared constant.
    AssignmentToConstant,
    /// A user-defined function called with the wrong number of arguments.
    ArityMismatch,
    /// A reference to an element of the wrong kind (say a parameter as a reactant).
    InvalidReference,
    /// A species changed both by reactions and by a rule.
    ChangedByReactionAndRule,
    /// An element with no value and nothing (rule or initial assignment) to give it one.
    MissingValue,
    /// A reaction without a rate law.
    MissingRateLaw,
    /// A later definition that replaces an earlier one.
    Redefinition,
    /// A value outside its valid range (a negative size, a non-finite stoichiometry).
    InvalidValue,
    /// A user-defined function that calls itself, directly or not.
    RecursiveFunction,
    /// Parsing stopped after too many errors.
    TooManyErrors,
}

/// An error or warning about a model, with its location when known.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Diagnostic {
    pub severity: Severity,
    pub kind: DiagnosticKind,
    /// The full message, naming the construct, e.g. "undefined symbol `Kd`
    /// in the rate law of reaction `J1`".
    pub message: String,
    /// Where the problem is, when the element came from text.
    pub loc: Option<Loc>,
    /// How many characters the caret underline spans (at least 1).
    pub width: usize,
    /// A suggested fix, e.g. "did you mean `KD`?".
    pub help: Option<String>,
    /// The identifier the diagnostic is about, when there is one.
    pub symbol: Option<String>,
}

impl Diagnostic {
    /// An error.
    pub fn error(kind: DiagnosticKind, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            kind,
            message: message.into(),
            loc: None,
            width: 1,
            help: None,
            symbol: None,
        }
    }

    /// A warning.
    pub fn warning(kind: DiagnosticKind, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(kind, message)
        }
    }

    /// Sets the location.
    pub fn at(mut self, loc: Option<Loc>) -> Diagnostic {
        self.loc = loc;
        self
    }

    /// Sets the width of the caret underline (in characters).
    pub fn with_width(mut self, width: usize) -> Diagnostic {
        self.width = width.max(1);
        self
    }

    /// Adds a suggested fix.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a suggested fix if there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Names the identifier the diagnostic is about.
    pub fn with_symbol(mut self, symbol: impl Into<String>) -> Diagnostic {
        self.symbol = Some(symbol.into());
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic with the offending source line and a caret
    /// under the location, in the manner of rustc (and of
    /// `ligand_expr::ParseError::render`):
    ///
    /// ```
    /// let src = "model m\n  J1: A -> B; k1*A\nend";
    /// let errors = ligand_model::parse_antimony(src).unwrap_err();
    /// let text = errors[0].render(src);
    /// assert!(text.starts_with("error: undefined symbol `k1`"));
    /// assert!(text.contains("2 |   J1: A -> B; k1*A"));
    /// assert!(text.contains("  |               ^^"));
    /// ```
    pub fn render(&self, source: &str) -> String {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = format!("{label}: {}", self.message);
        let Some(loc) = self.loc else {
            if let Some(h) = &self.help {
                out += &format!("\n  = help: {h}");
            }
            return out;
        };
        let line_text = source.lines().nth(loc.line.saturating_sub(1)).unwrap_or("");
        let gutter = loc.line.to_string().len();
        out += &format!(
            "\n{:gutter$}--> line {}, column {}\n",
            "", loc.line, loc.column
        );
        out += &format!("{:gutter$} |\n", "");
        out += &format!("{} | {}\n", loc.line, line_text);
        // Keep the caret on the line: a width that runs past its end is cut.
        let available = line_text
            .chars()
            .count()
            .saturating_sub(loc.column.saturating_sub(1))
            .max(1);
        out += &format!(
            "{:gutter$} | {}{}",
            "",
            " ".repeat(loc.column.saturating_sub(1)),
            "^".repeat(self.width.clamp(1, available))
        );
        if let Some(h) = &self.help {
            out += &format!("\n{:gutter$} = help: {h}", "");
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{label}: {}", self.message)?;
        if let Some(loc) = self.loc {
            write!(f, " at {loc}")?;
        }
        if let Some(h) = &self.help {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Whether any of the diagnostics is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}
