//! String formats the API server checks while decoding: resource quantities (`100m`, `1Gi`,
//! `1e3`), base64 `byte` fields (Secret data), and the lenient `duration` and `uri` formats
//! of CRD schemas. Each is a plain `fn(&str) -> bool` registered with the schema compiler.
//! Must not: know about objects or findings.

use base64::Engine as _;

/// `resource.ParseQuantity`: `<sign><number><suffix>` where suffix is a binary SI suffix
/// (`Ki`..`Ei`), a decimal SI suffix (`n u m k M G T P E` or none) or a decimal exponent
/// (`e3`, `E-2`).
pub(crate) fn is_quantity(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    if b[0] == b'+' || b[0] == b'-' {
        i = 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - f;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    let suffix = &s[i..];
    match suffix {
        "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => true,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => true,
        _ => {
            let Some(exp) = suffix.strip_prefix(['e', 'E']) else {
                return false;
            };
            let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            !exp.is_empty() && exp.bytes().all(|c| c.is_ascii_digit())
        }
    }
}

/// Go's `encoding/base64.StdEncoding` as used for `[]byte` fields; like Go, line breaks are
/// ignored (kustomize wraps long generated values).
pub(crate) fn is_base64(s: &str) -> bool {
    let engine = &base64::engine::general_purpose::STANDARD;
    if s.contains(['\r', '\n']) {
        let joined: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        engine.decode(joined).is_ok()
    } else {
        engine.decode(s).is_ok()
    }
}

/// kube-openapi's `duration` format: Go durations (`90s`, `1h30m`) and ISO-8601 are both
/// accepted by the API server, so only obviously broken text fails.
pub(crate) fn is_duration(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    if s.starts_with('P') || s.starts_with('p') {
        return true;
    }
    let mut rest = s.strip_prefix(['+', '-']).unwrap_or(s);
    if rest == "0" {
        return true;
    }
    let mut any = false;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n == 0 {
            return false;
        }
        rest = &rest[n..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let u = rest[..unit].trim();
        if !matches!(
            u,
            "ns" | "us" | "µs" | "ms" | "s" | "m" | "h" | "d" | "w" | "y"
        ) {
            return false;
        }
        rest = &rest[unit..];
        any = true;
    }
    any
}

/// kube-openapi's `uri` format is Go's `url.Parse`, which accepts nearly anything but
/// control characters.
pub(crate) fn is_uri(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for ok in [
            "100m", "1", "0.5", ".5", "1.", "1Gi", "512Mi", "2k", "1e3", "1E-2", "+1", "-1", "10n",
            "3u", "1Ei",
        ] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in [
            "", "m", "1GB", "1 Gi", "1gi", "1.2.3", "abc", "1e", "1Ki2", "0x10",
        ] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn base64_and_durations() {
        assert!(is_base64("aGVsbG8="));
        assert!(!is_base64("hello!"));
        assert!(is_base64("aGVs\nbG8=\n"));
        assert!(is_duration("1h30m"));
        assert!(is_duration("90s"));
        assert!(is_duration("P1D"));
        assert!(!is_duration("soon"));
    }
}
