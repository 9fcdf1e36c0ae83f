//! MCP's streamable HTTP transport: rmcp's service behind a small hyper server that serves
//! only `/mcp` and, when a token is set, answers 401 to any request without
//! `Authorization: Bearer TOKEN`. A token is required for an address that is not loopback.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::documents::Backend;
use super::tools::LexsearchMcp;

/// The path MCP is served at.
pub const MCP_PATH: &str = "/mcp";

type Service = StreamableHttpService<LexsearchMcp, LocalSessionManager>;

/// Refuses to expose the index beyond this machine without a token.
pub fn check_exposure(addr: SocketAddr, token: Option<&str>) -> anyhow::Result<()> {
    if !addr.ip().is_loopback() && token.is_none() {
        anyhow::bail!(
            "{addr} is not a loopback address, so anyone who can reach it could read the index: \
             add --token-file FILE (clients then send `Authorization: Bearer TOKEN`, TOKEN being \
             the file's content), or serve on 127.0.0.1"
        );
    }
    Ok(())
}

/// Serves MCP at `http://ADDR/mcp` until Ctrl-C.
pub async fn serve(
    backend: Arc<Backend>,
    addr: SocketAddr,
    token: Option<String>,
) -> anyhow::Result<()> {
    let mut config = StreamableHttpServerConfig::default();
    if !addr.ip().is_loopback() {
        // rmcp's Host check guards unauthenticated loopback servers against DNS rebinding;
        // here the bearer token guards every request, under whatever name the host has.
        config = config.disable_allowed_hosts();
    }
    let stop = config.cancellation_token.clone();
    let service: Service = StreamableHttpService::new(
        move || Ok(LexsearchMcp::new(backend.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    eprintln!(
        "lexsearch mcp: serving MCP at http://{local}{MCP_PATH}{} (Ctrl-C stops)",
        if token.is_some() {
            ", bearer token required"
        } else {
            ""
        }
    );
    let token: Option<Arc<str>> = token.map(Into::into);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, a connection reset before accept: keep serving.
                Err(e) => {
                    eprintln!("lexsearch mcp: cannot accept a connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = tokio::signal::ctrl_c() => break,
        };
        let service = service.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |req: Request<Incoming>| {
                let service = service.clone();
                let token = token.clone();
                async move { Ok::<_, Infallible>(route(&service, token.as_deref(), req).await) }
            });
            // A client that goes away mid-request is no error of the server's.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), handler)
                .await;
        });
    }
    stop.cancel();
    Ok(())
}

async fn route(
    service: &Service,
    token: Option<&str>,
    req: Request<Incoming>,
) -> Response<BoxBody<Bytes, Infallible>> {
    if req.uri().path() != MCP_PATH {
        return plain(
            StatusCode::NOT_FOUND,
            format!("lexsearch serves MCP at {MCP_PATH}\n"),
        );
    }
    if let Some(token) = token
        && !authorized(req.headers().get(header::AUTHORIZATION), token)
    {
        let mut res = plain(
            StatusCode::UNAUTHORIZED,
            "send `Authorization: Bearer TOKEN` with the token of the server's --token-file\n"
                .into(),
        );
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return res;
    }
    service.handle(req).await
}

fn plain(status: StatusCode, text: String) -> Response<BoxBody<Bytes, Infallible>> {
    let mut res = Response::new(Full::new(Bytes::from(text)).boxed());
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// Whether an `Authorization` header carries `Bearer token` (compared in constant time).
fn authorized(value: Option<&header::HeaderValue>, token: &str) -> bool {
    let Some(value) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, given)) = value.trim().split_once(' ') else {
        return false;
    };
    let (given, token) = (given.trim().as_bytes(), token.as_bytes());
    scheme.eq_ignore_ascii_case("bearer")
        && given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_authorized() {
        let h = |s: &'static str| header::HeaderValue::from_static(s);
        assert!(authorized(Some(&h("Bearer s3cret")), "s3cret"));
        assert!(authorized(Some(&h("bearer  s3cret ")), "s3cret"));
        assert!(!authorized(Some(&h("Bearer s3cre")), "s3cret"));
        assert!(!authorized(Some(&h("Bearer s3cretX")), "s3cret"));
        assert!(!authorized(Some(&h("Basic s3cret")), "s3cret"));
        assert!(!authorized(Some(&h("s3cret")), "s3cret"));
        assert!(!authorized(None, "s3cret"));
    }

    #[test]
    fn a_non_loopback_address_needs_a_token() {
        let public: SocketAddr = "0.0.0.0:8765".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8765".parse().unwrap();
        let local6: SocketAddr = "[::1]:8765".parse().unwrap();
        let err = check_exposure(public, None).unwrap_err().to_string();
        assert!(err.contains("--token-file"), "{err}");
        assert!(check_exposure(public, Some("t")).is_ok());
        assert!(check_exposure(local, None).is_ok());
        assert!(check_exposure(local6, None).is_ok());
    }
}
