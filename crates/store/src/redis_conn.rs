//! The Redis that instances share (rate limits, quota counters, revocations, sign-in
//! backoff): one server, or a Redis Cluster. `REDIS_URL` names either:
//!
//! - `redis://host:port[/db]` (or `rediss://…`): one server (or a proxy in front of many);
//! - `redis+cluster://[user:password@]host1:port1,host2:port2,…` (`rediss+cluster://` for
//!   TLS): a Redis Cluster, found from any of the listed nodes (the rest of the cluster is
//!   discovered);
//! - a comma-separated list of `redis://` URLs: the same cluster, node by node.
//!
//! Every multi-key operation Tollgate makes keeps its keys in one hash slot (a tenant's keys
//! carry `{<tenant id>}`), so it runs unchanged on a cluster.

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use std::time::Duration;

/// A connection to the shared Redis: cheap to clone, reconnects by itself.
#[derive(Clone)]
pub enum RedisConn {
    /// One server.
    Single(ConnectionManager),
    /// A Redis Cluster: commands go to the node that serves their key's slot, and the slot
    /// map is refreshed when a node moves or fails over.
    Cluster(ClusterConnection),
}

impl std::fmt::Debug for RedisConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RedisConn::Single(_) => "RedisConn::Single",
            RedisConn::Cluster(_) => "RedisConn::Cluster",
        })
    }
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConn::Single(c) => c.req_packed_command(cmd),
            RedisConn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConn::Single(c) => c.req_packed_commands(cmd, offset, count),
            RedisConn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConn::Single(c) => c.get_db(),
            RedisConn::Cluster(c) => c.get_db(),
        }
    }
}

/// The nodes of a cluster `url` names, or `None` for a single server. In
/// `redis+cluster://[user:password@]h1:p1,h2:p2` (`rediss+cluster://` for TLS) the scheme and
/// the credentials apply to every node.
pub fn cluster_nodes(url: &str) -> Option<Vec<String>> {
    let clustered = [
        ("redis+cluster://", "redis://"),
        ("rediss+cluster://", "rediss://"),
    ];
    for (prefix, scheme) in clustered {
        if let Some(rest) = url.strip_prefix(prefix) {
            let (auth, hosts) = match rest.rsplit_once('@') {
                Some((auth, hosts)) => (format!("{auth}@"), hosts),
                None => (String::new(), rest),
            };
            return Some(
                hosts
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(|n| format!("{scheme}{auth}{n}"))
                    .collect(),
            );
        }
    }
    url.contains(',').then(|| {
        url.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

/// How commands behave while Redis is away: they time out after `response` and a lost
/// connection is retried once, briefly, so callers get an error at once and take their
/// fallback path instead of queueing behind minutes of reconnect backoff.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Connecting to a node.
    pub connect: Duration,
    /// Waiting for an answer.
    pub response: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_millis(500),
            response: Duration::from_secs(1),
        }
    }
}

/// Connects to the Redis (or Redis Cluster) `url` names.
pub async fn connect(url: &str, t: Timeouts) -> Result<RedisConn, redis::RedisError> {
    match cluster_nodes(url) {
        Some(nodes) => {
            let client = ClusterClient::builder(nodes)
                .connection_timeout(t.connect)
                .response_timeout(t.response)
                .retries(2)
                .min_retry_wait(50)
                .max_retry_wait(200)
                .build()?;
            Ok(RedisConn::Cluster(client.get_async_connection().await?))
        }
        None => {
            let client = redis::Client::open(url)?;
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(t.connect)
                .set_response_timeout(t.response)
                .set_number_of_retries(1)
                .set_factor(50)
                .set_max_delay(200);
            Ok(RedisConn::Single(
                ConnectionManager::new_with_config(client, config).await?,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cluster_nodes;

    #[test]
    fn cluster_urls_name_their_nodes() {
        assert_eq!(cluster_nodes("redis://127.0.0.1:6379"), None);
        assert_eq!(
            cluster_nodes("redis+cluster://10.0.0.1:7000, 10.0.0.2:7001,"),
            Some(vec![
                "redis://10.0.0.1:7000".to_owned(),
                "redis://10.0.0.2:7001".to_owned()
            ])
        );
        assert_eq!(
            cluster_nodes("rediss+cluster://u:p@a:1,b:2"),
            Some(vec![
                "rediss://u:p@a:1".to_owned(),
                "rediss://u:p@b:2".to_owned()
            ])
        );
        assert_eq!(
            cluster_nodes("redis://a:1,redis://b:2"),
            Some(vec!["redis://a:1".to_owned(), "redis://b:2".to_owned()])
        );
    }
}
