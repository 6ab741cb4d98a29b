//! Reading an SBML document (Level 2 Version 1 to Level 3 Version 2 core)
//! into the raw pieces of a [`Model`]; [`super::lower`] then turns the SBML
//! constructs the IR has no field for (variable stoichiometries, conversion
//! factors, `rateOf`, algebraic rules) into ones it has.

use super::mathml::{elements, MATHML_NS};
use crate::analysis::TIME;
use crate::diagnostic::{Diagnostic, DiagnosticKind as K, Loc};
use crate::ir::{
    AssignmentRule, Compartment, Event, EventAssignment, FunctionDefinition, InitialAssignment,
    InitialQuantity, Model, Parameter, RateRule, Reaction, Species,
};
use ligand_expr::Expr;
use roxmltree::{Document, Node};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A reactant or product as SBML states it, before lowering.
#[derive(Clone, Debug)]
pub(crate) struct RawRef {
    pub species: String,
    /// The `stoichiometry` attribute (Level 2 default 1).
    pub stoichiometry: Option<f64>,
    /// The Level 3 id (usable in math), or the Level 2 id (not usable).
    pub id: Option<String>,
    /// Level 2 `stoichiometryMath`.
    pub math: Option<Expr>,
    pub loc: Option<Loc>,
}

/// A reaction as SBML states it, before lowering.
#[derive(Clone, Debug)]
pub(crate) struct RawReaction {
    pub reaction: Reaction,
    pub reactants: Vec<RawRef>,
    pub products: Vec<RawRef>,
}

/// An algebraic rule `0 = math`.
#[derive(Clone, Debug)]
pub(crate) struct AlgebraicRule {
    pub math: Expr,
    pub loc: Option<Loc>,
}

/// Everything read from the document, before lowering.
#[derive(Clone, Debug, Default)]
pub(crate) struct Raw {
    pub model: Model,
    pub reactions: Vec<RawReaction>,
    pub algebraic_rules: Vec<AlgebraicRule>,
    /// The model-wide conversion factor (Level 3).
    pub conversion_factor: Option<String>,
    /// Species' own conversion factors (Level 3).
    pub species_conversion_factors: HashMap<String, String>,
    /// Reactions marked `fast="true"`.
    pub fast: Vec<(String, Option<Loc>)>,
    /// Ids that were renamed because ligand's math reads them as constants:
    /// old id -> new id.
    pub renamed: BTreeMap<String, String>,
}

/// The reader: the document, its level and version, the diagnostics so far.
pub(crate) struct Reader<'d> {
    doc: &'d Document<'d>,
    pub level: u32,
    pub version: u32,
    pub diags: Vec<Diagnostic>,
    renames: HashMap<String, String>,
    /// Byte offsets at which lines start.
    line_starts: Vec<usize>,
    /// Whether the document is a flattened comp document, whose elements
    /// carry their location in the original text in an attribute.
    flattened: bool,
}

fn truthy(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// An XML Schema double: a number, `INF`, `-INF` or `NaN`.
fn xsd_double(s: &str) -> Option<f64> {
    match s.trim() {
        "INF" | "+INF" => Some(f64::INFINITY),
        "-INF" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        t => t.parse::<f64>().ok(),
    }
}

impl<'d> Reader<'d> {
    pub(crate) fn new(doc: &'d Document<'d>) -> Reader<'d> {
        Reader {
            doc,
            level: 3,
            version: 2,
            diags: Vec::new(),
            renames: HashMap::new(),
            flattened: doc
                .root_element()
                .namespaces()
                .any(|n| n.uri() == super::comp::LOC_NS),
            line_starts: std::iter::once(0)
                .chain(doc.input_text().match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        }
    }

    /// The line and column of a node. (`Document::text_pos_at` scans from
    /// the start of the text on every call; a table of line starts does not.)
    pub(crate) fn loc(&self, node: Node) -> Option<Loc> {
        if self.flattened {
            let (line, column) = node
                .attribute((super::comp::LOC_NS, "at"))?
                .split_once(':')?;
            return Some(Loc::new(line.parse().ok()?, column.parse().ok()?));
        }
        let text = self.doc.input_text();
        let offset = node.range().start.min(text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let column = text
            .get(start..offset)
            .map_or(offset - start, |t| t.chars().count())
            + 1;
        Some(Loc::new(line, column))
    }

    pub(crate) fn err(&self, node: Node, kind: K, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(kind, message)
            .at(self.loc(node))
            .with_width(node.tag_name().name().chars().count() + 1)
    }

    fn warn(&mut self, node: Node, kind: K, message: impl Into<String>) {
        let d = Diagnostic::warning(kind, message)
            .at(self.loc(node))
            .with_width(node.tag_name().name().chars().count() + 1);
        self.diags.push(d);
    }

    fn push_err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// An id as it appears in math, after renaming reserved names.
    pub(crate) fn id_in_math(&self, raw: &str) -> String {
        self.renames
            .get(raw)
            .cloned()
            .unwrap_or_else(|| raw.to_string())
    }

    /// An id attribute, after renaming.
    fn id_attr(&self, node: Node, attr: &str) -> Option<String> {
        node.attribute(attr).map(|s| self.id_in_math(s.trim()))
    }

    fn bool_attr(&mut self, node: Node, attr: &str, default: bool) -> bool {
        match node.attribute(attr) {
            None => default,
            Some(v) => match truthy(v) {
                Some(b) => b,
                None => {
                    let d = self.err(
                        node,
                        K::Syntax,
                        format!("attribute {attr}=\"{v}\" is not a boolean"),
                    );
                    self.push_err(d);
                    default
                }
            },
        }
    }

    fn num_attr(&mut self, node: Node, attr: &str) -> Option<f64> {
        let v = node.attribute(attr)?;
        match xsd_double(v) {
            Some(x) => Some(x),
            None => {
                let d = self.err(
                    node,
                    K::Syntax,
                    format!("attribute {attr}=\"{v}\" is not a number"),
                );
                self.push_err(d);
                None
            }
        }
    }

    /// The `<math>` child of an element, converted; `None` (with a warning)
    /// when the element has none (allowed in Level 3 Version 2).
    fn child_math(&mut self, node: Node, what: &str) -> Option<Expr> {
        let math = elements(node)
            .find(|c| c.tag_name().name() == "math" && c.tag_name().namespace() == Some(MATHML_NS));
        match math {
            None => {
                self.warn(
                    node,
                    K::Ignored,
                    format!("{what} has no math and is ignored"),
                );
                None
            }
            Some(m) => match self.math(m) {
                Ok(e) => Some(e),
                Err(d) => {
                    self.push_err(d);
                    None
                }
            },
        }
    }

    fn element_id(&mut self, node: Node, what: &str) -> Option<String> {
        match self.id_attr(node, "id") {
            Some(id) if !id.is_empty() => Some(id),
            _ => {
                let d = self.err(node, K::Syntax, format!("a {what} without an id"));
                self.push_err(d);
                None
            }
        }
    }

    /// Collects every SBML id in the document and renames those that
    /// ligand's math reads as constants (`e`, `pi`, `time`, ...).
    fn plan_renames(&mut self, model: Node) {
        let mut ids: HashSet<String> = HashSet::new();
        for n in model.descendants().filter(|n| n.is_element()) {
            if n.tag_name().namespace() == Some(MATHML_NS) {
                continue;
            }
            if let Some(id) = n.attribute("id") {
                ids.insert(id.to_string());
            }
        }
        let mut renames = HashMap::new();
        let mut sorted: Vec<&String> = ids.iter().collect();
        sorted.sort();
        for id in sorted {
            // In the IR, `Var("time")` is the time unless an element has that
            // id; the csymbol needs it, so an element called `time` is renamed.
            if id == TIME {
                let mut new = format!("{id}_");
                while ids.contains(&new) || renames.values().any(|v| v == &new) {
                    new.push('_');
                }
                renames.insert(id.clone(), new);
            }
        }
        self.renames = renames;
    }

    /// Reads the document.
    pub(crate) fn read(&mut self) -> Option<Raw> {
        let root = self.doc.root_element();
        if root.tag_name().name() != "sbml" {
            let d = self.err(
                root,
                K::Syntax,
                format!(
                    "not an SBML document: the root element is <{}>, not <sbml>",
                    root.tag_name().name()
                ),
            );
            self.push_err(d);
            return None;
        }
        self.level = root
            .attribute("level")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        self.version = root
            .attribute("version")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let supported = matches!((self.level, self.version), (2, 1..=5) | (3, 1..=2));
        if !supported {
            let d = self.err(
                root,
                K::Unsupported,
                format!(
                    "SBML Level {} Version {} is not supported (ligand reads Level 2 Version 1 to Level 3 Version 2)",
                    self.level, self.version
                ),
            );
            self.push_err(d);
            return None;
        }
        // Packages: a required one we cannot read is an error, others are ignored.
        let mut packages: Vec<(String, bool)> = Vec::new();
        for a in root.attributes() {
            if a.name() == "required" {
                if let Some(ns) = a.namespace() {
                    let prefix = root.lookup_prefix(ns).unwrap_or(ns).to_string();
                    packages.push((prefix, truthy(a.value()).unwrap_or(true)));
                }
            }
        }
        for (p, required) in &packages {
            if *required {
                let d = self.err(
                    root,
                    K::Unsupported,
                    format!(
                        "the SBML package `{p}`{} is required by this document and not supported",
                        package_description(p)
                    ),
                );
                self.push_err(d);
            } else {
                self.warn(
                    root,
                    K::Ignored,
                    format!(
                        "the SBML package `{p}`{} is not read; the core model is simulated without it",
                        package_description(p)
                    ),
                );
            }
        }
        let Some(model) = elements(root).find(|c| c.tag_name().name() == "model") else {
            let d = self.err(root, K::Syntax, "the document has no <model>");
            self.push_err(d);
            return None;
        };
        self.plan_renames(model);
        let mut raw = Raw::default();
        for (old, new) in &self.renames {
            raw.renamed.insert(old.clone(), new.clone());
            let d = Diagnostic::warning(
                K::ReservedName,
                format!(
                    "the id `{old}` is renamed `{new}`: in ligand's math `{old}` is the simulation time"
                ),
            )
            .with_symbol(new.clone());
            self.diags.push(d);
        }
        raw.model.name = model
            .attribute("id")
            .or_else(|| model.attribute("name"))
            .map(str::to_string);
        raw.conversion_factor = self.id_attr(model, "conversionFactor");
        let sbml_ns = model.tag_name().namespace().map(str::to_string);
        let mut ignored_packages: HashSet<String> = HashSet::new();
        for list in elements(model) {
            if list.tag_name().namespace().map(str::to_string) != sbml_ns {
                let ns = list.tag_name().namespace().unwrap_or("");
                let prefix = list.lookup_prefix(ns).unwrap_or(ns).to_string();
                if !packages.iter().any(|(p, _)| *p == prefix)
                    && ignored_packages.insert(prefix.clone())
                {
                    self.warn(
                        list,
                        K::Ignored,
                        format!(
                            "the element <{}> of package `{prefix}` is not read",
                            list.tag_name().name()
                        ),
                    );
                }
                continue;
            }
            match list.tag_name().name() {
                "notes" | "annotation" => {}
                "listOfUnitDefinitions" => {
                    let n = elements(list).count();
                    if n > 0 {
                        self.warn(
                            list,
                            K::Ignored,
                            format!("{n} unit definition(s) ignored: ligand does not check or convert units"),
                        );
                    }
                }
                "listOfCompartmentTypes" | "listOfSpeciesTypes" => {
                    if elements(list).count() > 0 {
                        self.warn(
                            list,
                            K::Ignored,
                            format!(
                                "<{}> ignored: types carry no meaning for simulation",
                                list.tag_name().name()
                            ),
                        );
                    }
                }
                "listOfConstraints" => {
                    if elements(list).count() > 0 {
                        self.warn(
                            list,
                            K::Ignored,
                            "constraints are not checked during simulation",
                        );
                    }
                }
                "listOfFunctionDefinitions" => self.functions(list, &mut raw),
                "listOfCompartments" => self.compartments(list, &mut raw),
                "listOfSpecies" => self.species(list, &mut raw),
                "listOfParameters" => self.parameters(list, &mut raw),
                "listOfInitialAssignments" => self.initial_assignments(list, &mut raw),
                "listOfRules" => self.rules(list, &mut raw),
                "listOfReactions" => self.reactions(list, &mut raw),
                "listOfEvents" => self.events(list, &mut raw),
                other => self.warn(
                    list,
                    K::Ignored,
                    format!("the element <{other}> is not read"),
                ),
            }
        }
        Some(raw)
    }

    fn functions(&mut self, list: Node, raw: &mut Raw) {
        for f in elements(list).filter(|c| c.tag_name().name() == "functionDefinition") {
            let Some(id) = self.element_id(f, "function definition") else {
                continue;
            };
            let Some(math) = elements(f).find(|c| c.tag_name().name() == "math") else {
                self.warn(
                    f,
                    K::Ignored,
                    format!("function definition `{id}` has no math and is ignored"),
                );
                continue;
            };
            match self.lambda(math) {
                Ok((args, body)) => raw.model.function_definitions.push(FunctionDefinition {
                    id,
                    args,
                    body,
                    loc: self.loc(f),
                }),
                Err(d) => self.push_err(d),
            }
        }
    }

    fn compartments(&mut self, list: Node, raw: &mut Raw) {
        for c in elements(list).filter(|c| c.tag_name().name() == "compartment") {
            let Some(id) = self.element_id(c, "compartment") else {
                continue;
            };
            let size = self.num_attr(c, "size");
            let mut dims = self.num_attr(c, "spatialDimensions").unwrap_or(3.0);
            if ![0.0, 1.0, 2.0, 3.0].contains(&dims) {
                // Only units depend on the dimensions, and ligand does not check units.
                self.warn(
                    c,
                    K::Ignored,
                    format!("compartment `{id}` has {dims} spatial dimensions; it is treated as three-dimensional"),
                );
                dims = 3.0;
            }
            let constant = self.bool_attr(c, "constant", true);
            if c.attribute("outside").is_some() {
                // Nesting has no meaning for simulation.
            }
            raw.model.compartments.push(Compartment {
                id,
                size,
                constant,
                spatial_dimensions: dims,
                loc: self.loc(c),
            });
        }
    }

    fn species(&mut self, list: Node, raw: &mut Raw) {
        for s in elements(list).filter(|c| c.tag_name().name() == "species") {
            let Some(id) = self.element_id(s, "species") else {
                continue;
            };
            let Some(compartment) = self.id_attr(s, "compartment") else {
                let d = self.err(s, K::Syntax, format!("species `{id}` has no compartment"));
                self.push_err(d);
                continue;
            };
            let amount = self.num_attr(s, "initialAmount");
            let conc = self.num_attr(s, "initialConcentration");
            let initial = match (amount, conc) {
                (Some(a), None) => Some(InitialQuantity::Amount(a)),
                (None, Some(c)) => Some(InitialQuantity::Concentration(c)),
                (Some(a), Some(_)) => {
                    self.warn(
                        s,
                        K::Redefinition,
                        format!("species `{id}` has both an initial amount and an initial concentration; the amount is used"),
                    );
                    Some(InitialQuantity::Amount(a))
                }
                (None, None) => None,
            };
            let hosu = self.bool_attr(s, "hasOnlySubstanceUnits", false);
            let boundary = self.bool_attr(s, "boundaryCondition", false);
            let constant = self.bool_attr(s, "constant", false);
            if let Some(cf) = self.id_attr(s, "conversionFactor") {
                raw.species_conversion_factors.insert(id.clone(), cf);
            }
            raw.model.species.push(Species {
                id,
                compartment,
                initial,
                boundary_condition: boundary,
                constant,
                has_only_substance_units: hosu,
                loc: self.loc(s),
            });
        }
    }

    fn parameter(&mut self, p: Node, what: &str) -> Option<Parameter> {
        let id = self.element_id(p, what)?;
        let value = self.num_attr(p, "value");
        let constant = self.bool_attr(p, "constant", true);
        Some(Parameter {
            id,
            value,
            constant,
            loc: self.loc(p),
        })
    }

    fn parameters(&mut self, list: Node, raw: &mut Raw) {
        for p in elements(list).filter(|c| c.tag_name().name() == "parameter") {
            if let Some(p) = self.parameter(p, "parameter") {
                raw.model.parameters.push(p);
            }
        }
    }

    fn initial_assignments(&mut self, list: Node, raw: &mut Raw) {
        for a in elements(list).filter(|c| c.tag_name().name() == "initialAssignment") {
            let Some(symbol) = self.id_attr(a, "symbol") else {
                let d = self.err(a, K::Syntax, "an initial assignment without a symbol");
                self.push_err(d);
                continue;
            };
            if let Some(math) = self.child_math(a, &format!("the initial assignment to `{symbol}`"))
            {
                raw.model.initial_assignments.push(InitialAssignment {
                    symbol,
                    math,
                    loc: self.loc(a),
                });
            }
        }
    }

    fn rules(&mut self, list: Node, raw: &mut Raw) {
        for r in elements(list) {
            let kind = r.tag_name().name();
            match kind {
                "assignmentRule" | "rateRule" => {
                    let Some(variable) = self.id_attr(r, "variable") else {
                        let d = self.err(r, K::Syntax, format!("an {kind} without a variable"));
                        self.push_err(d);
                        continue;
                    };
                    let what = if kind == "rateRule" {
                        format!("the rate rule for `{variable}`")
                    } else {
                        format!("the assignment rule for `{variable}`")
                    };
                    let Some(math) = self.child_math(r, &what) else {
                        continue;
                    };
                    if kind == "rateRule" {
                        raw.model.rate_rules.push(RateRule {
                            variable,
                            math,
                            loc: self.loc(r),
                        });
                    } else {
                        raw.model.assignment_rules.push(AssignmentRule {
                            variable,
                            math,
                            loc: self.loc(r),
                        });
                    }
                }
                "algebraicRule" => {
                    if let Some(math) = self.child_math(r, "an algebraic rule") {
                        raw.algebraic_rules.push(AlgebraicRule {
                            math,
                            loc: self.loc(r),
                        });
                    }
                }
                "notes" | "annotation" => {}
                other => {
                    let d = self.err(
                        r,
                        K::Unsupported,
                        format!("the rule <{other}> is not supported (Level 1 rules are not read)"),
                    );
                    self.push_err(d);
                }
            }
        }
    }

    fn species_ref(&mut self, node: Node) -> Option<RawRef> {
        let Some(species) = self.id_attr(node, "species") else {
            let d = self.err(node, K::Syntax, "a species reference without a species");
            self.push_err(d);
            return None;
        };
        let stoichiometry = self.num_attr(node, "stoichiometry");
        let math = elements(node)
            .find(|c| c.tag_name().name() == "stoichiometryMath")
            .and_then(|sm| self.child_math(sm, &format!("the stoichiometryMath of `{species}`")));
        let id = self.id_attr(node, "id");
        Some(RawRef {
            species,
            stoichiometry,
            id,
            math,
            loc: self.loc(node),
        })
    }

    fn reactions(&mut self, list: Node, raw: &mut Raw) {
        for r in elements(list).filter(|c| c.tag_name().name() == "reaction") {
            let Some(id) = self.element_id(r, "reaction") else {
                continue;
            };
            let reversible = self.bool_attr(r, "reversible", true);
            if self.bool_attr(r, "fast", false) {
                raw.fast.push((id.clone(), self.loc(r)));
            }
            let mut reaction = Reaction::new(id.clone(), Vec::new(), Vec::new(), None);
            reaction.reversible = reversible;
            reaction.compartment = self.id_attr(r, "compartment");
            reaction.loc = self.loc(r);
            let mut reactants = Vec::new();
            let mut products = Vec::new();
            for part in elements(r) {
                match part.tag_name().name() {
                    "listOfReactants" | "listOfProducts" => {
                        for sr in
                            elements(part).filter(|c| c.tag_name().name() == "speciesReference")
                        {
                            if let Some(x) = self.species_ref(sr) {
                                if part.tag_name().name() == "listOfReactants" {
                                    reactants.push(x);
                                } else {
                                    products.push(x);
                                }
                            }
                        }
                    }
                    "listOfModifiers" => {
                        for m in elements(part) {
                            if let Some(s) = self.id_attr(m, "species") {
                                if !reaction.modifiers.contains(&s) {
                                    reaction.modifiers.push(s);
                                }
                            }
                        }
                    }
                    "kineticLaw" => {
                        for lp in elements(part) {
                            let n = lp.tag_name().name();
                            if n == "listOfParameters" || n == "listOfLocalParameters" {
                                for p in elements(lp).filter(|c| {
                                    matches!(c.tag_name().name(), "parameter" | "localParameter")
                                }) {
                                    if let Some(p) = self.parameter(p, "local parameter") {
                                        reaction.local_parameters.push(Parameter {
                                            constant: true,
                                            ..p
                                        });
                                    }
                                }
                            }
                        }
                        reaction.rate_law =
                            self.child_math(part, &format!("the kinetic law of reaction `{id}`"));
                    }
                    _ => {}
                }
            }
            raw.reactions.push(RawReaction {
                reaction,
                reactants,
                products,
            });
        }
    }

    fn events(&mut self, list: Node, raw: &mut Raw) {
        let mut unnamed = 0;
        for e in elements(list).filter(|c| c.tag_name().name() == "event") {
            let id = match self.id_attr(e, "id") {
                Some(id) if !id.is_empty() => id,
                _ => {
                    let id = format!("_E{unnamed}");
                    unnamed += 1;
                    id
                }
            };
            let from_trigger = self.bool_attr(e, "useValuesFromTriggerTime", true);
            let Some(trigger) = elements(e).find(|c| c.tag_name().name() == "trigger") else {
                // Allowed in Level 3 Version 2: such an event never fires.
                self.warn(
                    e,
                    K::Ignored,
                    format!("event `{id}` has no trigger and never fires"),
                );
                continue;
            };
            let Some(trigger_math) =
                self.child_math(trigger, &format!("the trigger of event `{id}`"))
            else {
                continue;
            };
            let mut ev = Event::new(id.clone(), trigger_math);
            ev.use_values_from_trigger_time = from_trigger;
            ev.initial_value = self.bool_attr(trigger, "initialValue", true);
            ev.persistent = self.bool_attr(trigger, "persistent", true);
            ev.loc = self.loc(e);
            for part in elements(e) {
                match part.tag_name().name() {
                    "delay" => {
                        ev.delay = self.child_math(part, &format!("the delay of event `{id}`"));
                    }
                    "priority" => {
                        ev.priority =
                            self.child_math(part, &format!("the priority of event `{id}`"));
                    }
                    "listOfEventAssignments" => {
                        for a in elements(part).filter(|c| c.tag_name().name() == "eventAssignment")
                        {
                            let Some(variable) = self.id_attr(a, "variable") else {
                                let d = self.err(
                                    a,
                                    K::Syntax,
                                    "an event assignment without a variable",
                                );
                                self.push_err(d);
                                continue;
                            };
                            if let Some(math) = self.child_math(
                                a,
                                &format!("the assignment to `{variable}` in event `{id}`"),
                            ) {
                                ev.assignments.push(EventAssignment {
                                    variable,
                                    math,
                                    loc: self.loc(a),
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
            raw.model.events.push(ev);
        }
    }
}

fn package_description(p: &str) -> &'static str {
    match p {
        "comp" => " (hierarchical model composition)",
        "fbc" => " (flux balance constraints)",
        "layout" => " (layout)",
        "render" => " (rendering)",
        "groups" => " (groups)",
        "distrib" => " (distributions)",
        "arrays" => " (arrays)",
        "qual" => " (qualitative models)",
        "multi" => " (multistate species)",
        "spatial" => " (spatial processes)",
        _ => "",
    }
}
