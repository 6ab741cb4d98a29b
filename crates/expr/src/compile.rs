//! Compilation to a flat, allocation-free evaluator.
//!
//! A [`Compiler`] binds each input variable to a slot once, then lowers any
//! number of expressions into one straight-line program over a shared slot
//! array (static single assignment: every instruction writes a fresh slot).
//! Identical subexpressions across all the expressions of a program are
//! computed once (hash-consing on the operation and its operand slots),
//! operations on constants are folded at compile time, and integer powers
//! become repeated multiplication.
//!
//! A [`Program`] is evaluated by writing the inputs into the first slots of a
//! [`Program::new_slots`] array and calling [`Program::eval`]; it allocates
//! nothing, so one slot array per thread serves any number of evaluations.
//!
//! ```
//! use ligand_expr::{parse, Compiler};
//! let f = parse("top / (1 + exp(-k * x))").unwrap();
//! let mut c = Compiler::new(["x", "top", "k"]);
//! c.add(&f).unwrap();
//! c.add(&f.diff("k").unwrap()).unwrap(); // shares exp(-k x) and the denominator
//! let prog = c.finish();
//! let mut slots = prog.new_slots();
//! slots[..3].copy_from_slice(&[0.0, 2.0, 1.0]);
//! let mut out = [0.0; 2];
//! prog.eval(&mut slots, &mut out);
//! assert_eq!(out[0], 1.0); // top / 2 at x = 0
//! assert_eq!(out[1], 0.0); // d/dk vanishes at x = 0
//! ```

use crate::ast::{max_nan, min_nan, BinOp, CmpOp, Expr, Func};
use crate::suggest::closest;
use std::collections::HashMap;

/// Compilation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    #[error("unknown variable `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownVariable {
        name: String,
        suggestion: Option<String>,
    },
    #[error("call of user function `{0}` must be inlined before compilation")]
    UserFunction(String),
}

/// One instruction's operation. Operands are slot indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Code {
    Add,
    Sub,
    Mul,
    Div,
    Powf,
    /// `a^n` for a small integer `n` stored in `b`.
    PowI,
    Neg,
    Exp,
    Ln,
    Sqrt,
    Call1(Func),
    Call2(Func),
    Min,
    Max,
    Cmp(CmpOp),
    And,
    Or,
    Not,
    /// `if slot[c] != 0 { slot[a] } else { slot[b] }`
    Select,
}

#[derive(Clone, Copy, Debug)]
struct Instr {
    code: Code,
    dst: u32,
    a: u32,
    b: u32,
    c: u32,
}

/// A compiled set of expressions over one slot array.
#[derive(Clone, Debug)]
pub struct Program {
    inputs: Vec<String>,
    n_slots: usize,
    constants: Vec<(u32, f64)>,
    code: Vec<Instr>,
    outputs: Vec<u32>,
}

/// Lowers expressions into a [`Program`].
#[derive(Clone, Debug)]
pub struct Compiler {
    inputs: Vec<String>,
    input_index: HashMap<String, u32>,
    n_slots: u32,
    constants: Vec<(u32, f64)>,
    const_index: HashMap<u64, u32>,
    /// The value of each constant slot.
    const_of_slot: HashMap<u32, f64>,
    cse: HashMap<(Code, u32, u32, u32), u32>,
    code: Vec<Instr>,
    outputs: Vec<u32>,
}

impl Compiler {
    /// A compiler whose inputs are the given variables, bound to slots
    /// `0..inputs.len()` in that order. Duplicate names share the first slot.
    pub fn new<I, S>(inputs: I) -> Compiler
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let inputs: Vec<String> = inputs.into_iter().map(|s| s.as_ref().to_string()).collect();
        let mut input_index = HashMap::new();
        for (i, n) in inputs.iter().enumerate() {
            input_index.entry(n.clone()).or_insert(i as u32);
        }
        Compiler {
            n_slots: inputs.len() as u32,
            inputs,
            input_index,
            constants: Vec::new(),
            const_index: HashMap::new(),
            const_of_slot: HashMap::new(),
            cse: HashMap::new(),
            code: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// Compiles one expression as the next output; returns its output index.
    pub fn add(&mut self, e: &Expr) -> Result<usize, CompileError> {
        let slot = self.lower(e)?;
        self.outputs.push(slot);
        Ok(self.outputs.len() - 1)
    }

    /// Compiles several expressions as consecutive outputs.
    pub fn add_all<'a>(
        &mut self,
        exprs: impl IntoIterator<Item = &'a Expr>,
    ) -> Result<(), CompileError> {
        for e in exprs {
            self.add(e)?;
        }
        Ok(())
    }

    /// The finished program.
    pub fn finish(self) -> Program {
        Program {
            inputs: self.inputs,
            n_slots: self.n_slots as usize,
            constants: self.constants,
            code: self.code,
            outputs: self.outputs,
        }
    }

    fn constant(&mut self, v: f64) -> u32 {
        // Normalise NaN payloads so all NaNs share a slot.
        let key = if v.is_nan() {
            f64::NAN.to_bits()
        } else {
            v.to_bits()
        };
        if let Some(&s) = self.const_index.get(&key) {
            return s;
        }
        let s = self.n_slots;
        self.n_slots += 1;
        self.constants.push((s, v));
        self.const_index.insert(key, s);
        self.const_of_slot.insert(s, v);
        s
    }

    fn const_value(&self, slot: u32) -> Option<f64> {
        self.const_of_slot.get(&slot).copied()
    }

    fn emit(&mut self, code: Code, a: u32, b: u32, c: u32) -> u32 {
        // Fold operations whose operands are all constants.
        let ca = self.const_value(a);
        let cb = self.const_value(b);
        let cc = self.const_value(c);
        let unary = matches!(
            code,
            Code::Neg | Code::Exp | Code::Ln | Code::Sqrt | Code::Call1(_) | Code::Not | Code::PowI
        );
        let folded = match (ca, cb, cc) {
            (Some(x), _, _) if unary => Some(apply(code, x, b as f64, 0.0)),
            (Some(x), Some(y), _) if code != Code::Select => Some(apply(code, x, y, 0.0)),
            (Some(x), Some(y), Some(z)) => Some(apply(code, x, y, z)),
            _ => None,
        };
        if let Some(v) = folded {
            return self.constant(v);
        }
        if code == Code::Select {
            if let Some(z) = cc {
                return if z != 0.0 && !z.is_nan() { a } else { b };
            }
            if a == b {
                return a;
            }
        }
        let key = (code, a, b, c);
        if let Some(&s) = self.cse.get(&key) {
            return s;
        }
        let dst = self.n_slots;
        self.n_slots += 1;
        self.code.push(Instr { code, dst, a, b, c });
        self.cse.insert(key, dst);
        dst
    }

    fn lower(&mut self, e: &Expr) -> Result<u32, CompileError> {
        Ok(match e {
            Expr::Num(v) => self.constant(*v),
            Expr::Var(n) => match self.input_index.get(n) {
                Some(&s) => s,
                None => {
                    return Err(CompileError::UnknownVariable {
                        name: n.clone(),
                        suggestion: closest(n, self.inputs.iter().map(|s| s.as_str()))
                            .map(str::to_string),
                    })
                }
            },
            Expr::Neg(a) => {
                let a = self.lower(a)?;
                self.emit(Code::Neg, a, 0, 0)
            }
            Expr::Bin(BinOp::Pow, a, b) => self.lower_pow(a, b)?,
            Expr::Bin(op, a, b) => {
                let (a, b) = (self.lower(a)?, self.lower(b)?);
                let code = match op {
                    BinOp::Add => Code::Add,
                    BinOp::Sub => Code::Sub,
                    BinOp::Mul => Code::Mul,
                    BinOp::Div => Code::Div,
                    BinOp::Pow => unreachable!("handled above"),
                };
                // Commutative operations share one canonical operand order.
                let (a, b) = if matches!(code, Code::Add | Code::Mul) && a > b {
                    (b, a)
                } else {
                    (a, b)
                };
                self.emit(code, a, b, 0)
            }
            Expr::Cmp(op, a, b) => {
                let (a, b) = (self.lower(a)?, self.lower(b)?);
                self.emit(Code::Cmp(*op), a, b, 0)
            }
            Expr::And(a, b) => {
                let (a, b) = (self.lower(a)?, self.lower(b)?);
                self.emit(Code::And, a, b, 0)
            }
            Expr::Or(a, b) => {
                let (a, b) = (self.lower(a)?, self.lower(b)?);
                self.emit(Code::Or, a, b, 0)
            }
            Expr::Not(a) => {
                let a = self.lower(a)?;
                self.emit(Code::Not, a, 0, 0)
            }
            Expr::Call(f, args) => {
                let mut slots = Vec::with_capacity(args.len());
                for a in args {
                    slots.push(self.lower(a)?);
                }
                match (f, slots.as_slice()) {
                    (Func::Min | Func::Max, _) => {
                        let code = if *f == Func::Min {
                            Code::Min
                        } else {
                            Code::Max
                        };
                        let mut acc = slots[0];
                        for &s in &slots[1..] {
                            acc = self.emit(code, acc, s, 0);
                        }
                        acc
                    }
                    (Func::Exp, [a]) => self.emit(Code::Exp, *a, 0, 0),
                    (Func::Ln, [a]) => self.emit(Code::Ln, *a, 0, 0),
                    (Func::Sqrt, [a]) => self.emit(Code::Sqrt, *a, 0, 0),
                    (_, [a]) => self.emit(Code::Call1(*f), *a, 0, 0),
                    (_, [a, b]) => self.emit(Code::Call2(*f), *a, *b, 0),
                    _ => self.constant(f64::NAN),
                }
            }
            Expr::Apply(name, _) => return Err(CompileError::UserFunction(name.clone())),
            Expr::Piecewise { pieces, otherwise } => {
                let mut acc = match otherwise {
                    Some(o) => self.lower(o)?,
                    None => self.constant(f64::NAN),
                };
                for (v, c) in pieces.iter().rev() {
                    let v = self.lower(v)?;
                    let c = self.lower(c)?;
                    acc = self.emit(Code::Select, v, acc, c);
                }
                acc
            }
        })
    }

    fn lower_pow(&mut self, a: &Expr, b: &Expr) -> Result<u32, CompileError> {
        let base = self.lower(a)?;
        if let Some(n) = b.as_num() {
            if n.fract() == 0.0 && n.abs() <= 64.0 {
                let n = n as i32;
                return Ok(match n {
                    0 => self.constant(1.0),
                    1 => base,
                    2 => self.emit(Code::Mul, base, base, 0),
                    _ => self.emit(Code::PowI, base, n as u32, 0),
                });
            }
        }
        let exp = self.lower(b)?;
        // A constant positive base (10^x, 2^x) is exp(x ln b): exp is several
        // times cheaper than powf, and for the common bases the two agree to
        // within an ulp or two.
        if let Some(bv) = a.as_num() {
            if bv > 0.0 && bv.is_finite() {
                let ln_b = self.constant(bv.ln());
                let (x, y) = if exp < ln_b { (exp, ln_b) } else { (ln_b, exp) };
                let prod = self.emit(Code::Mul, x, y, 0);
                return Ok(self.emit(Code::Exp, prod, 0, 0));
            }
        }
        Ok(self.emit(Code::Powf, base, exp, 0))
    }
}

#[inline(always)]
fn b2f(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

#[inline(always)]
fn apply(code: Code, x: f64, y: f64, z: f64) -> f64 {
    match code {
        Code::Add => x + y,
        Code::Sub => x - y,
        Code::Mul => x * y,
        Code::Div => x / y,
        Code::Powf => x.powf(y),
        Code::PowI => x.powi(y as u32 as i32),
        Code::Neg => -x,
        Code::Exp => x.exp(),
        Code::Ln => x.ln(),
        Code::Sqrt => x.sqrt(),
        Code::Call1(f) => f.apply1(x),
        Code::Call2(f) => f.apply2(x, y),
        Code::Min => min_nan(x, y),
        Code::Max => max_nan(x, y),
        Code::Cmp(op) => b2f(op.apply(x, y)),
        Code::And => b2f(x != 0.0 && !x.is_nan() && y != 0.0 && !y.is_nan()),
        Code::Or => b2f((x != 0.0 && !x.is_nan()) || (y != 0.0 && !y.is_nan())),
        Code::Not => b2f(x == 0.0 || x.is_nan()),
        Code::Select => {
            if z != 0.0 && !z.is_nan() {
                x
            } else {
                y
            }
        }
    }
}

impl Program {
    /// The input variable names, in slot order.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// The number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// The number of instructions (after common-subexpression elimination).
    pub fn n_instructions(&self) -> usize {
        self.code.len()
    }

    /// The length of the slot array [`Program::eval`] needs.
    pub fn n_slots(&self) -> usize {
        self.n_slots
    }

    /// A slot array with the constants in place and the inputs zero.
    pub fn new_slots(&self) -> Vec<f64> {
        let mut s = vec![0.0; self.n_slots];
        self.init_slots(&mut s);
        s
    }

    /// Writes the constants into an existing slot array (of at least
    /// [`Program::n_slots`] elements).
    pub fn init_slots(&self, slots: &mut [f64]) {
        for &(i, v) in &self.constants {
            slots[i as usize] = v;
        }
    }

    /// Evaluates every instruction and copies the outputs into `out`.
    ///
    /// The caller writes the inputs into `slots[..inputs().len()]` first; the
    /// slot array must come from [`Program::new_slots`] (or
    /// [`Program::init_slots`]) so that the constants are in place.
    ///
    /// # Panics
    /// If `slots` is shorter than [`Program::n_slots`] or `out` shorter than
    /// [`Program::n_outputs`].
    #[inline]
    pub fn eval(&self, slots: &mut [f64], out: &mut [f64]) {
        self.run(slots);
        for (o, &s) in out.iter_mut().zip(&self.outputs) {
            *o = slots[s as usize];
        }
    }

    /// Evaluates every instruction, leaving the results in the slot array;
    /// read them with [`Program::output`].
    #[inline]
    pub fn run(&self, slots: &mut [f64]) {
        assert!(slots.len() >= self.n_slots, "slot array too short");
        let s = &mut slots[..self.n_slots];
        let ptr = s.as_mut_ptr();
        // SAFETY: the compiler only emits slot indices below `n_slots` (inputs,
        // constants and earlier destinations all come from its own counter),
        // and `s` has exactly `n_slots` elements, checked above. Operands that
        // are not slots (the exponent of PowI) are never dereferenced.
        let get = |i: u32| unsafe { *ptr.add(i as usize) };
        for ins in &self.code {
            let (a, b) = (ins.a, ins.b);
            let v = match ins.code {
                Code::Add => get(a) + get(b),
                Code::Sub => get(a) - get(b),
                Code::Mul => get(a) * get(b),
                Code::Div => get(a) / get(b),
                Code::Exp => get(a).exp(),
                Code::Ln => get(a).ln(),
                Code::Neg => -get(a),
                Code::PowI => get(a).powi(ins.b as i32),
                Code::Powf => get(a).powf(get(b)),
                Code::Sqrt => get(a).sqrt(),
                Code::Select => {
                    let c = get(ins.c);
                    if c != 0.0 && !c.is_nan() {
                        get(a)
                    } else {
                        get(b)
                    }
                }
                Code::Call1(f) => f.apply1(get(a)),
                other => apply(other, get(a), get(b), 0.0),
            };
            // SAFETY: as above, `dst < n_slots`.
            unsafe { *ptr.add(ins.dst as usize) = v };
        }
    }

    /// The value of output `i` after [`Program::run`].
    #[inline]
    pub fn output(&self, slots: &[f64], i: usize) -> f64 {
        slots[self.outputs[i] as usize]
    }
}

/// The gradient of `e` with respect to each of `vars`.
pub fn gradient(e: &Expr, vars: &[&str]) -> Result<Vec<Expr>, crate::DiffError> {
    vars.iter().map(|v| e.diff(v)).collect()
}
