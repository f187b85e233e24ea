//! `sog-simulator`: serves the NTT Com Service Order API simulator as a
//! standalone process (for benchmarks and manual testing).
//!
//! Control it over HTTP with the `/__sim/` routes (`GET /__sim/stats`,
//! `POST /__sim/fault?target=any&fault=status:503`, `POST /__sim/reset`, ...).

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use service_order_gateway::simulator::{Simulator, SimulatorConfig};

/// A simulator of NTT Com's Service Order API (token, service orders,
/// service order details), with fault injection under /__sim/.
#[derive(Debug, Parser)]
#[command(name = "sog-simulator", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SIM_LISTEN", default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    /// Delay added to every API and token response (e.g. 50ms).
    #[arg(long, env = "SIM_LATENCY", default_value = "0s", value_parser = humantime::parse_duration)]
    latency: Duration,
    /// The accepted OAuth client id.
    #[arg(long, env = "SIM_CLIENT_ID", default_value = "demo-client")]
    client_id: String,
    /// The accepted OAuth client secret.
    #[arg(long, env = "SIM_CLIENT_SECRET", default_value = "demo-secret")]
    client_secret: String,
    /// Lifetime of issued tokens (e.g. 3599s).
    #[arg(long, env = "SIM_TOKEN_TTL", default_value = "3599s", value_parser = humantime::parse_duration)]
    token_ttl: Duration,
    /// An extra bearer token that is always accepted.
    #[arg(long, env = "SIM_STATIC_TOKEN")]
    static_token: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let config = SimulatorConfig {
        client_id: args.client_id,
        client_secret: args.client_secret,
        token_ttl: args.token_ttl,
        latency: args.latency,
        static_token: args.static_token,
        ..SimulatorConfig::default()
    };
    let sim = Simulator::start(config, args.listen).await?;
    println!("listening on {}", sim.base_url());
    stop_signal().await?;
    sim.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
