//! # ligand-expr: the expression language of ligand
//!
//! Fit formulas, rate laws, assignment rules, event triggers and PK
//! expressions are all written in this one language, so they share a parser,
//! a differentiator and a compiler.
//!
//! The principal types and how they compose:
//!
//! - [`parse`] turns text into an [`Expr`] tree, or a [`ParseError`] with a
//!   [`Span`] (line and column) that [`ParseError::render`] draws with a caret.
//! - [`Expr`] is a plain value (serde-serialisable); [`Expr::to_string`]
//!   prints it back to text that parses to the same tree.
//! - [`Expr::diff`] differentiates symbolically; the result is simplified by
//!   the constructors in [`simplify`] (constant folding, neutral elements,
//!   like terms and common powers).
//! - [`Compiler`] binds variables to slots and lowers many expressions (say a
//!   residual vector and its Jacobian) into one [`Program`] with common
//!   subexpressions computed once; [`Program::eval`] runs it without
//!   allocating.
//! - [`Expr::eval`] is the slow, obviously-correct reference evaluator.
//!
//! ## Syntax
//!
//! Numbers (`2`, `.5`, `1e-9`), identifiers (letters, digits, `_`), `+ - * /`,
//! `^` (or `**`, right associative; `-x^2` is `-(x^2)`), parentheses,
//! comparisons `< <= > >= == !=`, logic `&& || !` (or `and or not`), the
//! constants `pi`, `e`, `inf`, `nan`, `true` and `false`, and calls:
//!
//! `exp ln log log10 log2 sqrt abs floor ceil sin cos tan asin acos atan`
//! (`arcsin arccos arctan` are aliases) `sinh cosh tanh asinh acosh atanh sec
//! csc cot sign factorial erf erfc`, `min(a, ...)`, `max(a, ...)`, `pow(a, b)`,
//! `root(n, x)`, `piecewise(v1, c1, v2, c2, ..., otherwise)` and
//! `if(c, a, b)`.
//!
//! **`log` is the natural logarithm**, as in SBML and Antimony (write `log10`
//! for the decimal one); `log(b, x)` with two arguments is the logarithm of
//! `x` to base `b`. Logical values are numbers: comparisons give 1 or 0 and
//! any non-zero number is true.
//!
//! ```
//! use ligand_expr::{parse, Compiler};
//! let f = parse("bottom + (top - bottom) / (1 + 10^((logec50 - x) * hill))").unwrap();
//! let params = ["bottom", "top", "logec50", "hill"];
//! let mut c = Compiler::new(["x", "bottom", "top", "logec50", "hill"]);
//! c.add(&f).unwrap();
//! for p in params {
//!     c.add(&f.diff(p).unwrap()).unwrap();
//! }
//! let prog = c.finish();
//! let mut slots = prog.new_slots();
//! slots[..5].copy_from_slice(&[-7.0, 0.0, 100.0, -7.0, 1.0]);
//! let mut out = [0.0; 5];
//! prog.eval(&mut slots, &mut out);
//! assert!((out[0] - 50.0).abs() < 1e-12); // half-maximal at x = logec50
//! assert!((out[1] - 0.5).abs() < 1e-12); // d/d bottom
//! ```

mod ast;
mod chain;
mod compile;
mod diff;
mod eval;
mod parse;
mod print;
pub mod simplify;
mod suggest;

pub use ast::{
    erf, erfc, Arity, BinOp, CmpOp, Expr, Func, FUNCTION_NAMES, MAX_INLINED_NODES, MAX_TREE_DEPTH,
};
pub use compile::{gradient, CompileError, Compiler, Program};
pub use diff::DiffError;
pub use eval::{truthy, EvalError};
pub use parse::{parse, parse_with, ParseError, ParseErrorKind, ParseOptions, Span};
pub use print::format_number;
pub use simplify::simplify;
pub use suggest::{closest, edit_distance};
