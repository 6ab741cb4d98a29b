//! Hierarchical model composition (the SBML Level 3 `comp` package, version
//! 1): a document with submodels is flattened into one core model before it
//! is read, as libSBML's `CompFlatteningConverter` does.
//!
//! The flattening works on an owned copy of the XML tree ([`El`]), bottom up:
//!
//! 1. A submodel instantiates its model definition (in the document, or in
//!    another file through an `externalModelDefinition`), whose own
//!    submodels are flattened first.
//! 2. Its deletions remove the elements they point to.
//! 3. Every id of the instance gets the prefix `submodel__` (so `sub1`'s
//!    `S` becomes `sub1__S`, as the SBML Test Suite's expected results name
//!    it); local parameters and function arguments keep their names.
//! 4. A `timeConversionFactor` `f` turns the instance's `time` into `time /
//!    f`, divides rate rules and kinetic laws by `f`, multiplies delays by
//!    `f` and `rateOf` by `f`; an `extentConversionFactor` `g` multiplies its
//!    kinetic laws by `g`.
//! 5. A `replacedElement` removes the submodel's element, whose references
//!    then name the replacement; with a `conversionFactor` `c`, references
//!    read `replacement / c` and the math assigned to it (rules, initial and
//!    event assignments) is multiplied by `c`. A `replacedBy` removes the
//!    parent's element and gives its id to the submodel's.
//! 6. The instance's elements join the parent's lists.
//!
//! References (`idRef`, `metaIdRef`, `portRef`, chains of `sBaseRef`) are
//! resolved through tables of the ids each instance had before renaming, so
//! renaming never breaks them; an element replaced or deleted at one level
//! redirects the references made from the levels above.
//!
//! Every `comp` construct that is not supported (deleting or replacing a
//! whole submodel, a conversion factor on an element without an id,
//! `replacedBy` on an element without an id, comp elements elsewhere) is an
//! error naming it; nothing is dropped silently. Unit references are
//! accepted and do nothing, as ligand ignores units.
//! The flattened tree is written back to XML text with each element's
//! original line and column in an attribute, so diagnostics about it point
//! into the user's file.

use super::mathml::MATHML_NS;
use crate::diagnostic::{Diagnostic, DiagnosticKind as K, Loc};
use roxmltree::{Document, Node};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// The namespace URI of the comp package, version 1.
pub(crate) const COMP_NS: &str = "http://www.sbml.org/sbml/level3/version1/comp/version1";
/// The namespace of the attribute that carries an element's original
/// location through the flattened text.
pub(crate) const LOC_NS: &str = "urn:ligand:sbml-location";
/// How deep submodels may nest (a bound that also stops reference cycles).
const MAX_DEPTH: usize = 32;

const CSYMBOL_TIME: &str = "http://www.sbml.org/sbml/symbols/time";
const CSYMBOL_DELAY: &str = "http://www.sbml.org/sbml/symbols/delay";
const CSYMBOL_RATE_OF: &str = "http://www.sbml.org/sbml/symbols/rateOf";

/// Reads another document named by an `externalModelDefinition`'s `source`.
pub type ExternalReader<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// An owned XML element.
#[derive(Clone, Debug)]
pub(crate) struct El {
    ns: String,
    name: String,
    /// (namespace URI or "", local name, value)
    attrs: Vec<(String, String, String)>,
    children: Vec<Child>,
    loc: Option<Loc>,
    /// Identifies the element across copies and renamings (0: not yet keyed).
    key: usize,
}

#[derive(Clone, Debug)]
enum Child {
    El(El),
    Text(String),
}

impl El {
    fn new(ns: &str, name: &str) -> El {
        El {
            ns: ns.to_string(),
            name: name.to_string(),
            attrs: Vec::new(),
            children: Vec::new(),
            loc: None,
            key: 0,
        }
    }

    fn from_node(node: Node, located: bool, line_starts: &[usize]) -> El {
        let loc = located.then(|| {
            let offset = node.range().start;
            let line = line_starts.partition_point(|&s| s <= offset);
            let start = line_starts[line - 1];
            let text = node.document().input_text();
            let col = text
                .get(start..offset)
                .map_or(offset - start, |t| t.chars().count())
                + 1;
            Loc::new(line, col)
        });
        let mut el = El {
            ns: node.tag_name().namespace().unwrap_or("").to_string(),
            name: node.tag_name().name().to_string(),
            attrs: node
                .attributes()
                .map(|a| {
                    (
                        a.namespace().unwrap_or("").to_string(),
                        a.name().to_string(),
                        a.value().to_string(),
                    )
                })
                .collect(),
            children: Vec::new(),
            loc,
            key: 0,
        };
        for c in node.children() {
            if c.is_element() {
                el.children
                    .push(Child::El(El::from_node(c, located, line_starts)));
            } else if c.is_text() {
                el.children
                    .push(Child::Text(c.text().unwrap_or("").to_string()));
            }
        }
        el
    }

    fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns == ns
    }

    fn attr(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, a, _)| n == ns && a == name)
            .map(|(_, _, v)| v.trim())
    }

    /// A comp attribute, prefixed or (as some writers put it) not.
    fn comp_attr(&self, name: &str) -> Option<&str> {
        self.attr(COMP_NS, name).or_else(|| self.attr("", name))
    }

    fn set_attr(&mut self, ns: &str, name: &str, value: String) {
        match self.attrs.iter_mut().find(|(n, a, _)| n == ns && a == name) {
            Some(slot) => slot.2 = value,
            None => self.attrs.push((ns.to_string(), name.to_string(), value)),
        }
    }

    fn elements(&self) -> impl Iterator<Item = &El> {
        self.children.iter().filter_map(|c| match c {
            Child::El(e) => Some(e),
            Child::Text(_) => None,
        })
    }

    fn elements_mut(&mut self) -> impl Iterator<Item = &mut El> {
        self.children.iter_mut().filter_map(|c| match c {
            Child::El(e) => Some(e),
            Child::Text(_) => None,
        })
    }

    fn child(&self, ns: &str, name: &str) -> Option<&El> {
        self.elements().find(|e| e.is(ns, name))
    }

    fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|c| match c {
                Child::Text(t) => Some(t.as_str()),
                Child::El(_) => None,
            })
            .collect()
    }

    fn assign_keys(&mut self, next: &mut usize) {
        *next += 1;
        self.key = *next;
        for c in self.elements_mut() {
            c.assign_keys(next);
        }
    }

    fn find(&self, key: usize) -> Option<&El> {
        if self.key == key {
            return Some(self);
        }
        self.elements().find_map(|c| c.find(key))
    }

    /// Removes the element with this key; whether it was found.
    fn remove(&mut self, key: usize) -> bool {
        let before = self.children.len();
        self.children
            .retain(|c| !matches!(c, Child::El(e) if e.key == key));
        if self.children.len() != before {
            return true;
        }
        self.elements_mut().any(|c| c.remove(key))
    }

    fn sid(&self) -> Option<&str> {
        if self.ns == MATHML_NS || self.ns == COMP_NS {
            return None;
        }
        self.attr("", "id")
    }
}

// ---- building MathML

fn ci(name: &str) -> El {
    let mut e = El::new(MATHML_NS, "ci");
    e.children.push(Child::Text(name.to_string()));
    e
}

fn apply(op: &str, args: Vec<El>) -> El {
    let mut e = El::new(MATHML_NS, "apply");
    e.children.push(Child::El(El::new(MATHML_NS, op)));
    e.children.extend(args.into_iter().map(Child::El));
    e
}

/// The single expression of a `<math>` element, if it has one.
fn math_body(math: &mut El) -> Option<&mut El> {
    math.elements_mut().next()
}

/// Replaces the expression `x` of a `<math>` child of `el` by `f(x)`.
fn wrap_math(el: &mut El, f: &dyn Fn(El) -> El) {
    if let Some(math) = el.elements_mut().find(|c| c.is(MATHML_NS, "math")) {
        if let Some(body) = math_body(math) {
            let old = std::mem::replace(body, El::new(MATHML_NS, "none"));
            *body = f(old);
        }
    }
}

fn csymbol_url(e: &El) -> Option<&str> {
    (e.ns == MATHML_NS && e.name == "csymbol")
        .then(|| e.attr("", "definitionURL"))
        .flatten()
}

// ---- renaming

/// What an id becomes: a new id, and a conversion factor when a
/// `replacedElement` has one.
#[derive(Clone, Debug)]
struct Rename {
    to: String,
    factor: Option<String>,
}

/// Attributes (namespace, name) that hold the id of another element.
fn is_reference_attr(ns: &str, name: &str) -> bool {
    match ns {
        "" => matches!(
            name,
            "compartment" | "species" | "variable" | "symbol" | "conversionFactor" | "outside"
        ),
        ns if ns.contains("/fbc/") => {
            matches!(name, "reaction" | "lowerFluxBound" | "upperFluxBound")
        }
        _ => false,
    }
}

/// Applies `map` to every id and reference inside `el`; `shadowed` holds the
/// names of local parameters and function arguments in scope.
fn rename(el: &mut El, map: &HashMap<String, Rename>, shadowed: &HashSet<String>) {
    if el.ns == MATHML_NS {
        rename_math(el, map, shadowed);
        return;
    }
    let mut target_factor: Option<String> = None;
    for (ns, name, value) in el.attrs.iter_mut() {
        let is_id = ns.is_empty() && name == "id" && el.name != "localParameter";
        let local_l2 = is_id && el.name == "parameter" && shadowed.contains(value.trim());
        if (is_id && !local_l2) || is_reference_attr(ns, name) {
            if let Some(r) = map.get(value.trim()) {
                if matches!(name.as_str(), "variable" | "symbol") {
                    target_factor.clone_from(&r.factor);
                }
                *value = r.to.clone();
            }
        }
    }
    // The local parameters of a kinetic law shadow global ids in its math.
    let mut inner = shadowed.clone();
    if el.name == "kineticLaw" {
        for list in el.elements() {
            for p in list.elements() {
                if matches!(p.name.as_str(), "localParameter" | "parameter") {
                    if let Some(id) = p.attr("", "id") {
                        inner.insert(id.to_string());
                    }
                }
            }
        }
    }
    for c in el.elements_mut() {
        rename(c, map, &inner);
    }
    if let Some(cf) = target_factor {
        wrap_math(el, &|x| apply("times", vec![x, ci(&cf)]));
    }
}

fn rename_math(el: &mut El, map: &HashMap<String, Rename>, shadowed: &HashSet<String>) {
    if el.name == "ci" {
        let name = el.text().trim().to_string();
        if shadowed.contains(&name) {
            return;
        }
        if let Some(r) = map.get(&name) {
            el.children = vec![Child::Text(r.to.clone())];
            if let Some(cf) = &r.factor {
                *el = apply("divide", vec![ci(&r.to), ci(cf)]);
            }
        }
        return;
    }
    let mut inner = shadowed.clone();
    if el.name == "lambda" {
        for b in el.elements().filter(|c| c.name == "bvar") {
            if let Some(c) = b.child(MATHML_NS, "ci") {
                inner.insert(c.text().trim().to_string());
            }
        }
    }
    for c in el.elements_mut() {
        rename_math(c, map, &inner);
    }
}

/// Every id that `el` defines for the model's scope (not local parameters).
fn defined_ids(el: &El, out: &mut Vec<String>) {
    if el.ns == MATHML_NS || el.name == "localParameter" || el.name == "kineticLaw" {
        return;
    }
    if let Some(id) = el.sid() {
        out.push(id.to_string());
    }
    for c in el.elements() {
        defined_ids(c, out);
    }
}

// ---- conversion factors of a submodel

/// Rewrites a submodel's math for its time and extent conversion factors.
fn convert(model: &mut El, time: Option<&str>, extent: Option<&str>) {
    if let Some(t) = time {
        convert_time_math(model, t);
    }
    convert_element(model, time, extent);
}

/// A reaction's id in math means its rate, which the kinetic law's
/// conversion changes: the submodel's references to its own reactions read
/// `J / (g / t)`. This runs after replacements, so a reaction replaced by
/// the parent's is referred to as the replacement says.
fn convert_rate_references_for(model: &mut El, time: Option<&str>, extent: Option<&str>) {
    let factor = match (extent, time) {
        (Some(g), Some(t)) => Some(apply("divide", vec![ci(g), ci(t)])),
        (Some(g), None) => Some(ci(g)),
        (None, Some(t)) => Some(apply("divide", vec![cn_one(), ci(t)])),
        (None, None) => None,
    };
    if let Some(factor) = factor {
        let mut reactions = HashSet::new();
        for list in model.elements().filter(|l| l.name == "listOfReactions") {
            for r in list.elements() {
                if let Some(id) = r.sid() {
                    reactions.insert(id.to_string());
                }
            }
        }
        if !reactions.is_empty() {
            convert_rate_references(model, &reactions, &factor, &HashSet::new());
        }
    }
}

fn cn_one() -> El {
    let mut e = El::new(MATHML_NS, "cn");
    e.attrs
        .push((String::new(), "type".to_string(), "integer".to_string()));
    e.children.push(Child::Text("1".to_string()));
    e
}

/// `J` becomes `J / factor` for the reactions `J` (outside the scopes that
/// shadow them).
fn convert_rate_references(
    el: &mut El,
    reactions: &HashSet<String>,
    factor: &El,
    shadowed: &HashSet<String>,
) {
    let mut inner = shadowed.clone();
    if el.name == "kineticLaw" || el.name == "lambda" {
        for list in el.elements() {
            for p in list.elements() {
                if matches!(p.name.as_str(), "localParameter" | "parameter" | "ci") {
                    let name = p.attr("", "id").map_or_else(|| p.text(), str::to_string);
                    inner.insert(name.trim().to_string());
                }
            }
        }
    }
    for c in el.children.iter_mut() {
        let Child::El(e) = c else { continue };
        if e.ns == MATHML_NS && e.name == "ci" {
            let name = e.text().trim().to_string();
            if reactions.contains(&name) && !inner.contains(&name) {
                let r = std::mem::replace(e, El::new(MATHML_NS, "none"));
                *e = apply("divide", vec![r, factor.clone()]);
            }
            continue;
        }
        convert_rate_references(e, reactions, factor, &inner);
    }
}

/// `time` becomes `time / t`, `delay(x, d)` becomes `delay(x, t * d)`,
/// `rateOf(x)` becomes `t * rateOf(x)`.
fn convert_time_math(el: &mut El, t: &str) {
    for c in el.children.iter_mut() {
        let Child::El(e) = c else { continue };
        if e.ns == MATHML_NS && csymbol_url(e) == Some(CSYMBOL_TIME) {
            let time = std::mem::replace(e, El::new(MATHML_NS, "none"));
            *e = apply("divide", vec![time, ci(t)]);
            continue;
        }
        if e.ns == MATHML_NS && e.name == "apply" {
            let head = e
                .elements()
                .next()
                .and_then(csymbol_url)
                .map(str::to_string);
            match head.as_deref() {
                Some(CSYMBOL_DELAY) => {
                    convert_time_math(e, t);
                    // The delay (the third child) is in the submodel's time.
                    let mut n = 0;
                    for k in e.elements_mut() {
                        n += 1;
                        if n == 3 {
                            let d = std::mem::replace(k, El::new(MATHML_NS, "none"));
                            *k = apply("times", vec![ci(t), d]);
                        }
                    }
                    continue;
                }
                Some(CSYMBOL_RATE_OF) => {
                    convert_time_math(e, t);
                    let r = std::mem::replace(e, El::new(MATHML_NS, "none"));
                    *e = apply("times", vec![ci(t), r]);
                    continue;
                }
                _ => {}
            }
        }
        convert_time_math(e, t);
    }
}

fn convert_element(el: &mut El, time: Option<&str>, extent: Option<&str>) {
    if el.ns == MATHML_NS {
        return;
    }
    match el.name.as_str() {
        "rateRule" => {
            if let Some(t) = time {
                wrap_math(el, &|x| apply("divide", vec![x, ci(t)]));
            }
        }
        "kineticLaw" => {
            if let Some(g) = extent {
                wrap_math(el, &|x| apply("times", vec![x, ci(g)]));
            }
            if let Some(t) = time {
                wrap_math(el, &|x| apply("divide", vec![x, ci(t)]));
            }
        }
        "delay" => {
            if let Some(t) = time {
                wrap_math(el, &|x| apply("times", vec![ci(t), x]));
            }
        }
        _ => {}
    }
    for c in el.elements_mut() {
        convert_element(c, time, extent);
    }
}

// ---- flattening

/// Where references into an instance lead: its original ids, metaids and
/// ports, and the tables of its own submodels.
#[derive(Debug, Default)]
struct Table {
    ids: HashMap<String, usize>,
    metaids: HashMap<String, usize>,
    ports: HashMap<String, usize>,
    submodels: HashMap<String, Table>,
    /// The keys of the submodel elements, so that references to a whole
    /// submodel are recognised (and refused).
    submodel_keys: HashMap<String, usize>,
}

/// What a reference leads to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Element(usize),
    /// A unit definition: units carry no meaning for ligand.
    Unit,
}

/// A flattened model: a `<model>` element without submodels, and its table.
struct Instance {
    model: El,
    table: Table,
}

/// A loaded document: its root element.
struct Doc {
    root: El,
    /// Where it came from (for messages): `None` for the main document.
    source: Option<String>,
}

struct Flattener<'a> {
    read_external: ExternalReader<'a>,
    docs: Vec<Doc>,
    loaded: HashMap<String, usize>,
    next_key: usize,
    /// Elements replaced (to their replacement) or deleted (to `None`).
    redirect: HashMap<usize, Option<usize>>,
}

fn error(el: &El, kind: K, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(kind, message).at(el.loc)
}

/// Whether a document uses the comp package (declares its namespace).
pub(crate) fn uses_comp(doc: &Document) -> bool {
    doc.root_element().namespaces().any(|n| {
        n.uri()
            .starts_with("http://www.sbml.org/sbml/level3/version1/comp/")
    })
}

/// Flattens a document that uses comp into the text of a core document.
pub(crate) fn flatten(doc: &Document, read_external: ExternalReader) -> Result<String, Diagnostic> {
    let text = doc.input_text();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let root = El::from_node(doc.root_element(), true, &line_starts);
    check_comp_version(&root)?;
    let prefixes: Vec<(String, String)> = doc
        .root_element()
        .namespaces()
        .map(|n| (n.name().unwrap_or("").to_string(), n.uri().to_string()))
        .collect();
    let mut f = Flattener {
        read_external,
        docs: vec![Doc { root, source: None }],
        loaded: HashMap::new(),
        next_key: 0,
        redirect: HashMap::new(),
    };
    let root = &f.docs[0].root;
    let Some(model) = root
        .elements()
        .find(|e| e.name == "model" && e.ns == root.ns)
    else {
        // The core reader reports a missing model.
        return Ok(write_document(root, None, &prefixes));
    };
    let model = model.clone();
    let inst = f.instantiate(model, 0, 0)?;
    Ok(write_document(&f.docs[0].root, Some(inst.model), &prefixes))
}

fn check_comp_version(root: &El) -> Result<(), Diagnostic> {
    for (ns, name, _) in &root.attrs {
        if name == "required"
            && ns.starts_with("http://www.sbml.org/sbml/level3/version1/comp/")
            && ns != COMP_NS
        {
            return Err(error(
                root,
                K::Unsupported,
                format!("the comp package namespace `{ns}` is not supported (ligand reads comp version 1)"),
            ));
        }
    }
    Ok(())
}

impl Flattener<'_> {
    /// Finds the model definition `id` in document `doc`: a model
    /// definition, an external model definition, or the document's model.
    fn model_definition(
        &mut self,
        doc: usize,
        id: &str,
        at: &El,
        depth: usize,
    ) -> Result<(El, usize), Diagnostic> {
        if depth > MAX_DEPTH {
            return Err(error(
                at,
                K::Unsupported,
                format!(
                    "model definitions nest more than {MAX_DEPTH} levels deep (a cycle?) at `{id}`"
                ),
            ));
        }
        let root = &self.docs[doc].root;
        let mut external = None;
        for list in root.elements().filter(|e| e.ns == COMP_NS) {
            match list.name.as_str() {
                "listOfModelDefinitions" => {
                    if let Some(m) = list.elements().find(|m| {
                        m.name == "modelDefinition"
                            && (m.attr("", "id").or_else(|| m.comp_attr("id")) == Some(id))
                    }) {
                        return Ok((m.clone(), doc));
                    }
                }
                "listOfExternalModelDefinitions" => {
                    external = external.or_else(|| {
                        list.elements()
                            .find(|m| {
                                m.name == "externalModelDefinition" && m.comp_attr("id") == Some(id)
                            })
                            .cloned()
                    });
                }
                _ => {}
            }
        }
        if let Some(x) = external {
            return self.external(&x, depth);
        }
        let root = &self.docs[doc].root;
        if let Some(m) = root
            .elements()
            .find(|e| e.name == "model" && e.attr("", "id") == Some(id))
        {
            return Ok((m.clone(), doc));
        }
        let place = match &self.docs[doc].source {
            Some(s) => format!(" in `{s}`"),
            None => String::new(),
        };
        Err(error(
            at,
            K::UndefinedSymbol,
            format!("no model definition `{id}`{place}"),
        ))
    }

    /// The model an `externalModelDefinition` names, from its source.
    fn external(&mut self, x: &El, depth: usize) -> Result<(El, usize), Diagnostic> {
        let Some(source) = x.comp_attr("source").map(str::to_string) else {
            return Err(error(
                x,
                K::Syntax,
                "an externalModelDefinition without a source",
            ));
        };
        let doc = match self.loaded.get(&source) {
            Some(&d) => d,
            None => {
                let text = (self.read_external)(&source).map_err(|e| {
                    error(
                        x,
                        K::Unsupported,
                        format!("cannot read the external model definition `{source}`: {e}"),
                    )
                })?;
                let options = roxmltree::ParsingOptions {
                    allow_dtd: false,
                    nodes_limit: super::MAX_NODES,
                    ..roxmltree::ParsingOptions::default()
                };
                let parsed = Document::parse_with_options(&text, options).map_err(|e| {
                    error(
                        x,
                        K::Syntax,
                        format!("the external model definition `{source}` is not XML: {e}"),
                    )
                })?;
                let root = El::from_node(parsed.root_element(), false, &[0]);
                check_comp_version(&root)?;
                self.docs.push(Doc {
                    root,
                    source: Some(source.clone()),
                });
                self.loaded.insert(source.clone(), self.docs.len() - 1);
                self.docs.len() - 1
            }
        };
        match x.comp_attr("modelRef") {
            Some(r) => {
                let r = r.to_string();
                self.model_definition(doc, &r, x, depth + 1)
            }
            None => {
                let root = &self.docs[doc].root;
                match root.elements().find(|e| e.name == "model") {
                    Some(m) => Ok((m.clone(), doc)),
                    None => Err(error(
                        x,
                        K::Syntax,
                        format!("the external document `{source}` has no model"),
                    )),
                }
            }
        }
    }

    fn follow(&self, mut key: usize, at: &El) -> Result<usize, Diagnostic> {
        let mut steps = 0;
        while let Some(next) = self.redirect.get(&key) {
            match next {
                Some(k) => key = *k,
                None => {
                    return Err(error(
                        at,
                        K::InvalidReference,
                        "the element this refers to was deleted",
                    ))
                }
            }
            steps += 1;
            if steps > 10_000 {
                break;
            }
        }
        Ok(key)
    }

    /// Resolves an SBaseRef (a `replacedElement`, `replacedBy`, `deletion`,
    /// `port` or `sBaseRef`) within `table`.
    fn resolve(&self, r: &El, table: &Table) -> Result<Target, Diagnostic> {
        let nested = r.child(COMP_NS, "sBaseRef");
        let refs = [
            ("portRef", r.comp_attr("portRef")),
            ("idRef", r.comp_attr("idRef")),
            ("unitRef", r.comp_attr("unitRef")),
            ("metaIdRef", r.comp_attr("metaIdRef")),
        ];
        let given: Vec<(&str, &str)> = refs
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, v)))
            .collect();
        let [(kind, value)] = given.as_slice() else {
            return Err(error(
                r,
                K::Syntax,
                format!(
                    "a <comp:{}> needs exactly one of portRef, idRef, unitRef and metaIdRef",
                    r.name
                ),
            ));
        };
        let missing = |what: &str| {
            error(
                r,
                K::UndefinedSymbol,
                format!(
                    "<comp:{}> refers to the {what} `{value}`, which the submodel does not have",
                    r.name
                ),
            )
        };
        if let Some(n) = nested {
            // A chain: the reference names a submodel, the child reference
            // an element inside it.
            let sub = match *kind {
                "idRef" => table.submodels.get(*value),
                _ => None,
            };
            let Some(sub) = sub else {
                return Err(error(
                    r,
                    K::Unsupported,
                    format!("<comp:{}> with a nested sBaseRef must name a submodel by idRef; `{value}` is not one", r.name),
                ));
            };
            return self.resolve(n, sub);
        }
        let key = match *kind {
            "portRef" => *table.ports.get(*value).ok_or_else(|| missing("port"))?,
            "idRef" => {
                if table.submodel_keys.contains_key(*value) {
                    return Err(error(
                        r,
                        K::Unsupported,
                        format!(
                            "deleting or replacing the whole submodel `{value}` is not supported"
                        ),
                    ));
                }
                *table.ids.get(*value).ok_or_else(|| missing("id"))?
            }
            "metaIdRef" => *table.metaids.get(*value).ok_or_else(|| missing("metaid"))?,
            _ => return Ok(Target::Unit),
        };
        Ok(Target::Element(self.follow(key, r)?))
    }

    /// Instantiates submodel `s` of a model of document `doc`: its model
    /// flattened, its deletions applied, its ids prefixed, its time and
    /// extent converted. Returns its id and instance.
    fn submodel(
        &mut self,
        s: &El,
        doc: usize,
        depth: usize,
    ) -> Result<(String, Instance), Diagnostic> {
        let Some(sid) = s.comp_attr("id").map(str::to_string) else {
            return Err(error(s, K::Syntax, "a <comp:submodel> without an id"));
        };
        let Some(model_ref) = s.comp_attr("modelRef").map(str::to_string) else {
            return Err(error(
                s,
                K::Syntax,
                format!("submodel `{sid}` has no modelRef"),
            ));
        };
        for (_, name, _) in s.attrs.iter().filter(|(ns, _, _)| ns == COMP_NS) {
            if !matches!(
                name.as_str(),
                "id" | "modelRef" | "timeConversionFactor" | "extentConversionFactor" | "name"
            ) {
                return Err(error(
                    s,
                    K::Unsupported,
                    format!("the submodel attribute comp:{name} is not supported"),
                ));
            }
        }
        let (def, def_doc) = self.model_definition(doc, &model_ref, s, depth)?;
        let mut child = self.instantiate(def, def_doc, depth + 1)?;
        for d in s
            .elements()
            .filter(|e| e.is(COMP_NS, "listOfDeletions"))
            .flat_map(|l| l.elements())
        {
            match self.resolve(d, &child.table)? {
                Target::Element(k) => {
                    child.model.remove(k);
                    self.redirect.insert(k, None);
                }
                Target::Unit => {}
            }
        }
        let mut ids = Vec::new();
        defined_ids(&child.model, &mut ids);
        let prefix: HashMap<String, Rename> = ids
            .into_iter()
            .map(|id| {
                let to = format!("{sid}__{id}");
                (id, Rename { to, factor: None })
            })
            .collect();
        rename(&mut child.model, &prefix, &HashSet::new());
        convert(
            &mut child.model,
            s.comp_attr("timeConversionFactor"),
            s.comp_attr("extentConversionFactor"),
        );
        Ok((sid, child))
    }

    /// Resolves the ports of `model` now that its submodels' tables are
    /// known. A port that leads nowhere is reported when something uses it.
    fn resolve_ports(&self, model: &El, table: &mut Table) {
        let ports: Vec<&El> = model
            .elements()
            .filter(|e| e.is(COMP_NS, "listOfPorts"))
            .flat_map(|l| l.elements())
            .filter(|p| p.name == "port")
            .collect();
        for p in ports {
            if let (Some(id), Ok(Target::Element(k))) = (p.comp_attr("id"), self.resolve(p, table))
            {
                table.ports.insert(id.to_string(), k);
            }
        }
    }

    /// Flattens `model` (a model or model definition of document `doc`).
    fn instantiate(
        &mut self,
        mut model: El,
        doc: usize,
        depth: usize,
    ) -> Result<Instance, Diagnostic> {
        if depth > MAX_DEPTH {
            return Err(error(
                &model,
                K::Unsupported,
                format!("submodels nest more than {MAX_DEPTH} levels deep (a cycle?)"),
            ));
        }
        model.assign_keys(&mut self.next_key);
        // Definitions read as a model: `<comp:modelDefinition>` has the core
        // model's content.
        model.ns = self.docs[0].root.ns.clone();
        model.name = "model".to_string();
        let mut table = Table::default();
        collect_table(&model, &mut table);

        // Submodels, flattened and prefixed.
        let submodels: Vec<El> = model
            .elements()
            .filter(|e| e.is(COMP_NS, "listOfSubmodels"))
            .flat_map(|l| l.elements().cloned().collect::<Vec<_>>())
            .collect();
        let mut children: Vec<(String, El)> = Vec::new();
        let mut factors: Vec<(Option<String>, Option<String>)> = Vec::new();
        for s in submodels.iter().filter(|s| s.name == "submodel") {
            let (sid, child) = self.submodel(s, doc, depth)?;
            table.submodel_keys.insert(sid.clone(), s.key);
            table.submodels.insert(sid.clone(), child.table);
            factors.push((
                s.comp_attr("timeConversionFactor").map(str::to_string),
                s.comp_attr("extentConversionFactor").map(str::to_string),
            ));
            children.push((sid, child.model));
        }

        self.resolve_ports(&model, &mut table);

        // Replacements made by this model's own elements.
        let mut renames: HashMap<String, HashMap<String, Rename>> = HashMap::new();
        let mut replaced_by: Vec<(usize, String, usize)> = Vec::new(); // (own key, own id, target)
        let mut own_removed: Vec<usize> = Vec::new();
        self.replacements(
            &model,
            &table,
            &mut children,
            &mut renames,
            &mut replaced_by,
        )?;
        for (own_key, own_id, target) in replaced_by {
            own_removed.push(own_key);
            self.redirect.insert(own_key, Some(target));
            for (sid, child) in children.iter_mut() {
                if let Some(t) = child.find(target) {
                    if let Some(tid) = t.sid() {
                        renames.entry(sid.clone()).or_default().insert(
                            tid.to_string(),
                            Rename {
                                to: own_id.clone(),
                                factor: None,
                            },
                        );
                    }
                }
            }
        }
        for k in own_removed {
            model.remove(k);
        }
        for ((sid, child), (time, extent)) in children.iter_mut().zip(&factors) {
            if let Some(map) = renames.get(sid) {
                rename(child, map, &HashSet::new());
            }
            convert_rate_references_for(child, time.as_deref(), extent.as_deref());
        }

        // Merge.
        strip_comp(&mut model)?;
        for (_, child) in children {
            merge(&mut model, child);
        }
        Ok(Instance { model, table })
    }

    /// Handles the `replacedElement`s and `replacedBy`s under `el` (an
    /// element of the model being flattened, not of a submodel).
    fn replacements(
        &mut self,
        el: &El,
        table: &Table,
        children: &mut [(String, El)],
        renames: &mut HashMap<String, HashMap<String, Rename>>,
        replaced_by: &mut Vec<(usize, String, usize)>,
    ) -> Result<(), Diagnostic> {
        if el.ns == MATHML_NS {
            return Ok(());
        }
        for c in el.elements() {
            if c.is(COMP_NS, "listOfReplacedElements") {
                for re in c.elements().filter(|r| r.name == "replacedElement") {
                    if re.comp_attr("deletion").is_some() {
                        // It documents that this element stands for one a
                        // deletion removed: nothing is left to replace.
                        continue;
                    }
                    let (sid, sub) = self.submodel_of(re, table)?;
                    let Target::Element(k) = self.resolve(re, sub)? else {
                        continue;
                    };
                    let child = children
                        .iter_mut()
                        .find(|(s, _)| *s == sid)
                        .map(|(_, m)| m)
                        .ok_or_else(|| {
                            error(
                                re,
                                K::InvalidReference,
                                format!("the replaced element names submodel `{sid}`, which was not instantiated"),
                            )
                        })?;
                    let Some(t) = child.find(k) else {
                        continue; // already replaced by another element of this model
                    };
                    if let (Some(tid), Some(own)) = (t.sid(), el.sid()) {
                        renames.entry(sid.clone()).or_default().insert(
                            tid.to_string(),
                            Rename {
                                to: own.to_string(),
                                factor: re.comp_attr("conversionFactor").map(str::to_string),
                            },
                        );
                    } else if re.comp_attr("conversionFactor").is_some() {
                        return Err(error(
                            re,
                            K::Unsupported,
                            "a conversion factor on the replacement of an element without an id is not supported",
                        ));
                    }
                    child.remove(k);
                    self.redirect.insert(k, Some(el.key));
                }
            } else if c.is(COMP_NS, "replacedBy") {
                let (_, sub) = self.submodel_of(c, table)?;
                let Target::Element(k) = self.resolve(c, sub)? else {
                    continue;
                };
                let Some(own) = el.sid() else {
                    return Err(error(
                        c,
                        K::Unsupported,
                        "replacedBy on an element without an id is not supported",
                    ));
                };
                replaced_by.push((el.key, own.to_string(), k));
            } else if c.ns != COMP_NS {
                self.replacements(c, table, children, renames, replaced_by)?;
            }
        }
        Ok(())
    }

    fn submodel_of<'t>(&self, r: &El, table: &'t Table) -> Result<(String, &'t Table), Diagnostic> {
        let Some(sid) = r.comp_attr("submodelRef") else {
            return Err(error(
                r,
                K::Syntax,
                format!("<comp:{}> without a submodelRef", r.name),
            ));
        };
        match table.submodels.get(sid) {
            Some(t) => Ok((sid.to_string(), t)),
            None => Err(error(
                r,
                K::UndefinedSymbol,
                format!(
                    "<comp:{}> names the submodel `{sid}`, which this model does not have",
                    r.name
                ),
            )),
        }
    }
}

/// Records the ids and metaids of `model`'s elements (not its submodels').
fn collect_table(model: &El, table: &mut Table) {
    fn walk(el: &El, table: &mut Table) {
        if el.ns == MATHML_NS || el.ns == COMP_NS {
            return;
        }
        if let Some(id) = el.sid() {
            if el.name != "localParameter" {
                table.ids.insert(id.to_string(), el.key);
            }
        }
        if let Some(m) = el.attr("", "metaid") {
            table.metaids.insert(m.to_string(), el.key);
        }
        for c in el.elements() {
            walk(c, table);
        }
    }
    for c in model.elements() {
        walk(c, table);
    }
}

/// Removes the comp elements that flattening has dealt with; any other
/// comp element is an error naming it.
fn strip_comp(el: &mut El) -> Result<(), Diagnostic> {
    if el.ns == MATHML_NS {
        return Ok(());
    }
    let mut err = None;
    el.children.retain(|c| match c {
        Child::El(e) if e.ns == COMP_NS => {
            let known = matches!(
                e.name.as_str(),
                "listOfSubmodels" | "listOfPorts" | "listOfReplacedElements" | "replacedBy"
            );
            if !known && err.is_none() {
                err = Some(error(
                    e,
                    K::Unsupported,
                    format!("the comp element <comp:{}> is not supported here", e.name),
                ));
            }
            false
        }
        _ => true,
    });
    if let Some(e) = err {
        return Err(e);
    }
    for c in el.elements_mut() {
        strip_comp(c)?;
    }
    Ok(())
}

/// Adds a flattened submodel's elements to the parent model's lists.
fn merge(model: &mut El, mut child: El) {
    // A submodel's model-wide conversion factor applies to its species.
    if let Some(cf) = child.attr("", "conversionFactor").map(str::to_string) {
        for list in child.elements_mut().filter(|l| l.name == "listOfSpecies") {
            for s in list.elements_mut() {
                if s.attr("", "conversionFactor").is_none() {
                    s.set_attr("", "conversionFactor", cf.clone());
                }
            }
        }
    }
    for c in std::mem::take(&mut child.children) {
        let Child::El(list) = c else { continue };
        if !list.name.starts_with("listOf") {
            continue;
        }
        let at = model
            .children
            .iter()
            .position(|l| matches!(l, Child::El(l) if l.name == list.name && l.ns == list.ns));
        match at {
            Some(i) => {
                if let Child::El(mine) = &mut model.children[i] {
                    mine.children.extend(list.children);
                }
            }
            None => model.children.push(Child::El(list)),
        }
    }
}

// ---- writing the flattened document

fn escape(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

struct Writer {
    out: String,
    /// Attribute namespaces: URI -> prefix.
    prefixes: HashMap<String, String>,
}

impl Writer {
    fn element(&mut self, el: &El, default_ns: &str) {
        self.out.push('<');
        self.out.push_str(&el.name);
        if el.ns != default_ns {
            self.out.push_str(" xmlns=\"");
            escape(&el.ns, &mut self.out);
            self.out.push('"');
        }
        for (ns, name, value) in &el.attrs {
            if ns == COMP_NS || ns == LOC_NS {
                continue;
            }
            self.out.push(' ');
            if !ns.is_empty() {
                let p = self.prefixes.get(ns).cloned().unwrap_or_default();
                self.out.push_str(&p);
                self.out.push(':');
            }
            self.out.push_str(name);
            self.out.push_str("=\"");
            escape(value, &mut self.out);
            self.out.push('"');
        }
        if let Some(loc) = el.loc {
            let _ = write!(self.out, " lgl:at=\"{}:{}\"", loc.line, loc.column);
        }
        if el.children.is_empty() {
            self.out.push_str("/>");
            return;
        }
        self.out.push('>');
        for c in &el.children {
            match c {
                Child::El(e) => self.element(e, &el.ns),
                Child::Text(t) => escape(t, &mut self.out),
            }
        }
        self.out.push_str("</");
        self.out.push_str(&el.name);
        self.out.push('>');
    }
}

fn attr_namespaces(el: &El, out: &mut Vec<String>) {
    for (ns, _, _) in &el.attrs {
        if !ns.is_empty() && ns != COMP_NS && ns != LOC_NS && !out.contains(ns) {
            out.push(ns.clone());
        }
    }
    for c in el.elements() {
        attr_namespaces(c, out);
    }
}

/// The flattened document: `root` with `model` in place of its model and
/// without model definitions.
fn write_document(root: &El, model: Option<El>, prefixes: &[(String, String)]) -> String {
    let mut root = root.clone();
    root.children
        .retain(|c| !matches!(c, Child::El(e) if e.ns == COMP_NS));
    if let Some(m) = model {
        for c in root.children.iter_mut() {
            if let Child::El(e) = c {
                if e.name == "model" {
                    *e = m;
                    break;
                }
            }
        }
    }
    let mut namespaces = Vec::new();
    attr_namespaces(&root, &mut namespaces);
    let mut w = Writer {
        out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        prefixes: HashMap::new(),
    };
    let mut decls = String::new();
    for (i, ns) in namespaces.iter().enumerate() {
        let p = prefixes
            .iter()
            .find(|(p, u)| u == ns && !p.is_empty() && p != "lgl")
            .map(|(p, _)| p.clone())
            .unwrap_or_else(|| format!("ns{i}"));
        let _ = write!(decls, " xmlns:{p}=\"");
        escape(ns, &mut decls);
        decls.push('"');
        w.prefixes.insert(ns.clone(), p);
    }
    let _ = write!(decls, " xmlns:lgl=\"{LOC_NS}\"");
    // The root's namespace declarations go right after its name.
    let mut body = Writer {
        out: String::new(),
        prefixes: w.prefixes.clone(),
    };
    body.element(&root, "");
    let name_end = 1 + root.name.len();
    let mut text = w.out;
    text.push_str(&body.out[..name_end]);
    text.push_str(&decls);
    text.push_str(&body.out[name_end..]);
    text
}

#[cfg(test)]
#[path = "comp_tests.rs"]
mod tests;
