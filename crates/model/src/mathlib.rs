//! The functions and constants that Antimony (and libSBML's infix syntax, and
//! SBML's MathML) predefine beyond the built-ins of `ligand-expr`, rewritten
//! into plain [`Expr`] trees so that nothing downstream needs to know them.
//!
//! `gt(a, b)` becomes `a > b`, `and(a, b, c)` becomes `a && b && c`,
//! `xor(a, b)` becomes `(a != 0) != (b != 0)`, `sqr(x)` becomes `x^2`,
//! `arcsec(x)` becomes `acos(1 / x)` (and likewise for the other reciprocal
//! trigonometric and hyperbolic functions: `arccot(x)` is `atan(1 / x)`, as in
//! libSBML and the SBML Test Suite, case 00957), `exponentiale` becomes
//! Euler's number and `avogadro` becomes 6.02214179e23 (the value SBML Level 3
//! fixes, CODATA 2006).

use ligand_expr::{BinOp, CmpOp, Expr, Func};

/// Avogadro's number as SBML Level 3 defines the `avogadro` csymbol
/// (CODATA 2006; SBML L3V1 Core specification, section 3.4.6).
pub const AVOGADRO: f64 = 6.02214179e23;

/// Predefined functions that this module rewrites: pass them to the
/// expression parser as user functions, then call [`rewrite_library_calls`].
pub const LIBRARY_FUNCTIONS: &[&str] = &[
    "and", "or", "xor", "implies", "gt", "geq", "lt", "leq", "eq", "neq", "plus", "minus", "times",
    "divide", "power", "sqr", "coth", "sech", "csch", "arccot", "arccoth", "arccsc", "arccsch",
    "arcsec", "arcsech",
];

/// Predefined functions that ligand does not support, with what they are.
pub const UNSUPPORTED_FUNCTIONS: &[(&str, &str)] = &[
    ("delay", "delay differential equations"),
    ("rateOf", "the rate of change of a symbol"),
    ("rem", "the remainder function"),
    ("quotient", "the integer quotient function"),
    ("normal", "random distributions"),
    ("uniform", "random distributions"),
    ("bernoulli", "random distributions"),
    ("binomial", "random distributions"),
    ("cauchy", "random distributions"),
    ("chisquare", "random distributions"),
    ("exponential", "random distributions"),
    ("gamma", "random distributions"),
    ("laplace", "random distributions"),
    ("lognormal", "random distributions"),
    ("poisson", "random distributions"),
    ("rayleigh", "random distributions"),
];

/// Predefined constants (besides those `ligand-expr` knows: `pi`, `e`,
/// `inf`, `nan`, `true`, `false`) and their values.
pub const LIBRARY_CONSTANTS: &[(&str, f64)] = &[
    ("exponentiale", std::f64::consts::E),
    ("avogadro", AVOGADRO),
];

/// Names the expression parser reads as constants, so that they cannot be
/// the id of an element: `e` in a rate law is Euler's number, not a species.
pub const RESERVED_NAMES: &[&str] = &[
    "time",
    "e",
    "pi",
    "inf",
    "infinity",
    "INF",
    "Infinity",
    "nan",
    "NaN",
    "notanumber",
    "true",
    "false",
    "and",
    "or",
    "not",
    "exponentiale",
    "avogadro",
];

/// A predefined function called with an unsupported number of arguments, or
/// an unsupported predefined function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryCallError {
    /// The function's name.
    pub name: String,
    pub message: String,
}

fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    Expr::Bin(op, Box::new(a), Box::new(b))
}

fn cmp(op: CmpOp, a: Expr, b: Expr) -> Expr {
    Expr::Cmp(op, Box::new(a), Box::new(b))
}

fn call(f: Func, a: Expr) -> Expr {
    Expr::Call(f, vec![a])
}

fn recip(a: Expr) -> Expr {
    bin(BinOp::Div, Expr::Num(1.0), a)
}

/// `x != 0`: a number as a logical value.
fn truth(a: Expr) -> Expr {
    cmp(CmpOp::Ne, a, Expr::Num(0.0))
}

/// Chains a comparison over several arguments: `gt(a, b, c)` is `a > b && b > c`.
fn chain(op: CmpOp, args: Vec<Expr>) -> Expr {
    let mut out: Option<Expr> = None;
    for w in args.windows(2) {
        let c = cmp(op, w[0].clone(), w[1].clone());
        out = Some(match out {
            None => c,
            Some(prev) => Expr::And(Box::new(prev), Box::new(c)),
        });
    }
    out.unwrap_or(Expr::Num(1.0))
}

fn fold(args: Vec<Expr>, empty: Expr, f: impl Fn(Expr, Expr) -> Expr) -> Expr {
    let mut it = args.into_iter();
    match it.next() {
        None => empty,
        Some(first) => it.fold(first, f),
    }
}

fn rewrite(name: &str, mut args: Vec<Expr>) -> Result<Expr, LibraryCallError> {
    let n = args.len();
    let want = |what: &str| LibraryCallError {
        name: name.to_string(),
        message: format!("`{name}` expects {what}, found {n}"),
    };
    let one = |args: &mut Vec<Expr>| -> Result<Expr, LibraryCallError> {
        if args.len() == 1 {
            Ok(args.pop().expect("length checked"))
        } else {
            Err(want("1 argument"))
        }
    };
    let two = |args: Vec<Expr>| -> Result<(Expr, Expr), LibraryCallError> {
        if args.len() == 2 {
            let mut it = args.into_iter();
            Ok((it.next().expect("2"), it.next().expect("2")))
        } else {
            Err(want("2 arguments"))
        }
    };
    Ok(match name {
        "and" => fold(args, Expr::Num(1.0), |a, b| {
            Expr::And(Box::new(a), Box::new(b))
        }),
        "or" => fold(args, Expr::Num(0.0), |a, b| {
            Expr::Or(Box::new(a), Box::new(b))
        }),
        "xor" => {
            // True when an odd number of the arguments are true.
            let mut it = args.into_iter().map(truth);
            match it.next() {
                None => Expr::Num(0.0),
                Some(first) => it.fold(first, |a, b| cmp(CmpOp::Ne, a, b)),
            }
        }
        "implies" => {
            let (a, b) = two(args)?;
            Expr::Or(Box::new(Expr::Not(Box::new(a))), Box::new(b))
        }
        "gt" | "geq" | "lt" | "leq" | "eq" => {
            if n < 2 {
                return Err(want("at least 2 arguments"));
            }
            let op = match name {
                "gt" => CmpOp::Gt,
                "geq" => CmpOp::Ge,
                "lt" => CmpOp::Lt,
                "leq" => CmpOp::Le,
                _ => CmpOp::Eq,
            };
            chain(op, args)
        }
        "neq" => {
            let (a, b) = two(args)?;
            cmp(CmpOp::Ne, a, b)
        }
        "plus" => fold(args, Expr::Num(0.0), |a, b| bin(BinOp::Add, a, b)),
        "times" => fold(args, Expr::Num(1.0), |a, b| bin(BinOp::Mul, a, b)),
        "minus" => match n {
            1 => Expr::Neg(Box::new(one(&mut args)?)),
            2 => {
                let (a, b) = two(args)?;
                bin(BinOp::Sub, a, b)
            }
            _ => return Err(want("1 or 2 arguments")),
        },
        "divide" => {
            let (a, b) = two(args)?;
            bin(BinOp::Div, a, b)
        }
        "power" => {
            let (a, b) = two(args)?;
            bin(BinOp::Pow, a, b)
        }
        "sqr" => bin(BinOp::Pow, one(&mut args)?, Expr::Num(2.0)),
        "coth" => recip(call(Func::Tanh, one(&mut args)?)),
        "sech" => recip(call(Func::Cosh, one(&mut args)?)),
        "csch" => recip(call(Func::Sinh, one(&mut args)?)),
        "arccot" => call(Func::Atan, recip(one(&mut args)?)),
        "arccoth" => call(Func::Atanh, recip(one(&mut args)?)),
        "arccsc" => call(Func::Asin, recip(one(&mut args)?)),
        "arccsch" => call(Func::Asinh, recip(one(&mut args)?)),
        "arcsec" => call(Func::Acos, recip(one(&mut args)?)),
        "arcsech" => call(Func::Acosh, recip(one(&mut args)?)),
        _ => {
            return Err(LibraryCallError {
                name: name.to_string(),
                message: format!("`{name}` is not a predefined function"),
            })
        }
    })
}

/// Rewrites calls of the predefined functions in [`LIBRARY_FUNCTIONS`] (those
/// for which `is_user_function` is false) into plain expressions, and the
/// constants of [`LIBRARY_CONSTANTS`] into numbers. Calls of
/// [`UNSUPPORTED_FUNCTIONS`] are an error naming the function.
///
/// ```
/// use ligand_model::mathlib::{rewrite_library_calls, LIBRARY_FUNCTIONS};
/// use ligand_expr::{parse_with, ParseOptions};
/// let opts = ParseOptions { user_functions: LIBRARY_FUNCTIONS.iter().map(|s| s.to_string()).collect() };
/// let e = parse_with("piecewise(2, gt(x, 0.5), sqr(x))", &opts).unwrap();
/// let e = rewrite_library_calls(&e, &|_| false).unwrap();
/// assert_eq!(e.to_string(), "piecewise(2, x > 0.5, x^2)");
/// ```
pub fn rewrite_library_calls(
    e: &Expr,
    is_user_function: &dyn Fn(&str) -> bool,
) -> Result<Expr, LibraryCallError> {
    let mut err: Option<LibraryCallError> = None;
    let out = e.map(&mut |node| match node {
        Expr::Apply(ref name, _) if err.is_some() || is_user_function(name) => node,
        Expr::Apply(name, args) => {
            if let Some((_, what)) = UNSUPPORTED_FUNCTIONS.iter().find(|(n, _)| *n == name) {
                err = Some(LibraryCallError {
                    message: format!("`{name}` ({what}) is not supported by ligand"),
                    name,
                });
                return Expr::Num(0.0);
            }
            if !LIBRARY_FUNCTIONS.contains(&name.as_str()) {
                return Expr::Apply(name, args);
            }
            match rewrite(&name, args) {
                Ok(e) => e,
                Err(e) => {
                    err = Some(e);
                    Expr::Num(0.0)
                }
            }
        }
        Expr::Var(ref name) => match LIBRARY_CONSTANTS.iter().find(|(n, _)| n == name) {
            Some((_, v)) => Expr::Num(*v),
            None => node,
        },
        other => other,
    });
    match err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}
