//! # service-order-gateway
//!
//! A gateway between internal callers and NTT Com's Service Order API. It
//! republishes `service-orders` and `service-order-details` with normalised
//! JSON, holds the one OAuth credential, rate-limits its own upstream calls,
//! caches answers (serving stale data when the upstream is closed, failing
//! or rate-limited) and documents itself with OpenAPI and Swagger UI.
//!
//! ## Layout
//! A request travels forward through these modules:
//!
//! - [`api`]: routes, query validation, problem+json errors, OpenAPI, middleware
//! - [`gateway`]: the request path: cache, opening hours, single flight, stale rules
//! - [`cache`]: the byte-bounded store, coalescing and `Cache-Status`
//! - [`calendar`]: the JST business calendar of the details endpoint
//! - [`upstream`]: NTT's HTTP client, the OAuth token, bandwidth control
//! - [`resources`]: the two resources as typed requests (keys, upstream query, normalisation)
//! - [`model`]: raw upstream JSON and the normalised types callers see
//! - [`shared`]: state shared by replicas through Redis (second-tier cache, one budget, leases)
//!
//! Around them: [`config`] (flags and environment), [`state`] (what handlers
//! share), [`auth`] (callers' API keys and scopes), [`reload`] (re-reading
//! credentials on SIGHUP), [`telemetry`] (logs and metrics), [`clock`]
//! (controllable time) and [`simulator`] (a simulated NTT upstream for
//! `--demo` and tests).
//! [`Application`] assembles everything from a [`config::Config`].

pub mod api;
pub mod auth;
pub mod cache;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod gateway;
pub mod model;
pub mod reload;
pub mod resources;
pub mod shared;
pub mod simulator;
pub mod state;
pub mod telemetry;
pub mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::cache::ResponseCache;
use crate::calendar::BusinessCalendar;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::gateway::Gateway;
use crate::simulator::{Simulator, SimulatorConfig};
use crate::state::AppState;
use crate::upstream::UpstreamClient;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The holidays file could not be loaded.
    #[error("invalid value for --holidays-file / SOG_HOLIDAYS_FILE: {0}")]
    Holidays(#[from] calendar::CalendarError),
    /// The HTTP client could not be built.
    #[error("cannot build the upstream HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// The Redis URL could not be used.
    #[error("invalid value for --redis-url / SOG_REDIS_URL: {0}")]
    Redis(String),
    /// The demo simulator could not start.
    #[error("cannot start the demo simulator: {0}")]
    Simulator(std::io::Error),
    /// The API keys file could not be loaded.
    #[error("invalid value for --api-keys-file / SOG_API_KEYS_FILE: {0}")]
    ApiKeys(#[from] auth::KeysFileError),
}

/// The assembled gateway, bound to its listener and ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    shutdown_timeout: Duration,
    simulator: Option<Simulator>,
    background: Vec<JoinHandle<()>>,
}

impl Application {
    /// Builds the gateway from `config`, reading time from `clock`.
    ///
    /// In demo mode this also starts the simulated upstream on a loopback port.
    pub async fn build(
        mut config: Config,
        clock: SharedClock,
    ) -> Result<Application, StartupError> {
        let simulator = if config.demo {
            let sim = Simulator::start(
                SimulatorConfig {
                    client_id: config::DEMO_CLIENT_ID.into(),
                    client_secret: config::DEMO_CLIENT_SECRET.into(),
                    clock: clock.clone(),
                    ..SimulatorConfig::default()
                },
                SocketAddr::from(([127, 0, 0, 1], 0)),
            )
            .await
            .map_err(StartupError::Simulator)?;
            let base = url::Url::parse(&sim.base_url())
                .map_err(|e| StartupError::Simulator(std::io::Error::other(e)))?;
            config.upstream.token_url = config::join(&base, "v1/oauth/accesstokens");
            config.upstream.base_url = base;
            tracing::warn!(
                upstream = %config.upstream.base_url,
                "DEMO MODE: serving SIMULATED data from a built-in fake NTT upstream; nothing here is real"
            );
            Some(sim)
        } else {
            None
        };

        let mut calendar = BusinessCalendar::new(config.calendar.days, config.calendar.hours);
        if let Some(path) = &config.calendar.holidays_file {
            calendar = calendar.with_holidays_file(calendar::load_holidays_file(path)?);
        }
        let shared = match &config.redis {
            Some(redis) => Some(Arc::new(
                shared::Shared::new(redis.clone(), config.cache.stale_max_age)
                    .map_err(|e| StartupError::Redis(e.to_string()))?,
            )),
            None => None,
        };
        let upstream = Arc::new(UpstreamClient::with_shared(
            &config.upstream,
            clock.clone(),
            shared.clone(),
        )?);
        let cache = ResponseCache::new(config.cache.clone());
        let gateway = Gateway::with_shared(
            cache,
            calendar,
            upstream.clone(),
            clock.clone(),
            shared.clone(),
            config.upstream.queue_timeout,
        );
        let api_keys = match &config.server.api_keys_file {
            Some(path) => {
                let store = auth::ApiKeyStore::open(path)?;
                tracing::info!(callers = store.keys().len(), "caller authentication is on");
                Some(store)
            }
            None => None,
        };
        let state = AppState {
            gateway,
            metrics: telemetry::metrics_handle(),
            admin_token: config.server.admin_token.clone(),
            request_timeout: config.server.request_timeout,
            max_concurrent_requests: config.server.max_concurrent_requests.get() as usize,
            demo: config.demo,
            api_keys: api_keys.clone(),
        };
        let listener = TcpListener::bind(config.server.listen)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.server.listen,
                source,
            })?;
        let mut background = vec![
            tokio::spawn(reload::on_sighup(api_keys, upstream.clone())),
            tokio::spawn(upstream::token::keep_fresh(upstream, clock)),
            tokio::spawn(
                state
                    .gateway
                    .clone()
                    .refresh_before_closing(config.cache.prefetch_lead),
            ),
            tokio::spawn(state.gateway.clone().sweep_forever()),
        ];
        if let Some(shared) = shared {
            background.push(tokio::spawn(
                shared.run_purge_listener(state.gateway.cache().clone()),
            ));
        }
        Ok(Application {
            listener,
            state,
            shutdown_timeout: config.server.shutdown_timeout,
            simulator,
            background,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// The shared state (for tests and embedding).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The demo simulator, when running in demo mode.
    pub fn simulator(&self) -> Option<&Simulator> {
        self.simulator.as_ref()
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight
    /// requests finish for at most the shutdown timeout, and returns.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = axum::ServiceExt::<axum::extract::Request>::into_make_service(api::app(
            self.state.clone(),
        ));
        let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown.await;
            let _ = stopping_tx.send(true);
            tracing::info!("shutting down: no new connections; finishing requests in flight");
        };
        let server = axum::serve(self.listener, app).with_graceful_shutdown(signal);
        let grace = self.shutdown_timeout;
        let deadline = async move {
            let mut rx = stopping_rx;
            let _ = rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        let result = tokio::select! {
            result = server => result,
            _ = deadline => {
                tracing::warn!(?grace, "shutdown grace period over; abandoning requests still in flight");
                Ok(())
            }
        };
        for task in &self.background {
            task.abort();
        }
        if let Some(sim) = self.simulator {
            sim.shutdown().await;
        }
        result
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
