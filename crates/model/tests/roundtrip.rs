//! `parse_antimony(m.to_antimony())` gives `m` back.

use super::*;
use ligand_expr::Expr;
use ligand_model::{Compartment, InitialQuantity, Parameter, Reaction, Species, SpeciesRef};

/// A model that uses every construct of the supported subset.
pub const EVERY_CONSTRUCT: &str = r#"
// Every construct ligand reads.
function mm(S, Vm, Km)
  Vm*S/(Km + S)
end

function hill(x, n) x^n/(1 + x^n) end

model *everything()
  compartment cell = 2.5, nucleus;
  var compartment vesicle = 0.1;
  species A in cell, B in cell, $Ext in cell;
  const species Fixed in cell;
  substanceOnly species Count in nucleus;
  species Free;
  species C in cell

  J1: A + 2 B -> C; k1*A*B*cell
  J2: C => A + B; mm(C, Vmax, Km) * cell
  -> A; k0*Ext
  A -> ; kd*A*hill(C/K, 2)
  Jt in nucleus: Count -> ; kc*Count
  Free => ; kf*Free*Fixed
  JR: B -> ;
  JR = kr*B
  Inhib -| JR

  total := A + B + C
  vesicle' = -0.01*vesicle
  switch' = 0

  E1: at (time > 10): k1 = k1/2, A = A + 1;
  at 2 after (C > 5), t0=false, priority=k1 + 1, fromTrigger=false, persistent=false: B = 0
  E3: at (total < 0.5 && !(time < 1)): switch = 1

  A = 1.5; B = 2; C = 0; Ext = 3; Fixed = 1; Free = 0.5; Inhib = 0
  Count = 100
  nucleus = 0.4 * cell
  k0 = 0.1; k1 = 1e-3; kd = 0.05; kc = 2; kf = 1; kr = 0.2; K = 1
  Vmax = 10; Km = 0.5
  switch = 0
  k2 = 2 * k1
  var kv; kv = 3
  const kfixed = 4
  gm := piecewise(1, time > 5, 0) + sqr(2) + gt(time, 1)
end
"#;

#[test]
fn mapk_round_trips() {
    let m = parse_clean(&data("kholodenko2000_mapk.ant"));
    assert_round_trip(&m);
    let text = m.to_antimony();
    assert!(text.contains("model kholodenko2000_mapk\n"), "{text}");
    assert!(text
        .contains("  J0: MKKK -> MKKK_P; V1 * MKKK / ((1 + (MAPK_PP / Ki)^n) * (K1 + MKKK));\n"));
    assert!(text.contains("  MKKK = 90;\n"));
    assert!(text.contains("  species MKKK in cell;\n"));
}

#[test]
fn robertson_round_trips() {
    let m = parse_clean(&data("robertson.ant"));
    assert_round_trip(&m);
    assert!(m
        .to_antimony()
        .contains("R2: 2 y2 -> y2 + y3; k2 * y2 * y2;"));
}

#[test]
fn every_construct_round_trips() {
    let (m, warnings) = parse_ok(EVERY_CONSTRUCT);
    assert!(warnings.is_empty(), "{warnings:#?}");
    // The model really has every construct.
    assert_eq!(m.name.as_deref(), Some("everything"));
    assert_eq!(m.function_definitions.len(), 2);
    assert_eq!(m.compartments.len(), 4); // cell, nucleus, vesicle, default_compartment
    assert!(!m.compartment("vesicle").unwrap().constant);
    assert!(m.species("Ext").unwrap().boundary_condition);
    assert!(m.species("Fixed").unwrap().boundary_condition);
    assert!(m.species("Count").unwrap().has_only_substance_units);
    assert_eq!(
        m.species("Count").unwrap().initial,
        Some(InitialQuantity::Amount(100.0))
    );
    assert_eq!(
        m.species("Free").unwrap().compartment,
        "default_compartment"
    );
    assert_eq!(m.reactions.len(), 7);
    assert!(!m.reaction("J2").unwrap().reversible);
    assert_eq!(
        m.reaction("Jt").unwrap().compartment.as_deref(),
        Some("nucleus")
    );
    assert_eq!(m.reaction("JR").unwrap().modifiers, ["Inhib"]);
    assert_eq!(m.reaction("Free_J").map(|_| ()), None);
    assert_eq!(m.assignment_rules.len(), 2);
    assert_eq!(m.rate_rules.len(), 2);
    assert_eq!(m.events.len(), 3);
    assert_eq!(m.initial_assignments.len(), 2);
    assert!(!m.parameter("kv").unwrap().constant);
    assert!(!m.parameter("switch").unwrap().constant);
    assert!(m.parameter("kfixed").unwrap().constant);
    assert_round_trip(&m);
}

#[test]
fn every_suite_file_round_trips() {
    for case in [
        "00952", "00954", "00955", "00956", "00957", "00958", "00959", "00962", "00964", "00965",
        "00966", "00967", "00978", "00979", "00980", "00988", "01323",
    ] {
        let (m, _) = parse_ok(&data(&format!("sbml-test-suite/{case}-antimony.txt")));
        assert_round_trip(&m);
    }
}

#[test]
fn a_model_without_a_name_writes_bare_statements() {
    let m = parse_clean("J1: A -> B; k*A\nA = 1; B = 0; k = 2");
    let text = m.to_antimony();
    assert!(!text.contains("model"), "{text}");
    assert_round_trip(&m);
}

#[test]
fn what_antimony_cannot_say_is_written_in_the_nearest_form() {
    // Built in code: a local parameter, an initial amount of a concentration
    // species, an id that is a keyword, a 2-D compartment.
    let mut m = Model::new("built");
    let mut membrane = Compartment::new("membrane", Some(1.0));
    membrane.spatial_dimensions = 2.0;
    m.compartments.push(membrane);
    let mut a = Species::new("A", "membrane");
    a.initial = Some(InitialQuantity::Amount(5.0));
    m.species.push(a);
    let mut s = Species::new("species", "membrane");
    s.initial = Some(InitialQuantity::Concentration(1.0));
    m.species.push(s);
    let mut r = Reaction::new(
        "J1",
        vec![SpeciesRef::new("A", 1.0)],
        vec![SpeciesRef::new("species", 1.0)],
        Some(Expr::Bin(
            ligand_expr::BinOp::Mul,
            Box::new(Expr::var("k")),
            Box::new(Expr::var("A")),
        )),
    );
    r.local_parameters.push(Parameter::new("k", Some(0.3)));
    m.reactions.push(r);
    assert!(
        m.validate().iter().all(|d| !d.is_error()),
        "{:#?}",
        m.validate()
    );

    let text = m.to_antimony();
    let (again, ds) = parse_ok(&text);
    assert!(ds.is_empty(), "{ds:#?}\n{text}");
    assert!(text.contains("// note: compartment membrane has 2 spatial dimensions"));
    assert!(text.contains("J1_k = 0.3;"), "{text}");
    assert!(text.contains("J1: A -> species_; J1_k * A;"), "{text}");
    assert!(text.contains("A = 5 / membrane;"), "{text}");
    assert_eq!(again.parameter("J1_k").unwrap().value, Some(0.3));
    assert_eq!(
        again.initial_assignments[0].math.to_string(),
        "5 / membrane"
    );
}
