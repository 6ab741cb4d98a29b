//! The `ligand` command-line program: glue between the library crates, the
//! file system and the terminal. No numerical logic lives here.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod expr_cmd;

/// ligand: quantitative pharmacology from the assay plate to the synapse.
#[derive(Parser, Debug)]
#[command(name = "ligand", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Work with expressions: evaluate, differentiate, simplify.
    Expr(expr_cmd::ExprArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Expr(args) => expr_cmd::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::from(2)
        }
    }
}
