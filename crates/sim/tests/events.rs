//! Events with SBML Level 3 semantics: state and time triggers, delays,
//! priorities, persistence, initial values, values from trigger time.

use crate::assert_close;
use crate::common::*;
use ligand_sim::{Method, Observable, Settings, Simulator};

#[test]
fn state_triggered_event_fires_at_the_crossing() {
    let src = "
model refill
  species A; J1: A -> ; k*A
  A = 10; k = 0.5
  refill: at (A < 1): A = 10
end";
    let period = 10f64.ln() / 0.5;
    for m in METHODS {
        let sys = system(src);
        let t = run(
            &sys,
            &sys.default_observables(),
            Settings::grid(0.0, 20.0, 200),
            m,
            1e-9,
            1e-12,
        );
        let fired: Vec<f64> = t.events.iter().map(|e| e.0).collect();
        assert_eq!(fired.len(), 4, "{m:?}: {fired:?}");
        for (k, &te) in fired.iter().enumerate() {
            assert_close!(te, (k + 1) as f64 * period, 1e-6, 0.0, "{m:?} event {k}");
        }
        // Just after each refill the value is 10 again: A(t) = 10 exp(-k (t - t_k)).
        for (i, &tt) in t.times.iter().enumerate() {
            let since = tt - (tt / period).floor() * period;
            assert_close!(
                t.row(i)[0],
                10.0 * (-0.5 * since).exp(),
                1e-5,
                1e-9,
                "{m:?} t={tt}"
            );
        }
    }
}

#[test]
fn delayed_time_event_changes_a_parameter() {
    let src = "
model delayed
  species A; J1: A -> ; k*A
  A = 1; k = 0.1
  slow: at 2 after (time > 3): k = 1
end";
    let sys = system(src);
    let obs = [Observable::value("A"), Observable::value("k")];
    let t = run(
        &sys,
        &obs,
        Settings::grid(0.0, 10.0, 20),
        Method::Bdf,
        1e-10,
        1e-14,
    );
    assert_eq!(t.events.len(), 1);
    assert_close!(t.events[0].0, 5.0, 1e-9, 0.0);
    for (i, &tt) in t.times.iter().enumerate() {
        let a = if tt < 5.0 {
            (-0.1 * tt).exp()
        } else {
            (-0.5f64).exp() * (-(tt - 5.0)).exp()
        };
        assert_close!(t.row(i)[0], a, 1e-7, 1e-12, "A at t={tt}");
        // The trigger turns true just after t = 3, so k changes just after t = 5.
        assert_eq!(
            t.row(i)[1],
            if tt <= 5.0 { 0.1 } else { 1.0 },
            "k at t={tt}"
        );
    }
}

fn final_value(src: &str, var: &str, t_end: f64) -> f64 {
    let sys = system(src);
    let t = run(
        &sys,
        &[Observable::value(var)],
        vec![0.0, t_end],
        Method::Bdf,
        1e-8,
        1e-12,
    );
    t.row(1)[0]
}

#[test]
fn priorities_order_simultaneous_events() {
    let high_double = "
model p
  species A; J1: A -> ; 0
  A = 1; x = 1
  E1: at (time > 1), priority = 2, fromTrigger = false: x = x*2
  E2: at (time > 1), priority = 1, fromTrigger = false: x = x + 1
end";
    assert_eq!(final_value(high_double, "x", 2.0), 3.0);
    let high_add = high_double.replace("priority = 2", "priority = 0");
    assert_eq!(final_value(&high_add, "x", 2.0), 4.0);
}

#[test]
fn values_from_trigger_time_versus_execution_time() {
    // x is read 2 time units before the assignment executes.
    let from_trigger = "
model v
  species A; J1: -> A; 1
  A = 0; y = 0
  E: at 2 after (time > 1): y = A
end";
    assert_close!(final_value(from_trigger, "y", 4.0), 1.0, 1e-6, 1e-9);
    let at_execution = from_trigger.replace(
        "at 2 after (time > 1)",
        "at 2 after (time > 1), fromTrigger = false",
    );
    assert_close!(final_value(&at_execution, "y", 4.0), 3.0, 1e-6, 1e-9);
}

#[test]
fn non_persistent_event_is_cancelled() {
    let persistent = "
model p
  species A; J1: A -> ; 0
  A = 1; y = 0
  E: at 2 after (time > 1 && time < 2): y = 1
end";
    assert_eq!(final_value(persistent, "y", 5.0), 1.0);
    let cancelled = persistent.replace(
        "(time > 1 && time < 2):",
        "(time > 1 && time < 2), persistent = false:",
    );
    assert_eq!(final_value(&cancelled, "y", 5.0), 0.0);
}

#[test]
fn initial_value_false_fires_at_the_start() {
    let src = "
model s
  species A; J1: A -> ; 0
  A = 1; z = 0
  E: at (time >= 0), t0 = false: z = 5
end";
    let sys = system(src);
    let t = run(
        &sys,
        &[Observable::value("z")],
        vec![0.0, 1.0],
        Method::Bdf,
        1e-8,
        1e-12,
    );
    assert_eq!(t.row(0)[0], 5.0);
    assert_eq!(t.events, [(0.0, "E".to_string())]);
    // With the default (t0 = true) the trigger was already true: no event.
    let sys = system(&src.replace(", t0 = false", ""));
    let t = run(
        &sys,
        &[Observable::value("z")],
        vec![0.0, 1.0],
        Method::Bdf,
        1e-8,
        1e-12,
    );
    assert_eq!(t.row(1)[0], 0.0);
}

#[test]
fn event_assignment_to_a_species_sets_its_concentration() {
    let src = "
model c
  compartment cell = 2;
  species S in cell; J1: S -> ; 0
  S = 1
  E: at (time > 1): S = 3
end";
    let sys = system(src);
    let t = run(
        &sys,
        &[Observable::value("S"), Observable::amount("S")],
        vec![0.0, 2.0],
        Method::Bdf,
        1e-8,
        1e-12,
    );
    assert_eq!(t.row(0), [1.0, 2.0]);
    assert_eq!(t.row(1), [3.0, 6.0]);
}

#[test]
fn events_that_retrigger_forever_are_reported() {
    let src = "
model loop_
  species A; J1: A -> ; 0
  A = 1; x = 0
  E1: at (x < 0.5), t0 = false: x = 1
  E2: at (x > 0.5): x = 0
end";
    let sys = system(src);
    let obs = sys.observables(&[Observable::value("x")]).unwrap();
    let settings = Settings {
        times: vec![0.0, 1.0],
        ..Settings::default()
    };
    let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
    let stop = t.stopped.expect("stopped");
    assert!(stop.to_string().contains("keep triggering"), "{stop}");
}

#[test]
fn a_model_without_states_still_runs_its_rules_and_events() {
    let src = "
model m
  k = 1
  x := 2*time
  E: at (time > 1.5): k = 2
end";
    for m in METHODS {
        let sys = system(src);
        assert_eq!(sys.n_states(), 0);
        let t = run(
            &sys,
            &[Observable::value("x"), Observable::value("k")],
            vec![0.0, 1.0, 2.0],
            m,
            1e-8,
            1e-12,
        );
        assert_eq!(t.row(1), [2.0, 1.0]);
        assert_eq!(t.row(2), [4.0, 2.0]);
        assert_close!(t.events[0].0, 1.5, 1e-12, 0.0);
    }
}
