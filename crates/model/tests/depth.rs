//! Long and deep models: long rate laws, long reaction lists, deep nesting in
//! Antimony and in MathML, recursive function definitions. No stack overflow
//! and no panic, on a thread with the 2 MiB stack that spawned threads get by
//! default: a correct model or an error naming line and column.

use ligand_expr::MAX_TREE_DEPTH;
use ligand_model::{parse_antimony, parse_antimony_partial, parse_sbml, DiagnosticKind, Model};

/// Runs `f` on a fresh thread with a 2 MiB stack and returns its result.
fn on_2mib<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .expect("no panic and no stack overflow")
}

/// The value of reaction `i`'s rate law with every symbol set to `x`.
fn rate_at(m: &Model, i: usize, x: f64) -> f64 {
    let rate = m
        .inline_expr(m.reactions[i].rate_law.as_ref().unwrap())
        .unwrap();
    rate.eval(&|_| Some(x)).unwrap()
}

#[test]
fn a_rate_law_of_100000_terms_reads_and_evaluates() {
    on_2mib(|| {
        let n: u64 = 100_000;
        let terms: Vec<String> = (1..=n).map(|i| format!("{i}*k*S")).collect();
        let src = format!("J1: S -> P; {}\nS = 1; P = 0; k = 1", terms.join(" + "));
        let (m, _) = parse_antimony(&src).unwrap();
        assert_eq!(rate_at(&m, 0, 1.0), (n * (n + 1) / 2) as f64);
        assert!(m.reactions[0].rate_law.as_ref().unwrap().depth() < 100);
        // Written out and read again, the same rate law (compared without
        // printing: the message would be megabytes).
        let (again, _) = parse_antimony(&m.to_antimony()).unwrap();
        assert!(again.reactions[0].rate_law == m.reactions[0].rate_law);
    });
}

#[test]
fn ten_thousand_reactions_read() {
    on_2mib(|| {
        let n = 10_000;
        let mut src = String::new();
        for i in 0..n {
            src += &format!("J{i}: S{i} -> S{}; k*S{i}\n", i + 1);
        }
        src += "S0 = 1; k = 0.5\n";
        let (m, _) = parse_antimony(&src).unwrap();
        assert_eq!(m.reactions.len(), n);
        assert_eq!(m.species.len(), n + 1);
        assert_eq!(rate_at(&m, n - 1, 2.0), 4.0);
        assert!(m
            .validate()
            .iter()
            .all(|d| d.kind != DiagnosticKind::Syntax));
    });
}

#[test]
fn deep_antimony_expressions_are_located_errors() {
    on_2mib(|| {
        for deep in [
            "-".repeat(50_000) + "k",
            "(".repeat(50_000) + "k" + &")".repeat(50_000),
            "exp(".repeat(50_000) + "k" + &")".repeat(50_000),
            vec!["k"; 5_000].join(" < "),
        ] {
            let src = format!("k = 1\nJ1: S -> P; {deep}\nS = 1");
            let (_, ds) = parse_antimony_partial(&src);
            let err = ds
                .iter()
                .find(|d| d.kind == DiagnosticKind::Syntax && d.message.contains("deep"))
                .unwrap_or_else(|| {
                    panic!("{:?}", ds.iter().map(|d| &d.message).collect::<Vec<_>>())
                });
            let loc = err.loc.expect("a position");
            assert_eq!(loc.line, 2, "{}", err.message);
            assert!(loc.column >= 13, "{}", err.message);
        }
    });
}

#[test]
fn recursive_and_exploding_function_definitions_are_refused() {
    on_2mib(|| {
        let src = "function f(x)\n  f(x) + 1\nend\nJ1: S -> P; f(S)\nS = 1";
        let (m, _) = parse_antimony_partial(src);
        let err = m.inlined().unwrap_err();
        assert_eq!(err.function, "f");
        // f1(x) = f0(x) + f0(x), ... f40: 2^40 terms if expanded.
        let mut src = String::from("function f0(x)\n  x\nend\n");
        for i in 1..=40 {
            src += &format!("function f{i}(x)\n  f{0}(x) + f{0}(x)\nend\n", i - 1);
        }
        src += "J1: S -> P; f40(S)\nS = 1";
        let (m, _) = parse_antimony_partial(&src);
        let started = std::time::Instant::now();
        assert!(m.inlined().is_err());
        assert!(started.elapsed().as_secs() < 60);
    });
}

/// An SBML Level 3 Version 2 document whose rule for `p` has `math`.
fn rule_doc(math: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="m">
    <listOfParameters>
      <parameter id="a" value="2" constant="true"/>
      <parameter id="p" constant="false"/>
    </listOfParameters>
    <listOfRules>
      <assignmentRule variable="p">
        <math xmlns="http://www.w3.org/1998/Math/MathML">{math}</math>
      </assignmentRule>
    </listOfRules>
  </model>
</sbml>"#
    )
}

#[test]
fn a_mathml_sum_of_100000_arguments_reads_shallow() {
    on_2mib(|| {
        let n = 100_000;
        let math = format!("<apply><plus/>{}</apply>", "<ci>a</ci>".repeat(n));
        let (m, _) = parse_sbml(&rule_doc(&math)).unwrap();
        let e = &m.assignment_rules[0].math;
        assert!(e.depth() < 100, "{}", e.depth());
        assert_eq!(e.eval(&|_| Some(2.0)).unwrap(), 2.0 * n as f64);
    });
}

#[test]
fn deep_mathml_is_read_or_refused_with_a_position() {
    on_2mib(|| {
        // Within MathML's nesting limit: read, and its value is right.
        let n = 300;
        let math = "<apply><minus/>".repeat(n) + "<ci>a</ci>" + &"</apply>".repeat(n);
        let (m, _) = parse_sbml(&rule_doc(&math)).unwrap();
        assert_eq!(
            m.assignment_rules[0].math.eval(&|_| Some(2.0)).unwrap(),
            2.0
        );
        // Far beyond it: an error with a line, not a crash (roxmltree or the
        // MathML reader refuses it).
        for n in [1_000, 100_000] {
            let math = "<apply><minus/>".repeat(n) + "<ci>a</ci>" + &"</apply>".repeat(n);
            let ds = parse_sbml(&rule_doc(&math)).unwrap_err();
            assert!(ds[0].loc.is_some_and(|l| l.line >= 1), "{}", ds[0].message);
        }
        // Wide and deep at once: 399 levels of 32-argument sums would make a
        // tree deeper than MAX_TREE_DEPTH; it must be refused, not walked.
        // Each nested sum is the first argument, at the bottom of its
        // parent's left-deep fold of 32 arguments.
        let close = "<ci>a</ci>".repeat(31) + "</apply>";
        let math = "<apply><plus/>".repeat(399) + "<ci>a</ci>" + &close.repeat(399);
        match parse_sbml(&rule_doc(&math)) {
            Ok((m, _)) => assert!(m.assignment_rules[0].math.depth() <= MAX_TREE_DEPTH),
            Err(ds) => {
                assert!(ds[0].message.contains("deeper than"), "{}", ds[0].message);
                assert_eq!(ds[0].loc.map(|l| l.line), Some(10));
            }
        }
    });
}

#[test]
fn deeply_nested_xml_outside_math_is_harmless() {
    on_2mib(|| {
        // roxmltree has no nesting limit of its own and builds its tree in a
        // loop; nothing of ours walks notes or annotations recursively.
        let n = 100_000;
        let notes = "<p>".repeat(n) + "deep" + &"</p>".repeat(n);
        let xml = rule_doc("<ci>a</ci>").replace(
            "<listOfParameters>",
            &format!(
                "<notes><body xmlns=\"http://www.w3.org/1999/xhtml\">{notes}</body></notes>\
                 <annotation><x xmlns=\"urn:x\">{notes}</x></annotation><listOfParameters>"
            ),
        );
        let (m, _) = parse_sbml(&xml).unwrap();
        assert_eq!(
            m.assignment_rules[0].math.eval(&|_| Some(2.0)).unwrap(),
            2.0
        );
    });
}
