//! `ligand simulate` end to end: the tolerances it states, stability of
//! steady states, outputs that are not numbers, units of doses, and every
//! option that is ignored or conflicts with another.

use super::{ligand, stderr, stdout, TempFile};

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

const DECAY: &str = "model decay
  compartment V = 1e-15;
  species A in V, B in V;
  r: A -> B; V*k*A
  A = 2e-9; B = 0; k = 0.1
end
";

/// Runs `ligand simulate` on a model text with more arguments.
fn simulate(model: &str, name: &str, args: &[&str]) -> std::process::Output {
    let f = TempFile::new(name, model.as_bytes());
    let mut all = vec!["simulate", f.path()];
    all.extend_from_slice(args);
    ligand(&all, None)
}

/// Asserts a failure whose message names every one of `needles`.
fn assert_refused(o: &std::process::Output, needles: &[&str]) {
    assert!(!o.status.success(), "exit 0: {}", stdout(o));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    let e = stderr(o);
    for n in needles {
        assert!(e.contains(n), "`{n}` not in: {e}");
    }
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn the_tolerances_are_stated_and_follow_the_model() {
    let o = simulate(
        DECAY,
        "decay1.ant",
        &["--times", "0,10", "--format", "json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("tolerances: rtol 1e-6; atol scaled to the model"));
    let v = json(&o);
    // A's amount is 2e-9 * 1e-15 = 2e-24 mol: atol = 1e-6 * 1e-6 * 2e-24.
    let atol = v["tolerances"]["atol"]["A"].as_f64().unwrap();
    assert!((atol - 2e-36).abs() < 1e-48, "{atol}");
    assert_eq!(v["tolerances"]["atol_rule"], "scaled");
    // The answer is the closed form: A = 2e-9 exp(-1) at t = 10.
    let a = v["values"][1][0].as_f64().unwrap();
    let exact = 2e-9 * (-1.0f64).exp();
    assert!((a - exact).abs() < 1e-5 * exact, "{a} vs {exact}");
    // --atol: one value for every state, said so.
    let o = simulate(
        DECAY,
        "decay2.ant",
        &["--times", "0,10", "--atol", "1e-30", "--format", "json"],
    );
    assert!(
        stderr(&o).contains("atol 1e-30 for every state"),
        "{}",
        stderr(&o)
    );
    let v = json(&o);
    assert_eq!(v["tolerances"]["atol_rule"], "absolute");
    // (serde_json reads floats to within an ulp)
    let b = v["tolerances"]["atol"]["B"].as_f64().unwrap();
    assert!((b - 1e-30).abs() < 1e-44, "{b}");
}

const LOGISTIC: &str = "model logistic
  species X;
  grow: -> X; k*X
  crowd: X -> ; k*X^2
  X = 0; k = 1
end
";

#[test]
fn an_unstable_steady_state_is_never_silent() {
    let o = simulate(
        LOGISTIC,
        "logistic1.ant",
        &["--steady-state", "--format", "json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["stable"], false);
    assert_eq!(v["stability"]["kind"], "unstable");
    assert_eq!(v["stability"]["max_real_part"].as_f64(), Some(1.0));
    assert!(v["warnings"][0].as_str().unwrap().contains("unstable"));
    assert!(
        stderr(&o).contains("warning: the steady state is unstable"),
        "{}",
        stderr(&o)
    );
    // CSV: the row, and the warning on standard error even with --quiet.
    let o = simulate(LOGISTIC, "logistic2.ant", &["--steady-state", "--quiet"]);
    assert_eq!(stdout(&o), "time,X\ninf,0\n");
    assert!(
        stderr(&o).contains("warning: the steady state is unstable"),
        "{}",
        stderr(&o)
    );
    // From X = 0.5 the stable state X = 1 is found, without a warning.
    let o = simulate(
        &LOGISTIC.replace("X = 0;", "X = 0.5;"),
        "logistic3.ant",
        &["--steady-state", "--format", "json"],
    );
    let v = json(&o);
    assert_eq!(v["stable"], true);
    assert!((v["values"][0].as_f64().unwrap() - 1.0).abs() < 1e-6);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn a_rule_that_is_not_a_number_is_an_error_naming_it() {
    let model = "species A; A -> ; A; A = 1; r := sqrt(A - 0.5)\n";
    let o = simulate(
        model,
        "nan.ant",
        &["--duration", "1", "--steps", "10", "--vars", "A,r"],
    );
    assert_refused(&o, &["`r`", "not a number", "t=0.7"]);
    assert!(!stdout(&o)
        .lines()
        .any(|l| !l.starts_with('#') && l.contains("NaN")));
}

#[test]
fn duplicate_and_ignored_options_are_errors() {
    let o = simulate(
        DECAY,
        "o1.ant",
        &["--times", "0,1", "--set", "k=1", "--set", "k=2"],
    );
    assert_refused(&o, &["--set `k`", "twice"]);
    let o = simulate(
        DECAY,
        "o2.ant",
        &["--steady-state", "--duration", "10", "--steps", "2"],
    );
    assert_refused(&o, &["--duration", "--steady-state"]);
    let o = simulate(DECAY, "o3.ant", &["--steady-state", "--dose", "A=1"]);
    assert_refused(&o, &["--dose", "--steady-state"]);
    let o = simulate(DECAY, "o4.ant", &["--steady-state", "--method", "erk"]);
    assert_refused(&o, &["--method", "--steady-state"]);
    let table = TempFile::new("ss-scan.csv", b"k\n0.1\n");
    let o = simulate(
        DECAY,
        "o6.ant",
        &["--steady-state", "--scan", table.path(), "--final-only"],
    );
    assert_refused(&o, &["--final-only", "--steady-state"]);
    let o = simulate(DECAY, "o5.ant", &["--times", "0,1", "--vars", "A,A"]);
    assert_refused(&o, &["--vars", "`A` twice"]);
}

#[test]
fn a_dose_after_the_end_is_an_error() {
    let o = simulate(DECAY, "late.ant", &["--times", "0,10", "--dose", "A=1@20"]);
    assert_refused(&o, &["--dose into `A` at t=20", "last output time 10"]);
    let o = simulate(
        DECAY,
        "late2.ant",
        &["--times", "0,10", "--infuse", "A=1@10:30"],
    );
    assert_refused(&o, &["--infuse into `A` at t=10"]);
    // A dose at the last output time is given (and reported: values after it).
    let o = simulate(
        DECAY,
        "late3.ant",
        &["--times", "0,10", "--dose", "A=1e-24@10", "--amounts", "A"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn too_many_steps_are_refused_before_allocating() {
    let o = simulate(
        DECAY,
        "steps.ant",
        &["--duration", "1", "--steps", "1000000000000"],
    );
    assert_refused(&o, &["--steps 1000000000000", "100000000 values"]);
}

#[test]
fn an_empty_scan_table_and_a_scan_column_also_set_are_errors() {
    let empty = TempFile::new("empty-scan.csv", b"k\n");
    let o = simulate(DECAY, "s1.ant", &["--times", "0,1", "--scan", empty.path()]);
    assert_refused(&o, &["empty-scan.csv", "no rows"]);
    let table = TempFile::new("scan-k.csv", b"k\n0.1\n0.2\n");
    let o = simulate(
        DECAY,
        "s2.ant",
        &["--times", "0,1", "--scan", table.path(), "--set", "k=3"],
    );
    assert_refused(&o, &["`k`", "--set", "scan table"]);
}

#[test]
fn a_model_with_nothing_to_report_says_so() {
    let o = simulate(
        "model empty\n k = 1\nend\n",
        "empty.ant",
        &["--times", "0,1"],
    );
    assert_refused(&o, &["no species", "--vars"]);
    // The synapse frame file: a hint to simulate the built-in by name.
    let frame = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/synapse/synapse.ant"
    );
    let o = ligand(&["simulate", frame, "--times", "0,1"], None);
    assert_refused(
        &o,
        &["frame of a built-in model", "ligand simulate synapse"],
    );
}

#[test]
fn a_concentration_dose_follows_the_model_units() {
    // Amounts in nmol, volumes in litres: 1 uM into 2 L is 2000 nmol.
    let model = "model u
  unit substance = nmole; unit volume = litre
  compartment V = 2; species C in V; C = 0
end
";
    let last = |o: &std::process::Output| -> f64 {
        assert!(o.status.success(), "{}", stderr(o));
        let out = stdout(o);
        let row = out.lines().last().unwrap().to_string();
        row.split(',').nth(1).unwrap().parse().unwrap()
    };
    let dose = ["--times", "0", "--dose", "C=1uM", "--amounts", "C"];
    let c = last(&simulate(model, "units1.ant", &dose));
    assert!((c - 2000.0).abs() < 1e-9, "{c}");
    // The same model in mole: 2e-6 mol.
    let c = last(&simulate(
        &model.replace("nmole", "mole"),
        "units2.ant",
        &dose,
    ));
    assert!((c - 2e-6).abs() < 1e-18, "{c}");
    // In femtolitres and molecules (items): 1 uM in 2 fL is 1204 molecules.
    let items = model.replace("nmole", "item").replace("litre", "fL");
    let c = last(&simulate(&items, "units4.ant", &dose));
    assert!((c - 1e-6 * 2e-15 * 6.02214076e23).abs() < 1e-9, "{c}");
    // No declared units: refused, saying what is missing.
    let o = simulate(
        "compartment V = 2; species C in V; C = 0\n",
        "units3.ant",
        &["--times", "0", "--dose", "C=1uM"],
    );
    assert_refused(
        &o,
        &["--dose `C=1uM`", "no substance unit", "without a unit"],
    );
}

/// `-o` naming the model or the scan table is refused and the file is left as it was.
#[test]
fn the_output_may_not_be_an_input() {
    let model = TempFile::new("self-model.ant", DECAY.as_bytes());
    let o = ligand(
        &[
            "simulate",
            model.path(),
            "--duration",
            "1",
            "--steps",
            "2",
            "-o",
            model.path(),
        ],
        None,
    );
    assert_refused(&o, &["--output", "is the input file"]);
    assert_eq!(std::fs::read_to_string(model.path()).unwrap(), DECAY);
    let scan = TempFile::new("self-scan.csv", b"k\n0.1\n0.2\n");
    let o = ligand(
        &[
            "simulate",
            model.path(),
            "--duration",
            "1",
            "--steps",
            "2",
            "--scan",
            scan.path(),
            "-o",
            scan.path(),
        ],
        None,
    );
    assert_refused(&o, &["is the input file"]);
    assert_eq!(
        std::fs::read_to_string(scan.path()).unwrap(),
        "k\n0.1\n0.2\n"
    );
}
