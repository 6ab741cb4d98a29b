//! Integration tests of the model IR and its text format: one test binary,
//! modules by theme.

use ligand_model::{parse_antimony, parse_antimony_partial, Diagnostic, DiagnosticKind, Model};

/// A file under `tests/data/`.
fn data(path: &str) -> String {
    let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Parses text that must have no errors; prints every diagnostic otherwise.
fn parse_ok(src: &str) -> (Model, Vec<Diagnostic>) {
    match parse_antimony(src) {
        Ok(x) => x,
        Err(ds) => {
            let text: Vec<String> = ds.iter().map(|d| d.render(src)).collect();
            panic!("expected no errors, found:\n{}", text.join("\n"));
        }
    }
}

/// Parses text that must have no diagnostics at all.
fn parse_clean(src: &str) -> Model {
    let (m, ds) = parse_ok(src);
    let text: Vec<String> = ds.iter().map(|d| d.render(src)).collect();
    assert!(
        ds.is_empty(),
        "expected no warnings, found:\n{}",
        text.join("\n")
    );
    m
}

/// Parses text that must have errors; returns every diagnostic.
fn parse_err(src: &str) -> Vec<Diagnostic> {
    match parse_antimony(src) {
        Ok((m, _)) => panic!("expected errors, parsed {m:#?}"),
        Err(ds) => ds,
    }
}

/// The diagnostics of one kind.
fn of_kind(ds: &[Diagnostic], kind: DiagnosticKind) -> Vec<&Diagnostic> {
    ds.iter().filter(|d| d.kind == kind).collect()
}

/// Asserts that the diagnostics include one of `kind` whose message contains
/// `text`, and returns it; prints them all otherwise.
#[track_caller]
fn find<'a>(ds: &'a [Diagnostic], kind: DiagnosticKind, text: &str) -> &'a Diagnostic {
    ds.iter()
        .find(|d| d.kind == kind && d.message.contains(text))
        .unwrap_or_else(|| {
            let all: Vec<String> = ds.iter().map(|d| format!("{:?}: {}", d.kind, d)).collect();
            panic!(
                "no {kind:?} diagnostic containing {text:?}; found:\n{}",
                all.join("\n")
            )
        })
}

/// Line and column of a diagnostic.
fn at(d: &Diagnostic) -> (usize, usize) {
    let l = d.loc.expect("a location");
    (l.line, l.column)
}

/// Parse, write, parse again: the models must be equal (compared as JSON, so
/// that NaN equals NaN), and the second reading must have no new errors.
#[track_caller]
fn assert_round_trip(m: &Model) {
    let text = m.to_antimony();
    let (again, ds) = parse_antimony_partial(&text);
    let errors: Vec<String> = ds
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.render(&text))
        .collect();
    let before = m.validate().iter().any(|d| d.is_error());
    assert!(
        before || errors.is_empty(),
        "the written text has errors:\n{text}\n{}",
        errors.join("\n")
    );
    let a = serde_json::to_string_pretty(&m.without_locations()).unwrap();
    let b = serde_json::to_string_pretty(&again.without_locations()).unwrap();
    assert_eq!(a, b, "round trip changed the model; text:\n{text}");
}

mod constructs;
mod depth;
mod diagnostics;
mod fbc;
mod files;
mod fuzz;
mod ir;
mod roundtrip;
mod sbml;
