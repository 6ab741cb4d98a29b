//! The built-in glutamatergic synapse model (`models/synapse/`,
//! `docs/synapse.md`): every module and the combination load and run, the
//! baseline is a steady state, and the pharmacology comes out as designed.

use crate::assert_close;
use crate::common::model;
use ligand_sim::builtin::{builtin_model, builtin_names};
use ligand_sim::AbsoluteTolerance;
use ligand_sim::{
    CompileOptions, Dose, Observable, Settings, Simulator, SteadyStateOptions, System, Trajectory,
};

fn builtin(name: &str) -> System {
    let text = builtin_model(name).unwrap_or_else(|| panic!("no built-in model {name}"));
    System::new(&model(text), &CompileOptions::default()).unwrap()
}

/// Simulates `sys` from its initial state with `set` (name, value) overrides
/// and `doses` at t=0, reporting `vars` at `times`.
fn run(
    sys: &System,
    vars: &[&str],
    times: Vec<f64>,
    set: &[(&str, f64)],
    doses: &[(&str, f64)],
) -> Trajectory {
    let list: Vec<Observable> = vars.iter().map(|v| Observable::value(*v)).collect();
    let obs = sys.observables(&list).unwrap();
    let mut sim = Simulator::new(sys, &obs);
    let settings = Settings {
        times,
        rtol: 1e-8,
        atol: AbsoluteTolerance::Absolute(1e-12),
        doses: doses
            .iter()
            .map(|(s, a)| Dose::Bolus {
                species: s.to_string(),
                time: 0.0,
                amount: *a,
            })
            .collect(),
        ..Settings::default()
    };
    let overrides: Vec<(usize, f64)> = set
        .iter()
        .map(|(n, v)| (sys.base_index(n).unwrap(), *v))
        .collect();
    let t = sim.run(&settings, &overrides).unwrap();
    assert!(t.stopped.is_none(), "stopped: {:?}", t.stopped);
    t
}

/// The steady state of `vars` with `set` overrides.
fn steady(sys: &System, vars: &[&str], set: &[(&str, f64)]) -> Vec<f64> {
    let list: Vec<Observable> = vars.iter().map(|v| Observable::value(*v)).collect();
    let obs = sys.observables(&list).unwrap();
    let mut sim = Simulator::new(sys, &obs);
    let overrides: Vec<(usize, f64)> = set
        .iter()
        .map(|(n, v)| (sys.base_index(n).unwrap(), *v))
        .collect();
    sim.steady_state(
        &Settings::default(),
        &overrides,
        &SteadyStateOptions::default(),
    )
    .unwrap()
    .values
}

#[test]
fn every_module_and_the_whole_synapse_parse_validate_and_simulate() {
    assert_eq!(
        builtin_names(),
        [
            "synapse",
            "synapse_presynaptic",
            "synapse_cleft",
            "synapse_postsynaptic",
            "synapse_trophic"
        ]
    );
    for name in builtin_names() {
        let (m, _warnings) = ligand_model::parse_antimony(builtin_model(name).unwrap()).unwrap();
        assert_eq!(m.name.as_deref(), Some(*name));
        let sys = builtin(name);
        let vars: Vec<&str> = sys.species_ids().iter().map(String::as_str).collect();
        run(&sys, &vars, Settings::grid(0.0, 600.0, 6), &[], &[]);
    }
}

#[test]
fn the_baseline_without_drug_is_a_steady_state() {
    // The initial values are the baseline steady state of `synapse` (to the
    // five digits written in the files), and each module's stand-ins for
    // other modules' outputs are those baseline values, so nothing moves.
    for name in builtin_names() {
        let sys = builtin(name);
        let mut vars: Vec<&str> = sys.species_ids().iter().map(String::as_str).collect();
        for extra in ["V_m", "spine_density"] {
            if sys.value_ids().iter().any(|v| v == extra) {
                vars.push(extra);
            }
        }
        let t = run(&sys, &vars, vec![0.0, 3600.0], &[], &[]);
        for (k, v) in vars.iter().enumerate() {
            let (a, b) = (t.row(0)[k], t.row(1)[k]);
            assert_close!(
                b,
                a,
                2e-4,
                1e-9,
                "{name}: {v} drifts from its initial value"
            );
        }
    }
    // And Newton's method finds the same state.
    let sys = builtin("synapse");
    let vars = [
        "Glu",
        "V_m",
        "BDNF",
        "ERK_pp",
        "mTORC1_Rheb",
        "PSD95",
        "GluA1",
    ];
    let ss = steady(&sys, &vars, &[]);
    let t = run(&sys, &vars, vec![0.0], &[], &[]);
    for k in 0..vars.len() {
        assert_close!(ss[k], t.row(0)[k], 2e-4, 1e-9, "{}", vars[k]);
    }
}

#[test]
fn ly3020371_raises_release_and_the_whole_trophic_chain() {
    // 100 nM LY3020371 (bath, t=0) against vehicle, after one hour. Each
    // link of the chain must rise; the lower bounds are well inside what the
    // model gives (docs/synapse.md lists the numbers), the upper bounds catch
    // a runaway (the GluA1 -> AMPA -> BDNF loop has gain below one).
    let sys = builtin("synapse");
    let chain = [
        ("J_rel", 0.10, 0.30),
        ("Glu", 0.10, 0.30),
        ("g_AMPA", 0.15, 0.50),
        ("VGCC_open", 0.15, 0.60),
        ("BDNF", 0.15, 0.60),
        ("TrkB_p", 0.15, 0.60),
        ("Akt_p", 0.03, 0.30),
        ("ERK_pp", 0.15, 1.00),
        ("mTORC1_Rheb", 0.04, 0.40),
        ("S6K_pp", 0.04, 0.40),
        ("PSD95", 0.01, 0.20),
        ("GluA1", 0.01, 0.20),
    ];
    let vars: Vec<&str> = chain.iter().map(|c| c.0).collect();
    let times = vec![0.0, 3600.0];
    let vehicle = run(&sys, &vars, times.clone(), &[], &[]);
    let drug = run(&sys, &vars, times, &[], &[("LY3020371", 100.0)]);
    for (k, (name, low, high)) in chain.iter().enumerate() {
        let change = drug.row(1)[k] / vehicle.row(1)[k] - 1.0;
        assert!(
            change > *low && change < *high,
            "{name}: {:.1}% change with LY3020371, expected {:.0}% to {:.0}%",
            100.0 * change,
            100.0 * low,
            100.0 * high
        );
    }
    // The mGluR2/3 agonist does the opposite.
    let agonist = run(&sys, &vars, vec![0.0, 3600.0], &[], &[("LY379268", 10.0)]);
    for (k, (name, _, _)) in chain.iter().enumerate() {
        assert!(
            agonist.row(1)[k] < vehicle.row(1)[k],
            "{name} with LY379268"
        );
    }
}

#[test]
fn ly3020371_occupancy_is_the_gaddum_value() {
    // Competition of glutamate, the agonist LY379268 and LY3020371 at one
    // site, for each published Ki (hmGlu2, hmGlu3, rat cortical membranes).
    let sys = builtin("synapse_presynaptic");
    let (glu, agonist, antagonist) = (2000.0, 3.0, 50.0);
    let (k_glu, k_agonist) = (4000.0, 2.69);
    for ki in [5.26, 2.50, 33.0] {
        let t = run(
            &sys,
            &["occ_mGluR_LY3020371", "occ_mGluR_Glu"],
            vec![0.0, 10.0],
            &[
                ("Glu", glu),
                ("LY379268", agonist),
                ("LY3020371", antagonist),
                ("Ki_LY3020371", ki),
            ],
            &[],
        );
        let denominator = 1.0 + glu / k_glu + agonist / k_agonist + antagonist / ki;
        assert_close!(t.row(1)[0], (antagonist / ki) / denominator, 1e-12, 0.0);
        assert_close!(t.row(1)[1], (glu / k_glu) / denominator, 1e-12, 0.0);
    }
    // With the antagonist alone, occupancy is [B]/([B] + Ki).
    let t = run(
        &sys,
        &["occ_mGluR_LY3020371"],
        vec![0.0],
        &[("Glu", 0.0), ("LY3020371", 33.0)],
        &[],
    );
    assert_close!(t.row(0)[0], 0.5, 1e-12, 0.0);
}

#[test]
fn compound_42d_pulls_nmda_calcium_influx_down_to_its_partial_agonist_ceiling() {
    // The glycine site is saturated by endogenous D-serine (6.5 uM) and
    // glycine; 42d (24% of glycine's efficacy, EC50 78 nM) displaces them and
    // NMDA Ca2+ influx falls toward 24% of the saturated level.
    let sys = builtin("synapse_postsynaptic");
    let vars = ["NMDA_glycine_site", "Ca_influx_NMDA"];
    // Voltage clamp at -40 mV: the influx is proportional to the glycine-site activation.
    let clamp = [("clamp", 1.0), ("V_hold", -40.0)];
    let saturated = steady(&sys, &vars, &clamp);
    assert!(saturated[0] > 0.98, "{}", saturated[0]); // saturated
    let mut high = clamp.to_vec();
    high.push(("cpd42d", 1e6)); // 1 mM, about 13,000 x EC50
    let with_42d = steady(&sys, &vars, &high);
    let ratio = with_42d[1] / saturated[1];
    assert_close!(ratio, 0.24, 0.04, 0.0, "NMDA Ca2+ influx ratio");
    assert_close!(with_42d[0] / saturated[0], ratio, 1e-9, 0.0);
    // Monotonic on the way down, and half-way near 42d's EC50 shifted by the
    // competing co-agonists.
    let mut previous = saturated[1];
    for c in [100.0, 1e3, 1e4, 1e5] {
        let mut set = clamp.to_vec();
        set.push(("cpd42d", c));
        let v = steady(&sys, &vars, &set)[1];
        assert!(
            v < previous && v > 0.24 * saturated[1] * 0.99,
            "{c} nM: {v}"
        );
        previous = v;
    }
    // Without the clamp, V_m follows (a smaller NMDA current hyperpolarises a
    // little, deepening the Mg2+ block): still near the ceiling.
    let free = steady(&sys, &vars, &[]);
    let free_42d = steady(&sys, &vars, &[("cpd42d", 1e6)]);
    let ratio = free_42d[1] / free[1];
    assert!((0.2..0.26).contains(&ratio), "free-running ratio {ratio}");
}

#[test]
fn ketamine_blocks_the_nmda_current_and_less_so_in_magnesium() {
    let sys = builtin("synapse_postsynaptic");
    let vars = ["I_NMDA", "Ca_influx_NMDA", "NMDA_unblocked"];
    let clamp = [("clamp", 1.0), ("V_hold", -60.0)];
    let block = |mg: f64, ketamine: f64| {
        let mut set = clamp.to_vec();
        set.push(("Mg", mg));
        let control = steady(&sys, &vars, &set);
        set.push(("ketamine", ketamine));
        let drug = steady(&sys, &vars, &set);
        assert!(drug[0].abs() < control[0].abs() && drug[1] < control[1]);
        1.0 - drug[0] / control[0]
    };
    // Mg2+-free: fractional block [K]/([K] + Ki), Ki = 1.6 uM.
    assert_close!(block(0.0, 10_000.0), 10_000.0 / 11_600.0, 1e-9, 0.0);
    // 1 mM Mg2+ at -60 mV competes for the pore: less block.
    let in_mg = block(1e6, 10_000.0);
    assert!(in_mg > 0.1 && in_mg < 10_000.0 / 11_600.0, "{in_mg}");
}

#[test]
fn the_whole_synapse_is_exactly_its_modules() {
    // Every reaction, rule and parameter of a module is in `synapse` unchanged
    // (apart from the module's stand-ins for other modules' outputs), and
    // `synapse` has nothing else but its compartments.
    let whole = model(builtin_model("synapse").unwrap());
    let mut reactions = 0;
    let mut rules = 0;
    for name in &builtin_names()[1..] {
        let part = model(builtin_model(name).unwrap());
        for r in &part.reactions {
            let w = whole.reactions.iter().find(|w| w.id == r.id).unwrap();
            assert_eq!(w.rate_law, r.rate_law, "{name}: reaction {}", r.id);
            reactions += 1;
        }
        for r in &part.assignment_rules {
            let w = whole
                .assignment_rules
                .iter()
                .find(|w| w.variable == r.variable)
                .unwrap();
            assert_eq!(w.math, r.math, "{name}: rule for {}", r.variable);
            rules += 1;
        }
        for p in &part.parameters {
            // A stand-in is computed by a rule in `synapse` (no value there).
            let w = whole.parameters.iter().find(|w| w.id == p.id);
            if let Some(w) = w.filter(|w| w.value.is_some()) {
                assert_eq!(w.value, p.value, "{name}: parameter {}", p.id);
            }
        }
    }
    assert_eq!(whole.reactions.len(), reactions);
    assert_eq!(whole.assignment_rules.len(), rules);
}

#[test]
fn each_modules_stand_ins_are_the_synapse_baseline() {
    // The inputs that a module takes from the others (`Glu`, `J_rel`,
    // `GluA1`, `VGCC_open`) are parameters in the module, set to their values
    // in the `synapse` baseline.
    let whole = builtin("synapse");
    let stand_ins = [
        ("synapse_presynaptic", "Glu"),
        ("synapse_cleft", "J_rel"),
        ("synapse_postsynaptic", "Glu"),
        ("synapse_postsynaptic", "GluA1"),
        ("synapse_trophic", "VGCC_open"),
    ];
    let names: Vec<&str> = stand_ins.iter().map(|s| s.1).collect();
    let baseline = steady(&whole, &names, &[]);
    for (k, (module, input)) in stand_ins.iter().enumerate() {
        let part = model(builtin_model(module).unwrap());
        let p = part.parameters.iter().find(|p| p.id == *input).unwrap();
        assert_close!(
            p.value.unwrap(),
            baseline[k],
            1e-4,
            0.0,
            "{module}: {input}"
        );
    }
}
