//! The CLI's table reader (delimiter and layout detection, wide and long
//! format, groups, gzip), through its public API: whole and streaming.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ligand_cli::table::{read_dataset_from, read_groups_streaming_from, TableSpec};

fuzz_target!(|data: &[u8]| {
    let spec = TableSpec::default();
    let _ = read_dataset_from(std::io::Cursor::new(data.to_vec()), "fuzz.csv", &spec);
    if let Ok(stream) =
        read_groups_streaming_from(std::io::Cursor::new(data.to_vec()), "fuzz.tsv", &spec)
    {
        for group in stream.take(10_000) {
            if group.is_err() {
                break;
            }
        }
    }
});
