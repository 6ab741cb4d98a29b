//! Tests of the table reader: both layouts, every input variation, every error path, streaming,
//! and random input (which must never panic).

use std::io::{Cursor, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::*;

fn read(text: &str, spec: &TableSpec) -> Result<Dataset, TableError> {
    read_dataset_from(Cursor::new(text.as_bytes().to_vec()), "t.csv", spec)
}

fn read_ok(text: &str, spec: &TableSpec) -> Dataset {
    match read(text, spec) {
        Ok(d) => d,
        Err(e) => panic!("expected a dataset, found the error: {e}"),
    }
}

fn read_err(text: &str, spec: &TableSpec) -> TableError {
    match read(text, spec) {
        Ok(d) => panic!("expected an error, found {d:?}"),
        Err(e) => e,
    }
}

fn auto() -> TableSpec {
    TableSpec::default()
}

fn xy(points: &[Point]) -> Vec<(f64, f64)> {
    points.iter().map(|p| (p.x, p.y)).collect()
}

fn lines(points: &[Point]) -> Vec<usize> {
    points.iter().map(|p| p.line).collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A file in the temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("ligand-table-{}-{n}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Layouts and column detection

#[test]
fn long_format_with_groups_detected_by_name() {
    let d = read_ok(
        "curve_id,conc,response\n1,1e-9,0.1\n1,1e-8,0.5\n1,1e-8,0.6\n2,1e-9,1\n",
        &auto(),
    );
    assert_eq!(d.source, "t.csv");
    assert_eq!(d.x_name, "conc");
    assert_eq!(d.y_name, "response");
    assert_eq!(d.columns.format, Format::Long);
    assert_eq!(d.columns.group, vec!["curve_id"]);
    assert_eq!(d.columns.delimiter, ',');
    assert_eq!(d.groups.len(), 2);
    assert_eq!(d.groups[0].key, vec![("curve_id".into(), "1".into())]);
    assert_eq!(
        xy(&d.groups[0].points),
        vec![(1e-9, 0.1), (1e-8, 0.5), (1e-8, 0.6)]
    );
    assert_eq!(lines(&d.groups[0].points), vec![2, 3, 4]);
    assert_eq!(d.groups[1].label(), "curve_id=2");
    assert_eq!(d.groups[1].points[0].sd, None);
}

#[test]
fn group_order_is_first_appearance_and_rows_keep_input_order() {
    let text =
        "compound,plate,dose,signal\nB,1,1,10\nA,1,1,20\nB,2,1,30\nB,1,2,11\nC,1,1,40\nA,1,2,21\n";
    let spec = TableSpec {
        group: vec!["compound".into(), "plate".into()],
        ..auto()
    };
    let d = read_ok(text, &spec);
    let labels: Vec<String> = d.groups.iter().map(Group::label).collect();
    assert_eq!(
        labels,
        vec![
            "compound=B, plate=1",
            "compound=A, plate=1",
            "compound=B, plate=2",
            "compound=C, plate=1"
        ]
    );
    assert_eq!(xy(&d.groups[0].points), vec![(1.0, 10.0), (2.0, 11.0)]);
    assert_eq!(xy(&d.groups[1].points), vec![(1.0, 20.0), (2.0, 21.0)]);
}

#[test]
fn without_group_columns_the_table_is_one_group() {
    let d = read_ok("dose,effect,notes\n1,2,a\n3,4,b\n", &auto());
    assert_eq!(d.groups.len(), 1);
    assert!(d.groups[0].key.is_empty());
    assert_eq!(d.groups[0].label(), "");
    assert_eq!(d.columns.ignored, vec!["notes"]);
    let spec = TableSpec {
        no_auto_group: true,
        ..auto()
    };
    let d = read_ok("compound,conc,response\nA,1,2\nB,3,4\n", &spec);
    assert_eq!(d.groups.len(), 1);
    assert_eq!(d.columns.ignored, vec!["compound"]);
}

#[test]
fn x_is_found_by_name_only_and_y_is_the_one_left() {
    let d = read_ok("resp,Log Conc\n5,-9\n", &auto());
    assert_eq!(d.x_name, "Log Conc");
    assert_eq!(d.y_name, "resp");
    assert_eq!(xy(&d.groups[0].points), vec![(-9.0, 5.0)]);
    // A unit after `_` still names x; so does time.
    assert_eq!(read_ok("conc_nM,resp\n1,2\n", &auto()).x_name, "conc_nM");
    assert_eq!(
        read_ok("Time (min),bound\n1,2\n", &auto()).x_name,
        "Time (min)"
    );
    assert_eq!(
        read_ok("log_dose_M,resp\n-9,2\n", &auto()).x_name,
        "log_dose_M"
    );
    // No fallback to the first column: an unrecognised header is an error that lists the
    // columns and says how to name x.
    for text in [
        "Agonist (M),Inhibition %\n1e-9,5\n",
        "well,response\n1,5\n2,7\n",
        "compound,well,response\nA,1,5\n",
        "concentrate,response\n1,5\n",
        "dose_index,response\n1,5\n",
    ] {
        let e = read_err(text, &auto());
        assert!(matches!(e, TableError::Layout { .. }), "{e:?}");
        let m = e.to_string();
        assert!(m.contains("cannot tell which column holds x"), "{m}");
        assert!(m.contains("--x COLUMN"), "{m}");
    }
    let e = read_err("well,response\n1,5\n", &auto()).to_string();
    assert!(e.contains("found `well`"), "{e}");
    // Naming x explicitly still works for any name.
    let spec = TableSpec {
        x: Some("Agonist (M)".into()),
        ..auto()
    };
    let d = read_ok("Agonist (M),Inhibition %\n1e-9,5\n", &spec);
    assert_eq!(d.y_name, "Inhibition %");
    // `id` is no group name (row ids are often unique): two columns are left for y.
    let e = read_err("id,Log Conc,resp\n1,-9,5\n", &auto());
    assert!(matches!(e, TableError::Layout { .. }), "{e:?}");
}

#[test]
fn names_with_units_and_case() {
    let d = read_ok("Concentration [nM],Response (%)\n1,2\n", &auto());
    assert_eq!(d.x_name, "Concentration [nM]");
    assert_eq!(d.y_name, "Response (%)");
    let spec = TableSpec {
        x: Some("CONC".into()),
        y: vec!["Response".into()],
        ..auto()
    };
    let d = read_ok("conc,response\n1,2\n", &spec);
    assert_eq!(xy(&d.groups[0].points), vec![(1.0, 2.0)]);
}

#[test]
fn wide_format_detected_with_missing_replicates_skipped() {
    let text = "conc,rep1,rep2,rep3\n1e-9,1,2,3\n1e-8,4,,6\n1e-7,,,\n1e-6,7,8,\n";
    let d = read_ok(text, &auto());
    assert_eq!(d.columns.format, Format::Wide);
    assert_eq!(d.columns.y, vec!["rep1", "rep2", "rep3"]);
    assert_eq!(d.y_name, "y");
    assert_eq!(d.groups.len(), 1);
    assert_eq!(
        xy(&d.groups[0].points),
        vec![
            (1e-9, 1.0),
            (1e-9, 2.0),
            (1e-9, 3.0),
            (1e-8, 4.0),
            (1e-8, 6.0),
            (1e-6, 7.0),
            (1e-6, 8.0)
        ]
    );
    assert_eq!(lines(&d.groups[0].points), vec![2, 2, 2, 3, 3, 5, 5]);
}

#[test]
fn wide_format_prism_style_with_groups() {
    let text = "compound,X,Y1,Y2\nA,1,10,11\nA,2,20,\nB,1,30,31\n";
    let d = read_ok(text, &auto());
    assert_eq!(d.columns.format, Format::Wide);
    assert_eq!(d.x_name, "X");
    assert_eq!(d.groups.len(), 2);
    assert_eq!(
        xy(&d.groups[0].points),
        vec![(1.0, 10.0), (1.0, 11.0), (2.0, 20.0)]
    );
    let d = read_ok("dose,resp_1,resp_2\n1,2,3\n", &auto());
    assert_eq!(d.y_name, "resp");
    let spec = TableSpec {
        y: vec!["a".into(), "c".into()],
        ..auto()
    };
    let d = read_ok("conc,a,b,c\n1,2,3,4\n", &spec);
    assert_eq!(d.columns.format, Format::Wide);
    assert_eq!(xy(&d.groups[0].points), vec![(1.0, 2.0), (1.0, 4.0)]);
    assert_eq!(d.columns.ignored, vec!["b"]);
}

#[test]
fn named_y_column_wins_over_replicates() {
    let d = read_ok("conc,response,rep1,rep2\n1,2,3,4\n", &auto());
    assert_eq!(d.columns.format, Format::Long);
    assert_eq!(d.columns.ignored, vec!["rep1", "rep2"]);
}

#[test]
fn sd_column() {
    let spec = TableSpec {
        sd: Some("sd".into()),
        ..auto()
    };
    let d = read_ok("conc,response,sd\n1,2,0.5\n", &spec);
    assert_eq!(d.groups[0].points[0].sd, Some(0.5));
    let e = read_err("conc,response,sd\n1,2,0.5\n3,4,0\n", &spec);
    assert!(matches!(e, TableError::InvalidSd { line: 3, .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "t.csv, line 3, column `sd`: expected a positive standard deviation, found `0`"
    );
    let e = read_err("conc,response,sd\n1,2,-1\n", &spec);
    assert!(matches!(e, TableError::InvalidSd { .. }), "{e:?}");
    let e = read_err("conc,response,sd\n1,2,\n", &spec);
    assert!(matches!(e, TableError::NotANumber { .. }), "{e:?}");
}

// ---------------------------------------------------------------------------------------------
// Input variations

#[test]
fn tsv() {
    let d = read_ok("conc\tresponse\n1\t2\n3\t4\n", &auto());
    assert_eq!(d.columns.delimiter, '\t');
    assert_eq!(xy(&d.groups[0].points), vec![(1.0, 2.0), (3.0, 4.0)]);
}

#[test]
fn semicolon_with_decimal_comma() {
    let d = read_ok(
        "Konz;response\n1,5E-09;0,25\n2;3\n",
        &TableSpec {
            x: Some("Konz".into()),
            ..auto()
        },
    );
    assert_eq!(d.columns.delimiter, ';');
    assert_eq!(xy(&d.groups[0].points), vec![(1.5e-9, 0.25), (2.0, 3.0)]);
    // In a comma-delimited table a decimal comma splits the cell: the row is ragged.
    let e = read_err("conc,response\n1,5,2\n", &auto());
    assert!(matches!(e, TableError::Ragged { .. }), "{e:?}");
}

#[test]
fn decimal_comma_hint_in_tab_table() {
    let e = read_err("conc\tresponse\n1,5\t2\n", &auto());
    assert!(e.to_string().contains("decimal comma"), "{e}");
}

#[test]
fn utf8_bom_is_stripped() {
    let d = read_ok("\u{feff}conc,response\n1,2\n", &auto());
    assert_eq!(d.x_name, "conc");
    let bytes = [&b"\xEF\xBB\xBF"[..], b"x;y\n1;2\n"].concat();
    let d = read_dataset_from(Cursor::new(bytes), "t.csv", &auto()).unwrap();
    assert_eq!(d.columns.delimiter, ';');
    assert_eq!(d.x_name, "x");
}

#[test]
fn quoted_fields() {
    let text =
        "\"compound\",\"conc\",\"response\"\n\"A, racemic\",1,2\n\"say \"\"B\"\"\",\"3\",\"4\"\n";
    let d = read_ok(text, &auto());
    assert_eq!(
        d.groups[0].key,
        vec![("compound".into(), "A, racemic".into())]
    );
    assert_eq!(d.groups[1].key[0].1, "say \"B\"");
    assert_eq!(xy(&d.groups[1].points), vec![(3.0, 4.0)]);
}

#[test]
fn comments_and_blank_lines_keep_real_line_numbers() {
    let text = "# exported by the plate reader\n\n#  units: M\nconc,response\n# first plate\n1,2\n\n   \n,,\n3,4\n# end\n5,abc\n";
    let e = read_err(text, &auto());
    assert_eq!(e.line(), Some(12));
    assert_eq!(
        e.to_string(),
        "t.csv, line 12, column `response`: expected a number, found `abc`"
    );
    let d = read_ok(&text.replace("abc", "6"), &auto());
    assert_eq!(lines(&d.groups[0].points), vec![6, 10, 12]);
}

#[test]
fn line_numbers_count_lines_inside_quotes_and_crlf() {
    let text = "group,conc,response\r\n\"a\nb\",1,2\r\n\r\nc,3,x\r\n";
    let e = read_err(text, &auto());
    assert_eq!(e.line(), Some(5), "{e}");
    let d = read_ok("conc,response\r\n1,2\r\n\r\n3,4", &auto());
    assert_eq!(lines(&d.groups[0].points), vec![2, 4]);
}

#[test]
fn old_mac_line_ends() {
    let d = read_ok("conc,response\r1,2\r\r3,4\r", &auto());
    assert_eq!(xy(&d.groups[0].points), vec![(1.0, 2.0), (3.0, 4.0)]);
    assert_eq!(lines(&d.groups[0].points), vec![2, 4]);
}

#[test]
fn trailing_empty_fields_are_allowed() {
    let d = read_ok("conc,response\n1,2,,\n3,4,\n", &auto());
    assert_eq!(d.groups[0].points.len(), 2);
}

#[test]
fn gzip_file_by_extension_and_by_magic() {
    let text = b"curve_id,conc,response\n0,1e-9,1.09\n0,1e-8,0.5\n1,1e-9,1.0\n";
    let file = TempFile::new("data.csv.gz", &gzip(text));
    let d = read_dataset(file.path(), &auto()).unwrap();
    assert_eq!(d.source, file.path());
    assert_eq!(d.groups.len(), 2);
    assert_eq!(lines(&d.groups[1].points), vec![4]);
    // No `.gz` in the name: found by the magic bytes.
    let file = TempFile::new("data.csv", &gzip(text));
    let d = read_dataset(file.path(), &auto()).unwrap();
    assert_eq!(d.groups.len(), 2);
    // Concatenated gzip members.
    let mut two = gzip(b"conc,response\n1,2\n");
    two.extend(gzip(b"3,4\n"));
    let d = read_dataset_from(Cursor::new(two), "x.gz", &auto()).unwrap();
    assert_eq!(xy(&d.groups[0].points), vec![(1.0, 2.0), (3.0, 4.0)]);
}

#[test]
fn plain_file_and_gzip_of_bom_tsv() {
    let file = TempFile::new("plain.tsv", b"x\ty\n1\t2\n");
    let d = read_dataset(file.path(), &auto()).unwrap();
    assert_eq!(xy(&d.groups[0].points), vec![(1.0, 2.0)]);
    let d = read_dataset_from(
        Cursor::new(gzip(b"\xEF\xBB\xBFx\ty\n1\t2\n")),
        "t.tsv.gz",
        &auto(),
    )
    .unwrap();
    assert_eq!(d.x_name, "x");
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn missing_file() {
    let e = read_dataset("/nonexistent/dir/plate.csv", &auto()).unwrap_err();
    assert!(matches!(e, TableError::Io { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("/nonexistent/dir/plate.csv: cannot read"),
        "{e}"
    );
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn invalid_gzip() {
    let e = read_dataset_from(
        Cursor::new(b"conc,response\n1,2\n".to_vec()),
        "d.csv.gz",
        &auto(),
    )
    .unwrap_err();
    assert!(matches!(e, TableError::Gzip { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("d.csv.gz: expected gzip-compressed data"),
        "{e}"
    );
    // Truncated in the middle of the data.
    let rows: String = (0..2000).map(|i| format!("{i},{}\n", i * 7 % 13)).collect();
    let full = gzip(format!("conc,response\n{rows}").as_bytes());
    let cut = full[..full.len() / 2].to_vec();
    let e = read_dataset_from(Cursor::new(cut), "d.csv.gz", &auto()).unwrap_err();
    assert!(matches!(e, TableError::Gzip { .. }), "{e:?}");
    // Corrupt body after a valid header.
    let mut bad = full.clone();
    for b in bad.iter_mut().skip(20).take(50) {
        *b ^= 0x5a;
    }
    let e = read_dataset_from(Cursor::new(bad), "d.csv.gz", &auto()).unwrap_err();
    assert!(matches!(e, TableError::Gzip { .. }), "{e:?}");
}

#[test]
fn empty_input() {
    for text in [
        "",
        "\n\n",
        "# only a comment\n\n# and another\n",
        "  \n,,\n",
    ] {
        let e = read_err(text, &auto());
        assert!(matches!(e, TableError::Empty { .. }), "{text:?}: {e:?}");
        assert!(
            e.to_string().starts_with("t.csv: expected a header line"),
            "{e}"
        );
    }
}

#[test]
fn no_data_rows() {
    let e = read_err("# c\nconc,response\n\n# nothing\n", &auto());
    assert!(
        matches!(e, TableError::NoData { header_line: 2, .. }),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "t.csv: expected data rows after the header on line 2, found none"
    );
}

#[test]
fn header_of_numbers() {
    let e = read_err("1e-9,0.5\n1e-8,0.7\n", &auto());
    assert!(
        matches!(e, TableError::MissingHeader { line: 1, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("found numbers (`1e-9,0.5`)"), "{e}");
}

#[test]
fn missing_column_lists_columns_and_suggests() {
    let spec = TableSpec {
        y: vec!["respose".into()],
        ..auto()
    };
    let e = read_err("curve_id,conc,response\n1,2,3\n", &spec);
    match &e {
        TableError::MissingColumn {
            role,
            name,
            available,
            suggestion,
            ..
        } => {
            assert_eq!(*role, ColumnRole::Y);
            assert_eq!(name, "respose");
            assert_eq!(available, &["curve_id", "conc", "response"]);
            assert_eq!(suggestion.as_deref(), Some("response"));
        }
        _ => panic!("{e:?}"),
    }
    assert_eq!(
        e.to_string(),
        "t.csv: expected a column `respose` (for y), found no such column; available columns: \
         `curve_id`, `conc`, `response`; did you mean `response`?"
    );
    let spec = TableSpec {
        x: Some("conc".into()),
        ..auto()
    };
    let e = read_err("Concentration,response\n1,2\n", &spec);
    assert!(
        e.to_string().ends_with("did you mean `Concentration`?"),
        "{e}"
    );
    let spec = TableSpec {
        group: vec!["plate".into()],
        ..auto()
    };
    let e = read_err("conc,response\n1,2\n", &spec);
    match e {
        TableError::MissingColumn {
            role, suggestion, ..
        } => {
            assert_eq!(role, ColumnRole::Group);
            assert_eq!(suggestion, None);
        }
        _ => panic!("{e:?}"),
    }
    let spec = TableSpec {
        sd: Some("SEM".into()),
        ..auto()
    };
    let e = read_err("conc,response,sd\n1,2,3\n", &spec);
    assert!(
        matches!(
            e,
            TableError::MissingColumn {
                role: ColumnRole::Sd,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn duplicate_column() {
    let spec = TableSpec {
        y: vec!["response".into()],
        ..auto()
    };
    let e = read_err("conc,response,response\n1,2,3\n", &spec);
    assert!(matches!(e, TableError::DuplicateColumn { ref positions, .. } if positions == &[2, 3]));
    assert!(e.to_string().contains("found 2 (columns 2, 3)"), "{e}");
}

#[test]
fn layout_errors() {
    // Two candidates for y, not replicates.
    let e = read_err("conc,agonist,antagonist\n1,2,3\n", &auto());
    assert!(matches!(e, TableError::Layout { .. }), "{e:?}");
    assert!(e.to_string().contains("`agonist`, `antagonist`"), "{e}");
    // Prism data-set letters are different curves, not replicates.
    let e = read_err("conc,A,B\n1,2,3\n", &auto());
    assert!(matches!(e, TableError::Layout { .. }), "{e:?}");
    // Replicate names but text in them.
    let e = read_err("conc,rep1,rep2\n1,a,b\n", &auto());
    assert!(matches!(e, TableError::Layout { .. }), "{e:?}");
    // Only one column: the delimiter is probably something else.
    let e = read_err("conc|response\n1|2\n", &auto());
    assert!(matches!(e, TableError::Layout { .. }), "{e:?}");
    // One column in two roles.
    let spec = TableSpec {
        x: Some("conc".into()),
        y: vec!["conc".into()],
        ..auto()
    };
    let e = read_err("conc,response\n1,2\n", &spec);
    assert!(
        e.to_string()
            .contains("expected different columns for x and y"),
        "{e}"
    );
    let spec = TableSpec {
        y: vec!["a".into(), "a".into()],
        ..auto()
    };
    let e = read_err("conc,a\n1,2\n", &spec);
    assert!(e.to_string().contains("found `a` twice"), "{e}");
    // An sd column with replicates.
    let spec = TableSpec {
        y: vec!["r1".into(), "r2".into()],
        sd: Some("sd".into()),
        ..auto()
    };
    let e = read_err("conc,r1,r2,sd\n1,2,3,4\n", &spec);
    assert!(matches!(e, TableError::Layout { .. }), "{e:?}");
    let spec = TableSpec {
        sd: Some("sd".into()),
        ..auto()
    };
    let e = read_err("conc,r1,r2,sd\n1,2,3,4\n", &spec);
    assert!(matches!(e, TableError::Layout { .. }), "{e:?}");
}

#[test]
fn not_a_number() {
    let text = "conc,response\n1,2\n2,3\n3,4\n4,5\n5,6\n6,abc\n";
    let e = read_err(text, &auto());
    assert!(matches!(e, TableError::NotANumber { line: 7, .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "t.csv, line 7, column `response`: expected a number, found `abc`"
    );
    let e = read_err("conc,response\nx1,2\n", &auto());
    assert!(e.to_string().contains("column `conc`"), "{e}");
    let e = read_err("conc,response\n1,NA\n", &auto());
    assert!(
        e.to_string()
            .ends_with("found `NA` (a missing value: delete the row)"),
        "{e}"
    );
    let e = read_err("conc,response\n1,\n", &auto());
    assert!(e.to_string().contains("found an empty cell"), "{e}");
    let e = read_err("conc,response\n1,#DIV/0!\n", &auto());
    assert!(e.to_string().contains("spreadsheet error"), "{e}");
    let e = read_err("conc,rep1,rep2\n1,2,3\n2,n/a,3\n", &auto());
    assert!(
        e.to_string().contains("leave the replicate cell empty"),
        "{e}"
    );
    // In wide format the x cell is still required.
    let e = read_err("conc,rep1,rep2\n1,2,3\n,4,5\n", &auto());
    assert!(matches!(e, TableError::NotANumber { line: 3, .. }), "{e:?}");
}

#[test]
fn non_finite_values_are_rejected() {
    for cell in [
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "-INFINITY",
        "1e400",
    ] {
        let e = read_err(&format!("conc,response\n1,2\n1,{cell}\n"), &auto());
        assert!(
            matches!(e, TableError::NonFinite { line: 3, .. }),
            "{cell}: {e:?}"
        );
        let message = e.to_string();
        assert!(
            message.starts_with(&format!(
                "t.csv, line 3, column `response`: expected a finite number, found `{cell}`"
            )),
            "{message}"
        );
        assert!(message.contains("NaN and infinite values are not accepted"));
    }
    let e = read_err("conc,rep1,rep2\ninf,2,3\n", &auto());
    assert!(matches!(e, TableError::NonFinite { .. }), "{e:?}");
}

#[test]
fn ragged_rows() {
    let e = read_err("conc,response\n1,2\n3\n", &auto());
    assert!(
        matches!(
            e,
            TableError::Ragged {
                line: 3,
                expected: 2,
                found: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "t.csv, line 3: expected 2 fields (as many as the header has), found 1"
    );
    let e = read_err("conc,response\n1,2,3\n", &auto());
    assert!(matches!(e, TableError::Ragged { found: 3, .. }), "{e:?}");
}

#[test]
fn utf16_is_refused() {
    let mut bytes = vec![0xFF, 0xFE];
    for c in "conc,response\n1,2\n".encode_utf16() {
        bytes.extend(c.to_le_bytes());
    }
    let e = read_dataset_from(Cursor::new(bytes), "t.csv", &auto()).unwrap_err();
    assert!(matches!(e, TableError::Encoding { .. }), "{e:?}");
    assert!(e.to_string().contains("UTF-16"), "{e}");
}

#[test]
fn error_accessors() {
    let e = read_err("conc,response\n1,x\n", &auto());
    assert_eq!(e.file(), "t.csv");
    assert_eq!(e.line(), Some(2));
    assert!(e.is_row_error());
    let e = read_err("", &auto());
    assert_eq!(e.line(), None);
    assert!(!e.is_row_error());
}

// ---------------------------------------------------------------------------------------------
// Streaming

fn stream(text: &str, spec: &TableSpec) -> GroupStream {
    read_groups_streaming_from(Cursor::new(text.as_bytes().to_vec()), "s.csv", spec).unwrap()
}

#[test]
fn streaming_yields_groups_in_order() {
    let text = "curve_id,conc,response\n1,1,1\n1,2,2\n2,1,3\n\n# c\n3,1,4\n3,2,5\n";
    let s = stream(text, &auto());
    assert_eq!(s.source(), "s.csv");
    assert_eq!(s.x_name(), "conc");
    assert_eq!(s.y_name(), "response");
    assert_eq!(s.columns().group, vec!["curve_id"]);
    let groups: Vec<Group> = s.collect::<Result<_, _>>().unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(groups[0].label(), "curve_id=1");
    assert_eq!(xy(&groups[0].points), vec![(1.0, 1.0), (2.0, 2.0)]);
    assert_eq!(lines(&groups[2].points), vec![7, 8]);
    // The same table read whole gives the same groups.
    assert_eq!(read_ok(text, &auto()).groups, groups);
}

#[test]
fn streaming_without_groups_is_one_group() {
    let groups: Vec<Group> = stream("conc,rep1,rep2\n1,2,3\n4,,6\n", &auto())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].points.len(), 3);
}

#[test]
fn streaming_rejects_a_group_that_comes_back() {
    let text = "curve_id,conc,response\n1,1,1\n2,1,2\n1,2,3\n3,1,1\n";
    let mut s = stream(text, &auto());
    assert_eq!(s.next().unwrap().unwrap().label(), "curve_id=1");
    let e = s.next().unwrap().unwrap_err();
    assert!(
        matches!(
            e,
            TableError::NotContiguous {
                line: 4,
                first_line: 2,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("group `curve_id=1`"), "{e}");
    assert!(e.to_string().contains("contiguous by group"), "{e}");
    assert!(s.next().is_none());
    assert!(s.next().is_none());
    // read_dataset accepts the same table.
    assert_eq!(read_ok(text, &auto()).groups.len(), 3);
}

#[test]
fn streaming_row_error_spoils_only_its_group() {
    let text = "curve_id,conc,response\n1,1,1\n2,1,x\n2,2,nan\n2,3,3\n3,1,4\n4\n5,1,5\n";
    let items: Vec<Result<Group, TableError>> = stream(text, &auto()).collect();
    assert_eq!(items.len(), 5, "{items:?}");
    assert_eq!(items[0].as_ref().unwrap().label(), "curve_id=1");
    let e = items[1].as_ref().unwrap_err();
    assert!(matches!(e, TableError::NotANumber { line: 3, .. }), "{e:?}");
    assert!(e.is_row_error());
    assert_eq!(items[2].as_ref().unwrap().label(), "curve_id=3");
    // A row too short to hold the other columns is a ragged row of its own group.
    let e = items[3].as_ref().unwrap_err();
    assert!(matches!(e, TableError::Ragged { line: 7, .. }), "{e:?}");
    assert_eq!(items[4].as_ref().unwrap().label(), "curve_id=5");
    // Read whole, the first error ends the reading.
    let e = read_err(text, &auto());
    assert!(matches!(e, TableError::NotANumber { line: 3, .. }), "{e:?}");
}

#[test]
fn streaming_header_errors_come_at_once() {
    let r = read_groups_streaming_from(Cursor::new(b"conc,response\n".to_vec()), "s.csv", &auto());
    assert!(matches!(r, Err(TableError::NoData { .. })));
    let file = TempFile::new("stream.csv.gz", &gzip(b"g,conc,response\na,1,2\nb,1,2\n"));
    let spec = TableSpec {
        group: vec!["g".into()],
        ..auto()
    };
    let n = read_groups_streaming(file.path(), &spec).unwrap().count();
    assert_eq!(n, 2);
}

#[test]
fn streaming_gzip_error_ends_the_stream() {
    let rows: String = (0..20000)
        .map(|i| format!("{},{i},{}\n", i / 10, i % 7))
        .collect();
    let full = gzip(format!("curve_id,conc,response\n{rows}").as_bytes());
    let cut = full[..full.len() * 2 / 3].to_vec();
    let s = read_groups_streaming_from(Cursor::new(cut), "s.csv.gz", &auto()).unwrap();
    let items: Vec<_> = s.collect();
    assert!(items.len() > 10);
    let (last, good) = items.split_last().unwrap();
    assert!(good.iter().all(Result::is_ok));
    assert!(matches!(last, Err(TableError::Gzip { .. })), "{last:?}");
}

// ---------------------------------------------------------------------------------------------
// Random input never panics

/// xorshift64*: a small deterministic generator, enough to make varied inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn exercise(bytes: Vec<u8>, name: &str, spec: &TableSpec) {
    let _ = read_dataset_from(Cursor::new(bytes.clone()), name, spec).map(|d| d.groups.len());
    if let Ok(s) = read_groups_streaming_from(Cursor::new(bytes), name, spec) {
        for item in s.take(10_000) {
            let _ = item.map(|g| g.points.len()).map_err(|e| e.to_string());
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let alphabet = b"0123456789.,;\t\n\r\"#eE-+ naifNAIFxyrep_ \xEF\xBB\xBF\xFF";
    let specs = [
        auto(),
        TableSpec {
            x: Some("x".into()),
            y: vec!["y".into(), "rep1".into()],
            group: vec!["g".into()],
            sd: Some("sd".into()),
            no_auto_group: false,
        },
        TableSpec {
            group: vec!["curve_id".into()],
            ..auto()
        },
    ];
    let seeds = [
        &b"curve_id,conc,response\n1,1e-9,0.5\n1,1e-8,0.7\n2,1,1\n"[..],
        b"conc,rep1,rep2\n1,2,\n3,,4\n",
        b"x\ty\tg\tsd\n1\t2\ta\t0.1\n",
    ];
    for round in 0..3000 {
        let len = rng.below(300);
        let bytes: Vec<u8> = match round % 4 {
            // Raw random bytes.
            0 => (0..len).map(|_| rng.next() as u8).collect(),
            // Random text from CSV-ish characters.
            1 => (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect(),
            // A valid table with random mutations.
            2 => {
                let mut b = seeds[rng.below(seeds.len())].to_vec();
                for _ in 0..1 + rng.below(5) {
                    let i = rng.below(b.len());
                    match rng.below(3) {
                        0 => b[i] = alphabet[rng.below(alphabet.len())],
                        1 => {
                            b.remove(i);
                        }
                        _ => b.insert(i, alphabet[rng.below(alphabet.len())]),
                    }
                }
                b
            }
            // Gzip magic followed by garbage, or gzip of random text.
            _ => {
                if rng.below(2) == 0 {
                    let mut b = vec![0x1f, 0x8b];
                    b.extend((0..len).map(|_| rng.next() as u8));
                    b
                } else {
                    let text: Vec<u8> = (0..len)
                        .map(|_| alphabet[rng.below(alphabet.len())])
                        .collect();
                    gzip(&text)
                }
            }
        };
        let name = if round % 7 == 0 { "r.csv.gz" } else { "r.csv" };
        exercise(bytes, name, &specs[round % specs.len()]);
    }
}

#[test]
fn long_lines_and_many_columns_never_panic() {
    let wide_header: String = (0..5000).map(|i| format!("c{i},")).collect();
    exercise(
        format!("{wide_header}\n1,2\n").into_bytes(),
        "w.csv",
        &auto(),
    );
    exercise(vec![b'a'; 2 << 20], "l.csv", &auto());
    exercise(vec![b'"'; 100_000], "q.csv", &auto());
    exercise(vec![b'\r'; 100_000], "r.csv", &auto());
    exercise(vec![b'#'; 10_000], "h.csv", &auto());
}
