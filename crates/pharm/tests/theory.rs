//! Receptor-theory identities: each formula checked against a direct
//! solution of the model it comes from, not against itself.

use ligand_pharm::*;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// The x in [lo, hi] (log-spaced bisection) where the increasing function f
/// crosses `target`.
fn solve_increasing(f: impl Fn(f64) -> f64, target: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..200 {
        let mid = (lo * hi).sqrt();
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo * hi).sqrt()
}

#[test]
fn gaddum_shift_is_the_schild_dose_ratio() {
    let (ka, kb) = (30e-9, 5.26e-9);
    for b in [0.0, 1e-9, 5.26e-9, 1e-7, 3e-6] {
        let half = solve_increasing(|a| gaddum_occupancy(a, ka, b, kb), 0.5, 1e-15, 1.0);
        assert!(close(half / ka, dose_ratio(b, kb), 1e-9), "b = {b}");
        if b > 0.0 {
            let r = half / ka;
            assert!(close(kb_from_dose_ratio(b, r), kb, 1e-9));
            assert!(close(pa2_from_dose_ratio(b, r), -kb.log10(), 1e-9));
        }
    }
}

#[test]
fn schild_shift_holds_in_the_operational_model() {
    // A competitive antagonist scales the agonist's K_A, so the observed EC50
    // shifts by the dose ratio whatever τ and n are.
    for (tau, n) in [(1.0, 1.0), (10.0, 1.0), (3.0, 2.0), (0.5, 0.8)] {
        let (ka, kb, b) = (1e-6, 2e-9, 2e-8);
        let ec = operational_ec50(ka, tau, n);
        let ec_b = operational_ec50(ka * dose_ratio(b, kb), tau, n);
        assert!(close(ec_b / ec, dose_ratio(b, kb), 1e-12));
    }
}

#[test]
fn schild_regression_recovers_slope_and_pa2() {
    let kb = 3.3e-8;
    let pts: Vec<(f64, f64)> = [1e-8, 3e-8, 1e-7, 1e-6]
        .iter()
        .map(|&b| (b, dose_ratio(b, kb)))
        .collect();
    let fit = schild_regression(&pts).unwrap();
    assert!(close(fit.slope, 1.0, 1e-12));
    assert!(close(fit.pa2, -kb.log10(), 1e-12));
    assert!(close(fit.r_squared, 1.0, 1e-12));
    assert!(schild_regression(&[(1e-8, 2.0)]).is_none());
    assert!(schild_regression(&[(1e-8, 2.0), (1e-8, 3.0)]).is_none());
    assert!(schild_regression(&[(1e-8, 0.5), (1e-7, 1.0)]).is_none());
}

#[test]
fn cheng_prusoff_matches_direct_competition_and_inverts() {
    // Radioligand L (K_d) displaced by a competitor I (K_i), no depletion.
    let (l, kd, ki) = (2e-9, 5e-9, 5.26e-9);
    let bound = |i: f64| gaddum_occupancy(l, kd, i, ki);
    let ic50 = solve_increasing(|i| -bound(i), -0.5 * bound(0.0), 1e-15, 1.0);
    assert!(close(ic50, cheng_prusoff_ic50(ki, l, kd), 1e-9));
    assert!(close(cheng_prusoff_ki(ic50, l, kd), ki, 1e-9));
    for (x, l, kd) in [(1.0, 0.0, 1.0), (16.2, 3.0, 0.7), (1e-9, 1e-9, 1e-9)] {
        assert!(close(
            cheng_prusoff_ki(cheng_prusoff_ic50(x, l, kd), l, kd),
            x,
            1e-14
        ));
    }
}

/// The IC50 of a competitive antagonist (K_B) against agonist `a` whose
/// concentration-response curve is a logistic (ec50, slope n): the b at
/// which the response falls to half its value without antagonist.
fn direct_functional_ic50(kb: f64, a: f64, ec50: f64, n: f64) -> f64 {
    let resp = |b: f64| occupancy_hill(a, ec50 * dose_ratio(b, kb), n);
    let half = 0.5 * resp(0.0);
    solve_increasing(|b| -resp(b), -half, 1e-18, 1e3)
}

#[test]
fn leff_dougall_is_the_exact_functional_ic50_for_any_slope() {
    for n in [0.6, 1.0, 1.5, 2.0, 3.0] {
        for x in [0.1, 1.0, 4.0, 20.0] {
            let (kb, ec50) = (5.26e-9, 1e-7);
            let a = x * ec50;
            let direct = direct_functional_ic50(kb, a, ec50, n);
            let ld = leff_dougall_ic50(kb, a, ec50, n);
            assert!(
                close(direct, ld, 1e-9),
                "n = {n}, x = {x}: {direct} vs {ld}"
            );
            assert!(close(leff_dougall_kb(ld, a, ec50, n), kb, 1e-12));
        }
    }
}

#[test]
fn leff_dougall_equals_craig_only_for_slope_one() {
    let (ic50, ec50) = (16.2, 1.0);
    for x in [0.1, 1.0, 4.0, 20.0] {
        assert!(close(
            leff_dougall_kb(ic50, x, ec50, 1.0),
            craig_kb(ic50, x, ec50),
            1e-14
        ));
        assert!(close(
            craig_kb(craig_ic50(5.26, x, ec50), x, ec50),
            5.26,
            1e-14
        ));
    }
    // With slope 2 against the EC50 (x = 1): Leff-Dougall's dose ratio is
    // sqrt(3), while Craig gives 2 and the "power" form 1 + x^n also gives 2.
    let ld = leff_dougall_kb(ic50, 1.0, 1.0, 2.0);
    assert!(close(ld, ic50 / (3f64.sqrt() - 1.0), 1e-14));
    assert!(!close(ld, craig_kb(ic50, 1.0, 1.0), 1e-3));
    let power_form = ic50 / (1.0 + 1f64.powi(2));
    assert!(!close(ld, power_form, 1e-3));
    // Against a vanishing agonist concentration every form gives IC50 = K_B
    // (2^(1/n) - 1 is not 1 for n != 1: the logistic's IC50 depends on n even then).
    assert!(close(leff_dougall_kb(ic50, 0.0, 1.0, 1.0), ic50, 1e-14));
    assert!(close(
        leff_dougall_kb(ic50, 0.0, 1.0, 2.0),
        ic50 / (2f64.sqrt() - 1.0),
        1e-14
    ));
}

#[test]
fn operational_model_limits() {
    for (tau, n) in [(0.3, 1.0), (1.0, 1.0), (9.0, 1.0), (2.0, 2.0), (0.5, 0.7)] {
        let (ka, em) = (1e-6, 100.0);
        let emax = operational_emax(tau, em, n);
        let ec50 = operational_ec50(ka, tau, n);
        assert!(close(operational_response(1e6, ka, tau, em, n), emax, 1e-9));
        assert!(
            close(
                operational_response(ec50, ka, tau, em, n),
                emax / 2.0,
                1e-12
            ),
            "tau {tau} n {n}"
        );
        if n == 1.0 {
            assert!(close(ec50, ka / (1.0 + tau), 1e-14));
            assert!(close(emax, em * tau / (1.0 + tau), 1e-14));
            // n = 1: a hyperbola with these EC50 and Emax.
            for a in [1e-9, 1e-7, 1e-5] {
                let hyper = emax * a / (a + ec50);
                assert!(close(
                    operational_response(a, ka, tau, em, 1.0),
                    hyper,
                    1e-12
                ));
            }
        }
    }
    // Large τ: full agonist with EC50 far below K_A.
    assert!(close(operational_emax(1e6, 1.0, 1.0), 1.0, 1e-5));
    assert!(close(
        tau_from_efficacy(operational_emax(0.7, 1.0, 1.0)),
        0.7,
        1e-14
    ));
}

#[test]
fn partial_agonist_is_a_functional_antagonist() {
    // Glycine-like full agonist (τ_A = 30) and a 42d-like partial agonist
    // whose ceiling is 24 % of E_m.
    let tau_b = tau_from_efficacy(0.24);
    let (ka, kb, em) = (0.5, 0.078, 1.0);
    let e = |a: f64, b: f64| operational_two_agonists(a, ka, 30.0, b, kb, tau_b, em);
    assert!(close(
        e(3.0, 1e12),
        partial_agonist_ceiling(tau_b, em),
        1e-9
    ));
    assert!(close(partial_agonist_ceiling(tau_b, em), 0.24, 1e-12));
    // Near-saturating full agonist: adding the partial agonist lowers the response toward 24 %.
    let high = e(100.0, 0.0);
    assert!(high > 0.9);
    assert!(e(100.0, 10.0) < high && e(100.0, 1e3) < e(100.0, 10.0));
    // Little full agonist: the partial agonist raises the response toward the same ceiling.
    let low = e(1e-4, 0.0);
    assert!(low < 0.24 && e(1e-4, 10.0) > low && e(1e-4, 10.0) <= 0.24 + 1e-12);
    // Without B it is the one-agonist model; without A it is B's own curve.
    assert!(close(
        e(2.0, 0.0),
        operational_response(2.0, ka, 30.0, em, 1.0),
        1e-14
    ));
    assert!(close(
        e(0.0, 0.3),
        operational_response(0.3, kb, tau_b, em, 1.0),
        1e-14
    ));
}

#[test]
fn ec_f_inverts_the_hill_curve() {
    for n in [0.5, 1.0, 2.0] {
        for f in [10.0, 20.0, 50.0, 80.0, 95.0] {
            let x = ec_f(3e-8, f, n);
            assert!(close(occupancy_hill(x, 3e-8, n), f / 100.0, 1e-12));
        }
    }
}

#[test]
fn ligand_depletion_conserves_mass_and_satisfies_the_equilibrium() {
    for (lt, rt, kd) in [
        (1.0, 1.0, 1.0),
        (1e-9, 5e-9, 2e-10),
        (10.0, 0.1, 3.0),
        (1e-12, 1e-6, 1e-9),
    ] {
        let free = free_ligand_depletion(lt, rt, kd);
        let c = bound_ligand_depletion(lt, rt, kd);
        assert!(close(free + c, lt, 1e-14));
        assert!(free >= 0.0 && c >= 0.0 && c <= rt.min(lt) * (1.0 + 1e-12));
        // K_d C = L_free R_free.
        assert!(close(kd * c, free * (rt - c), 1e-9), "{lt} {rt} {kd}");
    }
    // Negligible receptor: free equals total, occupancy as Hill-Langmuir.
    let c = bound_ligand_depletion(2.0, 1e-9, 2.0);
    assert!(close(c / 1e-9, occupancy(2.0, 2.0), 1e-6));
}

#[test]
fn mg_block_is_half_at_the_predicted_voltage_and_monotone() {
    for mg in [0.1, 1.0, 2.0] {
        let v_half = (mg / 3.57f64).ln() / 0.062;
        assert!(close(mg_block(v_half, mg), 0.5, 1e-12));
        let mut prev = 0.0;
        for v in (-100..=40).step_by(10) {
            let b = mg_block(v as f64, mg);
            assert!(b > prev && b < 1.0);
            prev = b;
        }
    }
    assert_eq!(mg_block(-80.0, 0.0), 1.0);
}
