//! Direct evaluation of a tree (the reference semantics).
//!
//! This walks the tree and looks variables up by name: simple and slow. Hot
//! paths compile instead ([`crate::compile`]); tests check that both agree.

use crate::ast::{max_nan, min_nan, BinOp, Expr, Func};

/// Evaluation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    #[error("unknown variable `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownVariable {
        name: String,
        suggestion: Option<String>,
    },
    #[error("call of user function `{0}` must be inlined before evaluation")]
    UserFunction(String),
}

/// Whether a number counts as true in a condition.
#[inline]
pub fn truthy(x: f64) -> bool {
    x != 0.0 && !x.is_nan()
}

#[inline]
fn b2f(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

impl Expr {
    /// Evaluates the tree, looking variables up with `vars`.
    ///
    /// ```
    /// let e = ligand_expr::parse("piecewise(1, x < 0, 2^x)").unwrap();
    /// let at = |x: f64| e.eval(&|n| (n == "x").then_some(x)).unwrap();
    /// assert_eq!(at(-1.0), 1.0);
    /// assert_eq!(at(3.0), 8.0);
    /// ```
    pub fn eval(&self, vars: &dyn Fn(&str) -> Option<f64>) -> Result<f64, EvalError> {
        Ok(match self {
            Expr::Num(v) => *v,
            Expr::Var(n) => vars(n).ok_or_else(|| EvalError::UnknownVariable {
                name: n.clone(),
                suggestion: None,
            })?,
            Expr::Neg(a) => -a.eval(vars)?,
            Expr::Bin(op, a, b) => {
                let (x, y) = (a.eval(vars)?, b.eval(vars)?);
                match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul => x * y,
                    BinOp::Div => x / y,
                    BinOp::Pow => x.powf(y),
                }
            }
            Expr::Cmp(op, a, b) => b2f(op.apply(a.eval(vars)?, b.eval(vars)?)),
            Expr::And(a, b) => b2f(truthy(a.eval(vars)?) && truthy(b.eval(vars)?)),
            Expr::Or(a, b) => b2f(truthy(a.eval(vars)?) || truthy(b.eval(vars)?)),
            Expr::Not(a) => b2f(!truthy(a.eval(vars)?)),
            Expr::Call(f, args) => match (f, args.as_slice()) {
                (Func::Min | Func::Max, _) => {
                    let mut acc = args[0].eval(vars)?;
                    for a in &args[1..] {
                        let x = a.eval(vars)?;
                        acc = if *f == Func::Min {
                            min_nan(acc, x)
                        } else {
                            max_nan(acc, x)
                        };
                    }
                    acc
                }
                (_, [a]) => f.apply1(a.eval(vars)?),
                (_, [a, b]) => f.apply2(a.eval(vars)?, b.eval(vars)?),
                _ => f64::NAN,
            },
            Expr::Apply(name, _) => return Err(EvalError::UserFunction(name.clone())),
            Expr::Piecewise { pieces, otherwise } => {
                for (v, c) in pieces {
                    if truthy(c.eval(vars)?) {
                        return v.eval(vars);
                    }
                }
                match otherwise {
                    Some(o) => o.eval(vars)?,
                    None => f64::NAN,
                }
            }
        })
    }
}
