//! How Tollgate talks to a tenant's identity provider. The provider's discovery document says
//! where its keys and token endpoint are, and the provider is the tenant's (or whoever runs
//! it), so every request is held to the issuer's [`Network`]: the URL is checked before the
//! request, a name resolves only to addresses the network allows (one that also points
//! elsewhere is refused whole, and the connection uses exactly the addresses checked, so DNS
//! rebinding gains nothing), no redirect is followed, no proxy is used, the answer is read up
//! to [`MAX_ANSWER`] bytes and the whole exchange is time-boxed.

use super::checks::Network;
use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::url::Url;
use openidconnect::{DiscoveryError, HttpRequest, HttpResponse, IssuerUrl};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tollgate_core::net::is_local_name;
use tollgate_core::{Code, DomainError};

/// Longest answer read from a provider (a discovery document, a key set, a token answer).
pub(crate) const MAX_ANSWER: usize = 256 * 1024;
/// Longest a request to a provider may take, connection and answer included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request to a provider did not get an answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReachError {
    /// The URL, or the addresses its host resolves to, are not the issuer's network's.
    #[error("{0} is not on a network the identity provider may use")]
    Refused(String),
    /// The request failed, timed out or its answer was too long.
    #[error("{0}")]
    Failed(String),
}

/// A resolver answering only the addresses `Network` allows.
struct Guarded(Network);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let network = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            if network == Network::Public && is_local_name(&host) {
                return Err(Box::new(ReachError::Refused(host)) as _);
            }
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() || addrs.iter().any(|a| !network.allows(a.ip())) {
                // Which address it was stays in the server's log.
                tracing::info!(host, ?addrs, "identity provider host refused");
                return Err(Box::new(ReachError::Refused(host)) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// An HTTP client for the providers of one [`Network`].
#[derive(Clone)]
pub(crate) struct Reach {
    client: reqwest::Client,
    network: Network,
}

impl std::fmt::Debug for Reach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reach")
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

impl Reach {
    /// A client for providers on `network`.
    pub(crate) fn new(network: Network) -> Result<Self, DomainError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(TIMEOUT)
            .dns_resolver(Arc::new(Guarded(network)))
            .build()
            .map_err(|e| DomainError::internal(format!("http client: {e}")))?;
        Ok(Self { client, network })
    }

    /// Sends `request` (the shape `openidconnect` hands its HTTP client) and reads the answer.
    pub(crate) async fn send(self, request: HttpRequest) -> Result<HttpResponse, ReachError> {
        let url = Url::parse(&request.uri().to_string())
            .map_err(|_| ReachError::Failed("not a URL".into()))?;
        if !self.network.allows_url(&url) {
            return Err(ReachError::Refused(host_of(&url)));
        }
        let (parts, body) = request.into_parts();
        let sent = self
            .client
            .request(parts.method, url.clone())
            .headers(parts.headers)
            .body(body)
            .send();
        let mut answer = sent.await.map_err(|e| {
            // A refusal by the resolver surfaces as a connect error; say which it was.
            if is_refusal(&e) {
                ReachError::Refused(host_of(&url))
            } else {
                tracing::info!(error = %e, "a request to an identity provider failed");
                ReachError::Failed(format!("request to {} failed", host_of(&url)))
            }
        })?;
        let mut body = Vec::new();
        while let Some(chunk) = answer
            .chunk()
            .await
            .map_err(|_| ReachError::Failed(format!("reading {}'s answer failed", host_of(&url))))?
        {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(ReachError::Failed(format!(
                    "{}'s answer is longer than {MAX_ANSWER} bytes",
                    host_of(&url)
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let mut response = openidconnect::http::Response::new(body);
        *response.status_mut() = answer.status();
        *response.headers_mut() = answer.headers().clone();
        Ok(response)
    }

    /// The discovery document of `issuer`, checked: it states `issuer`, its key set is
    /// reachable and not empty, and every endpoint Tollgate calls or sends a browser to is on
    /// the issuer's network.
    pub(crate) async fn discover(
        &self,
        issuer: IssuerUrl,
    ) -> Result<CoreProviderMetadata, DomainError> {
        let call = |request: HttpRequest| self.clone().send(request);
        let metadata = CoreProviderMetadata::discover_async(issuer, &call)
            .await
            .map_err(discovery_failed)?;
        let mut endpoints = vec![
            (
                "authorization_endpoint",
                metadata.authorization_endpoint().url(),
            ),
            ("jwks_uri", metadata.jwks_uri().url()),
        ];
        match metadata.token_endpoint() {
            Some(token) => endpoints.push(("token_endpoint", token.url())),
            None => {
                return Err(DomainError::invalid(
                    Code::OidcDiscoveryFailed,
                    "the provider's discovery document names no token endpoint",
                ))
            }
        }
        if let Some((name, url)) = endpoints
            .into_iter()
            .find(|(_, url)| !self.network.allows_url(url))
        {
            return Err(endpoint_refused(name, url));
        }
        if metadata.jwks().keys().is_empty() {
            return Err(DomainError::invalid(
                Code::OidcDiscoveryFailed,
                "the provider's key set (jwks_uri) holds no key",
            ));
        }
        Ok(metadata)
    }

    /// The provider's current key set, from the pinned `metadata`'s `jwks_uri`.
    pub(crate) async fn keys(
        &self,
        metadata: &CoreProviderMetadata,
    ) -> Result<CoreJsonWebKeySet, DomainError> {
        let call = |request: HttpRequest| self.clone().send(request);
        CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &call)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "fetching an identity provider's keys failed");
                DomainError::invalid(
                    Code::OidcProviderUnavailable,
                    "the identity provider's keys could not be fetched",
                )
            })
    }
}

fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or("(no host)").to_owned()
}

/// Whether a reqwest error came from [`Guarded`] refusing a name.
fn is_refusal(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if matches!(
            err.downcast_ref::<ReachError>(),
            Some(ReachError::Refused(_))
        ) {
            return true;
        }
        source = err.source();
    }
    false
}

fn endpoint_refused(name: &str, url: &Url) -> DomainError {
    DomainError::invalid(
        Code::OidcEndpointRefused,
        format!(
            "the provider's {name} ({}) must be https on a public host",
            host_of(url)
        ),
    )
}

fn discovery_failed(e: DiscoveryError<ReachError>) -> DomainError {
    match e {
        DiscoveryError::Request(ReachError::Refused(host)) => DomainError::invalid(
            Code::OidcEndpointRefused,
            format!(
                "the provider's discovery sends Tollgate to {host}, which is not on a public host"
            ),
        ),
        other => {
            tracing::warn!(error = %other, "OpenID discovery failed");
            DomainError::invalid(
                Code::OidcDiscoveryFailed,
                "the issuer's OpenID configuration could not be fetched or read",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Reads a request's head (so closing the connection after the answer is not a reset).
    async fn read_head(s: &mut tokio::net::TcpStream) {
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// A listener that counts connections and answers each with a small JSON document.
    async fn listener() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                read_head(&mut s).await;
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                    .await;
            }
        });
        (port, hits)
    }

    fn get(url: &str) -> HttpRequest {
        openidconnect::http::Request::builder()
            .uri(url)
            .body(Vec::new())
            .unwrap()
    }

    /// A public issuer's client never connects to this host, named by address or by name;
    /// a this-host issuer's does.
    #[tokio::test]
    async fn a_public_providers_requests_never_reach_this_host() {
        let (port, hits) = listener().await;
        let public = Reach::new(Network::Public).unwrap();
        for url in [
            format!("https://127.0.0.1:{port}/jwks"),
            format!("http://127.0.0.1:{port}/jwks"),
            format!("https://localhost:{port}/jwks"),
            format!("https://[::ffff:127.0.0.1]:{port}/jwks"),
        ] {
            let err = public.clone().send(get(&url)).await.unwrap_err();
            assert!(matches!(err, ReachError::Refused(_)), "{url}: {err:?}");
        }
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);

        let here = Reach::new(Network::ThisHost).unwrap();
        let answer = here
            .send(get(&format!("http://127.0.0.1:{port}/jwks")))
            .await
            .unwrap();
        assert_eq!(
            (answer.status().as_u16(), answer.body().as_slice()),
            (200, &b"{}"[..])
        );
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    /// The resolver refuses a name local by its spelling, and one whose addresses are not
    /// the network's (an address written as a name stands for a name that resolves inside).
    #[tokio::test]
    async fn the_resolver_refuses_names_that_point_inside() {
        for name in ["localhost.", "metadata", "127.0.0.1", "10.1.2.3"] {
            let refused = Guarded(Network::Public)
                .resolve(name.parse().unwrap())
                .await;
            assert!(refused.is_err(), "{name}");
        }
        let here = Guarded(Network::ThisHost)
            .resolve("localhost".parse().unwrap())
            .await
            .map(|a| a.collect::<Vec<_>>());
        assert!(here.is_ok_and(|a| a.iter().all(|a| a.ip().is_loopback())));
    }

    /// An answer longer than the bound is not read to its end.
    #[tokio::test]
    async fn a_long_answer_is_cut_off() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            if let Ok((mut s, _)) = l.accept().await {
                read_head(&mut s).await;
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n")
                    .await;
                let chunk = vec![b' '; 64 * 1024];
                for _ in 0..64 {
                    if s.write_all(&chunk).await.is_err() {
                        break;
                    }
                }
            }
        });
        let err = Reach::new(Network::ThisHost)
            .unwrap()
            .send(get(&format!("http://127.0.0.1:{port}/")))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("longer than"), "{err}");
    }
}
