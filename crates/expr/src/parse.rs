//! Parsing infix text into an [`Expr`].
//!
//! A hand-written lexer feeds a Pratt (precedence-climbing) parser. From
//! loosest to tightest binding:
//!
//! | level | operators | associativity |
//! |---|---|---|
//! | 1 | `\|\|`, `or` | left |
//! | 2 | `&&`, `and` | left |
//! | 3 | `<`, `<=`, `>`, `>=`, `==`, `!=` | left |
//! | 4 | `+`, `-` | left |
//! | 5 | `*`, `/` | left |
//! | 6 | unary `-`, `+`, `!`, `not` | prefix |
//! | 7 | `^` (also `**`) | right |
//!
//! so `-x^2` is `-(x^2)`, `2^3^2` is `2^(3^2)` and `2^-x` is `2^(-x)`. A minus
//! sign written directly before a number literal that is not raised to a power
//! is folded into the literal (`-2*x` holds the number -2), which keeps printing
//! and parsing exact inverses.
//!
//! Every error carries a [`Span`] (byte range, 1-based line and column) and says
//! what was expected and what was found; [`ParseError::render`] draws a caret
//! under the source.

use crate::ast::{BinOp, CmpOp, Expr, Func, MAX_TREE_DEPTH};
use crate::chain::{build, spine, Link, Link3};
use crate::suggest::closest;
use std::fmt;

/// A location in the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column (in characters) of `start`.
    pub column: usize,
}

/// What went wrong while parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A token that cannot start or continue an expression here.
    Unexpected,
    /// A character that is not part of the language.
    InvalidCharacter,
    /// A malformed number literal.
    InvalidNumber,
    /// A call of a function that does not exist.
    UnknownFunction,
    /// A call with the wrong number of arguments.
    WrongArity,
    /// Nesting deeper than the parser allows.
    TooDeep,
}

/// A parse error with its location.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {}, column {}", span.line, span.column)]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub span: Span,
    /// The full message, e.g. "expected an expression, found `)`".
    pub message: String,
    /// A suggested fix, e.g. "did you mean `exp`?".
    pub help: Option<String>,
}

impl ParseError {
    /// Renders the error with the offending source line and a caret under the
    /// span, in the manner of rustc:
    ///
    /// ```
    /// let src = "1 + * 2";
    /// let err = ligand_expr::parse(src).unwrap_err();
    /// let text = err.render(src);
    /// assert!(text.contains("1 + * 2"));
    /// assert!(text.contains("    ^"));
    /// ```
    pub fn render(&self, source: &str) -> String {
        let line_text = source
            .lines()
            .nth(self.span.line.saturating_sub(1))
            .unwrap_or("");
        let width = source
            .get(self.span.start..self.span.end.max(self.span.start))
            .map(|s| s.chars().count())
            .unwrap_or(1)
            .max(1);
        let gutter = self.span.line.to_string().len();
        let mut out = format!("error: {}\n", self.message);
        out += &format!(
            "{:gutter$}--> line {}, column {}\n",
            "", self.span.line, self.span.column
        );
        out += &format!("{:gutter$} |\n", "");
        out += &format!("{} | {}\n", self.span.line, line_text);
        out += &format!(
            "{:gutter$} | {}{}",
            "",
            " ".repeat(self.span.column.saturating_sub(1)),
            "^".repeat(width)
        );
        if let Some(h) = &self.help {
            out += &format!("\n{:gutter$} = help: {h}", "");
        }
        out
    }
}

/// Options for the parser.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    /// Names of user-defined functions that calls may refer to; they become
    /// [`Expr::Apply`] nodes.
    pub user_functions: Vec<String>,
}

/// Parses an expression with the default options.
///
/// ```
/// use ligand_expr::{parse, Expr};
/// let e = parse("bottom + (top - bottom) / (1 + 10^((logec50 - x) * hill))").unwrap();
/// assert_eq!(e.free_vars(), ["bottom", "top", "logec50", "x", "hill"]);
/// assert!(parse("exq(1)").unwrap_err().help.unwrap().contains("exp"));
/// ```
pub fn parse(source: &str) -> Result<Expr, ParseError> {
    parse_with(source, &ParseOptions::default())
}

/// Parses an expression, allowing calls of the given user-defined functions.
pub fn parse_with(source: &str, options: &ParseOptions) -> Result<Expr, ParseError> {
    let tokens = lex(source)?;
    let mut p = Parser {
        src: source,
        tokens,
        pos: 0,
        options,
        depth: 0,
    };
    let (e, _) = p.expr(0)?;
    if !p.at(&Tok::Eof) {
        let t = p.peek().clone();
        return Err(p.error_at(
            ParseErrorKind::Unexpected,
            t.span,
            format!(
                "expected an operator or the end of the expression, found {}",
                t.describe()
            ),
            None,
        ));
    }
    Ok(e)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Eof,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    span: Span,
    /// The token directly follows the previous one with no space between.
    glued: bool,
}

impl Token {
    fn describe(&self) -> String {
        match &self.tok {
            Tok::Num(v) => format!("the number `{v}`"),
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Op(s) => format!("`{s}`"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Eof => "the end of the expression".into(),
        }
    }
}

const MAX_DEPTH: usize = 200;

fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut line_start = 0;
    let mut prev_end = usize::MAX;
    // The column of the current token, counted on from the previous token's
    // (counting from the line start each time is quadratic on a long line).
    let mut counted_to = 0;
    let mut column = 1;
    let mut col = |i: usize, line_start: usize| {
        if counted_to < line_start || counted_to > i {
            counted_to = line_start;
            column = 1;
        }
        column += src[counted_to..i].chars().count();
        counted_to = i;
        column
    };
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            line += 1;
            i += 1;
            line_start = i;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let start_column = col(start, line_start);
        let span_at = |end: usize| Span {
            start,
            end,
            line,
            column: start_column,
        };
        let tok = if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit()))
        {
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
            let text = &src[start..i];
            match text.parse::<f64>() {
                Ok(v) => Tok::Num(v),
                Err(_) => {
                    return Err(ParseError {
                        kind: ParseErrorKind::InvalidNumber,
                        span: span_at(i),
                        message: format!("expected a number, found `{text}`"),
                        help: None,
                    })
                }
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            Tok::Ident(src[start..i].to_string())
        } else {
            let two = src.get(i..i + 2).unwrap_or("");
            let op: Option<&'static str> = match two {
                "**" => Some("^"),
                "<=" => Some("<="),
                ">=" => Some(">="),
                "==" => Some("=="),
                "!=" => Some("!="),
                "&&" => Some("&&"),
                "||" => Some("||"),
                _ => None,
            };
            if let Some(op) = op {
                i += 2;
                Tok::Op(op)
            } else {
                i += 1;
                match c {
                    b'+' => Tok::Op("+"),
                    b'-' => Tok::Op("-"),
                    b'*' => Tok::Op("*"),
                    b'/' => Tok::Op("/"),
                    b'^' => Tok::Op("^"),
                    b'<' => Tok::Op("<"),
                    b'>' => Tok::Op(">"),
                    b'!' => Tok::Op("!"),
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b',' => Tok::Comma,
                    _ => {
                        // Report whole UTF-8 characters.
                        let ch = src[start..].chars().next().unwrap_or('?');
                        let end = start + ch.len_utf8();
                        let help = match ch {
                            '=' => Some("comparison is written `==`".to_string()),
                            '×' | '·' => Some("multiplication is written `*`".to_string()),
                            '−' | '–' => Some("minus is written `-`".to_string()),
                            '&' => Some("logical and is written `&&`".to_string()),
                            '|' => Some("logical or is written `||`".to_string()),
                            _ => None,
                        };
                        return Err(ParseError {
                            kind: ParseErrorKind::InvalidCharacter,
                            span: span_at(end),
                            message: format!("expected an expression, found the character `{ch}`"),
                            help,
                        });
                    }
                }
            }
        };
        out.push(Token {
            tok,
            span: span_at(i),
            glued: prev_end == start,
        });
        prev_end = i;
    }
    let end = src.len();
    out.push(Token {
        tok: Tok::Eof,
        span: Span {
            start: end,
            end,
            line,
            column: col(end, line_start),
        },
        glued: false,
    });
    Ok(out)
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    options: &'a ParseOptions,
    depth: usize,
}

fn infix(tok: &Tok) -> Option<(u8, bool)> {
    // (precedence, right associative)
    let op = match tok {
        Tok::Op(op) => *op,
        Tok::Ident(w) if w == "or" => "||",
        Tok::Ident(w) if w == "and" => "&&",
        _ => return None,
    };
    Some(match op {
        "||" => (1, false),
        "&&" => (2, false),
        "<" | "<=" | ">" | ">=" | "==" | "!=" => (3, false),
        "+" | "-" => (4, false),
        "*" | "/" => (5, false),
        "^" => (7, true),
        _ => return None,
    })
}

const PREFIX_LEVEL: u8 = 6;

/// A parsed subtree and its depth.
type Parsed = (Expr, usize);

/// The chain operator level of a precedence, if its operators associate.
/// Comparisons do not (`a < b < c` is `(a < b) < c`), and `^` is right
/// associative and parsed recursively.
fn chain_level(prec: u8) -> Option<Link> {
    match prec {
        1 => Some(Link::Or),
        2 => Some(Link::And),
        4 => Some(Link::Add),
        5 => Some(Link::Mul),
        _ => None,
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn at(&self, t: &Tok) -> bool {
        &self.peek().tok == t
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn error_at(
        &self,
        kind: ParseErrorKind,
        span: Span,
        message: String,
        help: Option<String>,
    ) -> ParseError {
        let _ = self.src;
        ParseError {
            kind,
            span,
            message,
            help,
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.peek().span;
            return Err(self.error_at(
                ParseErrorKind::TooDeep,
                span,
                format!("expression nested more than {MAX_DEPTH} levels deep"),
                None,
            ));
        }
        Ok(())
    }

    /// Wraps `e` (of tree depth `depth`) after checking the depth against
    /// [`MAX_TREE_DEPTH`]; `at` is the operator or token that made it.
    fn checked(&self, e: Expr, depth: usize, at: Span) -> Result<Parsed, ParseError> {
        if depth > MAX_TREE_DEPTH {
            return Err(self.error_at(
                ParseErrorKind::TooDeep,
                at,
                format!("expression tree deeper than {MAX_TREE_DEPTH} levels"),
                Some(
                    "long sums and products are fine; this is a long chain of comparisons, \
                     powers or signs, or deep nesting: split it with intermediate variables"
                        .into(),
                ),
            ));
        }
        Ok((e, depth))
    }

    fn expr(&mut self, min_prec: u8) -> Result<Parsed, ParseError> {
        self.enter()?;
        let mut lhs = self.prefix()?;
        while let Some((prec, right)) = infix(&self.peek().tok) {
            if prec < min_prec {
                break;
            }
            if let Some(level) = chain_level(prec) {
                lhs = self.chain(level, prec, lhs)?;
                continue;
            }
            let op_tok = self.bump();
            let op = match &op_tok.tok {
                Tok::Op(o) => *o,
                _ => unreachable!("only operators outside chains"),
            };
            let next_min = if right { prec } else { prec + 1 };
            let rhs = if op == "^" {
                // The exponent may carry its own sign: 2^-x.
                self.enter()?;
                let r = self.prefix_or_pow(next_min)?;
                self.depth -= 1;
                r
            } else {
                self.expr(next_min)?
            };
            let depth = lhs.1.max(rhs.1) + 1;
            lhs = self.checked(combine(op, lhs.0, rhs.0), depth, op_tok.span)?;
        }
        self.depth -= 1;
        Ok(lhs)
    }

    /// A chain of operators of one level (`a + b - c ...`): parsed in a loop
    /// and built balanced when long (see [`crate::chain`]), so that a sum of
    /// 100,000 terms is a shallow tree.
    fn chain(&mut self, level: Link, prec: u8, first: Parsed) -> Result<Parsed, ParseError> {
        let mut items = Vec::new();
        // A parenthesised first operand of the same level joins the chain, as
        // its printed form would (`(a + b) + c` prints as `a + b + c`).
        spine(level, first.0, first.1, &mut items);
        let mut last_op = self.peek().span;
        while let Some((p, _)) = infix(&self.peek().tok) {
            if p != prec {
                break;
            }
            let op_tok = self.bump();
            last_op = op_tok.span;
            let link = match &op_tok.tok {
                Tok::Op("+") => Link::Add,
                Tok::Op("-") => Link::Sub,
                Tok::Op("*") => Link::Mul,
                Tok::Op("/") => Link::Div,
                Tok::Op("&&") => Link::And,
                Tok::Op("||") => Link::Or,
                Tok::Ident(w) if w == "and" => Link::And,
                _ => Link::Or,
            };
            let (expr, depth) = self.expr(prec + 1)?;
            items.push(Link3 { link, expr, depth });
        }
        let (e, depth) = build(items);
        self.checked(e, depth, last_op)
    }

    /// The right operand of `^`: a signed power expression.
    fn prefix_or_pow(&mut self, min_prec: u8) -> Result<Parsed, ParseError> {
        if matches!(self.peek().tok, Tok::Op("-") | Tok::Op("+")) {
            return self.prefix();
        }
        self.expr(min_prec)
    }

    fn prefix(&mut self) -> Result<Parsed, ParseError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Op("-") => {
                self.bump();
                // Fold a sign glued to a literal that is not raised to a power.
                if let Tok::Num(v) = self.peek().tok {
                    if self.peek().glued {
                        let after = &self.tokens[(self.pos + 1).min(self.tokens.len() - 1)].tok;
                        if !matches!(after, Tok::Op("^")) {
                            self.bump();
                            return Ok((Expr::Num(-v), 1));
                        }
                    }
                }
                let (operand, d) = self.expr(PREFIX_LEVEL)?;
                self.checked(Expr::Neg(Box::new(operand)), d + 1, t.span)
            }
            Tok::Op("+") => {
                self.bump();
                self.expr(PREFIX_LEVEL)
            }
            Tok::Op("!") => {
                self.bump();
                let (operand, d) = self.expr(PREFIX_LEVEL)?;
                self.checked(Expr::Not(Box::new(operand)), d + 1, t.span)
            }
            Tok::Ident(w) if w == "not" && !self.next_is_lparen_glued() => {
                self.bump();
                let (operand, d) = self.expr(PREFIX_LEVEL)?;
                self.checked(Expr::Not(Box::new(operand)), d + 1, t.span)
            }
            _ => self.atom(),
        }
    }

    fn next_is_lparen_glued(&self) -> bool {
        let next = &self.tokens[(self.pos + 1).min(self.tokens.len() - 1)];
        next.tok == Tok::LParen && next.glued
    }

    fn atom(&mut self) -> Result<Parsed, ParseError> {
        let t = self.bump();
        match t.tok {
            Tok::Num(v) => Ok((Expr::Num(v), 1)),
            Tok::LParen => {
                let e = self.expr(0)?;
                self.expect_rparen(t.span)?;
                Ok(e)
            }
            Tok::Ident(name) => {
                if self.at(&Tok::LParen) {
                    self.call(name, t.span)
                } else {
                    let e = match name.as_str() {
                        "pi" => Expr::Num(std::f64::consts::PI),
                        "e" => Expr::Num(std::f64::consts::E),
                        "inf" | "infinity" | "INF" | "Infinity" => Expr::Num(f64::INFINITY),
                        "nan" | "NaN" | "notanumber" => Expr::Num(f64::NAN),
                        "true" => Expr::Num(1.0),
                        "false" => Expr::Num(0.0),
                        _ => Expr::Var(name),
                    };
                    Ok((e, 1))
                }
            }
            _ => Err(self.error_at(
                ParseErrorKind::Unexpected,
                t.span,
                format!("expected an expression, found {}", t.describe()),
                None,
            )),
        }
    }

    fn expect_rparen(&mut self, open: Span) -> Result<(), ParseError> {
        if self.at(&Tok::RParen) {
            self.bump();
            return Ok(());
        }
        let t = self.peek().clone();
        Err(self.error_at(
            ParseErrorKind::Unexpected,
            t.span,
            format!("expected `)`, found {}", t.describe()),
            Some(format!(
                "the `(` at line {}, column {} is not closed",
                open.line, open.column
            )),
        ))
    }

    fn call(&mut self, name: String, name_span: Span) -> Result<Parsed, ParseError> {
        let open = self.bump().span;
        let mut args = Vec::new();
        let mut deepest = 0;
        if !self.at(&Tok::RParen) {
            loop {
                let (arg, d) = self.expr(0)?;
                deepest = deepest.max(d);
                args.push(arg);
                if self.at(&Tok::Comma) {
                    self.bump();
                    continue;
                }
                break;
            }
        }
        self.expect_rparen(open)?;
        // One more than the deepest argument (an upper bound where the call
        // disappears, as in `piecewise(x)`).
        let e = self.call_node(&name, name_span, args)?;
        self.checked(e, deepest + 1, name_span)
    }

    /// The node for a call of `name` with parsed arguments.
    fn call_node(
        &mut self,
        name: &str,
        name_span: Span,
        mut args: Vec<Expr>,
    ) -> Result<Expr, ParseError> {
        let n = args.len();
        let arity_error = |p: &Self, want: String| {
            p.error_at(
                ParseErrorKind::WrongArity,
                name_span,
                format!("`{name}` expects {want}, found {n}"),
                None,
            )
        };
        match name {
            "piecewise" => {
                if n == 0 {
                    return Err(arity_error(self, "at least 1 argument".into()));
                }
                let mut it = args.into_iter();
                let mut pieces = Vec::new();
                let mut otherwise = None;
                loop {
                    match (it.next(), it.next()) {
                        (Some(v), Some(c)) => pieces.push((v, c)),
                        (Some(v), None) => {
                            otherwise = Some(Box::new(v));
                            break;
                        }
                        _ => break,
                    }
                }
                if pieces.is_empty() {
                    return Ok(*otherwise.expect("n >= 1"));
                }
                return Ok(Expr::Piecewise { pieces, otherwise });
            }
            "if" => {
                if n != 3 {
                    return Err(arity_error(
                        self,
                        "3 arguments (condition, then, else)".into(),
                    ));
                }
                let mut it = args.into_iter();
                let (c, a, b) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
                return Ok(Expr::Piecewise {
                    pieces: vec![(a, c)],
                    otherwise: Some(Box::new(b)),
                });
            }
            "pow" => {
                if n != 2 {
                    return Err(arity_error(self, "2 arguments".into()));
                }
                let mut it = args.into_iter();
                let (a, b) = (it.next().unwrap(), it.next().unwrap());
                return Ok(Expr::Bin(BinOp::Pow, Box::new(a), Box::new(b)));
            }
            "log" if n == 2 => return Ok(Expr::Call(Func::LogBase, args)),
            "not" if n == 1 => return Ok(Expr::Not(Box::new(args.pop().unwrap()))),
            _ => {}
        }
        if let Some(f) = Func::from_name(name) {
            let arity = f.arity();
            if !arity.accepts(n) {
                let want = if name == "log" {
                    "1 or 2 arguments".to_string()
                } else {
                    arity.describe()
                };
                return Err(arity_error(self, want));
            }
            return Ok(Expr::Call(f, args));
        }
        if self.options.user_functions.iter().any(|u| u == name) {
            return Ok(Expr::Apply(name.to_string(), args));
        }
        let mut candidates: Vec<&str> =
            crate::ast::FUNCTION_NAMES.iter().map(|(n, _)| *n).collect();
        candidates.extend(["piecewise", "if", "pow"]);
        candidates.extend(self.options.user_functions.iter().map(|s| s.as_str()));
        let help =
            closest(name, candidates.iter().copied()).map(|s| format!("did you mean `{s}`?"));
        Err(self.error_at(
            ParseErrorKind::UnknownFunction,
            name_span,
            format!("unknown function `{name}`"),
            help,
        ))
    }
}

fn combine(op: &str, a: Expr, b: Expr) -> Expr {
    let (a, b) = (Box::new(a), Box::new(b));
    match op {
        "+" => Expr::Bin(BinOp::Add, a, b),
        "-" => Expr::Bin(BinOp::Sub, a, b),
        "*" => Expr::Bin(BinOp::Mul, a, b),
        "/" => Expr::Bin(BinOp::Div, a, b),
        "^" => Expr::Bin(BinOp::Pow, a, b),
        "<" => Expr::Cmp(CmpOp::Lt, a, b),
        "<=" => Expr::Cmp(CmpOp::Le, a, b),
        ">" => Expr::Cmp(CmpOp::Gt, a, b),
        ">=" => Expr::Cmp(CmpOp::Ge, a, b),
        "==" => Expr::Cmp(CmpOp::Eq, a, b),
        "!=" => Expr::Cmp(CmpOp::Ne, a, b),
        "&&" => Expr::And(a, b),
        "||" => Expr::Or(a, b),
        _ => unreachable!("combine is only called with infix operators"),
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}
