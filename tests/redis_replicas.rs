//! Several replicas, one Redis: three (or four) gateways in this process
//! against one simulator and one `redis-server` started by the test on a
//! free loopback port. A key asked of all replicas at once costs one
//! upstream call; their calls together stay within the one budget; a replica
//! started on a Sunday serves Thursday's details from Redis; killing Redis
//! leaves every replica answering, and they use it again when it returns;
//! what Redis stores is encrypted; a purge reaches every replica.
//!
//! Needs the `redis-server` binary (Debian package `redis-server`); each
//! test says so and passes when it is missing.
mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{TestApp, jst_at, open_hours, spawn_replica};
use service_order_gateway::config::{CacheKeyBytes, Config, RedisSettings, RedisUrl};
use service_order_gateway::simulator::{Fault, Target};

const CS: &str = "service-order-gateway";
const QUERY: &str =
    "webentry_id=UN0000000002&data_update_date_from=2026-11-01&data_update_date_to=2026-11-20";
const ADMIN: &str = "an-admin-token-long-enough";

/// A `redis-server` child process on a loopback port.
struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one on a free port, or `None` when the binary is missing.
    async fn start() -> Option<RedisServer> {
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            // CI installs it (.ci/run): there, a missing binary is a failure, not a skip.
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not installed, and CI must run the replica tests"
            );
            eprintln!("SKIPPED: redis-server is not installed (apt-get install redis-server)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = RedisServer { port, child: None };
        server.restart().await;
        Some(server)
    }

    /// (Re)starts it on its port and waits until it answers.
    async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        for _ in 0..200 {
            if let Ok(mut c) = self.connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
                {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// Kills it (as a crash would).
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        redis::Client::open(self.url())?
            .get_multiplexed_async_connection()
            .await
    }

    /// The Redis keys matching `pattern`.
    async fn keys(&self, pattern: &str) -> Vec<String> {
        let mut c = self.connection().await.unwrap();
        redis::cmd("KEYS")
            .arg(pattern)
            .query_async(&mut c)
            .await
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Points a config at `redis`, with an encryption key and an admin token.
fn use_redis(redis: &RedisServer) -> impl Fn(&mut Config) + Clone + use<> {
    let url = redis.url();
    move |config: &mut Config| {
        config.redis = Some(RedisSettings {
            url: RedisUrl::new(url.clone()),
            cache_key: Some(CacheKeyBytes([42; 32])),
            lease: Duration::from_secs(5),
            prefix: "sog:".into(),
        });
        config.server.admin_token = Some(ADMIN.to_owned().into());
    }
}

/// Three replicas sharing `redis` and one simulator, all at `open_hours()`.
async fn three(redis: &RedisServer, tweak: impl Fn(&mut Config) + Clone) -> Vec<TestApp> {
    let with = use_redis(redis);
    let (w, t) = (with.clone(), tweak.clone());
    let first = common::spawn_app_with(open_hours(), move |c| {
        w(c);
        t(c);
    })
    .await;
    let mut apps = vec![];
    for _ in 0..2 {
        let (w, t) = (with.clone(), tweak.clone());
        apps.push(
            spawn_replica(&first, open_hours(), move |c| {
                w(c);
                t(c);
            })
            .await,
        );
    }
    apps.insert(0, first);
    apps
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_key_asked_of_three_replicas_at_once_costs_one_upstream_call() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let apps = three(&redis, |_| {}).await;
    apps[0].sim.set_latency(Duration::from_millis(300));
    let responses = futures::future::join_all(
        apps.iter()
            .flat_map(|app| (0..3).map(move |_| app.details(QUERY))),
    )
    .await;
    let mut bodies = vec![];
    for r in responses {
        assert_eq!(r.status(), 200);
        bodies.push(r.bytes().await.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(apps[0].sim.count(Target::Details), 1);
    // Every replica now has it in moka: no more Redis or upstream needed.
    for app in &apps {
        let r = app.details(QUERY).await;
        assert!(
            header(&r, "cache-status").contains("; hit;"),
            "{}",
            header(&r, "cache-status")
        );
    }
    assert_eq!(apps[0].sim.count(Target::Details), 1);
    // A replica that never saw the key (empty moka) finds it in Redis.
    let late = spawn_replica(&apps[0], open_hours(), use_redis(&redis)).await;
    let r = late.details(QUERY).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "cache-status"), format!("{CS}; hit; ttl=300"));
    assert_eq!(r.bytes().await.unwrap(), bodies[0]);
    assert_eq!(apps[0].sim.count(Target::Details), 1);
}

#[tokio::test]
async fn a_burst_over_three_replicas_stays_within_the_one_budget() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    // Each replica's own limiter would allow far more: only Redis holds them back.
    let apps = three(&redis, |c| {
        c.upstream.global_rate = "5/s".parse().unwrap();
        c.upstream.global_burst = std::num::NonZeroU32::new(5).unwrap();
        c.upstream.queue_timeout = Duration::from_millis(1500);
    })
    .await;
    assert!(
        apps.iter()
            .all(|a| a.state.gateway.upstream().limiter().is_global())
    );
    let started = std::time::Instant::now();
    let responses = futures::future::join_all((0..30).map(|i| {
        let app = &apps[i % 3];
        async move { app.details(&format!("webentry_id=BURST{i:04}")).await }
    }))
    .await;
    let elapsed = started.elapsed();
    let ok = responses.iter().filter(|r| r.status() == 200).count();
    assert!(
        responses
            .iter()
            .all(|r| matches!(r.status().as_u16(), 200 | 503))
    );
    assert!(ok >= 5, "only {ok} served");
    assert!(ok < 30, "all {ok} served: the budget was not enforced");
    let sim = &apps[0].sim;
    let peak = sim.max_per_second(Target::Any);
    eprintln!(
        "{ok}/30 served in {elapsed:?}; {} upstream calls, at most {peak} in one second",
        sim.count(Target::Any)
    );
    assert!(
        peak <= 5 + 5,
        "{peak} upstream calls (tokens included) within one second"
    );
    // Tokens (3) + calls within burst + rate over the elapsed time.
    let budget = 5 + (5.0 * elapsed.as_secs_f64()).ceil() as usize;
    assert!(
        sim.count(Target::Any) <= budget + 1,
        "{} calls in {elapsed:?}",
        sim.count(Target::Any)
    );
    assert!(sim.received().iter().all(|r| r.status != 429));
}

#[tokio::test]
async fn a_replica_started_on_a_sunday_serves_thursdays_details_from_redis() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let apps = three(&redis, |_| {}).await;
    assert_eq!(apps[1].details(QUERY).await.status(), 200);
    // The default range (no dates): its key changes daily, found via the latest alias.
    assert_eq!(
        apps[2].details("webentry_id=UN0000000001").await.status(),
        200
    );
    let thursday_body = apps[1].details(QUERY).await.bytes().await.unwrap();
    assert_eq!(apps[0].sim.count(Target::Details), 2);

    let sunday = jst_at(2026, 12, 6, 10, 0);
    let fourth = spawn_replica(&apps[0], sunday, use_redis(&redis)).await;
    let r = fourth.details(QUERY).await;
    assert_eq!(r.status(), 200);
    let cs = header(&r, "cache-status");
    assert!(cs.starts_with(&format!("{CS}; hit; ttl=-")), "{cs}");
    assert!(cs.ends_with("; detail=details-closed"), "{cs}");
    assert_eq!(r.bytes().await.unwrap(), thursday_body);
    let r = fourth.details("webentry_id=UN0000000001").await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "cache-status").ends_with("; detail=details-closed"));
    // Never asked the closed upstream.
    assert_eq!(apps[0].sim.count(Target::Details), 2);
    // Something never cached is still a 503 with Retry-After.
    let r = fourth.details("webentry_id=UN0000000009").await;
    assert_eq!(r.status(), 503);
}

#[tokio::test]
async fn replicas_keep_answering_without_redis_and_use_it_again_when_it_returns() {
    let Some(mut redis) = RedisServer::start().await else {
        return;
    };
    let apps = three(&redis, |c| {
        c.upstream.global_rate = "50/s".parse().unwrap();
        c.upstream.global_burst = std::num::NonZeroU32::new(20).unwrap();
    })
    .await;
    for app in &apps {
        assert_eq!(app.orders("uno").await.status(), 200);
    }
    assert_eq!(apps[0].sim.count(Target::Orders), 1);

    redis.kill();
    for (i, app) in apps.iter().enumerate() {
        // From moka...
        let r = app.orders("uno").await;
        assert_eq!(r.status(), 200);
        assert!(header(&r, "cache-status").contains("; hit;"));
        // ...and new keys through the local limiter.
        let r = app.details(&format!("webentry_id=DOWN{i}")).await;
        assert_eq!(r.status(), 200, "{}", header(&r, "cache-status"));
        assert!(!app.state.gateway.upstream().limiter().is_global());
    }
    assert_eq!(apps[0].sim.count(Target::Orders), 1);
    assert_eq!(apps[0].sim.count(Target::Details), 3);

    redis.restart().await;
    // Within a second or two, Redis is used again: a new key is stored there.
    let mut back = false;
    for attempt in 0..60 {
        let r = apps[1].details(&format!("webentry_id=BACK{attempt}")).await;
        assert_eq!(r.status(), 200);
        if !redis
            .keys("sog:entry:service-order-details:*")
            .await
            .is_empty()
        {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "no replica wrote to Redis after it returned");
    // An operation begun while Redis was still down can time out after that
    // write and pause Redis use for a moment (a loaded machine makes that
    // race likely): the limiter goes back to Redis once the pause is over,
    // and new upstream calls then take their budget there.
    let mut global = false;
    for attempt in 0..50 {
        let r = apps[1]
            .details(&format!("webentry_id=GLOBAL{attempt}"))
            .await;
        assert_eq!(r.status(), 200);
        if apps[1].state.gateway.upstream().limiter().is_global()
            && !redis.keys("sog:gcra:*").await.is_empty()
        {
            global = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(global, "the limiter did not go back to Redis");
    // The purge listeners resubscribed: a purge on one replica reaches the others.
    let mut purged = false;
    for _ in 0..50 {
        let r = apps[0]
            .client
            .delete(format!("{}/admin/cache", apps[0].base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
        if apps[2].state.gateway.cache().entries().is_empty() {
            purged = true;
            break;
        }
    }
    assert!(
        purged,
        "replica 2 never received a purge after Redis returned"
    );
}

#[tokio::test]
async fn redis_holds_only_ciphertext() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let apps = three(&redis, |_| {}).await;
    let r = apps[0].details("webentry_id=UN0000000002").await;
    let body = r.text().await.unwrap();
    assert!(body.contains("株式会社サンプル商事") && body.contains("\"items\""));
    let keys = redis.keys("sog:*").await;
    assert!(
        keys.iter()
            .any(|k| k.starts_with("sog:entry:service-order-details:"))
    );
    assert!(keys.iter().all(|k| !k.contains("UN0000000002")), "{keys:?}");
    let mut c = redis.connection().await.unwrap();
    for key in keys
        .iter()
        .filter(|k| k.starts_with("sog:entry:") || k.starts_with("sog:latest:"))
    {
        let raw: Vec<u8> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut c)
            .await
            .unwrap();
        assert_eq!(raw[0], 1, "version byte of an encrypted value");
        let text = String::from_utf8_lossy(&raw);
        for plain in ["items", "株式会社サンプル商事", "UN0000000002", "東京都"] {
            assert!(!text.contains(plain), "{key} holds {plain:?} in clear");
        }
    }
}

#[tokio::test]
async fn a_purge_on_one_replica_purges_redis_and_every_replica() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let apps = three(&redis, |_| {}).await;
    for app in &apps {
        assert_eq!(app.orders("uno").await.status(), 200);
    }
    assert_eq!(apps[0].sim.count(Target::Orders), 1);
    assert!(
        apps.iter()
            .all(|a| !a.state.gateway.cache().entries().is_empty())
    );
    let r = apps[0]
        .client
        .delete(format!("{}/admin/cache", apps[0].base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(redis.keys("sog:entry:*").await.is_empty());
    for app in &apps[1..] {
        app.eventually("the purge reaches the replica", || {
            app.state.gateway.cache().entries().is_empty()
        })
        .await;
    }
    let r = apps[2].orders("uno").await;
    assert!(header(&r, "cache-status").contains("fwd=miss"));
    assert_eq!(apps[0].sim.count(Target::Orders), 2);
}

#[tokio::test]
async fn an_upstream_429_on_one_replica_pauses_them_all() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let apps = three(&redis, |c| {
        c.upstream.queue_timeout = Duration::from_millis(300);
    })
    .await;
    apps[0].sim.fail_next(
        Target::Details,
        1,
        Fault::TooManyRequests {
            retry_after: Some(3),
        },
    );
    let r = apps[0].details("webentry_id=UN0000000001").await;
    assert_eq!(r.status(), 503);
    let calls = apps[0].sim.count(Target::Any);
    // The other replicas learn of the pause through Redis (eventually: it is
    // written in the background) and do not call.
    let mut paused = false;
    let mut before_pause = 0;
    for i in 0..50 {
        let r = apps[1].details(&format!("webentry_id=PAUSE{i}")).await;
        if r.status() == 503 && header(&r, "cache-status").ends_with("detail=rate-limited") {
            paused = true;
            break;
        }
        before_pause += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(paused, "replica 1 was not paused");
    let r = apps[2].details("webentry_id=UN0000000003").await;
    assert_eq!(r.status(), 503);
    assert!(header(&r, "retry-after").parse::<u64>().unwrap() >= 1);
    assert!(
        before_pause <= 1,
        "{before_pause} calls before the pause arrived"
    );
    assert_eq!(apps[0].sim.count(Target::Any), calls + before_pause);
}

#[tokio::test]
async fn the_pre_closing_refresh_is_done_once_for_every_replicas_keys() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let apps = three(&redis, |_| {}).await;
    const ONLY_ON_2: &str =
        "webentry_id=UN0000000001&data_update_date_from=2026-11-01&data_update_date_to=2026-11-20";
    // QUERY is used on every replica; ONLY_ON_2 only on replica 2.
    for app in &apps {
        assert_eq!(app.details(QUERY).await.status(), 200);
    }
    assert_eq!(apps[2].details(ONLY_ON_2).await.status(), 200);
    // Upstream calls for one webentry id (the upstream's parameter names differ).
    let calls = |id: &str| {
        apps[0]
            .sim
            .received()
            .iter()
            .filter(|r| r.target == Target::Details)
            .filter(|r| r.query.as_deref().is_some_and(|q| q.contains(id)))
            .count()
    };
    let (q_all, q_two) = ("UN0000000002", "UN0000000001");
    assert_eq!((calls(q_all), calls(q_two)), (1, 1));

    // Replica 0 reaches the pre-closing time first and takes the day's lease...
    apps[0].clock.set(jst_at(2026, 12, 3, 17, 25));
    for _ in 0..300 {
        if !redis.keys("sog:lease:pre-closing:*").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...the others a minute later: they only record the keys their callers
    // used (a refresh of theirs would not accept replica 0's older answers).
    for app in &apps[1..] {
        app.clock.set(jst_at(2026, 12, 3, 17, 26));
    }
    apps[0]
        .eventually("the pre-closing refresh of both keys", || {
            calls(q_all) >= 2 && calls(q_two) >= 2
        })
        .await;
    // Every replica has had its turn (they look once a second): still once each.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!((calls(q_all), calls(q_two)), (2, 2));
    assert_eq!(
        redis.keys("sog:lease:pre-closing:2026-12-03").await.len(),
        1
    );
    // One replica refreshed, the two others left it to that one (the metrics
    // recorder is shared by every gateway in this process).
    let metrics = apps[0].state.metrics.render();
    for (role, n) in [("refreshed", 1), ("left-to-another-replica", 2)] {
        let line = format!("sog_details_prefetch_runs_total{{role=\"{role}\"}} {n}");
        assert!(metrics.contains(&line), "no {line:?} in\n{metrics}");
    }
}

#[tokio::test]
async fn replicas_share_one_access_token_encrypted() {
    let Some(redis) = RedisServer::start().await else {
        return;
    };
    let apps = three(&redis, |_| {}).await;
    for app in &apps {
        assert!(app.state.gateway.upstream().tokens().has_valid_token());
        assert_eq!(app.orders("uno").await.status(), 200);
    }
    // One token request for the three replicas.
    assert_eq!(apps[0].sim.count(Target::Token), 1);
    let issued = apps[0].sim.issued_tokens();
    assert_eq!(issued.len(), 1);
    let keys = redis.keys("sog:token:*").await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let mut c = redis.connection().await.unwrap();
    let raw: Vec<u8> = redis::cmd("GET")
        .arg(&keys[0])
        .query_async(&mut c)
        .await
        .unwrap();
    let token = issued[0].clone();
    assert!(
        !raw.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is stored in clear"
    );
    // A revoked token: the replica that meets the 401 gets a new one, and the
    // others adopt it instead of fetching their own.
    apps[0].sim.revoke_tokens();
    assert_eq!(apps[1].orders("ucaas").await.status(), 200);
    assert_eq!(apps[0].sim.count(Target::Token), 2);
    for (i, app) in apps.iter().enumerate() {
        let r = app.details(&format!("webentry_id=TOKEN{i}")).await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(apps[0].sim.count(Target::Token), 2);
}
