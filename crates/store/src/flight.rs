//! Single flight: concurrent loads of the same key share one query.
//!
//! The request path caches what it reads from the database (a key's row, a tenant's limits)
//! for about a second. When such an entry expires, every request in flight for that key
//! misses at the same moment; without this, each would run the same query (a thundering
//! herd: up to one query per concurrent request, where one would do). With it, the first
//! caller runs the load and the others wait for its result — its value or its error.
//!
//! A load that is cancelled (its caller went away) is not shared: the next waiter runs its
//! own. [`SingleFlight::forget`] is for writes the running loads may not have seen (a key
//! revoked, a plan changed on this instance): loads started after it never join a load
//! started before it, and the callers of that earlier load are told its value is stale, so
//! they do not cache it.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::OnceCell;

struct Flight<V> {
    result: OnceCell<V>,
    /// Set by `forget`: the result may predate a write, so it must not be cached.
    stale: AtomicBool,
}

/// What a load gave, and whether it may be cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed<V> {
    /// The load's result (shared by every caller that joined it).
    pub value: V,
    /// `true` unless [`SingleFlight::forget`] picked the key while the load ran:
    /// then the value may predate a write, and the caller should use it but not cache it.
    pub cacheable: bool,
}

/// Loads in flight, per key.
pub struct SingleFlight<K, V> {
    flights: Mutex<HashMap<K, Arc<Flight<V>>>>,
    /// Loads run (not joined) since this was made.
    runs: AtomicU64,
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        Self {
            flights: Mutex::new(HashMap::new()),
            runs: AtomicU64::new(0),
        }
    }
}

impl<K, V> std::fmt::Debug for SingleFlight<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleFlight").finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone, V: Clone> SingleFlight<K, V> {
    fn flights(&self) -> MutexGuard<'_, HashMap<K, Arc<Flight<V>>>> {
        // The map holds no invariant a panic elsewhere could break.
        self.flights.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `load`'s result for `key`, or the result of the load of `key` already running. A
    /// load's error is its result too (`V` is typically a `Result`): the callers waiting for
    /// a failed load get its error rather than each trying again in turn.
    pub async fn load<F, Fut>(&self, key: &K, load: F) -> Landed<V>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = V>,
    {
        let flight = self
            .flights()
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(Flight {
                    result: OnceCell::new(),
                    stale: AtomicBool::new(false),
                })
            })
            .clone();
        // `OnceCell` runs one initialiser at a time and hands its value to every waiter; if
        // the running one is cancelled, a waiter's own takes over.
        let value = flight
            .result
            .get_or_init(|| {
                self.runs.fetch_add(1, Ordering::Relaxed);
                load()
            })
            .await
            .clone();
        {
            let mut flights = self.flights();
            if flights.get(key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
                flights.remove(key);
            }
        }
        Landed {
            value,
            cacheable: !flight.stale.load(Ordering::Acquire),
        }
    }

    /// Detaches the loads running for the keys `which` picks: later loads of them start
    /// afresh, and the detached loads' callers are told not to cache what they got.
    pub fn forget(&self, which: impl Fn(&K) -> bool) {
        let mut flights = self.flights();
        flights.retain(|k, f| {
            let keep = !which(k);
            if !keep {
                f.stale.store(true, Ordering::Release);
            }
            keep
        });
    }

    /// Loads run since this was made (a load joined by others counts once).
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// How many keys have a load running.
    pub fn in_flight(&self) -> usize {
        self.flights().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use tokio::sync::Notify;

    /// A load that counts its runs and finishes when `release` is notified.
    async fn gated(
        runs: &AtomicUsize,
        release: &Notify,
        v: Result<u32, String>,
    ) -> Result<u32, String> {
        runs.fetch_add(1, Ordering::SeqCst);
        release.notified().await;
        v
    }

    /// Lets every spawned task run until it waits (a current-thread runtime).
    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn concurrent_loads_of_one_key_run_once_and_share_the_value() {
        let sf = Arc::new(SingleFlight::<u64, Result<u32, String>>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(Notify::new());
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (sf, runs, release) = (sf.clone(), runs.clone(), release.clone());
            tasks.push(tokio::spawn(async move {
                sf.load(&7, || gated(&runs, &release, Ok(42))).await
            }));
        }
        settle().await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(sf.in_flight(), 1);
        release.notify_waiters();
        for t in tasks {
            let landed = t.await.unwrap();
            assert_eq!(
                landed,
                Landed {
                    value: Ok(42),
                    cacheable: true
                }
            );
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(sf.runs(), 1);
        assert_eq!(sf.in_flight(), 0);
        // The flight is over: the next load runs again.
        let again = sf.load(&7, || async { Ok(43) }).await;
        assert_eq!(again.value, Ok(43));
    }

    #[tokio::test]
    async fn different_keys_do_not_wait_for_each_other() {
        let sf = SingleFlight::<u64, Result<u32, String>>::default();
        let runs = AtomicUsize::new(0);
        let release = Notify::new();
        let blocked = sf.load(&1, || gated(&runs, &release, Ok(1)));
        tokio::pin!(blocked);
        assert!(futures::poll!(blocked.as_mut()).is_pending());
        // Key 2 completes while key 1 is still running.
        assert_eq!(sf.load(&2, || async { Ok(2) }).await.value, Ok(2));
        release.notify_waiters();
        assert_eq!(blocked.await.value, Ok(1));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_load_fails_its_waiters_without_each_retrying() {
        let sf = Arc::new(SingleFlight::<u64, Result<u32, String>>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(Notify::new());
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (sf, runs, release) = (sf.clone(), runs.clone(), release.clone());
            tasks.push(tokio::spawn(async move {
                sf.load(&7, || gated(&runs, &release, Err("db down".into())))
                    .await
            }));
        }
        settle().await;
        release.notify_waiters();
        for t in tasks {
            assert_eq!(t.await.unwrap().value, Err("db down".to_owned()));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_cancelled_load_is_taken_over_by_a_waiter() {
        let sf = Arc::new(SingleFlight::<u64, Result<u32, String>>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(Notify::new());
        let leader = {
            let (sf, runs, release) = (sf.clone(), runs.clone(), release.clone());
            tokio::spawn(async move { sf.load(&7, || gated(&runs, &release, Ok(1))).await })
        };
        settle().await;
        let follower = {
            let sf = sf.clone();
            tokio::spawn(async move { sf.load(&7, || async { Ok(2) }).await })
        };
        settle().await;
        assert!(!follower.is_finished(), "the follower waits for the leader");
        leader.abort();
        // The follower's own load runs once the leader's is gone.
        assert_eq!(follower.await.unwrap().value, Ok(2));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(sf.in_flight(), 0);
    }

    #[tokio::test]
    async fn forget_detaches_a_running_load_and_marks_it_stale() {
        let sf = Arc::new(SingleFlight::<u64, Result<u32, String>>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(Notify::new());
        let before = {
            let (sf, runs, release) = (sf.clone(), runs.clone(), release.clone());
            tokio::spawn(async move { sf.load(&7, || gated(&runs, &release, Ok(1))).await })
        };
        settle().await;
        sf.forget(|k| *k == 7);
        // A load after the write does not join the one before it.
        let after = sf.load(&7, || async { Ok(2) }).await;
        assert_eq!(
            after,
            Landed {
                value: Ok(2),
                cacheable: true
            }
        );
        release.notify_waiters();
        assert_eq!(
            before.await.unwrap(),
            Landed {
                value: Ok(1),
                cacheable: false
            }
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Forgetting every key does the same.
        let before = {
            let (sf, runs, release) = (sf.clone(), runs.clone(), release.clone());
            tokio::spawn(async move { sf.load(&8, || gated(&runs, &release, Ok(1))).await })
        };
        settle().await;
        sf.forget(|_| true);
        assert_eq!(sf.in_flight(), 0);
        release.notify_waiters();
        assert!(!before.await.unwrap().cacheable);
    }
}
