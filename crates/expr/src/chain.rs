//! Long chains of one operator level (`a + b - c + ...`, `a * b / c * ...`,
//! `a && b && ...`, `a || b || ...`) as trees of logarithmic depth.
//!
//! A chain of up to [`LEFT_DEEP_MAX`] operands is the usual left-deep tree
//! (`a + b + c` is `(a + b) + c`). A longer one, say a rate law that is a sum
//! of 100,000 fluxes, is split in halves recursively until the pieces have at
//! most [`LEAF`] operands, each piece left-deep: its depth is about
//! `LEAF + log2(n)` instead of `n`, so every recursive walk over the tree
//! (printing, simplifying, differentiating, compiling, evaluating, dropping)
//! stays shallow. A right half that starts with `-` (or `/`) is subtracted
//! (divided) as a whole with its inner signs flipped: `a - b + c` splits into
//! `a - (b - c)`. The value is the same; its rounding may differ in the last
//! places from strict left-to-right evaluation (pairwise summation is, if
//! anything, the more accurate).
//!
//! The two sizes are chosen so that printing and parsing stay exact
//! inverses: a balanced tree prints as a top-level chain of its leftmost
//! piece (at most `LEAF` operands) followed by one parenthesised operand per
//! level of halving (at most 64), which is at most `LEFT_DEEP_MAX` operands
//! and so parses back left-deep, into the very same tree.

use crate::ast::{BinOp, Expr};

/// Chains of at most this many operands are built left-deep.
pub(crate) const LEFT_DEEP_MAX: usize = 128;
/// The pieces of a longer chain have at most this many operands.
const LEAF: usize = 64;

/// The operator joining an operand to the chain before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Link {
    Add,
    Sub,
    Mul,
    Div,
    And,
    Or,
}

impl Link {
    /// The same operator with the inverse sense (`+` for `-`, `*` for `/`).
    fn flipped(self) -> Link {
        match self {
            Link::Add => Link::Sub,
            Link::Sub => Link::Add,
            Link::Mul => Link::Div,
            Link::Div => Link::Mul,
            other => other,
        }
    }

    fn is_inverse(self) -> bool {
        matches!(self, Link::Sub | Link::Div)
    }

    /// Whether `e`'s top node belongs to a chain of this operator level.
    fn same_level(self, e: &Expr) -> bool {
        matches!(
            (self, e),
            (
                Link::Add | Link::Sub,
                Expr::Bin(BinOp::Add | BinOp::Sub, ..)
            ) | (
                Link::Mul | Link::Div,
                Expr::Bin(BinOp::Mul | BinOp::Div, ..)
            ) | (Link::And, Expr::And(..))
                | (Link::Or, Expr::Or(..))
        )
    }

    pub(crate) fn join(self, a: Expr, b: Expr) -> Expr {
        let (a, b) = (Box::new(a), Box::new(b));
        match self {
            Link::Add => Expr::Bin(BinOp::Add, a, b),
            Link::Sub => Expr::Bin(BinOp::Sub, a, b),
            Link::Mul => Expr::Bin(BinOp::Mul, a, b),
            Link::Div => Expr::Bin(BinOp::Div, a, b),
            Link::And => Expr::And(a, b),
            Link::Or => Expr::Or(a, b),
        }
    }
}

/// One operand of a chain with the operator before it (ignored for the first
/// operand) and the depth of its tree.
pub(crate) struct Link3 {
    pub link: Link,
    pub expr: Expr,
    pub depth: usize,
}

/// Splits the left spine of `e` at one operator level into the operands of a
/// chain: `(a + b) - c` is `[a, + b, - c]`. Anything else is one operand.
/// `level` names the operator level; `depth` is `e`'s depth (the operands
/// taken out of `e` have theirs measured).
pub(crate) fn spine(level: Link, e: Expr, depth: usize, out: &mut Vec<Link3>) {
    if !level.same_level(&e) {
        out.push(Link3 {
            link: level,
            expr: e,
            depth,
        });
        return;
    }
    // Walk down the left spine iteratively, collecting right operands.
    let mut rights: Vec<(Link, Expr)> = Vec::new();
    let mut cur = e;
    loop {
        let (link, left, right) = match cur {
            Expr::Bin(BinOp::Add, a, b) => (Link::Add, *a, *b),
            Expr::Bin(BinOp::Sub, a, b) => (Link::Sub, *a, *b),
            Expr::Bin(BinOp::Mul, a, b) => (Link::Mul, *a, *b),
            Expr::Bin(BinOp::Div, a, b) => (Link::Div, *a, *b),
            Expr::And(a, b) => (Link::And, *a, *b),
            Expr::Or(a, b) => (Link::Or, *a, *b),
            other => {
                let d = other.depth();
                out.push(Link3 {
                    link: level,
                    expr: other,
                    depth: d,
                });
                break;
            }
        };
        rights.push((link, right));
        if !level.same_level(&left) {
            let d = left.depth();
            out.push(Link3 {
                link: level,
                expr: left,
                depth: d,
            });
            break;
        }
        cur = left;
    }
    for (link, expr) in rights.into_iter().rev() {
        let depth = expr.depth();
        out.push(Link3 { link, expr, depth });
    }
}

/// Builds a chain (the first operand's link is ignored), left-deep when it is
/// short and balanced when it is long; returns the tree and its depth.
pub(crate) fn build(mut items: Vec<Link3>) -> (Expr, usize) {
    debug_assert!(!items.is_empty());
    if items.len() <= LEFT_DEEP_MAX {
        return left_deep(items);
    }
    balanced(&mut items)
}

fn left_deep(items: Vec<Link3>) -> (Expr, usize) {
    let mut it = items.into_iter();
    let first = it.next().expect("a chain has an operand");
    let (mut acc, mut depth) = (first.expr, first.depth);
    for x in it {
        acc = x.link.join(acc, x.expr);
        depth = depth.max(x.depth) + 1;
    }
    (acc, depth)
}

/// `items` (more than `LEAF` of them, or any number in a recursive call)
/// halved until the pieces have at most `LEAF` operands; recursion depth is
/// `log2(n / LEAF)`.
fn balanced(items: &mut Vec<Link3>) -> (Expr, usize) {
    if items.len() <= LEAF {
        return left_deep(std::mem::take(items));
    }
    let mut right = items.split_off(items.len() / 2);
    let link = right[0].link;
    if link.is_inverse() {
        // a - (b - c + d) is a - b + c - d.
        for x in &mut right {
            x.link = x.link.flipped();
        }
    }
    let (l, ld) = balanced(items);
    let (r, rd) = balanced(&mut right);
    (link.join(l, r), ld.max(rd) + 1)
}

/// Builds a sum or product (or `&&`/`||` chain) of expressions without depth
/// bookkeeping: left-deep when short, balanced when long.
pub(crate) fn build_plain(first: Expr, rest: impl IntoIterator<Item = (Link, Expr)>) -> Expr {
    let mut items = vec![Link3 {
        link: Link::Add,
        expr: first,
        depth: 0,
    }];
    items.extend(rest.into_iter().map(|(link, expr)| Link3 {
        link,
        expr,
        depth: 0,
    }));
    build(items).0
}
