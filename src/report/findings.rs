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
            }
            finding_text(&mut out, &p, f);
        }
        if !env.findings.is_empty() && several {
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

fn finding_text(out: &mut String, p: &Paint, f: &Finding) {
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
        f.message,
        p.dim(&format!("[{}]", f.rule)),
        object
    );
    if let Some(src) = &f.source_line
        && f.line > 0
    {
        let num = f.line.to_string();
        let pad = " ".repeat(num.len());
        let shown: String = src
            .chars()
            .map(|c| if c == '\t' { '→' } else { c })
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
            escape_data(&f.message)
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
