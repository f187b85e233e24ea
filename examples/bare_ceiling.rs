//! The benchmark's ceiling server (`bench/run`): a bare axum server that
//! answers every GET with the same bytes and headers from memory, nothing
//! else. It is what this HTTP stack (tokio + hyper + axum) costs on the
//! machine, so the gateway's hit path can be compared with it.
//!
//! `bare_ceiling LISTEN BODY_FILE HEADERS_FILE`: the body is served as is;
//! the headers file holds `name: value` lines (the gateway's own response
//! headers, captured by `bench/run`; `content-length`, `date` and
//! `connection` are skipped, hyper writes those).

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, body_file, headers_file] = args.as_slice() else {
        return Err("usage: bare_ceiling LISTEN BODY_FILE HEADERS_FILE".into());
    };
    let listen: SocketAddr = listen.parse()?;
    let body = Bytes::from(std::fs::read(body_file)?);
    let mut headers = HeaderMap::new();
    for line in std::fs::read_to_string(headers_file)?.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        if matches!(
            name.as_str(),
            "content-length" | "date" | "connection" | "transfer-encoding"
        ) {
            continue;
        }
        headers.append(
            HeaderName::from_bytes(name.as_bytes())?,
            HeaderValue::from_str(value.trim())?,
        );
    }
    let app = Router::new().fallback(move || {
        let body = body.clone();
        let headers = headers.clone();
        async move {
            let mut response = Response::new(Body::from(body));
            *response.headers_mut() = headers;
            response
        }
    });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
