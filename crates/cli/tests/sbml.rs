//! `ligand fba` and SBML `comp` documents through `ligand simulate`.

use crate::{ligand, stderr, stdout, TempFile};

const FBA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1"
      xmlns:fbc="http://www.sbml.org/sbml/level3/version1/fbc/version2" fbc:required="false">
  <model id="chain" fbc:strict="false">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="zero" value="0" constant="true"/>
      <parameter id="two" value="2" constant="true"/>
      <parameter id="ten" value="10" constant="true"/>
    </listOfParameters>
    <listOfReactions>
      <reaction id="make" reversible="false" fbc:lowerFluxBound="zero" fbc:upperFluxBound="two">
        <listOfProducts><speciesReference species="A" stoichiometry="1" constant="true"/></listOfProducts>
      </reaction>
      <reaction id="use" reversible="false" fbc:lowerFluxBound="zero" fbc:upperFluxBound="ten">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
      </reaction>
    </listOfReactions>
    <fbc:listOfObjectives fbc:activeObjective="obj">
      <fbc:objective fbc:id="obj" fbc:type="maximize">
        <fbc:listOfFluxObjectives><fbc:fluxObjective fbc:reaction="use" fbc:coefficient="3"/></fbc:listOfFluxObjectives>
      </fbc:objective>
    </fbc:listOfObjectives>
  </model>
</sbml>"#;

#[test]
fn fba_prints_the_objective_and_the_optimal_fluxes() {
    let f = TempFile::new("fba-chain.xml", FBA.as_bytes());
    let out = ligand(&["fba", f.path()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "obj,make,use\n6,2,2\n");
    let out = ligand(&["fba", f.path(), "--vars", "use,obj"], None);
    assert_eq!(stdout(&out), "use,obj\n2,6\n");
    let out = ligand(&["fba", f.path(), "--vars", "nothing"], None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("`nothing` is neither a reaction nor the objective `obj`"));
}

#[test]
fn simulate_flattens_comp_models_with_external_definitions_beside_the_file() {
    let decay = r#"<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="decay">
    <listOfParameters>
      <parameter id="k" value="1" constant="true"/>
      <parameter id="x" value="1" constant="false"/>
    </listOfParameters>
    <listOfRules>
      <rateRule variable="x">
        <math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><cn>-1</cn><ci>k</ci><ci>x</ci></apply></math>
      </rateRule>
    </listOfRules>
  </model>
</sbml>"#;
    // The parent replaces the submodel's rate constant with its own k = 2.
    let main = r#"<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"
      xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1" comp:required="true">
  <model id="main">
    <listOfParameters>
      <parameter id="k" value="2" constant="true">
        <comp:listOfReplacedElements>
          <comp:replacedElement comp:submodelRef="A" comp:idRef="k"/>
        </comp:listOfReplacedElements>
      </parameter>
    </listOfParameters>
    <comp:listOfSubmodels><comp:submodel comp:id="A" comp:modelRef="ext"/></comp:listOfSubmodels>
  </model>
  <comp:listOfExternalModelDefinitions>
    <comp:externalModelDefinition comp:id="ext" comp:source="comp-decay.xml"/>
  </comp:listOfExternalModelDefinitions>
</sbml>"#;
    let _decay = TempFile::new("comp-decay.xml", decay.as_bytes());
    let m = TempFile::new("comp-main.xml", main.as_bytes());
    let out = ligand(
        &[
            "simulate",
            m.path(),
            "--duration",
            "1",
            "--steps",
            "1",
            "--vars",
            "A__x",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let last: f64 = stdout(&out)
        .lines()
        .last()
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!((last - (-2.0f64).exp()).abs() < 1e-5, "{last}");
}
