//! Configuration: every setting is a command-line flag and a `SOG_*`
//! environment variable, defined once with `clap` and validated at start-up
//! into real types ([`Config`] and its per-subsystem parts).
//!
//! A bad value stops start-up with a message that names both the flag and the
//! environment variable. Secrets (`--client-secret`, `--admin-token`) are
//! `SecretString`s from the moment they are parsed and are never printed.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use secrecy::SecretString;
use url::Url;

use crate::calendar::{DetailsDays, OpeningHours};

/// The command line and environment, as `clap` sees them.
#[derive(Debug, Parser)]
#[command(
    name = "service-order-gateway",
    version,
    about = "A caching, rate-limiting gateway in front of NTT Com's Service Order API",
    long_about = "Republishes NTT Com's Service Order API (service-orders and \
service-order-details) to internal callers with normalised JSON, an OpenAPI \
spec and Swagger UI. Holds the single OAuth credential, rate-limits its own \
upstream calls and caches responses (serving stale data when the upstream is \
closed or failing).\n\nEvery flag can also be given as the environment \
variable shown. Durations use humantime syntax (\"10s\", \"5m\", \"10d\")."
)]
pub struct Cli {
    /// Address and port to listen on.
    #[arg(long, env = "SOG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Base URL of the NTT Com API (default https://api.ntt.com).
    #[arg(long, env = "SOG_UPSTREAM_URL", conflicts_with = "region")]
    pub upstream_url: Option<Url>,

    /// Use the regional gateway https://{region}.api.ntt.com instead of the global one.
    #[arg(long, env = "SOG_REGION", value_enum)]
    pub region: Option<Region>,

    /// OAuth token endpoint (default {upstream}/v1/oauth/accesstokens).
    #[arg(long, env = "SOG_TOKEN_URL")]
    pub token_url: Option<Url>,

    /// OAuth client id (required unless --demo).
    #[arg(long, env = "SOG_CLIENT_ID")]
    pub client_id: Option<String>,

    /// OAuth client secret. Prefer --client-secret-file in production.
    #[arg(
        long,
        env = "SOG_CLIENT_SECRET",
        hide_env_values = true,
        conflicts_with = "client_secret_file"
    )]
    pub client_secret: Option<String>,

    /// File holding the OAuth client secret (e.g. a mounted Kubernetes secret); re-read on SIGHUP and when the token endpoint rejects it.
    #[arg(long, env = "SOG_CLIENT_SECRET_FILE")]
    pub client_secret_file: Option<PathBuf>,

    /// Timeout of one upstream call, connection included.
    #[arg(long, env = "SOG_UPSTREAM_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub upstream_timeout: Duration,

    /// Demo mode: start a built-in simulated NTT upstream on a loopback port and serve its (fake) data.
    #[arg(long, env = "SOG_DEMO")]
    pub demo: bool,

    /// Log output format.
    #[arg(long, env = "SOG_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Upper bound of the response cache, in bytes ("256MiB", "1GiB", "500000").
    #[arg(long, env = "SOG_CACHE_MAX_BYTES", default_value = "256MiB", value_parser = parse_bytes)]
    pub cache_max_bytes: u64,

    /// How long a service-orders answer stays fresh.
    #[arg(long, env = "SOG_ORDERS_TTL", default_value = "60s", value_parser = parse_duration)]
    pub orders_ttl: Duration,

    /// How long a service-order-details answer stays fresh.
    #[arg(long, env = "SOG_DETAILS_TTL", default_value = "5m", value_parser = parse_duration)]
    pub details_ttl: Duration,

    /// How long after it was fetched an answer may still be served stale (upstream down, closed hours, rate limit).
    #[arg(long, env = "SOG_STALE_MAX_AGE", default_value = "10d", value_parser = parse_duration)]
    pub stale_max_age: Duration,

    /// How long before the details endpoint closes to refresh the entries callers used that day.
    #[arg(long, env = "SOG_DETAILS_PREFETCH_LEAD", default_value = "10m", value_parser = parse_duration)]
    pub details_prefetch_lead: Duration,

    /// Days the details endpoint is open: jp-business (weekdays that are not Japanese holidays or Dec 29 - Jan 3), all, none.
    #[arg(long, env = "SOG_DETAILS_DAYS", default_value = "jp-business")]
    pub details_days: DetailsDays,

    /// Opening hours (JST) of the details endpoint on open days, HH:MM[:SS]-HH:MM[:SS].
    #[arg(long, env = "SOG_DETAILS_HOURS", default_value = "09:00-17:30")]
    pub details_hours: OpeningHours,

    /// The Cabinet Office's syukujitsu.csv (Shift_JIS or UTF-8): authoritative for the years it lists.
    #[arg(long, env = "SOG_HOLIDAYS_FILE")]
    pub holidays_file: Option<PathBuf>,

    /// Upstream bandwidth: calls allowed per period, token requests included ("5/s", "600/min", "1000/h").
    #[arg(long, env = "SOG_UPSTREAM_RATE", default_value = "5/s")]
    pub upstream_rate: UpstreamRate,

    /// How many upstream calls may be made at once after a quiet period.
    #[arg(long, env = "SOG_UPSTREAM_BURST", default_value = "5")]
    pub upstream_burst: NonZeroU32,

    /// How long a request may wait for upstream budget before it gets stale data or a 503.
    #[arg(long, env = "SOG_UPSTREAM_QUEUE_TIMEOUT", default_value = "2s", value_parser = parse_duration)]
    pub upstream_queue_timeout: Duration,

    /// How many replicas share the upstream budget: each replica's limiter gets rate/replicas and burst/replicas (the helm chart sets this).
    #[arg(long, env = "SOG_REPLICAS", default_value = "1")]
    pub replicas: NonZeroU32,

    /// Upper bound on the time to answer one request.
    #[arg(long, env = "SOG_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Requests handled at once; further requests are shed with a 503.
    #[arg(long, env = "SOG_MAX_CONCURRENT_REQUESTS", default_value = "1024")]
    pub max_concurrent_requests: NonZeroU32,

    /// How long in-flight requests may take to finish after SIGTERM/SIGINT.
    #[arg(long, env = "SOG_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,

    /// Bearer token that enables the /admin routes (disabled when unset).
    #[arg(
        long,
        env = "SOG_ADMIN_TOKEN",
        hide_env_values = true,
        conflicts_with = "admin_token_file"
    )]
    pub admin_token: Option<String>,

    /// File holding the admin bearer token.
    #[arg(long, env = "SOG_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,

    /// File of API keys, one caller a line: name:sha256hex[:scopes]. When set, the two API routes require a key; re-read on SIGHUP.
    #[arg(long, env = "SOG_API_KEYS_FILE")]
    pub api_keys_file: Option<PathBuf>,
    /// Redis shared by the replicas (redis://[user:password@]host:port[/db] or rediss:// for TLS): second-tier cache, one rate limit, one refresh per key. Off when unset.
    #[arg(
        long,
        env = "SOG_REDIS_URL",
        hide_env_values = true,
        conflicts_with = "redis_url_file"
    )]
    pub redis_url: Option<String>,

    /// File holding the Redis URL (it may contain a password; the helm chart mounts it).
    #[arg(long, env = "SOG_REDIS_URL_FILE")]
    pub redis_url_file: Option<PathBuf>,

    /// Key encrypting cache entries stored in Redis: 32 bytes as 64 hex digits or base64.
    #[arg(
        long,
        env = "SOG_CACHE_KEY",
        hide_env_values = true,
        conflicts_with = "cache_key_file"
    )]
    pub cache_key: Option<String>,

    /// File holding the cache encryption key (64 hex digits or base64 of 32 bytes).
    #[arg(long, env = "SOG_CACHE_KEY_FILE")]
    pub cache_key_file: Option<PathBuf>,

    /// Store cache entries in Redis unencrypted when no cache key is set (otherwise start-up refuses).
    #[arg(long, env = "SOG_REDIS_ALLOW_PLAINTEXT")]
    pub redis_allow_plaintext: bool,
}

/// The regional NTT Com API gateways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Region {
    /// Japan.
    Jp,
    /// United States.
    Us,
    /// France.
    Fr,
    /// Singapore.
    Sg,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// An upstream call budget: `count` calls per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamRate {
    /// Calls allowed per period.
    pub count: NonZeroU32,
    /// The period.
    pub period: Duration,
}

impl UpstreamRate {
    /// The time between two calls at a steady rate.
    pub fn interval(&self) -> Duration {
        self.period / self.count.get()
    }

    /// This budget shared among `replicas` replicas (the period is stretched, so rates below 1/s stay exact).
    pub fn per_replica(&self, replicas: NonZeroU32) -> UpstreamRate {
        UpstreamRate {
            count: self.count,
            period: self.period * replicas.get(),
        }
    }
}

impl FromStr for UpstreamRate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (count, unit) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a rate like \"5/s\" or \"600/min\""))?;
        let count: NonZeroU32 = count
            .trim()
            .parse()
            .map_err(|_| format!("{count:?} is not a positive whole number of calls"))?;
        let period = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            other => {
                return Err(format!(
                    "unknown period {other:?}: use s, min or h (e.g. \"5/s\", \"600/min\")"
                ));
            }
        };
        Ok(UpstreamRate { count, period })
    }
}

impl std::fmt::Display for UpstreamRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.period.as_secs() {
            1 => write!(f, "{}/s", self.count),
            60 => write!(f, "{}/min", self.count),
            3600 => write!(f, "{}/h", self.count),
            _ => write!(
                f,
                "{}/{}",
                self.count,
                humantime::format_duration(self.period)
            ),
        }
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration like \"10s\" or \"5m\": {e}"))
}

/// Parses a byte size: a number with an optional unit (B, KB, MB, GB, KiB, MiB, GiB).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size like \"256MiB\" or \"1000000\""))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1_000,
        "mb" | "m" => 1_000_000,
        "gb" | "g" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?} in {s:?}")),
    };
    num.checked_mul(mult)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?} is out of range"))
}

/// Why start-up stopped.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Bad flags or environment; the message is clap's, with the variable named.
    #[error("{0}")]
    Invalid(String),
    /// `--help` or `--version` was asked for: print and exit 0.
    #[error("{0}")]
    Display(String),
}

/// Where the OAuth client secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// Given directly (flag or environment).
    Value(SecretString),
    /// Read from a file (and re-read when rotated).
    File(PathBuf),
}

/// The upstream and its credential.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    /// Base URL of the API, without a trailing slash.
    pub base_url: Url,
    /// OAuth token endpoint.
    pub token_url: Url,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: SecretSource,
    /// Timeout of one upstream call.
    pub timeout: Duration,
    /// Bandwidth: the limit this replica enforces (already divided by replicas).
    pub rate: UpstreamRate,
    /// Burst this replica allows.
    pub burst: NonZeroU32,
    /// The whole deployment's bandwidth (not divided), enforced in Redis when configured.
    pub global_rate: UpstreamRate,
    /// The whole deployment's burst, enforced in Redis when configured.
    pub global_burst: NonZeroU32,
    /// How long a caller waits for budget.
    pub queue_timeout: Duration,
}

/// Cache sizes and freshness.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// Upper bound in bytes.
    pub max_bytes: u64,
    /// Freshness of service-orders answers.
    pub orders_ttl: Duration,
    /// Freshness of service-order-details answers.
    pub details_ttl: Duration,
    /// How long after fetching an answer may be served stale.
    pub stale_max_age: Duration,
    /// How long before closing to refresh the day's details entries.
    pub prefetch_lead: Duration,
}

/// Opening hours of the details endpoint.
#[derive(Debug, Clone)]
pub struct CalendarSettings {
    /// Which days are open.
    pub days: DetailsDays,
    /// Hours on open days (JST).
    pub hours: OpeningHours,
    /// The Cabinet Office holidays file, if any.
    pub holidays_file: Option<PathBuf>,
}

/// The HTTP server itself.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Upper bound on one request.
    pub request_timeout: Duration,
    /// Requests in flight before shedding.
    pub max_concurrent_requests: NonZeroU32,
    /// Grace period for in-flight requests on shutdown.
    pub shutdown_timeout: Duration,
    /// Admin bearer token; admin routes are off without it.
    pub admin_token: Option<SecretString>,
    /// The API keys file; caller authentication is off without it.
    pub api_keys_file: Option<PathBuf>,
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// HTTP server settings.
    pub server: ServerSettings,
    /// Upstream and credential (in demo mode: the simulator's).
    pub upstream: UpstreamSettings,
    /// Cache settings.
    pub cache: CacheSettings,
    /// Business calendar settings.
    pub calendar: CalendarSettings,
    /// Log output format.
    pub log_format: LogFormat,
    /// Demo mode: start the simulator and point the upstream at it.
    pub demo: bool,
    /// Redis shared by the replicas, if configured.
    pub redis: Option<RedisSettings>,
}

/// A Redis URL: a secret (it may hold a password), shown redacted.
#[derive(Clone)]
pub struct RedisUrl(SecretString);

impl RedisUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self(SecretString::from(url.into()))
    }

    /// The URL with its password (only for connecting).
    pub fn expose(&self) -> &str {
        use secrecy::ExposeSecret;
        self.0.expose_secret()
    }

    /// The URL with any password replaced by `***`, for logs.
    pub fn redacted(&self) -> String {
        match Url::parse(self.expose()) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("***"));
                }
                url.to_string()
            }
            Err(_) => "(unparsable URL)".into(),
        }
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// The 32-byte key encrypting cache entries in Redis (never printed).
#[derive(Clone)]
pub struct CacheKeyBytes(pub [u8; 32]);

impl std::fmt::Debug for CacheKeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheKeyBytes([redacted])")
    }
}

impl FromStr for CacheKeyBytes {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use base64::Engine as _;
        let t = s.trim();
        let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).map_err(|_| "not valid hex".to_owned())?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(|_| "must be 64 hex digits or base64 of 32 bytes".to_owned())?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "must be 32 bytes (64 hex digits or base64), not {}",
                b.len()
            )
        })?;
        Ok(CacheKeyBytes(key))
    }
}

/// Redis shared by the replicas.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// Where it is.
    pub url: RedisUrl,
    /// The entry encryption key; `None` only with the explicit plaintext opt-out.
    pub cache_key: Option<CacheKeyBytes>,
    /// How long a replica's claim on refreshing one key lasts.
    pub lease: Duration,
    /// The prefix of every Redis key the gateway writes.
    pub prefix: String,
}

/// The demo credential the built-in simulator accepts.
pub const DEMO_CLIENT_ID: &str = "demo-client";
/// The demo secret the built-in simulator accepts (not a secret).
pub const DEMO_CLIENT_SECRET: &str = "demo-secret";

impl Config {
    /// Parses `args` (including the program name) and the process environment.
    pub fn from_args<I, T>(args: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut command = Cli::command();
        let matches = command
            .try_get_matches_from_mut(args)
            .map_err(|e| clap_error(&command, e))?;
        let mut cli = Cli::from_arg_matches(&matches).map_err(|e| clap_error(&command, e))?;
        // The demo's simulated details endpoint is open around the clock unless
        // the operator chose opening hours explicitly, so a first try at night
        // shows data rather than a closed-hours 503.
        let defaulted =
            |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::DefaultValue);
        if cli.demo && defaulted("details_days") && defaulted("details_hours") {
            cli.details_days = DetailsDays::All;
            cli.details_hours = "00:00-23:59:59"
                .parse()
                .map_err(|e| ConfigError::Invalid(format!("{e}")))?;
        }
        Config::from_cli(cli)
    }

    /// Validates parsed flags into a configuration.
    pub fn from_cli(cli: Cli) -> Result<Config, ConfigError> {
        let invalid = |s: String| ConfigError::Invalid(s);
        let base_url = match (&cli.upstream_url, cli.region) {
            (Some(url), _) => url.clone(),
            (None, Some(region)) => {
                let name = format!("{region:?}").to_ascii_lowercase();
                Url::parse(&format!("https://{name}.api.ntt.com"))
                    .map_err(|e| invalid(e.to_string()))?
            }
            (None, None) => {
                Url::parse("https://api.ntt.com").map_err(|e| invalid(e.to_string()))?
            }
        };
        if !matches!(base_url.scheme(), "http" | "https") || base_url.host().is_none() {
            return Err(invalid(format!(
                "invalid value for --upstream-url / SOG_UPSTREAM_URL: {base_url} is not an http(s) URL"
            )));
        }
        let token_url = match &cli.token_url {
            Some(url) => url.clone(),
            None => join(&base_url, "v1/oauth/accesstokens"),
        };

        let (client_id, client_secret) = if cli.demo {
            (
                DEMO_CLIENT_ID.to_owned(),
                SecretSource::Value(SecretString::from(DEMO_CLIENT_SECRET)),
            )
        } else {
            let id = cli.client_id.clone().filter(|s| !s.trim().is_empty());
            let secret = match (&cli.client_secret, &cli.client_secret_file) {
                (Some(s), _) if !s.is_empty() => {
                    Some(SecretSource::Value(SecretString::from(s.clone())))
                }
                (_, Some(path)) => {
                    std::fs::read_to_string(path).map_err(|e| {
                        invalid(format!(
                            "invalid value for --client-secret-file / SOG_CLIENT_SECRET_FILE: cannot read {}: {e}",
                            path.display()
                        ))
                    })?;
                    Some(SecretSource::File(path.clone()))
                }
                _ => None,
            };
            match (id, secret) {
                (Some(id), Some(secret)) => (id, secret),
                (id, secret) => {
                    let mut missing = Vec::new();
                    if id.is_none() {
                        missing.push("--client-id / SOG_CLIENT_ID");
                    }
                    if secret.is_none() {
                        missing.push("--client-secret-file / SOG_CLIENT_SECRET_FILE (or --client-secret / SOG_CLIENT_SECRET)");
                    }
                    return Err(invalid(format!(
                        "no upstream credentials: set {}.\n\
                         The gateway needs the OAuth client credentials NTT Com issued for the Service Order API.\n\
                         To try the gateway without them, run it with --demo (SOG_DEMO=true): it then serves simulated data.",
                        missing.join(" and ")
                    )));
                }
            }
        };

        let admin_token = match (&cli.admin_token, &cli.admin_token_file) {
            (Some(t), _) if !t.is_empty() => Some(SecretString::from(t.clone())),
            (_, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    invalid(format!(
                        "invalid value for --admin-token-file / SOG_ADMIN_TOKEN_FILE: cannot read {}: {e}",
                        path.display()
                    ))
                })?;
                let token = text.trim();
                if token.len() < 16 {
                    return Err(invalid(
                        "invalid value for --admin-token-file / SOG_ADMIN_TOKEN_FILE: the token must be at least 16 characters".into(),
                    ));
                }
                Some(SecretString::from(token.to_owned()))
            }
            _ => None,
        };
        if let Some(t) = &cli.admin_token {
            if !t.is_empty() && t.len() < 16 {
                return Err(invalid(
                    "invalid value for --admin-token / SOG_ADMIN_TOKEN: the token must be at least 16 characters".into(),
                ));
            }
        }

        if let Some(path) = &cli.api_keys_file {
            crate::auth::ApiKeys::load(path).map_err(|e| {
                invalid(format!(
                    "invalid value for --api-keys-file / SOG_API_KEYS_FILE: {e}"
                ))
            })?;
        }

        if cli.stale_max_age < cli.orders_ttl || cli.stale_max_age < cli.details_ttl {
            return Err(invalid(
                "invalid value for --stale-max-age / SOG_STALE_MAX_AGE: it must not be shorter than --orders-ttl and --details-ttl".into(),
            ));
        }
        if cli.upstream_timeout.is_zero() {
            return Err(invalid(
                "invalid value for --upstream-timeout / SOG_UPSTREAM_TIMEOUT: must be more than 0"
                    .into(),
            ));
        }
        if cli.request_timeout.is_zero() {
            return Err(invalid(
                "invalid value for --request-timeout / SOG_REQUEST_TIMEOUT: must be more than 0"
                    .into(),
            ));
        }
        let burst = NonZeroU32::new((cli.upstream_burst.get() / cli.replicas.get()).max(1))
            .unwrap_or(NonZeroU32::MIN);
        let redis = redis_settings(&cli)?;

        Ok(Config {
            server: ServerSettings {
                listen: cli.listen,
                request_timeout: cli.request_timeout,
                max_concurrent_requests: cli.max_concurrent_requests,
                shutdown_timeout: cli.shutdown_timeout,
                admin_token,
                api_keys_file: cli.api_keys_file,
            },
            upstream: UpstreamSettings {
                base_url,
                token_url,
                client_id,
                client_secret,
                timeout: cli.upstream_timeout,
                rate: cli.upstream_rate.per_replica(cli.replicas),
                burst,
                global_rate: cli.upstream_rate,
                global_burst: cli.upstream_burst,
                queue_timeout: cli.upstream_queue_timeout,
            },
            cache: CacheSettings {
                max_bytes: cli.cache_max_bytes,
                orders_ttl: cli.orders_ttl,
                details_ttl: cli.details_ttl,
                stale_max_age: cli.stale_max_age,
                prefetch_lead: cli.details_prefetch_lead,
            },
            calendar: CalendarSettings {
                days: cli.details_days,
                hours: cli.details_hours,
                holidays_file: cli.holidays_file,
            },
            log_format: cli.log_format,
            demo: cli.demo,
            redis,
        })
    }

    /// A configuration for tests and embedding: demo credentials, the given
    /// upstream, defaults elsewhere.
    pub fn for_upstream(base_url: &str) -> Config {
        let mut config = Config::from_args([
            "service-order-gateway",
            "--client-id",
            DEMO_CLIENT_ID,
            "--client-secret",
            DEMO_CLIENT_SECRET,
            "--listen",
            "127.0.0.1:0",
        ])
        .unwrap_or_else(|e| panic!("default config is valid: {e}"));
        let base = Url::parse(base_url).unwrap_or_else(|e| panic!("bad test URL {base_url}: {e}"));
        config.upstream.token_url = join(&base, "v1/oauth/accesstokens");
        config.upstream.base_url = base;
        config.demo = false;
        config
    }
}

/// Redis settings from the flags: the URL (direct or from a file) and the
/// cache key, which is required unless plaintext is explicitly allowed.
fn redis_settings(cli: &Cli) -> Result<Option<RedisSettings>, ConfigError> {
    let invalid = |s: String| ConfigError::Invalid(s);
    let read = |path: &PathBuf, what: &str| {
        std::fs::read_to_string(path)
            .map(|t| t.trim().to_owned())
            .map_err(|e| {
                invalid(format!(
                    "invalid value for {what}: cannot read {}: {e}",
                    path.display()
                ))
            })
    };
    let url = match (&cli.redis_url, &cli.redis_url_file) {
        (Some(u), _) if !u.trim().is_empty() => u.trim().to_owned(),
        (_, Some(path)) => read(path, "--redis-url-file / SOG_REDIS_URL_FILE")?,
        _ => return Ok(None),
    };
    let url = RedisUrl::new(url);
    match Url::parse(url.expose()) {
        Ok(u) if matches!(u.scheme(), "redis" | "rediss" | "unix" | "redis+unix") => {}
        _ => {
            return Err(invalid(format!(
                "invalid value for --redis-url / SOG_REDIS_URL: {} is not a redis://, rediss:// or unix:// URL",
                url.redacted()
            )));
        }
    }
    let key_text = match (&cli.cache_key, &cli.cache_key_file) {
        (Some(k), _) if !k.trim().is_empty() => Some(("--cache-key / SOG_CACHE_KEY", k.clone())),
        (_, Some(path)) => Some((
            "--cache-key-file / SOG_CACHE_KEY_FILE",
            read(path, "--cache-key-file / SOG_CACHE_KEY_FILE")?,
        )),
        _ => None,
    };
    let cache_key = match key_text {
        Some((what, text)) => Some(
            text.parse::<CacheKeyBytes>()
                .map_err(|e| invalid(format!("invalid value for {what}: {e}")))?,
        ),
        None if cli.redis_allow_plaintext => None,
        None => {
            return Err(invalid(
                "Redis is configured but no cache key is: set --cache-key-file / SOG_CACHE_KEY_FILE \
                 (or --cache-key / SOG_CACHE_KEY) to 32 bytes as 64 hex digits or base64, so the \
                 customer data cached in Redis is encrypted; or set SOG_REDIS_ALLOW_PLAINTEXT=true \
                 to store it unencrypted"
                    .into(),
            ));
        }
    };
    Ok(Some(RedisSettings {
        url,
        cache_key,
        lease: Duration::from_secs(5),
        prefix: "sog:".into(),
    }))
}

/// `base` joined with a relative path, whether or not `base` ends in `/`.
pub fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{prefix}/{path}"));
    url
}

/// Turns a clap error into ours, naming the environment variable of the
/// offending argument so an operator who set `SOG_X` sees `SOG_X`.
fn clap_error(command: &clap::Command, e: clap::Error) -> ConfigError {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            return ConfigError::Display(e.to_string());
        }
        _ => {}
    }
    let mut message = e.render().to_string();
    if let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) {
        let flag = arg.split_whitespace().next().unwrap_or(arg);
        if let Some(env) = command
            .get_arguments()
            .find(|a| a.get_long().map(|l| format!("--{l}")) == Some(flag.to_owned()))
            .and_then(|a| a.get_env())
        {
            let env = env.to_string_lossy();
            message = message.replacen(
                arg.as_str(),
                &format!("{arg} (environment variable {env})"),
                1,
            );
        }
    }
    ConfigError::Invalid(message.trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        let r: UpstreamRate = "600/min".parse().unwrap();
        assert_eq!(r.interval(), Duration::from_millis(100));
        assert_eq!("5/s".parse::<UpstreamRate>().unwrap().to_string(), "5/s");
        assert!("0/s".parse::<UpstreamRate>().is_err());
        assert!("5/fortnight".parse::<UpstreamRate>().is_err());
        let shared = r.per_replica(NonZeroU32::new(3).unwrap());
        assert_eq!(shared.interval(), Duration::from_millis(300));
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_bytes("256MiB").unwrap(), 256 << 20);
        assert_eq!(parse_bytes("1000").unwrap(), 1000);
        assert_eq!(parse_bytes("2 GB").unwrap(), 2_000_000_000);
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("0").is_err());
    }
}

#[cfg(test)]
mod redis_tests {
    use super::*;

    fn with(args: &[&str]) -> Result<Config, ConfigError> {
        let mut all = vec![
            "service-order-gateway",
            "--client-id",
            "id",
            "--client-secret",
            "secret",
        ];
        all.extend_from_slice(args);
        Config::from_args(all)
    }

    #[test]
    fn redis_is_off_by_default() {
        assert!(with(&[]).unwrap().redis.is_none());
    }

    #[test]
    fn redis_without_a_key_is_refused_unless_plaintext_is_allowed() {
        let err = with(&["--redis-url", "redis://:hunter2@127.0.0.1:6379"]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("SOG_CACHE_KEY_FILE") && text.contains("SOG_REDIS_ALLOW_PLAINTEXT"));
        assert!(!text.contains("hunter2"));
        let ok = with(&[
            "--redis-url",
            "redis://127.0.0.1:6379",
            "--redis-allow-plaintext",
        ])
        .unwrap();
        assert!(ok.redis.unwrap().cache_key.is_none());
    }

    #[test]
    fn keys_parse_from_hex_or_base64_and_are_never_printed() {
        let hex_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let c = with(&[
            "--redis-url",
            "rediss://u:hunter2@redis.example:6380/0",
            "--cache-key",
            hex_key,
        ])
        .unwrap();
        let redis = c.redis.clone().unwrap();
        assert_eq!(redis.cache_key.as_ref().unwrap().0[1], 0x11);
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("aabbccddeeff"), "{debug}");
        assert_eq!(redis.url.redacted(), "rediss://u:***@redis.example:6380/0");
        let b64 = "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=";
        assert_eq!(
            b64.parse::<CacheKeyBytes>().unwrap().0,
            redis.cache_key.unwrap().0
        );
        assert!("abcd".parse::<CacheKeyBytes>().is_err());
        let err = with(&["--redis-url", "redis://h", "--cache-key", "c2hvcnQ="]).unwrap_err();
        assert!(err.to_string().contains("SOG_CACHE_KEY"), "{err}");
        let err = with(&["--redis-url", "http://h", "--redis-allow-plaintext"]).unwrap_err();
        assert!(err.to_string().contains("SOG_REDIS_URL"), "{err}");
    }

    #[test]
    fn url_and_key_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("redis-url");
        let key = dir.path().join("cache-key");
        std::fs::write(&url, "redis://:pw@10.0.0.1:6379\n").unwrap();
        std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
        let c = with(&[
            "--redis-url-file",
            url.to_str().unwrap(),
            "--cache-key-file",
            key.to_str().unwrap(),
        ])
        .unwrap();
        let redis = c.redis.unwrap();
        assert_eq!(redis.url.expose(), "redis://:pw@10.0.0.1:6379");
        assert_eq!(redis.cache_key.unwrap().0, [0xab; 32]);
        assert_eq!(c.upstream.global_rate.to_string(), "5/s");
    }
}
