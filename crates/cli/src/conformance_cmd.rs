//! `ligand conformance sbml DIR`: runs the SBML Test Suite's semantic cases
//! through the public `ligand simulate` command and compares each with its
//! expected results, using the case's own settings file.
//!
//! Each case runs as `ligand simulate CASE.xml --start S --duration D --steps
//! N --vars ... --amounts ... --quiet` in a child process (the same binary),
//! so that what passes here passes for a user typing that command. A value
//! passes when `|ligand - expected| <= absolute + relative * |expected|`
//! with the case's tolerances. The SBML file is the highest level and version
//! the case has (l3v2, else l3v1, else l2v5, ...). Flux balance cases
//! (`testType: FluxBalanceSteadyState`, the fbc package) run as `ligand fba
//! CASE.xml --vars ... --quiet` and compare one row of values.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct ConformanceArgs {
    #[command(subcommand)]
    suite: Suite,
}

#[derive(Subcommand, Debug)]
enum Suite {
    /// The SBML Test Suite (semantic cases): DIR holds the case folders
    /// (00001, 00002, ...) or a `semantic/` folder with them.
    Sbml(SbmlArgs),
}

#[derive(Args, Debug)]
struct SbmlArgs {
    /// The suite folder (with `semantic/`), or the folder of case folders.
    dir: PathBuf,
    /// Only these cases: numbers and ranges, e.g. 1-200,950,1100-1120.
    #[arg(long)]
    cases: Option<String>,
    /// Only the cases whose components are all core SBML (no packages; no
    /// algebraic rules, csymbols other than the core ones, priorities or
    /// stoichiometryMath), as marked `core_components_only` in the index.
    #[arg(long)]
    core: bool,
    /// Write one line per case (case, result, tags, reason) to this CSV file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Fail unless at least this many cases pass.
    #[arg(long)]
    min_pass: Option<usize>,
    /// Fail unless at least this many core cases pass.
    #[arg(long)]
    min_core_pass: Option<usize>,
    /// Seconds after which a case is stopped and counted as failed.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Print every case, not only failures.
    #[arg(long, short)]
    verbose: bool,
}

/// One case's settings (`NNNNN-settings.txt`).
#[derive(Clone, Debug, Default)]
struct CaseSettings {
    start: f64,
    duration: f64,
    steps: usize,
    variables: Vec<String>,
    absolute: f64,
    relative: f64,
    amounts: Vec<String>,
}

/// A case's header (`NNNNN-model.m`): its tags.
#[derive(Clone, Debug, Default)]
struct CaseInfo {
    test_type: String,
    component_tags: Vec<String>,
    test_tags: Vec<String>,
    packages: Vec<String>,
}

const CORE_COMPONENTS: &[&str] = &[
    "Compartment",
    "Species",
    "Reaction",
    "Parameter",
    "AssignmentRule",
    "RateRule",
    "InitialAssignment",
    "FunctionDefinition",
    "EventNoDelay",
    "EventWithDelay",
];

impl CaseInfo {
    /// The definition of `core_components_only` in the suite's index.
    fn core(&self) -> bool {
        self.test_type == "TimeCourse"
            && self.packages.is_empty()
            && self
                .component_tags
                .iter()
                .all(|t| CORE_COMPONENTS.contains(&t.as_str()))
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

fn parse_settings(text: &str) -> Result<CaseSettings> {
    let mut s = CaseSettings::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        let num = |v: &str| -> Result<f64> {
            v.parse::<f64>()
                .map_err(|_| anyhow!("settings: `{k}: {v}` is not a number"))
        };
        match k.trim() {
            // Flux balance cases leave the time settings empty.
            "start" | "duration" | "steps" if v.is_empty() => {}
            "start" => s.start = num(v)?,
            "duration" => s.duration = num(v)?,
            "steps" => s.steps = num(v)? as usize,
            "variables" => s.variables = list(v),
            "absolute" => s.absolute = num(v)?,
            "relative" => s.relative = num(v)?,
            "amount" => s.amounts = list(v),
            _ => {}
        }
    }
    Ok(s)
}

fn parse_info(text: &str) -> CaseInfo {
    let mut info = CaseInfo::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        match k.trim() {
            "testType" => info.test_type = v.trim().to_string(),
            "componentTags" => info.component_tags = list(v),
            "testTags" => info.test_tags = list(v),
            "packagesPresent" => info.packages = list(v),
            _ => {}
        }
    }
    info
}

/// The case numbers selected by `--cases`.
fn parse_ranges(s: &str) -> Result<Vec<(u32, u32)>> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let p = p.trim();
            let (a, b) = p.split_once('-').unwrap_or((p, p));
            let a: u32 = a.trim().parse().map_err(|_| anyhow!("--cases: `{p}`"))?;
            let b: u32 = b.trim().parse().map_err(|_| anyhow!("--cases: `{p}`"))?;
            Ok((a, b))
        })
        .collect()
}

/// The SBML file to use: the highest level and version present.
fn sbml_file(case_dir: &Path, case: &str) -> Option<PathBuf> {
    [
        "l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1", "l1v2",
    ]
    .iter()
    .map(|lv| case_dir.join(format!("{case}-sbml-{lv}.xml")))
    .find(|p| p.is_file())
}

/// A table read from CSV: header and rows.
fn read_table(text: &str) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| anyhow!("empty table"))?
        .split(',')
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for l in lines {
        if l.starts_with('#') {
            bail!("{}", l.trim_start_matches('#').trim());
        }
        let row: Vec<f64> = l
            .split(',')
            .map(|x| {
                let x = x.trim();
                match x.to_ascii_lowercase().as_str() {
                    "inf" | "+inf" | "infinity" => Ok(f64::INFINITY),
                    "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
                    "nan" => Ok(f64::NAN),
                    _ => x.parse::<f64>(),
                }
            })
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| anyhow!("cannot read the row `{l}`"))?;
        rows.push(row);
    }
    Ok((header, rows))
}

/// The outcome of one case.
struct Outcome {
    case: String,
    info: CaseInfo,
    passed: bool,
    reason: String,
    seconds: f64,
}

/// Runs a child process with a time limit; returns (status ok, stdout, stderr).
fn run_with_timeout(mut cmd: Command, limit: Duration) -> Result<(bool, String, String)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .context("cannot start `ligand simulate`")?;
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    // Read both pipes on threads so that a large output cannot block the child.
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break Some(st);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    match status {
        Some(st) => Ok((st.success(), stdout, stderr)),
        None => bail!("stopped after {} s", limit.as_secs()),
    }
}

/// The name ligand gives an SBML id: an element called `time` is renamed
/// `time_` when read (in ligand's math `time` is the simulation time), and
/// the reader says so.
fn in_ligand(id: &str) -> &str {
    if id == "time" {
        "time_"
    } else {
        id
    }
}

/// Compares ligand's table with the expected one.
fn compare(
    settings: &CaseSettings,
    ours: &(Vec<String>, Vec<Vec<f64>>),
    expected: &(Vec<String>, Vec<Vec<f64>>),
    time_course: bool,
) -> std::result::Result<(), String> {
    let (oh, orows) = ours;
    let (eh, erows) = expected;
    if orows.len() != erows.len() {
        return Err(format!("{} rows, expected {}", orows.len(), erows.len()));
    }
    let mut worst: Option<(f64, String)> = None;
    for (ej, name) in eh.iter().enumerate() {
        if ej == 0 && time_course {
            continue; // time
        }
        let ours_name = if ej == 0 {
            name.as_str()
        } else {
            in_ligand(name)
        };
        let Some(oj) = oh.iter().position(|h| h == ours_name) else {
            return Err(format!("no column `{name}` in the output"));
        };
        for (i, (orow, erow)) in orows.iter().zip(erows).enumerate() {
            let (a, e) = (orow[oj], erow[ej]);
            let ok = if e.is_nan() {
                a.is_nan()
            } else if e.is_infinite() {
                a == e
            } else {
                (a - e).abs() <= settings.absolute + settings.relative * e.abs()
            };
            if !ok {
                let excess = if e.is_finite() && a.is_finite() {
                    (a - e).abs() / (settings.absolute + settings.relative * e.abs())
                } else {
                    f64::INFINITY
                };
                if worst.as_ref().is_none_or(|(w, _)| excess > *w) {
                    worst = Some((
                        excess,
                        if time_course {
                            format!("`{name}` at t={}: {a} instead of {e}", erow[0])
                        } else {
                            format!("`{name}`: {a} instead of {e}")
                        },
                    ));
                }
                let _ = i;
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((_, w)) => Err(w),
    }
}

fn run_case(exe: &Path, case_dir: &Path, case: &str, timeout: u64) -> Outcome {
    let started = Instant::now();
    let info = std::fs::read_to_string(case_dir.join(format!("{case}-model.m")))
        .map(|t| parse_info(&t))
        .unwrap_or_default();
    let result = (|| -> std::result::Result<(), String> {
        let flux_balance = info.test_type == "FluxBalanceSteadyState";
        if info.test_type != "TimeCourse" && !flux_balance {
            return Err(format!(
                "test type `{}` is neither a time course nor flux balance",
                info.test_type
            ));
        }
        let settings = std::fs::read_to_string(case_dir.join(format!("{case}-settings.txt")))
            .map_err(|e| format!("settings: {e}"))
            .and_then(|t| parse_settings(&t).map_err(|e| e.to_string()))?;
        let expected = std::fs::read_to_string(case_dir.join(format!("{case}-results.csv")))
            .map_err(|e| format!("results: {e}"))
            .and_then(|t| read_table(&t).map_err(|e| e.to_string()))?;
        let file = sbml_file(case_dir, case).ok_or("no SBML file")?;
        let mut cmd = Command::new(exe);
        if flux_balance {
            cmd.arg("fba").arg(&file).arg("--quiet");
            if !settings.variables.is_empty() {
                cmd.arg("--vars").arg(settings.variables.join(","));
            }
        } else {
            cmd.arg("simulate")
                .arg(&file)
                .arg("--start")
                .arg(settings.start.to_string())
                .arg("--duration")
                .arg(settings.duration.to_string())
                .arg("--steps")
                .arg(settings.steps.to_string())
                .arg("--quiet");
            if !settings.variables.is_empty() {
                let vars: Vec<&str> = settings.variables.iter().map(|v| in_ligand(v)).collect();
                cmd.arg("--vars").arg(vars.join(","));
            }
            if !settings.amounts.is_empty() {
                cmd.arg("--amounts").arg(settings.amounts.join(","));
            }
        }
        let (ok, stdout, stderr) =
            run_with_timeout(cmd, Duration::from_secs(timeout)).map_err(|e| e.to_string())?;
        if !ok {
            let msg = stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("failed");
            // The file's name (after an `error: ` label, if any) says
            // nothing the case number does not.
            let prefix = format!("{}: ", file.display());
            let msg = msg.strip_prefix("error: ").unwrap_or(msg);
            let msg = msg.strip_prefix(&prefix).unwrap_or(msg);
            return Err(msg.to_string());
        }
        let ours = read_table(&stdout).map_err(|e| e.to_string())?;
        compare(&settings, &ours, &expected, !flux_balance)
    })();
    Outcome {
        case: case.to_string(),
        info,
        passed: result.is_ok(),
        reason: result.err().unwrap_or_default(),
        seconds: started.elapsed().as_secs_f64(),
    }
}

pub fn run(args: ConformanceArgs) -> Result<()> {
    match args.suite {
        Suite::Sbml(a) => run_sbml(a),
    }
}

fn run_sbml(args: SbmlArgs) -> Result<()> {
    let root = if args.dir.join("semantic").is_dir() {
        args.dir.join("semantic")
    } else {
        args.dir.clone()
    };
    let ranges = match &args.cases {
        Some(s) => Some(parse_ranges(s)?),
        None => None,
    };
    let mut cases: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(&root)
        .with_context(|| format!("cannot read the folder {}", root.display()))?
    {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if name.len() != 5 || !name.chars().all(|c| c.is_ascii_digit()) || !entry.path().is_dir() {
            continue;
        }
        let n: u32 = name.parse().unwrap_or(0);
        if let Some(r) = &ranges {
            if !r.iter().any(|(a, b)| (*a..=*b).contains(&n)) {
                continue;
            }
        }
        cases.push((name, entry.path()));
    }
    cases.sort();
    if cases.is_empty() {
        bail!("no case folders (00001, ...) in {}", root.display());
    }
    let exe = std::env::current_exe().context("cannot find the ligand executable")?;
    let outcomes: Vec<Outcome> = {
        use rayon::prelude::*;
        cases
            .par_iter()
            .map(|(case, dir)| run_case(&exe, dir, case, args.timeout))
            .collect()
    };
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .filter(|o| !args.core || o.info.core())
        .collect();

    // Per case.
    for o in &outcomes {
        if !o.passed {
            println!("{} FAIL {}", o.case, o.reason);
        } else if args.verbose {
            println!("{} pass ({:.2} s)", o.case, o.seconds);
        }
    }
    // By tag.
    let mut by_tag: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for o in &outcomes {
        for t in o.info.component_tags.iter().chain(&o.info.test_tags) {
            let e = by_tag.entry(t.clone()).or_default();
            e.1 += 1;
            if o.passed {
                e.0 += 1;
            }
        }
    }
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "\ntag                                  passed  failed   total"
    );
    for (t, (p, n)) in &by_tag {
        let _ = writeln!(summary, "{t:<36} {p:>6}  {:>6}  {n:>6}", n - p);
    }
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let core: Vec<&Outcome> = outcomes.iter().filter(|o| o.info.core()).collect();
    let core_passed = core.iter().filter(|o| o.passed).count();
    let _ = writeln!(
        summary,
        "\npassed: {passed} of {} cases; core (core_components_only): {core_passed} of {}",
        outcomes.len(),
        core.len()
    );
    print!("{summary}");
    if let Some(path) = &args.report {
        let file = ligand_cli::output::AtomicFile::create(path)?;
        let mut w = csv::Writer::from_writer(file);
        w.write_record([
            "case",
            "result",
            "core",
            "seconds",
            "component_tags",
            "test_tags",
            "reason",
        ])?;
        for o in &outcomes {
            w.write_record([
                o.case.as_str(),
                if o.passed { "pass" } else { "fail" },
                if o.info.core() { "1" } else { "0" },
                &format!("{:.3}", o.seconds),
                &o.info.component_tags.join(";"),
                &o.info.test_tags.join(";"),
                &o.reason,
            ])?;
        }
        w.flush()?;
        w.into_inner()
            .map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error()))?
            .commit()?;
    }
    if let Some(min) = args.min_pass {
        if passed < min {
            bail!("{passed} cases passed, fewer than the required {min}");
        }
    }
    if let Some(min) = args.min_core_pass {
        if core_passed < min {
            bail!("{core_passed} core cases passed, fewer than the required {min}");
        }
    }
    Ok(())
}
