//! Renderers of a [`ValidationReport`]: human text, JSON (DESIGN.md's contract), JUnit
//! (GitLab), GitLab Code Quality, SARIF 2.1.0 (GitHub code scanning) and GitHub workflow
//! annotations. Each is a pure function of the report.
//! Must not: print, read files or the environment, or decide severities.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::validate::{EnvironmentReport, Finding, Rule, Severity, ValidationReport};

/// How the text report looks.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextStyle {
    /// ANSI colors (a terminal without NO_COLOR).
    pub color: bool,
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn severity(&self, sev: Severity, s: &str) -> String {
        match sev {
            Severity::Error => self.wrap("1;31", s),
            Severity::Warning => self.wrap("1;33", s),
        }
    }
}

/// A message on one line without control characters (values from the repository could
/// otherwise move the cursor or fake colors on a terminal, or break an annotation).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Human text: findings grouped by file (and environment, when there are several), each
/// with its source line and a marker, then a one-line summary.
pub fn text(report: &ValidationReport, style: TextStyle) -> String {
    let p = Paint { on: style.color };
    let mut out = String::new();
    let several = report.environments.len() > 1;
    for env in &report.environments {
        if several {
            let _ = writeln!(
                out,
                "{}",
                p.bold(&format!(
                    "── {} ({}) ──",
                    env.environment,
                    plural(env.objects.len(), "object", "objects")
                ))
            );
        }
        let mut current: Option<&str> = None;
        let mut gutter = 1;
        for f in &env.findings {
            let file = if f.file.is_empty() {
                "(no file)"
            } else {
                f.file.as_str()
            };
            if current != Some(file) {
                if current.is_some() {
                    out.push('\n');
                }
                let _ = writeln!(out, "{}", p.bold(file));
                current = Some(file);
                gutter = env
                    .findings
                    .iter()
                    .filter(|g| g.file == f.file)
                    .map(|g| g.line.to_string().len())
                    .max()
                    .unwrap_or(1);
            }
            finding_text(&mut out, &p, f, gutter);
        }
        if several {
            if env.findings.is_empty() {
                let _ = writeln!(out, "  no problems");
            }
            out.push('\n');
        }
    }
    if report.findings().next().is_some() && !several {
        out.push('\n');
    }
    let errors = report.errors();
    let warnings = report.warnings();
    let versions: Vec<&str> = {
        let mut v: Vec<&str> = report
            .environments
            .iter()
            .map(|e| e.kubernetes_version.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let scope = format!(
        "{} in {} · Kubernetes {}",
        plural(report.objects(), "object", "objects"),
        plural(report.files(), "file", "files"),
        versions.join(", ")
    );
    let line = if errors + warnings == 0 {
        format!("{} no problems · {scope}", p.wrap("1;32", "✔"))
    } else {
        let mark = if errors > 0 {
            p.severity(Severity::Error, "✖")
        } else {
            p.severity(Severity::Warning, "⚠")
        };
        format!(
            "{mark} {}, {} · {scope}",
            plural(errors, "error", "errors"),
            plural(warnings, "warning", "warnings")
        )
    };
    out.push_str(&line);
    out.push('\n');
    out
}

fn finding_text(out: &mut String, p: &Paint, f: &Finding, gutter: usize) {
    let loc = if f.line > 0 {
        format!("{}:{}", f.line, f.column)
    } else {
        "-".to_string()
    };
    let sev = format!("{:<7}", f.severity.as_str());
    let object = f
        .object
        .as_deref()
        .map(|o| format!("  {}", p.dim(o)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  {} {:>7}  {}  {}{}",
        p.severity(f.severity, &sev),
        loc,
        one_line(&f.message),
        p.dim(&format!("[{}]", f.rule)),
        object
    );
    if let Some(src) = &f.source_line
        && f.line > 0
    {
        let num = format!("{:>gutter$}", f.line);
        let pad = " ".repeat(num.len());
        let shown: String = src
            .chars()
            .map(|c| match c {
                '\t' => '→',
                c if c.is_control() => '\u{fffd}',
                c => c,
            })
            .collect();
        let col = f.column.max(1) as usize;
        let width = token_width(src, col);
        let _ = writeln!(out, "      {} {} {}", p.dim(&num), p.dim("|"), shown);
        let _ = writeln!(
            out,
            "      {pad} {} {}{}",
            p.dim("|"),
            " ".repeat(col - 1),
            p.severity(f.severity, &"^".repeat(width))
        );
    }
}

/// The width of the token starting at 1-based character column `col`: a quoted string, or
/// text up to whitespace (without a key's trailing colon).
fn token_width(line: &str, col: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(col - 1).collect();
    let Some(&first) = rest.first() else { return 1 };
    if first == '"' || first == '\'' {
        let end = rest[1..]
            .iter()
            .position(|c| *c == first)
            .map_or(rest.len(), |e| e + 2);
        return end.max(1);
    }
    let mut n = rest
        .iter()
        .position(|c| c.is_whitespace() || *c == ',')
        .unwrap_or(rest.len());
    if n > 1 && rest[n - 1] == ':' {
        n -= 1;
    }
    n.max(1)
}

/// DESIGN.md's JSON contract: `{"problems": [...], "summary": {...}}`; each problem also
/// names its environment.
pub fn json(report: &ValidationReport) -> String {
    let problems: Vec<Value> = report
        .findings()
        .map(|(env, f)| {
            json!({
                "file": f.file,
                "line": f.line,
                "column": f.column,
                "severity": f.severity.as_str(),
                "rule": f.rule.id(),
                "message": f.message,
                "object": f.object,
                "environment": env.environment,
            })
        })
        .collect();
    let doc = json!({
        "problems": problems,
        "summary": {
            "files": report.files(),
            "objects": report.objects(),
            "errors": report.errors(),
            "warnings": report.warnings(),
        }
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn finding_line(f: &Finding) -> String {
    let loc = match (f.file.is_empty(), f.line) {
        (true, _) => String::new(),
        (false, 0) => format!("{}: ", f.file),
        (false, l) => format!("{}:{}:{}: ", f.file, l, f.column),
    };
    format!("{loc}{}[{}]: {}", f.severity, f.rule, f.message)
}

/// JUnit XML for GitLab: one test suite per environment, one test case per object
/// (`env/Kind/ns/name`, made unique) and per file with findings outside objects. Errors fail
/// a case (the failure text lists `file:line:col` and message of each); warnings go to its
/// system-out.
pub fn junit(report: &ValidationReport) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut junit = Report::new("kubeship validate");
    for env in &report.environments {
        let mut suite = TestSuite::new(env.environment.as_str());
        let mut by_object: HashMap<usize, Vec<&Finding>> = HashMap::new();
        let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &env.findings {
            match f.object_index {
                Some(i) => by_object.entry(i).or_default().push(f),
                None => by_file.entry(f.file.as_str()).or_default().push(f),
            }
        }
        let mut used: HashMap<String, usize> = HashMap::new();
        let mut unique = |name: String| -> String {
            let n = used.entry(name.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                name
            } else {
                format!("{name} #{n}")
            }
        };
        let case = |name: String, classname: &str, findings: &[&Finding]| -> TestCase {
            let errors: Vec<&&Finding> = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .collect();
            let warnings: Vec<&&Finding> = findings
                .iter()
                .filter(|f| f.severity == Severity::Warning)
                .collect();
            let status = if errors.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let first = errors[0];
                let msg = if errors.len() == 1 {
                    first.message.clone()
                } else {
                    format!("{} (and {} more)", first.message, errors.len() - 1)
                };
                s.set_message(msg);
                s.set_type(first.rule.id());
                let text: Vec<String> = errors.iter().map(|f| finding_line(f)).collect();
                s.set_description(text.join("\n"));
                s
            };
            let mut tc = TestCase::new(name, status);
            tc.set_classname(classname);
            if !warnings.is_empty() {
                let text: Vec<String> = warnings.iter().map(|f| finding_line(f)).collect();
                tc.set_system_out(text.join("\n"));
            }
            tc
        };
        for (i, o) in env.objects.iter().enumerate() {
            let name = unique(format!("{}/{}", env.environment, o.object));
            let findings = by_object.get(&i).map(Vec::as_slice).unwrap_or(&[]);
            suite.add_test_case(case(name, &o.file, findings));
        }
        for (file, findings) in by_file {
            let shown = if file.is_empty() { "(no file)" } else { file };
            let name = unique(format!("{}/{}", env.environment, shown));
            suite.add_test_case(case(name, shown, &findings));
        }
        junit.add_test_suite(suite);
    }
    let mut s = junit.to_string().unwrap_or_default();
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

fn fingerprint(env: &EnvironmentReport, f: &Finding, seen: &mut HashMap<String, usize>) -> String {
    // Line numbers are left out so a finding keeps its identity when lines move.
    let base = format!(
        "{}\0{}\0{}\0{}\0{}",
        env.environment,
        f.rule,
        f.file,
        f.object.as_deref().unwrap_or(""),
        f.message
    );
    let n = seen.entry(base.clone()).or_insert(0);
    *n += 1;
    let mut h = Sha256::new();
    h.update(base.as_bytes());
    h.update(n.to_string().as_bytes());
    let digest = h.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// GitLab Code Quality (CodeClimate subset): description, check_name, fingerprint,
/// severity, location.path and location.lines.begin.
pub fn codequality(report: &ValidationReport) -> String {
    let mut seen = HashMap::new();
    let items: Vec<Value> = report
        .findings()
        .map(|(env, f)| {
            let description = match &f.object {
                Some(o) => format!("{} ({o})", f.message),
                None => f.message.clone(),
            };
            json!({
                "type": "issue",
                "description": description,
                "check_name": f.rule.id(),
                "fingerprint": fingerprint(env, f, &mut seen),
                "severity": match f.severity { Severity::Error => "major", Severity::Warning => "minor" },
                "location": {
                    "path": f.file,
                    "lines": { "begin": f.line.max(1) }
                }
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&Value::Array(items)).unwrap_or_default();
    s.push('\n');
    s
}

/// SARIF 2.1.0 for GitHub code scanning: one run, every rule described, one result per
/// finding with its physical location.
pub fn sarif(report: &ValidationReport) -> String {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.id(),
                "name": r.id(),
                "shortDescription": { "text": r.summary() },
                "defaultConfiguration": {
                    "level": match r.default_level() {
                        crate::settings::RuleLevel::Error => "error",
                        crate::settings::RuleLevel::Warn => "warning",
                        crate::settings::RuleLevel::Off => "none",
                    }
                }
            })
        })
        .collect();
    let mut seen = HashMap::new();
    let results: Vec<Value> = report
        .findings()
        .map(|(env, f)| {
            let mut region = json!({ "startLine": f.line.max(1) });
            if f.column > 0 {
                region["startColumn"] = json!(f.column);
            }
            let mut message = f.message.clone();
            if let Some(o) = &f.object {
                let _ = write!(message, " ({o})");
            }
            json!({
                "ruleId": f.rule.id(),
                "ruleIndex": Rule::ALL.iter().position(|r| *r == f.rule).unwrap_or(0),
                "level": match f.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.file, "uriBaseId": "%SRCROOT%" },
                        "region": region
                    }
                }],
                "partialFingerprints": { "kubeship/v1": fingerprint(env, f, &mut seen) },
                "properties": { "environment": env.environment }
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "kubeship",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/kubeship/kubeship",
                    "rules": rules
                }
            },
            "results": results
        }]
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// How many annotations of each severity GitHub shows for a step.
pub const GITHUB_ANNOTATION_LIMIT: usize = 10;

/// Control characters other than line breaks removed.
fn strip_controls(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\r')
        .collect()
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub workflow commands: `::error file=,line=,col=,title=::message` for the first 10
/// errors and 10 warnings (GitHub shows no more), then a summary line.
pub fn github(report: &ValidationReport) -> String {
    let mut out = String::new();
    let mut shown = [0usize; 2];
    for (env, f) in report.findings() {
        let (cmd, slot) = match f.severity {
            Severity::Error => ("error", 0),
            Severity::Warning => ("warning", 1),
        };
        if shown[slot] >= GITHUB_ANNOTATION_LIMIT {
            continue;
        }
        shown[slot] += 1;
        let mut props = Vec::new();
        if !f.file.is_empty() {
            props.push(format!("file={}", escape_property(&f.file)));
            if f.line > 0 {
                props.push(format!("line={}", f.line));
                if f.column > 0 {
                    props.push(format!("col={}", f.column));
                }
            }
        }
        let title = match &f.object {
            Some(o) => format!("kubeship {} ({}: {o})", f.rule, env.environment),
            None => format!("kubeship {} ({})", f.rule, env.environment),
        };
        props.push(format!("title={}", escape_property(&title)));
        let _ = writeln!(
            out,
            "::{cmd} {}::{}",
            props.join(","),
            escape_data(&strip_controls(&f.message))
        );
    }
    let errors = report.errors();
    let warnings = report.warnings();
    let mut summary = format!(
        "kubeship validate: {}, {} in {}",
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings"),
        plural(report.objects(), "object", "objects")
    );
    if errors > shown[0] || warnings > shown[1] {
        let _ = write!(
            summary,
            " (annotations show the first {GITHUB_ANNOTATION_LIMIT} of each; see the full report)"
        );
    }
    out.push_str(&summary);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_widths() {
        assert_eq!(token_width("  imagePullPolcy: Always", 3), 14);
        assert_eq!(token_width("  image: nginx:latest", 10), 12);
        assert_eq!(token_width("  name: \"a b\" # x", 9), 5);
        assert_eq!(token_width("", 1), 1);
    }

    #[test]
    fn github_escaping() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}

#[cfg(test)]
mod snapshots {
    use super::*;
    use crate::validate::{EnvironmentReport, Finding, ObjectEntry, Rule, Severity};

    fn finding(
        severity: Severity,
        rule: Rule,
        message: &str,
        at: (&str, u32, u32),
        object: Option<usize>,
        source_line: Option<&str>,
    ) -> Finding {
        Finding {
            severity,
            rule,
            message: message.to_string(),
            file: at.0.to_string(),
            line: at.1,
            column: at.2,
            object: object.map(|i| {
                [
                    "Deployment/shop/web",
                    "Service/shop/web",
                    "ConfigMap/shop/web",
                ][i]
                    .to_string()
            }),
            object_index: object,
            source_line: source_line.map(str::to_string),
        }
    }

    fn sample() -> ValidationReport {
        let objects = vec![
            ObjectEntry {
                object: "Deployment/shop/web".into(),
                api_version: "apps/v1".into(),
                file: "clusters/dev/web.yaml".into(),
                line: 1,
            },
            ObjectEntry {
                object: "Service/shop/web".into(),
                api_version: "v1".into(),
                file: "clusters/dev/web.yaml".into(),
                line: 30,
            },
            ObjectEntry {
                object: "ConfigMap/shop/web".into(),
                api_version: "v1".into(),
                file: "clusters/dev/config.yaml".into(),
                line: 1,
            },
        ];
        let dev = EnvironmentReport {
            environment: "dev".into(),
            kubernetes_version: "1.33".into(),
            schema_version: "1.33".into(),
            files: 3,
            objects,
            findings: vec![
                finding(
                    Severity::Error,
                    Rule::YamlSyntax,
                    "tab character used for indentation; YAML allows only spaces",
                    ("clusters/dev/broken.yaml", 4, 1),
                    None,
                    Some("\tname: cfg"),
                ),
                finding(
                    Severity::Error,
                    Rule::Schema,
                    "spec.replicas must be an integer, not a string \"3\" (remove the quotes)",
                    ("clusters/dev/web.yaml", 7, 13),
                    Some(0),
                    Some("  replicas: \"3\""),
                ),
                finding(
                    Severity::Warning,
                    Rule::ImageTagLatest,
                    "image `nginx` has no tag, so it means `nginx:latest`; pin a version or a digest",
                    ("clusters/dev/web.yaml", 18, 18),
                    Some(0),
                    Some("          image: nginx"),
                ),
                finding(
                    Severity::Error,
                    Rule::UnknownField,
                    "unknown field `imagePullPolcy` in spec.template.spec.containers[0] (did you mean `imagePullPolicy`?)",
                    ("clusters/dev/web.yaml", 19, 11),
                    Some(0),
                    Some("          imagePullPolcy: Always"),
                ),
                finding(
                    Severity::Warning,
                    Rule::ServiceSelector,
                    "message with ]]> and \x1b[31mANSI\x1b[0m, <xml> & \"quotes\"\nand a second line, 100% sure",
                    ("clusters/dev/web.yaml", 36, 3),
                    Some(1),
                    None,
                ),
            ],
            notes: vec![],
        };
        let prod = EnvironmentReport {
            environment: "prod".into(),
            kubernetes_version: "1.30".into(),
            schema_version: "1.30".into(),
            files: 1,
            objects: vec![ObjectEntry {
                object: "Deployment/shop/web".into(),
                api_version: "apps/v1".into(),
                file: "clusters/prod/web.yaml".into(),
                line: 1,
            }],
            findings: vec![],
            notes: vec![],
        };
        ValidationReport {
            environments: vec![dev, prod],
        }
    }

    fn one_env() -> ValidationReport {
        let mut r = sample();
        r.environments.truncate(1);
        r
    }

    #[test]
    fn text_report() {
        insta::assert_snapshot!("text", text(&one_env(), TextStyle { color: false }));
        insta::assert_snapshot!(
            "text_all_environments",
            text(&sample(), TextStyle { color: false })
        );
        let clean = ValidationReport {
            environments: vec![sample().environments.remove(1)],
        };
        insta::assert_snapshot!("text_clean", text(&clean, TextStyle { color: false }));
    }

    #[test]
    fn text_colors_only_when_asked() {
        let colored = text(&one_env(), TextStyle { color: true });
        assert!(colored.contains("\x1b[1;31merror  \x1b[0m"), "{colored}");
        let plain = text(&one_env(), TextStyle { color: false });
        assert!(!plain.contains("\x1b[1;31m"));
    }

    #[test]
    fn junit_report() {
        let xml = junit(&sample());
        insta::assert_snapshot!("junit", xml);
        // Unique test case names, and well-formed XML despite `]]>` and ANSI codes.
        assert!(!xml.contains("\x1b"));
        assert!(!xml.contains("]]>"), "{xml}");
    }

    #[test]
    fn junit_names_are_unique_for_duplicates() {
        let mut r = one_env();
        let dup = r.environments[0].objects[0].clone();
        r.environments[0].objects.push(dup);
        let xml = junit(&r);
        assert!(xml.contains("name=\"dev/Deployment/shop/web\""), "{xml}");
        assert!(xml.contains("name=\"dev/Deployment/shop/web #2\""), "{xml}");
    }

    #[test]
    fn json_contract() {
        let v: Value = serde_json::from_str(&json(&sample())).unwrap();
        assert_eq!(
            v["summary"],
            json!({"files": 4, "objects": 4, "errors": 3, "warnings": 2})
        );
        let p = &v["problems"][3];
        assert_eq!(
            p,
            &json!({
                "file": "clusters/dev/web.yaml",
                "line": 19,
                "column": 11,
                "severity": "error",
                "rule": "unknown-field",
                "message": "unknown field `imagePullPolcy` in spec.template.spec.containers[0] (did you mean `imagePullPolicy`?)",
                "object": "Deployment/shop/web",
                "environment": "dev"
            })
        );
        assert_eq!(v["problems"][0]["object"], Value::Null);
    }

    #[test]
    fn codequality_report() {
        let v: Value = serde_json::from_str(&codequality(&sample())).unwrap();
        let items = v.as_array().unwrap();
        assert_eq!(items.len(), 5);
        let mut fps: Vec<&str> = items
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap())
            .collect();
        fps.sort_unstable();
        fps.dedup();
        assert_eq!(fps.len(), 5, "fingerprints are unique");
        let i = &items[3];
        assert_eq!(i["check_name"], "unknown-field");
        assert_eq!(i["severity"], "major");
        assert_eq!(
            i["location"],
            json!({"path": "clusters/dev/web.yaml", "lines": {"begin": 19}})
        );
        assert!(
            i["description"]
                .as_str()
                .unwrap()
                .ends_with("(Deployment/shop/web)")
        );
        assert_eq!(items[2]["severity"], "minor");
    }

    #[test]
    fn sarif_report() {
        let v: Value = serde_json::from_str(&sarif(&sample())).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "kubeship");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), Rule::ALL.len());
        let r = &run["results"][3];
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert_eq!(r["level"], "error");
        assert_eq!(
            r["locations"][0]["physicalLocation"],
            json!({
                "artifactLocation": {"uri": "clusters/dev/web.yaml", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 19, "startColumn": 11}
            })
        );
    }

    #[test]
    fn github_annotations() {
        insta::assert_snapshot!("github", github(&sample()));
    }

    #[test]
    fn github_shows_at_most_ten_of_each() {
        let mut r = one_env();
        let f = r.environments[0].findings[1].clone();
        let w = r.environments[0].findings[2].clone();
        for _ in 0..20 {
            r.environments[0].findings.push(f.clone());
            r.environments[0].findings.push(w.clone());
        }
        let out = github(&r);
        assert_eq!(
            out.lines().filter(|l| l.starts_with("::error ")).count(),
            10
        );
        assert_eq!(
            out.lines().filter(|l| l.starts_with("::warning ")).count(),
            10
        );
        let last = out.lines().last().unwrap();
        assert!(
            last.starts_with("kubeship validate: 23 errors, 22 warnings"),
            "{last}"
        );
        assert!(last.contains("first 10 of each"), "{last}");
    }
}
