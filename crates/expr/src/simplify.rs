//! Algebraic simplification.
//!
//! The smart constructors here ([`add`], [`sub`], [`mul`], [`div`], [`pow`],
//! [`neg`]) build a node and simplify it locally: constant folding, neutral and
//! absorbing elements (`x + 0`, `x * 1`, `x * 0`, `x^1`, `x^0`), double
//! negation, collection of like terms (`2*x + 3*x` is `5*x`, `x - x` is `0`),
//! powers of a common base (`x * x` is `x^2`, `x^a * x^b` is `x^(a+b)`) and
//! cancellation (`x / x` is `1`). [`simplify`] applies them bottom-up to a
//! whole tree.
//!
//! Simplification never changes the value of a well-defined expression, but
//! like every computer-algebra system it may remove a point where the original
//! was undefined: `x / x` becomes `1` even though it is NaN at `x = 0`, and
//! `0 * f(x)` becomes `0` even where `f(x)` is infinite. Derivatives rely on
//! this, as differentiation otherwise leaves many `0 * ...` terms behind.

// Guards such as `if x == 0.0` are kept on purpose: with floats they say
// exactly which comparison is meant (-0.0 == 0.0, NaN never equal).
#![allow(clippy::redundant_guards)]

use crate::ast::{BinOp, CmpOp, Expr, Func};
use crate::chain::{build_plain, Link};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// Simplifies a whole tree bottom-up.
///
/// ```
/// use ligand_expr::{parse, simplify};
/// let e = simplify(&parse("0*x + 1*y^1 + (2 + 3)*z + z").unwrap());
/// assert_eq!(e.to_string(), "y + 6 * z");
/// ```
pub fn simplify(e: &Expr) -> Expr {
    e.map(&mut simplify_node)
}

/// Simplifies one node whose children are already simplified.
pub fn simplify_node(e: Expr) -> Expr {
    match e {
        Expr::Neg(a) => neg(*a),
        Expr::Bin(op, a, b) => bin(op, *a, *b),
        Expr::Call(f, args) => call(f, args),
        Expr::Cmp(op, a, b) => match (a.as_num(), b.as_num()) {
            (Some(x), Some(y)) => Expr::Num(bool_num(op.apply(x, y))),
            _ => Expr::Cmp(op, a, b),
        },
        Expr::And(a, b) => match (a.as_num(), b.as_num()) {
            (Some(x), Some(y)) => Expr::Num(bool_num(x != 0.0 && y != 0.0)),
            (Some(x), _) if x == 0.0 => Expr::Num(0.0),
            (_, Some(y)) if y == 0.0 => Expr::Num(0.0),
            _ => Expr::And(a, b),
        },
        Expr::Or(a, b) => match (a.as_num(), b.as_num()) {
            (Some(x), Some(y)) => Expr::Num(bool_num(x != 0.0 || y != 0.0)),
            (Some(x), _) if x != 0.0 && !x.is_nan() => Expr::Num(1.0),
            (_, Some(y)) if y != 0.0 && !y.is_nan() => Expr::Num(1.0),
            _ => Expr::Or(a, b),
        },
        Expr::Not(a) => match a.as_num() {
            Some(x) => Expr::Num(bool_num(x == 0.0)),
            None => Expr::Not(a),
        },
        Expr::Piecewise { pieces, otherwise } => piecewise(pieces, otherwise.map(|o| *o)),
        other => other,
    }
}

fn bool_num(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Builds a binary operation, simplified.
pub fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    match op {
        BinOp::Add => add(a, b),
        BinOp::Sub => sub(a, b),
        BinOp::Mul => mul(a, b),
        BinOp::Div => div(a, b),
        BinOp::Pow => pow(a, b),
    }
}

fn raw(op: BinOp, a: Expr, b: Expr) -> Expr {
    Expr::Bin(op, Box::new(a), Box::new(b))
}

/// Splits a term into a numeric coefficient and the rest: `3*x` is `(3, x)`,
/// `-x` is `(-1, x)`, `x` is `(1, x)`.
fn coefficient(e: &Expr) -> (f64, Option<&Expr>) {
    match e {
        Expr::Num(v) => (*v, None),
        Expr::Neg(a) => {
            let (c, r) = coefficient(a);
            (-c, r)
        }
        Expr::Bin(BinOp::Mul, a, b) => match a.as_num() {
            Some(c) => (c, Some(b)),
            None => (1.0, Some(e)),
        },
        _ => (1.0, Some(e)),
    }
}

/// `a + b`, simplified.
pub fn add(a: Expr, b: Expr) -> Expr {
    match (a.as_num(), b.as_num()) {
        (Some(x), Some(y)) => return Expr::Num(x + y),
        (Some(x), None) if x == 0.0 => return b,
        (None, Some(y)) if y == 0.0 => return a,
        _ => {}
    }
    let mut terms = Terms::default();
    terms.collect(&a, 1.0);
    terms.collect(&b, 1.0);
    rebuild_sum(terms.list)
}

/// `a - b`, simplified.
pub fn sub(a: Expr, b: Expr) -> Expr {
    match (a.as_num(), b.as_num()) {
        (Some(x), Some(y)) => return Expr::Num(x - y),
        (None, Some(y)) if y == 0.0 => return a,
        (Some(x), None) if x == 0.0 => return neg(b),
        _ => {}
    }
    let mut terms = Terms::default();
    terms.collect(&a, 1.0);
    terms.collect(&b, -1.0);
    rebuild_sum(terms.list)
}

/// The `(coefficient, term)` pairs of a sum, like terms merged; the constant
/// part has no term. Terms are found by a structural hash, so that a sum of
/// 100,000 distinct terms is collected in linear time.
#[derive(Default)]
struct Terms {
    list: Vec<(f64, Option<Expr>)>,
    index: HashMap<u64, Vec<usize>>,
}

impl Terms {
    /// Flattens a sum into the list, merging like terms.
    fn collect(&mut self, e: &Expr, sign: f64) {
        match e {
            Expr::Bin(BinOp::Add, a, b) => {
                self.collect(a, sign);
                self.collect(b, sign);
            }
            Expr::Bin(BinOp::Sub, a, b) => {
                self.collect(a, sign);
                self.collect(b, -sign);
            }
            _ => {
                let (c, rest) = coefficient(e);
                let c = sign * c;
                let key = rest.map_or(0, structural_hash);
                let slots = self.index.entry(key).or_default();
                match slots.iter().find(|&&i| self.list[i].1.as_ref() == rest) {
                    Some(&i) => self.list[i].0 += c,
                    None => {
                        slots.push(self.list.len());
                        self.list.push((c, rest.cloned()));
                    }
                }
            }
        }
    }
}

/// A hash of a tree's structure, equal for equal trees (`0.0` and `-0.0`
/// hash alike, as they compare equal).
fn structural_hash(e: &Expr) -> u64 {
    let mut h = DefaultHasher::new();
    e.visit(&mut |n| {
        std::mem::discriminant(n).hash(&mut h);
        match n {
            Expr::Num(v) => (if *v == 0.0 { 0 } else { v.to_bits() }).hash(&mut h),
            Expr::Var(name) | Expr::Apply(name, _) => name.hash(&mut h),
            Expr::Bin(op, ..) => op.hash(&mut h),
            Expr::Cmp(op, ..) => op.hash(&mut h),
            Expr::Call(f, args) => {
                f.hash(&mut h);
                args.len().hash(&mut h);
            }
            Expr::Piecewise { pieces, otherwise } => {
                pieces.len().hash(&mut h);
                otherwise.is_some().hash(&mut h);
            }
            _ => {}
        }
    });
    h.finish()
}

/// The sum of the collected terms, constant last; built balanced when long
/// (see [`crate::chain`]), so that a sum of many terms stays shallow.
fn rebuild_sum(terms: Vec<(f64, Option<Expr>)>) -> Expr {
    let mut constant = 0.0;
    let mut first: Option<Expr> = None;
    let mut rest: Vec<(Link, Expr)> = Vec::new();
    for (c, term) in terms {
        let Some(term) = term else {
            constant += c;
            continue;
        };
        if c == 0.0 {
            continue;
        }
        let magnitude = if c.abs() == 1.0 {
            term
        } else {
            raw(BinOp::Mul, Expr::Num(c.abs()), term)
        };
        match first {
            None if c < 0.0 => first = Some(Expr::Neg(Box::new(magnitude))),
            None => first = Some(magnitude),
            Some(_) if c < 0.0 => rest.push((Link::Sub, magnitude)),
            Some(_) => rest.push((Link::Add, magnitude)),
        }
    }
    let Some(first) = first else {
        return Expr::Num(constant);
    };
    if constant < 0.0 {
        rest.push((Link::Sub, Expr::Num(-constant)));
    } else if constant != 0.0 {
        rest.push((Link::Add, Expr::Num(constant)));
    }
    build_plain(first, rest)
}

/// `-a`, simplified.
pub fn neg(a: Expr) -> Expr {
    match a {
        Expr::Num(v) => Expr::Num(-v),
        Expr::Neg(inner) => *inner,
        Expr::Bin(BinOp::Sub, x, y) => raw(BinOp::Sub, *y, *x),
        Expr::Bin(BinOp::Mul, x, y) if x.as_num().is_some() => {
            mul(Expr::Num(-x.as_num().unwrap()), *y)
        }
        other => Expr::Neg(Box::new(other)),
    }
}

/// Splits a factor into base and exponent: `x^3` is `(x, 3)`, `x` is `(x, 1)`.
fn base_exp(e: &Expr) -> (&Expr, Expr) {
    match e {
        Expr::Bin(BinOp::Pow, b, x) => (b, (**x).clone()),
        _ => (e, Expr::Num(1.0)),
    }
}

/// `a * b`, simplified.
pub fn mul(a: Expr, b: Expr) -> Expr {
    match (a.as_num(), b.as_num()) {
        (Some(x), Some(y)) => return Expr::Num(x * y),
        (Some(x), None) if x == 0.0 => return Expr::Num(0.0),
        (None, Some(y)) if y == 0.0 => return Expr::Num(0.0),
        (Some(x), None) if x == 1.0 => return b,
        (None, Some(y)) if y == 1.0 => return a,
        (Some(x), None) if x == -1.0 => return neg(b),
        (None, Some(y)) if y == -1.0 => return neg(a),
        _ => {}
    }
    // Constants first: 2 * x.
    if b.as_num().is_some() {
        return mul(b, a);
    }
    if let Expr::Neg(na) = a {
        return neg(mul(*na, b));
    }
    if let Expr::Neg(nb) = b {
        return neg(mul(a, *nb));
    }
    if let Some(c) = a.as_num() {
        // c1 * (c2 * x) -> (c1 c2) * x
        if let Expr::Bin(BinOp::Mul, ref x, ref y) = b {
            if let Some(c2) = x.as_num() {
                return mul(Expr::Num(c * c2), (**y).clone());
            }
        }
        // c1 * (x / c2) -> (c1/c2) * x is not exact in floating point; leave it.
        return raw(BinOp::Mul, a, b);
    }
    // Pull a constant out of the left factor: (c * x) * y -> c * (x * y).
    if let Expr::Bin(BinOp::Mul, ref x, ref y) = a {
        if let Some(c) = x.as_num() {
            return mul(Expr::Num(c), mul((**y).clone(), b));
        }
    }
    if let Expr::Bin(BinOp::Mul, ref x, ref y) = b {
        if let Some(c) = x.as_num() {
            return mul(Expr::Num(c), mul(a, (**y).clone()));
        }
    }
    let (ba, ea) = base_exp(&a);
    let (bb, eb) = base_exp(&b);
    if ba == bb && ba.as_num().is_none() {
        return pow(ba.clone(), add(ea, eb));
    }
    raw(BinOp::Mul, a, b)
}

/// `a / b`, simplified.
pub fn div(a: Expr, b: Expr) -> Expr {
    match (a.as_num(), b.as_num()) {
        (Some(x), Some(y)) if y != 0.0 => return Expr::Num(x / y),
        (Some(x), None) if x == 0.0 => return Expr::Num(0.0),
        (None, Some(y)) if y == 1.0 => return a,
        (None, Some(y)) if y == -1.0 => return neg(a),
        _ => {}
    }
    if a == b && a.as_num().is_none() {
        return Expr::Num(1.0);
    }
    if let Expr::Neg(na) = a {
        return neg(div(*na, b));
    }
    if let Expr::Neg(nb) = b {
        return neg(div(a, *nb));
    }
    let (ba, ea) = base_exp(&a);
    let (bb, eb) = base_exp(&b);
    if ba == bb && ba.as_num().is_none() {
        return pow(ba.clone(), sub(ea, eb));
    }
    // (c * x) / y -> c * (x / y) keeps constants where mul can fold them.
    if let Expr::Bin(BinOp::Mul, ref x, ref y) = a {
        if let Some(c) = x.as_num() {
            return mul(Expr::Num(c), div((**y).clone(), b));
        }
    }
    raw(BinOp::Div, a, b)
}

/// `a ^ b`, simplified.
pub fn pow(a: Expr, b: Expr) -> Expr {
    match (a.as_num(), b.as_num()) {
        (Some(x), Some(y)) => return Expr::Num(x.powf(y)),
        (_, Some(y)) if y == 0.0 => return Expr::Num(1.0),
        (_, Some(y)) if y == 1.0 => return a,
        (Some(x), _) if x == 1.0 => return Expr::Num(1.0),
        _ => {}
    }
    // (x^a)^b -> x^(a*b) only for integer b, where it is exact for all real x.
    if let (Expr::Bin(BinOp::Pow, ref x, ref ea), Some(y)) = (&a, b.as_num()) {
        if y.fract() == 0.0 {
            return pow((**x).clone(), mul((**ea).clone(), b.clone()));
        }
        let _ = y;
    }
    raw(BinOp::Pow, a, b)
}

/// A built-in function call, folded when its arguments are constants.
pub fn call(f: Func, args: Vec<Expr>) -> Expr {
    let nums: Option<Vec<f64>> = args.iter().map(|a| a.as_num()).collect();
    if let Some(v) = nums {
        let folded = match (f, v.as_slice()) {
            (Func::Min | Func::Max, xs) if !xs.is_empty() => {
                let mut acc = xs[0];
                for &x in &xs[1..] {
                    acc = f.apply2(acc, x);
                }
                Some(acc)
            }
            (_, [x]) => Some(f.apply1(*x)),
            (_, [x, y]) => Some(f.apply2(*x, *y)),
            _ => None,
        };
        if let Some(r) = folded {
            return Expr::Num(r);
        }
    }
    match (f, args.as_slice()) {
        (Func::Exp, [Expr::Call(Func::Ln, inner)]) => inner[0].clone(),
        (Func::Min | Func::Max, [one]) => one.clone(),
        _ => Expr::Call(f, args),
    }
}

/// A piecewise expression with constant conditions resolved.
pub fn piecewise(pieces: Vec<(Expr, Expr)>, otherwise: Option<Expr>) -> Expr {
    let mut kept: Vec<(Expr, Expr)> = Vec::new();
    for (v, c) in pieces {
        match c.as_num() {
            Some(x) if x == 0.0 || x.is_nan() => continue,
            Some(_) => {
                // Always true: it is the value unless an earlier piece matched.
                return finish_piecewise(kept, Some(v));
            }
            None => kept.push((v, c)),
        }
    }
    finish_piecewise(kept, otherwise)
}

fn finish_piecewise(pieces: Vec<(Expr, Expr)>, otherwise: Option<Expr>) -> Expr {
    if pieces.is_empty() {
        return otherwise.unwrap_or(Expr::Num(f64::NAN));
    }
    // All branches identical: the condition does not matter.
    if let Some(o) = &otherwise {
        if pieces.iter().all(|(v, _)| v == o) {
            return o.clone();
        }
    }
    Expr::Piecewise {
        pieces,
        otherwise: otherwise.map(Box::new),
    }
}

/// `a < b` etc., folded when both are constants.
pub fn cmp(op: CmpOp, a: Expr, b: Expr) -> Expr {
    simplify_node(Expr::Cmp(op, Box::new(a), Box::new(b)))
}
