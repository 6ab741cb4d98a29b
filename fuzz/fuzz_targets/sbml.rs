//! The SBML reader (XML, MathML, lowering), then validation, inlining and
//! writing the model back as SBML.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((model, _)) = ligand_model::parse_sbml(src) {
        let _ = model.validate();
        let _ = model.inlined();
        let _ = model.to_sbml();
        let _ = model.initialization_order();
    }
});
