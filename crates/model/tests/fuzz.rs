//! Whatever the input, reading never panics; what reads without errors
//! writes back to the same model.

use super::*;
use proptest::prelude::*;

/// Tokens and fragments of the language, for token soup.
const VOCABULARY: &[&str] = &[
    "model",
    "end",
    "function",
    "species",
    "compartment",
    "const",
    "var",
    "substanceOnly",
    "formula",
    "unit",
    "at",
    "after",
    "in",
    "is",
    "has",
    "import",
    "t0",
    "priority",
    "fromTrigger",
    "persistent",
    "true",
    "false",
    "time",
    "A",
    "B",
    "C",
    "k",
    "k1",
    "J1",
    "E1",
    "c",
    "e",
    "pi",
    "f",
    "x",
    "sqr",
    "gt",
    "and",
    "delay",
    "piecewise",
    "0",
    "1",
    "2.5",
    "1e-3",
    ".5",
    "1.2.3",
    "->",
    "=>",
    "-|",
    "-o",
    "--",
    ":",
    ":=",
    "=",
    "'",
    ";",
    ",",
    "(",
    ")",
    "$",
    "+",
    "-",
    "*",
    "/",
    "^",
    "<",
    ">",
    "<=",
    ">=",
    "==",
    "!=",
    "&&",
    "||",
    "!",
    ".",
    "@",
    "\"",
    "\"s\"",
    "//",
    "#",
    "/*",
    "*/",
    "\\",
    "\n",
    "\n",
    " ",
    "  ",
    "\t",
    "{",
    "}",
    "é",
    "×",
    "```",
];

/// Statement templates for statement soup: `{a}` and `{b}` are names, `{r}` a reaction.
const STATEMENTS: &[&str] = &[
    "{a} = 1.5",
    "{a} = -2e-3",
    "{a} = 2*{b}",
    "{a} := {b} + time",
    "{a}' = -{b}",
    "{r}: {a} -> {b}; k*{a}",
    "{r}: 2 {a} => $ {b}; {b}",
    "{a} + {b} -> ; 1",
    "-> {a}; k0",
    "{r} = {a}*2",
    "{a} -o {r}",
    "species {a}",
    "species {a} in c",
    "species ${a} in cell",
    "substanceOnly species {a} = 3",
    "const {a}",
    "var {a}",
    "formula {a}",
    "compartment {a} = 2",
    "var compartment {a}",
    "compartment c = 1",
    "{a} in c",
    "at ({a} > 1): {b} = 2",
    "E{a}: at 1 after time > {b}, priority = {a}, t0 = false: {a} = {b} + 1",
    "at time > 2, persistent=false, fromTrigger=false: {b} = 0",
    "function sq(x) x*x end",
    "{a} := sq({b})",
    "{a} := piecewise(1, {b} > 2, gt({b}, 3))",
    "{a} = 10 uM",
    "k = 1; k0 = 2",
    "{a} is \"name\"",
];

const NAMES: &[&str] = &["A", "B", "C", "x", "y", "S1", "c", "k", "J1"];

fn check(src: &str) {
    let (m, ds) = parse_antimony_partial(src);
    for d in &ds {
        let _ = d.render(src);
    }
    let _ = m.validate();
    let _ = m.stoichiometry_matrix();
    let _ = m.sorted_assignment_rules();
    let _ = m.initialization_order();
    let _ = m.inlined();
    let text = m.to_antimony();
    let _ = parse_antimony_partial(&text);
    if !ds.iter().any(|d| d.is_error()) {
        assert_round_trip(&m);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(0..VOCABULARY.len(), 0..80)) {
        let src: Vec<&str> = tokens.iter().map(|&i| VOCABULARY[i]).collect();
        check(&src.join(" "));
        check(&src.concat());
    }

    #[test]
    fn statement_soup_round_trips_when_valid(
        picks in proptest::collection::vec((0..STATEMENTS.len(), 0..NAMES.len(), 0..NAMES.len(), 0..3usize), 0..25)
    ) {
        // Values for every name, so that many soups are valid models.
        let mut src = String::from("k = 1; k0 = 2; compartment c = 1, cell = 1\n");
        for (t, a, b, r) in picks {
            let line = STATEMENTS[t]
                .replace("{a}", NAMES[a])
                .replace("{b}", NAMES[b])
                .replace("{r}", ["J1", "J2", "R"][r]);
            src += &line;
            src.push('\n');
        }
        for n in &NAMES[..6] {
            src += &format!("{n} = 0.5\n");
        }
        check(&src);
    }

    #[test]
    fn valid_models_round_trip(
        values in proptest::collection::vec(-1e6f64..1e6, 4),
        stoich in 1u8..5,
        reversible in any::<bool>(),
        delay in proptest::option::of(0.0f64..10.0),
    ) {
        let arrow = if reversible { "->" } else { "=>" };
        let delay = delay.map(|d| format!("{d} after ")).unwrap_or_default();
        let src = format!(
            "model m\n  J1: {stoich} A {arrow} B; k*A\n  A = {}; B = {}; k = {}\n  E1: at {delay}(time > {}): k = 0\nend",
            values[0], values[1], values[2], values[3]
        );
        let (m, _) = parse_ok(&src);
        assert_round_trip(&m);
    }
}

#[test]
fn deep_nesting_and_long_input_do_not_overflow() {
    check(&format!("x := {}1{}", "(".repeat(5000), ")".repeat(5000)));
    check(&"(".repeat(20000));
    check(&"J1: A -> B; k*A\n".repeat(2000));
    check(&format!("x := {}", "-".repeat(10000)));
    // A long chain of rules, sorted without recursion.
    let mut src = String::from("r0 := time\n");
    for i in 1..3000 {
        src += &format!("r{i} := r{} + 1\n", i - 1);
    }
    let (m, _) = parse_ok(&src);
    assert_eq!(m.sorted_assignment_rules().unwrap().len(), 3000);
}

#[test]
fn odd_inputs() {
    for src in [
        "",
        "\n\n;;;",
        "model",
        "model *",
        "model m(",
        "function",
        "function f(",
        "function f(x)",
        "at",
        "at (",
        "at x:",
        "J1:",
        "J1: ->",
        "$",
        "A -o",
        "\"unterminated",
        "```unterminated",
        "/* unterminated",
        "k = 1 \\",
        "x' =",
        "species $",
        "species A in",
        "E: at 1 after:",
        "\u{feff}k = 1",
        "k = 1\u{feff}",
        "k = 1\r\nj = 2\r\n",
    ] {
        check(src);
    }
}
