//! Forward-mode dual numbers, so that each reference model is written once and its Jacobian is
//! exact (test support only; production Jacobians come from the expression language).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// The most parameters of any reference problem (Osborne 2 in the MINPACK set has 11; ENSO 9).
pub const MAX_PARAMS: usize = 11;

/// A value and its gradient with respect to up to [`MAX_PARAMS`] parameters.
#[derive(Debug, Clone, Copy)]
pub struct D {
    pub v: f64,
    pub d: [f64; MAX_PARAMS],
}

impl D {
    pub fn constant(v: f64) -> Self {
        D {
            v,
            d: [0.0; MAX_PARAMS],
        }
    }

    /// The `j`th independent variable with value `v`.
    pub fn variable(v: f64, j: usize) -> Self {
        let mut d = [0.0; MAX_PARAMS];
        d[j] = 1.0;
        D { v, d }
    }

    fn chain(self, v: f64, dv: f64) -> Self {
        let mut d = self.d;
        for x in d.iter_mut() {
            *x *= dv;
        }
        D { v, d }
    }

    pub fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }

    pub fn ln(self) -> Self {
        self.chain(self.v.ln(), 1.0 / self.v)
    }

    pub fn sin(self) -> Self {
        self.chain(self.v.sin(), self.v.cos())
    }

    pub fn sqrt(self) -> Self {
        let r = self.v.sqrt();
        self.chain(r, 0.5 / r)
    }

    pub fn cos(self) -> Self {
        self.chain(self.v.cos(), -self.v.sin())
    }

    pub fn atan(self) -> Self {
        self.chain(self.v.atan(), 1.0 / (1.0 + self.v * self.v))
    }

    pub fn powf(self, e: f64) -> Self {
        self.chain(self.v.powf(e), e * self.v.powf(e - 1.0))
    }

    /// `self^e` for a dual exponent: `exp(e ln self)`.
    pub fn pow(self, e: D) -> Self {
        (e * self.ln()).exp()
    }
}

impl From<f64> for D {
    fn from(v: f64) -> Self {
        D::constant(v)
    }
}

impl Add for D {
    type Output = D;
    fn add(self, o: D) -> D {
        let mut d = self.d;
        for (x, y) in d.iter_mut().zip(o.d) {
            *x += y;
        }
        D { v: self.v + o.v, d }
    }
}

impl Sub for D {
    type Output = D;
    fn sub(self, o: D) -> D {
        let mut d = self.d;
        for (x, y) in d.iter_mut().zip(o.d) {
            *x -= y;
        }
        D { v: self.v - o.v, d }
    }
}

impl Mul for D {
    type Output = D;
    fn mul(self, o: D) -> D {
        let mut d = [0.0; MAX_PARAMS];
        for j in 0..MAX_PARAMS {
            d[j] = self.d[j] * o.v + self.v * o.d[j];
        }
        D { v: self.v * o.v, d }
    }
}

impl Div for D {
    type Output = D;
    fn div(self, o: D) -> D {
        let q = self.v / o.v;
        let mut d = [0.0; MAX_PARAMS];
        for j in 0..MAX_PARAMS {
            d[j] = (self.d[j] - q * o.d[j]) / o.v;
        }
        D { v: q, d }
    }
}

impl Neg for D {
    type Output = D;
    fn neg(self) -> D {
        self.chain(-self.v, -1.0)
    }
}

macro_rules! scalar_ops {
    ($($tr:ident $f:ident),*) => {$(
        impl $tr<f64> for D {
            type Output = D;
            fn $f(self, o: f64) -> D { $tr::$f(self, D::constant(o)) }
        }
        impl $tr<D> for f64 {
            type Output = D;
            fn $f(self, o: D) -> D { $tr::$f(D::constant(self), o) }
        }
    )*};
}
scalar_ops!(Add add, Sub sub, Mul mul, Div div);
