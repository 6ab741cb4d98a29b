//! The same input and seed give the same bytes with one thread and with two: `ligand fit` (in
//! `fit.rs`), a `ligand simulate` scan and `ligand reproduce`.

use super::{stderr, TempFile};
use std::path::PathBuf;

fn run(args: &[&str], threads: &str) -> Vec<u8> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ligand"))
        .args(args)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out.stdout
}

#[test]
fn a_simulate_scan_is_the_same_with_one_and_two_threads() {
    let model =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sim/tests/data/kholodenko2000_mapk.ant");
    let mut scan = String::from("V1,KK2,V5\n");
    for i in 0..64 {
        let f = 1.0 + 0.01 * ((i * 37) % 23) as f64;
        scan += &format!("{},{},{}\n", 2.5 * f, 8.0 / f, 0.75 * f);
    }
    let scan = TempFile::new("determinism-scan.csv", scan.as_bytes());
    let args = [
        "simulate",
        model.to_str().unwrap(),
        "--duration",
        "3000",
        "--steps",
        "30",
        "--scan",
        scan.path(),
        "--quiet",
    ];
    let one = run(&args, "1");
    assert!(one.len() > 64 * 31 * 20, "{} bytes", one.len());
    assert_eq!(one, run(&args, "2"));
}

#[test]
fn reproduce_is_the_same_with_one_and_two_threads() {
    for format in ["json", "table"] {
        let args = ["reproduce", "--format", format, "--seed", "7"];
        let one = run(&args, "1");
        assert!(one.len() > 1000);
        assert_eq!(one, run(&args, "2"), "{format}");
    }
}
