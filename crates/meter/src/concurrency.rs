//! In-flight caps per tenant: a semaphore each, sized by the tenant's plan. A permit is held
//! for the whole request and released when dropped — on success, error, timeout or a client
//! that went away mid-request alike. Per instance: N instances allow N × the cap.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tollgate_core::TenantId;

/// Semaphores by tenant.
#[derive(Default)]
pub struct Concurrency {
    slots: Mutex<HashMap<TenantId, (u32, Arc<Semaphore>)>>,
}

impl Concurrency {
    /// Takes one of the tenant's `max` slots, or `None` when all are taken. A changed `max`
    /// takes effect for new requests (requests in flight keep their permits).
    pub fn try_acquire(&self, tenant: TenantId, max: u32) -> Option<OwnedSemaphorePermit> {
        let sem = {
            let mut slots = self.slots.lock().ok()?;
            let entry = slots
                .entry(tenant)
                .or_insert_with(|| (max, Arc::new(Semaphore::new(max as usize))));
            if entry.0 != max {
                *entry = (max, Arc::new(Semaphore::new(max as usize)));
            }
            entry.1.clone()
        };
        sem.try_acquire_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_come_back_when_dropped() {
        let c = Concurrency::default();
        let t = TenantId::new();
        let a = c.try_acquire(t, 2);
        let b = c.try_acquire(t, 2);
        assert!(a.is_some() && b.is_some());
        assert!(c.try_acquire(t, 2).is_none());
        drop(a);
        assert!(c.try_acquire(t, 2).is_some());
        assert!(
            c.try_acquire(TenantId::new(), 2).is_some(),
            "tenants are apart"
        );
    }
}
