//! Built-in models, shipped inside the binary so that `ligand simulate
//! synapse` needs no file.
//!
//! The glutamatergic synapse (`models/synapse/` at the repository root; the
//! guide is `docs/synapse.md`) comes as four modules that each simulate on
//! their own, and as their combination `synapse`. The model language has no
//! imports, so the combination is assembled here, once, from the module
//! files: the frame `synapse.ant` lists them with `// @module FILE` lines,
//! and each such line is replaced by the body of that module (the lines
//! between `model NAME` and the final `end`) without its *standalone block*,
//! the lines from `// --- standalone begin` to `// --- standalone end` that
//! stand in for the inputs the other modules compute. One source for each
//! module keeps the module models and the combined model consistent.
//!
//! ```
//! use ligand_sim::builtin::{builtin_model, builtin_names};
//!
//! assert!(builtin_names().contains(&"synapse"));
//! let text = builtin_model("synapse").unwrap();
//! let (model, _warnings) = ligand_model::parse_antimony(text).unwrap();
//! assert_eq!(model.name.as_deref(), Some("synapse"));
//! assert!(builtin_model("no_such_model").is_none());
//! ```

use std::sync::OnceLock;

const PRESYNAPTIC: &str = include_str!("../../../models/synapse/presynaptic.ant");
const CLEFT: &str = include_str!("../../../models/synapse/cleft.ant");
const POSTSYNAPTIC: &str = include_str!("../../../models/synapse/postsynaptic.ant");
const TROPHIC: &str = include_str!("../../../models/synapse/trophic.ant");
const SYNAPSE_FRAME: &str = include_str!("../../../models/synapse/synapse.ant");

/// The synapse modules by file name, in the order of the frame.
const SYNAPSE_MODULES: [(&str, &str); 4] = [
    ("presynaptic.ant", PRESYNAPTIC),
    ("cleft.ant", CLEFT),
    ("postsynaptic.ant", POSTSYNAPTIC),
    ("trophic.ant", TROPHIC),
];

const NAMES: [&str; 5] = [
    "synapse",
    "synapse_presynaptic",
    "synapse_cleft",
    "synapse_postsynaptic",
    "synapse_trophic",
];

/// The names of the built-in models.
pub fn builtin_names() -> &'static [&'static str] {
    &NAMES
}

/// The text (in the model language) of a built-in model, or `None` if there
/// is no built-in model of that name.
pub fn builtin_model(name: &str) -> Option<&'static str> {
    match name {
        "synapse" => Some(synapse()),
        "synapse_presynaptic" => Some(PRESYNAPTIC),
        "synapse_cleft" => Some(CLEFT),
        "synapse_postsynaptic" => Some(POSTSYNAPTIC),
        "synapse_trophic" => Some(TROPHIC),
        _ => None,
    }
}

fn synapse() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| assemble(SYNAPSE_FRAME, &SYNAPSE_MODULES))
}

/// The frame with each `// @module FILE` line replaced by that module's body.
/// A line naming a module that is not in `modules` is kept as it is (a
/// comment); the tests check that every module is found.
fn assemble(frame: &str, modules: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(frame.len() + modules.iter().map(|m| m.1.len()).sum::<usize>());
    for line in frame.lines() {
        let module = line
            .trim()
            .strip_prefix("// @module ")
            .and_then(|file| modules.iter().find(|(f, _)| *f == file.trim()));
        match module {
            Some((file, text)) => {
                out.push_str(&format!("  // ---- module {file} ----\n"));
                out.push_str(&module_body(text));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The lines between `model NAME` and the last `end`, without the standalone
/// block.
fn module_body(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim_start().starts_with("model "))
        .map_or(0, |i| i + 1);
    let end = lines
        .iter()
        .rposition(|l| l.trim() == "end")
        .filter(|&e| e >= start)
        .unwrap_or(lines.len());
    let mut body = String::new();
    let mut standalone = false;
    for line in &lines[start..end] {
        let t = line.trim();
        if t.starts_with("// --- standalone begin") {
            standalone = true;
        } else if t.starts_with("// --- standalone end") {
            standalone = false;
        } else if !standalone {
            body.push_str(line);
            body.push('\n');
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_of_the_frame_is_found_and_standalone_blocks_are_dropped() {
        let text = builtin_model("synapse").unwrap();
        assert!(!text.contains("// @module"), "{text}");
        assert!(!text.contains("standalone begin"));
        for (file, _) in SYNAPSE_MODULES {
            assert!(text.contains(&format!("module {file}")));
        }
        assert_eq!(text.matches("\nend").count(), 1);
    }
}
