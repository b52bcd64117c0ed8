//! Finalized invoices and their lines. An invoice is written once, with its lines, in the
//! transaction that finalizes it; afterwards only its payment state and the id an external
//! system gave it change.

use crate::entity::{invoice, invoice_line, usage_event};
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::BTreeMap;
use tollgate_core::{DomainError, TenantId};

pub use invoice::Model as Invoice;
pub use invoice_line::Model as InvoiceLine;

/// Invoice states.
pub mod status {
    /// Finalized, not paid yet.
    pub const OPEN: &str = "open";
    /// Paid (or nothing was owed).
    pub const PAID: &str = "paid";
}

#[derive(Debug, FromQueryResult)]
struct PeriodSum {
    period: String,
    total: i64,
}

impl Store {
    /// Units recorded for `tenant` in each of `periods` (a SQL aggregate).
    pub async fn usage_units_by_period(
        &self,
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        periods: &[String],
    ) -> Result<BTreeMap<String, i64>, DomainError> {
        if periods.is_empty() {
            return Ok(BTreeMap::new());
        }
        let rows = usage_event::Entity::find()
            .select_only()
            .column(usage_event::Column::Period)
            .column_as(
                Expr::cust("CAST(COALESCE(SUM(units), 0) AS BIGINT)"),
                "total",
            )
            .filter(usage_event::Column::TenantId.eq(tenant.0))
            .filter(usage_event::Column::Period.is_in(periods.iter().cloned()))
            .group_by(usage_event::Column::Period)
            .into_model::<PeriodSum>()
            .all(conn)
            .await
            .map_err(map_db_err)?;
        Ok(rows.into_iter().map(|r| (r.period, r.total)).collect())
    }

    /// The tenant's invoices, newest first.
    pub async fn invoices_in(
        &self,
        conn: &impl ConnectionTrait,
        tenant: TenantId,
    ) -> Result<Vec<Invoice>, DomainError> {
        invoice::Entity::find()
            .filter(invoice::Column::TenantId.eq(tenant.0))
            .order_by_desc(invoice::Column::Number)
            .all(conn)
            .await
            .map_err(map_db_err)
    }

    /// The tenant's invoices, newest first.
    pub async fn invoices(&self, tenant: TenantId) -> Result<Vec<Invoice>, DomainError> {
        self.invoices_in(self.conn(), tenant).await
    }

    /// Every tenant's invoices of `period`, by tenant and number (operators).
    pub async fn invoices_of_period(&self, period: &str) -> Result<Vec<Invoice>, DomainError> {
        invoice::Entity::find()
            .filter(invoice::Column::Period.eq(period))
            .order_by_asc(invoice::Column::TenantId)
            .order_by_asc(invoice::Column::Number)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// One invoice of `tenant`; another tenant's (or none) is not found.
    pub async fn tenant_invoice(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
    ) -> Result<Invoice, DomainError> {
        invoice::Entity::find_by_id(id)
            .filter(invoice::Column::TenantId.eq(tenant.0))
            .one(self.conn())
            .await
            .map_err(map_db_err)?
            .ok_or(DomainError::NotFound("invoice"))
    }

    /// Any tenant's invoice (operators).
    pub async fn invoice_by_id(
        &self,
        conn: &impl ConnectionTrait,
        id: uuid::Uuid,
    ) -> Result<Invoice, DomainError> {
        invoice::Entity::find_by_id(id)
            .one(conn)
            .await
            .map_err(map_db_err)?
            .ok_or(DomainError::NotFound("invoice"))
    }

    /// An invoice's lines, in order.
    pub async fn invoice_lines(
        &self,
        invoice: uuid::Uuid,
    ) -> Result<Vec<InvoiceLine>, DomainError> {
        invoice_line::Entity::find()
            .filter(invoice_line::Column::InvoiceId.eq(invoice))
            .order_by_asc(invoice_line::Column::Position)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Writes a finalized invoice and its lines.
    pub async fn insert_invoice(
        &self,
        txn: &impl ConnectionTrait,
        inv: Invoice,
        lines: Vec<InvoiceLine>,
    ) -> Result<(), DomainError> {
        invoice::Entity::insert(invoice::ActiveModel::from(inv))
            .exec_without_returning(txn)
            .await
            .map_err(map_db_err)?;
        if !lines.is_empty() {
            invoice_line::Entity::insert_many(
                lines.into_iter().map(invoice_line::ActiveModel::from),
            )
            .exec_without_returning(txn)
            .await
            .map_err(map_db_err)?;
        }
        Ok(())
    }

    /// Marks an open invoice paid at `at`; `false` when it was not open.
    pub async fn mark_invoice_paid(
        &self,
        txn: &impl ConnectionTrait,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        let done = invoice::Entity::update_many()
            .col_expr(invoice::Column::Status, Expr::value(status::PAID))
            .col_expr(invoice::Column::PaidAt, Expr::value(at))
            .filter(invoice::Column::Id.eq(id))
            .filter(invoice::Column::Status.eq(status::OPEN))
            .exec(txn)
            .await
            .map_err(map_db_err)?;
        Ok(done.rows_affected == 1)
    }

    /// Records the id Stripe gave an invoice.
    pub async fn set_invoice_stripe_id(
        &self,
        conn: &impl ConnectionTrait,
        id: uuid::Uuid,
        stripe_id: &str,
    ) -> Result<(), DomainError> {
        invoice::Entity::update_many()
            .col_expr(invoice::Column::StripeInvoiceId, Expr::value(stripe_id))
            .filter(invoice::Column::Id.eq(id))
            .exec(conn)
            .await
            .map_err(map_db_err)?;
        Ok(())
    }

    /// Open invoices due before `now`, oldest first.
    pub async fn overdue_invoices(&self, now: DateTime<Utc>) -> Result<Vec<Invoice>, DomainError> {
        invoice::Entity::find()
            .filter(invoice::Column::Status.eq(status::OPEN))
            .filter(invoice::Column::DueAt.lt(now))
            .order_by_asc(invoice::Column::DueAt)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }
}
