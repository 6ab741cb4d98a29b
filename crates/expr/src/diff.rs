//! Symbolic differentiation.
//!
//! `d/dv` is applied by the usual rules, and every node is rebuilt through the
//! simplifying constructors of [`crate::simplify`], so derivatives come out
//! compact (`d/dx x^3` is `3 * x^2`, not `3 * x^(3 - 1) * 1`).
//!
//! ## Conventions at non-differentiable points
//!
//! - `abs(u)`: the derivative is `sign(u) * u'`, so 0 at `u = 0`.
//! - `floor(u)`, `ceil(u)`, `sign(u)`, `factorial(u)`, comparisons and logical
//!   operators: derivative 0 everywhere (undefined at the jumps, where 0 is
//!   the one-sided value on both sides).
//! - `min(a, b)`: the derivative of `a` where `a <= b`, else of `b` (ties take
//!   the first argument); `max` likewise with `a >= b`.
//! - `piecewise(v1, c1, ..., otherwise)`: differentiated branch by branch with
//!   the conditions unchanged, so the derivative at a switching point is the
//!   one of the branch selected there.
//! - `u^w` with both sides depending on the variable uses `u^w * (w' ln u + w u'/u)`,
//!   which is defined for `u > 0`; when the exponent does not depend on the
//!   variable the power rule `w u^(w-1) u'` is used and holds for negative `u`.
//! - Calls of user-defined functions must be inlined first
//!   ([`Expr::inline_functions`]); differentiating one gives a [`DiffError`].

use crate::ast::{BinOp, Expr, Func};
use crate::simplify::{add, call, div, mul, neg, pow, sub};

/// Differentiation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    #[error("cannot differentiate the call of user function `{0}`: inline it first")]
    UserFunction(String),
}

impl Expr {
    /// The derivative with respect to the variable `var`, simplified.
    ///
    /// ```
    /// use ligand_expr::parse;
    /// let e = parse("k * x^3 + exp(-k * x)").unwrap();
    /// assert_eq!(e.diff("x").unwrap().to_string(), "3 * (k * x^2) - exp(-k * x) * k");
    /// ```
    pub fn diff(&self, var: &str) -> Result<Expr, DiffError> {
        // Differentiation (with the simplification inside it) takes the most
        // stack per tree level of all the walks, about 1 KiB at opt-level 1:
        // a deep tree is differentiated on a thread of its own with room for
        // far more than MAX_TREE_DEPTH levels, whatever the caller's stack.
        if self.depth() > DEEP_TREE {
            return on_big_stack(|| d(self, var));
        }
        d(self, var)
    }
}

/// Trees deeper than this are differentiated on a thread with a big stack.
const DEEP_TREE: usize = 200;

/// Runs `f` on a scoped thread with a 256 MiB stack (address space only: the
/// pages a shallow run does not touch are never committed); if no thread can
/// be started, runs it here.
fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let job = std::sync::Mutex::new(Some(f));
    let run = || {
        let f = job
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        f.map(|f| f())
    };
    let on_thread = std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("ligand-expr-deep".into())
            .stack_size(256 << 20)
            .spawn_scoped(scope, run)
            .ok()?;
        match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    match on_thread {
        Some(v) => v,
        // No thread could be started: run here.
        None => run().expect("the job was not taken"),
    }
}

fn zero() -> Expr {
    Expr::Num(0.0)
}

fn one() -> Expr {
    Expr::Num(1.0)
}

fn f1(f: Func, a: Expr) -> Expr {
    call(f, vec![a])
}

fn d(e: &Expr, v: &str) -> Result<Expr, DiffError> {
    Ok(match e {
        Expr::Num(_) => zero(),
        Expr::Var(n) => {
            if n == v {
                one()
            } else {
                zero()
            }
        }
        _ if !e.contains_var(v) && e.applied_functions().is_empty() => zero(),
        Expr::Neg(a) => neg(d(a, v)?),
        Expr::Bin(op, a, b) => {
            let (a, b) = (&**a, &**b);
            match op {
                BinOp::Add => add(d(a, v)?, d(b, v)?),
                BinOp::Sub => sub(d(a, v)?, d(b, v)?),
                BinOp::Mul => add(mul(d(a, v)?, b.clone()), mul(a.clone(), d(b, v)?)),
                BinOp::Div => {
                    let da = d(a, v)?;
                    let db = d(b, v)?;
                    if db.is_num(0.0) {
                        div(da, b.clone())
                    } else if da.is_num(0.0) {
                        // -(a b') / b^2
                        neg(div(mul(a.clone(), db), pow(b.clone(), Expr::Num(2.0))))
                    } else {
                        sub(
                            div(da, b.clone()),
                            div(mul(a.clone(), db), pow(b.clone(), Expr::Num(2.0))),
                        )
                    }
                }
                BinOp::Pow => {
                    let da = d(a, v)?;
                    let db = d(b, v)?;
                    if db.is_num(0.0) {
                        // w u^(w-1) u'
                        mul(mul(b.clone(), pow(a.clone(), sub(b.clone(), one()))), da)
                    } else if da.is_num(0.0) {
                        // u^w ln(u) w'
                        mul(mul(e.clone(), f1(Func::Ln, a.clone())), db)
                    } else {
                        mul(
                            e.clone(),
                            add(
                                mul(db, f1(Func::Ln, a.clone())),
                                div(mul(b.clone(), da), a.clone()),
                            ),
                        )
                    }
                }
            }
        }
        Expr::Cmp(..) | Expr::And(..) | Expr::Or(..) | Expr::Not(..) => zero(),
        Expr::Call(f, args) => d_call(*f, args, v)?,
        Expr::Apply(name, _) => return Err(DiffError::UserFunction(name.clone())),
        Expr::Piecewise { pieces, otherwise } => {
            let mut dp = Vec::with_capacity(pieces.len());
            for (val, cond) in pieces {
                dp.push((d(val, v)?, cond.clone()));
            }
            let dother = match otherwise {
                Some(o) => Some(d(o, v)?),
                None => None,
            };
            crate::simplify::piecewise(dp, dother)
        }
    })
}

fn d_call(f: Func, args: &[Expr], v: &str) -> Result<Expr, DiffError> {
    if f == Func::Min || f == Func::Max {
        // Reduce to nested binary min/max.
        if args.len() == 1 {
            return d(&args[0], v);
        }
        let (a, rest) = (&args[0], &args[1..]);
        let b = if rest.len() == 1 {
            rest[0].clone()
        } else {
            Expr::Call(f, rest.to_vec())
        };
        let op = if f == Func::Min {
            crate::ast::CmpOp::Le
        } else {
            crate::ast::CmpOp::Ge
        };
        let cond = Expr::Cmp(op, Box::new(a.clone()), Box::new(b.clone()));
        return Ok(crate::simplify::piecewise(
            vec![(d(a, v)?, cond)],
            Some(d(&b, v)?),
        ));
    }
    if f == Func::LogBase {
        // log_b(x) = ln x / ln b
        let q = div(f1(Func::Ln, args[1].clone()), f1(Func::Ln, args[0].clone()));
        return d(&q, v);
    }
    if f == Func::Root {
        // root(n, x) = x^(1/n) (for x >= 0)
        let q = pow(args[1].clone(), div(one(), args[0].clone()));
        return d(&q, v);
    }
    let u = &args[0];
    let du = d(u, v)?;
    if du.is_num(0.0) {
        return Ok(zero());
    }
    let u = u.clone();
    let two = || Expr::Num(2.0);
    let outer = match f {
        Func::Exp => f1(Func::Exp, u),
        Func::Ln => div(one(), u),
        Func::Log10 => div(one(), mul(u, Expr::Num(std::f64::consts::LN_10))),
        Func::Log2 => div(one(), mul(u, Expr::Num(std::f64::consts::LN_2))),
        Func::Sqrt => div(one(), mul(two(), f1(Func::Sqrt, u))),
        Func::Abs => f1(Func::Sign, u),
        Func::Floor | Func::Ceil | Func::Sign | Func::Factorial => return Ok(zero()),
        Func::Sin => f1(Func::Cos, u),
        Func::Cos => neg(f1(Func::Sin, u)),
        Func::Tan => pow(f1(Func::Sec, u), two()),
        Func::Asin => div(one(), f1(Func::Sqrt, sub(one(), pow(u, two())))),
        Func::Acos => neg(div(one(), f1(Func::Sqrt, sub(one(), pow(u, two()))))),
        Func::Atan => div(one(), add(one(), pow(u, two()))),
        Func::Sinh => f1(Func::Cosh, u),
        Func::Cosh => f1(Func::Sinh, u),
        Func::Tanh => sub(one(), pow(f1(Func::Tanh, u), two())),
        Func::Asinh => div(one(), f1(Func::Sqrt, add(pow(u, two()), one()))),
        Func::Acosh => div(one(), f1(Func::Sqrt, sub(pow(u, two()), one()))),
        Func::Atanh => div(one(), sub(one(), pow(u, two()))),
        Func::Sec => mul(f1(Func::Sec, u.clone()), f1(Func::Tan, u)),
        Func::Csc => neg(mul(f1(Func::Csc, u.clone()), f1(Func::Cot, u))),
        Func::Cot => neg(pow(f1(Func::Csc, u), two())),
        Func::Erf => mul(
            Expr::Num(std::f64::consts::FRAC_2_SQRT_PI),
            f1(Func::Exp, neg(pow(u, two()))),
        ),
        Func::Erfc => mul(
            Expr::Num(-std::f64::consts::FRAC_2_SQRT_PI),
            f1(Func::Exp, neg(pow(u, two()))),
        ),
        Func::Min | Func::Max | Func::LogBase | Func::Root => unreachable!("handled above"),
    };
    Ok(mul(outer, du))
}
