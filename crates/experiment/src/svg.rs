//! A plot of a virtual plate and its fitted curve, as a self-contained SVG
//! (no fonts or libraries needed: plain text and paths).

use crate::plate::FittedPlate;
use ligand_fit::catalogue;
use ligand_fit::model::XKind;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders the sample wells on a log10 concentration axis with the fitted curve.
pub fn plot(fp: &FittedPlate) -> String {
    let (w, h) = (640.0, 420.0);
    let (l, r, t, b) = (70.0, 20.0, 50.0, 60.0);
    let pts: Vec<(f64, f64)> = fp
        .plate
        .wells
        .iter()
        .filter(|w| w.kind == "sample" && w.conc > 0.0)
        .map(|w| (w.conc.log10(), w.response))
        .collect();
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in &pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0.is_nan() || x1.is_nan() || x0 >= x1 {
        x1 = x0 + 1.0;
    }
    let pad = 0.08 * (y1 - y0).max(1e-12);
    y0 -= pad;
    y1 += pad;
    let sx = |x: f64| l + (x - x0) / (x1 - x0) * (w - l - r);
    let sy = |y: f64| h - b - (y - y0) / (y1 - y0) * (h - t - b);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    s += &format!(
        "<text x=\"{}\" y=\"20\" font-size=\"14\">{}</text>\n",
        l,
        esc(&fp.plate.id)
    );
    s += &format!(
        "<line x1=\"{l}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n<line x1=\"{l}\" y1=\"{t}\" x2=\"{l}\" y2=\"{}\" stroke=\"black\"/>\n",
        h - b,
        w - r,
        h - b,
        h - b
    );
    // x ticks at whole decades.
    let mut d = x0.ceil();
    while d <= x1 {
        let px = sx(d);
        s += &format!(
            "<line x1=\"{px:.1}\" y1=\"{}\" x2=\"{px:.1}\" y2=\"{}\" stroke=\"black\"/><text x=\"{px:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
            h - b,
            h - b + 5.0,
            h - b + 20.0,
            d
        );
        d += 1.0;
    }
    for k in 0..=4 {
        let yv = y0 + (y1 - y0) * k as f64 / 4.0;
        s += &format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            l - 6.0,
            sy(yv) + 4.0,
            ligand_fit_fmt(yv)
        );
    }
    s += &format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">log10 [{}] (M)</text>\n",
        (l + w - r) / 2.0,
        h - 15.0,
        esc(&fp.plate.compound)
    );
    s += &format!(
        "<text x=\"15\" y=\"{}\" transform=\"rotate(-90 15 {})\" text-anchor=\"middle\">{}</text>\n",
        (t + h - b) / 2.0,
        (t + h - b) / 2.0,
        esc(&fp.plate.response_unit)
    );
    for &(x, y) in &pts {
        s += &format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#1f77b4\"/>\n",
            sx(x),
            sy(y)
        );
    }
    // The fitted curve.
    if let Ok(model) = catalogue::build(&fp.fit.model, &[]) {
        let p: Vec<f64> = fp.fit.parameters.iter().map(|p| p.estimate).collect();
        if p.len() == model.params().len() {
            let n = 200;
            let xs: Vec<f64> = (0..=n)
                .map(|i| x0 + (x1 - x0) * i as f64 / n as f64)
                .collect();
            let xm: Vec<f64> = match model.x_kind() {
                XKind::Log10 => xs.clone(),
                XKind::Linear => xs.iter().map(|v| 10f64.powf(*v)).collect(),
            };
            let mut f = vec![0.0; xs.len()];
            model.eval(&xm, &[], &p, &mut f, None, &mut Vec::new());
            let mut path = String::new();
            for (i, (x, y)) in xs.iter().zip(&f).enumerate() {
                if y.is_finite() {
                    let yc = y.clamp(y0, y1);
                    path += &format!(
                        "{}{:.1},{:.1} ",
                        if i == 0 { "M" } else { "L" },
                        sx(*x),
                        sy(yc)
                    );
                }
            }
            s += &format!(
                "<path d=\"{path}\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n"
            );
        }
    }
    s += "</svg>\n";
    s
}

fn ligand_fit_fmt(v: f64) -> String {
    if v.abs() >= 1e4 || (v != 0.0 && v.abs() < 1e-2) {
        format!("{v:.2e}")
    } else {
        format!("{v:.1}")
    }
}
