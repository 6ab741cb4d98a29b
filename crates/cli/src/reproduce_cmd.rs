//! `ligand reproduce`: every in vitro number of the dossiers, obtained
//! through a virtual assay and a fit, beside the published value.

use crate::output::{write_output, OutputTarget};
use anyhow::{anyhow, Context, Result};
use clap::{Args, ValueEnum};
use ligand_experiment::reproduce::{reproduce, Reproduction, Row, DEFAULT_SEED};
use ligand_experiment::svg;

/// Arguments of `ligand reproduce`.
#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  ligand reproduce\n  ligand reproduce --format json -o rows.json\n  ligand reproduce --out-dir reproduce-out   # rows, every plate as CSV and an SVG plot of each"
)]
pub struct ReproduceArgs {
    /// Seed of the virtual plates' noise.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Output format of the table.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the table to this file (atomically) instead of standard output.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Also write rows.csv, rows.json, every plate (plates/*.csv) and its plot with the fitted curve (plots/*.svg) here.
    #[arg(long)]
    pub out_dir: Option<String>,
}

/// Output format.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

fn opt(v: Option<f64>) -> String {
    v.map(sig).unwrap_or_default()
}

fn sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (2 - mag).max(0) as usize;
    format!("{v:.decimals$}")
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The rows as CSV.
pub fn rows_csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "id,compound,quantity,system,seed_value,unit,value,ci_low,ci_high,status,source,note\n",
    );
    let num = |v: Option<f64>| v.map(|x| format!("{x:?}")).unwrap_or_default();
    for r in rows {
        s += &[
            csv_field(&r.id),
            csv_field(&r.compound),
            csv_field(&r.quantity),
            csv_field(&r.system),
            num(r.seed_value),
            csv_field(&r.unit),
            num(Some(r.value)),
            num(r.ci_low),
            num(r.ci_high),
            csv_field(&r.status),
            csv_field(&r.source),
            csv_field(&r.note),
        ]
        .join(",");
        s.push('\n');
    }
    s
}

/// The rows as a table for the terminal.
pub fn rows_table(rep: &Reproduction) -> String {
    let mut s = format!(
        "ligand reproduce (seed {}): the dossiers' in vitro numbers through virtual assays and fits\n\n",
        rep.seed
    );
    s += &format!(
        "{:<10} {:<14} {:<58} {:>9} {:>9} {:>21} {:>6}  {}\n",
        "compound", "quantity", "system", "published", "ligand", "95% CI", "ratio", "status"
    );
    for r in &rep.rows {
        let mut system = r.system.clone();
        if system.chars().count() > 58 {
            system = system.chars().take(55).collect::<String>() + "...";
        }
        let ci = match (r.ci_low, r.ci_high) {
            (Some(a), Some(b)) => format!("[{}, {}]", sig(a), sig(b)),
            _ => String::new(),
        };
        s += &format!(
            "{:<10} {:<14} {:<58} {:>9} {:>9} {:>21} {:>6}  {}\n",
            r.compound,
            format!("{} ({})", r.quantity, r.unit)
                .chars()
                .take(14)
                .collect::<String>(),
            system,
            opt(r.seed_value),
            sig(r.value),
            ci,
            r.ratio().map(|x| format!("{x:.2}")).unwrap_or_default(),
            r.status
        );
    }
    s += "\nstatus: input = a model parameter recovered through assay and fit; calibrated = a free assay\nparameter tuned to this number; predicted = no parameter set from it. Notes: --format csv or json.\n";
    s
}

fn write_file(path: &std::path::Path, content: &str) -> Result<()> {
    let target = OutputTarget::new(Some(
        path.to_str().ok_or_else(|| anyhow!("non-UTF-8 path"))?,
    ));
    write_output(&target, |w| w.write_all(content.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))
}

/// Runs `ligand reproduce`.
pub fn run(args: ReproduceArgs) -> Result<()> {
    let rep = reproduce(args.seed);
    let json = serde_json::json!({ "rows": rep.rows });
    let text = match args.format {
        Format::Table => rows_table(&rep),
        Format::Csv => rows_csv(&rep.rows),
        Format::Json => serde_json::to_string_pretty(&json)? + "\n",
    };
    let target = OutputTarget::new(args.output.as_deref());
    write_output(&target, |w| w.write_all(text.as_bytes())).map_err(|e| anyhow!("{e}"))?;
    if let Some(dir) = &args.out_dir {
        let dir = std::path::Path::new(dir);
        std::fs::create_dir_all(dir.join("plates"))
            .with_context(|| format!("creating {}", dir.display()))?;
        std::fs::create_dir_all(dir.join("plots"))?;
        write_file(&dir.join("rows.csv"), &rows_csv(&rep.rows))?;
        write_file(
            &dir.join("rows.json"),
            &(serde_json::to_string_pretty(&json)? + "\n"),
        )?;
        for fp in &rep.plates {
            write_file(
                &dir.join("plates").join(format!("{}.csv", fp.plate.id)),
                &fp.plate.to_csv(),
            )?;
            write_file(
                &dir.join("plates").join(format!("{}.fit.json", fp.plate.id)),
                &(serde_json::to_string_pretty(&fp.fit)? + "\n"),
            )?;
            write_file(
                &dir.join("plots").join(format!("{}.svg", fp.plate.id)),
                &svg::plot(fp),
            )?;
        }
    }
    Ok(())
}
