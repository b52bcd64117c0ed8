//! Tollgate's billing: what a plan costs, and what a tenant owes for a period — usage summed
//! by the database, rated by the pure [`tollgate_core::pricing`]. Prices change from the next
//! period; the draft invoice of the current period is computed live.

mod credits;
mod draft;
mod prices;
mod settings;

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
    /// Units recorded in the period.
    pub units: u64,
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

/// The billing service.
#[derive(Clone)]
pub struct Billing {
    store: Store,
    clock: Arc<dyn Clock>,
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
    /// Billing over `store`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}
