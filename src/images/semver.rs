//! Semantic-version ranges with the meaning Flux gives them (Masterminds/semver v3).
//!
//! Owns: parsing a range such as `>=1.0.0 <2.0.0`, `^1.2`, `~1.2.3`, `1.x`, `*`, `1.2 - 1.4`
//! or `^1 || ^2` into [`Range`], checking a version against it, and parsing tags the way Flux
//! does (strict SemVer 2.0 with an optional leading `v`). Pre-releases only match a comparator
//! that itself names a pre-release, exactly as in Masterminds.
//! Must not: know about registries, policies or files.

use std::cmp::Ordering;
use std::sync::OnceLock;

use regex::Regex;
use semver::{BuildMetadata, Prerelease, Version};

/// A parsed range: alternatives (`||`) of conjunctions (spaces or commas).
#[derive(Clone, Debug)]
pub struct Range {
    alternatives: Vec<Vec<Comparator>>,
}

#[derive(Clone, Debug)]
struct Comparator {
    op: Op,
    version: Version,
    /// `x`, `*` or a missing part somewhere: `1.x`, `1`, `*`.
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";
const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";

struct Patterns {
    one: Regex,
    hyphen: Regex,
    find: Regex,
    valid: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        // Fixed patterns, not input: they compile (the `patterns_compile` test proves it).
        let build = |p: String| Regex::new(&p).expect("fixed semver pattern");
        Patterns {
            one: build(format!(r"^\s*({OPS})\s*({CV})\s*$")),
            hyphen: build(format!(r"\s*({CV})\s+-\s+({CV})\s*")),
            find: build(format!(r"({OPS})\s*({CV})")),
            valid: build(format!(
                r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$"
            )),
        }
    })
}

/// Parses a tag the way Flux does: strict SemVer 2.0, optionally prefixed with `v`.
pub fn parse_tag(tag: &str) -> Option<Version> {
    Version::parse(tag.strip_prefix('v').unwrap_or(tag)).ok()
}

impl Range {
    /// Parses a range; the error says what is wrong in words a user can act on.
    pub fn parse(text: &str) -> Result<Range, String> {
        let p = patterns();
        let rewritten = rewrite_hyphen_ranges(text, &p.hyphen);
        let mut alternatives = Vec::new();
        for alt in rewritten.split("||") {
            if !p.valid.is_match(alt) {
                return Err(format!(
                    "`{}` is not a semver range (examples: `>=1.0.0 <2.0.0`, `^1.2`, `~1.2.3`, `1.x`, `*`)",
                    alt.trim()
                ));
            }
            let mut all = Vec::new();
            for m in p.find.find_iter(alt) {
                all.push(parse_comparator(m.as_str(), &p.one)?);
            }
            if all.is_empty() {
                return Err(format!("`{}` is not a semver range", alt.trim()));
            }
            alternatives.push(all);
        }
        Ok(Range { alternatives })
    }

    /// Whether `v` satisfies the range.
    pub fn matches(&self, v: &Version) -> bool {
        self.alternatives
            .iter()
            .any(|all| all.iter().all(|c| c.matches(v)))
    }
}

fn rewrite_hyphen_ranges(text: &str, hyphen: &Regex) -> String {
    let mut out = text.to_string();
    // Group 1 is the first version, group 11 the second (10 groups per version pattern).
    for caps in hyphen.captures_iter(text) {
        let (Some(all), Some(a), Some(b)) = (caps.get(0), caps.get(1), caps.get(11)) else {
            continue;
        };
        let replacement = format!(">= {}, <= {}", a.as_str(), b.as_str());
        out = out.replacen(all.as_str(), &replacement, 1);
    }
    out
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn parse_comparator(text: &str, one: &Regex) -> Result<Comparator, String> {
    let caps = one
        .captures(text)
        .ok_or_else(|| format!("`{}` is not a semver comparator", text.trim()))?;
    let group = |i: usize| caps.get(i).map_or("", |m| m.as_str());
    let op = match group(1) {
        "" | "=" => Op::TildeOrEqual,
        "!=" => Op::NotEqual,
        ">" => Op::Greater,
        "<" => Op::Less,
        ">=" | "=>" => Op::GreaterEqual,
        "<=" | "=<" => Op::LessEqual,
        "~" | "~>" => Op::Tilde,
        "^" => Op::Caret,
        other => return Err(format!("unknown semver operator `{other}`")),
    };
    let (major, minor, patch) = (
        group(3),
        group(4).trim_start_matches('.'),
        group(5).trim_start_matches('.'),
    );
    let pre = group(7);
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let bad = || format!("`{}` is not a semver comparator", text.trim());
    let number = |s: &str| s.parse::<u64>().map_err(|_| bad());
    let (maj, min, pat) = if is_x(major) {
        dirty = true;
        (0, 0, 0)
    } else if is_x(minor) || minor.is_empty() {
        dirty = true;
        minor_dirty = true;
        (number(major)?, 0, 0)
    } else if is_x(patch) || patch.is_empty() {
        dirty = true;
        patch_dirty = true;
        (number(major)?, number(minor)?, 0)
    } else {
        (number(major)?, number(minor)?, number(patch)?)
    };
    let mut version = Version::new(maj, min, pat);
    if !pre.is_empty() {
        version.pre = Prerelease::new(pre).map_err(|e| format!("{}: {e}", bad()))?;
    }
    version.build = BuildMetadata::EMPTY;
    Ok(Comparator {
        op,
        version,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

fn cmp(a: &Version, b: &Version) -> Ordering {
    a.cmp_precedence(b)
}

impl Comparator {
    fn matches(&self, v: &Version) -> bool {
        let c = &self.version;
        // A pre-release only matches a comparator that names a pre-release (Masterminds #21).
        if !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        match self.op {
            Op::NotEqual => self.not_equal(v),
            Op::Greater => {
                if !self.dirty {
                    return cmp(v, c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                cmp(v, c) == Ordering::Greater
            }
            Op::Less => cmp(v, c) == Ordering::Less,
            Op::GreaterEqual => cmp(v, c) != Ordering::Less,
            Op::LessEqual => {
                if !self.dirty {
                    return cmp(v, c) != Ordering::Greater;
                }
                if v.major > c.major {
                    return false;
                }
                !(v.major == c.major && v.minor > c.minor && !self.minor_dirty)
            }
            Op::Tilde => self.tilde(v),
            Op::TildeOrEqual => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    cmp(v, c) == Ordering::Equal
                }
            }
            Op::Caret => self.caret(v),
        }
    }

    fn not_equal(&self, v: &Version) -> bool {
        let c = &self.version;
        if self.dirty {
            if c.major != v.major {
                return true;
            }
            if c.minor != v.minor && !self.minor_dirty {
                return true;
            } else if self.minor_dirty {
                return false;
            } else if c.patch != v.patch && !self.patch_dirty {
                return true;
            } else if self.patch_dirty {
                if !v.pre.is_empty() || !c.pre.is_empty() {
                    return v.pre != c.pre;
                }
                return false;
            }
        }
        cmp(v, c) != Ordering::Equal
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.version;
        if cmp(v, c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.version;
        if cmp(v, c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        v.patch == c.patch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(range: &str, version: &str) -> bool {
        let r = Range::parse(range).unwrap_or_else(|e| panic!("{range}: {e}"));
        let v = parse_tag(version).unwrap_or_else(|| panic!("{version} is not semver"));
        r.matches(&v)
    }

    #[test]
    fn patterns_compile() {
        let p = patterns();
        assert!(p.one.is_match(">=1.2.3"));
        assert!(p.valid.is_match(">=1.0.0 <2.0.0"));
        assert!(p.hyphen.is_match("1.2 - 1.4"));
    }

    #[test]
    fn comparisons() {
        assert!(ok(">=1.0.0 <2.0.0", "1.9.9"));
        assert!(!ok(">=1.0.0 <2.0.0", "2.0.0"));
        assert!(!ok(">=1.0.0 <2.0.0", "0.9.0"));
        assert!(ok(">=1.0.0, <2.0.0", "1.0.0"));
        assert!(ok(">1.0", "1.1.0"));
        assert!(!ok(">1.0", "1.0.5"));
        assert!(!ok(">1", "1.5.0"));
        assert!(ok(">1", "2.0.0"));
        assert!(ok("<=1.2", "1.2.9"));
        assert!(!ok("<=1.2", "1.3.0"));
        assert!(ok("!=1.2.3", "1.2.4"));
        assert!(!ok("!=1.2.3", "1.2.3"));
        assert!(!ok("!=1.2.x", "1.2.7"));
        assert!(ok("=1.2.3", "v1.2.3"));
        assert!(ok("1.2.3", "1.2.3+build.5"));
    }

    #[test]
    fn tilde_caret_and_wildcards() {
        assert!(ok("~1.2.3", "1.2.9"));
        assert!(!ok("~1.2.3", "1.3.0"));
        assert!(ok("~1", "1.9.0"));
        assert!(ok("^1.2", "1.9.0"));
        assert!(!ok("^1.2", "2.0.0"));
        assert!(!ok("^1.2", "1.1.9"));
        assert!(ok("^0.2.3", "0.2.9"));
        assert!(!ok("^0.2.3", "0.3.0"));
        assert!(ok("^0.0.3", "0.0.3"));
        assert!(!ok("^0.0.3", "0.0.4"));
        assert!(ok("1.x", "1.7.2"));
        assert!(!ok("1.x", "2.0.0"));
        assert!(ok("1.2.x", "1.2.5"));
        assert!(!ok("1.2.x", "1.3.0"));
        assert!(ok("*", "9.9.9"));
        assert!(ok("x", "0.0.1"));
        assert!(ok("1.2 - 1.4", "1.4.8"));
        assert!(!ok("1.2 - 1.4", "1.5.0"));
        assert!(ok("^1 || ^3", "3.1.0"));
        assert!(!ok("^1 || ^3", "2.1.0"));
    }

    #[test]
    fn prereleases_only_when_the_range_names_one() {
        assert!(!ok("*", "1.0.0-rc.1"));
        assert!(!ok(">=1.0.0", "1.1.0-beta"));
        assert!(ok(">=1.0.0-0", "1.1.0-beta"));
        assert!(ok(">=1.0.0-alpha", "1.0.0-beta"));
        assert!(!ok(">=1.0.0-beta", "1.0.0-alpha"));
        assert!(ok("~1.2.3-0", "1.2.4-rc.1"));
    }

    #[test]
    fn tags_are_strict_semver_with_optional_v() {
        assert!(parse_tag("1.2.3").is_some());
        assert!(parse_tag("v1.2.3-rc.1+b7").is_some());
        assert!(parse_tag("1.2").is_none());
        assert!(parse_tag("01.2.3").is_none());
        assert!(parse_tag("latest").is_none());
        assert!(parse_tag("V1.2.3").is_none());
    }

    #[test]
    fn bad_ranges_are_errors() {
        for bad in ["", "latest", ">= 1.0 <", "1.2.3.4", "~>"] {
            assert!(Range::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
