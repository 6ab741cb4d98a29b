//! Statements of the Antimony subset, read from tokens.
//!
//! The grammar, informally (`;` or a line break ends a statement; a line
//! break inside parentheses does not; `\` at the end of a line continues it):
//!
//! ```text
//! file        = { function | model | statement }
//! function    = "function" NAME "(" [NAME {"," NAME}] ")" EXPR "end"
//! model       = ("model" | "module") ["*"] NAME ["(" ... ")"] { statement } "end"
//! statement   = declaration | reaction | event | NAME "=" EXPR | NAME ":=" EXPR
//!             | NAME "'" "=" EXPR | interaction | ignored
//! declaration = {"const" | "var" | "substanceOnly"} ["species" | "compartment" | "formula"]
//!               item {"," item}
//! item        = ["$"] NAME ["in" NAME] [("=" | ":=") EXPR]
//! reaction    = [NAME ["in" NAME] ":"] side ("->" | "=>") side ";" [EXPR] ["in" NAME]
//! side        = [term {"+" term}]          term = [NUMBER] ["$"] NAME
//! event       = [NAME ":"] "at" [EXPR "after"] EXPR {"," option} ":" assignment {"," assignment}
//! option      = ("t0" | "priority" | "fromTrigger" | "persistent") "=" EXPR
//! interaction = [NAME ":"] side ("-o" | "-|" | "-(") NAME
//! ```

use super::builder::{Builder, DeclKind, Participant, Value};
use super::lexer::{lex, Tok, Token};
use super::{RefineContext, SourceMap};
use crate::diagnostic::{Diagnostic, DiagnosticKind as K, Loc};
use crate::ir::{Event, EventAssignment, FunctionDefinition, Model};
use crate::mathlib::{rewrite_library_calls, LIBRARY_FUNCTIONS, UNSUPPORTED_FUNCTIONS};
use ligand_expr::{closest, parse_with, Expr, ParseOptions};

/// Words that cannot be names.
pub(crate) const KEYWORDS: &[&str] = &[
    "model",
    "module",
    "end",
    "function",
    "at",
    "after",
    "in",
    "species",
    "compartment",
    "formula",
    "const",
    "var",
    "substanceOnly",
    "unit",
    "import",
    "delete",
    "is",
    "has",
];

/// Antimony annotation keywords (`S1 identity "http://..."`), ignored.
const ANNOTATION_WORDS: &[&str] = &[
    "identity",
    "biological_entity_is",
    "hasPart",
    "part",
    "isPartOf",
    "parthood",
    "isVersionOf",
    "hypernym",
    "hasVersion",
    "version",
    "isHomologTo",
    "homolog",
    "isDescribedBy",
    "description",
    "isEncodedBy",
    "encoder",
    "encodes",
    "encodement",
    "occursIn",
    "container",
    "hasProperty",
    "property",
    "isPropertyOf",
    "propertyBearer",
    "hasTaxon",
    "taxon",
    "created",
    "modified",
    "creator",
    "notes",
    "model_entity_is",
    "origin",
];

/// Words that start a statement.
const STATEMENT_WORDS: &[&str] = &[
    "model",
    "module",
    "end",
    "function",
    "at",
    "species",
    "compartment",
    "formula",
    "const",
    "var",
    "substanceOnly",
    "unit",
    "import",
    "delete",
];

const EVENT_OPTIONS: &[&str] = &["t0", "priority", "fromTrigger", "persistent"];

/// Stop at most this many errors into a file: beyond, they are noise.
const MAX_ERRORS: usize = 200;

/// A place where an expression ends (besides the end of its statement).
#[derive(Clone, Copy, PartialEq)]
enum Stop {
    Comma,
    Colon,
    After,
    In,
    /// A `=` that is not part of `==`, `<=`, ...: an assignment follows.
    Eq,
}

pub(crate) struct Parser<'s> {
    src: &'s str,
    cleaned: String,
    map: SourceMap<'s>,
    toks: Vec<Token>,
    pos: usize,
    diags: Vec<Diagnostic>,
    errors: usize,
    /// Names of user-defined functions (collected before parsing, so that a
    /// function may be used before its definition).
    user_functions: Vec<String>,
    functions: Vec<FunctionDefinition>,
    /// Bare statements outside any model block.
    top: Builder,
    /// Model blocks, in order.
    models: Vec<Builder>,
    /// Index into `models` while inside a block.
    current: Option<usize>,
    /// Byte ranges of the statements read.
    statements: Vec<(usize, usize)>,
}

impl<'s> Parser<'s> {
    pub fn new(src: &'s str) -> Parser<'s> {
        let lexed = lex(src);
        let map = SourceMap::new(src);
        let mut diags = Vec::new();
        for e in &lexed.errors {
            diags.push(
                Diagnostic::error(K::Syntax, e.message.clone())
                    .at(Some(map.loc(e.start)))
                    .with_width(map.width(e.start, e.end)),
            );
        }
        let errors = diags.len();
        let mut user_functions = Vec::new();
        for w in lexed.tokens.windows(2) {
            if w[0].is_ident("function") {
                if let Tok::Ident(name) = &w[1].tok {
                    user_functions.push(name.clone());
                }
            }
        }
        Parser {
            src,
            cleaned: lexed.cleaned,
            map,
            toks: lexed.tokens,
            pos: 0,
            diags,
            errors,
            user_functions,
            functions: Vec::new(),
            top: Builder::new(None, None),
            models: Vec::new(),
            current: None,
            statements: Vec::new(),
        }
    }

    // ----- token helpers -----

    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn peek_at(&self, k: usize) -> &Token {
        &self.toks[(self.pos + k).min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn at_eof(&self) -> bool {
        self.peek().tok == Tok::Eof
    }

    /// `;`, a line break, the end of the text, or `end` (which closes a block).
    fn at_statement_end(&self) -> bool {
        let t = self.peek();
        matches!(t.tok, Tok::Newline | Tok::Eof) || t.is_punct(";") || t.is_ident("end")
    }

    fn loc(&self, offset: usize) -> Loc {
        self.map.loc(offset)
    }

    fn tok_loc(&self, t: &Token) -> Loc {
        self.map.loc(t.start)
    }

    fn builder(&mut self) -> &mut Builder {
        match self.current {
            Some(i) => &mut self.models[i],
            None => &mut self.top,
        }
    }

    fn push(&mut self, d: Diagnostic) {
        if d.is_error() {
            self.errors += 1;
        }
        self.diags.push(d);
    }

    fn error_at(&mut self, kind: K, t: &Token, message: String) {
        let d = Diagnostic::error(kind, message)
            .at(Some(self.tok_loc(t)))
            .with_width(self.map.width(t.start, t.end));
        self.push(d);
    }

    fn warn_at(&mut self, kind: K, t: &Token, message: String) {
        let d = Diagnostic::warning(kind, message)
            .at(Some(self.tok_loc(t)))
            .with_width(self.map.width(t.start, t.end));
        self.push(d);
    }

    fn describe(&self, t: &Token) -> String {
        t.describe(self.src)
    }

    /// Skips to the end of the current statement (error recovery and ignored
    /// statements): the next `;`, or the next line break outside parentheses.
    fn skip_statement(&mut self) {
        let mut depth = 0i32;
        loop {
            let t = self.peek();
            match &t.tok {
                Tok::Eof => return,
                Tok::Newline if depth <= 0 || self.newline_ends_statement(self.pos) => return,
                Tok::Punct(";") => return,
                Tok::Punct("(") => depth += 1,
                Tok::Punct(")") => depth -= 1,
                _ => {}
            }
            self.bump();
        }
    }

    /// Whether the line break at token `i`, inside parentheses, still ends
    /// the statement because the next line plainly starts a new one (so that
    /// an unclosed parenthesis does not swallow the rest of the file).
    fn newline_ends_statement(&self, i: usize) -> bool {
        let mut j = i;
        while j < self.toks.len() && matches!(self.toks[j].tok, Tok::Newline) {
            j += 1;
        }
        let Some(t) = self.toks.get(j) else {
            return true;
        };
        let next = self.toks.get(j + 1);
        match &t.tok {
            Tok::Eof => true,
            Tok::Ident(w) if STATEMENT_WORDS.contains(&w.as_str()) => true,
            Tok::Ident(_) => next.is_some_and(|n| {
                n.is_punct("=") || n.is_punct(":=") || n.is_punct(":") || n.is_punct("'")
            }),
            _ => false,
        }
    }

    /// Consumes the end of a statement, or reports what was found instead.
    fn end_statement(&mut self, what: &str) {
        if self.at_statement_end() {
            if self.peek().is_punct(";") {
                self.bump();
            }
            return;
        }
        let t = self.peek().clone();
        let found = self.describe(&t);
        self.error_at(
            K::Syntax,
            &t,
            format!("expected `;` or a line break after {what}, found {found}"),
        );
        self.skip_statement();
    }

    /// A name (not a keyword), or an error.
    fn expect_name(&mut self, what: &str) -> Option<(String, Token)> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Ident(w) if !KEYWORDS.contains(&w.as_str()) => {
                self.bump();
                Some((w.clone(), t))
            }
            Tok::Ident(w) => {
                self.error_at(
                    K::Syntax,
                    &t,
                    format!("expected {what}, found the keyword `{w}`"),
                );
                None
            }
            _ => {
                let found = self.describe(&t);
                self.error_at(K::Syntax, &t, format!("expected {what}, found {found}"));
                None
            }
        }
    }

    fn expect_punct(&mut self, p: &str, what: &str) -> bool {
        if self.peek().is_punct(p) {
            self.bump();
            return true;
        }
        let t = self.peek().clone();
        let found = self.describe(&t);
        self.error_at(
            K::Syntax,
            &t,
            format!("expected `{p}` {what}, found {found}"),
        );
        false
    }

    // ----- expressions -----

    /// Scans an expression up to (not including) a stop at parenthesis depth
    /// 0 or the end of the statement; returns the token index range.
    fn scan_expr(&mut self, stops: &[Stop]) -> (usize, usize) {
        let first = self.pos;
        let mut depth = 0i32;
        loop {
            let t = self.peek();
            let stop = match &t.tok {
                Tok::Eof => true,
                Tok::Punct(";") => true,
                Tok::Newline => depth <= 0 || self.newline_ends_statement(self.pos),
                Tok::Punct(",") => depth <= 0 && stops.contains(&Stop::Comma),
                Tok::Punct(":") => depth <= 0 && stops.contains(&Stop::Colon),
                Tok::Punct("=") => depth <= 0 && stops.contains(&Stop::Eq),
                // `end` is a keyword: it closes a block at any depth.
                Tok::Ident(w) if w == "end" => true,
                Tok::Ident(w) if depth <= 0 => {
                    (w == "after" && stops.contains(&Stop::After))
                        || (w == "in" && stops.contains(&Stop::In))
                }
                _ => false,
            };
            if stop {
                break;
            }
            match &t.tok {
                Tok::Punct("(") => depth += 1,
                Tok::Punct(")") => depth -= 1,
                _ => {}
            }
            self.bump();
        }
        (first, self.pos)
    }

    /// Parses the expression made of tokens `first..last` (as the cleaned
    /// text they span). Units after numbers (`10 uM`) are dropped with a
    /// warning. Errors are reported with file positions.
    fn parse_expr_tokens(&mut self, first: usize, last: usize, what: &str) -> Option<Expr> {
        // Newlines inside parentheses are part of the expression; skip leading ones.
        let toks: Vec<Token> = self.toks[first..last]
            .iter()
            .filter(|t| t.tok != Tok::Newline)
            .cloned()
            .collect();
        if toks.is_empty() {
            let t = self.toks[last].clone();
            let found = self.describe(&t);
            self.error_at(K::Syntax, &t, format!("expected {what}, found {found}"));
            return None;
        }
        let start = toks[0].start;
        let end = toks[toks.len() - 1].end;
        let mut text: Vec<u8> = self.cleaned.as_bytes()[start..end].to_vec();
        for (i, t) in toks.iter().enumerate() {
            let (Tok::Num(_), Some(next)) = (&t.tok, toks.get(i + 1)) else {
                continue;
            };
            let Tok::Ident(unit) = &next.tok else {
                continue;
            };
            let called = toks.get(i + 2).is_some_and(|t| t.is_punct("("));
            if called
                || ["and", "or", "not", "e"].contains(&unit.as_str())
                || KEYWORDS.contains(&unit.as_str())
            {
                continue;
            }
            for b in &mut text[next.start - start..next.end - start] {
                *b = b' ';
            }
            let unit = unit.clone();
            self.warn_at(
                K::Ignored,
                &next.clone(),
                format!("the unit `{unit}` is ignored: ligand does not check or convert units"),
            );
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        let mut names: Vec<String> = self.user_functions.clone();
        names.extend(LIBRARY_FUNCTIONS.iter().map(|s| s.to_string()));
        names.extend(UNSUPPORTED_FUNCTIONS.iter().map(|(s, _)| s.to_string()));
        let opts = ParseOptions {
            user_functions: names,
        };
        let e = match parse_with(&text, &opts) {
            Ok(e) => e,
            Err(err) => {
                let at = start + err.span.start.min(text.len());
                let to = start + err.span.end.min(text.len()).max(err.span.start);
                let base = self.loc(start);
                let help = err.help.as_deref().map(|h| translate_positions(h, base));
                let d = Diagnostic::error(K::Syntax, format!("{} in {what}", err.message))
                    .at(Some(self.loc(at)))
                    .with_width(self.map.width(at, to))
                    .with_help_opt(help);
                self.push(d);
                return None;
            }
        };
        let user = self.user_functions.clone();
        match rewrite_library_calls(&e, &|n| user.iter().any(|u| u == n)) {
            Ok(e) => Some(e),
            Err(err) => {
                let at = find_call(&text, &err.name).map_or(start, |i| start + i);
                let kind = if UNSUPPORTED_FUNCTIONS.iter().any(|(n, _)| *n == err.name) {
                    K::Unsupported
                } else {
                    K::ArityMismatch
                };
                let d = Diagnostic::error(kind, err.message)
                    .at(Some(self.loc(at)))
                    .with_width(err.name.chars().count())
                    .with_symbol(err.name);
                self.push(d);
                None
            }
        }
    }

    fn expr(&mut self, stops: &[Stop], what: &str) -> Option<Expr> {
        let (a, b) = self.scan_expr(stops);
        self.parse_expr_tokens(a, b, what)
    }

    // ----- the file -----

    pub fn run(&mut self) {
        while !self.at_eof() {
            if self.errors > MAX_ERRORS {
                let t = self.peek().clone();
                self.push(
                    Diagnostic::error(
                        K::TooManyErrors,
                        format!("more than {MAX_ERRORS} errors; the rest of the text was not read"),
                    )
                    .at(Some(self.tok_loc(&t))),
                );
                return;
            }
            let t = self.peek().clone();
            if matches!(t.tok, Tok::Newline) || t.is_punct(";") {
                self.bump();
                continue;
            }
            let start = t.start;
            let before = self.pos;
            if t.is_ident("function") {
                self.function();
            } else if (t.is_ident("model") || t.is_ident("module"))
                && !self.peek_at(1).is_punct(".")
                && !(matches!(self.peek_at(1).tok, Tok::Ident(_))
                    && matches!(self.peek_at(2).tok, Tok::Str))
            {
                self.model_header();
            } else if t.is_ident("end") {
                self.bump();
                match self.current.take() {
                    Some(_) => self.end_statement("`end`"),
                    None => self.error_at(
                        K::Syntax,
                        &t,
                        "`end` without an open `model` or `function`".into(),
                    ),
                }
            } else {
                self.statement();
            }
            // Never loop without progress, whatever a statement did.
            if self.pos == before {
                self.bump();
            }
            let end = self.toks[self.pos.saturating_sub(1)].end.max(start);
            self.statements.push((start, end));
        }
        if let Some(i) = self.current {
            let (name, loc) = (self.models[i].name.clone(), self.models[i].loc);
            let d = Diagnostic::error(
                K::Syntax,
                format!(
                    "model `{}` is not closed with `end`",
                    name.unwrap_or_default()
                ),
            )
            .at(loc);
            self.push(d);
        }
    }

    fn model_header(&mut self) {
        let kw = self.bump();
        if let Some(i) = self.current {
            let outer = self.models[i].name.clone().unwrap_or_default();
            self.error_at(
                K::Syntax,
                &kw,
                format!(
                    "a model cannot be defined inside model `{outer}`; close it with `end` first"
                ),
            );
        }
        let main = self.peek().is_punct("*");
        if main {
            self.bump();
        }
        let Some((name, name_tok)) = self.expect_name("the model's name") else {
            self.skip_statement();
            return;
        };
        if self.peek().is_punct("(") {
            let open = self.bump();
            let mut params = Vec::new();
            while !self.peek().is_punct(")") && !self.at_statement_end() {
                let t = self.bump();
                if let Tok::Ident(w) = t.tok {
                    params.push(w);
                }
            }
            if !self.expect_punct(")", "to close the model's parameter list") {
                self.skip_statement();
            }
            if !params.is_empty() {
                self.warn_at(
                    K::Ignored,
                    &open,
                    format!(
                        "the interface ({}) of model `{name}` is ignored: submodels are not supported",
                        params.join(", ")
                    ),
                );
            }
        }
        let mut b = Builder::new(Some(name), Some(self.tok_loc(&name_tok)));
        b.main = main;
        self.models.push(b);
        self.current = Some(self.models.len() - 1);
        self.end_statement("the model's name");
    }

    fn function(&mut self) {
        let kw = self.bump();
        let Some((name, name_tok)) = self.expect_name("the function's name") else {
            self.skip_to_end_keyword();
            return;
        };
        let mut args = Vec::new();
        if self.expect_punct("(", "after the function's name") {
            loop {
                if self.peek().is_punct(")") {
                    break;
                }
                match self.expect_name("an argument name") {
                    Some((a, _)) => args.push(a),
                    None => {
                        self.skip_to_end_keyword();
                        return;
                    }
                }
                if self.peek().is_punct(",") {
                    self.bump();
                } else {
                    break;
                }
            }
            if !self.expect_punct(")", "to close the argument list") {
                self.skip_to_end_keyword();
                return;
            }
        } else {
            self.skip_to_end_keyword();
            return;
        }
        // The body: everything up to `end` at depth 0; line breaks are spaces.
        while matches!(self.peek().tok, Tok::Newline) {
            self.bump();
        }
        let first = self.pos;
        while !(self.at_eof() || self.peek().is_ident("end")) {
            self.bump();
        }
        if self.at_eof() {
            self.error_at(
                K::Syntax,
                &kw,
                format!("function `{name}` is not closed with `end`"),
            );
            return;
        }
        let mut last = self.pos;
        while last > first
            && (matches!(self.toks[last - 1].tok, Tok::Newline)
                || self.toks[last - 1].is_punct(";"))
        {
            last -= 1;
        }
        let what = format!("the body of function `{name}`");
        // Inside the body, line breaks are spaces: parse the whole span.
        let body = if last > first {
            self.parse_expr_tokens(first, last, &what)
        } else {
            let t = self.peek().clone();
            self.error_at(K::Syntax, &t, format!("expected {what}, found `end`"));
            None
        };
        self.bump(); // `end`
        self.end_statement("`end`");
        if let Some(body) = body {
            let mut f = FunctionDefinition::new(name, args, body);
            f.loc = Some(self.tok_loc(&name_tok));
            self.functions.push(f);
        }
    }

    fn skip_to_end_keyword(&mut self) {
        while !self.at_eof() && !self.peek().is_ident("end") {
            self.bump();
        }
        if !self.at_eof() {
            self.bump();
        }
    }

    // ----- statements -----

    fn statement(&mut self) {
        let t = self.peek().clone();
        if let (Tok::Ident(w), true) = (&t.tok, self.peek_at(1).is_punct(".")) {
            if KEYWORDS.contains(&w.as_str()) {
                self.error_at(
                    K::Unsupported,
                    &t,
                    format!("layout and attribute statements (`{w}.…`) are not supported"),
                );
                self.skip_statement();
                return;
            }
        }
        match &t.tok {
            Tok::Ident(w) => match w.as_str() {
                "import" => {
                    self.error_at(
                        K::Unsupported,
                        &t,
                        "importing files (`import`) is not supported".into(),
                    );
                    self.skip_statement();
                }
                "delete" => {
                    self.error_at(
                        K::Unsupported,
                        &t,
                        "deleting submodel elements (`delete`) is not supported".into(),
                    );
                    self.skip_statement();
                }
                "unit" => {
                    self.warn_at(
                        K::Ignored,
                        &t,
                        "the unit definition is ignored: ligand does not check or convert units"
                            .into(),
                    );
                    self.skip_statement();
                }
                "at" => self.event(None),
                "const" | "var" | "substanceOnly" | "species" | "compartment" | "formula" => {
                    self.declaration()
                }
                "model" | "module" => {
                    // `model notes "..."` and friends, inside a model: annotations.
                    self.warn_at(K::Ignored, &t, "the model annotation is ignored".into());
                    self.skip_statement();
                }
                "after" | "in" | "is" | "has" => {
                    self.error_at(
                        K::Syntax,
                        &t,
                        format!("expected a statement, found the keyword `{w}`"),
                    );
                    self.skip_statement();
                }
                _ => self.named_statement(),
            },
            Tok::Punct("@") => {
                self.warn_at(K::Ignored, &t, "the `@` annotation is ignored".into());
                self.skip_statement();
            }
            Tok::Num(_) if self.peek_at(1).is_punct("=") => {
                self.error_at(
                    K::Unsupported,
                    &t,
                    "algebraic rules (`0 = ...`) are not supported".into(),
                );
                self.skip_statement();
            }
            _ => match self.scan_arrow() {
                Arrow::Reaction => self.reaction(None, None, t.start),
                Arrow::Interaction => self.interaction(),
                Arrow::Dna => self.dna(&t),
                Arrow::None => {
                    let found = self.describe(&t);
                    self.error_at(
                        K::Syntax,
                        &t,
                        format!("expected a statement, found {found}"),
                    );
                    self.skip_statement();
                }
            },
        }
    }

    /// A statement that starts with a name.
    fn named_statement(&mut self) {
        let t = self.peek().clone();
        let next = self.peek_at(1).clone();
        let Tok::Ident(name) = t.tok.clone() else {
            return;
        };
        match &next.tok {
            Tok::Punct(":") => {
                self.bump();
                self.bump();
                self.labelled(name, t, None);
            }
            Tok::Punct(":=") => {
                self.bump();
                self.bump();
                let what = format!("the assignment rule for `{name}`");
                let loc = self.tok_loc(&t);
                match self.expr(&[], &what) {
                    Some(e) => self.builder().assignment_rule(&name, loc, e),
                    None => self.builder().failed(&name, loc),
                }
                self.end_statement(&what);
            }
            Tok::Punct("'") => {
                self.bump();
                self.bump();
                if !self.expect_punct("=", &format!("after `{name}'` (a rate rule)")) {
                    self.skip_statement();
                    return;
                }
                let what = format!("the rate rule for `{name}`");
                let loc = self.tok_loc(&t);
                match self.expr(&[], &what) {
                    Some(e) => self.builder().rate_rule(&name, loc, e),
                    None => self.builder().failed(&name, loc),
                }
                self.end_statement(&what);
            }
            Tok::Punct("=") => {
                self.bump();
                self.bump();
                if self.at_statement_end() {
                    let n = self.peek().clone();
                    self.error_at(
                        K::Unsupported,
                        &n,
                        format!(
                            "clearing the definition of `{name}` (`{name} = ;`) is not supported"
                        ),
                    );
                    self.skip_statement();
                    return;
                }
                let what = format!("the value of `{name}`");
                let loc = self.tok_loc(&t);
                match self.expr(&[], &what) {
                    Some(e) => self.assign(&name, loc, e),
                    None => self.builder().failed(&name, loc),
                }
                self.end_statement(&what);
            }
            Tok::Punct(".") => {
                let attr = self.peek_at(2).clone();
                if attr.is_ident("sboTerm") {
                    self.warn_at(
                        K::Ignored,
                        &t,
                        format!("the SBO term of `{name}` is ignored"),
                    );
                } else {
                    self.error_at(
                        K::Unsupported,
                        &t,
                        format!(
                            "dotted names (`{name}.{}`) refer to submodel elements or attributes, which are not supported",
                            match &attr.tok {
                                Tok::Ident(a) => a.as_str(),
                                _ => "...",
                            }
                        ),
                    );
                }
                self.skip_statement();
            }
            Tok::Ident(w) if w == "in" => {
                // `J0 in comp: ...` (a reaction with a compartment) or `S in comp [= v]`.
                let c = self.peek_at(2).clone();
                if self.peek_at(3).is_punct(":") {
                    if let Tok::Ident(comp) = c.tok.clone() {
                        self.bump();
                        self.bump();
                        self.bump();
                        self.bump();
                        let cl = self.tok_loc(&c);
                        self.labelled(name, t, Some((comp, cl)));
                        return;
                    }
                }
                self.declaration();
            }
            Tok::Ident(w) if w == "is" => {
                if matches!(self.peek_at(2).tok, Tok::Str) {
                    self.warn_at(
                        K::Ignored,
                        &t,
                        format!("the display name of `{name}` is ignored"),
                    );
                } else {
                    self.error_at(
                        K::Unsupported,
                        &t,
                        format!("synonyms (`{name} is ...`) are not supported"),
                    );
                }
                self.skip_statement();
            }
            Tok::Ident(w) if w == "has" => {
                self.warn_at(
                    K::Ignored,
                    &t,
                    format!(
                        "the units of `{name}` are ignored: ligand does not check or convert units"
                    ),
                );
                self.skip_statement();
            }
            Tok::Ident(w)
                if ANNOTATION_WORDS.contains(&w.as_str())
                    || matches!(self.peek_at(2).tok, Tok::Str) =>
            {
                self.warn_at(
                    K::Ignored,
                    &t,
                    format!("the annotation `{w}` of `{name}` is ignored"),
                );
                self.skip_statement();
            }
            Tok::Punct("<" | "<=" | ">" | ">=" | "==") => {
                self.error_at(
                    K::Unsupported,
                    &t,
                    "constraints (`x <= ...`) are not supported".into(),
                );
                self.skip_statement();
            }
            Tok::Punct("(") => {
                self.error_at(
                    K::Unsupported,
                    &t,
                    format!("submodels (`{name}(...)`) are not supported"),
                );
                self.skip_statement();
            }
            _ => match self.scan_arrow() {
                Arrow::Reaction => self.reaction(None, None, t.start),
                Arrow::Interaction => self.interaction(),
                Arrow::Dna => self.dna(&t),
                Arrow::None => {
                    let found = self.describe(&next);
                    let mut d = Diagnostic::error(
                        K::Syntax,
                        format!("expected `=`, `:=`, `'`, `:` or a reaction after `{name}`, found {found}"),
                    )
                    .at(Some(self.tok_loc(&next)))
                    .with_width(self.map.width(next.start, next.end));
                    let words = [
                        "species",
                        "compartment",
                        "const",
                        "var",
                        "function",
                        "model",
                        "substanceOnly",
                        "formula",
                        "unit",
                    ];
                    if let Some(s) = closest(&name, words) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    self.push(d);
                    self.skip_statement();
                }
            },
        }
    }

    /// After `NAME :` (or `NAME in C :`): an event, a reaction or an interaction.
    fn labelled(&mut self, label: String, label_tok: Token, compartment: Option<(String, Loc)>) {
        let t = self.peek().clone();
        if t.is_ident("at") {
            if compartment.is_some() {
                self.warn_at(
                    K::Ignored,
                    &label_tok,
                    format!("the compartment of event `{label}` is ignored"),
                );
            }
            self.event(Some((label, label_tok)));
            return;
        }
        if matches!(t.tok, Tok::Num(_)) && self.peek_at(1).is_punct("=") {
            self.error_at(
                K::Unsupported,
                &t,
                "algebraic rules (`0 = ...`) are not supported".into(),
            );
            self.skip_statement();
            return;
        }
        if matches!(t.tok, Tok::Ident(_)) && self.peek_at(1).is_punct("(") {
            self.error_at(
                K::Unsupported,
                &label_tok,
                format!("submodels (`{label}: model(...)`) are not supported"),
            );
            self.skip_statement();
            return;
        }
        match self.scan_arrow() {
            Arrow::Reaction => self.reaction(
                Some((label, label_tok.clone())),
                compartment,
                label_tok.start,
            ),
            Arrow::Interaction => self.interaction(),
            Arrow::Dna => self.dna(&label_tok),
            Arrow::None => {
                let found = self.describe(&t);
                self.error_at(
                    K::Syntax,
                    &t,
                    format!("expected a reaction (`A -> B; rate`) or an event (`at ...`) after `{label}:`, found {found}"),
                );
                self.skip_statement();
            }
        }
    }

    /// Looks ahead (to the first `;` or line break) for what kind of arrow
    /// the statement has.
    fn scan_arrow(&self) -> Arrow {
        let mut i = self.pos;
        let mut depth = 0i32;
        loop {
            let t = &self.toks[i];
            match &t.tok {
                Tok::Eof | Tok::Punct(";") => return Arrow::None,
                Tok::Newline if depth <= 0 || self.newline_ends_statement(i) => return Arrow::None,
                Tok::Punct("(") => depth += 1,
                Tok::Punct(")") => depth -= 1,
                Tok::Punct("->" | "=>") if depth <= 0 => return Arrow::Reaction,
                Tok::Punct("-") if depth <= 0 => {
                    let n = &self.toks[(i + 1).min(self.toks.len() - 1)];
                    if n.start == t.end {
                        if n.is_punct("|") || n.is_punct("(") || n.is_ident("o") {
                            return Arrow::Interaction;
                        }
                        if n.is_punct("-") {
                            return Arrow::Dna;
                        }
                    }
                }
                _ => {}
            }
            i += 1;
            if i >= self.toks.len() {
                return Arrow::None;
            }
        }
    }

    fn dna(&mut self, t: &Token) {
        self.error_at(
            K::Unsupported,
            t,
            "DNA strands (`--P1--G1--`) are not supported".into(),
        );
        self.skip_statement();
    }

    /// One side of a reaction: `[n] [$]name + ...`, possibly empty.
    fn side(&mut self) -> Option<Vec<Participant>> {
        let mut out = Vec::new();
        let at_arrow = |p: &Parser| {
            let t = p.peek();
            t.is_punct("->") || t.is_punct("=>") || t.is_punct("-") || p.at_statement_end()
        };
        if at_arrow(self) {
            return Some(out);
        }
        loop {
            let mut stoich = 1.0;
            let t = self.peek().clone();
            match t.tok {
                Tok::Num(v) => {
                    stoich = v;
                    self.bump();
                }
                Tok::BadNum => {
                    self.error_at(
                        K::Syntax,
                        &t,
                        format!("expected a stoichiometry, found {}", self.describe(&t)),
                    );
                    return None;
                }
                _ => {}
            }
            let dollar = self.peek().is_punct("$");
            if dollar {
                self.bump();
            }
            let (name, nt) = self.expect_name("a species")?;
            out.push(Participant {
                name,
                stoichiometry: stoich,
                dollar,
                loc: self.tok_loc(&nt),
            });
            if self.peek().is_punct("+") {
                self.bump();
            } else {
                return Some(out);
            }
        }
    }

    fn reaction(
        &mut self,
        label: Option<(String, Token)>,
        compartment: Option<(String, Loc)>,
        start: usize,
    ) {
        let loc = self.loc(label.as_ref().map_or(start, |(_, t)| t.start));
        let Some(reactants) = self.side() else {
            self.skip_statement();
            return;
        };
        let arrow = self.peek().clone();
        let reversible = if arrow.is_punct("->") {
            true
        } else if arrow.is_punct("=>") {
            false
        } else {
            let found = self.describe(&arrow);
            self.error_at(
                K::Syntax,
                &arrow,
                format!("expected `->`, `=>` or `+` between the reactants and the products, found {found}"),
            );
            self.skip_statement();
            return;
        };
        self.bump();
        let Some(products) = self.side() else {
            self.skip_statement();
            return;
        };
        let name = label.as_ref().map(|(n, _)| n.clone());
        let what = match &name {
            Some(n) => format!("the rate law of reaction `{n}`"),
            None => "the rate law".to_string(),
        };
        let mut rate = None;
        let mut rate_failed = false;
        let mut compartment = compartment;
        if self.peek().is_punct(";") {
            self.bump();
            if !self.at_statement_end() {
                let (a, b) = self.scan_expr(&[Stop::In]);
                rate = self.parse_expr_tokens(a, b, &what);
                if rate.is_none() {
                    rate_failed = true;
                    self.skip_statement();
                }
                if self.peek().is_ident("in") {
                    self.bump();
                    if let Some((c, ct)) = self.expect_name("a compartment") {
                        compartment = Some((c, self.tok_loc(&ct)));
                    }
                }
            }
        } else if !self.at_statement_end() {
            let t = self.peek().clone();
            let found = self.describe(&t);
            self.error_at(
                K::Syntax,
                &t,
                format!(
                    "expected `;` and a rate law after the products of the reaction, found {found}"
                ),
            );
            self.skip_statement();
            return;
        }
        self.end_statement(&what);
        let name_loc = label.as_ref().map(|(_, t)| self.tok_loc(t));
        let b = self.builder();
        b.reaction(
            name.map(|n| (n, name_loc.unwrap_or(loc))),
            loc,
            compartment,
            (reactants, products),
            reversible,
            rate,
            rate_failed,
        );
    }

    fn interaction(&mut self) {
        let Some(species) = self.side() else {
            self.skip_statement();
            return;
        };
        // `-o`, `-|` or `-(`.
        self.bump();
        self.bump();
        let Some((reaction, rt)) = self.expect_name("the reaction the interaction acts on") else {
            self.skip_statement();
            return;
        };
        let rl = self.tok_loc(&rt);
        for p in species {
            self.builder()
                .interaction(&p.name, p.loc, p.dollar, &reaction, rl);
        }
        self.end_statement("the interaction");
    }

    fn event(&mut self, label: Option<(String, Token)>) {
        let at = self.bump();
        let loc = self.tok_loc(label.as_ref().map_or(&at, |(_, t)| t));
        let name = label.as_ref().map(|(n, _)| n.clone());
        let what = |part: &str| match &name {
            Some(n) => format!("the {part} of event `{n}`"),
            None => format!("the event's {part}"),
        };
        let stops = [Stop::After, Stop::Comma, Stop::Colon, Stop::Eq];
        let first = self.event_part(&stops, &what("trigger"));
        let (mut trigger, mut delay) = (first, None);
        if self.peek().is_ident("after") {
            let after = self.bump();
            delay = trigger.take();
            trigger = self.event_part(&stops[1..], &what("trigger"));
            // Antimony writes the delay first (`at 2 after x > 5`); accept the
            // reverse when the first part is clearly the condition.
            if let (Some(d), Some(t)) = (&delay, &trigger) {
                if is_logical(d) && !is_logical(t) {
                    self.warn_at(
                        K::Syntax,
                        &after,
                        format!(
                            "read as a delay of `{t}` after the trigger `{d}`: Antimony writes the delay first (`at {t} after {d}`)"
                        ),
                    );
                    std::mem::swap(&mut delay, &mut trigger);
                }
            }
        }
        let mut ev = Event::new(name.clone().unwrap_or_default(), Expr::Num(0.0));
        ev.loc = Some(loc);
        let mut ok = trigger.is_some();
        while self.peek().is_punct(",") {
            self.bump();
            let Some((opt, ot)) = self
                .expect_name("an event option (`t0`, `priority`, `fromTrigger` or `persistent`)")
            else {
                ok = false;
                break;
            };
            if !self.expect_punct("=", &format!("after the event option `{opt}`")) {
                ok = false;
                break;
            }
            let value = self.expr(
                &[Stop::Comma, Stop::Colon],
                &format!("the value of `{opt}`"),
            );
            let Some(value) = value else {
                ok = false;
                continue;
            };
            // `true` and `false` parse to 1 and 0.
            let flag = value.as_num().and_then(|v| {
                if v == 1.0 {
                    Some(true)
                } else if v == 0.0 {
                    Some(false)
                } else {
                    None
                }
            });
            match opt.as_str() {
                "priority" => ev.priority = Some(value),
                "t0" | "fromTrigger" | "persistent" => match flag {
                    Some(f) => match opt.as_str() {
                        "t0" => ev.initial_value = f,
                        "fromTrigger" => ev.use_values_from_trigger_time = f,
                        _ => ev.persistent = f,
                    },
                    None => {
                        self.error_at(
                            K::Syntax,
                            &ot,
                            format!("the event option `{opt}` must be `true` or `false`"),
                        );
                        ok = false;
                    }
                },
                _ => {
                    let help = closest(&opt, EVENT_OPTIONS.iter().copied())
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| {
                            "the options are `t0`, `priority`, `fromTrigger` and `persistent`"
                                .into()
                        });
                    let d = Diagnostic::error(K::Syntax, format!("unknown event option `{opt}`"))
                        .at(Some(self.tok_loc(&ot)))
                        .with_width(opt.chars().count())
                        .with_help(help);
                    self.push(d);
                    ok = false;
                }
            }
        }
        if !self.peek().is_punct(":") {
            if ok {
                let t = self.peek().clone();
                let found = self.describe(&t);
                self.error_at(
                    K::Syntax,
                    &t,
                    format!("expected `:` and the assignments of the event, found {found}"),
                );
            }
            self.skip_statement();
            return;
        }
        self.bump();
        // The assignments may start on the next line.
        while matches!(self.peek().tok, Tok::Newline) {
            self.bump();
        }
        while !self.at_statement_end() {
            let Some((var, vt)) = self.expect_name("a variable to assign") else {
                self.skip_statement();
                return;
            };
            if !self.expect_punct("=", &format!("after `{var}` in the event's assignments")) {
                self.skip_statement();
                return;
            }
            let math = self.expr(&[Stop::Comma], &format!("the assignment to `{var}`"));
            match math {
                Some(m) => {
                    let mut a = EventAssignment::new(var, m);
                    a.loc = Some(self.tok_loc(&vt));
                    ev.assignments.push(a);
                }
                None => ok = false,
            }
            if self.peek().is_punct(",") {
                self.bump();
                while matches!(self.peek().tok, Tok::Newline) {
                    self.bump();
                }
            } else {
                break;
            }
        }
        self.end_statement("the event");
        if let (true, Some(t)) = (ok, trigger) {
            ev.trigger = t;
            ev.delay = delay;
            self.builder().event(name.is_some(), ev);
        }
    }

    /// A trigger or delay. An assignment (`x = ...`) right after it means
    /// the `:` before the assignments is missing.
    fn event_part(&mut self, stops: &[Stop], what: &str) -> Option<Expr> {
        let (a, b) = self.scan_expr(stops);
        if self.peek().is_punct("=") {
            let t = self.toks[b.saturating_sub(1).max(a)].clone();
            let found = self.describe(&t);
            self.error_at(
                K::Syntax,
                &t,
                format!("expected `:` before the event's assignments, found {found}"),
            );
            return None;
        }
        self.parse_expr_tokens(a, b, what)
    }

    fn declaration(&mut self) {
        let mut qualifier: Option<bool> = None;
        let mut substance_only = false;
        let mut kind: Option<DeclKind> = None;
        loop {
            let t = self.peek().clone();
            match &t.tok {
                Tok::Ident(w) if w == "const" => qualifier = Some(true),
                Tok::Ident(w) if w == "var" => qualifier = Some(false),
                Tok::Ident(w) if w == "substanceOnly" => substance_only = true,
                Tok::Ident(w) if w == "species" => {
                    kind = Some(DeclKind::Species);
                    self.bump();
                    break;
                }
                Tok::Ident(w) if w == "compartment" => {
                    kind = Some(DeclKind::Compartment);
                    self.bump();
                    break;
                }
                Tok::Ident(w) if w == "formula" => {
                    kind = Some(DeclKind::Parameter);
                    self.bump();
                    break;
                }
                _ => break,
            }
            self.bump();
        }
        if substance_only && kind.is_none() {
            kind = Some(DeclKind::Species);
        }
        loop {
            let dollar = self.peek().is_punct("$");
            if dollar {
                self.bump();
            }
            let Some((name, nt)) = self.expect_name("a name to declare") else {
                self.skip_statement();
                return;
            };
            let loc = self.tok_loc(&nt);
            let mut compartment = None;
            if self.peek().is_ident("in") {
                self.bump();
                let Some((c, ct)) = self.expect_name("a compartment after `in`") else {
                    self.skip_statement();
                    return;
                };
                compartment = Some((c, self.tok_loc(&ct)));
            }
            let mut value = None;
            let mut rule = None;
            if self.peek().is_punct("=") {
                self.bump();
                value = self.expr(&[Stop::Comma], &format!("the value of `{name}`"));
                if value.is_none() {
                    let b = self.builder();
                    b.declare(
                        &name,
                        loc,
                        kind,
                        qualifier,
                        dollar,
                        substance_only,
                        compartment,
                    );
                    b.failed(&name, loc);
                    self.skip_statement();
                    return;
                }
            } else if self.peek().is_punct(":=") {
                self.bump();
                rule = self.expr(&[Stop::Comma], &format!("the assignment rule for `{name}`"));
                if rule.is_none() {
                    let b = self.builder();
                    b.declare(
                        &name,
                        loc,
                        kind,
                        qualifier,
                        dollar,
                        substance_only,
                        compartment,
                    );
                    b.failed(&name, loc);
                    self.skip_statement();
                    return;
                }
            }
            if kind == Some(DeclKind::Compartment) {
                if let Some((c, cl)) = &compartment {
                    let d = Diagnostic::warning(
                        K::Ignored,
                        format!("compartment `{name}` is said to be inside `{c}`: ligand has no compartment hierarchy, so this is ignored"),
                    )
                    .at(Some(*cl));
                    self.push(d);
                }
            }
            {
                let b = self.builder();
                b.declare(
                    &name,
                    loc,
                    kind,
                    qualifier,
                    dollar,
                    substance_only,
                    compartment,
                );
            }
            if let Some(e) = value {
                self.assign(&name, loc, e);
            }
            if let Some(e) = rule {
                self.builder().assignment_rule(&name, loc, e);
            }
            if self.peek().is_punct(",") {
                self.bump();
            } else {
                break;
            }
        }
        self.end_statement("the declaration");
    }

    /// `name = expr`: a number is an initial value, anything else an initial
    /// assignment (Antimony's semantics).
    fn assign(&mut self, name: &str, loc: Loc, e: Expr) {
        let value = match e {
            Expr::Num(v) => Value::Number(v),
            Expr::Neg(ref inner) if inner.as_num().is_some() => {
                Value::Number(-inner.as_num().unwrap_or(0.0))
            }
            other => Value::Math(other),
        };
        let b = self.builder();
        b.value(name, loc, value);
    }

    pub fn finish(mut self) -> (Model, Vec<Diagnostic>, RefineContext<'s>) {
        let functions = std::mem::take(&mut self.functions);
        let models = std::mem::take(&mut self.models);
        let top = std::mem::replace(&mut self.top, Builder::new(None, None));
        let builder = if models.is_empty() {
            top
        } else {
            if let Some(loc) = top.first_content {
                self.push(
                    Diagnostic::error(
                        K::Unsupported,
                        "statements outside `model ... end` are not supported in a file that also defines models",
                    )
                    .at(Some(loc))
                    .with_help("move them inside the model"),
                );
            }
            let main = models
                .iter()
                .rposition(|m| m.main)
                .unwrap_or(models.len() - 1);
            let main_name = models[main].name.clone().unwrap_or_default();
            let mut chosen = None;
            for (i, m) in models.into_iter().enumerate() {
                if i == main {
                    chosen = Some(m);
                } else {
                    let d = Diagnostic::warning(
                        K::Ignored,
                        format!(
                            "model `{}` is ignored: only the main model `{main_name}` is read (submodels are not supported)",
                            m.name.clone().unwrap_or_default()
                        ),
                    )
                    .at(m.loc);
                    self.diags.push(d);
                }
            }
            chosen.unwrap_or_else(|| Builder::new(None, None))
        };
        let (model, diags, failed) = builder.finish(functions);
        self.diags.extend(diags);
        let context = RefineContext {
            map: self.map,
            cleaned: self.cleaned,
            statements: self.statements,
            failed,
        };
        (model, self.diags, context)
    }
}

enum Arrow {
    None,
    Reaction,
    Interaction,
    Dna,
}

/// Whether an expression is a condition (a comparison or logical operation).
fn is_logical(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Cmp(..) | Expr::And(..) | Expr::Or(..) | Expr::Not(..)
    )
}

/// Rewrites "line L, column C" in a message about an expression's text (whose
/// first character is at `base` in the file) into file positions.
fn translate_positions(text: &str, base: Loc) -> String {
    const KEY: &str = "line ";
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(KEY) {
        out += &rest[..i];
        let after = &rest[i + KEY.len()..];
        let parsed = (|| {
            let (l, tail) = after.split_once(", column ")?;
            let line: usize = l.parse().ok()?;
            let digits = tail
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(tail.len());
            let column: usize = tail[..digits].parse().ok()?;
            Some((line, column, &tail[digits..]))
        })();
        match parsed {
            Some((line, column, tail)) => {
                // Later lines of the expression start where the file's lines start.
                let (l, c) = if line <= 1 {
                    (base.line, base.column + column.saturating_sub(1))
                } else {
                    (base.line + line - 1, column)
                };
                out += &format!("line {l}, column {c}");
                rest = tail;
            }
            None => {
                out += KEY;
                rest = after;
            }
        }
    }
    out += rest;
    out
}

/// The offset of the first call of `name` (`name` followed by `(`) in `text`.
fn find_call(text: &str, name: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text.get(from..)?.find(name) {
        let at = from + i;
        let before_ok =
            at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        let rest = text[at + name.len()..].trim_start();
        if before_ok && rest.starts_with('(') {
            return Some(at);
        }
        from = at + name.len().max(1);
    }
    None
}
