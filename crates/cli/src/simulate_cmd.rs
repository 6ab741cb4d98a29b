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
use ligand_sim::eigen::{Stability, StabilityKind};
use ligand_sim::{
    scan, AbsoluteTolerance, CompileOptions, Dose, Method, Observable, Observables, ParameterSets,
    Settings, Simulator, SteadyStateOptions, System, Trajectory,
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
    /// One absolute tolerance for every state (in the units of the state:
    /// amounts). Default: scaled to the model, RTOL * 1e-6 * each state's
    /// typical amount (see docs/simulate.md).
    #[arg(long)]
    atol: Option<f64>,
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
    /// No progress bar or notes (the tolerances used, approximations made
    /// reading SBML) on standard error. Warnings about the results (an
    /// unstable steady state, signs of an unconverged solution) are always
    /// printed.
    #[arg(long)]
    quiet: bool,
    /// The most internal steps of one simulation.
    #[arg(long, default_value_t = DEFAULT_MAX_STEPS)]
    max_steps: u64,
}

const DEFAULT_MAX_STEPS: u64 = 1_000_000;

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

mod units;
use units::ModelUnits;

/// The model, and the units its text declares (see [`units`]).
fn read_model(path: &Path, quiet: bool) -> Result<(ligand_model::Model, ModelUnits)> {
    if !path.exists() {
        let names = ligand_sim::builtin::builtin_names();
        return match path.to_str().and_then(ligand_sim::builtin::builtin_model) {
            Some(src) => parse_antimony(src)
                .map(|(m, _)| (m, ModelUnits::Builtin))
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
                Ok((m, ModelUnits::from_sbml(&src)))
            }
            Err(diags) => Err(anyhow!(render_all(path, &src, &diags))),
        };
    }
    match parse_antimony(&src) {
        Ok((m, _warnings)) => Ok((m, ModelUnits::from_antimony(&src))),
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
/// their factors to mol/L.
const CONCENTRATION_UNITS: [(&str, f64); 7] = [
    ("pM", 1e-12),
    ("nM", 1e-9),
    ("uM", 1e-6),
    ("\u{b5}M", 1e-6),
    ("\u{3bc}M", 1e-6),
    ("mM", 1e-3),
    ("M", 1.0),
];

/// A number, with an optional concentration unit: `(value, true)` with the
/// value in mol/L when a unit was given (`100nM`, `2.5 uM`).
fn parse_quantity(s: &str, what: &str) -> Result<(f64, bool)> {
    let t = s.trim();
    for (unit, factor) in CONCENTRATION_UNITS {
        if let Some(number) = t.strip_suffix(unit) {
            return Ok((parse_number(number, what)? * factor, true));
        }
    }
    Ok((parse_number(t, what)?, false))
}

/// What converting a concentration into a species needs.
struct SpeciesPlace {
    /// Its compartment's id and size (after `--set`).
    compartment: String,
    size: f64,
    /// Its symbol means an amount (substanceOnly).
    amount_only: bool,
    /// Its initial value is given as an amount.
    initial_amount: bool,
}

/// Where species `species` lives, or `None` if the model has no such species.
fn species_compartment(
    model: &ligand_model::Model,
    set: &[(String, f64, bool)],
    species: &str,
    what: &str,
) -> Result<Option<SpeciesPlace>> {
    let Some(s) = model.species.iter().find(|s| s.id == species) else {
        return Ok(None);
    };
    let size = set
        .iter()
        .find(|(k, _, _)| *k == s.compartment)
        .map(|(_, v, _)| *v)
        .or_else(|| model.compartments.iter().find(|c| c.id == s.compartment).and_then(|c| c.size))
        .ok_or_else(|| anyhow!("{what}: the size of compartment `{}` is not a plain number, so a concentration cannot be converted to an amount; give an amount", s.compartment))?;
    Ok(Some(SpeciesPlace {
        compartment: s.compartment.clone(),
        size,
        amount_only: s.has_only_substance_units,
        initial_amount: matches!(s.initial, Some(ligand_model::InitialQuantity::Amount(_))),
    }))
}

/// A concentration in mol/L as a concentration in the model's units of
/// `species`, or an error saying which unit is missing.
fn to_model_concentration(
    units: &ModelUnits,
    place: &SpeciesPlace,
    species: &str,
    molar: f64,
    what: &str,
) -> Result<f64> {
    let factor = units.molar(species, &place.compartment).map_err(|why| {
        anyhow!("{what}: cannot convert the concentration into the units of `{species}`: {why}; give the value in the model's own units, without a unit")
    })?;
    Ok(molar / factor)
}

/// `--set` values: name, value, and whether a concentration unit was given
/// (the value is then in mol/L; see [`convert_set`]).
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

/// The value to set for `name`, converted through the model's units when a
/// concentration unit was given: a concentration in the species' units for
/// a species whose initial value is a concentration, times the compartment
/// size for one whose initial value is an amount; nM for a parameter of a
/// built-in model. Parameters of other models have no declared units to
/// convert to (ligand reads none), so a unit there is refused.
fn convert_set(
    model: &ligand_model::Model,
    units: &ModelUnits,
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
        Some(p) if p.amount_only => bail!(
            "{what}: `{name}` is an amount (substanceOnly) species; give an amount, without a unit"
        ),
        Some(p) => {
            let c = to_model_concentration(units, &p, name, *v, &what)?;
            Ok(if p.initial_amount { c * p.size } else { c })
        }
        None => match units {
            ModelUnits::Builtin => Ok(v / 1e-9),
            ModelUnits::Declared { .. } => bail!(
                "{what}: `{name}` is not a species, and ligand knows no units for it (only the built-in models' parameters are in nM); give its value in the model's units, without a unit"
            ),
        },
    }
}

fn parse_doses(
    doses: &[String],
    infusions: &[String],
    model: &ligand_model::Model,
    units: &ModelUnits,
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
            // A concentration into a concentration species: in the species'
            // units, times the volume.
            match species_compartment(model, set, species, &what)? {
                None => bail!("{what}: the model has no species `{species}`"),
                Some(p) if p.amount_only => bail!("{what}: `{species}` is an amount (substanceOnly) species; give its dose as an amount, without a unit"),
                Some(p) => {
                    amount = to_model_concentration(units, &p, species, amount, &what)? * p.size
                }
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

/// The most values (rows times columns) of one simulation's output: the
/// trajectory is held in memory before it is written.
const MAX_OUTPUT_VALUES: usize = 100_000_000;

/// Options that another option makes meaningless are refused rather than
/// ignored.
fn check_conflicts(args: &SimulateArgs) -> Result<()> {
    if args.steady_state {
        let ignored: [(bool, &str); 7] = [
            (args.duration.is_some(), "--duration"),
            (args.steps.is_some(), "--steps"),
            (args.times.is_some(), "--times"),
            (!args.dose.is_empty(), "--dose"),
            (!args.infuse.is_empty(), "--infuse"),
            (!matches!(args.method, MethodArg::Bdf), "--method"),
            (args.max_steps != DEFAULT_MAX_STEPS, "--max-steps"),
        ];
        if let Some((_, flag)) = ignored.iter().find(|(given, _)| *given) {
            bail!(
                "{flag} has no meaning with --steady-state (a steady state has no output times, doses or integration settings); remove one of them"
            );
        }
        if !args.sensitivities.is_empty() {
            bail!("--sensitivities with --steady-state: sensitivities of a steady state are not supported yet");
        }
        if args.final_only {
            bail!("--final-only has no meaning with --steady-state (each row is one steady state already); remove it");
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for item in &args.set {
        let name = item
            .split_once('=')
            .map_or(item.as_str(), |(k, _)| k)
            .trim();
        if seen.contains(&name) {
            bail!("--set `{name}` is given twice; give each name once");
        }
        seen.push(name);
    }
    for (flag, list) in [
        ("--vars", &args.vars),
        ("--amounts", &args.amounts),
        ("--sensitivities", &args.sensitivities),
    ] {
        for (i, v) in list.iter().enumerate() {
            if list[..i].contains(v) {
                bail!("{flag} names `{v}` twice");
            }
        }
    }
    Ok(())
}

/// An error for a model with nothing to report, with a hint for the frame
/// file of a built-in model (its modules are put in only by name).
fn nothing_to_simulate(path: &Path, model: &ligand_model::Model) -> anyhow::Error {
    let src = std::fs::read_to_string(path).unwrap_or_default();
    let frame = src
        .lines()
        .any(|l| l.trim_start().starts_with("// @module"));
    let hint = match (&model.name, frame) {
        (Some(name), true) => format!(
            "; {} is the frame of a built-in model, whose modules are put in place of its `@module` lines only when it is simulated by name: `ligand simulate {name}`",
            path.display(),
        ),
        _ => "; name what to report with --vars (rule variables, parameters, compartments)".into(),
    };
    anyhow!(
        "{}: the model has no species, so there is nothing to report{hint}",
        path.display()
    )
}

fn plan(args: &SimulateArgs) -> Result<Plan> {
    check_conflicts(args)?;
    let (model, units) = read_model(&args.model, args.quiet)?;
    let set = parse_set(&args.set)?;
    let doses = parse_doses(&args.dose, &args.infuse, &model, &units, &set, args.start)?;
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
    if names.is_empty() && args.amounts.is_empty() {
        return Err(nothing_to_simulate(&args.model, &model));
    }
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
                let columns = names.len().max(1) * (1 + args.sensitivities.len()) + 1;
                if n.checked_add(1)
                    .and_then(|rows| rows.checked_mul(columns))
                    .is_none_or(|v| v > MAX_OUTPUT_VALUES)
                {
                    bail!(
                        "--steps {n}: {n} rows of {columns} columns is more than the {MAX_OUTPUT_VALUES} values a simulation may output; use fewer --steps (or --times for the times you need)"
                    );
                }
                Settings::grid(args.start, d, n)
            }
            _ => bail!("give the output times: --duration D --steps N, or --times t1,t2,..."),
        }
    };
    // A dose after the last output time would never be given.
    if let Some(&last) = times.last() {
        for d in &doses {
            let (species, at, flag) = match d {
                Dose::Bolus { species, time, .. } => (species, *time, "--dose"),
                Dose::Infusion { species, start, .. } => (species, *start, "--infuse"),
            };
            if at > last || (matches!(d, Dose::Infusion { .. }) && at == last) {
                bail!(
                    "{flag} into `{species}` at t={}: after the last output time {}, so it would have no effect; simulate longer or remove it",
                    format_number(at),
                    format_number(last)
                );
            }
        }
    }
    let settings = Settings {
        start: args.start,
        times,
        method: match args.method {
            MethodArg::Bdf => Method::Bdf,
            MethodArg::Sdirk => Method::Sdirk,
            MethodArg::Erk => Method::Erk,
        },
        rtol: args.rtol,
        atol: match args.atol {
            Some(a) => AbsoluteTolerance::Absolute(a),
            None => AbsoluteTolerance::Scaled,
        },
        max_steps: args.max_steps,
        doses,
        ..Settings::default()
    };
    let mut overrides = Vec::new();
    for item in &set {
        let i = system
            .base_index(&item.0)
            .map_err(|e| anyhow!("--set: {e}"))?;
        overrides.push((i, convert_set(&model, &units, &set, item)?));
    }
    let scan = match &args.scan {
        Some(path) => {
            let (names, rows) = read_scan(path)?;
            if rows.is_empty() {
                bail!("{}: the scan table has no rows (a header of names, then one row of values per simulation)", path.display());
            }
            if let Some(n) = names.iter().find(|n| set.iter().any(|(k, _, _)| k == *n)) {
                bail!("`{n}` is both in --set and a column of the scan table {}; give it in one place", path.display());
            }
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
        rtol: 0.0,
        atol: vec![],
        warnings: vec![],
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
    if !t.warnings.is_empty() {
        obj["warnings"] = serde_json::json!(t.warnings);
    }
    obj
}

pub fn run(args: SimulateArgs) -> Result<()> {
    let inputs: Vec<String> = std::iter::once(&args.model)
        .chain(args.scan.as_ref())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    ligand_cli::output::OutputTarget::new(args.output.as_deref().and_then(|p| p.to_str()))
        .refuse_inputs("--output", &inputs)?;
    let plan = plan(&args)?;
    if args.steady_state {
        return run_steady_state(&args, &plan);
    }
    match &plan.scan {
        None => run_single(&args, &plan),
        Some(sets) => run_scan(&args, &plan, sets),
    }
}

/// The tolerances used, for a note on standard error: the relative one and
/// the range of the absolute ones with the states at its ends.
fn tolerance_note(system: &System, rtol: f64, rule: AbsoluteTolerance, atol: &[f64]) -> String {
    let states = system.states();
    let rule_text = match rule {
        AbsoluteTolerance::Absolute(a) => format!("atol {a:e} for every state (--atol)"),
        AbsoluteTolerance::Scaled => {
            let lo = (0..atol.len()).min_by(|&a, &b| atol[a].total_cmp(&atol[b]));
            let hi = (0..atol.len()).max_by(|&a, &b| atol[a].total_cmp(&atol[b]));
            let range = match (lo, hi) {
                (Some(lo), Some(hi)) if atol[lo] != atol[hi] => format!(
                    ": from {} (`{}`) to {} (`{}`)",
                    short(atol[lo]),
                    states[lo].0,
                    short(atol[hi]),
                    states[hi].0
                ),
                (Some(lo), _) => format!(": {} for every state", short(atol[lo])),
                _ => String::new(),
            };
            format!(
                "atol scaled to the model (rtol * 1e-6 * each state's typical amount){range}; --atol sets one value for every state"
            )
        }
    };
    format!("tolerances: rtol {rtol:e}; {rule_text}")
}

/// A tolerance to four significant digits, for reading (`2e-26`, not
/// `2.0000000000000004e-26`).
fn short(v: f64) -> String {
    let s = format!("{v:.3e}");
    match s.split_once('e') {
        Some((m, e)) if m.contains('.') => {
            format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => s,
    }
}

/// The tolerances as JSON: the relative one, the rule, and each state's
/// absolute tolerance by name.
fn json_tolerances(
    system: &System,
    rtol: f64,
    rule: AbsoluteTolerance,
    atol: &[f64],
) -> serde_json::Value {
    let mut per_state = serde_json::Map::new();
    for ((name, _), a) in system.states().iter().zip(atol) {
        per_state.insert(name.clone(), serde_json::json!(a));
    }
    serde_json::json!({
        "rtol": rtol,
        "atol_rule": match rule {
            AbsoluteTolerance::Scaled => "scaled",
            AbsoluteTolerance::Absolute(_) => "absolute",
        },
        "atol": per_state,
    })
}

fn run_single(args: &SimulateArgs, plan: &Plan) -> Result<()> {
    let mut sim = Simulator::new(&plan.system, &plan.observables);
    let t = sim
        .run(&plan.settings, &plan.overrides)
        .map_err(|e| anyhow!("{}: {e}", args.model.display()))?;
    if !args.quiet {
        eprintln!(
            "{}",
            tolerance_note(&plan.system, t.rtol, plan.settings.atol, &t.atol)
        );
    }
    for w in &t.warnings {
        eprintln!("warning: {w}");
    }
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
            v["tolerances"] = json_tolerances(&plan.system, t.rtol, plan.settings.atol, &t.atol);
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
    let mut warned = 0usize;
    let mut warnings: Vec<String> = Vec::new();
    if !args.quiet {
        eprintln!(
            "tolerances: rtol {:e}; {}",
            plan.settings.rtol,
            match plan.settings.atol {
                AbsoluteTolerance::Absolute(a) => format!("atol {a:e} for every state (--atol)"),
                AbsoluteTolerance::Scaled => "atol scaled to each simulation's model state (rtol * 1e-6 * each state's typical amount); --atol sets one value for every state".into(),
            }
        );
    }
    // Chunks keep memory bounded and the output streaming, in row order.
    let chunk = 512;
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        let blocks: Vec<(String, Option<String>, Vec<String>)> = scan(
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
                    let warnings: Vec<String> =
                        t.warnings.iter().map(|w| format!("row {i}: {w}")).collect();
                    (text, fail, warnings)
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
                    (text, Some(format!("row {i}: {e}")), Vec::new())
                }
            },
            &progress,
        );
        for (text, fail, w) in blocks {
            sink.write(&text)?;
            if let Some(f) = fail {
                failed.push(f);
            }
            if !w.is_empty() {
                warned += 1;
                if warned <= 5 {
                    warnings.extend(w);
                }
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
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if warned > 5 {
        eprintln!("warning: {warned} of {n} simulations have warnings (each row's `warnings` in --format json)");
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
    let mut noted = false;
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
                if !args.quiet && !noted {
                    eprintln!(
                        "{}",
                        tolerance_note(&plan.system, options.rtol, options.atol, &ss.atol)
                    );
                    noted = true;
                }
                let unstable = stability_warning(&ss.stability);
                if let Some(w) = &unstable {
                    match row {
                        Some(i) => eprintln!("warning: row {i}: {w}"),
                        None => eprintln!("warning: {w}"),
                    }
                }
                if json {
                    let mut v = serde_json::to_value(&ss)?;
                    if let Some(i) = row {
                        v["row"] = serde_json::json!(i);
                    }
                    if let Some(w) = &unstable {
                        v["warnings"] = serde_json::json!([w]);
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

/// A warning for a steady state that is not known to be stable.
fn stability_warning(s: &Stability) -> Option<String> {
    let laws = if s.conservation_laws > 0 {
        format!(
            " (the {} zero eigenvalue(s) of conservation laws excluded)",
            s.conservation_laws
        )
    } else {
        String::new()
    };
    match s.kind {
        StabilityKind::Stable => None,
        StabilityKind::Unstable => Some(format!(
            "the steady state is unstable: the Jacobian has an eigenvalue with real part {}{laws}, so the dynamics move away from it; simulate a time course to see where they go",
            format_number(s.max_real_part)
        )),
        StabilityKind::Marginal => Some(format!(
            "the steady state is marginally stable: the largest real part of the Jacobian's eigenvalues is {}, zero to rounding{laws}, so linearisation does not decide",
            format_number(s.max_real_part)
        )),
        _ => Some("the stability of the steady state is unknown: the eigenvalues of the Jacobian could not be computed".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concentration_units_convert_to_molar() {
        let close = |s: &str, v: f64| {
            let (x, unit) = parse_quantity(s, "x").unwrap();
            assert!(unit && (x - v).abs() <= 1e-12 * v, "{s}: {x}");
        };
        close("100nM", 1e-7);
        close(" 2.5 uM", 2.5e-6);
        close("2.5\u{b5}M", 2.5e-6);
        close("1mM", 1e-3);
        close("1e-9M", 1e-9);
        close("500pM", 5e-10);
        assert_eq!(parse_quantity("7", "x").unwrap(), (7.0, false));
        assert!(parse_quantity("7 kg", "x").is_err());
    }

    #[test]
    fn a_concentration_dose_is_an_amount_in_the_species_compartment() {
        let src = "unit substance = nmole; unit volume = litre
compartment V = 2; species C in V; substanceOnly species N in V; C = 0; N = 0";
        let (m, _) = parse_antimony(src).unwrap();
        let units = ModelUnits::from_antimony(src);
        let doses = |d: &str, set: &[(String, f64, bool)]| {
            parse_doses(&[d.to_string()], &[], &m, &units, set, 5.0)
        };
        let amount = |d: Result<Vec<Dose>>| match d.unwrap().as_slice() {
            [Dose::Bolus { amount, time, .. }] => (*amount, *time),
            other => panic!("{other:?}"),
        };
        let close = |(a, t): (f64, f64), (b, u): (f64, f64)| {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs() && t == u,
                "{a} {t} vs {b} {u}"
            )
        };
        close(amount(doses("C=1uM@10", &[])), (2000.0, 10.0));
        // Without a time the dose is at the start; a plain number is an amount.
        close(amount(doses("C=3", &[])), (3.0, 5.0));
        // --set of the compartment size counts.
        let set = [("V".to_string(), 4.0, false)];
        close(amount(doses("C=1nM", &set)), (4.0, 5.0));
        assert!(doses("N=1nM", &[]).is_err());
        close(amount(doses("N=1", &[])), (1.0, 5.0));
        assert!(doses("X=1nM", &[]).is_err());
        // --set: in the species' units; refused for amounts and compartments.
        let item = |n: &str| (n.to_string(), 100e-9, true);
        let c = convert_set(&m, &units, &[], &item("C")).unwrap();
        assert!((c - 100.0).abs() < 1e-9, "{c}");
        assert!(convert_set(&m, &units, &[], &item("N")).is_err());
        assert!(convert_set(&m, &units, &[], &item("V")).is_err());
    }

    #[test]
    fn a_concentration_without_declared_units_is_refused() {
        let src = "compartment V = 2; species C in V; C = 0; k = 1";
        let (m, _) = parse_antimony(src).unwrap();
        let units = ModelUnits::from_antimony(src);
        let e = parse_doses(&["C=1uM".to_string()], &[], &m, &units, &[], 0.0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--dose `C=1uM`") && e.contains("no substance unit"),
            "{e}"
        );
        // A parameter of a file model: no units known.
        let e = convert_set(&m, &units, &[], &("k".into(), 1e-9, true))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`k` is not a species"), "{e}");
        // A built-in model's parameters are in nM.
        assert!(
            (convert_set(&m, &ModelUnits::Builtin, &[], &("k".into(), 2e-9, true)).unwrap() - 2.0)
                .abs()
                < 1e-12
        );
    }
}
