//! The expression tree.
//!
//! An [`Expr`] is a plain value: it can be cloned, compared, hashed into a
//! compiler's table, serialised with serde and printed back to infix text that
//! parses to the same tree (see [`crate::print`]).

use serde::{Deserialize, Serialize};

/// Binary arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// Exponentiation, `a^b` (also written `a**b` or `pow(a, b)`).
    Pow,
}

/// Comparison operators; they evaluate to 1.0 (true) or 0.0 (false).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CmpOp {
    /// The operator as written in infix text.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }

    /// Applies the comparison.
    pub fn apply(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }
}

/// Built-in functions.
///
/// `Log` is the natural logarithm, as in SBML and Antimony; `log(b, x)` with
/// two arguments is the logarithm of `x` to base `b` (MathML's `logbase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Func {
    Exp,
    /// Natural logarithm; `ln` and one-argument `log` both parse to it.
    Ln,
    /// Two-argument logarithm `log(base, x)`.
    LogBase,
    Log10,
    Log2,
    Sqrt,
    Abs,
    Floor,
    Ceil,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Sec,
    Csc,
    Cot,
    /// Minimum of one or more arguments.
    Min,
    /// Maximum of one or more arguments.
    Max,
    /// `sign(x)`: -1, 0 or 1.
    Sign,
    /// `root(n, x)`: the n-th root of x (MathML's `root` with a degree).
    Root,
    /// `factorial(n)`, evaluated as Γ(n+1) for integer-valued n.
    Factorial,
    /// The error function.
    Erf,
    /// The complementary error function `1 - erf(x)`, accurate in the tail.
    Erfc,
}

/// How many arguments a function takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    Exactly(usize),
    Between(usize, usize),
    AtLeast(usize),
}

impl Arity {
    /// Whether `n` arguments are acceptable.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::Between(lo, hi) => (lo..=hi).contains(&n),
            Arity::AtLeast(k) => n >= k,
        }
    }

    /// Human-readable description, e.g. "1 argument" or "at least 1 argument".
    pub fn describe(self) -> String {
        fn plural(n: usize) -> &'static str {
            if n == 1 {
                "argument"
            } else {
                "arguments"
            }
        }
        match self {
            Arity::Exactly(k) => format!("{k} {}", plural(k)),
            Arity::Between(lo, hi) => format!("{lo} or {hi} arguments"),
            Arity::AtLeast(k) => format!("at least {k} {}", plural(k)),
        }
    }
}

/// The table of function names, including aliases; the first entry for a
/// [`Func`] is its canonical printed name.
pub const FUNCTION_NAMES: &[(&str, Func)] = &[
    ("exp", Func::Exp),
    ("ln", Func::Ln),
    ("log", Func::Ln),
    ("log10", Func::Log10),
    ("log2", Func::Log2),
    ("sqrt", Func::Sqrt),
    ("abs", Func::Abs),
    ("floor", Func::Floor),
    ("ceil", Func::Ceil),
    ("ceiling", Func::Ceil),
    ("sin", Func::Sin),
    ("cos", Func::Cos),
    ("tan", Func::Tan),
    ("asin", Func::Asin),
    ("arcsin", Func::Asin),
    ("acos", Func::Acos),
    ("arccos", Func::Acos),
    ("atan", Func::Atan),
    ("arctan", Func::Atan),
    ("sinh", Func::Sinh),
    ("cosh", Func::Cosh),
    ("tanh", Func::Tanh),
    ("asinh", Func::Asinh),
    ("arcsinh", Func::Asinh),
    ("acosh", Func::Acosh),
    ("arccosh", Func::Acosh),
    ("atanh", Func::Atanh),
    ("arctanh", Func::Atanh),
    ("sec", Func::Sec),
    ("csc", Func::Csc),
    ("cot", Func::Cot),
    ("min", Func::Min),
    ("max", Func::Max),
    ("sign", Func::Sign),
    ("root", Func::Root),
    ("factorial", Func::Factorial),
    ("erf", Func::Erf),
    ("erfc", Func::Erfc),
];

impl Func {
    /// The canonical name used when printing.
    pub fn name(self) -> &'static str {
        if self == Func::LogBase {
            return "log";
        }
        FUNCTION_NAMES
            .iter()
            .find(|(_, f)| *f == self)
            .map(|(n, _)| *n)
            .expect("every function has a name")
    }

    /// Looks a function up by name (canonical or alias).
    pub fn from_name(name: &str) -> Option<Func> {
        FUNCTION_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }

    /// The number of arguments the function accepts.
    pub fn arity(self) -> Arity {
        match self {
            Func::Min | Func::Max => Arity::AtLeast(1),
            Func::LogBase | Func::Root => Arity::Exactly(2),
            _ => Arity::Exactly(1),
        }
    }

    /// Evaluates a one-argument function.
    pub fn apply1(self, x: f64) -> f64 {
        match self {
            Func::Exp => x.exp(),
            Func::Ln => x.ln(),
            Func::Log10 => x.log10(),
            Func::Log2 => x.log2(),
            Func::Sqrt => x.sqrt(),
            Func::Abs => x.abs(),
            Func::Floor => x.floor(),
            Func::Ceil => x.ceil(),
            Func::Sin => x.sin(),
            Func::Cos => x.cos(),
            Func::Tan => x.tan(),
            Func::Asin => x.asin(),
            Func::Acos => x.acos(),
            Func::Atan => x.atan(),
            Func::Sinh => x.sinh(),
            Func::Cosh => x.cosh(),
            Func::Tanh => x.tanh(),
            Func::Asinh => x.asinh(),
            Func::Acosh => x.acosh(),
            Func::Atanh => x.atanh(),
            Func::Sec => 1.0 / x.cos(),
            Func::Csc => 1.0 / x.sin(),
            Func::Cot => 1.0 / x.tan(),
            Func::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else if x == 0.0 {
                    0.0
                } else {
                    f64::NAN
                }
            }
            Func::Factorial => factorial(x),
            Func::Erf => erf(x),
            Func::Erfc => erfc(x),
            Func::Min | Func::Max => x,
            Func::LogBase | Func::Root => f64::NAN,
        }
    }

    /// Evaluates a two-argument function (`log(b, x)`, `root(n, x)`, binary min/max).
    pub fn apply2(self, a: f64, b: f64) -> f64 {
        match self {
            Func::LogBase => b.ln() / a.ln(),
            Func::Root => root(a, b),
            Func::Min => min_nan(a, b),
            Func::Max => max_nan(a, b),
            _ => f64::NAN,
        }
    }
}

/// `n`-th root of `x`, real-valued for odd integer degrees of negative numbers.
pub(crate) fn root(n: f64, x: f64) -> f64 {
    if x < 0.0 && n.fract() == 0.0 && (n as i64) % 2 != 0 {
        -(-x).powf(1.0 / n)
    } else {
        x.powf(1.0 / n)
    }
}

/// Minimum that propagates NaN (unlike `f64::min`).
pub(crate) fn min_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a <= b {
        a
    } else {
        b
    }
}

/// Maximum that propagates NaN (unlike `f64::max`).
pub(crate) fn max_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a >= b {
        a
    } else {
        b
    }
}

/// The error function, to about 1e-15 relative accuracy: a Maclaurin series
/// for `|x| < 2`, else `1 - erfc(x)`.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.abs() < 2.0 {
        // erf x = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        let mut n = 0.0;
        loop {
            n += 1.0;
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            // `<=` so that erf(0) (every term zero) ends at once.
            if add.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else if x > 0.0 {
        1.0 - erfc(x)
    } else {
        erfc(-x) - 1.0
    }
}

/// The complementary error function, accurate in the upper tail: a continued
/// fraction (evaluated by the modified Lentz method) for `x >= 2`.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 2.0 {
        return 1.0 - erf(x);
    }
    if x > 27.3 {
        return 0.0;
    }
    // erfc x = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
    let tiny = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for k in 1..500 {
        let a = k as f64 / 2.0;
        d = x + a * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = x + a / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

fn factorial(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 || x.fract() != 0.0 {
        return f64::NAN;
    }
    if x > 170.0 {
        return f64::INFINITY;
    }
    let mut acc = 1.0;
    let mut k = 2.0;
    while k <= x {
        acc *= k;
        k += 1.0;
    }
    acc
}

/// The deepest tree the parsers accept (see [`Expr::depth`]).
///
/// Each level costs every recursive walk over the tree one stack frame; at
/// this depth all of them (the costliest is differentiation followed by
/// simplification) fit with room to spare in the 2 MiB stack of a spawned
/// thread, as the tests check. Parsed sums and products of any length are
/// balanced and stay far below it.
pub const MAX_TREE_DEPTH: usize = 1000;

/// The most nodes that [`Expr::inline_functions`] creates in all before it
/// gives up.
pub const MAX_INLINED_NODES: usize = 1_000_000;

/// Looks a user-defined function up by name: its formal argument names and body.
pub type FunctionLookup<'a> = dyn Fn(&str) -> Option<(Vec<String>, Expr)> + 'a;

/// An expression.
///
/// Logical values are numbers: comparisons give 1.0 or 0.0, and any non-zero
/// number is true where a condition is expected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// A number literal (also `pi`, `e`, `inf` and `nan` after parsing).
    Num(f64),
    /// A variable: a parameter, species, the independent variable, `time`, ...
    Var(String),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary arithmetic operation.
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// A comparison.
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// Logical and.
    And(Box<Expr>, Box<Expr>),
    /// Logical or.
    Or(Box<Expr>, Box<Expr>),
    /// Logical not.
    Not(Box<Expr>),
    /// A call of a built-in function.
    Call(Func, Vec<Expr>),
    /// A call of a user-defined function (a model's `function f(a, b) ... end`),
    /// only produced when the parser is told the name exists.
    Apply(String, Vec<Expr>),
    /// `piecewise(v1, c1, v2, c2, ..., otherwise)`: the value of the first
    /// piece whose condition is true, else `otherwise` (NaN when absent).
    Piecewise {
        pieces: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
}

impl Expr {
    /// A number literal.
    pub fn num(v: f64) -> Expr {
        Expr::Num(v)
    }

    /// A variable.
    pub fn var(name: impl Into<String>) -> Expr {
        Expr::Var(name.into())
    }

    /// The number, if this is a literal.
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Expr::Num(v) => Some(*v),
            _ => None,
        }
    }

    /// Whether this is the literal `v`.
    pub fn is_num(&self, v: f64) -> bool {
        matches!(self, Expr::Num(x) if *x == v)
    }

    /// The distinct variable names, in order of first appearance.
    ///
    /// ```
    /// let e = ligand_expr::parse("top / (1 + (x / ec50)^hill) + x").unwrap();
    /// assert_eq!(e.free_vars(), ["top", "x", "ec50", "hill"]);
    /// ```
    pub fn free_vars(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.visit(&mut |e| {
            if let Expr::Var(n) = e {
                if !out.iter().any(|o| o == n) {
                    out.push(n.clone());
                }
            }
        });
        out
    }

    /// The distinct names of user-defined functions called, in order of first appearance.
    pub fn applied_functions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.visit(&mut |e| {
            if let Expr::Apply(n, _) = e {
                if !out.iter().any(|o| o == n) {
                    out.push(n.clone());
                }
            }
        });
        out
    }

    /// Whether the variable `name` occurs in the expression.
    pub fn contains_var(&self, name: &str) -> bool {
        let mut found = false;
        self.visit(&mut |e| {
            if let Expr::Var(n) = e {
                found |= n == name;
            }
        });
        found
    }

    /// Calls `f` on every node, parents before children (left to right).
    ///
    /// The walk keeps its own stack, so it works on a tree of any depth.
    pub fn visit(&self, f: &mut dyn FnMut(&Expr)) {
        let mut stack: Vec<&Expr> = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            let at = stack.len();
            e.push_children(&mut stack);
            // Children were pushed left to right; visit them in that order.
            stack[at..].reverse();
        }
    }

    /// Pushes the direct children of this node, left to right.
    fn push_children<'a>(&'a self, out: &mut Vec<&'a Expr>) {
        match self {
            Expr::Num(_) | Expr::Var(_) => {}
            Expr::Neg(a) | Expr::Not(a) => out.push(a),
            Expr::Bin(_, a, b) | Expr::Cmp(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) => {
                out.push(a);
                out.push(b);
            }
            Expr::Call(_, args) | Expr::Apply(_, args) => out.extend(args.iter()),
            Expr::Piecewise { pieces, otherwise } => {
                for (v, c) in pieces {
                    out.push(v);
                    out.push(c);
                }
                if let Some(o) = otherwise {
                    out.push(o);
                }
            }
        }
    }

    /// The number of nodes on the longest path from the root to a leaf (a
    /// literal or a variable has depth 1).
    ///
    /// Every recursive walk over a tree (printing, simplification,
    /// differentiation, compilation, evaluation, dropping) needs stack in
    /// proportion to this depth; the parser refuses trees deeper than
    /// [`MAX_TREE_DEPTH`], and builds long sums and products balanced so that
    /// they stay far below it. This walk keeps its own stack.
    ///
    /// ```
    /// let flat = ligand_expr::parse(&vec!["x"; 100_000].join(" + ")).unwrap();
    /// assert!(flat.depth() < 100);
    /// ```
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack: Vec<(&Expr, usize)> = vec![(self, 1)];
        let mut kids: Vec<&Expr> = Vec::new();
        while let Some((e, d)) = stack.pop() {
            deepest = deepest.max(d);
            e.push_children(&mut kids);
            stack.extend(kids.drain(..).map(|c| (c, d + 1)));
        }
        deepest
    }

    /// Rebuilds the tree bottom-up, letting `f` replace any node after its
    /// children have been rebuilt.
    pub fn map(&self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        let rebuilt = match self {
            Expr::Num(_) | Expr::Var(_) => self.clone(),
            Expr::Neg(a) => Expr::Neg(Box::new(a.map(f))),
            Expr::Not(a) => Expr::Not(Box::new(a.map(f))),
            Expr::Bin(op, a, b) => Expr::Bin(*op, Box::new(a.map(f)), Box::new(b.map(f))),
            Expr::Cmp(op, a, b) => Expr::Cmp(*op, Box::new(a.map(f)), Box::new(b.map(f))),
            Expr::And(a, b) => Expr::And(Box::new(a.map(f)), Box::new(b.map(f))),
            Expr::Or(a, b) => Expr::Or(Box::new(a.map(f)), Box::new(b.map(f))),
            Expr::Call(func, args) => Expr::Call(*func, args.iter().map(|a| a.map(f)).collect()),
            Expr::Apply(name, args) => {
                Expr::Apply(name.clone(), args.iter().map(|a| a.map(f)).collect())
            }
            Expr::Piecewise { pieces, otherwise } => Expr::Piecewise {
                pieces: pieces.iter().map(|(v, c)| (v.map(f), c.map(f))).collect(),
                otherwise: otherwise.as_ref().map(|o| Box::new(o.map(f))),
            },
        };
        f(rebuilt)
    }

    /// Replaces every occurrence of the variable `name` by `with`.
    ///
    /// ```
    /// use ligand_expr::{parse, Expr};
    /// let e = parse("k * A").unwrap().substitute("A", &Expr::num(2.0));
    /// assert_eq!(e.to_string(), "k * 2");
    /// ```
    pub fn substitute(&self, name: &str, with: &Expr) -> Expr {
        self.map(&mut |e| match e {
            Expr::Var(ref n) if n == name => with.clone(),
            other => other,
        })
    }

    /// Replaces several variables at once (simultaneously, not one after another).
    pub fn substitute_all(&self, lookup: &dyn Fn(&str) -> Option<Expr>) -> Expr {
        self.map(&mut |e| match e {
            Expr::Var(ref n) => lookup(n).unwrap_or(e),
            other => other,
        })
    }

    /// Renames variables.
    pub fn rename(&self, rename: &dyn Fn(&str) -> Option<String>) -> Expr {
        self.map(&mut |e| match e {
            Expr::Var(ref n) => match rename(n) {
                Some(m) => Expr::Var(m),
                None => e,
            },
            other => other,
        })
    }

    /// Expands calls of user-defined functions: `lookup(name)` gives the
    /// formal argument names and body. Nested definitions are expanded too.
    /// On failure, gives the name of the offending function: one that is
    /// undefined or called with the wrong number of arguments, one nested
    /// more than 64 calls deep (a recursive definition), or one whose
    /// expansion would exceed [`MAX_INLINED_NODES`] nodes in all (`f2(x) =
    /// f1(x) + f1(x)`, `f3(x) = f2(x) + f2(x)`, ... doubles at each level) or
    /// [`MAX_TREE_DEPTH`] levels.
    ///
    /// ```
    /// use ligand_expr::{parse_with, ParseOptions};
    /// let opts = ParseOptions { user_functions: vec!["f".into()] };
    /// let e = parse_with("f(f(2))", &opts).unwrap();
    /// let square = ligand_expr::parse("x * x").unwrap();
    /// let lookup = |n: &str| (n == "f").then(|| (vec!["x".to_string()], square.clone()));
    /// assert_eq!(e.inline_functions(&lookup).unwrap().to_string(), "2 * 2 * (2 * 2)");
    /// // f(x) = f(x) + 1 never ends: refused, naming f.
    /// let body = parse_with("f(x) + 1", &opts).unwrap();
    /// let recursive = |n: &str| (n == "f").then(|| (vec!["x".to_string()], body.clone()));
    /// assert_eq!(e.inline_functions(&recursive).unwrap_err(), "f");
    /// ```
    pub fn inline_functions(&self, lookup: &FunctionLookup<'_>) -> Result<Expr, String> {
        let mut budget = MAX_INLINED_NODES;
        self.inline_depth(lookup, 0, &mut budget)
    }

    fn inline_depth(
        &self,
        lookup: &FunctionLookup<'_>,
        depth: usize,
        budget: &mut usize,
    ) -> Result<Expr, String> {
        let mut err: Option<String> = None;
        let out = self.map(&mut |e| match e {
            Expr::Apply(ref name, ref args) if err.is_none() => match lookup(name) {
                Some((formals, body)) if formals.len() == args.len() => {
                    if depth > 64 {
                        err = Some(name.clone());
                        return e;
                    }
                    let body = body.substitute_all(&|v| {
                        formals.iter().position(|f| f == v).map(|i| args[i].clone())
                    });
                    let too_big = |b: &Expr, budget: &mut usize| {
                        let n = b.size();
                        *budget = budget.saturating_sub(n);
                        *budget == 0 || b.depth() > MAX_TREE_DEPTH
                    };
                    if too_big(&body, budget) {
                        err = Some(name.clone());
                        return e;
                    }
                    match body.inline_depth(lookup, depth + 1, budget) {
                        Ok(b) if too_big(&b, budget) => {
                            err = Some(name.clone());
                            e
                        }
                        Ok(b) => b,
                        Err(n) => {
                            err = Some(n);
                            e
                        }
                    }
                }
                _ => {
                    err = Some(name.clone());
                    e
                }
            },
            other => other,
        });
        match err {
            Some(n) => Err(n),
            None => Ok(out),
        }
    }

    /// The number of nodes in the tree.
    pub fn size(&self) -> usize {
        let mut n = 0;
        self.visit(&mut |_| n += 1);
        n
    }
}

impl From<f64> for Expr {
    fn from(v: f64) -> Expr {
        Expr::Num(v)
    }
}
