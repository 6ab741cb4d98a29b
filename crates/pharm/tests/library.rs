use ligand_pharm::{library, units, Library, LibraryError, Status};

#[test]
fn the_built_in_library_parses() {
    let lib = library();
    assert!(lib.compounds().len() >= 12);
    assert!(lib.targets().len() >= 10);
}

/// Every number of the library, with where it is.
fn every_quantity(lib: &Library) -> Vec<(String, &ligand_pharm::Quantity)> {
    let mut all = Vec::new();
    for c in lib.compounds() {
        if let Some(mw) = &c.molecular_weight {
            all.push((format!("{}: MW", c.name), mw));
        }
        for a in &c.activities {
            all.push((
                format!("{}: {} at {}", c.name, a.quantity, a.target),
                &a.value,
            ));
        }
        for p in &c.properties {
            all.push((format!("{}: {}", c.name, p.name), &p.value));
        }
        for d in &c.doses {
            all.push((format!("{}: {}", c.name, d.assay), &d.dose));
        }
    }
    for t in lib.targets() {
        for p in &t.properties {
            all.push((format!("{}: {}", t.name, p.name), &p.value));
        }
    }
    all
}

#[test]
fn every_number_has_a_unit_a_system_and_a_source() {
    let all = every_quantity(library());
    assert!(all.len() > 50);
    for (item, q) in all {
        assert!(
            units::unit_scale(&q.unit).is_ok(),
            "{item}: unit {}",
            q.unit
        );
        assert!(!q.unit.trim().is_empty(), "{item}: empty unit");
        assert!(!q.source.trim().is_empty(), "{item}: empty source");
        assert!(!q.system.trim().is_empty(), "{item}: empty system");
        assert!(q.value.is_finite(), "{item}");
        if q.status == Status::Assumed {
            assert!(
                q.source.starts_with("assumed:"),
                "{item}: an assumed number gives its reason: {}",
                q.source
            );
        }
        if let Some([lo, hi]) = q.range {
            assert!(
                lo <= q.value && q.value <= hi,
                "{item}: {lo} <= {} <= {hi}",
                q.value
            );
        }
    }
}

#[test]
fn the_seed_values_are_present_exactly() {
    let lib = library();
    let nm = |c: &str, q: &str, t: &str| lib.value(c, q, t, "nM").unwrap().value;
    assert_eq!(nm("LY3020371", "Ki", "hmGluR2"), 5.26);
    assert_eq!(nm("LY3020371", "Ki", "hmGluR3"), 2.50);
    assert_eq!(nm("LY3020371", "Ki", "rat mGluR2/3"), 33.0);
    assert_eq!(nm("LY3020371", "IC50", "hmGluR2"), 16.2);
    assert_eq!(nm("LY3020371", "IC50", "hmGluR3"), 6.21);
    let sys = |s: &str| {
        lib.value_in("LY3020371", "IC50", "rat mGluR2/3", s, "nM")
            .unwrap_or_else(|| panic!("no IC50 in {s}"))
            .value
    };
    assert_eq!(sys("second messenger"), 29.0);
    assert_eq!(sys("glutamate release"), 86.0);
    assert_eq!(sys("Ca2+ oscillations"), 34.0);
    assert_eq!(sys("hippocampal slice"), 46.0);
    assert_eq!(nm("42d", "EC50", "GluN1/GluN2B"), 78.0);
    let eff = lib.value("42d", "efficacy", "GluN1/GluN2B", "%").unwrap();
    assert_eq!(eff.value, 24.0);
    assert_eq!(eff.status, Status::Verified);
    assert!(eff.source.contains("J Med Chem 2024"));
    let ki = lib.value("LY3020371", "Ki", "hmGluR2", "nM").unwrap();
    assert_eq!(ki.status, Status::Verified);
    assert!(ki.source.contains("Table 1"));
}

#[test]
fn in_vivo_doses_of_seed_table_2() {
    let c = library().compound("LY3020371").unwrap();
    assert_eq!(c.doses.len(), 6);
    let dd = c
        .doses
        .iter()
        .find(|d| d.assay == "drug discrimination")
        .unwrap();
    assert_eq!((dd.dose.value, dd.route.as_str()), (9.4, "i.p."));
    let fst = c
        .doses
        .iter()
        .find(|d| d.assay.contains("forced-swim"))
        .unwrap();
    assert_eq!(fst.dose.range, Some([0.1, 10.0]));
    assert_eq!(fst.route, "i.v.");
}

#[test]
fn lookup_is_case_insensitive_and_knows_aliases() {
    let lib = library();
    assert_eq!(lib.compound("ly-3020371").unwrap().name, "LY3020371");
    assert_eq!(lib.compound("DCS").unwrap().name, "D-cycloserine");
    assert_eq!(lib.compound("lu af90103").unwrap().name, "Lu AF90103");
    assert_eq!(lib.target("mglu2").unwrap().name, "hmGluR2");
    assert_eq!(lib.target("NR2B").unwrap().name, "GluN1/GluN2B");
    assert!(lib.compound("no such compound").is_none());
    // Units convert; a wrong dimension is None.
    let m = lib.value("LY3020371", "ki", "mGluR3", "M").unwrap();
    assert!((m.value - 2.5e-9).abs() < 1e-24);
    assert!(lib.value("LY3020371", "Ki", "hmGluR3", "%").is_none());
    let f = lib.value("42d", "efficacy", "GluN2B", "fraction").unwrap();
    assert!((f.value - 0.24).abs() < 1e-15);
}

#[test]
fn assumed_values_the_models_need_are_present() {
    let lib = library();
    for (c, q, t) in [
        ("DCG-IV", "EC50", "hmGluR2"),
        ("DCG-IV", "EC50", "hmGluR3"),
        ("[3H]-459477", "Kd", "hmGluR2"),
        ("[3H]-459477", "Kd", "hmGluR3"),
    ] {
        let v = lib
            .value(c, q, t, "nM")
            .unwrap_or_else(|| panic!("{c} {q} {t}"));
        assert_eq!(v.status, Status::Assumed, "{c} {q} {t}");
    }
}

#[test]
fn names_are_unique_across_aliases() {
    let lib = library();
    let mut seen = std::collections::BTreeSet::new();
    for c in lib.compounds() {
        assert!(seen.insert(c.name.to_lowercase()), "{}", c.name);
    }
}

#[test]
fn malformed_data_are_errors_not_panics() {
    let targets = "[[target]]\nname = \"R\"\nfamily = \"f\"\n";
    let bad_unit = "[[compound]]\nname = \"X\"\nkind = \"k\"\n[[compound.activity]]\ntarget = \"R\"\nquantity = \"Ki\"\nvalue = 1.0\nunit = \"furlong\"\nsystem = \"s\"\nsource = \"s\"\nstatus = \"verified\"\n";
    assert!(matches!(
        Library::from_toml(bad_unit, targets),
        Err(LibraryError::UnknownUnit { .. })
    ));
    let no_source = bad_unit
        .replace("furlong", "nM")
        .replace("source = \"s\"", "source = \" \"");
    assert!(matches!(
        Library::from_toml(&no_source, targets),
        Err(LibraryError::EmptySource { .. })
    ));
    let bad_target = bad_unit
        .replace("furlong", "nM")
        .replace("target = \"R\"", "target = \"Q\"");
    assert!(matches!(
        Library::from_toml(&bad_target, targets),
        Err(LibraryError::UnknownTarget { .. })
    ));
    let bad_status = bad_unit
        .replace("furlong", "nM")
        .replace("verified", "probably");
    assert!(matches!(
        Library::from_toml(&bad_status, targets),
        Err(LibraryError::Syntax { .. })
    ));
    let dup = "[[compound]]\nname = \"X\"\nkind = \"k\"\n[[compound]]\nname = \"Y\"\naliases = [\"x\"]\nkind = \"k\"\n";
    assert!(matches!(
        Library::from_toml(dup, targets),
        Err(LibraryError::DuplicateName { .. })
    ));
    let ok = bad_unit.replace("furlong", "nM");
    let lib = Library::from_toml(&ok, targets).unwrap();
    assert_eq!(lib.value("x", "ki", "r", "nM").unwrap().value, 1.0);
}

#[test]
fn the_library_serialises_to_json() {
    let c = library().compound("42d").unwrap();
    let json = serde_json::to_value(c).unwrap();
    assert_eq!(json["activities"][0]["value"], 78.0);
    assert_eq!(json["activities"][0]["status"], "verified");
}
