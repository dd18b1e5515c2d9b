//! Numbers and text as the charts write them in labels and ticks: significant digits with
//! `k` / `M`, scientific notation, trailing zeros trimmed, text cut short to a width. Strings
//! only: nothing here draws or chooses ticks (`scale`, `parts`).

/// `v` with about four significant digits, `k` / `M` for thousands / millions.
pub(super) fn fmt_num(v: f64) -> String {
    fmt_sig(v, 4)
}

/// `v` with about `sig` significant digits, `k` / `M` for thousands / millions.
pub(super) fn fmt_sig(v: f64, sig: i32) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let a = v.abs();
    if a >= 1e9 {
        return sci(v, 3);
    }
    let (x, suffix) = if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let ax = x.abs();
    let decimals = if ax < 1e-9 {
        0
    } else {
        (sig - 1 - ax.log10().floor() as i32).clamp(0, 9) as usize
    };
    let s = trim_float(x, decimals);
    if s == "-0" || s == "0" {
        return "0".to_string();
    }
    format!("{s}{suffix}")
}

/// `v` in scientific notation with at most `digits` digits after the point: `"2.5e11"`.
pub(super) fn sci(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if mantissa.contains('.') => {
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            format!("{mantissa}e{exp}")
        }
        _ => s,
    }
}

/// `v` with at most `decimals` digits after the point, trailing zeros removed.
pub(super) fn trim_float(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `text`, cut short with "…" so that `width(text) <= max_w`.
pub(super) fn fit_text(text: &str, max_w: u32, width: &dyn Fn(&str) -> u32) -> String {
    if width(text) <= max_w {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    for n in (1..chars.len()).rev() {
        let cut: String = chars[..n].iter().collect::<String>().trim_end().to_string() + "…";
        if width(&cut) <= max_w {
            return cut;
        }
    }
    "…".to_string()
}
