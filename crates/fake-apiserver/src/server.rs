//! The HTTP layer: accepting connections (hyper HTTP/1.1, so a fault can close a socket without
//! answering), latency and fault injection, the request log, URL routing (discovery, OpenAPI,
//! resource paths with namespaces and subresources), query parameters, content negotiation
//! (JSON, Table, aggregated discovery), watch streams, and the controllers' tick loop.
//! Translates between HTTP and `engine`; holds the world lock only for synchronous work.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::engine::{self, DeleteOpts, FieldValidation, ListOpts, Target, WriteOpts};
use crate::faults::{FaultAction, Faults, RequestRecord, query_pairs};
use crate::selector::{FieldSelector, Selector};
use crate::status::ApiError;
use crate::world::World;
use crate::{controllers, discovery, table};

/// Shared server state.
pub(crate) struct App {
    pub world: Mutex<World>,
    pub faults: Mutex<Faults>,
    pub log: Mutex<Vec<RequestRecord>>,
    pub addr: SocketAddr,
}

/// Lock a mutex, recovering from poisoning (a panicking test closure must not wedge the server).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl App {
    pub fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }
}

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn record_of(method: &Method, uri: &axum::http::Uri, headers: &HeaderMap) -> RequestRecord {
    let query = uri.query().map(str::to_string);
    let pairs = query_pairs(query.as_deref().unwrap_or(""));
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    RequestRecord {
        method: method.to_string(),
        path: uri.path().to_string(),
        dry_run: pairs.iter().any(|(k, v)| k == "dryRun" && v == "All"),
        field_manager: get("fieldManager"),
        force: get("force").as_deref() == Some("true"),
        field_validation: get("fieldValidation"),
        query,
        content_type: header_str(headers, header::CONTENT_TYPE),
        accept: header_str(headers, header::ACCEPT),
        user_agent: header_str(headers, header::USER_AGENT),
        authorization: headers.contains_key(header::AUTHORIZATION),
        status: None,
        time: SystemTime::now(),
    }
}

fn json_response(code: u16, body: &Value, content_type: &str) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

fn error_response(e: &ApiError) -> Response {
    let mut resp = json_response(e.code, &e.to_status(), "application/json");
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Serve connections until `shutdown` flips.
pub(crate) async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = Router::new().fallback(handle).with_state(app.clone());
    let ticker = tokio::spawn(tick_controllers(app.clone(), shutdown.clone()));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let router = router.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let app = app.clone();
                    let router = router.clone();
                    async move { serve_one(app, router, req).await }
                });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
            }
        });
    }
    ticker.abort();
}

async fn serve_one(
    app: Arc<App>,
    router: Router,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<Response, Dropped> {
    let mut rec = record_of(req.method(), req.uri(), req.headers());
    let latency = lock(&app.faults).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = lock(&app.faults).take(&rec.method, &rec.path, rec.query.as_deref().unwrap_or(""));
    let resp = match fault {
        Some(FaultAction::Drop) => {
            push_log(&app, rec);
            return Err(Dropped);
        }
        Some(FaultAction::Fail(code)) => {
            let retry = lock(&app.faults).retry_after;
            let err = match code {
                429 => ApiError::too_many_requests(retry),
                503 => {
                    let mut e = ApiError::new(
                        503,
                        "ServiceUnavailable",
                        "the server is currently unable to handle the request",
                    );
                    e.retry_after = Some(retry);
                    e
                }
                500 => ApiError::internal("injected failure"),
                c => ApiError::new(
                    c,
                    "InternalError",
                    format!("injected failure with status {c}"),
                ),
            };
            error_response(&err)
        }
        None => match router.oneshot(req.map(Body::new)).await {
            Ok(r) => r,
            Err(never) => match never {},
        },
    };
    rec.status = Some(resp.status().as_u16());
    push_log(&app, rec);
    Ok(resp)
}

/// Most records the log keeps; the oldest half is dropped beyond it (long benchmark runs).
const LOG_CAP: usize = 200_000;

fn push_log(app: &App, rec: RequestRecord) {
    let mut log = lock(&app.log);
    if log.len() >= LOG_CAP {
        log.drain(..LOG_CAP / 2);
    }
    log.push(rec);
}

async fn tick_controllers(app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
            _ = shutdown.changed() => return,
        }
        let mut w = app.world();
        controllers::run_due(&mut w, Instant::now());
    }
}

/// Parsed query parameters.
struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    fn get(&self, k: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
    fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1"))
    }
}

fn write_opts(q: &Query, headers: &HeaderMap) -> Result<WriteOpts, ApiError> {
    let validation = match q.get("fieldValidation") {
        None | Some("") | Some("Warn") => FieldValidation::Warn,
        Some("Strict") => FieldValidation::Strict,
        Some("Ignore") => FieldValidation::Ignore,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Warn\", \"Strict\""
            )));
        }
    };
    let dry_run = match q.get("dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "dryRun: Unsupported value: {other:?}: supported values: \"All\""
            )));
        }
    };
    let ua = header_str(headers, header::USER_AGENT).unwrap_or_default();
    let default_manager = ua
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .to_string();
    Ok(WriteOpts {
        dry_run,
        field_manager: q.get("fieldManager").map(str::to_string),
        default_manager,
        force: q.flag("force"),
        validation,
    })
}

fn wants_table(headers: &HeaderMap) -> bool {
    header_str(headers, header::ACCEPT).is_some_and(|a| a.contains("as=Table"))
}

fn wants_aggregated(headers: &HeaderMap) -> bool {
    header_str(headers, header::ACCEPT).is_some_and(|a| a.contains("as=APIGroupDiscoveryList"))
}

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(&ApiError::bad_request(
                "request body too large or unreadable",
            ));
        }
    };
    let q = Query {
        pairs: query_pairs(parts.uri.query().unwrap_or("")),
    };
    let path = parts.uri.path().to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let method = parts.method.clone();
    let headers = parts.headers;

    if method == Method::GET
        && let Some(resp) = discovery_route(&app, &segs, &headers)
    {
        return resp;
    }
    let target = match segs.as_slice() {
        ["api", "v1", rest @ ..] if !rest.is_empty() => resolve(&app, "", "v1", rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => resolve(&app, g, v, rest),
        _ => Err(ApiError::unknown_resource()),
    };
    let target = match target {
        Ok(t) => t,
        Err(e) => return error_response(&e),
    };
    if method == Method::GET && target.name.is_none() && q.flag("watch") {
        return watch_response(&app, &target, &q);
    }
    match resource_request(&app, &method, &target, &q, &headers, &body) {
        Ok(resp) => resp,
        Err(e) => error_response(&e),
    }
}

fn discovery_route(app: &App, segs: &[&str], headers: &HeaderMap) -> Option<Response> {
    let ok = |v: Value| Some(json_response(200, &v, "application/json"));
    let w = || app.world();
    match segs {
        ["version"] => ok(discovery::version()),
        ["healthz" | "livez" | "readyz"] => {
            let mut r = Response::new(Body::from("ok"));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            Some(r)
        }
        ["api"] if wants_aggregated(headers) => Some(json_response(
            200,
            &discovery::aggregated(&w().registry, true),
            discovery::AGGREGATED_V2,
        )),
        ["api"] => ok(discovery::api_versions(&app.addr.to_string())),
        ["apis"] if wants_aggregated(headers) => Some(json_response(
            200,
            &discovery::aggregated(&w().registry, false),
            discovery::AGGREGATED_V2,
        )),
        ["apis"] => ok(discovery::api_group_list(&w().registry)),
        ["apis", g] => Some(match discovery::api_group(&w().registry, g) {
            Some(v) => json_response(200, &v, "application/json"),
            None => error_response(&ApiError::unknown_resource()),
        }),
        ["api", "v1"] => ok(discovery::resource_list(&w().registry, "", "v1").unwrap_or(json!({}))),
        ["apis", g, v] => Some(match discovery::resource_list(&w().registry, g, v) {
            Some(v) => json_response(200, &v, "application/json"),
            None => error_response(&ApiError::unknown_resource()),
        }),
        ["openapi", "v3"] => ok(discovery::openapi_index(&w().registry)),
        ["openapi", "v3", "api", v] => Some(match discovery::openapi_doc(&w().registry, "", v) {
            Some(d) => json_response(200, &d, "application/json"),
            None => error_response(&ApiError::unknown_resource()),
        }),
        ["openapi", "v3", "apis", g, v] => {
            Some(match discovery::openapi_doc(&w().registry, g, v) {
                Some(d) => json_response(200, &d, "application/json"),
                None => error_response(&ApiError::unknown_resource()),
            })
        }
        ["openapi", "v2"] => {
            // An empty document: kubectl's client-side schema validation (used for kinds whose
            // OpenAPI v3 document does not exist yet, e.g. a CR next to its CRD) then skips
            // unknown kinds, as it does against a real server.
            let accept = header_str(headers, header::ACCEPT).unwrap_or_default();
            if accept.contains("protobuf") {
                let mut r = Response::new(Body::empty());
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(
                        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
                    ),
                );
                Some(r)
            } else {
                ok(
                    json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.32.0-fake"}, "paths": {}, "definitions": {}}),
                )
            }
        }
        ["openapi", ..] => Some(error_response(&ApiError::unknown_resource())),
        _ => None,
    }
}

/// Resolve `rest` (the part after `/api/v1` or `/apis/G/V`) to a target.
fn resolve(app: &App, group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let (ns, plural, name, sub): (Option<&str>, &str, Option<&str>, Option<&str>) = match rest {
        ["namespaces", ns, "status" | "finalize"] if group.is_empty() => {
            (None, "namespaces", Some(ns), rest.get(2).copied())
        }
        ["namespaces", ns, plural] => (Some(ns), plural, None, None),
        ["namespaces", ns, plural, name] => (Some(ns), plural, Some(name), None),
        ["namespaces", ns, plural, name, sub] => (Some(ns), plural, Some(name), Some(sub)),
        [plural] => (None, plural, None, None),
        [plural, name] => (None, plural, Some(name), None),
        [plural, name, sub] => (None, plural, Some(name), Some(sub)),
        _ => return Err(ApiError::unknown_resource()),
    };
    let t = app
        .world()
        .registry
        .resolve(group, version, plural)
        .ok_or_else(ApiError::unknown_resource)?;
    if ns.is_some() && !t.namespaced {
        return Err(ApiError::unknown_resource());
    }
    if ns.is_none() && t.namespaced && name.is_some() {
        return Err(ApiError::unknown_resource());
    }
    if let Some(s) = sub
        && !((s == "status" && t.has_status) || (s == "scale" && t.scale.is_some()))
    {
        return Err(ApiError::unknown_resource());
    }
    Ok(Target {
        t,
        version: version.to_string(),
        ns: ns.map(str::to_string),
        name: name.map(str::to_string),
        sub: sub.map(str::to_string),
    })
}

fn list_opts(q: &Query) -> Result<ListOpts, ApiError> {
    let limit = match q.get("limit") {
        None | Some("") => None,
        Some(l) => Some(
            l.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("limit: Invalid value: {l:?}")))?,
        ),
    };
    Ok(ListOpts {
        label_selector: q.get("labelSelector").map(str::to_string),
        field_selector: q.get("fieldSelector").map(str::to_string),
        limit,
        continue_token: q
            .get("continue")
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    })
}

fn outcome_response(out: engine::Outcome) -> Response {
    let mut resp = json_response(out.code, &out.body, "application/json");
    for w in out.warnings {
        if let Ok(v) = HeaderValue::from_str(&format!("299 - {}", Value::String(w))) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

fn resource_request(
    app: &App,
    method: &Method,
    target: &Target,
    q: &Query,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let ct = header_str(headers, header::CONTENT_TYPE).unwrap_or_default();
    let ct_base = ct.split(';').next().unwrap_or("").trim().to_string();
    let is_pb = ct_base == "application/vnd.kubernetes.protobuf";
    let decode_body = |body: &Bytes| -> Result<Value, ApiError> {
        if is_pb {
            crate::protobuf::decode(body).map_err(|m| ApiError::new(415, "UnsupportedMediaType", m))
        } else {
            engine::parse_body(body)
        }
    };
    if (ct_base.contains("protobuf") && !(is_pb && matches!(*method, Method::POST | Method::PUT)))
        || ct_base.contains("cbor")
    {
        // No general protobuf/CBOR codec.
        return Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {ct_base:?})"
            ),
        ));
    }
    if target.sub.as_deref() == Some("scale") {
        return match *method {
            Method::GET => Ok(json_response(
                200,
                &engine::scale_get(&app.world(), target)?,
                "application/json",
            )),
            Method::PUT => {
                let body = engine::parse_body(body)?;
                let opts = write_opts(q, headers)?;
                Ok(outcome_response(engine::scale_write(
                    &mut app.world(),
                    target,
                    engine::ScaleChange::Replace(body),
                    &opts,
                )?))
            }
            Method::PATCH => {
                let opts = write_opts(q, headers)?;
                let change = engine::ScaleChange::Patch(ct_base.clone(), body.to_vec());
                Ok(outcome_response(engine::scale_write(
                    &mut app.world(),
                    target,
                    change,
                    &opts,
                )?))
            }
            _ => Err(ApiError::method_not_allowed()),
        };
    }
    match (method.clone(), target.name.is_some()) {
        (Method::GET, true) => {
            let obj = engine::get(&app.world(), target)?;
            if wants_table(headers) {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let t = table::table(
                    &target.t,
                    &target.version,
                    &[obj],
                    &rv,
                    q.get("includeObject") == Some("Object"),
                );
                return Ok(json_response(200, &t, "application/json"));
            }
            Ok(json_response(200, &obj, "application/json"))
        }
        (Method::GET, false) => {
            let list = engine::list(&app.world(), target, &list_opts(q)?)?;
            if wants_table(headers) {
                let items = list
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let rv = list
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let mut t = table::table(
                    &target.t,
                    &target.version,
                    &items,
                    &rv,
                    q.get("includeObject") == Some("Object"),
                );
                if let (Some(c), Some(m)) = (
                    list.pointer("/metadata/continue"),
                    t.get_mut("metadata").and_then(Value::as_object_mut),
                ) {
                    m.insert("continue".into(), c.clone());
                }
                return Ok(json_response(200, &t, "application/json"));
            }
            Ok(json_response(200, &list, "application/json"))
        }
        (Method::POST, false) => {
            let obj = decode_body(body)?;
            let opts = write_opts(q, headers)?;
            Ok(outcome_response(engine::create(
                &mut app.world(),
                target,
                obj,
                &opts,
            )?))
        }
        (Method::PUT, true) => {
            let obj = decode_body(body)?;
            let opts = write_opts(q, headers)?;
            Ok(outcome_response(engine::update(
                &mut app.world(),
                target,
                obj,
                &opts,
            )?))
        }
        (Method::PATCH, true) => {
            let opts = write_opts(q, headers)?;
            let out = if ct_base == "application/apply-patch+yaml"
                || ct_base == "application/apply-patch+json"
            {
                engine::apply(&mut app.world(), target, body, &opts)?
            } else {
                engine::patch(&mut app.world(), target, &ct_base, body, &opts)?
            };
            Ok(outcome_response(out))
        }
        (Method::DELETE, named) => {
            let mut opts = DeleteOpts {
                dry_run: q.get("dryRun") == Some("All"),
                propagation: q.get("propagationPolicy").map(str::to_string),
                ..DeleteOpts::default()
            };
            if !body.is_empty()
                && let Ok(b) = serde_json::from_slice::<Value>(body)
            {
                opts.merge_body(&b);
            }
            let out = if named {
                engine::delete(&mut app.world(), target, &opts)?
            } else {
                engine::delete_collection(&mut app.world(), target, &list_opts(q)?, &opts)?
            };
            Ok(outcome_response(out))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// A watch stream: newline-delimited `{"type": ..., "object": ...}` events.
fn watch_response(app: &App, target: &Target, q: &Query) -> Response {
    let sel = match Selector::parse(q.get("labelSelector").unwrap_or("")) {
        Ok(s) => s,
        Err(e) => return error_response(&ApiError::bad_request(e)),
    };
    let fsel = match FieldSelector::parse(q.get("fieldSelector").unwrap_or("")) {
        Ok(s) => s,
        Err(e) => return error_response(&ApiError::bad_request(e)),
    };
    let key = target.t.key();
    let ns = if target.t.namespaced {
        target.ns.clone()
    } else {
        None
    };
    let api_version = target.t.api_version(&target.version);
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(1800)
        .min(3600);
    let from_rv: Option<u64> = q
        .get("resourceVersion")
        .and_then(|s| s.parse().ok())
        .filter(|rv| *rv > 0);
    let matches = {
        let key = key.clone();
        let ns = ns.clone();
        move |ev_key: &str, ev_ns: &str, obj: &Value| {
            ev_key == key
                && ns.as_deref().is_none_or(|n| n == ev_ns)
                && sel.matches(obj)
                && fsel.matches(obj)
        }
    };
    let mut initial: Vec<Value> = Vec::new();
    let rx = {
        let w = app.world();
        match from_rv {
            None => {
                for o in w.list(&key, ns.as_deref()) {
                    if matches(
                        &key,
                        o.pointer("/metadata/namespace")
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                        o,
                    ) {
                        initial.push(json!({"type": "ADDED", "object": o}));
                    }
                }
            }
            Some(rv) => {
                if rv < w.rv && w.history.front().is_some_and(|e| e.rv > rv + 1) {
                    let e = ApiError::new(
                        410,
                        "Expired",
                        format!("too old resource version: {rv} ({})", w.rv),
                    );
                    return error_response(&e);
                }
                for ev in w.history.iter().filter(|e| e.rv > rv) {
                    if matches(&ev.type_key, &ev.namespace, &ev.object) {
                        initial.push(json!({"type": ev.event_type, "object": ev.object}));
                    }
                }
            }
        }
        w.events.subscribe()
    };
    let fix_version = move |mut v: Value| {
        if let Some(o) = v.get_mut("object").and_then(Value::as_object_mut) {
            o.insert("apiVersion".into(), json!(api_version));
        }
        v
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let initial: std::collections::VecDeque<Value> =
        initial.into_iter().map(&fix_version).collect();
    let stream = futures_util::stream::unfold((initial, rx), move |(mut pending, mut rx)| {
        let matches = matches.clone();
        let fix_version = fix_version.clone();
        async move {
            if let Some(ev) = pending.pop_front() {
                let mut line = serde_json::to_vec(&ev).unwrap_or_default();
                line.push(b'\n');
                return Some((Ok::<Bytes, Infallible>(Bytes::from(line)), (pending, rx)));
            }
            loop {
                let ev = tokio::select! {
                    r = rx.recv() => r,
                    _ = tokio::time::sleep_until(deadline) => return None,
                };
                match ev {
                    Ok(ev) if matches(&ev.type_key, &ev.namespace, &ev.object) => {
                        let v = fix_version(json!({"type": ev.event_type, "object": ev.object}));
                        let mut line = serde_json::to_vec(&v).unwrap_or_default();
                        line.push(b'\n');
                        return Some((Ok(Bytes::from(line)), (pending, rx)));
                    }
                    Ok(_) => continue,
                    // A watcher that fell behind is closed; clients re-watch from their last version.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return None,
                    Err(_) => return None,
                }
            }
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
