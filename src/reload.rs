//! Re-reading credentials without a restart: on SIGHUP the callers' API keys
//! file and the OAuth client secret file are read again.
//!
//! An invalid keys file leaves the previous keys in force (and is logged as
//! an error); an unreadable secret file leaves the last secret read in force.
//! Neither a key nor the secret is ever logged.

use std::future::Future;
use std::sync::Arc;

use crate::auth::ApiKeyStore;
use crate::upstream::UpstreamClient;

/// Re-reads everything reloadable once (what SIGHUP does).
pub fn reload_credentials(api_keys: Option<&ApiKeyStore>, upstream: &UpstreamClient) {
    if let Some(store) = api_keys {
        // Errors are logged by the store; the old keys stay in force.
        let _ = store.reload();
    }
    upstream.tokens().reload_secret();
}

/// Installs the SIGHUP handler now (so a signal sent right after start-up is
/// never fatal) and returns the task that reloads on each signal.
pub fn on_sighup(
    api_keys: Option<ApiKeyStore>,
    upstream: Arc<UpstreamClient>,
) -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signal =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).map_err(|e| {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; credentials reload only on restart");
        });
    async move {
        #[cfg(unix)]
        if let Ok(mut hangups) = signal {
            while hangups.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading credentials");
                reload_credentials(api_keys.as_ref(), &upstream);
            }
        }
        #[cfg(not(unix))]
        {
            let _ = (api_keys, upstream);
            std::future::pending::<()>().await;
        }
    }
}
