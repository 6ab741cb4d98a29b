use ligand_pharm::units::{convert, dimension, parse_quantity, to_molar, Dimension, UnitError};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
}

#[test]
fn concentrations_in_every_spelling() {
    for (text, molar) in [
        ("100nM", 1e-7),
        ("100 nM", 1e-7),
        ("1e-7 M", 1e-7),
        ("1e-7M", 1e-7),
        ("0.1uM", 1e-7),
        ("0.1 µM", 1e-7),
        ("0.1 μM", 1e-7),
        ("100000 pM", 1e-7),
        ("  2.5 mM ", 2.5e-3),
        ("1 mol/L", 1.0),
        ("-0 nM", 0.0),
    ] {
        let got = to_molar(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(close(got, molar), "{text}: expected {molar}, found {got}");
    }
}

#[test]
fn malformed_concentrations_are_errors() {
    for text in ["", "nM", "100", "100 %", "1e nM", "inf nM", "100 furlongs"] {
        assert!(to_molar(text).is_err(), "{text} should not parse");
    }
    assert!(matches!(
        parse_quantity("abc"),
        Err(UnitError::Malformed { .. })
    ));
}

#[test]
fn conversions_round_trip_and_refuse_other_dimensions() {
    assert!(close(convert(24.0, "%", "fraction").unwrap(), 0.24));
    assert!(close(convert(0.24, "fraction", "%").unwrap(), 24.0));
    assert!(close(convert(5714.0, "ms", "s").unwrap(), 5.714));
    assert!(close(convert(9.4, "mg/kg", "ug/kg").unwrap(), 9400.0));
    for u in ["M", "mM", "uM", "µM", "nM", "pM", "fM"] {
        let there = convert(7.3, "nM", u).unwrap();
        assert!(close(convert(there, u, "nM").unwrap(), 7.3), "{u}");
    }
    assert!(matches!(
        convert(1.0, "nM", "mg/kg"),
        Err(UnitError::Incompatible { .. })
    ));
    assert!(matches!(
        convert(1.0, "nM", "parsec"),
        Err(UnitError::UnknownUnit { .. })
    ));
    assert_eq!(dimension("µM").unwrap(), Dimension::Concentration);
}
