//! Each construct of the supported subset, one at a time.

use super::*;
use ligand_expr::Expr;
use ligand_model::{InitialQuantity, Symbol, DEFAULT_COMPARTMENT};

#[test]
fn model_blocks_and_bare_statements() {
    let m = parse_clean("model *main_model()\n  k = 1\nend");
    assert_eq!(m.name.as_deref(), Some("main_model"));
    let m = parse_clean("module m2\n  k = 1\nend\n");
    assert_eq!(m.name.as_deref(), Some("m2"));
    let m = parse_clean("k = 1; j = 2");
    assert_eq!(m.name, None);
    assert_eq!(m.parameters.len(), 2);
}

#[test]
fn comments_and_separators() {
    let src = "// a comment\n# another\n/* a block\n   over lines */ k = 1 // trailing\nj = 2; i = 3 # trailing\nh = /* inline */ 4";
    let m = parse_clean(src);
    let values: Vec<(String, Option<f64>)> = m
        .parameters
        .iter()
        .map(|p| (p.id.clone(), p.value))
        .collect();
    assert_eq!(
        values,
        [
            ("k".to_string(), Some(1.0)),
            ("j".to_string(), Some(2.0)),
            ("i".to_string(), Some(3.0)),
            ("h".to_string(), Some(4.0))
        ]
    );
}

#[test]
fn windows_line_endings_and_byte_order_mark() {
    let m = parse_clean("\u{feff}model m\r\n  k = 1\r\n  x := k*\u{feff}2\r\nend\r\n");
    assert_eq!(m.parameters.len(), 2);
}

#[test]
fn line_continuation_and_parentheses_span_lines() {
    let m = parse_clean("x := 1 + \\\n  2\ny := (1 +\n  3)\n");
    assert_eq!(m.assignment_rules[0].math.to_string(), "1 + 2");
    assert_eq!(m.assignment_rules[1].math.to_string(), "1 + 3");
}

#[test]
fn compartments() {
    let (m, ds) = parse_ok(
        "compartment c = 2.5, d;\nvar compartment v = 1\nconst compartment w = 3\nv' = 0.1",
    );
    assert_eq!(m.compartments.len(), 4);
    assert_eq!(m.compartment("c").unwrap().size, Some(2.5));
    assert!(m.compartment("c").unwrap().constant);
    assert_eq!(m.compartment("c").unwrap().spatial_dimensions, 3.0);
    assert_eq!(m.compartment("d").unwrap().size, None);
    assert!(!m.compartment("v").unwrap().constant);
    assert!(m.compartment("w").unwrap().constant);
    // `d` has no size: a warning, not an error.
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].kind, DiagnosticKind::MissingValue);
    assert_eq!(at(&ds[0]), (1, 22));
}

#[test]
fn species_declarations() {
    let m = parse_clean(
        "compartment c = 1\n\
         species A in c, B in c = 3;\n\
         species $X in c; const species Y in c; var species Z in c\n\
         substanceOnly species S in c = 2\n\
         A = 1; X = 1; Y = 1; Z = 1",
    );
    let a = m.species("A").unwrap();
    assert_eq!(
        (a.compartment.as_str(), a.initial),
        ("c", Some(InitialQuantity::Concentration(1.0)))
    );
    assert_eq!(
        m.species("B").unwrap().initial,
        Some(InitialQuantity::Concentration(3.0))
    );
    assert!(m.species("X").unwrap().boundary_condition);
    // Antimony: `const` species are boundary species (constant=false in SBML).
    let y = m.species("Y").unwrap();
    assert!(y.boundary_condition && !y.constant);
    assert!(!m.species("Z").unwrap().boundary_condition);
    let s = m.species("S").unwrap();
    assert!(s.has_only_substance_units);
    assert_eq!(s.initial, Some(InitialQuantity::Amount(2.0)));
}

#[test]
fn species_without_compartment_go_to_the_default_one() {
    let m = parse_clean("species A; A = 1\nJ1: A -> B; k*A\nB = 0; k = 1");
    assert_eq!(m.compartments.len(), 1);
    let c = &m.compartments[0];
    assert_eq!(
        (c.id.as_str(), c.size, c.constant),
        (DEFAULT_COMPARTMENT, Some(1.0), true)
    );
    assert!(m
        .species
        .iter()
        .all(|s| s.compartment == DEFAULT_COMPARTMENT));
}

#[test]
fn in_statement_and_undeclared_compartment_given_a_size() {
    let m = parse_clean("S1 in comp2 = 5\ncomp2 = 2");
    assert_eq!(m.species("S1").unwrap().compartment, "comp2");
    assert_eq!(m.compartment("comp2").unwrap().size, Some(2.0));
}

#[test]
fn reactions() {
    let m = parse_clean(
        "J1: A + 2 B -> C; k1*A*B\n\
         C => D; k2*C\n\
         -> A; k0\n\
         D -> ; k3*D\n\
         species M; $X + A -> A + E; k4*X*A*M\n\
         2.5 E + E => F; k5\n\
         A = 1; B = 1; C = 0; D = 0; E = 0; F = 0; X = 1; M = 1\n\
         k0 = 1; k1 = 1; k2 = 1; k3 = 1; k4 = 1; k5 = 1",
    );
    let ids: Vec<&str> = m.reactions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["J1", "_J0", "_J1", "_J2", "_J3", "_J4"]);
    let j1 = m.reaction("J1").unwrap();
    assert!(j1.reversible);
    assert_eq!(j1.reactants[1].species, "B");
    assert_eq!(j1.reactants[1].stoichiometry, 2.0);
    assert!(!m.reaction("_J0").unwrap().reversible);
    let source = m.reaction("_J1").unwrap();
    assert!(source.reactants.is_empty());
    assert_eq!(source.products[0].species, "A");
    assert!(m.reaction("_J2").unwrap().products.is_empty());
    let r = m.reaction("_J3").unwrap();
    assert!(m.species("X").unwrap().boundary_condition);
    // M appears only in the rate law: a modifier; A is a reactant and a product.
    assert_eq!(r.modifiers, ["M"]);
    // `2.5 E + E` is one reactant with stoichiometry 3.5.
    let r = m.reaction("_J4").unwrap();
    assert_eq!(r.reactants.len(), 1);
    assert_eq!(r.reactants[0].stoichiometry, 3.5);
    let s = m.stoichiometry_matrix();
    assert_eq!(s.entry("A", "_J3"), Some(0.0));
    assert_eq!(s.entry("E", "_J4"), Some(-3.5));
}

#[test]
fn rate_law_given_by_assignment_to_the_reaction() {
    let m = parse_clean("J0: S1 + E -> ES;\nJ0 = k1*S1*E\nS1 = 1; E = 1; ES = 0; k1 = 1");
    assert_eq!(
        m.reaction("J0")
            .unwrap()
            .rate_law
            .as_ref()
            .unwrap()
            .to_string(),
        "k1 * S1 * E"
    );
    assert!(m.parameter("J0").is_none());
}

#[test]
fn reaction_without_rate_law_is_a_warning() {
    let (m, ds) = parse_ok("J1: A -> B;\nA = 1; B = 0");
    assert!(m.reactions[0].rate_law.is_none());
    let d = find(
        &ds,
        DiagnosticKind::MissingRateLaw,
        "reaction `J1` has no rate law",
    );
    assert_eq!(at(d), (1, 1));
}

#[test]
fn reaction_in_a_compartment() {
    let m = parse_clean("compartment cyt = 1\nJ0 in cyt: x -> y; k*x\nx = 1; y = 0; k = 1");
    assert_eq!(m.reactions[0].compartment.as_deref(), Some("cyt"));
    // Species of a reaction in a compartment are in it (Antimony's rule).
    assert_eq!(m.species("x").unwrap().compartment, "cyt");
}

#[test]
fn interactions_add_modifiers() {
    let m = parse_clean(
        "J0: S1 -> S2;\nS3 -| J0\ni2: S4 -o J0\nS1 = 1; S2 = 0; S3 = 1; S4 = 1\nJ0 = k*S1\nk = 1",
    );
    assert_eq!(m.reactions[0].modifiers, ["S3", "S4"]);
}

#[test]
fn values_and_initial_assignments() {
    let m = parse_clean("a = 1.5\nb = -2\nc = 2*a\nd = -inf\ne2 = sin(0.5)\n");
    assert_eq!(m.parameter("a").unwrap().value, Some(1.5));
    assert_eq!(m.parameter("b").unwrap().value, Some(-2.0));
    assert_eq!(m.parameter("d").unwrap().value, Some(f64::NEG_INFINITY));
    // Antimony: a value that is not a plain number is an initial assignment.
    assert_eq!(m.parameter("c").unwrap().value, None);
    let ia: Vec<String> = m
        .initial_assignments
        .iter()
        .map(|a| format!("{} = {}", a.symbol, a.math))
        .collect();
    assert_eq!(ia, ["c = 2 * a", "e2 = sin(0.5)"]);
    assert!(m.parameters.iter().all(|p| p.constant));
}

#[test]
fn units_are_ignored_with_a_warning() {
    let (m, ds) = parse_ok("compartment c = 1 litre\nspecies A in c = 10 uM\nunit uM = 1e-6 mole / litre\nk = 3 per_second * 2");
    assert_eq!(m.compartment("c").unwrap().size, Some(1.0));
    assert_eq!(
        m.species("A").unwrap().initial,
        Some(InitialQuantity::Concentration(10.0))
    );
    assert_eq!(m.initial_assignments[0].math.to_string(), "3 * 2");
    let units = of_kind(&ds, DiagnosticKind::Ignored);
    assert_eq!(units.len(), 4, "{ds:#?}");
    let d = find(&ds, DiagnosticKind::Ignored, "the unit `uM` is ignored");
    assert_eq!(at(d), (2, 21));
    assert_eq!(d.width, 2);
    find(
        &ds,
        DiagnosticKind::Ignored,
        "the unit definition is ignored",
    );
}

#[test]
fn assignment_rules_and_rate_rules() {
    let m = parse_clean(
        "species S in c; compartment c = 1; S = 1\nS := 2*time\nx = 0\nx' = -x\ny := x + 1",
    );
    assert_eq!(m.assignment_rules.len(), 2);
    assert_eq!(m.assignment_rules[0].variable, "S");
    assert_eq!(m.rate_rules[0].variable, "x");
    assert_eq!(m.rate_rules[0].math.to_string(), "-x");
    // Rule targets vary; a species set by a rule is a boundary species.
    assert!(!m.parameter("x").unwrap().constant);
    assert!(!m.parameter("y").unwrap().constant);
    assert!(m.species("S").unwrap().boundary_condition);
    assert_eq!(m.symbol("y"), Some(Symbol::Parameter(1)));
}

#[test]
fn declaration_with_assignment_rule() {
    let m = parse_clean("compartment C = 1; p = 2\nspecies S1 in C := 3 + p");
    assert_eq!(m.assignment_rules[0].variable, "S1");
    assert_eq!(m.assignment_rules[0].math.to_string(), "3 + p");
}

#[test]
fn var_and_const_parameters() {
    let m = parse_clean("var k1 = 1\nconst k2\nk2 = 3\nformula k3; k3 = 4\nvar k4; k4 = 5");
    assert!(!m.parameter("k1").unwrap().constant);
    assert!(m.parameter("k2").unwrap().constant);
    assert!(m.parameter("k3").unwrap().constant);
    assert!(!m.parameter("k4").unwrap().constant);
}

#[test]
fn events() {
    let m = parse_clean(
        "x = 0; y = 0; k = 1\n\
         E1: at (time > 10): k = 0, x = x + 1;\n\
         at 2 after time > 5, t0=false, priority=k + 1, fromTrigger=false, persistent=false: y = 3\n\
         E3: at time > 20:\n    y = 5",
    );
    assert_eq!(m.events.len(), 3);
    let e1 = m.event("E1").unwrap();
    assert_eq!(e1.trigger.to_string(), "time > 10");
    assert_eq!(e1.assignments.len(), 2);
    assert_eq!(e1.assignments[1].math.to_string(), "x + 1");
    assert!(e1.persistent && e1.initial_value && e1.use_values_from_trigger_time);
    assert!(e1.delay.is_none() && e1.priority.is_none());
    let e = &m.events[1];
    assert_eq!(e.id, "_E0");
    assert_eq!(e.delay, Some(Expr::Num(2.0)));
    assert_eq!(e.trigger.to_string(), "time > 5");
    assert_eq!(e.priority.as_ref().unwrap().to_string(), "k + 1");
    assert!(!e.initial_value && !e.use_values_from_trigger_time && !e.persistent);
    // Assignments may start on the line after the colon.
    assert_eq!(m.event("E3").unwrap().assignments[0].variable, "y");
}

#[test]
fn delay_written_after_the_trigger_is_accepted_with_a_warning() {
    let (m, ds) = parse_ok("k = 1\nE1: at time > 10 after 2: k = 0");
    let e = m.event("E1").unwrap();
    assert_eq!(e.delay, Some(Expr::Num(2.0)));
    assert_eq!(e.trigger.to_string(), "time > 10");
    let d = find(
        &ds,
        DiagnosticKind::Syntax,
        "Antimony writes the delay first",
    );
    assert!(!d.is_error());
}

#[test]
fn functions() {
    let m = parse_clean(
        "function mm(S, Vm, Km)\n  Vm*S/(Km + S)\nend\n\
         function sq(x) x*x end\n\
         model m\n  J1: A -> B; mm(A, V, K) + sq(0)\n  A = 1; B = 0; V = 1; K = 2\nend",
    );
    assert_eq!(m.function_definitions.len(), 2);
    assert_eq!(m.function("mm").unwrap().args, ["S", "Vm", "Km"]);
    assert_eq!(m.function("sq").unwrap().body.to_string(), "x * x");
    let rate = m.reactions[0].rate_law.as_ref().unwrap();
    assert!(
        matches!(rate, Expr::Bin(_, a, _) if matches!(**a, Expr::Apply(ref n, _) if n == "mm"))
    );
    assert_eq!(
        m.inline_expr(rate).unwrap().to_string(),
        "V * A / (K + A) + 0 * 0"
    );
    assert_eq!(m.symbol("mm"), Some(Symbol::Function(0)));
    // A appears in the rate law only inside a call, but it is a reactant: not a modifier.
    assert!(m.reactions[0].modifiers.is_empty());
}

#[test]
fn time_symbol() {
    let m = parse_clean("x := time^2");
    assert_eq!(m.assignment_rules[0].math.free_vars(), ["time"]);
    assert_eq!(m.symbol("time"), Some(Symbol::Time));
}

#[test]
fn predefined_functions_are_rewritten() {
    let m = parse_clean(
        "a := gt(time, 1)\nb := and(1, 0, 1)\nc := xor(1, 1, 1)\nd := sqr(time)\n\
         f := arccot(time + 1)\ng := power(2, time)\nh := exponentiale\ni := minus(time)\nj := plus(1, 2, 3)",
    );
    let text: Vec<String> = m
        .assignment_rules
        .iter()
        .map(|r| r.math.to_string())
        .collect();
    assert_eq!(
        text,
        [
            "time > 1",
            "1 && 0 && 1",
            "1 != 0 != (1 != 0) != (1 != 0)",
            "time^2",
            "atan(1 / (time + 1))",
            "2^time",
            "2.718281828459045",
            "-time",
            "1 + 2 + 3",
        ]
    );
    // xor of three trues is true.
    assert_eq!(m.assignment_rules[2].math.eval(&|_| None).unwrap(), 1.0);
}

#[test]
fn a_user_function_may_shadow_a_predefined_one() {
    let m = parse_clean("function sqr(x)\n x + 1\nend\ny := sqr(2)");
    assert!(matches!(&m.assignment_rules[0].math, Expr::Apply(n, _) if n == "sqr"));
}

#[test]
fn ignored_constructs_warn() {
    let (_, ds) = parse_ok(
        "species A in c; compartment c = 1; A = 1\n\
         A is \"ATP\"\n\
         A identity \"http://identifiers.org/chebi/CHEBI:15422\"\n\
         A.sboTerm = 247\n\
         A has uM\n\
         @something\n\
         model notes \"a note\"",
    );
    let ignored = of_kind(&ds, DiagnosticKind::Ignored);
    assert_eq!(ignored.len(), 6, "{ds:#?}");
    assert!(ds.iter().all(|d| !d.is_error()));
    find(&ds, DiagnosticKind::Ignored, "display name of `A`");
    find(&ds, DiagnosticKind::Ignored, "annotation `identity`");
    find(&ds, DiagnosticKind::Ignored, "SBO term");
}

#[test]
fn unsupported_constructs_are_errors_that_name_them() {
    let cases = [
        ("import \"other.txt\"", "importing files"),
        (
            "model sub()\nend\nmodel main\n  A: sub();\nend",
            "submodels",
        ),
        ("A.x = 3", "dotted names (`A.x`)"),
        ("--P1--G1--", "DNA strands"),
        ("0 = x - 1", "algebraic rules"),
        ("J1 <= 10", "constraints"),
        ("delete A.x", "deleting"),
        ("x := delay(y, 1); y = 1", "`delay`"),
        ("x := normal(0, 1)", "random distributions"),
        ("A is B", "synonyms"),
        ("k = ;", "clearing the definition"),
        ("model.layout = on", "layout and attribute statements"),
        ("species.color = azure", "layout and attribute statements"),
    ];
    for (src, text) in cases {
        let ds = parse_err(src);
        let d = find(&ds, DiagnosticKind::Unsupported, text);
        assert!(d.loc.is_some(), "{src}");
    }
}

#[test]
fn several_models_read_the_main_one() {
    let (m, ds) = parse_ok("model a\n  x = 1\nend\nmodel b\n  y = 2\nend");
    assert_eq!(m.name.as_deref(), Some("b"));
    assert!(m.parameter("x").is_none());
    find(&ds, DiagnosticKind::Ignored, "model `a` is ignored");
    let (m, _) = parse_ok("model *a\n  x = 1\nend\nmodel b\n  y = 2\nend");
    assert_eq!(m.name.as_deref(), Some("a"));
}

#[test]
fn later_values_replace_earlier_ones_with_a_warning() {
    let (m, ds) = parse_ok("pH = 7\nk1 = -log10(pH)\npH = 8.2");
    assert_eq!(m.parameter("pH").unwrap().value, Some(8.2));
    let d = find(
        &ds,
        DiagnosticKind::Redefinition,
        "`pH` was given a value at line 1, column 1",
    );
    assert_eq!(at(d), (3, 1));
}

#[test]
fn libantimony_output_reads_with_warnings_only() {
    // The shape of text that libAntimony (Tellurium's `getAntimony`) writes.
    let src = r#"// Created by libAntimony v2.12.0
model *BIOMD0000000010()

  // Compartments and Species:
  compartment uVol;
  species MKKK in uVol, MKKK_P in uVol;

  // Reactions:
  J0: MKKK => MKKK_P; uVol*J0_V1*MKKK/(J0_K1 + MKKK);

  // Species initializations:
  MKKK = 90;
  MKKK_P = 10;

  // Compartment initializations:
  uVol = 1;

  // Variable initializations:
  J0_V1 = 2.5;
  J0_K1 = 10;

  // Other declarations:
  const uVol;

  // Unit definitions:
  unit substance = 1e-9 mole;

  // Display Names:
  uVol is "cell";

  // CV terms:
  MKKK identity "http://identifiers.org/uniprot/P09560"
end

BIOMD0000000010 is "Kholodenko2000"
BIOMD0000000010 description "http://identifiers.org/pubmed/10712587"
"#;
    let (m, ds) = parse_ok(src);
    assert_eq!(m.name.as_deref(), Some("BIOMD0000000010"));
    assert_eq!(m.compartment("uVol").unwrap().size, Some(1.0));
    assert!(!m.reaction("J0").unwrap().reversible);
    assert_eq!(ds.len(), 5, "{ds:#?}");
    assert!(ds.iter().all(|d| d.kind == DiagnosticKind::Ignored));
}
