//! `ligand fit` end to end: output shapes, options, and every bad-input path.

use super::{ligand, stderr, stdout, TempFile};

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// A rising 4PL in long format with two compounds and replicates.
fn plate() -> String {
    let mut s = String::from("compound,conc,response\n");
    for (name, top, logec50) in [("A", 100.0, -7.0), ("B", 60.0, -6.0)] {
        for i in 0..9 {
            let lc = -10.0 + 0.625 * i as f64;
            for (r, e) in [-1.5, 0.0, 1.2].iter().enumerate() {
                let y = 2.0
                    + (top - 2.0) / (1.0 + 10f64.powf(logec50 - lc))
                    + e * (1.0 + r as f64 * 0.1);
                s += &format!("{name},{:e},{y}\n", 10f64.powf(lc));
            }
        }
    }
    s
}

#[test]
fn example_runs_and_json_has_the_documented_shape() {
    let out = ligand(&["fit", "--example", "--format", "json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let fits = v["fits"].as_array().unwrap();
    assert_eq!(fits.len(), 3);
    let f = &fits[0];
    assert_eq!(f["group"]["compound"], "agonist-A");
    assert_eq!(f["model"], "4pl");
    assert_eq!(f["status"], "converged");
    for key in [
        "parameters",
        "derived",
        "n",
        "df",
        "rss",
        "sy_x",
        "r_squared",
        "aicc",
        "diagnostics",
        "messages",
    ] {
        assert!(!f[key].is_null(), "missing {key}");
    }
    let p = &f["parameters"][2];
    assert_eq!(p["name"], "logec50");
    for key in ["estimate", "std_error", "ci_low", "ci_high", "fixed"] {
        assert!(!p[key].is_null(), "missing {key}");
    }
    // The example plate was generated with logEC50 -7.3 for agonist-A.
    assert!((p["estimate"].as_f64().unwrap() + 7.3).abs() < 0.1);
    assert_eq!(f["derived"][0]["name"], "ec50");
    assert!(v["comparisons"].as_array().unwrap().is_empty());
}

#[test]
fn groups_csv_and_stdin() {
    let data = plate();
    let out = ligand(&["fit", "-", "--format", "csv"], Some(&data));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("compound,model,status,bottom,bottom_se"));
    assert!(lines[1].starts_with("A,4pl,converged,"));
    assert!(lines[2].starts_with("B,4pl,converged,"));
}

#[test]
fn output_file_is_written_and_results_are_deterministic() {
    let f = TempFile::new("plate.csv", plate().as_bytes());
    let out1 = TempFile::new("out1.json", b"");
    let out2 = TempFile::new("out2.json", b"");
    for o in [&out1, &out2] {
        let r = ligand(&["fit", f.path(), "--format", "json", "-o", o.path()], None);
        assert!(r.status.success(), "{}", stderr(&r));
    }
    let a = std::fs::read(out1.path()).unwrap();
    let b = std::fs::read(out2.path()).unwrap();
    assert!(!a.is_empty());
    assert_eq!(a, b, "same input, same bytes");
}

#[test]
fn options_fix_bound_share_compare_and_formula() {
    let f = TempFile::new("plate2.csv", plate().as_bytes());
    let out = ligand(
        &[
            "fit",
            f.path(),
            "--fix",
            "bottom=2",
            "--bound",
            "hill=0.5:2",
            "--format",
            "json",
        ],
        None,
    );
    let v = json(&out);
    assert_eq!(v["fits"][0]["parameters"][0]["fixed"], true);
    assert_eq!(v["fits"][0]["parameters"][0]["estimate"], 2.0);
    // Global fit sharing the Hill slope.
    let out = ligand(
        &["fit", f.path(), "--share", "hill", "--format", "json"],
        None,
    );
    let v = json(&out);
    let h0 = v["fits"][0]["parameters"][3]["estimate"].as_f64().unwrap();
    let h1 = v["fits"][1]["parameters"][3]["estimate"].as_f64().unwrap();
    assert_eq!(h0, h1);
    // Model comparison: 3pl (hill 1) against 4pl on data generated with hill 1.
    let out = ligand(
        &[
            "fit",
            f.path(),
            "--model",
            "3pl",
            "--compare",
            "4pl",
            "--format",
            "json",
        ],
        None,
    );
    let v = json(&out);
    let c = &v["comparisons"][0];
    assert_eq!(c["model"], "3pl");
    assert_eq!(c["alternative"], "4pl");
    assert!(c["p_value"].as_f64().unwrap() > 0.01);
    assert_eq!(c["preferred"], "3pl");
    // A formula in the column named by --x.
    let out = ligand(
        &[
            "fit",
            f.path(),
            "--x",
            "conc",
            "--formula",
            "y = b + (t - b) / (1 + 10^(lec - log10(conc)))",
            "--format",
            "json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let names: Vec<&str> = v["fits"][0]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b", "t", "lec"]);
    let lec = v["fits"][0]["parameters"][2]["estimate"].as_f64().unwrap();
    assert!((lec + 7.0).abs() < 0.05);
    // A stricter tolerance reaches the same optimum, more closely.
    let strict = ligand(
        &[
            "fit",
            f.path(),
            "--x",
            "conc",
            "--formula",
            "y = b + (t - b) / (1 + 10^(lec - log10(conc)))",
            "--tolerance",
            "1e-13",
            "--format",
            "json",
        ],
        None,
    );
    assert!(strict.status.success(), "{}", stderr(&strict));
    let strict_lec = json(&strict)["fits"][0]["parameters"][2]["estimate"]
        .as_f64()
        .unwrap();
    assert!((strict_lec - lec).abs() < 1e-6, "{strict_lec} vs {lec}");
}

#[test]
fn wide_format_and_interpolation() {
    let mut s = String::from("conc,rep1,rep2,rep3\n");
    for i in 0..10 {
        let c = 10f64.powf(-10.0 + 0.6 * i as f64);
        let y = 100.0 / (1.0 + 1e-7 / c);
        s += &format!("{c:e},{},{},{}\n", y - 1.0, y + 0.5, y + 0.3);
    }
    let f = TempFile::new("wide.csv", s.as_bytes());
    let out = ligand(
        &["fit", f.path(), "--interpolate", "50", "--format", "json"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["fits"][0]["n"], 30);
    let x = v["fits"][0]["interpolated"][0]["x"].as_f64().unwrap();
    assert!((x / 1e-7 - 1.0).abs() < 0.05, "{x}");
}

mod bad_input {
    use super::*;

    fn fails_with(args: &[&str], needle: &str) {
        let out = ligand(args, None);
        assert!(!out.status.success(), "expected failure: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains(needle), "stderr `{err}` lacks `{needle}`");
        assert!(!err.contains("panicked"), "{err}");
    }

    #[test]
    fn empty_file() {
        let f = TempFile::new("empty.csv", b"");
        fails_with(&["fit", f.path()], "empty.csv");
    }

    #[test]
    fn non_numeric_cell_names_line_and_column() {
        let f = TempFile::new("bad.csv", b"conc,response\n1e-9,1\n1e-8,abc\n");
        fails_with(&["fit", f.path()], "line 3");
        fails_with(&["fit", f.path()], "abc");
    }

    #[test]
    fn missing_column_suggests() {
        let f = TempFile::new("cols.csv", b"conc,response\n1e-9,1\n");
        fails_with(&["fit", f.path(), "--y", "respons"], "respons");
    }

    #[test]
    fn nan_and_infinity_are_refused() {
        let f = TempFile::new("nan.csv", b"conc,response\n1e-9,1\n1e-8,NaN\n");
        fails_with(&["fit", f.path()], "line 3");
        let f = TempFile::new("inf.csv", b"conc,response\n1e-9,inf\n1e-8,2\n");
        fails_with(&["fit", f.path()], "line 2");
    }

    #[test]
    fn formula_errors_point_at_the_place() {
        let f = TempFile::new("ok.csv", plate().as_bytes());
        fails_with(
            &["fit", f.path(), "--formula", "y = a * exq(x)"],
            "did you mean `exp`",
        );
        fails_with(
            &["fit", f.path(), "--formula", "y = a * (x"],
            "expected `)`",
        );
    }

    #[test]
    fn unknown_model_and_parameter() {
        let f = TempFile::new("ok2.csv", plate().as_bytes());
        fails_with(&["fit", f.path(), "--model", "4pk"], "did you mean `4pl`");
        fails_with(
            &["fit", f.path(), "--fix", "botom=0"],
            "did you mean `bottom`",
        );
        fails_with(&["fit", f.path(), "--weight", "1/x"], "--weight");
        fails_with(&["fit", f.path(), "--tolerance", "0"], "--tolerance");
        fails_with(&["fit", f.path(), "--tolerance", "2"], "between 0 and 1");
        fails_with(&["fit", "/nonexistent/file.csv"], "/nonexistent/file.csv");
        fails_with(&["fit"], "--example");
    }

    /// Per-group failures are reported in their own row; the run still succeeds.
    #[test]
    fn per_group_failures_do_not_stop_the_batch() {
        let mut s = plate();
        // A group with zero concentration (cannot be log-transformed), one with
        // constant y, and one with too few points.
        s += "Z,0,5\nZ,1e-9,6\nZ,1e-8,7\nZ,1e-7,8\nZ,1e-6,9\n";
        s += "F,1e-9,5\nF,1e-8,5\nF,1e-7,5\nF,1e-6,5\nF,1e-5,5\n";
        s += "S,1e-9,5\nS,1e-8,6\n";
        let f = TempFile::new("mixed.csv", s.as_bytes());
        let out = ligand(&["fit", f.path(), "--format", "json"], None);
        assert!(out.status.success(), "{}", stderr(&out));
        let v = json(&out);
        let fits = v["fits"].as_array().unwrap();
        assert_eq!(fits.len(), 5);
        assert_eq!(fits[0]["status"], "converged");
        assert_eq!(fits[2]["status"], "failed");
        assert!(fits[2]["messages"][0]
            .as_str()
            .unwrap()
            .contains("cannot be log-transformed"));
        assert_eq!(fits[3]["status"], "failed");
        assert!(fits[3]["messages"][0]
            .as_str()
            .unwrap()
            .contains("constant"));
        assert_eq!(fits[4]["status"], "failed");
        assert!(fits[4]["messages"][0]
            .as_str()
            .unwrap()
            .contains("fewer than"));
    }
}

/// What `ligand fit` takes its columns and x scale to be: stated, never guessed silently.
mod interpretation {
    use super::*;

    fn fails_with(args: &[&str], needles: &[&str]) {
        let out = ligand(args, None);
        assert_eq!(
            out.status.code(),
            Some(2),
            "expected exit 2: {}",
            stdout(&out)
        );
        assert!(
            out.stdout.is_empty(),
            "no result on failure: {}",
            stdout(&out)
        );
        let err = stderr(&out);
        for needle in needles {
            assert!(err.contains(needle), "stderr `{err}` lacks `{needle}`");
        }
    }

    /// A plate with a well-number column first and the concentration under an unlisted name.
    fn wells() -> String {
        let mut s = String::from("well,agonist_M,response\n");
        for i in 0..12 {
            let x = 10f64.powf(-10.0 + 0.4 * i as f64);
            let y = 100.0 / (1.0 + 1e-7 / x);
            s += &format!("{},{x:e},{y}\n", i + 1);
        }
        s
    }

    #[test]
    fn an_unrecognised_x_column_is_an_error_not_the_first_column() {
        let f = TempFile::new("wells.csv", wells().as_bytes());
        fails_with(
            &["fit", f.path()],
            &[
                "cannot tell which column holds x",
                "`well`",
                "`agonist_M`",
                "--x COLUMN",
            ],
        );
        // Named, it fits, and the run says which columns it used.
        let out = ligand(
            &[
                "fit",
                f.path(),
                "--x",
                "agonist_M",
                "--y",
                "response",
                "--format",
                "json",
            ],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let v = json(&out);
        assert_eq!(v["input"]["columns"]["x"], "agonist_M");
        assert_eq!(v["input"]["columns"]["y"][0], "response");
        assert_eq!(v["input"]["columns"]["ignored"][0], "well");
        assert_eq!(v["input"]["x"]["scale"], "linear");
        assert_eq!(v["input"]["x"]["transform"], "log10");
        let lec = v["fits"][0]["parameters"][2]["estimate"].as_f64().unwrap();
        assert!((lec + 7.0).abs() < 1e-6, "logEC50 {lec}");
        let err = stderr(&out);
        assert!(
            err.contains("x = `agonist_M`, linear concentrations"),
            "{err}"
        );
        assert!(err.contains("ignored: `well`"), "{err}");
        // --quiet says nothing.
        let out = ligand(&["fit", f.path(), "--x", "agonist_M", "--quiet"], None);
        assert!(out.status.success());
        assert!(out.stderr.is_empty(), "{}", stderr(&out));
    }

    #[test]
    fn a_well_index_named_as_x_is_warned_about() {
        let f = TempFile::new("wells2.csv", wells().as_bytes());
        let out = ligand(&["fit", f.path(), "--x", "well", "--y", "response"], None);
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("warning:") && err.contains("consecutive integers 1 to 12"),
            "{err}"
        );
        // A dilution series gets no such warning.
        let out = ligand(
            &["fit", f.path(), "--x", "agonist_M", "--y", "response"],
            None,
        );
        assert!(!stderr(&out).contains("warning:"), "{}", stderr(&out));
    }

    #[test]
    fn molar_values_read_as_log10_and_log_values_read_as_molar_are_refused() {
        let f = TempFile::new("molar.csv", plate().as_bytes());
        fails_with(
            &["fit", f.path(), "--x-scale", "log10"],
            &[
                "read as log10 concentrations (--x-scale)",
                "molar",
                "--x-scale linear",
            ],
        );
        let mut logs = String::from("dose_index,conc,response\n");
        for i in 0..9 {
            let lc = -10.0 + 0.625 * i as f64;
            logs += &format!("{i},{lc},{}\n", 100.0 / (1.0 + 10f64.powf(-7.0 - lc)));
        }
        let f = TempFile::new("logs.csv", logs.as_bytes());
        fails_with(&["fit", f.path()], &["negative values", "--x-scale log10"]);
        let out = ligand(
            &["fit", f.path(), "--x-scale", "log10", "--format", "json"],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let lec = json(&out)["fits"][0]["parameters"][2]["estimate"]
            .as_f64()
            .unwrap();
        assert!((lec + 7.0).abs() < 1e-6, "logEC50 {lec}");
    }

    /// A Schild regression: log(DR - 1) against log[B]. The formula reads the log columns as
    /// written; before, the `log...` name made ligand exponentiate x and the slope came out 1.66e6.
    #[test]
    fn a_formula_reads_log_columns_as_written() {
        let mut s = String::from("log_antagonist,log_dr_minus_1\n");
        for (lb, ldr) in [
            (-9.0, 0.30),
            (-8.5, 0.81),
            (-8.0, 1.29),
            (-7.5, 1.80),
            (-7.0, 2.31),
        ] {
            s += &format!("{lb},{ldr}\n");
        }
        let f = TempFile::new("schild.csv", s.as_bytes());
        let out = ligand(
            &[
                "fit",
                f.path(),
                "--x",
                "log_antagonist",
                "--y",
                "log_dr_minus_1",
                "--formula",
                "y = slope * (log_antagonist + pA2)",
                "--start",
                "slope=1,pA2=9",
                "--format",
                "json",
            ],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let v = json(&out);
        let slope = v["fits"][0]["parameters"][0]["estimate"].as_f64().unwrap();
        let pa2 = v["fits"][0]["parameters"][1]["estimate"].as_f64().unwrap();
        assert!((slope - 1.003).abs() < 0.01, "slope {slope}");
        assert!((pa2 - 9.3).abs() < 0.02, "pA2 {pa2}");
        assert_eq!(v["input"]["x"]["scale"], "as written");
        assert_eq!(v["input"]["x"]["transform"], "none");
        fails_with(
            &[
                "fit",
                f.path(),
                "--x",
                "log_antagonist",
                "--formula",
                "y = slope * (log_antagonist + pA2)",
                "--x-scale",
                "log10",
            ],
            &["--x-scale does not apply to --formula"],
        );
    }

    #[test]
    fn ignored_or_conflicting_options_are_errors() {
        let f = TempFile::new("conflicts.csv", plate().as_bytes());
        for (extra, needle) in [
            (
                &["--share", "top", "--compare", "3pl"][..],
                "--compare cannot be combined with --share",
            ),
            (
                &["--share", "top", "--interpolate", "50"][..],
                "--interpolate cannot be combined",
            ),
            (
                &["--share", "top", "--ci", "profile"][..],
                "--ci profile cannot be combined",
            ),
            (
                &["--share", "top", "--robust"][..],
                "--robust cannot be combined",
            ),
            (
                &["--fix", "bottom=0,bottom=1"][..],
                "--fix: `bottom` is given twice",
            ),
            (
                &["--bound", "hill=0:2", "--bound", "hill=1:3"][..],
                "--bound: `hill` is given twice",
            ),
            (&["--level", "95"][..], "--level"),
            (
                &["--fix", "top=100", "--start", "top=90"][..],
                "--start top: `top` is fixed by --fix",
            ),
            (
                &["--fix", "hill=1", "--bound", "hill=0:2"][..],
                "--bound hill: `hill` is fixed",
            ),
        ] {
            let mut args = vec!["fit", f.path()];
            args.extend_from_slice(extra);
            fails_with(&args, &[needle]);
        }
        fails_with(
            &["fit", "--list-models", "--example"],
            &["--list-models lists the models"],
        );
    }

    #[test]
    fn duplicate_column_names_are_refused() {
        let f = TempFile::new("dupcols.csv", b"conc,response,response\n1e-9,1,2\n");
        fails_with(&["fit", f.path()], &["`response`", "columns 2, 3"]);
    }

    #[test]
    fn the_output_may_not_be_an_input() {
        let text = plate();
        let f = TempFile::new("self.csv", text.as_bytes());
        fails_with(&["fit", f.path(), "-o", f.path()], &["is the input file"]);
        assert_eq!(
            std::fs::read_to_string(f.path()).unwrap(),
            text,
            "input untouched"
        );
    }

    /// Ctrl-C while the output is being written leaves neither the output nor its temporary file.
    #[test]
    fn an_interrupted_run_leaves_no_temporary_file() {
        let mut s = String::from("curve,conc,response\n");
        for c in 0..40_000 {
            for i in 0..8 {
                let x = 10f64.powf(-9.0 + 0.5 * i as f64);
                let noise = (((c * 8 + i) as u64 * 7919) % 13) as f64 - 6.0;
                s += &format!("{c},{x:e},{}\n", 100.0 / (1.0 + 1e-7 / x) + noise);
            }
        }
        let data = TempFile::new("interrupted.csv", s.as_bytes());
        let dir = std::env::temp_dir().join(format!("ligand-cli-sigint-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("fits.csv");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ligand"))
            .args(["fit", data.path(), "--ci", "profile", "--quiet", "-o"])
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait for the temporary file to appear, then interrupt.
        let start = std::time::Instant::now();
        let temporary = loop {
            let found = std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(|e| e.ok())
                .find(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(".fits.csv.tmp-")
                });
            if let Some(e) = found {
                break e.path();
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "the run ended before it was interrupted"
            );
            assert!(start.elapsed().as_secs() < 30, "no temporary file appeared");
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        let kill = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "exit status after SIGINT");
        assert!(!temporary.exists(), "{} left behind", temporary.display());
        assert!(!out.exists(), "no half-written output");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The same input gives the same bytes with one and with two threads.
    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let mut s = plate();
        for c in 0..300 {
            for i in 0..9 {
                let x = 10f64.powf(-10.0 + 0.625 * i as f64);
                let noise = (((c * 9 + i) as u64 * 104_729) % 17) as f64 / 4.0 - 2.0;
                s += &format!(
                    "C{c},{x:e},{}\n",
                    5.0 + 90.0 / (1.0 + (3e-8 / x).powf(0.8)) + noise
                );
            }
        }
        let f = TempFile::new("threads.csv", s.as_bytes());
        let run = |threads: &str, format: &str| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_ligand"))
                .args([
                    "fit",
                    f.path(),
                    "--format",
                    format,
                    "--quiet",
                    "--ci",
                    "profile",
                ])
                .env("RAYON_NUM_THREADS", threads)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            out.stdout
        };
        for format in ["json", "csv"] {
            let one = run("1", format);
            assert!(one.len() > 10_000);
            assert_eq!(one, run("2", format), "{format}: 1 vs 2 threads");
        }
    }
}
