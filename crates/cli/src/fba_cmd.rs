//! `ligand fba MODEL.xml`: flux balance analysis of an SBML model with the
//! `fbc` package. Prints one CSV row: the active objective's value and the
//! fluxes of one optimum (the library's [`ligand_model::FluxBalance`] does
//! the work).

use crate::simulate_cmd::read_external_model;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use ligand_expr::format_number;
use ligand_model::{read_flux_balance, FluxBalanceStatus};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct FbaArgs {
    /// The SBML file (with fbc flux bounds and an active objective).
    model: PathBuf,
    /// The columns, comma-separated: reaction ids and the objective's id
    /// (default: the objective, then every reaction).
    #[arg(long)]
    vars: Option<String>,
    /// Print no warnings (an infeasible or unbounded problem still prints NaN).
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: FbaArgs) -> Result<()> {
    let path = &args.model;
    let src = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the model file {}", path.display()))?;
    let read_external = |source: &str| read_external_model(path, source);
    let (problem, _warnings) = read_flux_balance(&src, &read_external).map_err(|ds| {
        let errors: Vec<String> = ds
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{}: {}", path.display(), d.render(&src)))
            .collect();
        anyhow!("{}", errors.join("\n\n"))
    })?;
    let solution = problem.optimize();
    if !args.quiet {
        match &solution.status {
            FluxBalanceStatus::Optimal => {}
            FluxBalanceStatus::Infeasible => {
                eprintln!(
                    "{}: no flux satisfies the constraints (infeasible)",
                    path.display()
                )
            }
            FluxBalanceStatus::Unbounded => {
                eprintln!("{}: the objective is unbounded", path.display())
            }
            FluxBalanceStatus::Failed(why) => {
                eprintln!("{}: the linear program failed: {why}", path.display())
            }
        }
    }
    let names: Vec<String> = match &args.vars {
        Some(v) => v
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        None => std::iter::once(problem.objective_id.clone())
            .chain(problem.reactions.iter().cloned())
            .collect(),
    };
    let mut values = Vec::new();
    for n in &names {
        match solution.value(&problem, n) {
            Some(v) => values.push(format_number(v)),
            None => bail!(
                "`{n}` is neither a reaction nor the objective `{}`",
                problem.objective_id
            ),
        }
    }
    println!("{}", names.join(","));
    println!("{}", values.join(","));
    Ok(())
}
