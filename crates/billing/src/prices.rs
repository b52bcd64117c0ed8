//! Plan prices, versioned by the period they apply from.

use crate::{Billing, PriceSet};
use tollgate_core::plan::Period;
use tollgate_core::pricing::Price;
use tollgate_core::{DomainError, RequestCtx};
use tollgate_store::audit::NewAuditEvent;

impl Billing {
    /// Sets the price of the plan named `plan`. It applies from the next period when the
    /// plan already has a price this period (so no period is rated with two prices), or from
    /// this period when it has none yet. The decision, the row and its audit event (on the
    /// platform chain) commit together; two operators racing are serialised by the chain.
    pub async fn set_price(
        &self,
        plan: &str,
        price: Price,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<PriceSet, DomainError> {
        price.validate()?;
        let row = self.store.plan_by_name(plan.trim()).await?;
        let now = self.clock.now();
        let current = Period::of(now);
        let json = serde_json::to_string(&price).map_err(DomainError::internal)?;
        let done = self
            .store
            .audited(None, |txn| {
                let (store, json, price) = (self.store.clone(), json.clone(), price.clone());
                let (plan_id, plan_name, ctx) = (row.id, row.name.clone(), ctx.clone());
                let actor = actor.to_owned();
                Box::pin(async move {
                    let priced_now = store
                        .plan_price_in(txn, plan_id, &current.key())
                        .await?
                        .is_some();
                    let effective = if priced_now { current.next() } else { current }.key();
                    store
                        .set_plan_price(txn, plan_id, &effective, &json, now)
                        .await?;
                    let detail =
                        serde_json::json!({ "effective_period": effective, "price": price });
                    let event = NewAuditEvent::new(&actor, "plan.price_set", &ctx, now)
                        .target(Some(format!("plan:{plan_name}")))
                        .detail(detail);
                    Ok(Some((effective, event)))
                })
            })
            .await?;
        let (effective_period, _) =
            done.ok_or_else(|| DomainError::internal("setting a price did nothing"))?;
        Ok(PriceSet {
            plan: row.name,
            effective_period,
            price,
        })
    }
}
