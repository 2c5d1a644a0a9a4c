//! Load: 1,000 objects applied by 16 concurrent clients, then listed and re-applied (no-op).
//! Bounded in count and time; talks only to 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn thousand_objects_sixteen_clients() {
    let h = fast_server();
    let h = std::sync::Arc::new(h);
    let per_client = 63; // 16 * 63 = 1008 objects
    let start = Instant::now();
    let run = |pass: u32| {
        let mut threads = Vec::new();
        for c in 0..16 {
            let h = h.clone();
            threads.push(std::thread::spawn(move || {
                for i in 0..per_client {
                    let name = format!("app-{c}-{i}");
                    let path = format!("{DEPLOY}/{name}");
                    let r = apply(
                        &h,
                        &path,
                        &deployment_yaml(&name, 2, "nginx:1.25"),
                        "kubeship",
                        "&dryRun=All",
                    );
                    assert!(r.status == 200 || r.status == 201, "{}", r.text());
                    let r = apply(
                        &h,
                        &path,
                        &deployment_yaml(&name, 2, "nginx:1.25"),
                        "kubeship",
                        "",
                    );
                    assert_eq!(r.status, if pass == 0 { 201 } else { 200 }, "{}", r.text());
                }
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
    };
    run(0);
    let first = start.elapsed();
    let rv_after_first = h.resource_version();
    let list = get(&h, "/apis/apps/v1/deployments?labelSelector=app%3Dapp-3-7").json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let all = get(&h, DEPLOY).json();
    assert_eq!(all["items"].as_array().unwrap().len(), 16 * per_client);
    // Let controllers settle, then a second pass must be all no-ops.
    std::thread::sleep(Duration::from_millis(300));
    let settled = h.resource_version();
    let t2 = Instant::now();
    run(1);
    assert_eq!(
        h.resource_version(),
        settled,
        "no-op re-apply of 1,000 objects bumped resourceVersion"
    );
    eprintln!(
        "first pass {first:?} (rv {rv_after_first}), no-op pass {:?}",
        t2.elapsed()
    );
    assert!(first < Duration::from_secs(60));
}
