//! The `service-order-gateway` binary: parse configuration, start logging,
//! build the application and serve it until SIGINT/SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use service_order_gateway::clock::SystemClock;
use service_order_gateway::config::{Config, ConfigError};
use service_order_gateway::{Application, shutdown_signal, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args_os()) {
        Ok(config) => config,
        Err(ConfigError::Display(text)) => {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("service-order-gateway: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init_tracing(config.log_format, std::io::stdout);
    let app = match Application::build(config, Arc::new(SystemClock)).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %e, "start-up failed");
            eprintln!("service-order-gateway: {e}");
            return ExitCode::from(1);
        }
    };
    let addr = app.local_addr();
    tracing::info!(%addr, docs = %format!("http://{addr}/docs"), "service-order-gateway listening");
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::from(1)
        }
    }
}
