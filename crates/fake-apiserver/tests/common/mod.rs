//! Test helpers: a tiny blocking HTTP/1.1 client over `std::net::TcpStream` (one request per
//! connection) and shortcuts for the requests the tests repeat.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use fake_apiserver::{Config, FakeApiServer, Handle};
use serde_json::Value;

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = b.windows(2).position(|w| w == b"\r\n") {
        let size_str = String::from_utf8_lossy(&b[..pos]);
        let size = usize::from_str_radix(size_str.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        b = &b[pos + 2..];
        if size == 0 || b.len() < size {
            break;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[(size + 2).min(b.len())..];
    }
    out
}

/// Send one request; `Err` when the connection is closed without a response.
pub fn try_request(
    h: &Handle,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Option<&[u8]>,
    headers: &[(&str, &str)],
) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(h.addr())?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: fake-test/v0\r\n",
        h.addr()
    );
    if let Some(ct) = content_type {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or(b"");
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed without a response",
        ));
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(Resp {
        status,
        headers,
        body,
    })
}

pub fn request(
    h: &Handle,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Option<&[u8]>,
) -> Resp {
    try_request(h, method, path, content_type, body, &[])
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

pub fn get(h: &Handle, path: &str) -> Resp {
    request(h, "GET", path, None, None)
}

pub fn post(h: &Handle, path: &str, body: &Value) -> Resp {
    request(
        h,
        "POST",
        path,
        Some("application/json"),
        Some(body.to_string().as_bytes()),
    )
}

pub fn put(h: &Handle, path: &str, body: &Value) -> Resp {
    request(
        h,
        "PUT",
        path,
        Some("application/json"),
        Some(body.to_string().as_bytes()),
    )
}

pub fn delete(h: &Handle, path: &str) -> Resp {
    request(h, "DELETE", path, None, None)
}

pub fn merge_patch(h: &Handle, path: &str, body: &Value) -> Resp {
    request(
        h,
        "PATCH",
        path,
        Some("application/merge-patch+json"),
        Some(body.to_string().as_bytes()),
    )
}

/// Server-side apply of a YAML (or JSON) document. `query` is appended (e.g. `&force=true`).
pub fn apply(h: &Handle, path: &str, doc: &str, manager: &str, query: &str) -> Resp {
    let sep = if path.contains('?') { '&' } else { '?' };
    let url = format!("{path}{sep}fieldManager={manager}{query}");
    request(
        h,
        "PATCH",
        &url,
        Some("application/apply-patch+yaml"),
        Some(doc.as_bytes()),
    )
}

/// A server with no artificial delays (controllers act on their next tick).
pub fn fast_server() -> Handle {
    FakeApiServer::start(Config {
        workload_delay: Duration::ZERO,
        crd_establish_delay: Duration::ZERO,
        namespace_delete_delay: Duration::ZERO,
        ..Config::default()
    })
    .expect("server starts")
}

pub fn server_with(config: Config) -> Handle {
    FakeApiServer::start(config).expect("server starts")
}

/// Poll until `f` returns Some, or panic after `secs`.
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn rv(v: &Value) -> String {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

pub const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments";

pub fn deployment_yaml(name: &str, replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: app\n        image: {image}\n        ports:\n        - containerPort: 80\n"
    )
}
