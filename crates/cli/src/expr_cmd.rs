//! `ligand expr`: evaluate, differentiate and simplify expressions from the
//! command line (useful to check a formula before fitting with it).

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use ligand_expr::{parse, simplify, Expr};

#[derive(Args, Debug)]
pub struct ExprArgs {
    /// What to do with the expression.
    #[arg(value_enum)]
    action: Action,
    /// The expression, e.g. "top / (1 + (x / ec50)^hill)".
    expression: String,
    /// Variable values for `eval`, e.g. --set x=1e-7,top=100.
    #[arg(long, value_delimiter = ',')]
    set: Vec<String>,
    /// The variable to differentiate with respect to (for `diff`).
    #[arg(long)]
    wrt: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Action {
    /// Evaluate with the values given by --set.
    Eval,
    /// Differentiate with respect to --wrt and print the simplified result.
    Diff,
    /// Print the simplified expression.
    Simplify,
    /// Print the free variables, one per line.
    Vars,
}

fn parse_or_render(src: &str) -> Result<Expr> {
    parse(src).map_err(|e| anyhow!("{}", e.render(src)))
}

fn parse_assignments(items: &[String]) -> Result<Vec<(String, f64)>> {
    items
        .iter()
        .map(|item| {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| anyhow!("--set `{item}`: expected name=value"))?;
            let v: f64 = v.trim().parse().with_context(|| {
                format!("--set `{item}`: expected a number after `=`, found `{v}`")
            })?;
            Ok((k.trim().to_string(), v))
        })
        .collect()
}

pub fn run(args: ExprArgs) -> Result<()> {
    let e = parse_or_render(&args.expression)?;
    match args.action {
        Action::Eval => {
            let vals = parse_assignments(&args.set)?;
            let missing: Vec<String> = e
                .free_vars()
                .into_iter()
                .filter(|v| !vals.iter().any(|(k, _)| k == v))
                .collect();
            if !missing.is_empty() {
                bail!(
                    "no value for {}: give them with --set name=value",
                    missing.join(", ")
                );
            }
            let v = e.eval(&|n| vals.iter().find(|(k, _)| k == n).map(|(_, v)| *v))?;
            println!("{}", ligand_expr::format_number(v));
        }
        Action::Diff => {
            let wrt = args
                .wrt
                .as_deref()
                .ok_or_else(|| anyhow!("diff needs --wrt VARIABLE"))?;
            println!("{}", e.diff(wrt)?);
        }
        Action::Simplify => println!("{}", simplify(&e)),
        Action::Vars => {
            for v in e.free_vars() {
                println!("{v}");
            }
        }
    }
    Ok(())
}
