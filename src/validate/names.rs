//! The name syntaxes Kubernetes enforces (apimachinery's `validation` package): DNS-1123
//! subdomains and labels, DNS-1035 labels, path segments, qualified names (label and
//! annotation keys) and label values. Each check returns `None` when valid, or the reason.
//! Must not: know about objects or findings.

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub(crate) fn dns1123_label(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.len() > 63 {
        return Some(format!(
            "must be no more than 63 characters (it has {})",
            s.len()
        ));
    }
    if !label_chars(s) {
        return Some(
            "must consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character (a DNS-1123 label, e.g. `my-name`)"
                .into(),
        );
    }
    None
}

fn label_chars(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && alnum(b[0])
        && alnum(b[b.len() - 1])
        && b.iter().all(|&c| alnum(c) || c == b'-')
}

/// One or more DNS-1123 labels joined by dots, at most 253 characters.
pub(crate) fn dns1123_subdomain(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.len() > 253 {
        return Some(format!(
            "must be no more than 253 characters (it has {})",
            s.len()
        ));
    }
    if !s.split('.').all(label_chars) {
        return Some(
            "must consist of lower case alphanumeric characters, '-' or '.', and start and end with an alphanumeric character (a DNS-1123 subdomain, e.g. `example.com`)"
                .into(),
        );
    }
    None
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters (Service names).
pub(crate) fn dns1035_label(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.len() > 63 {
        return Some(format!(
            "must be no more than 63 characters (it has {})",
            s.len()
        ));
    }
    let starts_with_letter = s.as_bytes()[0].is_ascii_lowercase();
    if !starts_with_letter || !label_chars(s) {
        return Some(
            "must consist of lower case alphanumeric characters or '-', start with a letter and end with an alphanumeric character (a DNS-1035 label, e.g. `my-name`)"
                .into(),
        );
    }
    None
}

/// Port names (IANA service names): at most 15 lower case alphanumerics and `-`, with at
/// least one letter, no leading, trailing or double `-`.
pub(crate) fn port_name(s: &str) -> Option<String> {
    if s.len() > 15 {
        return Some(format!(
            "must be no more than 15 characters (it has {})",
            s.len()
        ));
    }
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b.iter().any(u8::is_ascii_lowercase)
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !s.contains("--");
    (!ok).then(|| {
        "must be lower case alphanumerics or '-' with at least one letter, and not start or end with '-' (an IANA service name, e.g. `http`)".to_string()
    })
}

/// RBAC names: anything but `.`, `..`, or text with `/` or `%`.
pub(crate) fn path_segment(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s == "." || s == ".." {
        return Some(format!("may not be `{s}`"));
    }
    if let Some(c) = s.chars().find(|c| *c == '/' || *c == '%') {
        return Some(format!("may not contain `{c}`"));
    }
    None
}

fn name_part(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    !b.is_empty()
        && alnum(b[0])
        && alnum(b[b.len() - 1])
        && b.iter()
            .all(|&c| alnum(c) || c == b'-' || c == b'_' || c == b'.')
}

/// Label and annotation keys: an optional DNS subdomain prefix and `/`, then a name of at most
/// 63 characters of alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric.
pub(crate) fn qualified_name(s: &str) -> Option<String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Some("prefix part must not be empty".into());
        }
        if let Some(why) = dns1123_subdomain(p) {
            return Some(format!("prefix part `{p}` {why}"));
        }
    }
    if name.is_empty() {
        return Some("name part must not be empty".into());
    }
    if name.len() > 63 {
        return Some(format!(
            "name part must be no more than 63 characters (it has {})",
            name.len()
        ));
    }
    if !name_part(name) {
        return Some(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character (e.g. `app.kubernetes.io/name`)"
                .into(),
        );
    }
    None
}

/// Label values: empty, or at most 63 characters like a qualified name's name part.
pub(crate) fn label_value(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    if s.len() > 63 {
        return Some(format!(
            "must be no more than 63 characters (it has {})",
            s.len()
        ));
    }
    if !name_part(s) {
        return Some(
            "must be empty or consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character"
                .into(),
        );
    }
    None
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment),
/// case-insensitive, for "did you mean" hints.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// The closest candidate, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_and_labels() {
        assert_eq!(dns1123_subdomain("web.example-1"), None);
        assert!(dns1123_subdomain("Web").is_some());
        assert!(dns1123_subdomain("web_1").is_some());
        assert!(dns1123_subdomain("-web").is_some());
        assert!(dns1123_subdomain("web.").is_some());
        assert!(dns1123_subdomain(&"a".repeat(254)).is_some());
        assert_eq!(dns1123_label("web-1"), None);
        assert!(dns1123_label("web.1").is_some());
        assert!(dns1123_label(&"a".repeat(64)).is_some());
        assert_eq!(dns1035_label("web"), None);
        assert!(dns1035_label("1web").is_some());
        assert_eq!(path_segment("system:controller:x"), None);
        assert!(path_segment("a/b").is_some());
        assert!(path_segment("..").is_some());
        assert_eq!(port_name("http-metrics"), None);
        assert!(port_name("8080").is_some());
        assert!(port_name("Http").is_some());
        assert!(port_name("very-long-port-name").is_some());
    }

    #[test]
    fn label_keys_and_values() {
        assert_eq!(qualified_name("app.kubernetes.io/name"), None);
        assert_eq!(qualified_name("Tier_1.x"), None);
        assert!(qualified_name("app/").is_some());
        assert!(qualified_name("/name").is_some());
        assert!(qualified_name("Example.com/name").is_some());
        assert!(qualified_name("a b").is_some());
        assert!(qualified_name("a/b/c").is_some());
        assert_eq!(label_value(""), None);
        assert_eq!(label_value("v1.2_3-x"), None);
        assert!(label_value("-x").is_some());
        assert!(label_value("a b").is_some());
        assert!(label_value(&"a".repeat(64)).is_some());
    }

    #[test]
    fn did_you_mean() {
        assert_eq!(
            closest("Deploymnet", ["Deployment", "DaemonSet", "ReplicaSet"]),
            Some("Deployment")
        );
        assert_eq!(
            closest("imagePullPolcy", ["image", "imagePullPolicy"]),
            Some("imagePullPolicy")
        );
        assert_eq!(closest("zzz", ["Deployment"]), None);
        assert_eq!(closest("prot", ["host", "path", "port"]), Some("port"));
        assert_eq!(distance("ab", "ba"), 1);
    }
}
