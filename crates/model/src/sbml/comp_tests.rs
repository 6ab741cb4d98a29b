//! Hand-checkable flattening cases: renaming, replacement (with conversion
//! factors), replacedBy, deletion, time and extent conversion, chains of
//! references, ports, and the errors for what is not supported.

use crate::ir::{InitialQuantity, Model};
use crate::parse_sbml;

/// A comp document: `main` is the body of the main model, `defs` the
/// model definitions.
fn doc(main: &str, defs: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"
      xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1" comp:required="true">
  <model id="main">
{main}
  </model>
  <comp:listOfModelDefinitions>
{defs}
  </comp:listOfModelDefinitions>
</sbml>"#
    )
}

fn read(xml: &str) -> Model {
    match parse_sbml(xml) {
        Ok((m, _)) => m,
        Err(ds) => panic!(
            "{}",
            ds.iter()
                .map(|d| d.render(xml))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

fn error(xml: &str) -> String {
    match parse_sbml(xml) {
        Ok(_) => panic!("read without error"),
        Err(ds) => ds[0].message.clone(),
    }
}

fn rule(m: &Model, variable: &str) -> String {
    m.assignment_rules
        .iter()
        .find(|r| r.variable == variable)
        .map(|r| r.math.to_string())
        .unwrap_or_else(|| panic!("no rule for {variable}"))
}

/// A definition with a compartment, a species, a parameter `k`, a rule
/// `y := k * S` and a reaction with a local parameter `k` (which shadows).
const CELL: &str = r#"
    <comp:modelDefinition id="cell">
      <listOfCompartments><compartment id="c" size="2" constant="true"/></listOfCompartments>
      <listOfSpecies>
        <species id="S" compartment="c" initialAmount="5" hasOnlySubstanceUnits="true"
                 boundaryCondition="false" constant="false"/>
      </listOfSpecies>
      <listOfParameters>
        <parameter id="k" value="3" constant="true"/>
        <parameter id="y" constant="false"/>
      </listOfParameters>
      <listOfRules>
        <assignmentRule metaid="y_rule" variable="y">
          <math xmlns="http://www.w3.org/1998/Math/MathML">
            <apply><times/><ci> k </ci><ci> S </ci></apply>
          </math>
        </assignmentRule>
      </listOfRules>
      <listOfReactions>
        <reaction id="J" reversible="false">
          <listOfReactants><speciesReference species="S" stoichiometry="1" constant="true"/></listOfReactants>
          <kineticLaw>
            <math xmlns="http://www.w3.org/1998/Math/MathML">
              <apply><times/><ci> k </ci><ci> S </ci></apply>
            </math>
            <listOfLocalParameters><localParameter id="k" value="0.5"/></listOfLocalParameters>
          </kineticLaw>
        </reaction>
      </listOfReactions>
    </comp:modelDefinition>"#;

const SUB_A: &str = r#"
    <comp:listOfSubmodels><comp:submodel comp:id="A" comp:modelRef="cell"/></comp:listOfSubmodels>"#;

#[test]
fn submodel_ids_get_the_submodel_prefix_and_local_parameters_keep_theirs() {
    let m = read(&doc(SUB_A, CELL));
    assert_eq!(m.compartments[0].id, "A__c");
    assert_eq!(m.species[0].id, "A__S");
    assert_eq!(m.species[0].compartment, "A__c");
    assert_eq!(m.parameter("A__k").unwrap().value, Some(3.0));
    assert_eq!(rule(&m, "A__y"), "A__k * A__S");
    let j = &m.reactions[0];
    assert_eq!(j.id, "A__J");
    assert_eq!(j.reactants[0].species, "A__S");
    assert_eq!(j.local_parameters[0].id, "k");
    assert_eq!(j.rate_law.as_ref().unwrap().to_string(), "k * A__S");
}

#[test]
fn two_instances_of_one_definition_are_separate() {
    let main = r#"
    <comp:listOfSubmodels>
      <comp:submodel comp:id="A" comp:modelRef="cell"/>
      <comp:submodel comp:id="B" comp:modelRef="cell"/>
    </comp:listOfSubmodels>"#;
    let m = read(&doc(main, CELL));
    let ids: Vec<&str> = m.species.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["A__S", "B__S"]);
    assert_eq!(rule(&m, "B__y"), "B__k * B__S");
}

#[test]
fn a_replaced_element_takes_the_parents_id_and_value() {
    let main = r#"
    <listOfParameters>
      <parameter id="kk" value="7" constant="true">
        <comp:listOfReplacedElements>
          <comp:replacedElement comp:submodelRef="A" comp:idRef="k"/>
        </comp:listOfReplacedElements>
      </parameter>
    </listOfParameters>"#;
    let m = read(&doc(&format!("{main}{SUB_A}"), CELL));
    assert!(m.parameter("A__k").is_none());
    assert_eq!(m.parameter("kk").unwrap().value, Some(7.0));
    assert_eq!(rule(&m, "A__y"), "kk * A__S");
    // The local parameter still shadows.
    assert_eq!(
        m.reactions[0].rate_law.as_ref().unwrap().to_string(),
        "k * A__S"
    );
}

#[test]
fn a_conversion_factor_divides_references_and_multiplies_assignments() {
    // p replaces y (y := k * S) with factor f: the rule becomes
    // p := (A__k * A__S) * f, and a reference to y reads p / f.
    let main = r#"
    <listOfParameters>
      <parameter id="f" value="10" constant="true"/>
      <parameter id="p" constant="false">
        <comp:listOfReplacedElements>
          <comp:replacedElement comp:submodelRef="A" comp:idRef="y" comp:conversionFactor="f"/>
        </comp:listOfReplacedElements>
      </parameter>
    </listOfParameters>"#;
    let defs = CELL.replace(
        "</listOfRules>",
        r#"<assignmentRule variable="z">
             <math xmlns="http://www.w3.org/1998/Math/MathML"><apply><plus/><ci> y </ci><cn> 1 </cn></apply></math>
           </assignmentRule></listOfRules>"#,
    )
    .replace(
        r#"<parameter id="y" constant="false"/>"#,
        r#"<parameter id="y" constant="false"/><parameter id="z" constant="false"/>"#,
    );
    let m = read(&doc(&format!("{main}{SUB_A}"), &defs));
    assert_eq!(rule(&m, "p"), "A__k * A__S * f");
    assert_eq!(rule(&m, "A__z"), "p / f + 1");
}

#[test]
fn replaced_by_gives_the_submodels_element_the_parents_id() {
    let main = r#"
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="S" compartment="c" initialAmount="1" hasOnlySubstanceUnits="true"
               boundaryCondition="false" constant="false">
        <comp:replacedBy comp:submodelRef="A" comp:idRef="S"/>
      </species>
    </listOfSpecies>"#;
    let m = read(&doc(&format!("{main}{SUB_A}"), CELL));
    let ids: Vec<&str> = m.species.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["S"]);
    // The submodel's element survives, with its own initial amount and compartment.
    assert_eq!(m.species[0].initial, Some(InitialQuantity::Amount(5.0)));
    assert_eq!(m.species[0].compartment, "A__c");
    assert_eq!(rule(&m, "A__y"), "A__k * S");
}

#[test]
fn deletions_remove_elements_by_id_and_by_metaid() {
    let main = r#"
    <comp:listOfSubmodels>
      <comp:submodel comp:id="A" comp:modelRef="cell">
        <comp:listOfDeletions>
          <comp:deletion comp:metaIdRef="y_rule"/>
          <comp:deletion comp:idRef="J"/>
        </comp:listOfDeletions>
      </comp:submodel>
    </comp:listOfSubmodels>"#;
    let m = read(&doc(main, CELL));
    assert!(m.assignment_rules.is_empty());
    assert!(m.reactions.is_empty());
    assert!(m.parameter("A__y").is_some());
}

#[test]
fn time_and_extent_conversion_factors_rescale_the_submodel() {
    let main = r#"
    <listOfParameters>
      <parameter id="tc" value="60" constant="true"/>
      <parameter id="xc" value="1000" constant="true"/>
    </listOfParameters>
    <comp:listOfSubmodels>
      <comp:submodel comp:id="A" comp:modelRef="clock" comp:timeConversionFactor="tc"
                     comp:extentConversionFactor="xc"/>
    </comp:listOfSubmodels>"#;
    let defs = r#"
    <comp:modelDefinition id="clock">
      <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
      <listOfSpecies>
        <species id="S" compartment="c" initialAmount="0" hasOnlySubstanceUnits="true"
                 boundaryCondition="false" constant="false"/>
      </listOfSpecies>
      <listOfParameters>
        <parameter id="x" value="0" constant="false"/>
        <parameter id="r" constant="false"/>
      </listOfParameters>
      <listOfRules>
        <rateRule variable="x">
          <math xmlns="http://www.w3.org/1998/Math/MathML">
            <csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> time </csymbol>
          </math>
        </rateRule>
        <assignmentRule variable="r">
          <math xmlns="http://www.w3.org/1998/Math/MathML"><ci> J </ci></math>
        </assignmentRule>
      </listOfRules>
      <listOfReactions>
        <reaction id="J" reversible="false">
          <listOfProducts><speciesReference species="S" stoichiometry="1" constant="true"/></listOfProducts>
          <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 2 </cn></math></kineticLaw>
        </reaction>
      </listOfReactions>
    </comp:modelDefinition>"#;
    let m = read(&doc(main, defs));
    // dx/dt in the submodel's time: (time / tc) / tc in the parent's.
    assert_eq!(m.rate_rules[0].math.to_string(), "time / tc / tc");
    assert_eq!(
        m.reactions[0].rate_law.as_ref().unwrap().to_string(),
        "2 * xc / tc"
    );
    // The reaction's id means its rate in the submodel's units.
    assert_eq!(rule(&m, "A__r"), "A__J / (xc / tc)");
}

#[test]
fn chains_of_references_and_ports_reach_nested_submodels() {
    // main has submodel O (outer); outer has submodel I (cell) and a port
    // `kport` on I's k. main replaces O.I.S through a chain and O's port.
    let defs = format!(
        r#"{CELL}
    <comp:modelDefinition id="outer">
      <comp:listOfSubmodels><comp:submodel comp:id="I" comp:modelRef="cell"/></comp:listOfSubmodels>
      <comp:listOfPorts>
        <comp:port comp:id="kport" comp:idRef="I"><comp:sBaseRef comp:idRef="k"/></comp:port>
      </comp:listOfPorts>
    </comp:modelDefinition>"#
    );
    let main = r#"
    <listOfParameters>
      <parameter id="k2" value="9" constant="true">
        <comp:listOfReplacedElements>
          <comp:replacedElement comp:submodelRef="O" comp:portRef="kport"/>
        </comp:listOfReplacedElements>
      </parameter>
    </listOfParameters>
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="T" compartment="c" initialAmount="4" hasOnlySubstanceUnits="true"
               boundaryCondition="false" constant="false">
        <comp:listOfReplacedElements>
          <comp:replacedElement comp:submodelRef="O" comp:idRef="I">
            <comp:sBaseRef comp:idRef="S"/>
          </comp:replacedElement>
        </comp:listOfReplacedElements>
      </species>
    </listOfSpecies>
    <comp:listOfSubmodels><comp:submodel comp:id="O" comp:modelRef="outer"/></comp:listOfSubmodels>"#;
    let m = read(&doc(main, &defs));
    assert_eq!(rule(&m, "O__I__y"), "k2 * T");
    let ids: Vec<&str> = m.species.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["T"]);
    assert_eq!(m.reactions[0].reactants[0].species, "T");
}

#[test]
fn unsupported_comp_constructs_are_errors_that_name_them() {
    let main = r#"
    <comp:listOfSubmodels>
      <comp:submodel comp:id="A" comp:modelRef="cell"/>
      <comp:submodel comp:id="B" comp:modelRef="wrapper">
      </comp:submodel>
    </comp:listOfSubmodels>"#;
    let defs = format!(
        r#"{CELL}
    <comp:modelDefinition id="wrapper">
      <comp:listOfSubmodels><comp:submodel comp:id="X" comp:modelRef="cell"/></comp:listOfSubmodels>
    </comp:modelDefinition>"#
    );
    let whole = main.replace(
        "comp:modelRef=\"wrapper\">",
        "comp:modelRef=\"wrapper\"><comp:listOfDeletions><comp:deletion comp:idRef=\"X\"/></comp:listOfDeletions>",
    );
    assert!(
        error(&doc(&whole, &defs)).contains("the whole submodel `X`"),
        "{}",
        error(&doc(&whole, &defs))
    );
    let missing = doc(
        r#"<comp:listOfSubmodels><comp:submodel comp:id="A" comp:modelRef="nothing"/></comp:listOfSubmodels>"#,
        CELL,
    );
    assert_eq!(error(&missing), "no model definition `nothing`");
    let external = r#"<?xml version="1.0"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"
      xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1" comp:required="true">
  <model><comp:listOfSubmodels><comp:submodel comp:id="A" comp:modelRef="E"/></comp:listOfSubmodels></model>
  <comp:listOfExternalModelDefinitions>
    <comp:externalModelDefinition comp:id="E" comp:source="other.xml"/>
  </comp:listOfExternalModelDefinitions>
</sbml>"#;
    assert!(error(external).contains("cannot read the external model definition `other.xml`"));
}

#[test]
fn errors_in_a_flattened_model_point_into_the_original_text() {
    let defs = CELL.replace(
        "<ci> k </ci><ci> S </ci></apply>\n          </math>\n        </assignmentRule>",
        "<ci> nowhere </ci><ci> S </ci></apply>\n          </math>\n        </assignmentRule>",
    );
    let xml = doc(SUB_A, &defs);
    let ds = parse_sbml(&xml).unwrap_err();
    let line = xml
        .lines()
        .position(|l| l.contains("y_rule"))
        .map(|i| i + 1)
        .unwrap();
    assert!(ds[0].message.contains("nowhere"), "{}", ds[0].message);
    assert_eq!(ds[0].loc.map(|l| l.line), Some(line));
}
