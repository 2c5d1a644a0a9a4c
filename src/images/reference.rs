//! Image repository names as Flux (go-containerregistry) reads them.
//!
//! Owns: splitting an ImageRepository's `spec.image` into the registry host and the repository
//! path (Docker Hub's implied `index.docker.io` and `library/`), the URL scheme (https, or http
//! for `insecure: true` and loopback registries), and the environment-variable spelling of a
//! host.
//! Must not: do I/O.

use std::fmt;
use std::net::IpAddr;

pub const DOCKER_HUB: &str = "index.docker.io";

/// A registry repository, e.g. `ghcr.io` + `org/app`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageName {
    /// `spec.image` as written; this is what markers write (Flux's `latestRef.name`).
    pub original: String,
    /// `host[:port]` to talk to.
    pub registry: String,
    /// The repository path inside the registry (`library/nginx`).
    pub repository: String,
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)
    }
}

impl ImageName {
    /// Parses `spec.image`: no tag, no digest, lowercase path components.
    pub fn parse(image: &str) -> Result<ImageName, String> {
        let original = image.trim();
        if original.is_empty() {
            return Err("spec.image is empty".to_string());
        }
        if original.contains("://") {
            return Err(format!(
                "spec.image `{original}` must be a repository name such as ghcr.io/org/app, without a scheme"
            ));
        }
        if original.contains('@') {
            return Err(format!(
                "spec.image `{original}` must not contain a digest; the policy chooses the tag"
            ));
        }
        let (first, rest) = match original.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first), rest)
            }
            _ => (None, original),
        };
        if rest.contains(':') {
            return Err(format!(
                "spec.image `{original}` must not contain a tag; the policy chooses the tag"
            ));
        }
        let registry = match first {
            None | Some("docker.io") | Some("registry-1.docker.io") => DOCKER_HUB.to_string(),
            Some(host) => host.to_ascii_lowercase(),
        };
        let mut repository = rest.to_string();
        if registry == DOCKER_HUB && !repository.contains('/') {
            repository = format!("library/{repository}");
        }
        for component in repository.split('/') {
            let valid = !component.is_empty()
                && component.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
                && component
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric());
            if !valid {
                return Err(format!(
                    "spec.image `{original}`: `{component}` is not a valid repository name component (lowercase letters, digits, `.`, `_`, `-`)"
                ));
            }
        }
        Ok(ImageName {
            original: original.to_string(),
            registry,
            repository,
        })
    }

    /// `https`, or `http` for insecure or loopback registries.
    pub fn scheme(&self, insecure: bool) -> &'static str {
        if insecure || is_loopback(&self.registry) {
            "http"
        } else {
            "https"
        }
    }

    /// `scheme://host[:port]/v2/REPO/` + `tail`.
    pub fn api_url(&self, insecure: bool, tail: &str) -> String {
        format!(
            "{}://{}/v2/{}/{tail}",
            self.scheme(insecure),
            self.registry,
            self.repository
        )
    }
}

/// The host without its port (IPv6 brackets kept off).
fn host_only(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    registry.rsplit_once(':').map_or(registry, |(h, _)| h)
}

/// `localhost`, `127.0.0.0/8` and `::1`, with or without a port.
pub fn is_loopback(registry: &str) -> bool {
    let host = host_only(registry);
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `ghcr.io` -> `GHCR_IO`, `127.0.0.1:5000` -> `127_0_0_1_5000`.
pub fn env_key(registry: &str) -> String {
    registry
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> (String, String) {
        let n = ImageName::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        (n.registry, n.repository)
    }

    #[test]
    fn docker_hub_names() {
        assert_eq!(parse("nginx"), (DOCKER_HUB.into(), "library/nginx".into()));
        assert_eq!(
            parse("docker.io/nginx"),
            (DOCKER_HUB.into(), "library/nginx".into())
        );
        assert_eq!(
            parse("bitnami/redis"),
            (DOCKER_HUB.into(), "bitnami/redis".into())
        );
        assert_eq!(
            parse("ghcr.io/org/app"),
            ("ghcr.io".into(), "org/app".into())
        );
        assert_eq!(
            parse("localhost:5000/app"),
            ("localhost:5000".into(), "app".into())
        );
        assert_eq!(parse("localhost/app"), ("localhost".into(), "app".into()));
    }

    #[test]
    fn tags_digests_and_bad_names_are_rejected() {
        assert!(ImageName::parse("nginx:1.25").is_err());
        assert!(ImageName::parse("ghcr.io/org/app:1.0").is_err());
        assert!(ImageName::parse("ghcr.io/org/app@sha256:abc").is_err());
        assert!(ImageName::parse("ghcr.io/Org/app").is_err());
        assert!(ImageName::parse("https://ghcr.io/org/app").is_err());
        assert!(ImageName::parse("").is_err());
    }

    #[test]
    fn schemes_and_env_keys() {
        let local = ImageName::parse("127.0.0.1:5000/team/app").unwrap();
        assert_eq!(local.scheme(false), "http");
        assert_eq!(
            local.api_url(false, "tags/list"),
            "http://127.0.0.1:5000/v2/team/app/tags/list"
        );
        let remote = ImageName::parse("registry.example.com/app").unwrap();
        assert_eq!(remote.scheme(false), "https");
        assert_eq!(remote.scheme(true), "http");
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("10.0.0.1:5000"));
        assert_eq!(env_key("127.0.0.1:5000"), "127_0_0_1_5000");
        assert_eq!(env_key("ghcr.io"), "GHCR_IO");
    }
}
