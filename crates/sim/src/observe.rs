//! What a simulation reports: [`Observable`]s compiled into one program.
//!
//! An observable is any id with a value (a species, a parameter, a
//! compartment, a rule variable, a reaction's rate), reported as its symbol
//! means it (a species as its concentration unless it has only substance
//! units) or, for a species, as its amount. With sensitivities compiled,
//! the program also gives `dg/dx` and `dg/dc`, so that the sensitivity of an
//! observable `g(t, x, c)` to a parameter `p` is
//! `dg/dp = dg/dx . s_p + sum_c dg/dc . dc/dp`.

use crate::error::SimError;
use crate::system::System;
use ligand_expr::{closest, Compiler, Program};

/// One quantity to report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observable {
    /// The id of a species, parameter, compartment, rule variable or reaction.
    pub id: String,
    /// For a species: report its amount rather than what its symbol means.
    pub amount: bool,
}

impl Observable {
    /// The value of `id` as its symbol means it.
    pub fn value(id: impl Into<String>) -> Observable {
        Observable {
            id: id.into(),
            amount: false,
        }
    }

    /// The amount of species `id`.
    pub fn amount(id: impl Into<String>) -> Observable {
        Observable {
            id: id.into(),
            amount: true,
        }
    }
}

/// Observables compiled for one [`System`].
#[derive(Clone, Debug)]
pub struct Observables {
    pub(crate) list: Vec<Observable>,
    pub(crate) program: Program,
    /// Whether the derivative outputs are present.
    pub(crate) with_derivatives: bool,
}

impl Observables {
    /// The observables, in output order.
    pub fn list(&self) -> &[Observable] {
        &self.list
    }

    /// Their ids, in output order.
    pub fn names(&self) -> Vec<String> {
        self.list.iter().map(|o| o.id.clone()).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}

impl System {
    /// Every species, in model order, as its symbol means it (a concentration,
    /// or an amount for species with only substance units).
    pub fn default_observables(&self) -> Vec<Observable> {
        self.species_ids.iter().map(Observable::value).collect()
    }

    /// Compiles observables.
    pub fn observables(&self, list: &[Observable]) -> Result<Observables, SimError> {
        let mut c = Compiler::new(&self.input_names);
        let mut exprs = Vec::with_capacity(list.len());
        for o in list {
            let e = if o.amount {
                match self.amounts.get(&o.id) {
                    Some(e) => e.clone(),
                    None => {
                        return Err(if self.meanings.contains_key(&o.id) {
                            SimError::NotSettable {
                                name: o.id.clone(),
                                reason: "only species have amounts".into(),
                            }
                        } else {
                            self.unknown(&o.id)
                        })
                    }
                }
            } else {
                match self.meanings.get(&o.id) {
                    Some(e) => e.clone(),
                    None => return Err(self.unknown(&o.id)),
                }
            };
            c.add(&e).map_err(|e| SimError::Compile {
                message: e.to_string(),
            })?;
            exprs.push(e);
        }
        let with_derivatives = !self.sens_params.is_empty();
        if with_derivatives {
            let wrt: Vec<&str> = self
                .states
                .iter()
                .map(|(s, _)| s.as_str())
                .chain(
                    self.sens_constants
                        .iter()
                        .map(|&k| self.constants[k].0.as_str()),
                )
                .collect();
            for e in &exprs {
                for v in &wrt {
                    let d = e.diff(v).map_err(|e| SimError::Compile {
                        message: e.to_string(),
                    })?;
                    c.add(&d).map_err(|e| SimError::Compile {
                        message: e.to_string(),
                    })?;
                }
            }
        }
        Ok(Observables {
            list: list.to_vec(),
            program: c.finish(),
            with_derivatives,
        })
    }

    fn unknown(&self, id: &str) -> SimError {
        SimError::UnknownVariable {
            name: id.to_string(),
            suggestion: closest(id, self.value_ids.iter().map(|s| s.as_str())).map(str::to_string),
        }
    }
}
