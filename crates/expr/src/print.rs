//! Printing an [`Expr`] back to infix text.
//!
//! The printer adds only the parentheses that precedence requires, and its
//! output parses back to the identical tree: `parse(&e.to_string()) == e` for
//! every tree with finite literals (NaN literals print as `nan`, which parses
//! back to NaN, but NaN is never equal to itself).

use crate::ast::{BinOp, Expr};
use std::fmt;

// Precedence levels, matching the parser.
const OR: u8 = 1;
const AND: u8 = 2;
const CMP: u8 = 3;
const ADD: u8 = 4;
const MUL: u8 = 5;
const PREFIX: u8 = 6;
const POW: u8 = 7;
const ATOM: u8 = 8;

fn level(e: &Expr) -> u8 {
    match e {
        Expr::Num(v) if v.is_sign_negative() && !v.is_nan() => PREFIX,
        Expr::Num(_) | Expr::Var(_) | Expr::Call(..) | Expr::Apply(..) | Expr::Piecewise { .. } => {
            ATOM
        }
        Expr::Neg(_) | Expr::Not(_) => PREFIX,
        Expr::Bin(BinOp::Pow, ..) => POW,
        Expr::Bin(BinOp::Mul | BinOp::Div, ..) => MUL,
        Expr::Bin(BinOp::Add | BinOp::Sub, ..) => ADD,
        Expr::Cmp(..) => CMP,
        Expr::And(..) => AND,
        Expr::Or(..) => OR,
    }
}

/// Formats a number so that it parses back to the same `f64`.
pub fn format_number(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let s = format!("{v:?}");
    match s.strip_suffix(".0") {
        Some(t) => t.to_string(),
        None => s,
    }
}

struct Printer<'a>(&'a Expr);

fn write_child(f: &mut fmt::Formatter<'_>, e: &Expr, min_level: u8) -> fmt::Result {
    if level(e) < min_level {
        write!(f, "(")?;
        write_expr(f, e)?;
        write!(f, ")")
    } else {
        write_expr(f, e)
    }
}

fn starts_with_digit(e: &Expr) -> bool {
    match e {
        Expr::Num(v) => v.is_finite() && !v.is_sign_negative(),
        Expr::Bin(_, a, _) | Expr::Cmp(_, a, _) | Expr::And(a, _) | Expr::Or(a, _) => {
            level(a) >= level(e) && starts_with_digit(a)
        }
        _ => false,
    }
}

fn write_args(f: &mut fmt::Formatter<'_>, args: &[&Expr]) -> fmt::Result {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write_expr(f, a)?;
    }
    Ok(())
}

fn write_expr(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
    match e {
        Expr::Num(v) => {
            if v.is_infinite() && *v < 0.0 {
                write!(f, "-inf")
            } else {
                write!(f, "{}", format_number(*v))
            }
        }
        Expr::Var(n) => write!(f, "{n}"),
        Expr::Neg(a) => {
            write!(f, "-")?;
            // A digit right after the sign would be read as a negative literal.
            if starts_with_digit(a) && !matches!(**a, Expr::Bin(BinOp::Pow, ..)) {
                write!(f, "(")?;
                write_expr(f, a)?;
                write!(f, ")")
            } else {
                write_child(f, a, PREFIX)
            }
        }
        Expr::Not(a) => {
            write!(f, "!")?;
            write_child(f, a, PREFIX)
        }
        Expr::Bin(op, a, b) => {
            let (sym, lvl) = match op {
                BinOp::Add => (" + ", ADD),
                BinOp::Sub => (" - ", ADD),
                BinOp::Mul => (" * ", MUL),
                BinOp::Div => (" / ", MUL),
                BinOp::Pow => ("^", POW),
            };
            if *op == BinOp::Pow {
                // Right associative: the base needs parentheses at equal level,
                // the exponent may be any prefix or power expression.
                write_child(f, a, POW + 1)?;
                write!(f, "{sym}")?;
                write_child(f, b, PREFIX)
            } else {
                write_child(f, a, lvl)?;
                write!(f, "{sym}")?;
                write_child(f, b, lvl + 1)
            }
        }
        Expr::Cmp(op, a, b) => {
            write_child(f, a, CMP)?;
            write!(f, " {} ", op.symbol())?;
            write_child(f, b, CMP + 1)
        }
        Expr::And(a, b) => {
            write_child(f, a, AND)?;
            write!(f, " && ")?;
            write_child(f, b, AND + 1)
        }
        Expr::Or(a, b) => {
            write_child(f, a, OR)?;
            write!(f, " || ")?;
            write_child(f, b, OR + 1)
        }
        Expr::Call(func, args) => {
            write!(f, "{}(", func.name())?;
            write_args(f, &args.iter().collect::<Vec<_>>())?;
            write!(f, ")")
        }
        Expr::Apply(name, args) => {
            write!(f, "{name}(")?;
            write_args(f, &args.iter().collect::<Vec<_>>())?;
            write!(f, ")")
        }
        Expr::Piecewise { pieces, otherwise } => {
            let mut args: Vec<&Expr> = Vec::new();
            for (v, c) in pieces {
                args.push(v);
                args.push(c);
            }
            if let Some(o) = otherwise {
                args.push(o);
            }
            write!(f, "piecewise(")?;
            write_args(f, &args)?;
            write!(f, ")")
        }
    }
}

impl fmt::Display for Printer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self.0)
    }
}

impl fmt::Display for Expr {
    /// Infix text that parses back to the same tree.
    ///
    /// ```
    /// use ligand_expr::parse;
    /// let e = parse("-x^2 + (a - b) * 2^-k").unwrap();
    /// assert_eq!(e.to_string(), "-x^2 + (a - b) * 2^-k");
    /// assert_eq!(parse(&e.to_string()).unwrap(), e);
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Printer(self).fmt(f)
    }
}
