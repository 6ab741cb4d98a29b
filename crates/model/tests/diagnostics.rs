//! Each diagnostic: its kind, message, location and rendering.

use super::*;
use ligand_model::Severity;

#[test]
fn undefined_symbol_with_suggestion_renders_with_a_caret() {
    let src = "model m\n  J1: A -> B; Vmax*A/(Km + A)\n  A = 1; B = 0\n  Vmax = 1; KM = 0.5\nend";
    let ds = parse_err(src);
    let d = find(&ds, DiagnosticKind::UndefinedSymbol, "`Km`");
    assert_eq!(
        d.message,
        "undefined symbol `Km` in the rate law of reaction `J1`"
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `KM`?"));
    assert_eq!(at(d), (2, 23));
    assert_eq!(
        d.render(src),
        "error: undefined symbol `Km` in the rate law of reaction `J1`\n \
         --> line 2, column 23\n  \
         |\n\
         2 |   J1: A -> B; Vmax*A/(Km + A)\n  \
         |                       ^^\n  \
         = help: did you mean `KM`?"
    );
}

#[test]
fn undefined_symbol_without_a_close_name() {
    let ds = parse_err("x := zeta * 2");
    let d = find(
        &ds,
        DiagnosticKind::UndefinedSymbol,
        "`zeta` in the assignment rule for `x`",
    );
    assert_eq!(d.help, None);
    assert_eq!(at(d), (1, 6));
}

#[test]
fn one_letter_names_suggest_only_a_change_of_case() {
    let ds = parse_err("J1: A -> B; k*A\nA = 1; B = 1; K = 1");
    assert_eq!(
        find(&ds, DiagnosticKind::UndefinedSymbol, "`k`")
            .help
            .as_deref(),
        Some("did you mean `K`?")
    );
    let ds = parse_err("J1: A -> B; q*A\nA = 1; B = 1; K = 1");
    assert_eq!(find(&ds, DiagnosticKind::UndefinedSymbol, "`q`").help, None);
}

#[test]
fn undeclared_compartment_with_suggestion() {
    let src = "compartment cytosol = 1\nspecies A in cytosl\nA = 1";
    let ds = parse_err(src);
    let d = find(&ds, DiagnosticKind::UndeclaredCompartment, "species `A`");
    assert_eq!(
        d.message,
        "species `A` is in compartment `cytosl`, which is not declared"
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `cytosol`?"));
    assert_eq!(at(d), (2, 14));
    assert!(d
        .render(src)
        .contains("2 | species A in cytosl\n  |              ^^^^^^"));
}

#[test]
fn cyclic_rules_name_the_cycle() {
    let src = "a := b + 1\nb := c * 2\nc := a - time";
    let ds = parse_err(src);
    let d = find(&ds, DiagnosticKind::CyclicRules, "cyclic assignment rules");
    assert_eq!(d.message, "cyclic assignment rules: a -> b -> c -> a");
    assert_eq!(at(d), (1, 1));
    assert_eq!(of_kind(&ds, DiagnosticKind::CyclicRules).len(), 1);
    // A self-reference is a cycle of one.
    let ds = parse_err("x := x + 1");
    assert_eq!(
        find(&ds, DiagnosticKind::CyclicRules, "").message,
        "cyclic assignment rules: x -> x"
    );
}

#[test]
fn cycles_through_reaction_rates_and_initial_values() {
    let ds = parse_err("J1: A -> B; k*A\nk := J1 * 2\nA = 1; B = 0");
    assert_eq!(
        find(&ds, DiagnosticKind::CyclicRules, "").message,
        "cyclic assignment rules: k -> J1 -> k"
    );
    let ds = parse_err("a = b + 1\nb = 2*a");
    assert_eq!(
        find(&ds, DiagnosticKind::CyclicRules, "").message,
        "cyclic initial values: a -> b -> a"
    );
}

#[test]
fn syntax_error_in_an_expression_points_into_the_file() {
    let src = "model m\n  k1 = 0.1\n  J1: A -> B; k1 * (A +* 2)\n  A = 1; B = 0\nend";
    let ds = parse_err(src);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    let d = &ds[0];
    assert_eq!(d.kind, DiagnosticKind::Syntax);
    assert_eq!(
        d.message,
        "expected an expression, found `*` in the rate law of reaction `J1`"
    );
    assert_eq!(at(d), (3, 24));
    let caret = format!("  | {}^", " ".repeat(23));
    assert_eq!(
        d.render(src),
        format!(
            "error: expected an expression, found `*` in the rate law of reaction `J1`\n \
             --> line 3, column 24\n  \
             |\n\
             3 |   J1: A -> B; k1 * (A +* 2)\n{caret}"
        )
    );
}

#[test]
fn syntax_error_help_positions_are_file_positions() {
    let src = "k = 1\ny := k * (1 +\n   2";
    let ds = parse_err(src);
    let d = find(&ds, DiagnosticKind::Syntax, "expected `)`");
    assert_eq!(
        d.help.as_deref(),
        Some("the `(` at line 2, column 10 is not closed")
    );
}

#[test]
fn statement_syntax_errors() {
    let cases: [(&str, &str, (usize, usize)); 8] = [
        ("J1: A -> B k*A", "expected `;` and a rate law", (1, 12)),
        ("A + -> B; k", "expected a species, found `->`", (1, 5)),
        (
            "k 1",
            "expected `=`, `:=`, `'`, `:` or a reaction after `k`",
            (1, 3),
        ),
        (
            "at (x > 1) x = 2",
            "expected `:` before the event's assignments, found `x`",
            (1, 12),
        ),
        (
            "species 3",
            "expected a name to declare, found the number `3`",
            (1, 9),
        ),
        (
            "function f(a\n a\nend",
            "expected `)` to close the argument list",
            (1, 13),
        ),
        ("end", "`end` without an open `model`", (1, 1)),
        (
            "x := 1 ] 2",
            "expected an expression, found the character `]`",
            (1, 8),
        ),
    ];
    for (src, text, loc) in cases {
        let ds = parse_err(src);
        let d = find(&ds, DiagnosticKind::Syntax, text);
        assert_eq!(at(d), loc, "{src}");
    }
}

#[test]
fn unknown_function_suggests_a_name() {
    let ds = parse_err("function hill(x, n)\n x^n/(1 + x^n)\nend\ny := hil(time, 2)");
    let d = find(&ds, DiagnosticKind::Syntax, "unknown function `hil`");
    assert_eq!(d.help.as_deref(), Some("did you mean `hill`?"));
    assert_eq!(at(d), (4, 6));
}

#[test]
fn unclosed_model_and_comment() {
    let ds = parse_err("model m\n  k = 1\n");
    let d = find(
        &ds,
        DiagnosticKind::Syntax,
        "model `m` is not closed with `end`",
    );
    assert_eq!(at(d), (1, 7));
    let ds = parse_err("k = 1 /* never closed\n");
    find(&ds, DiagnosticKind::Syntax, "comment is not closed");
}

#[test]
fn unclosed_parenthesis_does_not_swallow_the_next_statements() {
    let src = "model m\n  J1: A -> B; k*(A\n  A = 1; B = 0; k = 1\nend";
    let ds = parse_err(src);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    find(&ds, DiagnosticKind::Syntax, "expected `)`");
}

#[test]
fn duplicate_ids() {
    let ds = parse_err("A: A -> B; 1\nA = 1; B = 1");
    let d = find(&ds, DiagnosticKind::DuplicateId, "duplicate id `A`");
    assert!(d.message.contains("reaction"), "{}", d.message);
    let ds = parse_err("function f(x, x)\n x\nend\ny := f(1, 2)");
    find(&ds, DiagnosticKind::DuplicateId, "two arguments named `x`");
}

#[test]
fn kind_conflicts() {
    let ds = parse_err("compartment c = 1\nspecies c");
    find(
        &ds,
        DiagnosticKind::KindConflict,
        "`c` was declared a compartment at line 1, column 13",
    );
    let ds = parse_err("compartment c = 1\nJ1: c -> B; 1\nB = 1");
    find(
        &ds,
        DiagnosticKind::KindConflict,
        "`c` is declared a compartment but used as a species",
    );
}

#[test]
fn rule_conflicts() {
    let ds = parse_err("x := 1\nx' = 2");
    let d = find(
        &ds,
        DiagnosticKind::ConflictingRules,
        "both an assignment rule",
    );
    assert_eq!(
        d.message,
        "`x` has both an assignment rule (the first at line 1, column 1) and a rate rule"
    );
    assert_eq!(at(d), (2, 1));
    let ds = parse_err("x := 1\nx = 2*time");
    find(
        &ds,
        DiagnosticKind::ConflictingRules,
        "an assignment rule (the first at line 1, column 1) and an initial assignment",
    );
    let ds = parse_err("x := time\nat (time > 1): x = 2");
    find(
        &ds,
        DiagnosticKind::ConflictingRules,
        "an assignment rule already determines",
    );
}

#[test]
fn assignment_to_a_constant() {
    let src = "const k = 1\nat (time > 1): k = 2";
    let ds = parse_err(src);
    let d = find(&ds, DiagnosticKind::AssignmentToConstant, "changes `k`");
    assert_eq!(
        d.message,
        "event `_E0` changes `k`, which is a constant parameter"
    );
    assert_eq!(d.help.as_deref(), Some("declare it variable: `var k`"));
    assert_eq!(at(d), (2, 16));
    let ds = parse_err("const compartment c = 1\nc := 2*time");
    find(
        &ds,
        DiagnosticKind::AssignmentToConstant,
        "the assignment rule for `c` changes `c`, which is a constant compartment",
    );
}

#[test]
fn user_function_arity_mismatch() {
    let ds = parse_err("function f(a, b)\n  a + b\nend\ny := f(1)");
    let d = find(&ds, DiagnosticKind::ArityMismatch, "");
    assert_eq!(
        d.message,
        "function `f` takes 2 arguments (a, b), but the assignment rule for `y` calls it with 1"
    );
    assert_eq!(at(d), (4, 6));
    let ds = parse_err("y := gt(1)");
    let d = find(
        &ds,
        DiagnosticKind::ArityMismatch,
        "`gt` expects at least 2 arguments, found 1",
    );
    assert_eq!(at(d), (1, 6));
}

#[test]
fn function_bodies_see_only_their_arguments() {
    let ds = parse_err("function f(a)\n  a*k\nend\nk = 1\ny := f(2)");
    let d = find(
        &ds,
        DiagnosticKind::UndefinedSymbol,
        "the body of function `f` uses `k`",
    );
    assert_eq!(at(d), (2, 5));
}

#[test]
fn recursive_functions() {
    let ds = parse_err("function f(a)\n  g(a)\nend\nfunction g(a)\n  f(a)\nend\ny := f(1)");
    find(
        &ds,
        DiagnosticKind::RecursiveFunction,
        "function `f` calls itself",
    );
}

#[test]
fn reserved_names() {
    let ds = parse_err("species e; e = 1");
    let d = find(
        &ds,
        DiagnosticKind::ReservedName,
        "`e` cannot be the id of a species",
    );
    assert!(d.message.contains("Euler's number"));
    let ds = parse_err("time = 3");
    find(&ds, DiagnosticKind::ReservedName, "the simulation time");
}

#[test]
fn species_changed_by_reaction_and_rule() {
    // Antimony makes a species with a rule a boundary species, so text cannot
    // say this; a model built in code can.
    let (mut m, _) = parse_ok("J1: A -> B; k*A\nA = 1; B = 0; k = 1\nB := 2");
    assert!(m.species("B").unwrap().boundary_condition);
    m.species[1].boundary_condition = false;
    let ds = m.validate();
    find(
        &ds,
        DiagnosticKind::ChangedByReactionAndRule,
        "species `B` is changed both by reaction `J1` and by a rule",
    );
}

#[test]
fn unknown_event_option() {
    let ds = parse_err("x = 1\nat (x > 1), t1=false: x = 0");
    let d = find(&ds, DiagnosticKind::Syntax, "unknown event option `t1`");
    assert_eq!(d.help.as_deref(), Some("did you mean `t0`?"));
    assert_eq!(at(d), (2, 13));
    let ds = parse_err("x = 1\nat (x > 1), persistent=maybe: x = 0");
    find(&ds, DiagnosticKind::Syntax, "must be `true` or `false`");
}

#[test]
fn warnings_for_missing_values() {
    let (_, ds) = parse_ok("species A; var k\nJ1: A -> ; k*A");
    let w = of_kind(&ds, DiagnosticKind::MissingValue);
    assert_eq!(w.len(), 2);
    assert!(w.iter().all(|d| d.severity == Severity::Warning));
    assert_eq!(at(w[0]), (1, 9));
    assert_eq!(w[0].help.as_deref(), Some("give it a value, e.g. `A = 0`"));
}

#[test]
fn a_rate_rule_needs_an_initial_value() {
    let (_, ds) = parse_ok("x' = 1");
    let d = find(
        &ds,
        DiagnosticKind::MissingValue,
        "parameter `x` has no value",
    );
    assert_eq!(at(d), (1, 1));
    let (_, ds) = parse_ok("x' = 1; x = 0");
    assert!(ds.is_empty(), "{ds:#?}");
}

#[test]
fn a_failed_definition_is_reported_once() {
    let ds = parse_err("k = 1 +\nJ1: A -> B; k*A\nA = 1; B = 0");
    assert_eq!(ds.len(), 1, "{ds:#?}");
}

#[test]
fn errors_come_first_then_by_location() {
    let ds = parse_err("species A\nJ1: A -> B; q*A\nB = 1");
    assert!(ds[0].is_error());
    assert!(ds[1..].iter().all(|d| !d.is_error()));
}

#[test]
fn too_many_errors_stop_the_parse() {
    let src = "x y\n".repeat(500);
    let ds = parse_err(&src);
    assert!(ds.len() < 300);
    find(&ds, DiagnosticKind::TooManyErrors, "more than 200 errors");
}

#[test]
fn display_of_a_diagnostic() {
    let ds = parse_err("x := zeta");
    assert_eq!(
        ds[0].to_string(),
        "error: undefined symbol `zeta` in the assignment rule for `x` at line 1, column 6"
    );
}

#[test]
fn rendering_without_a_location_and_past_the_line_end() {
    let d = Diagnostic::warning(DiagnosticKind::MissingValue, "no value").with_help("give one");
    assert_eq!(
        d.render("anything"),
        "warning: no value\n  = help: give one"
    );
    let d = Diagnostic::error(DiagnosticKind::Syntax, "bad")
        .at(Some(ligand_model::Loc::new(1, 3)))
        .with_width(40);
    assert_eq!(
        d.render("abcd"),
        "error: bad\n --> line 1, column 3\n  |\n1 | abcd\n  |   ^^"
    );
}
