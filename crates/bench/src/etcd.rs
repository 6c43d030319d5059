//! The etcd workload: `POST /v3/kv/put {"key", "value"}` (base64) through etcd's v3 JSON
//! gateway over plain HTTP/1.1. etcd answers a put only after a quorum committed and applied it,
//! so every acknowledged put is a committed one.

use std::time::Duration;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{Method, Request};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpStream;

use cloister_types::TxId;

use crate::closed_loop::{self, Writer};
use crate::report::Report;

/// Connect, or one request and its answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One etcd client URL, `http://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    host: String,
    port: u16,
    authority: String,
}

impl Endpoint {
    /// Accepts `http://host:port` (a trailing `/` too); etcd's TLS is not supported.
    pub fn parse(url: &str) -> anyhow::Result<Endpoint> {
        let uri: http::Uri = url
            .parse()
            .with_context(|| format!("etcd endpoint {url:?}"))?;
        if uri.scheme_str() != Some("http") {
            bail!("etcd endpoint {url:?}: only http:// is supported");
        }
        let authority = uri
            .authority()
            .with_context(|| format!("etcd endpoint {url:?}: no host"))?;
        let port = authority
            .port_u16()
            .with_context(|| format!("etcd endpoint {url:?}: no port"))?;
        Ok(Endpoint {
            host: authority
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            authority: authority.as_str().to_owned(),
        })
    }
}

/// One closed-loop etcd client: one keep-alive connection, replaced if the server closes it.
#[derive(Debug)]
pub struct EtcdWriter {
    endpoint: Endpoint,
    key_prefix: String,
    sender: Option<http1::SendRequest<Full<Bytes>>>,
}

impl EtcdWriter {
    pub fn new(endpoint: Endpoint, client_index: usize) -> EtcdWriter {
        EtcdWriter {
            endpoint,
            key_prefix: format!("bench/{client_index}/"),
            sender: None,
        }
    }

    async fn connect(&self) -> anyhow::Result<http1::SendRequest<Full<Bytes>>> {
        let address = &self.endpoint.authority;
        let tcp = TcpStream::connect((self.endpoint.host.as_str(), self.endpoint.port))
            .await
            .with_context(|| format!("connecting to etcd at {address}"))?;
        tcp.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(async move {
            // Its error, if any, reaches the writer through the next request.
            let _ = connection.await;
        });
        Ok(sender)
    }

    async fn put(&mut self, n: u64) -> anyhow::Result<()> {
        let mut sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.connect().await?,
        };
        let key = format!("{}{n}", self.key_prefix);
        let value = format!("bench message {:06}", n % 1_000_000);
        let body = json!({ "key": BASE64.encode(key), "value": BASE64.encode(value) });
        let request = Request::builder()
            .method(Method::POST)
            .uri("/v3/kv/put")
            .header(HOST, self.endpoint.authority.as_str())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())))?;
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        // The exchange completed: the connection can carry the next one.
        self.sender = Some(sender);
        if !status.is_success() {
            bail!(
                "POST /v3/kv/put answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(())
    }
}

impl Writer for EtcdWriter {
    async fn prepare(&mut self) -> anyhow::Result<()> {
        let sender = tokio::time::timeout(REQUEST_TIMEOUT, self.connect())
            .await
            .context("connecting to etcd timed out")??;
        self.sender = Some(sender);
        Ok(())
    }

    async fn write(&mut self, n: u64) -> anyhow::Result<Option<TxId>> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.put(n))
            .await
            .context("etcd put timed out")??;
        Ok(None)
    }
}

/// Runs `clients` closed-loop clients spread round-robin over `endpoints` for `duration`.
pub async fn bench(
    endpoints: &[Endpoint],
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    if endpoints.is_empty() {
        bail!("no etcd endpoint given");
    }
    let writers = (0..clients)
        .map(|index| EtcdWriter::new(endpoints[index % endpoints.len()].clone(), index))
        .collect();
    let run = closed_loop::run(writers, duration).await?;
    Ok(Report::committed_on_answer("etcd", &run))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_plain_http_with_a_port() {
        let endpoint = Endpoint::parse("http://127.0.0.1:2379").unwrap();
        assert_eq!((endpoint.host.as_str(), endpoint.port), ("127.0.0.1", 2379));
        assert_eq!(endpoint.authority, "127.0.0.1:2379");
        for url in [
            "https://127.0.0.1:2379",
            "127.0.0.1:2379",
            "http://127.0.0.1",
        ] {
            assert!(Endpoint::parse(url).is_err(), "{url} was accepted");
        }
    }
}
