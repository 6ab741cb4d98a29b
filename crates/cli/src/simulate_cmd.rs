//! `ligand simulate`: time courses, steady states, sensitivities and
//! parameter scans of a model file.
//!
//! Two stages, as in ripgrep: the raw flags ([`SimulateArgs`]) are checked and
//! turned into a [`Plan`] (the model compiled, the times, the settings), then
//! the plan runs and its results are written. Every number printed here was
//! computed by `ligand-sim`.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use ligand_expr::format_number;
use ligand_model::{parse_antimony, parse_sbml_with, Diagnostic, DiagnosticKind};
use ligand_sim::{
    scan, CompileOptions, Dose, Method, Observable, Observables, ParameterSets, Settings,
    Simulator, SteadyStateOptions, System, Trajectory,
};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// The model: an Antimony text file (.ant, .txt) or an SBML file (.xml, .sbml),
    /// or the name of a built-in model (synapse, synapse_presynaptic, ...; a file
    /// of that name wins).
    model: PathBuf,
    /// The start time.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    start: f64,
    /// How long to simulate (with --steps: output at START + i*DURATION/STEPS).
    #[arg(long, requires = "steps")]
    duration: Option<f64>,
    /// The number of output intervals (STEPS + 1 rows).
    #[arg(long, requires = "duration")]
    steps: Option<usize>,
    /// Output times instead of --duration/--steps, e.g. --times 0,1,10,100.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["duration", "steps"], allow_negative_numbers = true)]
    times: Option<Vec<f64>>,
    /// Variables to report, in this order (species, parameters, compartments,
    /// rule variables, reaction rates). Default: every species.
    #[arg(long, value_delimiter = ',')]
    vars: Vec<String>,
    /// Species to report as amounts rather than concentrations.
    #[arg(long, value_delimiter = ',')]
    amounts: Vec<String>,
    /// New values: --set k1=0.2,V=2 (parameters, compartment sizes, and
    /// species' initial values in the form the model gives them); a
    /// concentration unit (pM, nM, uM, mM, M) converts to nM: --set Mg=0.5mM.
    #[arg(long, value_delimiter = ',')]
    set: Vec<String>,
    /// Relative tolerance.
    #[arg(long, default_value_t = 1e-6)]
    rtol: f64,
    /// Absolute tolerance (in the units of the state: amounts).
    #[arg(long, default_value_t = 1e-12)]
    atol: f64,
    /// Integration method.
    #[arg(long, value_enum, default_value_t = MethodArg::Bdf)]
    method: MethodArg,
    /// Bolus doses: --dose A=10@0,A=10@24 adds 10 (amount) to species A at t=0 and t=24;
    /// --dose A=100nM adds 100 nM (pM, nM, uM, mM, M) at the start.
    #[arg(long, value_delimiter = ',')]
    dose: Vec<String>,
    /// Infusions: --infuse A=2@0:10 infuses 2 (amount per time) into A from t=0 to t=10.
    #[arg(long, value_delimiter = ',')]
    infuse: Vec<String>,
    /// Compute the steady state instead of a time course.
    #[arg(long)]
    steady_state: bool,
    /// Forward sensitivities of the reported variables to these parameters.
    #[arg(long, value_delimiter = ',')]
    sensitivities: Vec<String>,
    /// A CSV table of parameter sets (a header of parameter names, one row
    /// per simulation); the simulations run in parallel.
    #[arg(long)]
    scan: Option<PathBuf>,
    /// With --scan: only the last row of each simulation.
    #[arg(long, requires = "scan")]
    final_only: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Write to this file (atomically) instead of standard output.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// No progress bar or warnings on standard error.
    #[arg(long)]
    quiet: bool,
    /// The most internal steps of one simulation.
    #[arg(long, default_value_t = 1_000_000)]
    max_steps: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MethodArg {
    /// Variable-order BDF, for stiff problems (the default).
    Bdf,
    /// TR-BDF2, an L-stable SDIRK method.
    Sdirk,
    /// Dormand-Prince 5(4), explicit: for non-stiff problems.
    Erk,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Csv,
    Json,
}

/// The validated run configuration.
struct Plan {
    system: System,
    observables: Observables,
    settings: Settings,
    overrides: Vec<(usize, f64)>,
    scan: Option<ParameterSets>,
}

fn read_model(path: &Path, quiet: bool) -> Result<ligand_model::Model> {
    if !path.exists() {
        let names = ligand_sim::builtin::builtin_names();
        return match path.to_str().and_then(ligand_sim::builtin::builtin_model) {
            Some(src) => parse_antimony(src)
                .map(|(m, _)| m)
                .map_err(|diags| anyhow!(render_all(path, src, &diags))),
            None => bail!(
                "{}: no such file, and no built-in model of that name (built-in models: {})",
                path.display(),
                names.join(", ")
            ),
        };
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let src = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the model file {}", path.display()))?;
    if ext == "xml" || ext == "sbml" {
        let read_external = |source: &str| read_external_model(path, source);
        return match parse_sbml_with(&src, &read_external) {
            Ok((m, warnings)) => {
                // Approximations (fast reactions, ...) are worth a line; ignored
                // units and annotations are not.
                for w in warnings
                    .iter()
                    .filter(|w| w.kind == DiagnosticKind::Unsupported)
                {
                    if !quiet {
                        eprintln!("{}: {}", path.display(), w.render(&src));
                    }
                }
                Ok(m)
            }
            Err(diags) => Err(anyhow!(render_all(path, &src, &diags))),
        };
    }
    match parse_antimony(&src) {
        Ok((m, _warnings)) => Ok(m),
        Err(diags) => Err(anyhow!(render_all(path, &src, &diags))),
    }
}

/// The text of a document that an SBML `comp` external model definition
/// names: a file path (or `file:` URI) relative to the model file's folder.
pub(crate) fn read_external_model(
    model: &Path,
    source: &str,
) -> std::result::Result<String, String> {
    let source = source.strip_prefix("file://").unwrap_or(source);
    let source = source.strip_prefix("file:").unwrap_or(source);
    if source.contains("://") {
        return Err("ligand reads external model definitions from files only".to_string());
    }
    let file = model
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(source);
    std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))
}

fn render_all(path: &Path, src: &str, diags: &[Diagnostic]) -> String {
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", path.display(), d.render(src)))
        .collect();
    format!(
        "{}\n{} error(s) in {}",
        errors.join("\n\n"),
        errors.len(),
        path.display()
    )
}

fn parse_number(s: &str, what: &str) -> Result<f64> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| anyhow!("{what}: `{s}` is not a number"))?;
    if !v.is_finite() {
        bail!("{what}: `{s}` is not a finite number");
    }
    Ok(v)
}

/// Concentration units accepted after a number in `--dose` and `--set`, with
/// their factors to nM, the concentration unit of ligand's built-in models.
const CONCENTRATION_UNITS: [(&str, f64); 7] = [
    ("pM", 1e-3),
    ("nM", 1.0),
    ("uM", 1e3),
    ("\u{b5}M", 1e3),
    ("\u{3bc}M", 1e3),
    ("mM", 1e6),
    ("M", 1e9),
];

/// A number, with an optional concentration unit: `(value, true)` with the
/// value in nM when a unit was given (`100nM`, `2.5 uM`).
fn parse_quantity(s: &str, what: &str) -> Result<(f64, bool)> {
    let t = s.trim();
    for (unit, factor) in CONCENTRATION_UNITS {
        if let Some(number) = t.strip_suffix(unit) {
            return Ok((parse_number(number, what)? * factor, true));
        }
    }
    Ok((parse_number(t, what)?, false))
}

/// The size of a species' compartment (after `--set`), and whether its
/// symbol means an amount (substanceOnly).
fn species_compartment(
    model: &ligand_model::Model,
    set: &[(String, f64, bool)],
    species: &str,
    what: &str,
) -> Result<Option<(f64, bool, bool)>> {
    let Some(s) = model.species.iter().find(|s| s.id == species) else {
        return Ok(None);
    };
    let size = set
        .iter()
        .find(|(k, _, _)| *k == s.compartment)
        .map(|(_, v, _)| *v)
        .or_else(|| model.compartments.iter().find(|c| c.id == s.compartment).and_then(|c| c.size))
        .ok_or_else(|| anyhow!("{what}: the size of compartment `{}` is not a plain number, so a concentration cannot be converted to an amount; give an amount", s.compartment))?;
    let initial_amount = matches!(s.initial, Some(ligand_model::InitialQuantity::Amount(_)));
    Ok(Some((size, s.has_only_substance_units, initial_amount)))
}

/// `--set` values: name, value, and whether a concentration unit was given
/// (the value is then in nM; see [`convert_set`]).
fn parse_set(items: &[String]) -> Result<Vec<(String, f64, bool)>> {
    items
        .iter()
        .map(|item| {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| anyhow!("--set `{item}`: expected name=value"))?;
            let (v, unit) = parse_quantity(v, &format!("--set `{item}`"))?;
            Ok((k.trim().to_string(), v, unit))
        })
        .collect()
}

/// The value to set for `name`: a concentration in nM for a parameter or a
/// species whose initial value is a concentration; times the compartment
/// size for a species whose initial value is an amount.
fn convert_set(
    model: &ligand_model::Model,
    set: &[(String, f64, bool)],
    item: &(String, f64, bool),
) -> Result<f64> {
    let (name, v, unit) = item;
    if !unit {
        return Ok(*v);
    }
    let what = format!("--set {name}");
    if model.compartments.iter().any(|c| c.id == *name) {
        bail!("{what}: `{name}` is a compartment; its size takes no concentration unit");
    }
    match species_compartment(model, set, name, &what)? {
        Some((_, true, _)) => bail!(
            "{what}: `{name}` is an amount (substanceOnly) species; give an amount, without a unit"
        ),
        Some((size, false, true)) => Ok(v * size),
        _ => Ok(*v),
    }
}

fn parse_doses(
    doses: &[String],
    infusions: &[String],
    model: &ligand_model::Model,
    set: &[(String, f64, bool)],
    start: f64,
) -> Result<Vec<Dose>> {
    let mut out = Vec::new();
    for d in doses {
        let (species, rest) = d
            .split_once('=')
            .ok_or_else(|| anyhow!("--dose `{d}`: expected species=amount@time"))?;
        let species = species.trim();
        let (amount, time) = match rest.split_once('@') {
            Some((a, t)) => (a, parse_number(t, &format!("--dose `{d}`"))?),
            None => (rest, start),
        };
        let what = format!("--dose `{d}`");
        let (mut amount, unit) = parse_quantity(amount, &what)?;
        if unit {
            // A concentration (nM) into a concentration species: times the volume.
            match species_compartment(model, set, species, &what)? {
                None => bail!("{what}: the model has no species `{species}`"),
                Some((_, true, _)) => bail!("{what}: `{species}` is an amount (substanceOnly) species; give its dose as an amount, without a unit"),
                Some((size, false, _)) => amount *= size,
            }
        }
        out.push(Dose::Bolus {
            species: species.to_string(),
            amount,
            time,
        });
    }
    for d in infusions {
        let bad = || anyhow!("--infuse `{d}`: expected species=rate@start:end");
        let (species, rest) = d.split_once('=').ok_or_else(bad)?;
        let (rate, span) = rest.split_once('@').ok_or_else(bad)?;
        let (start, end) = span.split_once(':').ok_or_else(bad)?;
        out.push(Dose::Infusion {
            species: species.trim().to_string(),
            rate: parse_number(rate, &format!("--infuse `{d}`"))?,
            start: parse_number(start, &format!("--infuse `{d}`"))?,
            end: parse_number(end, &format!("--infuse `{d}`"))?,
        });
    }
    Ok(out)
}

/// Reads a scan table: a header of names, then rows of numbers.
fn read_scan(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .with_context(|| format!("cannot read the scan table {}", path.display()))?;
    let names: Vec<String> = rdr
        .headers()
        .with_context(|| format!("{}: cannot read the header", path.display()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 1))?;
        let line = rec.position().map_or(i + 2, |p| p.line() as usize);
        let mut row = Vec::with_capacity(names.len());
        for (j, field) in rec.iter().enumerate() {
            let v = parse_number(
                field,
                &format!(
                    "{}, line {line}, column `{}`",
                    path.display(),
                    names.get(j).map(String::as_str).unwrap_or("?")
                ),
            )?;
            row.push(v);
        }
        if row.len() != names.len() {
            bail!(
                "{}, line {line}: {} values for {} columns",
                path.display(),
                row.len(),
                names.len()
            );
        }
        rows.push(row);
    }
    Ok((names, rows))
}

fn plan(args: &SimulateArgs) -> Result<Plan> {
    let model = read_model(&args.model, args.quiet)?;
    let set = parse_set(&args.set)?;
    let doses = parse_doses(&args.dose, &args.infuse, &model, &set, args.start)?;
    let infusions: Vec<String> = doses
        .iter()
        .filter_map(|d| match d {
            Dose::Infusion { species, .. } => Some(species.clone()),
            _ => None,
        })
        .collect();
    let options = CompileOptions {
        sensitivities: args.sensitivities.clone(),
        infusions,
    };
    let system =
        System::new(&model, &options).map_err(|e| anyhow!("{}: {e}", args.model.display()))?;

    // Observables: --vars (default every species), with --amounts as amounts.
    let mut names: Vec<String> = if args.vars.is_empty() {
        system.species_ids().to_vec()
    } else {
        args.vars.clone()
    };
    for a in &args.amounts {
        if !names.contains(a) {
            names.push(a.clone());
        }
    }
    let list: Vec<Observable> = names
        .iter()
        .map(|n| {
            // An amount is a species' property; for a compartment or a
            // parameter (as the SBML Test Suite's settings list them) it is
            // the value.
            if args.amounts.contains(n) && system.species_ids().contains(n) {
                Observable::amount(n)
            } else {
                Observable::value(n)
            }
        })
        .collect();
    let observables = system.observables(&list).map_err(|e| {
        let flag = if args.vars.is_empty() {
            "--amounts"
        } else {
            "--vars"
        };
        anyhow!("{}: {flag}: {e}", args.model.display())
    })?;

    let times = if args.steady_state {
        Vec::new()
    } else if let Some(t) = &args.times {
        if t.is_empty() {
            bail!("--times: give at least one time");
        }
        t.clone()
    } else {
        match (args.duration, args.steps) {
            (Some(d), Some(n)) => {
                if !(d.is_finite() && d > 0.0) {
                    bail!("--duration must be a positive number, not {d}");
                }
                if n == 0 {
                    bail!("--steps must be at least 1");
                }
                Settings::grid(args.start, d, n)
            }
            _ => bail!("give the output times: --duration D --steps N, or --times t1,t2,..."),
        }
    };
    let settings = Settings {
        start: args.start,
        times,
        method: match args.method {
            MethodArg::Bdf => Method::Bdf,
            MethodArg::Sdirk => Method::Sdirk,
            MethodArg::Erk => Method::Erk,
        },
        rtol: args.rtol,
        atol: args.atol,
        max_steps: args.max_steps,
        doses,
        ..Settings::default()
    };
    let mut overrides = Vec::new();
    for item in &set {
        let i = system
            .base_index(&item.0)
            .map_err(|e| anyhow!("--set: {e}"))?;
        overrides.push((i, convert_set(&model, &set, item)?));
    }
    let scan = match &args.scan {
        Some(path) => {
            let (names, rows) = read_scan(path)?;
            let mut sets = ParameterSets::new(&system, &names, rows)
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            sets.base = overrides.clone();
            Some(sets)
        }
        None => None,
    };
    Ok(Plan {
        system,
        observables,
        settings,
        overrides,
        scan,
    })
}

/// An output sink: standard output, or a file written atomically
/// ([`ligand_cli::output::AtomicFile`]) and moved into place when everything is written.
enum Sink {
    Stdout(std::io::BufWriter<std::io::StdoutLock<'static>>),
    File(ligand_cli::output::AtomicFile),
}

impl Sink {
    fn open(path: Option<&Path>) -> Result<Sink> {
        Ok(match path {
            None => Sink::Stdout(std::io::BufWriter::new(std::io::stdout().lock())),
            Some(p) => Sink::File(ligand_cli::output::AtomicFile::create(p)?),
        })
    }

    fn write(&mut self, s: &str) -> Result<()> {
        let out: &mut dyn Write = match self {
            Sink::Stdout(w) => w,
            Sink::File(f) => f,
        };
        out.write_all(s.as_bytes())
            .context("cannot write the output")
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Stdout(mut w) => w.flush().context("cannot write the output"),
            Sink::File(f) => f.commit().context("cannot write the output"),
        }
    }
}

fn csv_header(t: &Trajectory, obs: &Observables, scan: bool) -> String {
    let mut h = String::new();
    if scan {
        h.push_str("row,");
    }
    h.push_str("time");
    for o in obs.list() {
        h.push(',');
        h.push_str(&o.id);
    }
    for o in obs.list() {
        for p in &t.sensitivity_parameters {
            let _ = write!(h, ",d({})/d({p})", o.id);
        }
    }
    h.push('\n');
    h
}

fn header_names(system: &System, obs: &Observables, scan: bool) -> String {
    let t = Trajectory {
        names: obs.names(),
        times: vec![],
        values: vec![],
        sensitivity_parameters: system.sensitivity_parameters().to_vec(),
        sensitivities: vec![],
        events: vec![],
        stats: Default::default(),
        stopped: None,
    };
    csv_header(&t, obs, scan)
}

/// CSV rows of a trajectory (all, or only the last), with a comment line
/// when it stopped early.
fn csv_rows(t: &Trajectory, row: Option<usize>, final_only: bool) -> String {
    let mut s = String::new();
    let m = t.names.len();
    let p = t.sensitivity_parameters.len();
    let range = if final_only {
        t.times.len().saturating_sub(1)..t.times.len()
    } else {
        0..t.times.len()
    };
    for i in range {
        if let Some(r) = row {
            let _ = write!(s, "{r},");
        }
        s.push_str(&format_number(t.times[i]));
        for v in t.row(i) {
            s.push(',');
            s.push_str(&format_number(*v));
        }
        for k in 0..m {
            for j in 0..p {
                s.push(',');
                s.push_str(&format_number(t.sensitivity(i, k, j)));
            }
        }
        s.push('\n');
    }
    if let Some(st) = &t.stopped {
        match row {
            Some(r) => {
                let _ = writeln!(s, "# row {r} {st}");
            }
            None => {
                let _ = writeln!(s, "# {st}");
            }
        }
    }
    s
}

fn json_trajectory(t: &Trajectory, row: Option<usize>, final_only: bool) -> serde_json::Value {
    let m = t.names.len();
    let p = t.sensitivity_parameters.len();
    let range = if final_only {
        t.times.len().saturating_sub(1)..t.times.len()
    } else {
        0..t.times.len()
    };
    let num = |v: f64| {
        if v.is_finite() {
            serde_json::json!(v)
        } else {
            serde_json::json!(format_number(v))
        }
    };
    let times: Vec<_> = range.clone().map(|i| num(t.times[i])).collect();
    let values: Vec<Vec<_>> = range
        .clone()
        .map(|i| t.row(i).iter().map(|v| num(*v)).collect())
        .collect();
    let mut obj = serde_json::json!({
        "names": t.names,
        "times": times,
        "values": values,
        "stopped": t.stopped,
        "stats": t.stats,
    });
    if let Some(r) = row {
        obj["row"] = serde_json::json!(r);
    }
    if p > 0 {
        let sens: Vec<Vec<Vec<_>>> = range
            .map(|i| {
                (0..m)
                    .map(|k| (0..p).map(|j| num(t.sensitivity(i, k, j))).collect())
                    .collect()
            })
            .collect();
        obj["sensitivity_parameters"] = serde_json::json!(t.sensitivity_parameters);
        obj["sensitivities"] = serde_json::json!(sens);
    }
    if !t.events.is_empty() {
        obj["events"] = serde_json::json!(t.events);
    }
    obj
}

pub fn run(args: SimulateArgs) -> Result<()> {
    let plan = plan(&args)?;
    if args.steady_state {
        return run_steady_state(&args, &plan);
    }
    match &plan.scan {
        None => run_single(&args, &plan),
        Some(sets) => run_scan(&args, &plan, sets),
    }
}

fn run_single(args: &SimulateArgs, plan: &Plan) -> Result<()> {
    let mut sim = Simulator::new(&plan.system, &plan.observables);
    let t = sim
        .run(&plan.settings, &plan.overrides)
        .map_err(|e| anyhow!("{}: {e}", args.model.display()))?;
    let mut sink = Sink::open(args.output.as_deref())?;
    match args.format {
        Format::Csv => {
            sink.write(&csv_header(&t, &plan.observables, false))?;
            sink.write(&csv_rows(&t, None, false))?;
        }
        Format::Json => {
            let mut v = json_trajectory(&t, None, false);
            if let Some(n) = plan.system.name() {
                v["model"] = serde_json::json!(n);
            }
            sink.write(&serde_json::to_string_pretty(&v)?)?;
            sink.write("\n")?;
        }
    }
    sink.finish()?;
    if let Some(st) = &t.stopped {
        bail!(
            "{}: simulation {st}; the output holds the trajectory up to t={}",
            args.model.display(),
            t.times
                .last()
                .map_or_else(|| "none".to_string(), |x| format_number(*x))
        );
    }
    Ok(())
}

fn progress_bar(args: &SimulateArgs, n: usize) -> Option<indicatif::ProgressBar> {
    if args.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(n as u64);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} simulations {pos}/{len} [{elapsed_precise}, {per_sec}, eta {eta}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(pb)
}

fn run_scan(args: &SimulateArgs, plan: &Plan, sets: &ParameterSets) -> Result<()> {
    let n = sets.rows.len();
    let pb = progress_bar(args, n);
    let progress = |_done: usize| {
        if let Some(pb) = &pb {
            pb.inc(1);
        }
    };
    let mut sink = Sink::open(args.output.as_deref())?;
    let json = args.format == Format::Json;
    if json {
        sink.write("[\n")?;
    } else {
        sink.write(&header_names(&plan.system, &plan.observables, true))?;
    }
    let mut failed: Vec<String> = Vec::new();
    // Chunks keep memory bounded and the output streaming, in row order.
    let chunk = 512;
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        let blocks: Vec<(String, Option<String>)> = scan(
            &plan.system,
            &plan.observables,
            &plan.settings,
            sets,
            start..end,
            |i, r| match r {
                Ok(t) => {
                    let text = if json {
                        let mut s =
                            serde_json::to_string(&json_trajectory(&t, Some(i), args.final_only))
                                .unwrap_or_default();
                        if i + 1 < n {
                            s.push(',');
                        }
                        s.push('\n');
                        s
                    } else {
                        csv_rows(&t, Some(i), args.final_only)
                    };
                    let fail = t.stopped.as_ref().map(|s| format!("row {i}: {s}"));
                    (text, fail)
                }
                Err(e) => {
                    let text = if json {
                        let mut s = serde_json::to_string(
                            &serde_json::json!({"row": i, "error": e.to_string()}),
                        )
                        .unwrap_or_default();
                        if i + 1 < n {
                            s.push(',');
                        }
                        s.push('\n');
                        s
                    } else {
                        format!("# row {i} failed: {e}\n")
                    };
                    (text, Some(format!("row {i}: {e}")))
                }
            },
            &progress,
        );
        for (text, fail) in blocks {
            sink.write(&text)?;
            if let Some(f) = fail {
                failed.push(f);
            }
        }
        start = end;
    }
    if json {
        sink.write("]\n")?;
    }
    sink.finish()?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    if !failed.is_empty() {
        let shown: Vec<&str> = failed.iter().take(5).map(String::as_str).collect();
        bail!(
            "{} of {n} simulations did not complete (their partial results are in the output, marked with `#` lines):\n  {}{}",
            failed.len(),
            shown.join("\n  "),
            if failed.len() > 5 { "\n  ..." } else { "" }
        );
    }
    Ok(())
}

fn run_steady_state(args: &SimulateArgs, plan: &Plan) -> Result<()> {
    let options = SteadyStateOptions {
        rtol: plan.settings.rtol,
        atol: plan.settings.atol,
        ..SteadyStateOptions::default()
    };
    // (scan row, the overrides of that row)
    type Job = (Option<usize>, Vec<(usize, f64)>);
    let rows: Vec<Job> = match &plan.scan {
        None => vec![(None, plan.overrides.clone())],
        Some(sets) => (0..sets.rows.len())
            .map(|i| (Some(i), sets.overrides(i)))
            .collect(),
    };
    let mut sink = Sink::open(args.output.as_deref())?;
    let json = args.format == Format::Json;
    let scan_mode = plan.scan.is_some();
    if !json {
        let mut h = String::new();
        if scan_mode {
            h.push_str("row,");
        }
        h.push_str("time");
        for o in plan.observables.list() {
            h.push(',');
            h.push_str(&o.id);
        }
        h.push('\n');
        sink.write(&h)?;
    }
    let mut json_rows = Vec::new();
    let mut failed = Vec::new();
    // One workspace per thread; results come back in row order.
    let results: Vec<_> = {
        use rayon::prelude::*;
        rows.par_iter()
            .map_init(
                || Simulator::new(&plan.system, &plan.observables),
                |sim, (row, overrides)| {
                    (*row, sim.steady_state(&plan.settings, overrides, &options))
                },
            )
            .collect()
    };
    for (row, r) in results {
        match r {
            Ok(ss) => {
                if json {
                    let mut v = serde_json::to_value(&ss)?;
                    if let Some(i) = row {
                        v["row"] = serde_json::json!(i);
                    }
                    json_rows.push(v);
                } else {
                    let mut s = String::new();
                    if let Some(i) = row {
                        let _ = write!(s, "{i},");
                    }
                    s.push_str("inf");
                    for v in &ss.values {
                        s.push(',');
                        s.push_str(&format_number(*v));
                    }
                    s.push('\n');
                    sink.write(&s)?;
                }
            }
            Err(e) => {
                let msg = match row {
                    Some(i) => format!("row {i}: no steady state: {e}"),
                    None => format!("no steady state: {e}"),
                };
                if json {
                    let mut v = serde_json::json!({"error": e.to_string()});
                    if let Some(i) = row {
                        v["row"] = serde_json::json!(i);
                    }
                    json_rows.push(v);
                } else {
                    sink.write(&format!("# {msg}\n"))?;
                }
                failed.push(msg);
            }
        }
    }
    if json {
        let v = if scan_mode {
            serde_json::Value::Array(json_rows)
        } else {
            json_rows.pop().unwrap_or_default()
        };
        sink.write(&serde_json::to_string_pretty(&v)?)?;
        sink.write("\n")?;
    }
    sink.finish()?;
    if !failed.is_empty() {
        bail!("{}: {}", args.model.display(), failed.join("\n"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concentration_units_convert_to_nanomolar() {
        assert_eq!(parse_quantity("100nM", "x").unwrap(), (100.0, true));
        assert_eq!(parse_quantity(" 2.5 uM", "x").unwrap(), (2500.0, true));
        assert_eq!(parse_quantity("2.5\u{b5}M", "x").unwrap(), (2500.0, true));
        assert_eq!(parse_quantity("1mM", "x").unwrap(), (1e6, true));
        assert_eq!(parse_quantity("1e-9M", "x").unwrap(), (1.0, true));
        assert_eq!(parse_quantity("500pM", "x").unwrap(), (0.5, true));
        assert_eq!(parse_quantity("7", "x").unwrap(), (7.0, false));
        assert!(parse_quantity("7 kg", "x").is_err());
    }

    #[test]
    fn a_concentration_dose_is_an_amount_in_the_species_compartment() {
        let (m, _) = parse_antimony(
            "compartment V = 2; species C in V; substanceOnly species N in V; C = 0; N = 0",
        )
        .unwrap();
        let doses =
            |d: &str, set: &[(String, f64, bool)]| parse_doses(&[d.to_string()], &[], &m, set, 5.0);
        let amount = |d: Result<Vec<Dose>>| match d.unwrap().as_slice() {
            [Dose::Bolus { amount, time, .. }] => (*amount, *time),
            other => panic!("{other:?}"),
        };
        assert_eq!(amount(doses("C=1uM@10", &[])), (2000.0, 10.0));
        // Without a time the dose is at the start; a plain number is an amount.
        assert_eq!(amount(doses("C=3", &[])), (3.0, 5.0));
        // --set of the compartment size counts.
        let set = [("V".to_string(), 4.0, false)];
        assert_eq!(amount(doses("C=1nM", &set)), (4.0, 5.0));
        assert!(doses("N=1nM", &[]).is_err());
        assert_eq!(amount(doses("N=1", &[])), (1.0, 5.0));
        assert!(doses("X=1nM", &[]).is_err());
        // --set: nM for concentrations; refused for amounts and compartments.
        let item = |n: &str| (n.to_string(), 100.0, true);
        assert_eq!(convert_set(&m, &[], &item("C")).unwrap(), 100.0);
        assert!(convert_set(&m, &[], &item("N")).is_err());
        assert!(convert_set(&m, &[], &item("V")).is_err());
    }
}
