//! SBML import and export: MathML forms, what is refused and how it is
//! reported, safety against hostile XML, and the BioModels files.

use ligand_model::{parse_sbml, Diagnostic, DiagnosticKind, InitialQuantity, Model};

/// An SBML Level 3 Version 2 document around `body` (the model's lists).
fn doc(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="m">
{body}
  </model>
</sbml>"#
    )
}

/// A document with one parameter `p` set by an assignment rule with `math`.
fn rule_doc(math: &str) -> String {
    doc(&format!(
        r#"    <listOfParameters>
      <parameter id="a" value="2" constant="true"/>
      <parameter id="b" value="3" constant="true"/>
      <parameter id="c" value="4" constant="true"/>
      <parameter id="p" constant="false"/>
    </listOfParameters>
    <listOfRules>
      <assignmentRule variable="p">
        <math xmlns="http://www.w3.org/1998/Math/MathML">{math}</math>
      </assignmentRule>
    </listOfRules>"#
    ))
}

fn ok(xml: &str) -> (Model, Vec<Diagnostic>) {
    parse_sbml(xml).unwrap_or_else(|ds| {
        panic!(
            "{}",
            ds.iter()
                .map(|d| d.render(xml))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

fn err(xml: &str) -> Vec<Diagnostic> {
    match parse_sbml(xml) {
        Ok((m, _)) => panic!("expected errors, got {m:#?}"),
        Err(ds) => ds,
    }
}

fn rule(math: &str) -> String {
    let (m, _) = ok(&rule_doc(math));
    m.assignment_rules[0].math.to_string()
}

#[test]
fn number_forms() {
    assert_eq!(rule(r#"<cn type="integer"> 12 </cn>"#), "12");
    assert_eq!(rule("<cn> 1.5 </cn>"), "1.5");
    assert_eq!(rule("<cn> -2e-3 </cn>"), "-0.002");
    assert_eq!(rule(r#"<cn type="real" units="mole"> 0.25 </cn>"#), "0.25");
    assert_eq!(rule(r#"<cn type="e-notation"> 1.5 <sep/> 3 </cn>"#), "1500");
    assert_eq!(rule(r#"<cn type="rational"> 1 <sep/> 4 </cn>"#), "0.25");
    assert_eq!(rule(r#"<cn type="integer" base="16"> ff </cn>"#), "255");
    assert_eq!(rule("<cn> INF </cn>"), "inf");
    assert_eq!(rule("<notanumber/>"), "nan");
    assert_eq!(rule("<true/>"), "1");
}

#[test]
fn operators() {
    assert_eq!(
        rule("<apply><plus/><ci>a</ci><ci>b</ci><ci>c</ci></apply>"),
        "a + b + c"
    );
    assert_eq!(rule("<apply><minus/><ci>a</ci></apply>"), "-a");
    assert_eq!(rule("<apply><times/></apply>"), "1");
    // n-ary relational and logical forms.
    assert_eq!(
        rule("<apply><lt/><ci>a</ci><ci>b</ci><ci>c</ci></apply>"),
        "a < b && b < c"
    );
    assert_eq!(
        rule("<apply><and/><apply><gt/><ci>a</ci><cn>1</cn></apply><true/><false/></apply>"),
        "a > 1 && 1 && 0"
    );
    assert_eq!(
        rule("<apply><root/><degree><cn>3</cn></degree><ci>a</ci></apply>"),
        "root(3, a)"
    );
    assert_eq!(rule("<apply><root/><ci>a</ci></apply>"), "sqrt(a)");
    // An expression applied to nothing is the expression (as libSBML reads it).
    assert_eq!(
        rule("<apply><apply><times/><ci>a</ci><ci>b</ci></apply></apply>"),
        "a * b"
    );
    assert_eq!(rule("<apply><log/><ci>a</ci></apply>"), "log10(a)");
    assert_eq!(
        rule("<apply><log/><logbase><cn>2</cn></logbase><ci>a</ci></apply>"),
        "log(2, a)"
    );
    assert_eq!(rule("<apply><arccot/><ci>a</ci></apply>"), "atan(1 / a)");
    assert_eq!(
        rule("<apply><max/><ci>a</ci><ci>b</ci></apply>"),
        "max(a, b)"
    );
    assert_eq!(
        rule("<piecewise><piece><ci>a</ci><apply><gt/><ci>b</ci><cn>0</cn></apply></piece><otherwise><ci>c</ci></otherwise></piecewise>"),
        "piecewise(a, b > 0, c)"
    );
    assert_eq!(
        rule(
            r#"<apply><times/><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol><csymbol definitionURL="http://www.sbml.org/sbml/symbols/avogadro">N</csymbol></apply>"#
        ),
        "time * 6.02214179e23"
    );
    // Truncation towards zero, as in C and libSBML.
    let (m, _) = ok(&rule_doc("<apply><rem/><cn>-7</cn><cn>2</cn></apply>"));
    let e = m.assignment_rules[0].math.eval(&|_| None).unwrap();
    assert_eq!(e, -1.0);
    let (m, _) = ok(&rule_doc("<apply><quotient/><cn>-7</cn><cn>2</cn></apply>"));
    assert_eq!(m.assignment_rules[0].math.eval(&|_| None).unwrap(), -3.0);
}

#[test]
fn rate_of_is_lowered() {
    let xml = doc(
        r#"    <listOfCompartments><compartment id="c" size="2" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="S" compartment="c" initialAmount="4" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
    <listOfParameters><parameter id="k" value="0.5" constant="true"/><parameter id="r" constant="false"/></listOfParameters>
    <listOfRules><assignmentRule variable="r"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><csymbol definitionURL="http://www.sbml.org/sbml/symbols/rateOf">rateOf</csymbol><ci>S</ci></apply></math></assignmentRule></listOfRules>
    <listOfReactions><reaction id="J" reversible="false"><listOfReactants><speciesReference species="S" stoichiometry="1" constant="true"/></listOfReactants>
      <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k</ci><ci>S</ci></apply></math></kineticLaw></reaction></listOfReactions>"#,
    );
    let (m, _) = ok(&xml);
    // d[S]/dt = -J / c.
    assert_eq!(m.assignment_rules[0].math.to_string(), "-(J / c)");
}

#[test]
fn conversion_factors_become_pseudo_reactions() {
    let xml = doc(
        r#"    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="c" initialAmount="1" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false" conversionFactor="f"/>
      <species id="B" compartment="c" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters><parameter id="f" value="2" constant="true"/></listOfParameters>
    <listOfReactions><reaction id="J" reversible="false">
      <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
      <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>
      <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><ci>A</ci></math></kineticLaw></reaction></listOfReactions>"#,
    );
    let (m, warnings) = ok(&xml);
    let s = m.stoichiometry_matrix();
    assert_eq!(s.entry("A", "J"), Some(0.0));
    assert_eq!(s.entry("B", "J"), Some(1.0));
    assert_eq!(s.entry("A", "A_rate"), Some(1.0));
    assert_eq!(
        m.reaction("A_rate")
            .unwrap()
            .rate_law
            .as_ref()
            .unwrap()
            .to_string(),
        "-(f * J)"
    );
    assert!(warnings.iter().any(|w| w.message.contains("`A_rate`")));
}

#[test]
fn species_attributes() {
    let xml = doc(
        r#"    <listOfCompartments><compartment id="c" size="2" constant="true"/><compartment id="pt" spatialDimensions="0" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="c" initialConcentration="3" hasOnlySubstanceUnits="false" boundaryCondition="true" constant="false"/>
      <species id="P" compartment="pt" initialAmount="5" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="true"/>
    </listOfSpecies>"#,
    );
    let (m, _) = ok(&xml);
    let a = m.species("A").unwrap();
    assert_eq!(a.initial, Some(InitialQuantity::Concentration(3.0)));
    assert!(a.boundary_condition && !a.constant && !a.has_only_substance_units);
    // A point has no concentration: its species' symbols mean amounts.
    assert!(m.species("P").unwrap().has_only_substance_units);
}

#[test]
fn unsupported_constructs_are_named_with_their_location() {
    let ds = err(&rule_doc("<apply><diff/><ci>a</ci></apply>"));
    assert_eq!(ds[0].kind, DiagnosticKind::Unsupported);
    assert!(ds[0].message.contains("<diff>"), "{}", ds[0].message);
    let loc = ds[0].loc.unwrap();
    assert_eq!(loc.line, 12);

    let ds = err(&rule_doc(
        r#"<apply><csymbol definitionURL="http://www.sbml.org/sbml/symbols/delay">delay</csymbol><ci>a</ci><cn>1</cn></apply>"#,
    ));
    assert!(ds[0].message.contains("delay csymbol"), "{}", ds[0].message);
    assert!(ds[0].message.contains("assignment rule for `p`"));

    let xml = doc(
        r#"    <listOfParameters><parameter id="x" value="1" constant="false"/><parameter id="y" value="1" constant="false"/></listOfParameters>
    <listOfRules><algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><minus/><apply><times/><ci>x</ci><ci>x</ci></apply><ci>y</ci></apply></math></algebraicRule>
    <rateRule variable="y"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn>1</cn></math></rateRule></listOfRules>"#,
    );
    let ds = err(&xml);
    assert!(
        ds[0].message.contains("algebraic rule 0 = x * x - y"),
        "{}",
        ds[0].message
    );
    assert_eq!(ds[0].loc.unwrap().line, 5);

    let arrays = r#"<?xml version="1.0"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" xmlns:arrays="http://www.sbml.org/sbml/level3/version1/arrays/version1" level="3" version="1" arrays:required="true">
  <model id="m"/>
</sbml>"#;
    let ds = err(arrays);
    assert!(
        ds[0].message.contains("package `arrays`"),
        "{}",
        ds[0].message
    );

    let l1 =
        r#"<sbml xmlns="http://www.sbml.org/sbml/level1" level="1" version="2"><model/></sbml>"#;
    assert!(err(l1)[0]
        .message
        .contains("Level 1 Version 2 is not supported"));
}

#[test]
fn solvable_algebraic_rules_become_assignment_rules() {
    let xml = doc(
        r#"    <listOfParameters><parameter id="x" value="1" constant="false"/><parameter id="y" value="1" constant="false"/></listOfParameters>
    <listOfRules><algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><minus/><apply><times/><cn>2</cn><ci>x</ci></apply><ci>y</ci></apply></math></algebraicRule>
    <rateRule variable="y"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn>1</cn></math></rateRule></listOfRules>"#,
    );
    let (m, _) = ok(&xml);
    assert_eq!(m.assignment_rules[0].variable, "x");
    assert_eq!(m.assignment_rules[0].math.to_string(), "y / 2");
}

#[test]
fn fast_reactions_that_cannot_be_in_rapid_equilibrium_are_reported() {
    // A * A * A is not linear or quadratic in the reaction's extent (see sbml/fast.rs).
    let xml = r#"<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1"><model>
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="A" compartment="c" initialAmount="1" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
    <listOfReactions><reaction id="J" reversible="false" fast="true"><listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
      <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>A</ci><ci>A</ci><ci>A</ci></apply></math></kineticLaw></reaction></listOfReactions>
    </model></sbml>"#;
    let (_, warnings) = ok(xml);
    let w = warnings
        .iter()
        .find(|w| w.kind == DiagnosticKind::Unsupported)
        .unwrap();
    assert!(w.message.contains("reaction `J` is marked fast"));
    assert_eq!(w.loc.unwrap().line, 4);
}

#[test]
fn malformed_xml_gives_line_and_column() {
    let ds = err(
        "<sbml level=\"3\" version=\"2\">\n  <model>\n    <listOfSpecies>\n  </model>\n</sbml>",
    );
    assert_eq!(ds.len(), 1);
    assert!(
        ds[0].message.starts_with("malformed XML"),
        "{}",
        ds[0].message
    );
    let loc = ds[0].loc.unwrap();
    assert_eq!((loc.line, loc.column), (4, 3));
    let ds = err("<html><body/></html>");
    assert!(ds[0].message.contains("not an SBML document"));
}

#[test]
fn entity_expansion_bombs_are_refused() {
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sbml level="3" version="2"><model id="m" name="&lol9;"/></sbml>"#;
    let ds = err(bomb);
    assert!(ds[0].message.contains("refuses DTDs"), "{}", ds[0].message);
}

#[test]
fn external_entities_are_never_read() {
    let xxe = r#"<?xml version="1.0"?>
<!DOCTYPE sbml [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<sbml level="3" version="2"><model id="m" name="&secret;"/></sbml>"#;
    let ds = err(xxe);
    assert!(ds[0].message.contains("refuses DTDs"), "{}", ds[0].message);
    assert!(!ds.iter().any(|d| d.message.contains("root:")));
}

#[test]
fn huge_attributes_are_refused() {
    let big = "x".repeat(2 << 20);
    let ds = err(&format!(
        r#"<sbml level="3" version="2"><model id="m" name="{big}"/></sbml>"#
    ));
    assert!(
        ds[0].message.contains("attributes over"),
        "{}",
        ds[0].message
    );
}

#[test]
fn deep_mathml_is_refused_not_overflowed() {
    let depth = 5000;
    let math = format!(
        "{}<ci>a</ci>{}",
        "<apply><minus/>".repeat(depth),
        "</apply>".repeat(depth)
    );
    let ds = err(&rule_doc(&math));
    assert!(
        ds[0].message.contains("nested more than"),
        "{}",
        ds[0].message
    );
}

#[test]
fn export_refuses_functions_mathml_lacks() {
    let (m, _) = ligand_model::parse_antimony("p := erf(time)").unwrap();
    let e = m.to_sbml().unwrap_err();
    assert!(e.to_string().contains("`erf`"), "{e}");
}

#[test]
fn every_biomodels_file_imports() {
    // The 58 BioModels files of the shared reference data, when present
    // (beside the repository, as on CI); each imports without errors.
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/biomodels");
    if !dir.is_dir() {
        eprintln!("skipped: {} is not present", dir.display());
        return;
    }
    let mut files = Vec::new();
    for sub in ["curated", "non-curated"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    files.sort();
    assert_eq!(files.len(), 58);
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        if let Err(ds) = parse_sbml(&text) {
            failures.push(format!("{}: {}", f.display(), ds[0]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_algebraic_rule_may_use_rate_of() {
    // 0 = rateOf(x) - p with dx/dt = 2 gives p := 2 (SBML Test Suite 01482).
    let xml = r#"<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model>
    <listOfParameters>
      <parameter id="x" value="1" constant="false"/>
      <parameter id="p" constant="false"/>
    </listOfParameters>
    <listOfRules>
      <rateRule variable="x"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn>2</cn></math></rateRule>
      <algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><minus/>
        <apply><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/rateOf">rateOf</csymbol><ci>x</ci></apply>
        <ci>p</ci></apply></math></algebraicRule>
    </listOfRules>
    </model></sbml>"#;
    let (m, _) = ok(xml);
    let r = m
        .assignment_rules
        .iter()
        .find(|r| r.variable == "p")
        .unwrap();
    assert_eq!(r.math.to_string(), "2");
}

#[test]
fn an_algebraic_rule_sets_a_free_species_before_a_boundary_one() {
    // 0 = S2 - S1 with S2 a boundary species: S1 := S2 (SBML Test Suite 01787).
    let xml = r#"<sbml xmlns="http://www.sbml.org/sbml/level2/version5" level="2" version="5"><model>
    <listOfCompartments><compartment id="C" size="1"/></listOfCompartments>
    <listOfSpecies>
      <species id="S1" compartment="C" initialConcentration="2"/>
      <species id="S2" compartment="C" initialConcentration="3" boundaryCondition="true"/>
    </listOfSpecies>
    <listOfRules>
      <algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><minus/><ci>S2</ci><ci>S1</ci></apply></math></algebraicRule>
    </listOfRules>
    </model></sbml>"#;
    let (m, _) = ok(xml);
    assert_eq!(m.assignment_rules[0].variable, "S1");
    assert_eq!(m.assignment_rules[0].math.to_string(), "S2");
}

#[test]
fn rate_of_a_local_parameter_is_zero() {
    // The global k1 changes, the local k1 that shadows it in J0 does not (01460).
    let xml = r#"<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model>
    <listOfCompartments><compartment id="C" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="S1" compartment="C" initialAmount="1" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
    <listOfParameters><parameter id="k1" value="1" constant="false"/></listOfParameters>
    <listOfRules><rateRule variable="k1"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn>2</cn></math></rateRule></listOfRules>
    <listOfReactions><reaction id="J0" reversible="false">
      <listOfProducts><speciesReference species="S1" stoichiometry="1" constant="true"/></listOfProducts>
      <kineticLaw>
        <math xmlns="http://www.w3.org/1998/Math/MathML"><apply><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/rateOf">rateOf</csymbol><ci>k1</ci></apply></math>
        <listOfLocalParameters><localParameter id="k1" value="3"/></listOfLocalParameters>
      </kineticLaw>
    </reaction></listOfReactions>
    </model></sbml>"#;
    let (m, _) = ok(xml);
    assert_eq!(m.reactions[0].rate_law.as_ref().unwrap().to_string(), "0");
}
