//! Helpers shared by the test modules.

#![allow(dead_code)]

use ligand_model::{parse_antimony, Model};
use ligand_sim::{CompileOptions, Method, Observable, Settings, Simulator, System, Trajectory};

pub fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn model(src: &str) -> Model {
    match parse_antimony(src) {
        Ok((m, _)) => m,
        Err(d) => panic!(
            "{}",
            d.iter()
                .map(|d| d.render(src))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

pub fn system(src: &str) -> System {
    System::new(&model(src), &CompileOptions::default()).unwrap()
}

/// Simulates `src` at `times` with the default observables.
pub fn simulate(src: &str, times: Vec<f64>, method: Method, rtol: f64, atol: f64) -> Trajectory {
    let sys = system(src);
    run(&sys, &sys.default_observables(), times, method, rtol, atol)
}

pub fn run(
    sys: &System,
    obs: &[Observable],
    times: Vec<f64>,
    method: Method,
    rtol: f64,
    atol: f64,
) -> Trajectory {
    let obs = sys.observables(obs).unwrap();
    let mut sim = Simulator::new(sys, &obs);
    let settings = Settings {
        times,
        method,
        rtol,
        atol: ligand_sim::AbsoluteTolerance::Absolute(atol),
        ..Settings::default()
    };
    let t = sim.run(&settings, &[]).unwrap();
    assert!(t.stopped.is_none(), "stopped: {:?}", t.stopped);
    t
}

/// Asserts `|found - expected| <= rtol |expected| + atol`, printing both.
#[macro_export]
macro_rules! assert_close {
    ($found:expr, $expected:expr, $rtol:expr, $atol:expr) => {
        $crate::assert_close!($found, $expected, $rtol, $atol, "")
    };
    ($found:expr, $expected:expr, $rtol:expr, $atol:expr, $($ctx:tt)+) => {{
        let (f, e): (f64, f64) = ($found, $expected);
        let tol = $rtol * e.abs() + $atol;
        assert!(
            (f - e).abs() <= tol,
            "expected {e:e}, found {f:e} (difference {:e} > {tol:e}) {}",
            (f - e).abs(),
            format!($($ctx)+)
        );
    }};
}

pub const METHODS: [Method; 3] = [Method::Bdf, Method::Sdirk, Method::Erk];
