//! The IR built in code: validation and the helpers a simulator needs.

use super::*;
use ligand_expr::{parse, Expr};
use ligand_model::{
    AssignmentRule, Compartment, Event, EventAssignment, FunctionDefinition, InitStep,
    InitialAssignment, MathSite, Parameter, RateRule, Reaction, Species, SpeciesRef, Symbol,
};

fn e(s: &str) -> Expr {
    parse(s).unwrap()
}

/// A small valid model: L + R <-> LR in a well, with a rule, an event and a function.
fn binding() -> Model {
    let mut m = Model::new("binding");
    m.compartments.push(Compartment::new("well", Some(2e-4)));
    for (id, v) in [("L", 1e-9), ("R", 1e-10), ("LR", 0.0)] {
        let mut s = Species::new(id, "well");
        s.initial = Some(ligand_model::InitialQuantity::Concentration(v));
        m.species.push(s);
    }
    for (id, v) in [("kon", 1e6), ("koff", 1e-3)] {
        m.parameters.push(Parameter::new(id, Some(v)));
    }
    let mut occ = Parameter::new("occupancy", None);
    occ.constant = false;
    m.parameters.push(occ);
    m.function_definitions.push(FunctionDefinition::new(
        "massaction",
        vec!["k".into(), "a".into(), "b".into()],
        e("k * a * b"),
    ));
    m.reactions.push(Reaction::new(
        "bind",
        vec![SpeciesRef::new("L", 1.0), SpeciesRef::new("R", 1.0)],
        vec![SpeciesRef::new("LR", 1.0)],
        Some(Expr::Apply(
            "massaction".into(),
            vec![e("kon"), e("L"), e("R")],
        )),
    ));
    m.reactions.push(Reaction::new(
        "unbind",
        vec![SpeciesRef::new("LR", 1.0)],
        vec![SpeciesRef::new("L", 1.0), SpeciesRef::new("R", 1.0)],
        Some(e("koff * LR")),
    ));
    m.assignment_rules
        .push(AssignmentRule::new("occupancy", e("LR / (R + LR)")));
    let mut ev = Event::new("washout", e("time > 600"));
    ev.assignments.push(EventAssignment::new("L", e("0")));
    m.events.push(ev);
    m
}

#[test]
fn a_model_built_in_code_validates_clean() {
    let m = binding();
    assert!(m.validate().is_empty(), "{:#?}", m.validate());
    assert_round_trip(&m);
}

#[test]
fn serde_round_trip() {
    let m = binding();
    let json = serde_json::to_string(&m).unwrap();
    let back: Model = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
    // Locations survive too.
    let (parsed, _) = parse_ok(&data("robertson.ant"));
    let json = serde_json::to_string(&parsed).unwrap();
    assert!(json.contains("\"loc\":{\"line\":"));
    assert_eq!(serde_json::from_str::<Model>(&json).unwrap(), parsed);
}

#[test]
fn symbol_lookup() {
    let m = binding();
    assert_eq!(m.symbol("well"), Some(Symbol::Compartment(0)));
    assert_eq!(m.symbol("LR"), Some(Symbol::Species(2)));
    assert_eq!(m.symbol("occupancy"), Some(Symbol::Parameter(2)));
    assert_eq!(m.symbol("unbind"), Some(Symbol::Reaction(1)));
    assert_eq!(m.symbol("massaction"), Some(Symbol::Function(0)));
    assert_eq!(m.symbol("washout"), Some(Symbol::Event(0)));
    assert_eq!(m.symbol("time"), Some(Symbol::Time));
    assert_eq!(m.symbol("nothing"), None);
    assert_eq!(Symbol::Species(0).kind_name(), "species");
    let table = m.symbol_table();
    assert_eq!(table["kon"], Symbol::Parameter(0));
    assert_eq!(m.ids().len(), 11);
}

#[test]
fn every_expression_with_its_site() {
    let m = binding();
    let sites: Vec<String> = m.math().iter().map(|mr| mr.site.to_string()).collect();
    assert_eq!(
        sites,
        [
            "the rate law of reaction `bind`",
            "the rate law of reaction `unbind`",
            "the assignment rule for `occupancy`",
            "the trigger of event `washout`",
            "the assignment to `L` in event `washout`",
            "the body of function `massaction`",
        ]
    );
    assert!(matches!(m.math()[0].site, MathSite::RateLaw { ref reaction } if reaction == "bind"));
}

#[test]
fn inlined_view_expands_user_functions() {
    let m = binding();
    let inlined = m.inlined().unwrap();
    assert_eq!(
        inlined.reactions[0].rate_law.as_ref().unwrap().to_string(),
        "kon * L * R"
    );
    assert!(inlined
        .math()
        .iter()
        .all(|mr| mr.expr.applied_functions().is_empty()));
    // An undefined function cannot be expanded.
    let mut bad = m.clone();
    bad.reactions[1].rate_law = Some(Expr::Apply("nope".into(), vec![]));
    let err = bad.inlined().unwrap_err();
    assert_eq!(err.function, "nope");
    assert_eq!(err.site.to_string(), "the rate law of reaction `unbind`");
}

#[test]
fn stoichiometry_matrix() {
    let m = binding();
    let s = m.stoichiometry_matrix();
    assert_eq!(s.species, ["L", "R", "LR"]);
    assert_eq!(s.reactions, ["bind", "unbind"]);
    assert_eq!(s.values, [-1.0, 1.0, -1.0, 1.0, 1.0, -1.0]);
    assert_eq!(s.row(2), [1.0, -1.0]);
    // References to missing species are skipped.
    let mut bad = m.clone();
    bad.reactions[0]
        .products
        .push(SpeciesRef::new("ghost", 1.0));
    assert_eq!(bad.stoichiometry_matrix().values, s.values);
}

#[test]
fn sorted_assignment_rules_follow_dependencies() {
    let mut m = Model::new("rules");
    for id in ["a", "b", "c", "d"] {
        let mut p = Parameter::new(id, None);
        p.constant = false;
        m.parameters.push(p);
    }
    m.assignment_rules
        .push(AssignmentRule::new("a", e("b + c")));
    m.assignment_rules
        .push(AssignmentRule::new("b", e("c * 2")));
    m.assignment_rules.push(AssignmentRule::new("c", e("time")));
    m.assignment_rules.push(AssignmentRule::new("d", e("1")));
    let order: Vec<&str> = m
        .sorted_assignment_rules()
        .unwrap()
        .iter()
        .map(|r| r.variable.as_str())
        .collect();
    assert_eq!(order, ["c", "b", "a", "d"]);
    m.assignment_rules[2].math = e("a");
    let err = m.sorted_assignment_rules().unwrap_err();
    assert_eq!(err.cycle, ["a", "b", "c", "a"]);
    assert_eq!(err.to_string(), "cyclic dependency: a -> b -> c -> a");
}

#[test]
fn initialization_order_mixes_initial_assignments_and_rules() {
    let mut m = Model::new("init");
    for id in ["x", "y", "z"] {
        m.parameters.push(Parameter::new(id, None));
    }
    m.parameters[2].constant = false;
    m.initial_assignments
        .push(InitialAssignment::new("x", e("z + 1")));
    m.initial_assignments
        .push(InitialAssignment::new("y", e("2 * x")));
    m.assignment_rules.push(AssignmentRule::new("z", e("3")));
    assert_eq!(
        m.initialization_order().unwrap(),
        [
            InitStep::AssignmentRule(0),
            InitStep::InitialAssignment(0),
            InitStep::InitialAssignment(1)
        ]
    );
}

#[test]
fn validation_of_code_built_models() {
    let mut m = binding();
    m.species.push(Species::new("lost", "cytosl"));
    m.parameters.push(Parameter::new("kon", Some(1.0)));
    m.reactions[1].reactants.push(SpeciesRef::new("koff", 1.0));
    m.reactions[1].products[0].stoichiometry = f64::NAN;
    m.compartments[0].size = Some(-1.0);
    m.rate_rules.push(RateRule::new("kon", e("1")));
    m.assignment_rules.push(AssignmentRule::new("Lx", e("1")));
    m.function_definitions
        .push(FunctionDefinition::new("exp", vec!["x".into()], e("x")));
    let ds = m.validate();
    let errs = |k| of_kind(&ds, k).len();
    assert_eq!(errs(DiagnosticKind::UndeclaredCompartment), 1);
    assert_eq!(
        find(&ds, DiagnosticKind::UndeclaredCompartment, "`lost`")
            .help
            .as_deref(),
        Some("declare it: `compartment cytosl = 1`")
    );
    find(
        &ds,
        DiagnosticKind::DuplicateId,
        "duplicate id `kon`: this parameter has the id of the parameter defined",
    );
    find(
        &ds,
        DiagnosticKind::InvalidReference,
        "the reactant `koff` of reaction `unbind` is a parameter, not a species",
    );
    find(&ds, DiagnosticKind::InvalidValue, "stoichiometry NaN");
    find(&ds, DiagnosticKind::InvalidValue, "negative size");
    find(
        &ds,
        DiagnosticKind::AssignmentToConstant,
        "the rate rule for `kon` changes `kon`",
    );
    let d = find(
        &ds,
        DiagnosticKind::UndefinedSymbol,
        "sets `Lx`, which is not defined",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `L`?"));
    find(
        &ds,
        DiagnosticKind::ReservedName,
        "function `exp` has the name of a built-in function",
    );
    assert!(ds.iter().all(|d| d.loc.is_none()));
}

#[test]
fn constant_species_cannot_take_part_in_reactions() {
    let mut m = binding();
    m.species[0].constant = true;
    find(
        &m.validate(),
        DiagnosticKind::AssignmentToConstant,
        "species `L` is constant",
    );
    m.species[0].boundary_condition = true;
    let ds = m.validate();
    // Still an error: the washout event changes a constant species.
    assert_eq!(of_kind(&ds, DiagnosticKind::AssignmentToConstant).len(), 1);
    find(
        &ds,
        DiagnosticKind::AssignmentToConstant,
        "event `washout` changes `L`",
    );
}

#[test]
fn math_referring_to_a_function_or_event_as_a_value() {
    let mut m = binding();
    m.assignment_rules[0].math = e("washout + massaction");
    let ds = m.validate();
    find(
        &ds,
        DiagnosticKind::InvalidReference,
        "uses `washout`, which is a event",
    );
    find(
        &ds,
        DiagnosticKind::InvalidReference,
        "uses `massaction`, which is a function",
    );
}

#[test]
fn local_parameters_are_visible_in_their_rate_law_only() {
    let mut m = binding();
    m.reactions[1].rate_law = Some(e("kloc * LR"));
    find(&m.validate(), DiagnosticKind::UndefinedSymbol, "`kloc`");
    m.reactions[1]
        .local_parameters
        .push(Parameter::new("kloc", Some(1.0)));
    assert!(m.validate().is_empty(), "{:#?}", m.validate());
    m.assignment_rules[0].math = e("kloc");
    find(
        &m.validate(),
        DiagnosticKind::UndefinedSymbol,
        "`kloc` in the assignment rule",
    );
}
