//! [`Model::to_sbml`]: SBML Level 3 Version 2 core, with MathML written from
//! the [`Expr`] trees.
//!
//! The IR follows SBML Level 3 semantics, so the translation is direct:
//! species keep their initial amount or concentration and their
//! `hasOnlySubstanceUnits`, boundary and constant flags; reaction-local
//! parameters become `localParameter`s; events keep their trigger flags,
//! delay and priority. `min`, `max` and `sign` are written as `piecewise`, so
//! that tools without SBML Level 3 Version 2 MathML (COPASI) read them. No
//! units are written.

use crate::analysis::TIME;
use crate::ir::{InitialQuantity, Model};
use crate::validate::is_identifier;
use ligand_expr::{format_number, BinOp, CmpOp, Expr, Func};
use std::fmt::Write as _;

/// Why a model cannot be written as SBML.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SbmlWriteError {
    /// A function of ligand's expression language that MathML cannot express.
    #[error("the function `{function}` in {site} has no MathML equivalent")]
    UnrepresentableFunction { function: String, site: String },
}

const SBML_NS: &str = "http://www.sbml.org/sbml/level3/version2/core";
const MATHML_NS: &str = "http://www.w3.org/1998/Math/MathML";

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A number as an XML Schema double.
fn xsd(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "INF".into()
        } else {
            "-INF".into()
        }
    } else {
        format_number(v)
    }
}

fn flag(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

struct MathWriter<'a> {
    out: String,
    site: &'a str,
}

impl MathWriter<'_> {
    fn apply(&mut self, op: &str, args: &[&Expr]) -> Result<(), SbmlWriteError> {
        let _ = write!(self.out, "<apply><{op}/>");
        for a in args {
            self.expr(a)?;
        }
        self.out.push_str("</apply>");
        Ok(())
    }

    fn num(&mut self, v: f64) {
        if v.is_nan() {
            self.out.push_str("<notanumber/>");
        } else if v.is_infinite() {
            if v > 0.0 {
                self.out.push_str("<infinity/>");
            } else {
                self.out.push_str("<apply><minus/><infinity/></apply>");
            }
        } else if v.fract() == 0.0 && v.abs() < 1e15 {
            let _ = write!(self.out, "<cn type=\"integer\"> {} </cn>", v as i64);
        } else {
            let s = format_number(v);
            match s.split_once('e') {
                Some((m, e)) => {
                    let _ = write!(self.out, "<cn type=\"e-notation\"> {m} <sep/> {e} </cn>");
                }
                None => {
                    let _ = write!(self.out, "<cn> {s} </cn>");
                }
            }
        }
    }

    /// `piecewise(a, a <= b, b)`-style selection for min and max.
    fn select(&mut self, op: CmpOp, args: &[Expr]) -> Result<(), SbmlWriteError> {
        match args {
            [] => {
                self.num(f64::NAN);
                Ok(())
            }
            [a] => self.expr(a),
            [a, rest @ ..] => {
                let b = if rest.len() == 1 {
                    rest[0].clone()
                } else {
                    Expr::Call(
                        if op == CmpOp::Le {
                            Func::Min
                        } else {
                            Func::Max
                        },
                        rest.to_vec(),
                    )
                };
                let e = Expr::Piecewise {
                    pieces: vec![(
                        a.clone(),
                        Expr::Cmp(op, Box::new(a.clone()), Box::new(b.clone())),
                    )],
                    otherwise: Some(Box::new(b)),
                };
                self.expr(&e)
            }
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<(), SbmlWriteError> {
        match e {
            Expr::Num(v) => self.num(*v),
            Expr::Var(v) if v == TIME => self.out.push_str(
                "<csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/symbols/time\"> time </csymbol>",
            ),
            Expr::Var(v) => {
                let _ = write!(self.out, "<ci> {} </ci>", esc(v));
            }
            Expr::Neg(a) => self.apply("minus", &[a])?,
            Expr::Not(a) => self.apply("not", &[a])?,
            Expr::Bin(op, a, b) => {
                let name = match op {
                    BinOp::Add => "plus",
                    BinOp::Sub => "minus",
                    BinOp::Mul => "times",
                    BinOp::Div => "divide",
                    BinOp::Pow => "power",
                };
                self.apply(name, &[a, b])?
            }
            Expr::Cmp(op, a, b) => {
                let name = match op {
                    CmpOp::Lt => "lt",
                    CmpOp::Le => "leq",
                    CmpOp::Gt => "gt",
                    CmpOp::Ge => "geq",
                    CmpOp::Eq => "eq",
                    CmpOp::Ne => "neq",
                };
                self.apply(name, &[a, b])?
            }
            Expr::And(a, b) => self.apply("and", &[a, b])?,
            Expr::Or(a, b) => self.apply("or", &[a, b])?,
            Expr::Call(f, args) => self.call(*f, args)?,
            Expr::Apply(name, args) => {
                let _ = write!(self.out, "<apply><ci> {} </ci>", esc(name));
                for a in args {
                    self.expr(a)?;
                }
                self.out.push_str("</apply>");
            }
            Expr::Piecewise { pieces, otherwise } => {
                self.out.push_str("<piecewise>");
                for (v, c) in pieces {
                    self.out.push_str("<piece>");
                    self.expr(v)?;
                    self.expr(c)?;
                    self.out.push_str("</piece>");
                }
                if let Some(o) = otherwise {
                    self.out.push_str("<otherwise>");
                    self.expr(o)?;
                    self.out.push_str("</otherwise>");
                }
                self.out.push_str("</piecewise>");
            }
        }
        Ok(())
    }

    fn call(&mut self, f: Func, args: &[Expr]) -> Result<(), SbmlWriteError> {
        let refs: Vec<&Expr> = args.iter().collect();
        let simple = match f {
            Func::Exp => Some("exp"),
            Func::Ln => Some("ln"),
            Func::Abs => Some("abs"),
            Func::Floor => Some("floor"),
            Func::Ceil => Some("ceiling"),
            Func::Sin => Some("sin"),
            Func::Cos => Some("cos"),
            Func::Tan => Some("tan"),
            Func::Asin => Some("arcsin"),
            Func::Acos => Some("arccos"),
            Func::Atan => Some("arctan"),
            Func::Sinh => Some("sinh"),
            Func::Cosh => Some("cosh"),
            Func::Tanh => Some("tanh"),
            Func::Asinh => Some("arcsinh"),
            Func::Acosh => Some("arccosh"),
            Func::Atanh => Some("arctanh"),
            Func::Sec => Some("sec"),
            Func::Csc => Some("csc"),
            Func::Cot => Some("cot"),
            Func::Factorial => Some("factorial"),
            Func::Sqrt => Some("root"),
            Func::Log10 => Some("log"),
            _ => None,
        };
        if let Some(op) = simple {
            return self.apply(op, &refs);
        }
        match (f, args) {
            (Func::LogBase, [b, x]) => {
                self.out.push_str("<apply><log/><logbase>");
                self.expr(b)?;
                self.out.push_str("</logbase>");
                self.expr(x)?;
                self.out.push_str("</apply>");
            }
            (Func::Log2, [x]) => {
                self.out.push_str("<apply><log/><logbase>");
                self.num(2.0);
                self.out.push_str("</logbase>");
                self.expr(x)?;
                self.out.push_str("</apply>");
            }
            (Func::Root, [n, x]) => {
                self.out.push_str("<apply><root/><degree>");
                self.expr(n)?;
                self.out.push_str("</degree>");
                self.expr(x)?;
                self.out.push_str("</apply>");
            }
            (Func::Min, _) => self.select(CmpOp::Le, args)?,
            (Func::Max, _) => self.select(CmpOp::Ge, args)?,
            (Func::Sign, [x]) => {
                let zero = || Box::new(Expr::Num(0.0));
                let e = Expr::Piecewise {
                    pieces: vec![
                        (
                            Expr::Num(1.0),
                            Expr::Cmp(CmpOp::Gt, Box::new(x.clone()), zero()),
                        ),
                        (
                            Expr::Num(-1.0),
                            Expr::Cmp(CmpOp::Lt, Box::new(x.clone()), zero()),
                        ),
                    ],
                    otherwise: Some(zero()),
                };
                self.expr(&e)?;
            }
            _ => {
                return Err(SbmlWriteError::UnrepresentableFunction {
                    function: f.name().to_string(),
                    site: self.site.to_string(),
                })
            }
        }
        Ok(())
    }
}

/// `<math>` for an expression.
fn math(e: &Expr, site: &str) -> Result<String, SbmlWriteError> {
    let mut w = MathWriter {
        out: format!("<math xmlns=\"{MATHML_NS}\">"),
        site,
    };
    w.expr(e)?;
    w.out.push_str("</math>");
    Ok(w.out)
}

impl Model {
    /// Writes the model as SBML Level 3 Version 2 core, for COPASI,
    /// Tellurium/libRoadRunner and other SBML tools. Reading the result back
    /// with [`parse_sbml`](crate::parse_sbml) gives a model that simulates
    /// the same.
    ///
    /// ```
    /// use ligand_model::{parse_antimony, parse_sbml};
    /// let (m, _) = parse_antimony("J1: A -> B; k*A\nA = 1; B = 0; k = 0.5").unwrap();
    /// let xml = m.to_sbml().unwrap();
    /// assert!(xml.contains("<sbml xmlns=\"http://www.sbml.org/sbml/level3/version2/core\" level=\"3\" version=\"2\">"));
    /// let (back, _) = parse_sbml(&xml).unwrap();
    /// assert_eq!(back.without_locations().reactions, m.without_locations().reactions);
    /// ```
    pub fn to_sbml(&self) -> Result<String, SbmlWriteError> {
        let mut o = String::new();
        o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(o, "<sbml xmlns=\"{SBML_NS}\" level=\"3\" version=\"2\">");
        let name = self.name.as_deref().unwrap_or("model");
        if is_identifier(name) {
            let _ = writeln!(o, "  <model id=\"{name}\">");
        } else {
            let _ = writeln!(o, "  <model name=\"{}\">", esc(name));
        }
        if !self.function_definitions.is_empty() {
            o.push_str("    <listOfFunctionDefinitions>\n");
            for f in &self.function_definitions {
                let site = format!("the body of function `{}`", f.id);
                let body = math(&f.body, &site)?;
                // Insert the lambda around the body.
                let inner = body
                    .trim_start_matches(&format!("<math xmlns=\"{MATHML_NS}\">"))
                    .trim_end_matches("</math>");
                let bvars: String = f
                    .args
                    .iter()
                    .map(|a| format!("<bvar><ci> {} </ci></bvar>", esc(a)))
                    .collect();
                let _ = writeln!(
                    o,
                    "      <functionDefinition id=\"{}\"><math xmlns=\"{MATHML_NS}\"><lambda>{bvars}{inner}</lambda></math></functionDefinition>",
                    esc(&f.id)
                );
            }
            o.push_str("    </listOfFunctionDefinitions>\n");
        }
        if !self.compartments.is_empty() {
            o.push_str("    <listOfCompartments>\n");
            for c in &self.compartments {
                let size = c
                    .size
                    .map(|s| format!(" size=\"{}\"", xsd(s)))
                    .unwrap_or_default();
                let _ = writeln!(
                    o,
                    "      <compartment id=\"{}\" spatialDimensions=\"{}\"{size} constant=\"{}\"/>",
                    esc(&c.id),
                    xsd(c.spatial_dimensions),
                    flag(c.constant)
                );
            }
            o.push_str("    </listOfCompartments>\n");
        }
        if !self.species.is_empty() {
            o.push_str("    <listOfSpecies>\n");
            for s in &self.species {
                let initial = match s.initial {
                    Some(InitialQuantity::Amount(a)) => format!(" initialAmount=\"{}\"", xsd(a)),
                    Some(InitialQuantity::Concentration(c)) => {
                        format!(" initialConcentration=\"{}\"", xsd(c))
                    }
                    None => String::new(),
                };
                let _ = writeln!(
                    o,
                    "      <species id=\"{}\" compartment=\"{}\"{initial} hasOnlySubstanceUnits=\"{}\" boundaryCondition=\"{}\" constant=\"{}\"/>",
                    esc(&s.id),
                    esc(&s.compartment),
                    flag(s.has_only_substance_units),
                    flag(s.boundary_condition),
                    flag(s.constant)
                );
            }
            o.push_str("    </listOfSpecies>\n");
        }
        if !self.parameters.is_empty() {
            o.push_str("    <listOfParameters>\n");
            for p in &self.parameters {
                let value = p
                    .value
                    .map(|v| format!(" value=\"{}\"", xsd(v)))
                    .unwrap_or_default();
                let _ = writeln!(
                    o,
                    "      <parameter id=\"{}\"{value} constant=\"{}\"/>",
                    esc(&p.id),
                    flag(p.constant)
                );
            }
            o.push_str("    </listOfParameters>\n");
        }
        if !self.initial_assignments.is_empty() {
            o.push_str("    <listOfInitialAssignments>\n");
            for a in &self.initial_assignments {
                let site = format!("the initial assignment of `{}`", a.symbol);
                let _ = writeln!(
                    o,
                    "      <initialAssignment symbol=\"{}\">{}</initialAssignment>",
                    esc(&a.symbol),
                    math(&a.math, &site)?
                );
            }
            o.push_str("    </listOfInitialAssignments>\n");
        }
        if !self.assignment_rules.is_empty() || !self.rate_rules.is_empty() {
            o.push_str("    <listOfRules>\n");
            for r in &self.assignment_rules {
                let site = format!("the assignment rule for `{}`", r.variable);
                let _ = writeln!(
                    o,
                    "      <assignmentRule variable=\"{}\">{}</assignmentRule>",
                    esc(&r.variable),
                    math(&r.math, &site)?
                );
            }
            for r in &self.rate_rules {
                let site = format!("the rate rule for `{}`", r.variable);
                let _ = writeln!(
                    o,
                    "      <rateRule variable=\"{}\">{}</rateRule>",
                    esc(&r.variable),
                    math(&r.math, &site)?
                );
            }
            o.push_str("    </listOfRules>\n");
        }
        if !self.reactions.is_empty() {
            o.push_str("    <listOfReactions>\n");
            for r in &self.reactions {
                let comp = r
                    .compartment
                    .as_ref()
                    .filter(|c| self.compartment(c).is_some())
                    .map(|c| format!(" compartment=\"{}\"", esc(c)))
                    .unwrap_or_default();
                let _ = writeln!(
                    o,
                    "      <reaction id=\"{}\" reversible=\"{}\"{comp}>",
                    esc(&r.id),
                    flag(r.reversible)
                );
                for (tag, list) in [
                    ("listOfReactants", &r.reactants),
                    ("listOfProducts", &r.products),
                ] {
                    if list.is_empty() {
                        continue;
                    }
                    let _ = writeln!(o, "        <{tag}>");
                    for s in list {
                        let _ = writeln!(
                            o,
                            "          <speciesReference species=\"{}\" stoichiometry=\"{}\" constant=\"true\"/>",
                            esc(&s.species),
                            xsd(s.stoichiometry)
                        );
                    }
                    let _ = writeln!(o, "        </{tag}>");
                }
                if !r.modifiers.is_empty() {
                    o.push_str("        <listOfModifiers>\n");
                    for m in &r.modifiers {
                        let _ = writeln!(
                            o,
                            "          <modifierSpeciesReference species=\"{}\"/>",
                            esc(m)
                        );
                    }
                    o.push_str("        </listOfModifiers>\n");
                }
                if let Some(rate) = &r.rate_law {
                    let site = format!("the rate law of reaction `{}`", r.id);
                    let _ = writeln!(o, "        <kineticLaw>{}", math(rate, &site)?);
                    if !r.local_parameters.is_empty() {
                        o.push_str("          <listOfLocalParameters>\n");
                        for p in &r.local_parameters {
                            let value = p
                                .value
                                .map(|v| format!(" value=\"{}\"", xsd(v)))
                                .unwrap_or_default();
                            let _ = writeln!(
                                o,
                                "            <localParameter id=\"{}\"{value}/>",
                                esc(&p.id)
                            );
                        }
                        o.push_str("          </listOfLocalParameters>\n");
                    }
                    o.push_str("        </kineticLaw>\n");
                }
                o.push_str("      </reaction>\n");
            }
            o.push_str("    </listOfReactions>\n");
        }
        if !self.events.is_empty() {
            o.push_str("    <listOfEvents>\n");
            for e in &self.events {
                let _ = writeln!(
                    o,
                    "      <event id=\"{}\" useValuesFromTriggerTime=\"{}\">",
                    esc(&e.id),
                    flag(e.use_values_from_trigger_time)
                );
                let site = format!("the trigger of event `{}`", e.id);
                let _ = writeln!(
                    o,
                    "        <trigger initialValue=\"{}\" persistent=\"{}\">{}</trigger>",
                    flag(e.initial_value),
                    flag(e.persistent),
                    math(&e.trigger, &site)?
                );
                if let Some(p) = &e.priority {
                    let site = format!("the priority of event `{}`", e.id);
                    let _ = writeln!(o, "        <priority>{}</priority>", math(p, &site)?);
                }
                if let Some(d) = &e.delay {
                    let site = format!("the delay of event `{}`", e.id);
                    let _ = writeln!(o, "        <delay>{}</delay>", math(d, &site)?);
                }
                if !e.assignments.is_empty() {
                    o.push_str("        <listOfEventAssignments>\n");
                    for a in &e.assignments {
                        let site =
                            format!("the assignment to `{}` in event `{}`", a.variable, e.id);
                        let _ = writeln!(
                            o,
                            "          <eventAssignment variable=\"{}\">{}</eventAssignment>",
                            esc(&a.variable),
                            math(&a.math, &site)?
                        );
                    }
                    o.push_str("        </listOfEventAssignments>\n");
                }
                o.push_str("      </event>\n");
            }
            o.push_str("    </listOfEvents>\n");
        }
        o.push_str("  </model>\n</sbml>\n");
        Ok(o)
    }
}
