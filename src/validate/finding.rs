//! The report model of validation: findings, their rules and severities, and the per-
//! environment and whole-run reports that renderers turn into text, JSON, JUnit, etc.
//! Must not: print or format reports (see `crate::report::findings`).

use std::fmt;

use crate::settings::RuleLevel;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every check, by the id that `validate.rules` and the reports use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    YamlSyntax,
    Render,
    DuplicateKey,
    NotAnObject,
    InvalidName,
    InvalidLabel,
    InvalidAnnotation,
    Schema,
    UnknownField,
    UnknownKind,
    MissingSchema,
    CrdSchema,
    RemovedApi,
    DeprecatedApi,
    DuplicateObject,
    ImageTagLatest,
    SelectorMismatch,
    ServiceSelector,
    ResourceRequests,
}

impl Rule {
    pub const ALL: [Rule; 19] = [
        Rule::YamlSyntax,
        Rule::Render,
        Rule::DuplicateKey,
        Rule::NotAnObject,
        Rule::InvalidName,
        Rule::InvalidLabel,
        Rule::InvalidAnnotation,
        Rule::Schema,
        Rule::UnknownField,
        Rule::UnknownKind,
        Rule::MissingSchema,
        Rule::CrdSchema,
        Rule::RemovedApi,
        Rule::DeprecatedApi,
        Rule::DuplicateObject,
        Rule::ImageTagLatest,
        Rule::SelectorMismatch,
        Rule::ServiceSelector,
        Rule::ResourceRequests,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rule::YamlSyntax => "yaml-syntax",
            Rule::Render => "render",
            Rule::DuplicateKey => "duplicate-key",
            Rule::NotAnObject => "not-an-object",
            Rule::InvalidName => "invalid-name",
            Rule::InvalidLabel => "invalid-label",
            Rule::InvalidAnnotation => "invalid-annotation",
            Rule::Schema => "schema",
            Rule::UnknownField => "unknown-field",
            Rule::UnknownKind => "unknown-kind",
            Rule::MissingSchema => "missing-schema",
            Rule::CrdSchema => "crd-schema",
            Rule::RemovedApi => "removed-api",
            Rule::DeprecatedApi => "deprecated-api",
            Rule::DuplicateObject => "duplicate-object",
            Rule::ImageTagLatest => "image-tag-latest",
            Rule::SelectorMismatch => "selector-mismatch",
            Rule::ServiceSelector => "service-selector",
            Rule::ResourceRequests => "resource-requests",
        }
    }

    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }

    /// What the rule checks, one line (SARIF rule descriptions, `--help`-style listings).
    pub fn summary(self) -> &'static str {
        match self {
            Rule::YamlSyntax => "YAML syntax errors and tab indentation",
            Rule::Render => "the folder or kustomization could not be rendered",
            Rule::DuplicateKey => "a mapping key appears twice; Kubernetes would keep only one",
            Rule::NotAnObject => "a YAML document that is not a Kubernetes object was skipped",
            Rule::InvalidName => {
                "metadata.name or metadata.namespace missing or invalid for the kind"
            }
            Rule::InvalidLabel => "label key or value invalid",
            Rule::InvalidAnnotation => "annotation key invalid or annotations too large",
            Rule::Schema => "value does not match the schema of its kind",
            Rule::UnknownField => "field unknown to the schema of its kind (strict validation)",
            Rule::UnknownKind => "kind or version unknown in a built-in API group",
            Rule::MissingSchema => "no schema for a custom resource (add its CRD or a schema file)",
            Rule::CrdSchema => "a CRD's openAPIV3Schema or a schema file could not be used",
            Rule::RemovedApi => "apiVersion removed in the target Kubernetes version",
            Rule::DeprecatedApi => "apiVersion deprecated in the target Kubernetes version",
            Rule::DuplicateObject => "the same kind/namespace/name appears twice",
            Rule::ImageTagLatest => "container image uses :latest or no tag",
            Rule::SelectorMismatch => "workload selector does not match its pod template labels",
            Rule::ServiceSelector => "Service selector matches no pod template in the environment",
            Rule::ResourceRequests => "container without resource requests",
        }
    }

    /// The level when `validate.rules` does not name the rule.
    pub fn default_level(self) -> RuleLevel {
        match self {
            Rule::NotAnObject
            | Rule::MissingSchema
            | Rule::CrdSchema
            | Rule::DeprecatedApi
            | Rule::ImageTagLatest
            | Rule::ServiceSelector => RuleLevel::Warn,
            Rule::ResourceRequests => RuleLevel::Off,
            _ => RuleLevel::Error,
        }
    }

    /// Rules that cannot be turned off or down: nothing can be validated past them.
    pub fn is_fixed(self) -> bool {
        matches!(self, Rule::YamlSyntax | Rule::Render)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One problem, pointing at the file, line and column a person has to edit.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    pub rule: Rule,
    pub message: String,
    /// Repository-relative path with `/`; empty when no file is involved.
    pub file: String,
    /// 1-based; 0 when unknown.
    pub line: u32,
    /// 1-based; 0 when unknown.
    pub column: u32,
    /// `Kind/namespace/name` or `Kind/name`, when the finding belongs to an object.
    pub object: Option<String>,
    /// Index into [`EnvironmentReport::objects`] of that object.
    pub object_index: Option<usize>,
    /// The text of the source line, to show with a marker.
    pub source_line: Option<String>,
}

/// An object that was validated (every one gets a JUnit test case, failing or not).
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectEntry {
    /// `Kind/namespace/name` or `Kind/name`.
    pub object: String,
    pub api_version: String,
    pub file: String,
    pub line: u32,
}

/// The validation of one environment (or folder).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnvironmentReport {
    pub environment: String,
    /// The Kubernetes version asked for.
    pub kubernetes_version: String,
    /// The embedded schema set used (may differ from the version asked for).
    pub schema_version: String,
    /// Source files rendered.
    pub files: usize,
    pub objects: Vec<ObjectEntry>,
    /// Sorted by file, line, column.
    pub findings: Vec<Finding>,
    /// Remarks for humans (e.g. which schema set stands in for an unembedded version).
    pub notes: Vec<String>,
}

impl EnvironmentReport {
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
}

/// The validation of every environment of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValidationReport {
    pub environments: Vec<EnvironmentReport>,
}

impl ValidationReport {
    pub fn errors(&self) -> usize {
        self.environments
            .iter()
            .map(EnvironmentReport::errors)
            .sum()
    }

    pub fn warnings(&self) -> usize {
        self.environments
            .iter()
            .map(EnvironmentReport::warnings)
            .sum()
    }

    pub fn files(&self) -> usize {
        self.environments.iter().map(|e| e.files).sum()
    }

    pub fn objects(&self) -> usize {
        self.environments.iter().map(|e| e.objects.len()).sum()
    }

    /// Every finding with its environment, in report order.
    pub fn findings(&self) -> impl Iterator<Item = (&EnvironmentReport, &Finding)> {
        self.environments
            .iter()
            .flat_map(|e| e.findings.iter().map(move |f| (e, f)))
    }
}
