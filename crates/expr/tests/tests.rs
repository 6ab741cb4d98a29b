//! Integration tests of the expression language: one test binary, modules by theme.

use ligand_expr::{parse, parse_with, Compiler, Expr, ParseErrorKind, ParseOptions};

fn eval_at(e: &Expr, vars: &[(&str, f64)]) -> f64 {
    e.eval(&|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| *v))
        .unwrap()
}

fn val(src: &str) -> f64 {
    eval_at(&parse(src).unwrap(), &[])
}

mod syntax {
    use super::*;
    use ligand_expr::{BinOp, Func};

    #[test]
    fn numbers() {
        assert_eq!(val("2"), 2.0);
        assert_eq!(val(".5"), 0.5);
        assert_eq!(val("1e-9"), 1e-9);
        assert_eq!(val("2.5E3"), 2500.0);
        assert_eq!(val("1e+2"), 100.0);
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(val("-2^2"), -4.0);
        assert_eq!(val("2^3^2"), 512.0);
        assert_eq!(val("2**3"), 8.0);
        assert_eq!(val("2^-1"), 0.5);
        assert_eq!(val("1 - 2 - 3"), -4.0);
        assert_eq!(val("8 / 4 / 2"), 1.0);
        assert_eq!(val("2 + 3 * 4"), 14.0);
        assert_eq!(val("(2 + 3) * 4"), 20.0);
        assert_eq!(val("-(3)"), -3.0);
        assert_eq!(val("--3"), 3.0);
        assert_eq!(val("+3"), 3.0);
        let e = parse("-x^2").unwrap();
        assert!(matches!(e, Expr::Neg(ref inner) if matches!(**inner, Expr::Bin(BinOp::Pow, ..))));
    }

    #[test]
    fn comparisons_and_logic() {
        assert_eq!(val("1 < 2"), 1.0);
        assert_eq!(val("2 <= 1"), 0.0);
        assert_eq!(val("1 == 1 && 2 != 3"), 1.0);
        assert_eq!(val("0 || 0"), 0.0);
        assert_eq!(val("1 and 0 or 1"), 1.0);
        assert_eq!(val("not 1"), 0.0);
        assert_eq!(val("!0"), 1.0);
        assert_eq!(val("1 + 1 > 1 && 3 > 2"), 1.0);
        assert_eq!(parse("a and b").unwrap(), parse("a && b").unwrap());
        assert_eq!(parse("a or not b").unwrap(), parse("a || !b").unwrap());
    }

    #[test]
    fn functions_and_constants() {
        let e = std::f64::consts::E;
        assert!((val("log(e)") - 1.0).abs() < 1e-15, "log is natural");
        assert!((val("ln(e^2)") - 2.0).abs() < 1e-15);
        assert_eq!(val("log10(1000)"), 3.0);
        assert_eq!(val("log2(8)"), 3.0);
        assert!((val("log(2, 8)") - 3.0).abs() < 1e-15);
        assert_eq!(val("sqrt(16)"), 4.0);
        assert_eq!(val("abs(-3)"), 3.0);
        assert_eq!(val("pow(2, 10)"), 1024.0);
        assert_eq!(val("min(3, 1, 2)"), 1.0);
        assert_eq!(val("max(3, 1, 2)"), 3.0);
        assert_eq!(val("floor(2.7) + ceil(2.2)"), 5.0);
        assert_eq!(val("pi"), std::f64::consts::PI);
        assert_eq!(val("e"), e);
        assert_eq!(parse("arcsin(x)").unwrap(), parse("asin(x)").unwrap());
        assert_eq!(parse("arccos(x)").unwrap(), parse("acos(x)").unwrap());
        assert_eq!(parse("arctan(x)").unwrap(), parse("atan(x)").unwrap());
        assert!((val("sinh(1)") - 1f64.sinh()).abs() < 1e-15);
        assert!((val("tanh(0.5) - tanh(0.5)")).abs() == 0.0);
        assert_eq!(val("root(3, -8)"), -2.0);
        assert_eq!(val("factorial(5)"), 120.0);
        assert!(matches!(parse("log(x)").unwrap(), Expr::Call(Func::Ln, _)));
    }

    #[test]
    fn piecewise_and_if() {
        assert_eq!(val("piecewise(1, 0, 2, 1, 3)"), 2.0);
        assert_eq!(val("piecewise(1, 0, 2, 0, 3)"), 3.0);
        assert!(
            val("piecewise(1, 0)").is_nan(),
            "no otherwise and no true piece is NaN"
        );
        assert_eq!(val("if(2 > 1, 10, 20)"), 10.0);
        assert_eq!(val("if(2 < 1, 10, 20)"), 20.0);
        assert_eq!(val("piecewise(7)"), 7.0);
    }

    #[test]
    fn user_functions_need_declaration() {
        let opts = ParseOptions {
            user_functions: vec!["hill".into()],
        };
        let e = parse_with("hill(x, k, 2)", &opts).unwrap();
        assert!(matches!(e, Expr::Apply(ref n, ref a) if n == "hill" && a.len() == 3));
        let err = parse("hill(x, k, 2)").unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::UnknownFunction);
        let body = parse("x^n / (k^n + x^n)").unwrap();
        let inlined = e
            .inline_functions(&|name| {
                (name == "hill").then(|| (vec!["x".into(), "k".into(), "n".into()], body.clone()))
            })
            .unwrap();
        assert_eq!(inlined.to_string(), "x^2 / (k^2 + x^2)");
    }

    #[test]
    fn whitespace_and_newlines() {
        assert_eq!(val("1 +\n  2\t* 3"), 7.0);
    }
}

mod errors {
    use super::*;

    #[test]
    fn unexpected_token_reports_position_and_expectation() {
        let err = parse("1 + * 2").unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::Unexpected);
        assert_eq!((err.span.line, err.span.column), (1, 5));
        assert!(
            err.message.contains("expected an expression"),
            "{}",
            err.message
        );
        assert!(err.message.contains("`*`"), "{}", err.message);
    }

    #[test]
    fn unclosed_parenthesis_points_at_the_opening_one() {
        let src = "k1 * (A + B";
        let err = parse(src).unwrap_err();
        assert!(err.message.contains("expected `)`"), "{}", err.message);
        assert!(
            err.message.contains("end of the expression"),
            "{}",
            err.message
        );
        assert!(
            err.help.as_deref().unwrap().contains("column 6"),
            "{:?}",
            err.help
        );
    }

    #[test]
    fn trailing_garbage() {
        let err = parse("x y").unwrap_err();
        assert_eq!(err.span.column, 3);
        assert!(err.message.contains("found `y`"), "{}", err.message);
    }

    #[test]
    fn unknown_function_suggests_a_close_name() {
        let err = parse("2 * epx(x)").unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::UnknownFunction);
        assert_eq!(err.span.column, 5);
        assert_eq!(err.help.as_deref(), Some("did you mean `exp`?"));
        let err = parse("sqr(x)").unwrap_err();
        assert_eq!(err.help.as_deref(), Some("did you mean `sqrt`?"));
        let err = parse("frobnicate(x)").unwrap_err();
        assert_eq!(err.help, None);
    }

    #[test]
    fn wrong_arity() {
        let err = parse("exp(1, 2)").unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::WrongArity);
        assert!(
            err.message.contains("`exp` expects 1 argument, found 2"),
            "{}",
            err.message
        );
        let err = parse("if(1, 2)").unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::WrongArity);
        let err = parse("log()").unwrap_err();
        assert!(err.message.contains("1 or 2 arguments"), "{}", err.message);
        let err = parse("min()").unwrap_err();
        assert!(err.message.contains("at least 1"), "{}", err.message);
    }

    #[test]
    fn invalid_characters_have_hints() {
        let err = parse("y = x").unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::InvalidCharacter);
        assert_eq!(err.span.column, 3);
        assert!(err.help.unwrap().contains("=="));
        let err = parse("2 × x").unwrap_err();
        assert!(err.message.contains('×'));
        assert!(err.help.unwrap().contains('*'));
    }

    #[test]
    fn invalid_number() {
        let err = parse("1.2.3").unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::InvalidNumber);
        assert!(err.message.contains("1.2.3"));
    }

    #[test]
    fn line_and_column_on_later_lines() {
        let src = "a +\n  b *\n   )";
        let err = parse(src).unwrap_err();
        assert_eq!((err.span.line, err.span.column), (3, 4));
        let text = err.render(src);
        assert!(text.contains("3 |    )"), "{text}");
        assert!(text.contains("  |    ^"), "{text}");
    }

    #[test]
    fn empty_input() {
        let err = parse("").unwrap_err();
        assert!(
            err.message.contains("end of the expression"),
            "{}",
            err.message
        );
        let err = parse("   ").unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::Unexpected);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let src = "(".repeat(100_000) + "1" + &")".repeat(100_000);
        assert_eq!(parse(&src).unwrap_err().kind, ParseErrorKind::TooDeep);
        let src = "-".repeat(100_000) + "1";
        assert_eq!(parse(&src).unwrap_err().kind, ParseErrorKind::TooDeep);
        let src = "2^".repeat(100_000) + "1";
        assert_eq!(parse(&src).unwrap_err().kind, ParseErrorKind::TooDeep);
    }

    #[test]
    fn unknown_variable_at_compile_time_suggests() {
        let e = parse("top * x / (ec50 + x)").unwrap();
        let mut c = Compiler::new(["x", "top", "EC50"]);
        let err = c.add(&e).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown variable `ec50` (did you mean `EC50`?)"
        );
    }

    #[test]
    fn eval_unknown_variable() {
        let e = parse("a + b").unwrap();
        let err = e.eval(&|n| (n == "a").then_some(1.0)).unwrap_err();
        assert!(err.to_string().contains("`b`"));
    }

    #[test]
    fn user_function_must_be_inlined() {
        let opts = ParseOptions {
            user_functions: vec!["f".into()],
        };
        let e = parse_with("f(x)", &opts).unwrap();
        assert!(e.diff("x").is_err());
        assert!(Compiler::new(["x"]).add(&e).is_err());
        assert!(e.inline_functions(&|_| None).is_err());
    }
}

mod simplification {
    use super::*;
    use ligand_expr::simplify;

    fn s(src: &str) -> String {
        simplify(&parse(src).unwrap()).to_string()
    }

    #[test]
    fn neutral_and_absorbing_elements() {
        assert_eq!(s("x + 0"), "x");
        assert_eq!(s("0 + x"), "x");
        assert_eq!(s("x * 1"), "x");
        assert_eq!(s("x * 0"), "0");
        assert_eq!(s("x^1"), "x");
        assert_eq!(s("x^0"), "1");
        assert_eq!(s("x / 1"), "x");
        assert_eq!(s("0 / x"), "0");
        assert_eq!(s("--x"), "x");
    }

    #[test]
    fn constant_folding() {
        assert_eq!(s("2 + 3 * 4"), "14");
        assert_eq!(s("exp(0) + x"), "x + 1");
        assert_eq!(s("2^10"), "1024");
        assert_eq!(s("piecewise(a, 1 > 2, b)"), "b");
        assert_eq!(s("1 < 2 && x"), "1 && x");
    }

    #[test]
    fn like_terms_and_common_factors() {
        assert_eq!(s("2*x + 3*x"), "5 * x");
        assert_eq!(s("x - x"), "0");
        assert_eq!(s("x + y - x"), "y");
        assert_eq!(s("x * x"), "x^2");
        assert_eq!(s("x^2 * x^3"), "x^5");
        assert_eq!(s("x / x"), "1");
        assert_eq!(s("x^3 / x"), "x^2");
        assert_eq!(s("2 * (3 * x)"), "6 * x");
        assert_eq!(s("a*b - a*b"), "0");
    }
}

mod differentiation {
    use super::*;

    fn d(src: &str, v: &str) -> String {
        parse(src).unwrap().diff(v).unwrap().to_string()
    }

    #[test]
    fn textbook_derivatives() {
        assert_eq!(d("x^3", "x"), "3 * x^2");
        assert_eq!(d("exp(2*x)", "x"), "2 * exp(2 * x)");
        assert_eq!(d("ln(x)", "x"), "1 / x");
        assert_eq!(d("sin(x)", "x"), "cos(x)");
        assert_eq!(d("k*x", "k"), "x");
        assert_eq!(d("k*x", "y"), "0");
        assert_eq!(d("1/x", "x"), "-(1 / x^2)");
    }

    #[test]
    fn four_parameter_logistic_gradient() {
        let f = parse("bottom + (top - bottom) / (1 + 10^((logec50 - x) * hill))").unwrap();
        let at = [
            ("x", -6.5),
            ("bottom", 3.0),
            ("top", 97.0),
            ("logec50", -7.0),
            ("hill", 1.2),
        ];
        let u = 10f64.powf((-7.0 - -6.5) * 1.2);
        let frac = 1.0 / (1.0 + u);
        assert!((eval_at(&f.diff("bottom").unwrap(), &at) - (1.0 - frac)).abs() < 1e-14);
        assert!((eval_at(&f.diff("top").unwrap(), &at) - frac).abs() < 1e-14);
        let dlog = -(97.0 - 3.0) * frac * frac * u * std::f64::consts::LN_10 * 1.2;
        assert!((eval_at(&f.diff("logec50").unwrap(), &at) - dlog).abs() < 1e-12);
    }

    #[test]
    fn piecewise_differentiates_branch_by_branch() {
        let e = parse("piecewise(x^2, x < 1, 3*x)")
            .unwrap()
            .diff("x")
            .unwrap();
        assert_eq!(eval_at(&e, &[("x", 0.5)]), 1.0);
        assert_eq!(eval_at(&e, &[("x", 2.0)]), 3.0);
        // At the switching point the branch selected there decides.
        assert_eq!(eval_at(&e, &[("x", 1.0)]), 3.0);
    }

    #[test]
    fn documented_conventions_at_kinks() {
        let abs = parse("abs(x)").unwrap().diff("x").unwrap();
        assert_eq!(eval_at(&abs, &[("x", 0.0)]), 0.0);
        assert_eq!(eval_at(&abs, &[("x", -2.0)]), -1.0);
        let fl = parse("floor(x)").unwrap().diff("x").unwrap();
        assert_eq!(fl, Expr::Num(0.0));
        let mn = parse("min(x, 2*x)").unwrap().diff("x").unwrap();
        assert_eq!(
            eval_at(&mn, &[("x", 0.0)]),
            1.0,
            "ties take the first argument"
        );
        assert_eq!(eval_at(&mn, &[("x", 1.0)]), 1.0);
        assert_eq!(eval_at(&mn, &[("x", -1.0)]), 2.0);
        let mx = parse("max(x, 2*x, 3)").unwrap().diff("x").unwrap();
        assert_eq!(eval_at(&mx, &[("x", 5.0)]), 2.0);
        assert_eq!(eval_at(&mx, &[("x", 0.0)]), 0.0);
    }

    #[test]
    fn power_with_variable_exponent() {
        let e = parse("x^x").unwrap().diff("x").unwrap();
        // d/dx x^x = x^x (ln x + 1)
        let x: f64 = 1.7;
        assert!((eval_at(&e, &[("x", x)]) - x.powf(x) * (x.ln() + 1.0)).abs() < 1e-13);
        let e = parse("2^x").unwrap().diff("x").unwrap();
        assert!((eval_at(&e, &[("x", 3.0)]) - 8.0 * 2f64.ln()).abs() < 1e-13);
        // Constant exponent on a negative base stays defined.
        let e = parse("x^3").unwrap().diff("x").unwrap();
        assert_eq!(eval_at(&e, &[("x", -2.0)]), 12.0);
    }
}

mod compiled {
    use super::*;

    #[test]
    fn common_subexpressions_are_computed_once() {
        let a = parse("exp(-k*t) * A0").unwrap();
        let b = parse("exp(-k*t) * B0 + exp(-k*t)").unwrap();
        let mut c = Compiler::new(["t", "k", "A0", "B0"]);
        c.add(&a).unwrap();
        c.add(&b).unwrap();
        let p = c.finish();
        // neg(k), mul(t, -k) [or equivalent], exp, two products, one sum: 6
        assert_eq!(p.n_instructions(), 6, "exp(-k*t) must be shared");
        let mut slots = p.new_slots();
        slots[..4].copy_from_slice(&[2.0, 0.5, 3.0, 4.0]);
        let mut out = [0.0; 2];
        p.eval(&mut slots, &mut out);
        let x = (-1.0f64).exp();
        assert_eq!(out, [x * 3.0, x * 4.0 + x]);
    }

    #[test]
    fn constants_fold_at_compile_time() {
        // (2 + 3) and exp(0) fold to constants; the two products remain
        // (algebraic identities such as x * 1 are the business of simplify).
        let e = parse("x * (2 + 3) * exp(0)").unwrap();
        let mut c = Compiler::new(["x"]);
        c.add(&e).unwrap();
        let p = c.finish();
        assert_eq!(p.n_instructions(), 2);
        let mut s = p.new_slots();
        s[0] = 3.0;
        let mut out = [0.0];
        p.eval(&mut s, &mut out);
        assert_eq!(out[0], 15.0);
    }

    #[test]
    fn commutative_operands_share() {
        let mut c = Compiler::new(["a", "b"]);
        c.add(&parse("a*b + b*a").unwrap()).unwrap();
        assert_eq!(c.finish().n_instructions(), 2);
    }

    #[test]
    fn piecewise_selects() {
        let e = parse("piecewise(0, t < 1, 1, t < 2, 2)").unwrap();
        let mut c = Compiler::new(["t"]);
        c.add(&e).unwrap();
        let p = c.finish();
        let mut s = p.new_slots();
        let mut out = [0.0];
        for (t, want) in [(0.5, 0.0), (1.5, 1.0), (3.0, 2.0)] {
            s[0] = t;
            p.eval(&mut s, &mut out);
            assert_eq!(out[0], want);
        }
    }

    #[test]
    fn integer_powers_include_negative() {
        let e = parse("x^-3 + x^5").unwrap();
        let mut c = Compiler::new(["x"]);
        c.add(&e).unwrap();
        let p = c.finish();
        let mut s = p.new_slots();
        s[0] = 2.0;
        let mut out = [0.0];
        p.eval(&mut s, &mut out);
        assert_eq!(out[0], 0.125 + 32.0);
    }
}

mod properties {
    use super::*;
    use ligand_expr::{BinOp, CmpOp, Func};
    use proptest::prelude::*;

    const VARS: [&str; 4] = ["x", "y", "k_1", "Vmax"];

    fn literal() -> impl Strategy<Value = f64> {
        prop_oneof![
            (0u32..20).prop_map(f64::from),
            (-20i32..0).prop_map(f64::from),
            (-1e3f64..1e3),
            (1e-12f64..1e-6),
            Just(1e300),
            Just(-2.5e-300),
        ]
    }

    /// Any tree the parser can produce (no user functions).
    fn any_expr() -> impl Strategy<Value = Expr> {
        let leaf = prop_oneof![
            literal().prop_map(Expr::Num),
            prop::sample::select(VARS.to_vec()).prop_map(Expr::var),
        ];
        leaf.prop_recursive(5, 48, 3, |inner| {
            let b = |e: Expr| Box::new(e);
            prop_oneof![
                inner.clone().prop_map(move |a| Expr::Neg(b(a))),
                inner.clone().prop_map(move |a| Expr::Not(b(a))),
                (
                    prop::sample::select(vec![
                        BinOp::Add,
                        BinOp::Sub,
                        BinOp::Mul,
                        BinOp::Div,
                        BinOp::Pow
                    ]),
                    inner.clone(),
                    inner.clone()
                )
                    .prop_map(move |(op, a, c)| Expr::Bin(op, b(a), b(c))),
                (
                    prop::sample::select(vec![
                        CmpOp::Lt,
                        CmpOp::Le,
                        CmpOp::Gt,
                        CmpOp::Ge,
                        CmpOp::Eq,
                        CmpOp::Ne
                    ]),
                    inner.clone(),
                    inner.clone()
                )
                    .prop_map(move |(op, a, c)| Expr::Cmp(op, b(a), b(c))),
                (inner.clone(), inner.clone()).prop_map(move |(a, c)| Expr::And(b(a), b(c))),
                (inner.clone(), inner.clone()).prop_map(move |(a, c)| Expr::Or(b(a), b(c))),
                (
                    prop::sample::select(vec![
                        Func::Exp,
                        Func::Ln,
                        Func::Sqrt,
                        Func::Abs,
                        Func::Sin,
                        Func::Tanh,
                        Func::Floor,
                        Func::Log10,
                        Func::Asin,
                        Func::Sign
                    ]),
                    inner.clone()
                )
                    .prop_map(|(f, a)| Expr::Call(f, vec![a])),
                (
                    prop::sample::select(vec![Func::Min, Func::Max]),
                    prop::collection::vec(inner.clone(), 1..4)
                )
                    .prop_map(|(f, a)| Expr::Call(f, a)),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, c)| Expr::Call(Func::LogBase, vec![a, c])),
                (
                    prop::collection::vec((inner.clone(), inner.clone()), 1..3),
                    prop::option::of(inner)
                )
                    .prop_map(|(pieces, o)| Expr::Piecewise {
                        pieces,
                        otherwise: o.map(Box::new)
                    }),
            ]
        })
    }

    /// Smooth expressions with bounded values on [-2, 2]^2, for derivative checks.
    fn smooth_expr() -> impl Strategy<Value = Expr> {
        let leaf = prop_oneof![
            (-2.0f64..2.0).prop_map(Expr::Num),
            prop::sample::select(vec!["x", "y"]).prop_map(Expr::var),
        ];
        leaf.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Bin(
                    BinOp::Add,
                    a.into(),
                    b.into()
                )),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Bin(
                    BinOp::Sub,
                    a.into(),
                    b.into()
                )),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Bin(
                    BinOp::Mul,
                    a.into(),
                    b.into()
                )),
                // a / (1 + b^2): never divides by zero
                (inner.clone(), inner.clone()).prop_map(|(a, b)| {
                    let den = Expr::Bin(
                        BinOp::Add,
                        Expr::Num(1.0).into(),
                        Expr::Bin(BinOp::Pow, b.into(), Expr::Num(2.0).into()).into(),
                    );
                    Expr::Bin(BinOp::Div, a.into(), den.into())
                }),
                (
                    prop::sample::select(vec![Func::Sin, Func::Cos, Func::Tanh, Func::Atan]),
                    inner.clone()
                )
                    .prop_map(|(f, a)| Expr::Call(f, vec![a])),
                // exp of a bounded argument, sqrt and ln of positive ones
                inner
                    .clone()
                    .prop_map(|a| Expr::Call(Func::Exp, vec![Expr::Call(Func::Tanh, vec![a])])),
                inner.clone().prop_map(|a| {
                    let arg = Expr::Bin(
                        BinOp::Add,
                        Expr::Num(2.0).into(),
                        Expr::Call(Func::Sin, vec![a]).into(),
                    );
                    Expr::Call(Func::Ln, vec![arg])
                }),
                inner.clone().prop_map(|a| {
                    let arg = Expr::Bin(
                        BinOp::Add,
                        Expr::Num(1.5).into(),
                        Expr::Call(Func::Cos, vec![a]).into(),
                    );
                    Expr::Call(Func::Sqrt, vec![arg])
                }),
                // a positive base to a variable power
                (inner.clone(), inner.clone()).prop_map(|(a, b)| {
                    let base = Expr::Bin(
                        BinOp::Add,
                        Expr::Num(2.0).into(),
                        Expr::Call(Func::Tanh, vec![a]).into(),
                    );
                    Expr::Bin(
                        BinOp::Pow,
                        base.into(),
                        Expr::Call(Func::Tanh, vec![b]).into(),
                    )
                }),
                (inner.clone(), 2i32..4).prop_map(|(a, n)| {
                    let base = Expr::Call(Func::Tanh, vec![a]);
                    Expr::Bin(BinOp::Pow, base.into(), Expr::Num(f64::from(n)).into())
                }),
                (inner.clone(), inner).prop_map(|(a, b)| Expr::Piecewise {
                    pieces: vec![(
                        a,
                        Expr::Cmp(CmpOp::Lt, Expr::var("y").into(), Expr::Num(0.25).into())
                    )],
                    otherwise: Some(Box::new(b)),
                }),
            ]
        })
    }

    fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn print_then_parse_is_identity(e in any_expr()) {
            let text = e.to_string();
            let back = parse(&text).map_err(|err| TestCaseError::fail(format!("{text}: {err}")))?;
            prop_assert_eq!(back, e, "{}", text);
        }

        #[test]
        fn compiled_evaluation_equals_tree_evaluation(
            e in any_expr(),
            vals in prop::array::uniform4(-3.0f64..3.0),
        ) {
            let lookup = |n: &str| VARS.iter().position(|v| *v == n).map(|i| vals[i]);
            let tree = e.eval(&lookup).unwrap();
            let mut c = Compiler::new(VARS);
            c.add(&e).unwrap();
            let p = c.finish();
            let mut slots = p.new_slots();
            slots[..4].copy_from_slice(&vals);
            let mut out = [0.0];
            p.eval(&mut slots, &mut out);
            prop_assert!(same(tree, out[0]), "{}: tree {} compiled {}", e, tree, out[0]);
        }

        #[test]
        fn simplification_preserves_values(e in smooth_expr(), x in -2.0f64..2.0, y in -2.0f64..2.0) {
            let at = |n: &str| match n { "x" => Some(x), "y" => Some(y), _ => None };
            let a = e.eval(&at).unwrap();
            let b = ligand_expr::simplify(&e).eval(&at).unwrap();
            prop_assert!((a - b).abs() <= 1e-9 * (1.0 + a.abs()), "{}: {} vs {}", e, a, b);
        }

        #[test]
        fn derivative_matches_central_difference(e in smooth_expr(), x in -2.0f64..2.0, y in -2.0f64..2.0) {
            // Keep away from the piecewise switch at y = 0.25.
            prop_assume!((y - 0.25).abs() > 1e-3);
            let f = |xv: f64| e.eval(&|n| match n { "x" => Some(xv), "y" => Some(y), _ => None }).unwrap();
            let de = e.diff("x").unwrap();
            let exact = de.eval(&|n| match n { "x" => Some(x), "y" => Some(y), _ => None }).unwrap();
            // Fourth-order central difference.
            let h = 1e-3;
            let fd = (8.0 * (f(x + h) - f(x - h)) - (f(x + 2.0 * h) - f(x - 2.0 * h))) / (12.0 * h);
            let scale = 1.0 + exact.abs() + f(x).abs();
            prop_assert!((exact - fd).abs() <= 1e-6 * scale, "d/dx {} = {}: exact {} fd {}", e, de, exact, fd);
        }

        #[test]
        fn random_strings_never_panic_the_parser(s in "\\PC{0,64}") {
            let _ = parse(&s);
        }

        #[test]
        fn random_token_soup_never_panics(s in "[-+*/^()<>=!&|,. 0-9a-zA-Z_e]{0,80}") {
            if let Ok(e) = parse(&s) {
                // Whatever parses also prints and re-parses.
                let again = parse(&e.to_string());
                prop_assert!(again.is_ok(), "{} printed as {}", s, e);
            }
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let s = String::from_utf8_lossy(&bytes);
            let _ = parse(&s);
        }
    }
}

mod special_functions {
    use ligand_expr::{erf, erfc, parse};

    #[test]
    fn erf_matches_reference_values() {
        // Reference values: Abramowitz & Stegun, Table 7.1, and the tail
        // values erfc(3) = 2.209049699858544e-5, erfc(5) = 1.537459794428035e-12.
        let cases = [
            (0.0, 0.0),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (1.5, 0.966_105_146_475_310_7),
            (2.0, 0.995_322_265_018_952_7),
            (-1.0, -0.842_700_792_949_714_9),
        ];
        for (x, want) in cases {
            assert!(
                (erf(x) - want).abs() < 2e-16,
                "erf({x}) = {} want {want}",
                erf(x)
            );
        }
        assert!((erfc(3.0) / 2.209_049_699_858_544e-5 - 1.0).abs() < 1e-13);
        assert!((erfc(5.0) / 1.537_459_794_428_035e-12 - 1.0).abs() < 1e-13);
        assert!((erfc(-1.0) - 1.842_700_792_949_715).abs() < 1e-15);
        assert_eq!(erfc(40.0), 0.0);
        assert!(erf(f64::NAN).is_nan());
    }

    #[test]
    fn erf_derivative() {
        let d = parse("erf(2*x)").unwrap().diff("x").unwrap();
        let v = d.eval(&|_| Some(0.3)).unwrap();
        let want = 2.0 * std::f64::consts::FRAC_2_SQRT_PI * (-0.36f64).exp();
        assert!((v - want).abs() < 1e-15);
    }
}

/// Long and deep inputs: no stack overflow, no panic; a correct value or an
/// error with a position. Everything runs on a thread with a 2 MiB stack, the
/// default for spawned threads (the main thread of a binary has 8 MiB).
mod depth {
    use super::*;
    use ligand_expr::{simplify, Func, MAX_TREE_DEPTH};
    use proptest::prelude::*;

    /// Runs `f` on a fresh thread with a 2 MiB stack and returns its result.
    fn on_2mib<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .expect("no panic and no stack overflow")
    }

    fn compiled(e: &Expr, inputs: &[&str], values: &[f64]) -> f64 {
        let mut c = Compiler::new(inputs);
        c.add(e).unwrap();
        let p = c.finish();
        let mut slots = p.new_slots();
        slots[..values.len()].copy_from_slice(values);
        let mut out = [0.0];
        p.eval(&mut slots, &mut out);
        out[0]
    }

    #[test]
    fn a_sum_of_100000_terms_is_shallow_and_exact() {
        on_2mib(|| {
            let n = 100_000u64;
            let src: Vec<String> = (1..=n).map(|i| format!("{i}*x")).collect();
            let e = parse(&src.join(" + ")).unwrap();
            assert!(e.depth() < 100, "depth {}", e.depth());
            let closed = (n * (n + 1) / 2) as f64;
            assert_eq!(eval_at(&e, &[("x", 1.0)]), closed);
            assert_eq!(compiled(&e, &["x"], &[1.0]), closed);
            // Printing and parsing are still exact inverses.
            assert_eq!(parse(&e.to_string()).unwrap(), e);
            // d/dx sum(i x) = sum(i): like terms merge into one.
            assert_eq!(e.diff("x").unwrap(), Expr::num(closed));
            assert_eq!(simplify(&e).to_string(), format!("{closed} * x"));
        });
    }

    #[test]
    fn alternating_signs_keep_their_meaning_when_balanced() {
        on_2mib(|| {
            // 1 - 2 + 3 - 4 ... - n = -n/2 for even n.
            let n = 100_000;
            let mut src = String::from("1");
            for i in 2..=n {
                src += if i % 2 == 0 { " - " } else { " + " };
                src += &i.to_string();
            }
            let e = parse(&src).unwrap();
            assert_eq!(val(&src), -(n as f64) / 2.0);
            assert_eq!(compiled(&e, &[], &[]), -(n as f64) / 2.0);
            assert_eq!(parse(&e.to_string()).unwrap(), e);
            // Distinct variables, subtracted: x0 - x1 - x2 ... with x_i = i.
            let names: Vec<String> = (0..50_000).map(|i| format!("x{i}")).collect();
            let e = parse(&names.join(" - ")).unwrap();
            let values: Vec<f64> = (0..50_000).map(f64::from).collect();
            let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
            let want = -(1..50_000).map(f64::from).sum::<f64>();
            assert_eq!(compiled(&e, &inputs, &values), want);
            let d = e.diff("x49999").unwrap();
            assert_eq!(d, Expr::num(-1.0));
            let s = simplify(&e);
            assert!(s.depth() < 100, "simplified depth {}", s.depth());
        });
    }

    #[test]
    fn long_products_quotients_and_logic() {
        on_2mib(|| {
            let n = 100_000;
            let e = parse(&vec!["1.00001"; n].join(" * ")).unwrap();
            let want = 1.00001f64.powi(n as i32);
            assert!((eval_at(&e, &[]) / want - 1.0).abs() < 1e-10);
            // a / 2 * 2 / 2 * 2 ... is a, exactly (powers of two).
            let src = String::from("a") + &" / 2 * 2".repeat(n / 2);
            let e = parse(&src).unwrap();
            assert!(e.depth() < 100);
            assert_eq!(eval_at(&e, &[("a", 3.0)]), 3.0);
            assert_eq!(compiled(&e, &["a"], &[3.0]), 3.0);
            let d = e.diff("a").unwrap();
            assert_eq!(eval_at(&d, &[("a", 3.0)]), 1.0);
            let all = vec!["x > 0"; n].join(" && ");
            assert_eq!(eval_at(&parse(&all).unwrap(), &[("x", 1.0)]), 1.0);
            let any = vec!["x > 0"; n].join(" || ") + " || x == 0";
            assert_eq!(eval_at(&parse(&any).unwrap(), &[("x", 0.0)]), 1.0);
        });
    }

    #[test]
    fn deep_chains_are_errors_with_a_position() {
        on_2mib(|| {
            // Comparisons do not associate: a long chain is a deep tree.
            let src = vec!["x"; 5000].join(" < ");
            let err = parse(&src).unwrap_err();
            assert_eq!(err.kind, ParseErrorKind::TooDeep);
            assert_eq!(err.span.line, 1);
            assert_eq!(&src[err.span.start..err.span.end], "<");
            assert!(err.message.contains("deeper than 1000"), "{}", err.message);
            // On a later line, the position says so.
            let src = String::from("1 +\n") + &vec!["x"; 5000].join(" == ");
            let err = parse(&src).unwrap_err();
            assert_eq!((err.kind, err.span.line), (ParseErrorKind::TooDeep, 2));
            for src in [
                "-".repeat(100_000) + "x",
                "- ".repeat(100_000) + "x",
                "!".repeat(100_000) + "x",
                "not ".repeat(100_000) + "x",
                "exp(".repeat(100_000) + "x" + &")".repeat(100_000),
                "piecewise(1, x < ".repeat(10_000) + "0" + &", 2)".repeat(10_000),
                "x^".repeat(100_000) + "2",
                "(".repeat(100_000),
                "x + (".repeat(100_000) + "x" + &")".repeat(100_000),
            ] {
                let err = parse(&src).unwrap_err();
                assert!(
                    err.kind == ParseErrorKind::TooDeep || err.kind == ParseErrorKind::Unexpected,
                    "{:?}",
                    err.kind
                );
                assert!(err.span.line >= 1 && err.span.column >= 1);
                assert!(err.to_string().contains("line 1, column"));
            }
        });
    }

    #[test]
    fn nesting_below_the_limits_evaluates() {
        on_2mib(|| {
            // 150 nested calls: sin(sin(...(1))).
            let e = parse(&("sin(".repeat(150) + "1" + &")".repeat(150))).unwrap();
            let mut want = 1.0f64;
            for _ in 0..150 {
                want = want.sin();
            }
            assert_eq!(eval_at(&e, &[]), want);
            assert_eq!(compiled(&e, &[], &[]), want);
            // 199 signs.
            let e = parse(&("-".repeat(199) + "x")).unwrap();
            assert_eq!(eval_at(&e, &[("x", 2.0)]), -2.0);
            assert_eq!(e.diff("x").unwrap(), Expr::num(-1.0));
            // Deep piecewise.
            let src = "piecewise(1, x < 0, ".repeat(99) + "2" + &")".repeat(99);
            assert_eq!(val(&src.replace('x', "1")), 2.0);
        });
    }

    /// Trees as deep as the parsers allow, of every kind of node: each walk
    /// (print, parse, simplify, differentiate, compile, evaluate, clone,
    /// compare, drop) fits in a 2 MiB stack.
    #[test]
    fn every_walk_fits_in_2_mib_at_the_depth_limit() {
        let d = MAX_TREE_DEPTH - 1;
        type Wrap = Box<dyn Fn(Expr) -> Expr + Send>;
        let shapes: Vec<(&str, Wrap)> = vec![
            ("neg", Box::new(|e| Expr::Neg(Box::new(e)))),
            ("exp", Box::new(|e| Expr::Call(Func::Exp, vec![e]))),
            ("tanh", Box::new(|e| Expr::Call(Func::Tanh, vec![e]))),
            (
                "right-deep product",
                Box::new(|e| {
                    Expr::Bin(
                        ligand_expr::BinOp::Mul,
                        Box::new(Expr::var("y")),
                        Box::new(e),
                    )
                }),
            ),
            (
                "quotient",
                Box::new(|e| {
                    Expr::Bin(
                        ligand_expr::BinOp::Div,
                        Box::new(e),
                        Box::new(Expr::var("y")),
                    )
                }),
            ),
            (
                "piecewise",
                Box::new(|e| Expr::Piecewise {
                    pieces: vec![(e, Expr::var("y"))],
                    otherwise: Some(Box::new(Expr::var("x"))),
                }),
            ),
        ];
        for (name, wrap) in shapes {
            on_2mib(move || {
                let mut e = Expr::var("x");
                for _ in 0..d {
                    e = wrap(e);
                }
                assert_eq!(e.depth(), MAX_TREE_DEPTH, "{name}");
                let v = eval_at(&e, &[("x", 0.5), ("y", 1.0)]);
                // The text nests deeper than the parser's 200 levels of
                // recursion (refused with a position, not a crash), except
                // the left-deep quotient, which parses back balanced.
                let text = e.to_string();
                match parse(&text) {
                    Ok(back) => {
                        assert_eq!(name, "quotient");
                        assert_eq!(eval_at(&back, &[("x", 0.5), ("y", 1.0)]), v);
                        assert!(back.depth() < 100);
                    }
                    Err(err) => {
                        assert_eq!(err.kind, ParseErrorKind::TooDeep, "{name}");
                        assert!(err.span.column > 1, "{name}");
                    }
                }
                let c = compiled(&e, &["x", "y"], &[0.5, 1.0]);
                assert!(v == c || (v - c).abs() < 1e-12 * v.abs(), "{name}: {v} {c}");
                let s = simplify(&e);
                let de = e.diff("x").unwrap();
                let dd = compiled(&de, &["x", "y"], &[0.5, 1.0]);
                assert!(!dd.is_nan(), "{name}");
                assert_eq!(s.clone(), s);
                drop((e, s, de));
            });
        }
    }

    #[test]
    fn the_deepest_parsed_comparison_chain_walks_in_2_mib() {
        on_2mib(|| {
            // A comparison chain is one level per operator: the deepest that parses.
            let src = vec!["x"; MAX_TREE_DEPTH].join(" < ");
            let e = parse(&src).unwrap();
            assert_eq!(e.depth(), MAX_TREE_DEPTH);
            assert_eq!(parse(&e.to_string()).unwrap(), e);
            // (0 < 0) is 0, and so is every comparison after it.
            assert_eq!(eval_at(&e, &[("x", 0.0)]), 0.0);
            assert_eq!(compiled(&e, &["x"], &[0.0]), 0.0);
            assert_eq!(e.diff("x").unwrap(), Expr::num(0.0));
            assert_eq!(simplify(&e), e);
            // One more operand is one level too deep.
            let err = parse(&(src + " < x")).unwrap_err();
            assert_eq!(err.kind, ParseErrorKind::TooDeep);
        });
    }

    #[test]
    fn inlining_refuses_recursion_and_exponential_growth() {
        let names: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
        let opts = ParseOptions {
            user_functions: names.clone(),
        };
        // f0(x) = x; f{i}(x) = f{i-1}(x) + f{i-1}(x): f39 has 2^39 leaves.
        let bodies: Vec<Expr> = (0..40)
            .map(|i| {
                if i == 0 {
                    parse("x").unwrap()
                } else {
                    parse_with(&format!("f{0}(x) + f{0}(x)", i - 1), &opts).unwrap()
                }
            })
            .collect();
        let lookup = |n: &str| {
            names
                .iter()
                .position(|m| m == n)
                .map(|i| (vec!["x".to_string()], bodies[i].clone()))
        };
        let small = parse_with("f10(y)", &opts).unwrap();
        let expanded = small.inline_functions(&lookup).unwrap();
        assert_eq!(eval_at(&expanded, &[("y", 1.0)]), 1024.0);
        let huge = parse_with("f39(y)", &opts).unwrap();
        let started = std::time::Instant::now();
        assert!(huge.inline_functions(&lookup).is_err());
        assert!(started.elapsed().as_secs() < 30);
        // g(x) = g(x) + 1 is refused, naming g.
        let opts = ParseOptions {
            user_functions: vec!["g".into()],
        };
        let body = parse_with("g(x) + 1", &opts).unwrap();
        let e = parse_with("g(2)", &opts).unwrap();
        let lookup = move |n: &str| (n == "g").then(|| (vec!["x".to_string()], body.clone()));
        assert_eq!(
            on_2mib(move || e.inline_functions(&lookup)),
            Err("g".into())
        );
    }

    /// Generators of long and deep inputs with their expected value (None:
    /// the input is too deep and must be refused with a position).
    fn long_or_deep() -> impl Strategy<Value = (String, Option<f64>)> {
        // Nesting counts: clearly below the limits, or clearly above.
        let nest = || prop_oneof![1usize..150, 300usize..3000];
        prop_oneof![
            (1usize..200_000).prop_map(|n| (vec!["1"; n].join(" + "), Some(n as f64))),
            (1usize..100_000).prop_map(|n| {
                let s: Vec<String> = (1..=n).map(|i| format!("{}", i % 7)).collect();
                let want: u64 = (1..=n as u64).map(|i| i % 7).sum();
                (s.join("+"), Some(want as f64))
            }),
            (1usize..100_000).prop_map(|n| (vec!["2 / 2"; n].join(" * "), Some(1.0))),
            (1usize..50_000)
                .prop_map(|n| (vec!["1 - 1"; n].join(" - "), Some(2.0 - 2.0 * n as f64))),
            nest().prop_map(|n| {
                let want = if n % 2 == 0 { 1.0 } else { -1.0 };
                (format!("{}1", "-".repeat(n)), (n < 200).then_some(want))
            }),
            nest().prop_map(|n| {
                let s = format!("{}1{}", "(".repeat(n), ")".repeat(n));
                (s, (n < 200).then_some(1.0))
            }),
            nest().prop_map(|n| {
                let s = format!("{}0{}", "abs(".repeat(n), ")".repeat(n));
                (s, (n < 200).then_some(0.0))
            }),
            nest().prop_map(|n| {
                let s = "piecewise(2, 1 < 0, ".repeat(n) + "3" + &")".repeat(n);
                (s, (n < 200).then_some(3.0))
            }),
            prop_oneof![1usize..900, 1100usize..3000].prop_map(|n| {
                let ok = n < MAX_TREE_DEPTH;
                (vec!["1"; n + 1].join(" == "), ok.then_some(1.0))
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn long_and_deep_inputs_give_a_value_or_a_located_error((src, want) in long_or_deep()) {
            let outcome = on_2mib(move || {
                let parsed = parse(&src);
                match parsed {
                    Ok(e) => {
                        let tree = e.eval(&|_| None).unwrap();
                        let text = e.to_string();
                        let again = parse(&text).unwrap();
                        Ok((tree, compiled(&e, &[], &[]), again == e, e.depth()))
                    }
                    Err(err) => Err((err.kind, err.span.line, err.span.column)),
                }
            });
            match (outcome, want) {
                (Ok((tree, comp, round_trip, depth)), Some(w)) => {
                    prop_assert_eq!(tree, w);
                    prop_assert_eq!(comp, w);
                    prop_assert!(round_trip);
                    prop_assert!(depth <= MAX_TREE_DEPTH);
                }
                (Err((kind, line, column)), None) => {
                    prop_assert_eq!(kind, ParseErrorKind::TooDeep);
                    prop_assert!(line == 1 && column >= 1);
                }
                (got, want) => prop_assert!(false, "got {:?}, want {:?}", got.map(|o| o.0), want),
            }
        }
    }
}
