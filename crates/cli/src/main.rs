//! The `ligand` command-line program: glue between the library crates, the
//! file system and the terminal. No numerical logic lives here.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

use ligand_cli::{compound_cmd, expr_cmd, fit_cmd, reproduce_cmd};
mod conformance_cmd;
mod fba_cmd;
mod simulate_cmd;

/// ligand: quantitative pharmacology from the assay plate to the synapse.
#[derive(Parser, Debug)]
#[command(name = "ligand", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Reproduce every in vitro number of the dossiers through virtual assays and fits.
    Reproduce(reproduce_cmd::ReproduceArgs),
    /// Fit concentration-response, binding and kinetic data (Prism- and drc-grade).
    Fit(Box<fit_cmd::FitArgs>),
    /// Work with expressions: evaluate, differentiate, simplify.
    Expr(expr_cmd::ExprArgs),
    /// Simulate a model: time courses, doses, steady states, sensitivities, parameter scans.
    Simulate(Box<simulate_cmd::SimulateArgs>),
    /// Browse the built-in compound library: activities with units, systems, sources and status.
    Compound(compound_cmd::CompoundArgs),
    /// Flux balance analysis of an SBML model with the fbc package: the optimal fluxes.
    Fba(fba_cmd::FbaArgs),
    /// Run conformance suites: `ligand conformance sbml DIR` (the SBML Test Suite).
    Conformance(conformance_cmd::ConformanceArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = ligand_cli::output::remove_temporaries_on_signal() {
        eprintln!(
            "warning: cannot watch for Ctrl-C ({e}); an interrupted run may leave a temporary file"
        );
    }
    let result = match cli.command {
        Command::Reproduce(args) => reproduce_cmd::run(args),
        Command::Fit(args) => fit_cmd::run(*args),
        Command::Expr(args) => expr_cmd::run(args),
        Command::Simulate(args) => simulate_cmd::run(*args),
        Command::Compound(args) => compound_cmd::run(args),
        Command::Fba(args) => fba_cmd::run(args),
        Command::Conformance(args) => conformance_cmd::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = format!("{e:#}");
            if message.starts_with("error") {
                eprintln!("{message}");
            } else {
                eprintln!("error: {message}");
            }
            ExitCode::from(2)
        }
    }
}
