//! Where the cache's resident memory goes, per entry, without the HTTP
//! server, the upstream client or the JSON work around it: builds the real
//! [`ResponseCache`] and fills it with N details entries shaped like
//! `bench/run`'s scenario 5 (the real details cache keys, 2,180-byte
//! bodies in exactly-sized allocations), in stages, and prints the growth of
//! VmRSS per entry at each stage:
//!
//! 1. the entries alone (their block of ETag digest, key and body, and
//!    the `Entry`, held in a `Vec`);
//! 2. stored in the cache (moka's nodes, hash table, deques).
//!
//! `cargo run --release --example cache_memory -- [N] [BODY_BYTES]`
//! (defaults 100000 and 2180). Allocations are made one stage at a time,
//! so this is close to live heap plus the allocator's per-chunk headers;
//! the server's own figure (`BENCH_ONLY=memory bench/run`) adds the
//! fragmentation left by the request path's temporaries.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{NaiveDate, Utc};
use service_order_gateway::cache::{Entry, ResponseCache};
use service_order_gateway::config::CacheSettings;
use service_order_gateway::resources::{DetailsRequest, ResourceRequest};
use service_order_gateway::upstream::Endpoint;

fn rss() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn request(i: usize) -> ResourceRequest {
    ResourceRequest::Details(DetailsRequest {
        webentry_id: Some(format!("M{i:010}")),
        n_no: None,
        v_no: None,
        from: NaiveDate::from_ymd_opt(2026, 11, 3).unwrap_or_default(),
        to: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default(),
        default_range: true,
    })
}

fn body(i: usize, len: usize) -> Bytes {
    let seed = format!("{{\"webentryId\":\"M{i:010}\",");
    let v: Vec<u8> = seed.bytes().cycle().take(len).collect();
    Bytes::from(v)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let len: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2180);
    let cache = ResponseCache::new(CacheSettings {
        max_bytes: 2 << 30,
        orders_ttl: Duration::from_secs(300),
        details_ttl: Duration::from_secs(300),
        stale_max_age: Duration::from_secs(10 * 86_400),
        prefetch_lead: Duration::from_secs(600),
    });
    let now = Utc::now();
    let per = |from: i64, to: i64| (to - from) as f64 / n as f64;

    let requests: Vec<ResourceRequest> = (0..n).map(request).collect();
    let r1 = rss();
    let mut entries = Vec::with_capacity(n);
    for (i, req) in requests.iter().enumerate() {
        entries.push(Arc::new(Entry::new(
            Endpoint::Details,
            &req.cache_key(),
            body(i, len),
            now,
            Duration::from_secs(300),
        )));
    }
    let r2 = rss();
    for entry in &entries {
        cache.insert(entry.clone()).await;
    }
    let (count, charged) = cache.usage().await;
    let r3 = rss();
    let key_len = entries.first().map_or(0, |e| e.key().len());
    println!("N = {n}, body {len} B, key {key_len} B");
    println!(
        "entries (digest, key, body, Entry) {:>7.0} B/entry, of which {:.0} B beyond the body",
        per(r1, r2),
        per(r1, r2) - len as f64
    );
    println!(
        "moka store (insert) ............. {:>8.0} B/entry",
        per(r2, r3)
    );
    println!(
        "total beyond the body ........... {:>8.0} B/entry (request structs excluded)",
        per(r1, r3) - len as f64
    );
    println!(
        "cache: {count} entries, {charged} B charged ({:.0} B/entry beyond key and body)",
        (charged as f64 / count.max(1) as f64) - (len + key_len) as f64
    );
    println!("VmRSS {} MiB", rss() >> 20);
    drop(requests);
}
