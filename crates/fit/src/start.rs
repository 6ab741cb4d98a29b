//! Self-starters: initial parameter values read off the data.
//!
//! Good starting values make fits fast and keep them in the right basin. The
//! helpers here summarise a curve the way a pharmacologist would by eye:
//! the plateaus (mean responses at the extreme concentrations, or the extreme
//! responses), the direction, the concentration at the half-way response, and
//! the slope of the logit-transformed responses against `x`.

/// A summary of a sigmoid-looking data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sigmoid {
    /// The lower plateau (the smallest mean response).
    pub bottom: f64,
    /// The upper plateau (the largest mean response).
    pub top: f64,
    /// `x` where the response crosses half-way (linear interpolation).
    pub mid_x: f64,
    /// Slope of `log10((y - bottom) / (top - y))` against `x`: positive for a
    /// rising curve. Its magnitude is a Hill slope when `x` is a log10 concentration.
    pub slope: f64,
}

/// Means of `y` at each distinct `x`, sorted by `x`; non-finite pairs skipped.
pub fn mean_by_x(x: &[f64], y: &[f64]) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .collect();
    if !pts.windows(2).all(|w| w[0].0 <= w[1].0) {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(pts.len());
    let mut i = 0;
    while i < pts.len() {
        let mut j = i;
        let mut sum = 0.0;
        while j < pts.len() && pts[j].0 == pts[i].0 {
            sum += pts[j].1;
            j += 1;
        }
        out.push((pts[i].0, sum / (j - i) as f64));
        i = j;
    }
    out
}

/// Summarises a sigmoid. Works on rising and falling data and on flat data
/// (then `slope` is 0 and `mid_x` the middle of the x range).
pub fn sigmoid(x: &[f64], y: &[f64]) -> Sigmoid {
    // Data that are their own means already (finite, x strictly increasing, as replicate means
    // are) need no copy.
    let own_means = x.len() == y.len()
        && x.windows(2).all(|w| w[0] < w[1])
        && x.iter().chain(y).all(|v| v.is_finite());
    if own_means {
        sigmoid_of_means(x.iter().copied().zip(y.iter().copied()))
    } else {
        sigmoid_of_means(mean_by_x(x, y).into_iter())
    }
}

/// [`sigmoid`] of mean responses at distinct `x`, in increasing order of `x`.
fn sigmoid_of_means<I>(points: I) -> Sigmoid
where
    I: Iterator<Item = (f64, f64)> + Clone,
{
    let m = points;
    let mut first = None;
    let mut last = (0.0, 0.0);
    let mut len = 0usize;
    for p in m.clone() {
        first.get_or_insert(p);
        last = p;
        len += 1;
    }
    let Some(first) = first else {
        return Sigmoid {
            bottom: 0.0,
            top: 1.0,
            mid_x: 0.0,
            slope: 1.0,
        };
    };
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (_, v) in m.clone() {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let x_mid_range = 0.5 * (first.0 + last.0);
    let range = hi - lo;
    if len < 2 || range <= 0.0 || !range.is_finite() {
        return Sigmoid {
            bottom: lo,
            top: if hi > lo { hi } else { lo + 1.0 },
            mid_x: x_mid_range,
            slope: 0.0,
        };
    }
    // Direction from the ends of the curve.
    let rising = last.1 >= first.1;
    let half = 0.5 * (lo + hi);
    let mut mid_x = x_mid_range;
    let mut prev = first;
    for (x1, y1) in m.clone().skip(1) {
        let (x0, y0) = prev;
        if (y0 - half) * (y1 - half) <= 0.0 && y0 != y1 {
            mid_x = x0 + (half - y0) * (x1 - x0) / (y1 - y0);
            break;
        }
        prev = (x1, y1);
    }
    // Logit regression through the points between 10 % and 90 % of the
    // range, where the logit is nearly linear and barely depends on the
    // plateau estimates (plateaus widened a little so that values stay
    // finite); all points when fewer than two lie in that band.
    let b = lo - 0.02 * range;
    let t = hi + 0.02 * range;
    let inner = m
        .clone()
        .filter(|(_, y)| (0.1..=0.9).contains(&((y - lo) / range)))
        .count();
    let (mut sx, mut sy, mut sxx, mut sxy, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (xi, yi) in m {
        let f = (yi - lo) / range;
        if inner >= 2 && !(0.1..=0.9).contains(&f) {
            continue;
        }
        // log10 as ln / ln 10: glibc's log10 costs several times its ln, and a start needs no
        // last-bit accuracy.
        let z = ((yi - b) / (t - yi)).ln() * std::f64::consts::LOG10_E;
        if z.is_finite() {
            sx += xi;
            sy += z;
            sxx += xi * xi;
            sxy += xi * z;
            n += 1.0;
        }
    }
    let var = sxx - sx * sx / n;
    let mut slope = if n >= 2.0 && var > 0.0 {
        (sxy - sx * sy / n) / var
    } else {
        0.0
    };
    if !slope.is_finite() || slope == 0.0 || (slope > 0.0) != rising {
        slope = if rising { 1.0 } else { -1.0 };
    }
    Sigmoid {
        bottom: lo,
        top: hi,
        mid_x,
        slope,
    }
}

/// `x` at which `y` first reaches `fraction` of the way from its first to its
/// largest mean value (for saturation and association curves).
pub fn x_at_fraction_of_max(x: &[f64], y: &[f64], fraction: f64) -> f64 {
    let m = mean_by_x(x, y);
    if m.is_empty() {
        return 1.0;
    }
    let y0 = m[0].1;
    let ymax = m.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let target = y0 + fraction * (ymax - y0);
    for w in m.windows(2) {
        let ((x0, a), (x1, b)) = (w[0], w[1]);
        if (a - target) * (b - target) <= 0.0 && a != b {
            return x0 + (target - a) * (x1 - x0) / (b - a);
        }
    }
    0.5 * (m[0].0 + m[m.len() - 1].0)
}

/// `x` at which a decaying `y` has fallen half-way from its first to its last
/// mean value.
pub fn x_at_half_decay(x: &[f64], y: &[f64]) -> f64 {
    let m = mean_by_x(x, y);
    if m.len() < 2 {
        return 1.0;
    }
    let (y0, y1) = (m[0].1, m[m.len() - 1].1);
    let target = 0.5 * (y0 + y1);
    for w in m.windows(2) {
        let ((x0, a), (x1, b)) = (w[0], w[1]);
        if (a - target) * (b - target) <= 0.0 && a != b {
            return x0 + (target - a) * (x1 - x0) / (b - a);
        }
    }
    0.5 * (m[0].0 + m[m.len() - 1].0)
}

/// The largest mean response.
pub fn max_mean(x: &[f64], y: &[f64]) -> f64 {
    mean_by_x(x, y)
        .iter()
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Keeps the points whose `x` is finite and positive and returns them with `x`
/// replaced by its natural logarithm (for starters of models in `ln x`).
pub fn ln_positive(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    x.iter()
        .zip(y)
        .filter(|(a, _)| **a > 0.0 && a.is_finite())
        .map(|(a, b)| (a.ln(), *b))
        .unzip()
}

/// Keeps the points whose covariate `cov` equals `value`.
pub fn select(x: &[f64], y: &[f64], cov: &[f64], value: f64) -> (Vec<f64>, Vec<f64>) {
    x.iter()
        .zip(y)
        .zip(cov)
        .filter(|(_, c)| **c == value)
        .map(|((a, b), _)| (*a, *b))
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_summary_of_a_rising_curve() {
        let x: Vec<f64> = (0..10).map(|i| -9.0 + 0.5 * i as f64).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|x| 10.0 + 80.0 / (1.0 + 10f64.powf((-7.0 - x) * 1.5)))
            .collect();
        let s = sigmoid(&x, &y);
        assert!(s.bottom > 9.0 && s.bottom < 12.0);
        assert!(s.top > 88.0 && s.top <= 90.0);
        assert!((s.mid_x - -7.0).abs() < 0.1, "{}", s.mid_x);
        assert!((s.slope - 1.5).abs() < 0.5, "{}", s.slope);
    }

    #[test]
    fn sigmoid_summary_of_a_falling_curve_and_flat_data() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [100.0, 95.0, 50.0, 5.0, 0.0];
        let s = sigmoid(&x, &y);
        assert!(s.slope < 0.0);
        assert!((s.mid_x - 3.0).abs() < 1e-12);
        let flat = sigmoid(&x, &[3.0; 5]);
        assert_eq!(flat.slope, 0.0);
        assert!(flat.top > flat.bottom);
    }

    #[test]
    fn replicates_are_averaged() {
        let m = mean_by_x(&[2.0, 1.0, 2.0, 1.0], &[4.0, 1.0, 6.0, 3.0]);
        assert_eq!(m, vec![(1.0, 2.0), (2.0, 5.0)]);
    }
}
