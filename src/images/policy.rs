//! Choosing the latest tag the way Flux's image-reflector-controller does.
//!
//! Owns: the three policy kinds (`semver` range, `alphabetical` and `numerical` with
//! `order: asc|desc`), `filterTags` (`pattern` and `extract` with `$name` / `${name}` / `$1`
//! references), and an ImageRepository's `exclusionList`.
//! Must not: read files, talk to registries or know about markers.

use std::collections::HashMap;

use regex::Regex;

use super::semver::{Range, parse_tag};

/// The policy part of an ImagePolicy spec as written (before compiling).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChoiceSpec {
    SemVer { range: String },
    Alphabetical { order: Option<String> },
    Numerical { order: Option<String> },
}

#[derive(Clone, Debug)]
enum Choice {
    SemVer(Range),
    Alphabetical { descending: bool },
    Numerical { descending: bool },
}

#[derive(Clone, Debug)]
struct TagFilter {
    pattern: Regex,
    extract: String,
}

/// A compiled policy: what to keep and how to order it.
#[derive(Clone, Debug)]
pub struct Policy {
    choice: Choice,
    filter: Option<TagFilter>,
}

/// The outcome of applying a policy to a tag list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// The chosen tag, as the registry lists it (before `extract`).
    Latest(String),
    /// Nothing qualifies; the reason is for humans.
    NoMatch(String),
}

fn order(order: Option<&str>, field: &str) -> Result<bool, String> {
    match order.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(other) => Err(format!(
            "spec.policy.{field}.order is `{other}`; use `asc` (the highest wins) or `desc` (the lowest wins)"
        )),
    }
}

impl Policy {
    /// Compiles a policy; errors name the field to fix.
    pub fn new(
        choice: &ChoiceSpec,
        pattern: Option<&str>,
        extract: Option<&str>,
    ) -> Result<Policy, String> {
        let choice = match choice {
            ChoiceSpec::SemVer { range } => Choice::SemVer(
                Range::parse(range).map_err(|e| format!("spec.policy.semver.range: {e}"))?,
            ),
            ChoiceSpec::Alphabetical { order: o } => Choice::Alphabetical {
                descending: order(o.as_deref(), "alphabetical")?,
            },
            ChoiceSpec::Numerical { order: o } => Choice::Numerical {
                descending: order(o.as_deref(), "numerical")?,
            },
        };
        let filter = match (pattern, extract) {
            (None, None) => None,
            (pattern, extract) => Some(TagFilter {
                pattern: Regex::new(pattern.unwrap_or("")).map_err(|e| {
                    format!(
                        "spec.filterTags.pattern is not a valid regular expression: {}",
                        e.to_string().lines().last().unwrap_or_default()
                    )
                })?,
                extract: extract.unwrap_or("").to_string(),
            }),
        };
        Ok(Policy { choice, filter })
    }

    /// Picks the latest tag. An error means the policy cannot order these tags at all (a
    /// numerical policy over non-numbers), which needs a change to the policy.
    pub fn select(&self, tags: &[String]) -> Result<Selection, String> {
        // Candidate value -> the tag it came from; with `extract`, the last tag wins a tie, as
        // in Flux's filter map.
        let mut origin: HashMap<String, String> = HashMap::new();
        let mut values: Vec<String> = Vec::new();
        match &self.filter {
            None => {
                for t in tags {
                    if origin.insert(t.clone(), t.clone()).is_none() {
                        values.push(t.clone());
                    }
                }
            }
            Some(f) => {
                for t in tags {
                    let Some(caps) = f.pattern.captures(t) else {
                        continue;
                    };
                    let value = if f.extract.is_empty() {
                        t.clone()
                    } else {
                        let mut out = String::new();
                        caps.expand(&f.extract, &mut out);
                        out
                    };
                    if origin.insert(value.clone(), t.clone()).is_none() {
                        values.push(value);
                    }
                }
                if values.is_empty() {
                    return Ok(Selection::NoMatch(format!(
                        "none of the {} tags matches spec.filterTags.pattern `{}`",
                        tags.len(),
                        f.pattern.as_str()
                    )));
                }
            }
        }
        if values.is_empty() {
            return Ok(Selection::NoMatch("the repository has no tags".to_string()));
        }
        let latest = match &self.choice {
            Choice::SemVer(range) => {
                let mut best: Option<(semver::Version, &String)> = None;
                for v in &values {
                    let Some(parsed) = parse_tag(v) else { continue };
                    if !range.matches(&parsed) {
                        continue;
                    }
                    let better = best.as_ref().is_none_or(|(b, _)| {
                        parsed.cmp_precedence(b) == std::cmp::Ordering::Greater
                    });
                    if better {
                        best = Some((parsed, v));
                    }
                }
                match best {
                    Some((_, v)) => v.clone(),
                    None => {
                        return Ok(Selection::NoMatch(format!(
                            "no tag is a semantic version within the range ({} tags considered)",
                            values.len()
                        )));
                    }
                }
            }
            Choice::Alphabetical { descending } => {
                let pick = if *descending {
                    values.iter().min()
                } else {
                    values.iter().max()
                };
                match pick {
                    Some(v) => v.clone(),
                    None => return Ok(Selection::NoMatch("no tags".to_string())),
                }
            }
            Choice::Numerical { descending } => {
                let mut best: Option<(f64, &String)> = None;
                for v in &values {
                    let n: f64 = parse_go_float(v).ok_or_else(|| {
                        format!(
                            "tag value `{v}` is not a number; add spec.filterTags.pattern (and extract) so that only numeric values are compared"
                        )
                    })?;
                    let replace = match best {
                        None => true,
                        // Like Flux: a tie (or NaN) goes to the later tag.
                        Some((b, _)) => match n.partial_cmp(&b) {
                            Some(std::cmp::Ordering::Less) => *descending,
                            Some(std::cmp::Ordering::Greater) => !*descending,
                            _ => true,
                        },
                    };
                    if replace {
                        best = Some((n, v));
                    }
                }
                match best {
                    Some((_, v)) => v.clone(),
                    None => return Ok(Selection::NoMatch("no tags".to_string())),
                }
            }
        };
        Ok(Selection::Latest(
            origin.get(&latest).cloned().unwrap_or(latest),
        ))
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms tags take: decimal, exponent, `inf`, `nan`.
fn parse_go_float(s: &str) -> Option<f64> {
    if s.is_empty() || s.contains('_') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Compiles an ImageRepository's `exclusionList` (Flux's default is `^.*\.sig$`).
pub fn compile_exclusions(list: &[String]) -> Result<Vec<Regex>, String> {
    list.iter()
        .map(|p| {
            Regex::new(p).map_err(|e| {
                format!(
                    "spec.exclusionList entry `{p}` is not a valid regular expression: {}",
                    e.to_string().lines().last().unwrap_or_default()
                )
            })
        })
        .collect()
}

/// The tags that no exclusion pattern matches.
pub fn exclude(tags: Vec<String>, exclusions: &[Regex]) -> Vec<String> {
    tags.into_iter()
        .filter(|t| !exclusions.iter().any(|r| r.is_match(t)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn latest(p: &Policy, list: &[&str]) -> Selection {
        p.select(&tags(list)).expect("policy applies")
    }

    fn semver(range: &str) -> Policy {
        Policy::new(
            &ChoiceSpec::SemVer {
                range: range.into(),
            },
            None,
            None,
        )
        .expect("valid policy")
    }

    #[test]
    fn semver_picks_the_highest_in_range_and_keeps_the_tag_spelling() {
        let p = semver(">=1.0.0 <2.0.0");
        assert_eq!(
            latest(
                &p,
                &["1.0.0", "v1.4.2", "1.10.0-rc.1", "2.0.0", "latest", "1.3.9"]
            ),
            Selection::Latest("v1.4.2".into())
        );
        let p = semver("^1.2");
        assert_eq!(
            latest(&p, &["1.1.0", "1.2.0", "1.9.3", "1.10.0", "2.0.0"]),
            Selection::Latest("1.10.0".into())
        );
        assert!(matches!(
            latest(&p, &["0.1.0", "latest"]),
            Selection::NoMatch(_)
        ));
    }

    #[test]
    fn alphabetical_and_numerical_orders() {
        let asc = Policy::new(&ChoiceSpec::Alphabetical { order: None }, None, None).unwrap();
        let desc = Policy::new(
            &ChoiceSpec::Alphabetical {
                order: Some("desc".into()),
            },
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            latest(&asc, &["b", "c", "a"]),
            Selection::Latest("c".into())
        );
        assert_eq!(
            latest(&desc, &["b", "c", "a"]),
            Selection::Latest("a".into())
        );
        // Alphabetical is by bytes: "10" sorts before "9".
        assert_eq!(latest(&asc, &["9", "10"]), Selection::Latest("9".into()));

        let num = Policy::new(&ChoiceSpec::Numerical { order: None }, None, None).unwrap();
        assert_eq!(
            latest(&num, &["9", "10", "2.5", "1e0"]),
            Selection::Latest("10".into())
        );
        let num_desc = Policy::new(
            &ChoiceSpec::Numerical {
                order: Some("DESC".into()),
            },
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            latest(&num_desc, &["9", "10", "-3"]),
            Selection::Latest("-3".into())
        );
        let err = num.select(&tags(&["1", "latest"])).unwrap_err();
        assert!(err.contains("`latest` is not a number"), "{err}");
        assert!(
            Policy::new(
                &ChoiceSpec::Numerical {
                    order: Some("up".into())
                },
                None,
                None
            )
            .is_err()
        );
    }

    #[test]
    fn filter_and_extract_with_named_groups() {
        // Date tags, newest first: main-<sha>-<timestamp> ordered by the timestamp.
        let p = Policy::new(
            &ChoiceSpec::Numerical { order: None },
            Some(r"^main-[a-f0-9]+-(?P<ts>[0-9]+)$"),
            Some("$ts"),
        )
        .unwrap();
        assert_eq!(
            latest(
                &p,
                &[
                    "main-abc123-1700000000",
                    "main-def456-1700000500",
                    "pr-1-1800000000",
                    "latest"
                ]
            ),
            Selection::Latest("main-def456-1700000500".into())
        );
        let dates = Policy::new(
            &ChoiceSpec::Alphabetical { order: None },
            Some(r"^(?P<date>\d{8}-\d{2}-\d{2}-\d{2})$"),
            Some("${date}"),
        )
        .unwrap();
        assert_eq!(
            latest(
                &dates,
                &[
                    "20240102-10-00-00",
                    "20240315-09-30-00",
                    "20231231-23-59-59",
                    "x"
                ]
            ),
            Selection::Latest("20240315-09-30-00".into())
        );
        let semver_extract = Policy::new(
            &ChoiceSpec::SemVer {
                range: ">=1.0.0".into(),
            },
            Some(r"^app-(?P<v>.*)$"),
            Some("$v"),
        )
        .unwrap();
        assert_eq!(
            latest(&semver_extract, &["app-1.2.0", "app-1.10.0", "other-9.0.0"]),
            Selection::Latest("app-1.10.0".into())
        );
        assert!(matches!(latest(&p, &["latest"]), Selection::NoMatch(_)));
        assert!(Policy::new(&ChoiceSpec::Numerical { order: None }, Some("(["), None).is_err());
    }

    #[test]
    fn exclusions() {
        let ex = compile_exclusions(&[r"^.*\.sig$".to_string()]).unwrap();
        assert_eq!(
            exclude(tags(&["1.0.0", "sha256-abc.sig", "1.1.0"]), &ex),
            tags(&["1.0.0", "1.1.0"])
        );
        assert!(compile_exclusions(&["(".to_string()]).is_err());
    }
}
