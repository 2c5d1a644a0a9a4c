//! The generic webhook: the event as JSON, optionally signed.
//!
//! Owns: the JSON shape (a stable contract for receivers, documented in docs/ci.md) and the
//! `X-Signature: sha256=<hex HMAC-SHA256 of the exact body>` header.
//! Must not: send anything (see `webhook`) or keep the signing secret anywhere but the call.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::event::Event;

/// The JSON body for a generic webhook.
pub fn payload(event: &Event) -> Value {
    json!({
        "source": "kubeship",
        "version": env!("CARGO_PKG_VERSION"),
        "kind": event.kind,
        "severity": event.severity(),
        "summary": event.summary_line(),
        "environment": event.environment,
        "cluster": event.cluster,
        "commit": event.commit,
        "pipelineUrl": event.pipeline_url,
        "counts": event.counts,
        "failed": event.failed,
        "unhealthy": event.unhealthy,
        "changes": event.changes,
        "durationMs": event.duration.map(|d| d.as_millis() as u64),
    })
}

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `body`).
pub(crate) fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::super::event::{EventKind, sample};
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn payload_shape() {
        let p = payload(&sample(EventKind::Failed));
        assert_eq!(p["kind"], "failed");
        assert_eq!(p["severity"], "error");
        assert_eq!(p["environment"], "prod");
        assert_eq!(p["counts"]["configured"], 3);
        assert_eq!(p["failed"][0]["object"], "Deployment/web/api");
        assert_eq!(
            p["commit"]["sha"],
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(p["durationMs"], 83_000);
    }
}
