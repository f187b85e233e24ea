//! `Config::from_args`: credentials are required unless `--demo` (with a
//! message saying so), regions and upstream URLs, bad values naming their
//! `SOG_*` variable, the secret file, and a `Debug` that never shows the
//! secret. (Flags only: the environment is never changed here.)

use std::io::Write;

use secrecy::ExposeSecret;
use service_order_gateway::config::{Config, ConfigError, SecretSource};

const BIN: &str = "service-order-gateway";

fn with_creds(extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        BIN.to_owned(),
        "--client-id".into(),
        "my-client".into(),
        "--client-secret".into(),
        "s3cr3t-VALUE-do-not-print".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn invalid(args: Vec<String>) -> String {
    match Config::from_args(args) {
        Err(ConfigError::Invalid(message)) => message,
        Err(other) => panic!("expected Invalid, got {other:?}"),
        Ok(_) => panic!("expected an error"),
    }
}

#[test]
fn credentials_are_required_unless_demo() {
    let message = invalid(vec![BIN.to_owned()]);
    assert!(message.contains("SOG_CLIENT_ID"), "{message}");
    assert!(message.contains("SOG_CLIENT_SECRET"), "{message}");
    assert!(message.contains("--demo"), "{message}");

    // An id alone is not enough either, and the message names only what is missing.
    let message = invalid(vec![BIN.into(), "--client-id".into(), "x".into()]);
    assert!(!message.contains("SOG_CLIENT_ID"), "{message}");
    assert!(message.contains("SOG_CLIENT_SECRET"), "{message}");

    let demo = Config::from_args([BIN, "--demo"]).expect("demo needs no credentials");
    assert!(demo.demo);
    assert_eq!(demo.upstream.client_id, "demo-client");
}

#[test]
fn default_and_regional_upstreams() {
    let config = Config::from_args(with_creds(&[])).unwrap();
    assert_eq!(config.upstream.base_url.host_str(), Some("api.ntt.com"));
    assert_eq!(config.upstream.base_url.scheme(), "https");
    assert_eq!(
        config.upstream.token_url.as_str(),
        "https://api.ntt.com/v1/oauth/accesstokens"
    );

    let config = Config::from_args(with_creds(&["--region", "jp"])).unwrap();
    assert_eq!(
        config.upstream.base_url.as_str().trim_end_matches('/'),
        "https://jp.api.ntt.com"
    );
    assert_eq!(
        config.upstream.token_url.as_str(),
        "https://jp.api.ntt.com/v1/oauth/accesstokens"
    );

    let config = Config::from_args(with_creds(&["--upstream-url", "http://127.0.0.1:9/"])).unwrap();
    assert_eq!(
        config.upstream.token_url.as_str(),
        "http://127.0.0.1:9/v1/oauth/accesstokens"
    );
}

#[test]
fn region_conflicts_with_upstream_url() {
    let message = invalid(with_creds(&[
        "--region",
        "jp",
        "--upstream-url",
        "https://example.test",
    ]));
    assert!(message.contains("--region"), "{message}");
    assert!(message.contains("--upstream-url"), "{message}");
    assert!(message.contains("cannot be used with"), "{message}");
}

#[test]
fn bad_values_name_their_environment_variable() {
    let message = invalid(with_creds(&["--upstream-timeout", "abc"]));
    assert!(message.contains("--upstream-timeout"), "{message}");
    assert!(message.contains("SOG_UPSTREAM_TIMEOUT"), "{message}");
    assert!(message.contains("abc"), "{message}");

    let message = invalid(with_creds(&["--upstream-rate", "fast"]));
    assert!(message.contains("SOG_UPSTREAM_RATE"), "{message}");

    let message = invalid(with_creds(&["--upstream-timeout", "0s"]));
    assert!(message.contains("SOG_UPSTREAM_TIMEOUT"), "{message}");
}

#[test]
fn client_secret_file_is_read() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "file-secret-xyz").unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let config = Config::from_args([
        BIN,
        "--client-id",
        "my-client",
        "--client-secret-file",
        &path,
    ])
    .unwrap();
    match &config.upstream.client_secret {
        SecretSource::File(p) => assert_eq!(p, file.path()),
        SecretSource::Value(_) => panic!("expected a file source"),
    }
    assert!(!format!("{config:?}").contains("file-secret-xyz"));

    // A file that cannot be read stops start-up, naming the variable.
    let message = invalid(vec![
        BIN.into(),
        "--client-id".into(),
        "my-client".into(),
        "--client-secret-file".into(),
        "/nonexistent/secret".into(),
    ]);
    assert!(message.contains("SOG_CLIENT_SECRET_FILE"), "{message}");
}

#[test]
fn debug_never_shows_the_secret() {
    let config = Config::from_args(with_creds(&[
        "--admin-token",
        "admin-token-0123456789-secret",
    ]))
    .unwrap();
    match &config.upstream.client_secret {
        SecretSource::Value(s) => assert_eq!(s.expose_secret(), "s3cr3t-VALUE-do-not-print"),
        SecretSource::File(_) => panic!("expected a value"),
    }
    let debug = format!("{config:?}");
    assert!(!debug.contains("s3cr3t-VALUE-do-not-print"), "{debug}");
    assert!(!debug.contains("admin-token-0123456789-secret"), "{debug}");
    let pretty = format!("{config:#?}");
    assert!(!pretty.contains("s3cr3t-VALUE-do-not-print"));
    assert!(debug.contains("my-client"), "the id is not secret");
}
