//! Tollgate's billing: what a plan costs, and what a tenant owes for a period — usage summed
//! by the database, rated by the pure [`tollgate_core::pricing`]. Prices change from the next
//! period; the draft invoice of the current period is computed live; finalized invoices are
//! synced to Stripe through the outbox ([`stripe_sync`]).

mod credits;
mod draft;
mod invoices;
mod prices;
mod settings;
pub mod stripe_sync;

pub use invoices::{
    csv, EventOutcome, Finalized, InvoiceView, JobRun, PeriodReport, StripeEvent,
    STRIPE_INVOICE_TOPIC, STRIPE_PAID_TOPIC,
};

pub use credits::{CreditGrant, Credits};
pub use settings::{Settings, SpendCap};

use std::sync::Arc;
use tollgate_core::pricing::{Line, LineKind, Price, Rating};
use tollgate_core::{Clock, DomainError, TenantId};
use tollgate_store::Store;

/// An invoice not finalized yet: the current period's, rated from the usage recorded so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The tenant.
    pub tenant: TenantId,
    /// The period (`YYYY-MM`).
    pub period: String,
    /// The tenant's plan.
    pub plan: String,
    /// The price it is rated with (the plan's price in that period).
    pub price: Price,
    /// Units billed: the period's, plus any recorded late for earlier invoiced periods.
    pub units: u64,
    /// Of them, recorded late for earlier, already invoiced periods: `(period, units)`.
    pub late: Vec<(String, i64)>,
    /// The rating: base fee, included units, overage; `rating.total` is the subtotal.
    pub rating: Rating,
    /// Prepaid credit it would use (at most the subtotal), in the price's currency.
    pub credit_applied: i64,
}

impl Draft {
    /// The lines: the rating's, then the credit applied (negative) when there is any.
    pub fn lines(&self) -> Vec<Line> {
        let mut lines = self.rating.lines.clone();
        if self.credit_applied > 0 {
            lines.push(Line {
                kind: LineKind::Credit,
                quantity: 1,
                amount: -self.credit_applied,
            });
        }
        lines
    }

    /// What is owed: the subtotal less the credit applied (the sum of [`lines`](Self::lines)).
    pub fn total(&self) -> i64 {
        self.rating.total - self.credit_applied
    }
}

/// When a new price applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceSet {
    /// The plan.
    pub plan: String,
    /// The first period (`YYYY-MM`) it applies to.
    pub effective_period: String,
    /// The price.
    pub price: Price,
}

/// How invoices are finalized and collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long after a period ends its invoice waits for late usage events before it is
    /// finalized (default 1 h).
    pub grace: chrono::Duration,
    /// Days from finalization until an invoice is due (default 30).
    pub due_days: i64,
    /// Whether a tenant with an invoice open past its due date is suspended (default yes).
    pub suspend_unpaid: bool,
    /// Whether finalized invoices are queued for Stripe (only with a Stripe key).
    pub stripe_sync: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            grace: chrono::Duration::hours(1),
            due_days: 30,
            suspend_unpaid: true,
            stripe_sync: false,
        }
    }
}

/// The billing service.
#[derive(Clone)]
pub struct Billing {
    store: Store,
    clock: Arc<dyn Clock>,
    policy: Policy,
}

impl std::fmt::Debug for Billing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Billing")
    }
}

fn stored(json: &str) -> Result<Price, DomainError> {
    serde_json::from_str(json).map_err(|e| DomainError::internal(format!("a stored price: {e}")))
}

impl Billing {
    /// Billing over `store`, with the default [`Policy`].
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            policy: Policy::default(),
        }
    }

    /// The same with `policy`.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The policy.
    pub fn policy(&self) -> Policy {
        self.policy
    }
}
