//! [`Model::to_antimony`]: the model as text in the supported subset.

use super::parser::KEYWORDS;
use crate::ir::{InitialQuantity, Model};
use crate::mathlib::RESERVED_NAMES;
use crate::validate::is_identifier;
use ligand_expr::{format_number, Expr};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

impl Model {
    /// The model as Antimony text that [`parse_antimony`](crate::parse_antimony)
    /// reads back to an equal model (up to source locations) whenever the
    /// model is one the text format can express, which every model read from
    /// text is.
    ///
    /// What Antimony cannot express is written in the nearest form and noted
    /// in a comment: reaction-local parameters become global parameters named
    /// `reaction_parameter` (as Antimony itself does); an initial amount of a
    /// species with concentration semantics becomes the initial assignment
    /// `S = amount / compartment` (and an initial concentration of a
    /// `substanceOnly` species `S = concentration * compartment`); spatial
    /// dimensions other than 3, constant non-boundary species, and ids that are
    /// Antimony keywords (renamed with a trailing `_`) are changed likewise.
    ///
    /// ```
    /// use ligand_model::parse_antimony;
    /// let src = "model m\n  J1: A => B; k*A\n  A = 1; B = 0; k = 0.5\nend";
    /// let (m, _) = parse_antimony(src).unwrap();
    /// let text = m.to_antimony();
    /// assert!(text.contains("J1: A => B; k * A;"));
    /// let (again, _) = parse_antimony(&text).unwrap();
    /// assert_eq!(again.without_locations(), m.without_locations());
    /// ```
    pub fn to_antimony(&self) -> String {
        Writer::new(self).write()
    }
}

struct Writer<'a> {
    m: &'a Model,
    /// Ids that must be renamed to be written (keywords, reserved constants).
    rename: HashMap<String, String>,
    /// Reaction-local parameters, renamed to globals: (reaction, local) -> global.
    locals: HashMap<(String, String), String>,
    notes: Vec<String>,
}

impl<'a> Writer<'a> {
    fn new(m: &'a Model) -> Writer<'a> {
        let mut used: HashSet<String> = m.ids().into_iter().map(String::from).collect();
        let mut rename = HashMap::new();
        for id in m.ids() {
            if KEYWORDS.contains(&id) || RESERVED_NAMES.contains(&id) || !is_identifier(id) {
                let base: String = id
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '_' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let base = if base.starts_with(|c: char| c.is_ascii_digit()) || base.is_empty() {
                    format!("_{base}")
                } else {
                    base
                };
                let mut new = format!("{base}_");
                while used.contains(&new) {
                    new.push('_');
                }
                used.insert(new.clone());
                rename.insert(id.to_string(), new);
            }
        }
        let mut locals = HashMap::new();
        for r in &m.reactions {
            for p in &r.local_parameters {
                let mut new = format!("{}_{}", r.id, p.id);
                while used.contains(&new) {
                    new.push('_');
                }
                used.insert(new.clone());
                locals.insert((r.id.clone(), p.id.clone()), new);
            }
        }
        let mut notes = Vec::new();
        if !rename.is_empty() {
            let mut pairs: Vec<String> =
                rename.iter().map(|(a, b)| format!("{a} -> {b}")).collect();
            pairs.sort();
            notes.push(format!(
                "ids renamed because Antimony reserves them: {}",
                pairs.join(", ")
            ));
        }
        if !locals.is_empty() {
            notes.push("reaction-local parameters are written as global parameters named reaction_parameter".into());
        }
        Writer {
            m,
            rename,
            locals,
            notes,
        }
    }

    fn id(&self, id: &str) -> String {
        self.rename
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    fn expr(&self, e: &Expr) -> String {
        if self.rename.is_empty() {
            return e.to_string();
        }
        e.rename(&|n| self.rename.get(n).cloned()).to_string()
    }

    fn rate_law(&self, reaction: &str, e: &Expr) -> String {
        let renamed = e.rename(&|n| {
            self.locals
                .get(&(reaction.to_string(), n.to_string()))
                .cloned()
                .or_else(|| self.rename.get(n).cloned())
        });
        renamed.to_string()
    }

    fn write(mut self) -> String {
        let m = self.m;
        let mut body = String::new();
        let ind = if m.name.is_some() { "  " } else { "" };
        let w = &mut body;

        // Which variables the parser will infer to be non-constant.
        let mut varies: HashSet<&str> = HashSet::new();
        varies.extend(m.assignment_rules.iter().map(|r| r.variable.as_str()));
        varies.extend(m.rate_rules.iter().map(|r| r.variable.as_str()));
        for e in &m.events {
            varies.extend(e.assignments.iter().map(|a| a.variable.as_str()));
        }
        let ruled: HashSet<&str> = m
            .assignment_rules
            .iter()
            .map(|r| r.variable.as_str())
            .chain(m.rate_rules.iter().map(|r| r.variable.as_str()))
            .collect();
        let has_initial: HashSet<&str> = m
            .initial_assignments
            .iter()
            .map(|a| a.symbol.as_str())
            .collect();

        if !m.compartments.is_empty() {
            let _ = writeln!(w, "{ind}// Compartments:");
        }
        for c in &m.compartments {
            let inferred = !varies.contains(c.id.as_str());
            let q = match (c.constant, inferred) {
                (true, true) => "",
                (false, _) => "var ",
                (true, false) => "const ",
            };
            let value = match c.size {
                Some(v) if !has_initial.contains(c.id.as_str()) => {
                    format!(" = {}", format_number(v))
                }
                _ => String::new(),
            };
            let _ = writeln!(w, "{ind}{q}compartment {}{value};", self.id(&c.id));
            if c.spatial_dimensions != 3.0 {
                self.notes.push(format!(
                    "compartment {} has {} spatial dimensions, which Antimony cannot express",
                    c.id, c.spatial_dimensions
                ));
            }
        }

        if !m.species.is_empty() {
            let _ = writeln!(w, "\n{ind}// Species:");
        }
        let mut species_values: Vec<String> = Vec::new();
        for s in &m.species {
            let so = if s.has_only_substance_units {
                "substanceOnly "
            } else {
                ""
            };
            let boundary = s.boundary_condition || s.constant;
            let dollar = if boundary { "$" } else { "" };
            let _ = writeln!(
                w,
                "{ind}{so}species {dollar}{} in {};",
                self.id(&s.id),
                self.id(&s.compartment)
            );
            if s.constant {
                self.notes.push(format!(
                    "species {} is constant, which Antimony writes as a boundary species",
                    s.id
                ));
            }
            if has_initial.contains(s.id.as_str()) {
                continue;
            }
            let comp = self.id(&s.compartment);
            match (s.initial, s.has_only_substance_units) {
                (Some(InitialQuantity::Concentration(v)), false)
                | (Some(InitialQuantity::Amount(v)), true) => {
                    species_values.push(format!("{ind}{} = {};", self.id(&s.id), format_number(v)));
                }
                (Some(InitialQuantity::Amount(v)), false) => {
                    species_values.push(format!(
                        "{ind}{} = {} / {comp};",
                        self.id(&s.id),
                        format_number(v)
                    ));
                }
                (Some(InitialQuantity::Concentration(v)), true) => {
                    species_values.push(format!(
                        "{ind}{} = {} * {comp};",
                        self.id(&s.id),
                        format_number(v)
                    ));
                }
                (None, _) => {}
            }
        }

        // Parameters: each written where it first appears, so that reading
        // the text back lists them in the same order.
        let locals: Vec<(String, Option<f64>)> = m
            .reactions
            .iter()
            .flat_map(|r| {
                r.local_parameters
                    .iter()
                    .map(|p| (self.locals[&(r.id.clone(), p.id.clone())].clone(), p.value))
            })
            .collect();
        if !m.parameters.is_empty() || !locals.is_empty() {
            let _ = writeln!(w, "\n{ind}// Parameters:");
        }
        let mut other_declarations: Vec<String> = Vec::new();
        for p in &m.parameters {
            let inferred = !varies.contains(p.id.as_str());
            let id = self.id(&p.id);
            match p.value {
                Some(v) if !has_initial.contains(p.id.as_str()) => {
                    let _ = writeln!(w, "{ind}{id} = {};", format_number(v));
                    if p.constant != inferred {
                        let q = if p.constant { "const" } else { "var" };
                        other_declarations.push(format!("{ind}{q} {id};"));
                    }
                }
                _ => {
                    let q = if p.constant { "const" } else { "var" };
                    let _ = writeln!(w, "{ind}{q} {id};");
                }
            }
        }
        for (id, value) in &locals {
            match value {
                Some(v) => {
                    let _ = writeln!(w, "{ind}{id} = {};", format_number(*v));
                }
                None => {
                    let _ = writeln!(w, "{ind}const {id};");
                }
            }
        }

        if !m.reactions.is_empty() {
            let _ = writeln!(w, "\n{ind}// Reactions:");
        }
        let mut interactions: Vec<String> = Vec::new();
        for r in &m.reactions {
            let side = |refs: &[crate::ir::SpeciesRef]| -> String {
                refs.iter()
                    .map(|sr| {
                        if sr.stoichiometry == 1.0 {
                            self.id(&sr.species)
                        } else {
                            format!(
                                "{} {}",
                                format_number(sr.stoichiometry),
                                self.id(&sr.species)
                            )
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" + ")
            };
            let arrow = if r.reversible { "->" } else { "=>" };
            let lhs = side(&r.reactants);
            let rhs = side(&r.products);
            let label = match &r.compartment {
                Some(c) => format!("{} in {}", self.id(&r.id), self.id(c)),
                None => self.id(&r.id),
            };
            let lhs = if lhs.is_empty() {
                String::new()
            } else {
                format!("{lhs} ")
            };
            let rhs = if rhs.is_empty() {
                String::new()
            } else {
                format!(" {rhs}")
            };
            let rate = match &r.rate_law {
                Some(e) => format!(" {};", self.rate_law(&r.id, e)),
                None => String::new(),
            };
            let _ = writeln!(w, "{ind}{label}: {lhs}{arrow}{rhs};{rate}");
            // Modifiers that the rate law does not name are written as interactions.
            let in_rate: Vec<String> = r
                .rate_law
                .as_ref()
                .map(|e| e.free_vars())
                .unwrap_or_default();
            for md in &r.modifiers {
                if !in_rate.contains(md) {
                    interactions.push(format!("{ind}{} -o {};", self.id(md), self.id(&r.id)));
                }
            }
        }
        for i in interactions {
            let _ = writeln!(w, "{i}");
        }

        if !m.assignment_rules.is_empty() {
            let _ = writeln!(w, "\n{ind}// Assignment rules:");
        }
        for r in &m.assignment_rules {
            let _ = writeln!(
                w,
                "{ind}{} := {};",
                self.id(&r.variable),
                self.expr(&r.math)
            );
        }
        if !m.rate_rules.is_empty() {
            let _ = writeln!(w, "\n{ind}// Rate rules:");
        }
        for r in &m.rate_rules {
            let _ = writeln!(
                w,
                "{ind}{}' = {};",
                self.id(&r.variable),
                self.expr(&r.math)
            );
        }

        if !m.events.is_empty() {
            let _ = writeln!(w, "\n{ind}// Events:");
        }
        for e in &m.events {
            let mut head = format!("{ind}{}: at ", self.id(&e.id));
            if let Some(d) = &e.delay {
                let _ = write!(head, "({}) after ", self.expr(d));
            }
            let _ = write!(head, "({})", self.expr(&e.trigger));
            if !e.initial_value {
                head += ", t0=false";
            }
            if let Some(p) = &e.priority {
                let _ = write!(head, ", priority={}", self.expr(p));
            }
            if !e.use_values_from_trigger_time {
                head += ", fromTrigger=false";
            }
            if !e.persistent {
                head += ", persistent=false";
            }
            let assignments: Vec<String> = e
                .assignments
                .iter()
                .map(|a| format!("{} = {}", self.id(&a.variable), self.expr(&a.math)))
                .collect();
            if assignments.is_empty() {
                let _ = writeln!(w, "{head}: ;");
            } else {
                let _ = writeln!(w, "{head}: {};", assignments.join(", "));
            }
        }

        if !m.initial_assignments.is_empty() {
            let _ = writeln!(w, "\n{ind}// Initial assignments:");
        }
        for a in &m.initial_assignments {
            let _ = writeln!(w, "{ind}{} = {};", self.id(&a.symbol), self.expr(&a.math));
        }
        if !species_values.is_empty() {
            let _ = writeln!(w, "\n{ind}// Species initial values:");
        }
        for s in &species_values {
            let _ = writeln!(w, "{s}");
        }
        if !other_declarations.is_empty() {
            let _ = writeln!(w, "\n{ind}// Other declarations:");
        }
        for d in &other_declarations {
            let _ = writeln!(w, "{d}");
        }
        for s in &m.species {
            // A rule makes a species a boundary species when read back; say so
            // when the model has one that is not.
            if ruled.contains(s.id.as_str()) && !s.boundary_condition && !s.constant {
                self.notes.push(format!(
                    "species {} has a rule, so reading this text back makes it a boundary species",
                    s.id
                ));
            }
        }

        let mut out = String::from("// Written by ligand\n");
        for n in &self.notes {
            let _ = writeln!(out, "// note: {n}");
        }
        for f in &m.function_definitions {
            let args: Vec<String> = f.args.iter().map(|a| self.id(a)).collect();
            let _ = writeln!(
                out,
                "\nfunction {}({})\n  {}\nend",
                self.id(&f.id),
                args.join(", "),
                self.expr(&f.body)
            );
        }
        match &m.name {
            Some(name) => {
                let name = if is_identifier(name) && !KEYWORDS.contains(&name.as_str()) {
                    name.clone()
                } else {
                    format!(
                        "{}_",
                        name.replace(|c: char| !(c.is_ascii_alphanumeric() || c == '_'), "_")
                    )
                };
                let _ = writeln!(out, "\nmodel {name}");
                out += &body;
                out += "end\n";
            }
            None => {
                out.push('\n');
                out += &body;
            }
        }
        out
    }
}
