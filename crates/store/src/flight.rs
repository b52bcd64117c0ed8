//! Single flight: concurrent loads of the same key share one query.
//!
//! The request path caches what it reads from the database (a key's row, a tenant's limits)
//! for about a second. When such an entry expires, every request in flight for that key
//! misses at the same moment; without this, each would run the same query (a thundering
//! herd: up to one query per concurrent request, where one would do). With it, the first
//! caller runs the load and the others wait for its result — its value or its error.
//!
//! - A load that is cancelled (its caller went away) is not shared: the next waiter runs its
//!   own, and a load no one waits for any more leaves nothing behind.
//! - A load is joined only in its first [`JOIN_WITHIN`]: a query that hangs holds the
//!   callers of that window, not every later one.
//! - [`SingleFlight::forget`] is for writes the running loads may not have seen (a key
//!   revoked, a plan changed on this instance). Loads started after it never join a load
//!   started before it, and it moves the epoch on: a caller caches what it got only when
//!   [`SingleFlight::current`] says the epoch its flight was made in is still the current one,
//!   checked under the cache's lock (so a `forget` that clears the cache after moving the
//!   epoch cannot be undone by an insert of an older value).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// A load in flight is joined only this long after it started; a later caller starts its
/// own. Far above a healthy lookup (milliseconds), so under normal load one query per key.
pub const JOIN_WITHIN: Duration = Duration::from_millis(500);

struct Flight<V> {
    result: OnceCell<V>,
    started: Instant,
    /// The epoch when the flight was made (under the map's lock, as `forget` moves it on).
    epoch: u64,
}

/// What a load gave, and the epoch its flight was made in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed<V> {
    /// The load's result (shared by every caller that joined it).
    pub value: V,
    /// Pass to [`SingleFlight::current`] before caching `value`.
    pub epoch: u64,
}

/// Loads in flight, per key.
pub struct SingleFlight<K: Hash + Eq, V> {
    flights: Mutex<HashMap<K, Arc<Flight<V>>>>,
    /// Moved on by every `forget`.
    epoch: AtomicU64,
    /// Loads run (not joined) since this was made.
    runs: AtomicU64,
}

impl<K: Hash + Eq, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        Self {
            flights: Mutex::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            runs: AtomicU64::new(0),
        }
    }
}

impl<K: Hash + Eq, V> std::fmt::Debug for SingleFlight<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleFlight").finish_non_exhaustive()
    }
}

/// A caller's hold on a flight. Dropped when the caller is done or cancelled: the flight
/// leaves the map once it has a result, or once no caller is left to wait for it. The hold's
/// reference is let go under the map's lock, where new callers take theirs, so of callers
/// cancelled at once the last always sees itself the last.
struct Hold<'a, K: Hash + Eq, V> {
    sf: &'a SingleFlight<K, V>,
    key: &'a K,
    flight: Option<Arc<Flight<V>>>,
}

impl<K: Hash + Eq, V> Drop for Hold<'_, K, V> {
    fn drop(&mut self) {
        let mut flights = self.sf.flights();
        let Some(mine) = self.flight.take() else {
            return;
        };
        let ours = flights.get(self.key).is_some_and(|f| Arc::ptr_eq(f, &mine));
        let done = mine.result.initialized();
        drop(mine);
        // Only the map's reference left: no caller waits for it.
        let unwaited = flights
            .get(self.key)
            .is_some_and(|f| Arc::strong_count(f) == 1);
        if ours && (done || unwaited) {
            flights.remove(self.key);
        }
    }
}

impl<K: Hash + Eq, V> SingleFlight<K, V> {
    fn flights(&self) -> MutexGuard<'_, HashMap<K, Arc<Flight<V>>>> {
        // The map holds no invariant a panic elsewhere could break.
        self.flights.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<K: Hash + Eq + Clone, V: Clone> SingleFlight<K, V> {
    /// `load`'s result for `key`, or the result of the load of `key` already running (if it
    /// started within [`JOIN_WITHIN`]). A load's error is its result too (`V` is typically a
    /// `Result`): the callers waiting for a failed load get its error rather than each trying
    /// again in turn.
    pub async fn load<F, Fut>(&self, key: &K, load: F) -> Landed<V>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = V>,
    {
        let flight = {
            let mut flights = self.flights();
            match flights.get(key) {
                Some(f) if f.started.elapsed() < JOIN_WITHIN => f.clone(),
                // None, or one that has run too long to wait for: a new flight (the old one
                // carries on for its own callers, and leaves the map as they finish).
                _ => {
                    let f = Arc::new(Flight {
                        result: OnceCell::new(),
                        started: Instant::now(),
                        epoch: self.epoch.load(Ordering::SeqCst),
                    });
                    flights.insert(key.clone(), f.clone());
                    f
                }
            }
        };
        let epoch = flight.epoch;
        let hold = Hold {
            sf: self,
            key,
            flight: Some(flight),
        };
        // `OnceCell` runs one initialiser at a time and hands its value to every waiter; if
        // the running one is cancelled, a waiter's own takes over.
        let value = match &hold.flight {
            Some(f) => f
                .result
                .get_or_init(|| {
                    self.runs.fetch_add(1, Ordering::Relaxed);
                    load()
                })
                .await
                .clone(),
            // Not reached: the hold keeps its flight until it is dropped.
            None => load().await,
        };
        drop(hold);
        Landed { value, epoch }
    }

    /// Detaches the loads running for the keys `which` picks (later loads of them start
    /// afresh) and moves the epoch on (what any load running now returns is not cached).
    pub fn forget(&self, which: impl Fn(&K) -> bool) {
        // Under the map's lock: a caller joins a flight made before this, and gets its
        // epoch, or one made after, never a flight from before with the epoch from after.
        let mut flights = self.flights();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        flights.retain(|k, _| !which(k));
    }

    /// Whether no `forget` has happened since the flight that landed in `epoch` was made:
    /// only then may its value be cached. Call it under the lock of the cache it goes into.
    pub fn current(&self, epoch: u64) -> bool {
        self.epoch.load(Ordering::SeqCst) == epoch
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

    /// Awaits `f`, failing the test (rather than hanging it) after 5 s.
    async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(5), f)
            .await
            .expect("did not finish within 5 s")
    }

    type Sf = SingleFlight<u64, Result<u32, String>>;

    /// A single flight whose loads wait for `release`, counting their runs.
    #[derive(Clone, Default)]
    struct Gate {
        sf: Arc<Sf>,
        runs: Arc<AtomicUsize>,
        release: Arc<Notify>,
    }

    impl Gate {
        /// Spawns a caller of `key` whose load gives `v` once released.
        fn spawn(
            &self,
            key: u64,
            v: Result<u32, String>,
        ) -> tokio::task::JoinHandle<Landed<Result<u32, String>>> {
            let g = self.clone();
            tokio::spawn(async move { g.sf.load(&key, || gated(&g.runs, &g.release, v)).await })
        }

        fn runs(&self) -> usize {
            self.runs.load(Ordering::SeqCst)
        }
    }

    #[tokio::test]
    async fn concurrent_loads_of_one_key_run_once_and_share_the_value() {
        let g = Gate::default();
        let sf = &g.sf;
        let tasks: Vec<_> = (0..32).map(|_| g.spawn(7, Ok(42))).collect();
        settle().await;
        assert_eq!(g.runs(), 1);
        assert_eq!(sf.in_flight(), 1);
        g.release.notify_waiters();
        for t in tasks {
            let landed = within(t).await.unwrap();
            assert_eq!(landed.value, Ok(42));
            assert!(sf.current(landed.epoch));
        }
        assert_eq!(g.runs(), 1);
        assert_eq!(sf.runs(), 1);
        assert_eq!(sf.in_flight(), 0);
        // The flight is over: the next load runs again.
        let again = sf.load(&7, || async { Ok(43) }).await;
        assert_eq!(again.value, Ok(43));
        assert_eq!(sf.runs(), 2);
    }

    #[tokio::test]
    async fn different_keys_do_not_wait_for_each_other() {
        let sf = Sf::default();
        let runs = AtomicUsize::new(0);
        let release = Notify::new();
        let blocked = sf.load(&1, || gated(&runs, &release, Ok(1)));
        tokio::pin!(blocked);
        assert!(futures::poll!(blocked.as_mut()).is_pending());
        // Key 2 completes while key 1 is still running.
        assert_eq!(sf.load(&2, || async { Ok(2) }).await.value, Ok(2));
        release.notify_waiters();
        assert_eq!(within(blocked).await.value, Ok(1));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_load_fails_its_waiters_without_each_retrying() {
        let g = Gate::default();
        let tasks: Vec<_> = (0..8).map(|_| g.spawn(7, Err("db down".into()))).collect();
        settle().await;
        g.release.notify_waiters();
        for t in tasks {
            assert_eq!(within(t).await.unwrap().value, Err("db down".to_owned()));
        }
        assert_eq!(g.runs(), 1);
        assert_eq!(g.sf.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_load_is_taken_over_by_a_waiter() {
        let g = Gate::default();
        let sf = &g.sf;
        let leader = g.spawn(7, Ok(1));
        settle().await;
        let follower = {
            let sf = sf.clone();
            tokio::spawn(async move { sf.load(&7, || async { Ok(2) }).await })
        };
        settle().await;
        assert!(!follower.is_finished(), "the follower waits for the leader");
        leader.abort();
        // The follower's own load runs once the leader's is gone.
        assert_eq!(within(follower).await.unwrap().value, Ok(2));
        assert_eq!(g.runs(), 1);
        assert_eq!(sf.runs(), 2, "the leader's load and the follower's");
        assert_eq!(sf.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_load_no_one_waits_for_leaves_nothing_behind() {
        let g = Gate::default();
        let sf = &g.sf;
        for key in 0..100 {
            let lone = g.spawn(key, Ok(1));
            settle().await;
            assert_eq!(sf.in_flight(), 1);
            lone.abort();
            let _ = lone.await;
            assert_eq!(sf.in_flight(), 0, "a cancelled lone load is gone");
        }
        assert_eq!(g.runs(), 100);
    }

    /// Callers of one key cancelled at the same moment on two threads: the last to go
    /// removes the flight, however their drops interleave.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_cancelled_together_leave_nothing_behind() {
        let g = Gate::default();
        for key in 0..300 {
            let before = g.runs();
            let callers: Vec<_> = (0..3).map(|_| g.spawn(key, Ok(1))).collect();
            while g.runs() == before {
                tokio::task::yield_now().await;
            }
            callers.iter().for_each(|c| c.abort());
            for c in callers {
                let _ = c.await;
            }
            assert_eq!(g.sf.in_flight(), 0, "key {key}");
        }
    }

    #[tokio::test]
    async fn a_load_running_too_long_is_not_joined() {
        let g = Gate::default();
        let sf = &g.sf;
        let hung = g.spawn(7, Ok(1));
        settle().await;
        // `Instant`s are the real clock's: wait out the join window for real.
        std::thread::sleep(JOIN_WITHIN + Duration::from_millis(50));
        let later = within(sf.load(&7, || async { Ok(2) })).await;
        assert_eq!(
            later.value,
            Ok(2),
            "a later caller does not wait for the hung load"
        );
        assert!(!hung.is_finished());
        g.release.notify_waiters();
        assert_eq!(within(hung).await.unwrap().value, Ok(1));
        assert_eq!(sf.in_flight(), 0);
    }

    #[tokio::test]
    async fn forget_detaches_running_loads_and_ends_their_epoch() {
        let g = Gate::default();
        let sf = &g.sf;
        let before = g.spawn(7, Ok(1));
        settle().await;
        sf.forget(|k| *k == 7);
        // A load after the write does not join the one before it, and may be cached.
        let after = sf.load(&7, || async { Ok(2) }).await;
        assert_eq!(after.value, Ok(2));
        assert!(sf.current(after.epoch));
        g.release.notify_waiters();
        let landed = within(before).await.unwrap();
        assert_eq!(landed.value, Ok(1));
        assert!(!sf.current(landed.epoch), "it started before the forget");
        assert_eq!(g.runs(), 1);
        // A load that lands before a forget, cached after it: not current either.
        let landed = sf.load(&8, || async { Ok(3) }).await;
        sf.forget(|_| true);
        assert!(!sf.current(landed.epoch));
        assert_eq!(sf.in_flight(), 0);
    }
}
