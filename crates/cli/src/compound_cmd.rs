//! `ligand compound`: browse the built-in compound library (`ligand-pharm`).
//!
//! `list` prints one line per compound with its key activities; `show NAME`
//! prints every number of one compound with unit, system, source and
//! status. Both also write JSON (`--format json`). Unknown names get a
//! "did you mean" from `ligand_expr::closest`.

use anyhow::{bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use ligand_pharm::{library, Activity, Compound, Quantity};
use std::io::{self, Write};

#[derive(Args, Debug)]
pub struct CompoundArgs {
    #[command(subcommand)]
    action: Action,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    format: Format,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// One line per compound: name, kind, key activities.
    List,
    /// Every number of one compound with unit, system, source and status.
    Show {
        /// Compound name or alias (case-insensitive), e.g. LY3020371, 42d, DCS.
        name: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Table,
    Json,
}

pub fn run(args: CompoundArgs) -> Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = match &args.action {
        Action::List => list(&mut out, args.format),
        Action::Show { name } => show(&mut out, name, args.format),
    };
    match result {
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// `5.26 nM` or `1 mg/kg (range 0.1-10)`.
fn format_quantity(q: &Quantity) -> String {
    let v = ligand_expr::format_number(q.value);
    // A dimensionless number (a Hill slope) needs no unit after it.
    let unit = if q.unit == "1" { "" } else { q.unit.as_str() };
    match q.range {
        Some([lo, hi]) => format!(
            "{v} {unit} (range {}-{})",
            ligand_expr::format_number(lo),
            ligand_expr::format_number(hi)
        ),
        None => format!("{v} {unit}").trim_end().to_string(),
    }
}

/// The primary activity of each (quantity, target): the first in the data.
fn primary_activities(c: &Compound) -> Vec<&Activity> {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    let mut out = Vec::new();
    for a in &c.activities {
        if !seen.contains(&(a.quantity.as_str(), a.target.as_str())) {
            seen.push((&a.quantity, &a.target));
            out.push(a);
        }
    }
    out
}

/// The key activities of a compound, as one line of text.
fn key_activities(c: &Compound) -> String {
    let mut parts = Vec::new();
    for a in primary_activities(c) {
        parts.push(format!(
            "{} {} {}",
            a.quantity,
            a.target,
            format_quantity(&a.value)
        ));
    }
    if parts.len() > 4 {
        let more = parts.len() - 4;
        parts.truncate(4);
        parts.push(format!("+{more} more"));
    }
    parts.join("; ")
}

fn list(out: &mut impl Write, format: Format) -> Result<()> {
    let lib = library();
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = lib
                .compounds()
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "name": c.name,
                        "aliases": c.aliases,
                        "kind": c.kind,
                        // The primary activity of each (quantity, target), as numbers.
                        "key_activities": primary_activities(c),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &rows).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        Format::Table => {
            let w_name = lib
                .compounds()
                .iter()
                .map(|c| c.name.chars().count())
                .max()
                .unwrap_or(4)
                .max(4);
            writeln!(out, "{:<w_name$}  {:<50}  key activities", "name", "kind")?;
            for c in lib.compounds() {
                let kind: String = if c.kind.chars().count() > 50 {
                    c.kind.chars().take(49).chain(['…']).collect()
                } else {
                    c.kind.clone()
                };
                writeln!(
                    out,
                    "{:<w_name$}  {:<50}  {}",
                    c.name,
                    kind,
                    key_activities(c)
                )?;
            }
        }
    }
    Ok(())
}

fn quantity_lines(out: &mut impl Write, label: &str, q: &Quantity) -> io::Result<()> {
    writeln!(out, "  {label}: {} [{}]", format_quantity(q), q.status)?;
    if !q.system.is_empty() {
        writeln!(out, "      system: {}", q.system)?;
    }
    writeln!(out, "      source: {}", q.source)
}

fn show(out: &mut impl Write, name: &str, format: Format) -> Result<()> {
    let lib = library();
    let Some(c) = lib.compound(name) else {
        let names = lib.compound_names();
        match ligand_expr::closest(name, names.iter().copied()) {
            Some(s) => bail!("no compound `{name}` in the library; did you mean `{s}`? (`ligand compound list` lists them)"),
            None => bail!("no compound `{name}` in the library (`ligand compound list` lists them)"),
        }
    };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, c).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        Format::Table => {
            writeln!(out, "{}", c.name)?;
            if !c.aliases.is_empty() {
                writeln!(out, "  aliases: {}", c.aliases.join(", "))?;
            }
            writeln!(out, "  kind: {}", c.kind)?;
            if !c.description.is_empty() {
                writeln!(out, "  {}", c.description)?;
            }
            if let Some(mw) = &c.molecular_weight {
                quantity_lines(out, "molecular weight", mw)?;
            }
            for p in &c.properties {
                quantity_lines(out, &p.name, &p.value)?;
            }
            if !c.activities.is_empty() {
                writeln!(out, "activities")?;
                for a in &c.activities {
                    quantity_lines(out, &format!("{} at {}", a.quantity, a.target), &a.value)?;
                }
            }
            if !c.doses.is_empty() {
                writeln!(out, "in vivo")?;
                for d in &c.doses {
                    let label = format!("{}, {} {} {}", d.assay, d.species, d.route, d.measure);
                    quantity_lines(out, &label, &d.dose)?;
                    if !d.effect.is_empty() {
                        writeln!(out, "      effect: {}", d.effect)?;
                    }
                }
            }
        }
    }
    Ok(())
}
