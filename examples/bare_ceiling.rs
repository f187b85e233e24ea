//! The benchmark's ceiling server (`bench/run`): a bare axum server that
//! answers every GET with the gateway's own response bytes and headers from
//! memory, nothing else. It is what this HTTP stack (tokio + hyper + axum)
//! costs on the machine, so the gateway's hit path can be compared with it.
//!
//! `bare_ceiling LISTEN BODY_FILE HEADERS_FILE [ANSWERS_FILE]`: the body is
//! served as is; the headers file holds `name: value` lines (the gateway's
//! own response headers, captured by `bench/run`). With `ANSWERS_FILE` (JSON
//! lines of `{"path", "headers", "body"}`, written by `bench/load.py
//! capture`), a request whose path and query is one of them gets that
//! answer (the hot set: each key its own bytes, as the gateway serves them),
//! any other request the body. `content-length`, `date`, `connection` and
//! `transfer-encoding` are skipped: hyper writes those.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};

/// One stored answer.
#[derive(Clone)]
struct Answer {
    body: Bytes,
    headers: HeaderMap,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (listen, body_file, headers_file, answers_file) = match args.as_slice() {
        [_, l, b, h] => (l, b, h, None),
        [_, l, b, h, a] => (l, b, h, Some(a)),
        _ => {
            return Err("usage: bare_ceiling LISTEN BODY_FILE HEADERS_FILE [ANSWERS_FILE]".into());
        }
    };
    let listen: SocketAddr = listen.parse()?;
    let mut lines = Vec::new();
    for line in std::fs::read_to_string(headers_file)?.lines() {
        if let Some((name, value)) = line.split_once(':') {
            lines.push((name.to_owned(), value.to_owned()));
        }
    }
    let default = Answer {
        body: Bytes::from(std::fs::read(body_file)?),
        headers: header_map(&lines)?,
    };
    let mut answers: HashMap<String, Answer, foldhash::fast::RandomState> = HashMap::default();
    if let Some(file) = answers_file {
        for line in std::fs::read_to_string(file)?.lines() {
            let answer: serde_json::Value = serde_json::from_str(line)?;
            let path = answer["path"].as_str().ok_or("an answer without a path")?;
            let body = answer["body"].as_str().ok_or("an answer without a body")?;
            let lines: Vec<(String, String)> = serde_json::from_value(answer["headers"].clone())?;
            answers.insert(
                path.to_owned(),
                Answer {
                    body: Bytes::copy_from_slice(body.as_bytes()),
                    headers: header_map(&lines)?,
                },
            );
        }
    }
    let answers = Arc::new(answers);
    let app = Router::new().fallback(move |uri: Uri| {
        let path = uri.path_and_query().map_or("", |p| p.as_str());
        let answer = answers.get(path).unwrap_or(&default);
        let mut response = Response::new(Body::from(answer.body.clone()));
        *response.headers_mut() = answer.headers.clone();
        std::future::ready(response)
    });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// The headers of `lines` (name, value), without those hyper writes itself.
fn header_map(lines: &[(String, String)]) -> Result<HeaderMap, Box<dyn std::error::Error>> {
    let mut headers = HeaderMap::new();
    for (name, value) in lines {
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
    Ok(headers)
}
