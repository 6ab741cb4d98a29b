//! The Antimony reader, then what a caller does with a model: validation,
//! function inlining and writing it back out (which must read again).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let (model, _diagnostics) = ligand_model::parse_antimony_partial(src);
    let _ = model.validate();
    let _ = model.inlined();
    if let Ok((m, _)) = ligand_model::parse_antimony(src) {
        let text = m.to_antimony();
        let _ = ligand_model::parse_antimony(&text);
        let _ = m.sorted_assignment_rules();
        let _ = m.initialization_order();
    }
});
