//! The expression parser and every walk over what it accepts: printing
//! (which must parse back to the same text), simplification,
//! differentiation, compilation, compiled and tree evaluation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ligand_expr::{parse, simplify, Compiler};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(e) = parse(src) else {
        return;
    };
    // Printing round-trips (compared as text: NaN literals are never equal).
    let text = e.to_string();
    let again = parse(&text).unwrap_or_else(|err| panic!("{src:?} printed as {text:?}: {err}"));
    assert_eq!(again.to_string(), text, "{src:?}");
    let vars = e.free_vars();
    let _ = simplify(&e);
    if let Some(v) = vars.first() {
        if let Ok(d) = e.diff(v) {
            let _ = d.to_string();
        }
    }
    let mut c = Compiler::new(&vars);
    if c.add(&e).is_ok() {
        let p = c.finish();
        let mut slots = p.new_slots();
        for (i, s) in slots.iter_mut().take(vars.len()).enumerate() {
            *s = 0.5 + i as f64;
        }
        let mut out = [0.0];
        p.eval(&mut slots, &mut out);
        // Compiled and tree evaluation agree only to rounding (integer
        // powers become products, b^x becomes exp(x ln b)); both must run.
        let _ = e.eval(&|n| vars.iter().position(|v| v == n).map(|i| 0.5 + i as f64));
    }
});
