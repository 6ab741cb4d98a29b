//! Fast reactions rewritten in rapid equilibrium: a reversible first-order
//! reaction (checked by hand), an irreversible one, and the fallback for a
//! rate law that is not linear in the extent.

use crate::diagnostic::DiagnosticKind;
use crate::ir::Model;
use crate::parse_sbml;
use std::collections::HashMap;

/// `fast: A <-> B` with `rate`, and `slow: B -> C` at rate `k * B`, all
/// amounts in a compartment of size 2.
fn model(rate: &str) -> String {
    format!(
        r#"<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">
  <model>
    <listOfCompartments><compartment id="c" size="2" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="c" initialAmount="2" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="B" compartment="c" initialAmount="6" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="C" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="kf" value="1" constant="true"/>
      <parameter id="kr" value="2" constant="true"/>
      <parameter id="k" value="0.1" constant="true"/>
    </listOfParameters>
    <listOfReactions>
      <reaction id="fast" reversible="true" fast="true">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">{rate}</math></kineticLaw>
      </reaction>
      <reaction id="slow" reversible="false" fast="false">
        <listOfReactants><speciesReference species="B" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="C" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><times/><ci>k</ci><ci>B</ci></apply>
        </math></kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>"#
    )
}

/// Evaluates the assignment rules in order, from the given values.
fn evaluate(m: &Model, mut env: HashMap<String, f64>) -> HashMap<String, f64> {
    for r in m.sorted_assignment_rules().unwrap() {
        let v = r.math.eval(&|n| env.get(n).copied()).unwrap();
        env.insert(r.variable.clone(), v);
    }
    env
}

#[test]
fn a_reversible_fast_reaction_is_at_equilibrium_through_assignment_rules() {
    let rate = "<apply><minus/><apply><times/><ci>kf</ci><ci>A</ci></apply>\
                <apply><times/><ci>kr</ci><ci>B</ci></apply></apply>";
    let (m, warnings) = parse_sbml(&model(rate)).unwrap();
    assert!(warnings
        .iter()
        .all(|w| w.kind != DiagnosticKind::Unsupported));
    // The slow reaction now changes B_slow; the fast one is gone.
    let ids: Vec<&str> = m.reactions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["slow"]);
    assert_eq!(m.reactions[0].reactants[0].species, "B_slow");
    // Amounts 2 and 6 in size 2: A + B = 4 in concentration, kf A = kr B
    // gives A = 8/3, B = 4/3.
    let env: HashMap<String, f64> = [
        ("A_slow", 1.0),
        ("B_slow", 3.0),
        ("c", 2.0),
        ("kf", 1.0),
        ("kr", 2.0),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), *v))
    .collect();
    let env = evaluate(&m, env);
    assert!((env["A"] - 8.0 / 3.0).abs() < 1e-12, "{}", env["A"]);
    assert!((env["B"] - 4.0 / 3.0).abs() < 1e-12, "{}", env["B"]);
}

#[test]
fn an_irreversible_fast_reaction_goes_to_completion_unless_its_rate_is_zero() {
    let rate = "<apply><times/><ci>kf</ci><ci>A</ci></apply>";
    let (m, _) = parse_sbml(&model(rate)).unwrap();
    let mut env: HashMap<String, f64> = [("A_slow", 1.0), ("B_slow", 3.0), ("c", 2.0), ("kf", 1.0)]
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    let done = evaluate(&m, env.clone());
    assert!(done["A"].abs() < 1e-12);
    assert!((done["B"] - 4.0).abs() < 1e-12);
    // With a rate constant of zero every state is an equilibrium: none moves.
    env.insert("kf".into(), 0.0);
    let off = evaluate(&m, env);
    assert_eq!((off["A"], off["B"]), (1.0, 3.0));
}

#[test]
fn a_bimolecular_fast_reaction_goes_to_the_nearest_root_in_its_direction() {
    // kf * A * B = 0 with A = 1 - x, B = 3 + x (concentrations): forward
    // (kf > 0) A is used up (A = 0, B = 4); backward B is (A = 4, B = 0).
    let rate = "<apply><times/><ci>kf</ci><ci>A</ci><ci>B</ci></apply>";
    let (m, _) = parse_sbml(&model(rate)).unwrap();
    assert_eq!(m.reactions.len(), 1);
    for (kf, a, b) in [(1.0, 0.0, 4.0), (-1.0, 4.0, 0.0), (0.0, 1.0, 3.0)] {
        let env: HashMap<String, f64> = [("A_slow", 1.0), ("B_slow", 3.0), ("c", 2.0), ("kf", kf)]
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        let env = evaluate(&m, env);
        assert!((env["A"] - a).abs() < 1e-12, "kf = {kf}: A = {}", env["A"]);
        assert!((env["B"] - b).abs() < 1e-12, "kf = {kf}: B = {}", env["B"]);
    }
}

#[test]
fn a_fast_reaction_of_higher_degree_keeps_its_kinetic_rate_with_a_warning() {
    let rate = "<apply><times/><ci>kf</ci><ci>A</ci><ci>A</ci><ci>B</ci></apply>";
    let (m, warnings) = parse_sbml(&model(rate)).unwrap();
    assert_eq!(m.reactions.len(), 2);
    let w = warnings
        .iter()
        .find(|w| w.kind == DiagnosticKind::Unsupported)
        .unwrap();
    assert!(
        w.message.contains("not linear or quadratic in its extent"),
        "{}",
        w.message
    );
}
