//! Hand-checkable flux balance problems: fbc version 2 bounds from
//! parameters (one set by an initial assignment), version 1 flux bounds,
//! minimisation, an infeasible problem, and the errors.

use super::{read_flux_balance, FluxBalanceStatus};

/// A chain `-> A -> B ->` (species `X` and `Y` are boundary conditions):
/// `in: X -> A`, `conv: A -> 2 B`, `out: B -> Y`. `fbc` holds the
/// reactions' fbc attributes and `lists` the fbc lists of the model.
fn chain(version: u32, attrs: [&str; 3], lists: &str) -> String {
    let [a_in, a_conv, a_out] = attrs;
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1"
      xmlns:fbc="http://www.sbml.org/sbml/level3/version1/fbc/version{version}" fbc:required="false">
  <model id="chain" fbc:strict="false">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="X" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="true" constant="false"/>
      <species id="A" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="B" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="Y" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="true" constant="false"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="zero" value="0" constant="true"/>
      <parameter id="cap" value="1000" constant="true"/>
      <parameter id="feed" value="1" constant="true"/>
    </listOfParameters>
    <listOfInitialAssignments>
      <initialAssignment symbol="feed">
        <math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><cn>2</cn><cn>1.5</cn></apply></math>
      </initialAssignment>
    </listOfInitialAssignments>
    <listOfReactions>
      <reaction id="in" reversible="false" fast="false" {a_in}>
        <listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="A" stoichiometry="1" constant="true"/></listOfProducts>
      </reaction>
      <reaction id="conv" reversible="false" fast="false" {a_conv}>
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="B" stoichiometry="2" constant="true"/></listOfProducts>
      </reaction>
      <reaction id="out" reversible="false" fast="false" {a_out}>
        <listOfReactants><speciesReference species="B" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="Y" stoichiometry="1" constant="true"/></listOfProducts>
      </reaction>
    </listOfReactions>
    {lists}
  </model>
</sbml>"#
    )
}

fn objective(kind: &str, reaction: &str) -> String {
    format!(
        r#"<fbc:listOfObjectives fbc:activeObjective="obj">
      <fbc:objective fbc:id="obj" fbc:type="{kind}">
        <fbc:listOfFluxObjectives>
          <fbc:fluxObjective fbc:reaction="{reaction}" fbc:coefficient="1"/>
        </fbc:listOfFluxObjectives>
      </fbc:objective>
    </fbc:listOfObjectives>"#
    )
}

const V2_BOUNDS: [&str; 3] = [
    r#"fbc:lowerFluxBound="zero" fbc:upperFluxBound="feed""#,
    r#"fbc:lowerFluxBound="zero" fbc:upperFluxBound="cap""#,
    r#"fbc:lowerFluxBound="zero" fbc:upperFluxBound="cap""#,
];

#[test]
fn version_2_bounds_come_from_parameters_and_their_initial_assignments() {
    // feed = 2 * 1.5 = 3 limits `in`; `conv` doubles: out = 2 * 3 = 6.
    let xml = chain(2, V2_BOUNDS, &objective("maximize", "out"));
    let (p, _) = read_flux_balance(&xml, &|s| Err(s.to_string())).unwrap();
    assert_eq!(p.bounds[0], (0.0, 3.0));
    assert_eq!(p.species, ["A", "B"]);
    let s = p.optimize();
    assert_eq!(s.status, FluxBalanceStatus::Optimal);
    assert!((s.objective - 6.0).abs() < 1e-9);
    assert!((s.value(&p, "in").unwrap() - 3.0).abs() < 1e-9);
    assert!((s.value(&p, "conv").unwrap() - 3.0).abs() < 1e-9);
    assert_eq!(s.value(&p, "obj"), Some(s.objective));
}

#[test]
fn version_1_flux_bounds_and_minimisation() {
    // out >= 4 forces in >= 2; minimising `in` gives exactly 2.
    let bounds = r#"<fbc:listOfFluxBounds>
      <fbc:fluxBound fbc:id="b0" fbc:reaction="in" fbc:operation="greaterEqual" fbc:value="0"/>
      <fbc:fluxBound fbc:id="b1" fbc:reaction="out" fbc:operation="greaterEqual" fbc:value="4"/>
      <fbc:fluxBound fbc:id="b2" fbc:reaction="out" fbc:operation="lessEqual" fbc:value="100"/>
    </fbc:listOfFluxBounds>"#;
    let xml = chain(
        1,
        ["", "", ""],
        &format!("{bounds}{}", objective("minimize", "in")),
    );
    let (p, _) = read_flux_balance(&xml, &|s| Err(s.to_string())).unwrap();
    assert!(!p.maximize);
    assert_eq!(p.bounds[2], (4.0, 100.0));
    assert_eq!(p.bounds[1], (f64::NEG_INFINITY, f64::INFINITY));
    let s = p.optimize();
    assert!((s.objective - 2.0).abs() < 1e-9, "{s:?}");
}

#[test]
fn an_infeasible_problem_gives_nan() {
    // `out` must be at least 10, but `in` is at most 3 (so `out` at most 6).
    let bounds = r#"<fbc:listOfFluxBounds>
      <fbc:fluxBound fbc:reaction="in" fbc:operation="lessEqual" fbc:value="3"/>
      <fbc:fluxBound fbc:reaction="in" fbc:operation="greaterEqual" fbc:value="0"/>
      <fbc:fluxBound fbc:reaction="out" fbc:operation="equal" fbc:value="10"/>
    </fbc:listOfFluxBounds>"#;
    let xml = chain(
        1,
        ["", "", ""],
        &format!("{bounds}{}", objective("maximize", "out")),
    );
    let (p, _) = read_flux_balance(&xml, &|s| Err(s.to_string())).unwrap();
    let s = p.optimize();
    assert_eq!(s.status, FluxBalanceStatus::Infeasible);
    assert!(s.objective.is_nan() && s.fluxes.iter().all(|(_, v)| v.is_nan()));
}

#[test]
fn missing_objectives_and_unknown_reactions_are_errors() {
    let xml = chain(2, V2_BOUNDS, "");
    let ds = read_flux_balance(&xml, &|s| Err(s.to_string())).unwrap_err();
    assert!(
        ds[0].message.contains("no fbc objective"),
        "{}",
        ds[0].message
    );
    let xml = chain(2, V2_BOUNDS, &objective("maximize", "nowhere"));
    let ds = read_flux_balance(&xml, &|s| Err(s.to_string())).unwrap_err();
    assert!(
        ds[0].message.contains("the reaction `nowhere`"),
        "{}",
        ds[0].message
    );
    assert!(ds[0].loc.is_some());
}
