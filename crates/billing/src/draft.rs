//! The current period's draft invoice, rated live from the usage table (a SQL sum).

use crate::{stored, Billing, Draft};
use tollgate_core::plan::Period;
use tollgate_core::pricing::Price;
use tollgate_core::{Code, DomainError, TenantId};
use tollgate_store::billing::{grants_of, usable_credit};

impl Billing {
    /// The plan `tenant` is on and its price in `period`: 404 `no_price` when there is
    /// none (nothing is billed).
    pub(crate) async fn plan_and_price(
        &self,
        tenant: TenantId,
        period: &str,
    ) -> Result<(String, Price), DomainError> {
        let no_price = || {
            DomainError::invalid(
                Code::NoPrice,
                "the tenant's plan has no price: nothing is billed",
            )
        };
        // The plan in force at the period's end: a plan changed during the grace does not
        // reprice the period before, and periods before the tenant's first plan bill nothing.
        let end = tollgate_core::plan::Period::parse(period)?.end();
        let plan = self
            .store
            .plan_in_force(tenant, end)
            .await?
            .ok_or_else(no_price)?;
        let row = self
            .store
            .plan_price(plan.id, period)
            .await?
            .ok_or_else(no_price)?;
        Ok((plan.name, stored(&row.price)?))
    }

    /// The price `tenant`'s plan has in `period` (see [`Self::plan_and_price`]).
    pub(crate) async fn price_of(
        &self,
        tenant: TenantId,
        period: &str,
    ) -> Result<Price, DomainError> {
        Ok(self.plan_and_price(tenant, period).await?.1)
    }

    /// The current period's draft invoice of `tenant`: its usage so far, rated with its
    /// plan's price in the period, less the prepaid credit it would use now.
    pub async fn upcoming(&self, tenant: TenantId) -> Result<Draft, DomainError> {
        let now = self.clock.now();
        let period = Period::of(now).key();
        let (plan, price) = self.plan_and_price(tenant, &period).await?;
        let invoices = self.store.invoices(tenant).await?;
        let billable = self
            .billable(self.store.conn(), tenant, &period, &invoices)
            .await?;
        let units = u64::try_from(billable.total()).unwrap_or(0);
        let rating = price.rate(units)?;
        let ledger = self.store.credit_ledger(tenant).await?;
        let credit = usable_credit(&grants_of(&ledger), price.currency.as_str(), now);
        Ok(Draft {
            tenant,
            period,
            plan,
            credit_applied: credit.clamp(0, rating.total.max(0)),
            price,
            units,
            late: billable.late,
            rating,
        })
    }
}
