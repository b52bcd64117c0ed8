//! Finalized invoices and the outbox.
//!
//! - `invoices`: one per tenant and period (unique), numbered per tenant from 1 without gaps
//!   (unique), immutable once written except for its payment state and the ids an external
//!   system gave it. It keeps the price it was rated with and a snapshot of the usage.
//! - `invoice_lines`: its lines, in order; their amounts sum to the invoice's total.
//! - `outbox`: messages to other systems (Stripe), written in the transaction of the thing
//!   they announce and sent by a relay; `(topic, key)` is unique.
//! - `tenant_billing.suspended_at`: set while a tenant is suspended for an unpaid invoice.
//! - `plan_assignments`: when a tenant was put on which plan, so a period is rated with the
//!   plan in force at its end (not the one the tenant is on when it is finalized), and no
//!   period before a tenant's first plan is billed. Tenants already on a plan get one row, from
//!   their creation.

use sea_orm_migration::prelude::*;

/// Creates the tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000007_invoices"
    }
}

#[derive(DeriveIden)]
enum Invoices {
    Table,
    Id,
    TenantId,
    Number,
    Period,
    Status,
    Plan,
    Currency,
    Units,
    Subtotal,
    CreditApplied,
    Total,
    Price,
    Snapshot,
    FinalizedAt,
    DueAt,
    PaidAt,
    StripeInvoiceId,
}

#[derive(DeriveIden)]
enum InvoiceLines {
    Table,
    Id,
    InvoiceId,
    Position,
    Kind,
    Tier,
    Quantity,
    Amount,
    Description,
}

#[derive(DeriveIden)]
enum PlanAssignments {
    Table,
    TenantId,
    AssignedAt,
    PlanId,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Topic,
    Key,
    TenantId,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    Result,
    CreatedAt,
    DoneAt,
}

#[derive(DeriveIden)]
enum TenantBilling {
    Table,
    SuspendedAt,
}

fn big(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).big_integer().not_null().to_owned()
}

fn text(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).text().not_null().to_owned()
}

fn time(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invoices::Table)
                    .col(ColumnDef::new(Invoices::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Invoices::TenantId).uuid().not_null())
                    .col(big(Invoices::Number))
                    .col(text(Invoices::Period))
                    .col(text(Invoices::Status))
                    .col(text(Invoices::Plan))
                    .col(text(Invoices::Currency))
                    .col(big(Invoices::Units))
                    .col(big(Invoices::Subtotal))
                    .col(big(Invoices::CreditApplied))
                    .col(big(Invoices::Total))
                    .col(text(Invoices::Price))
                    .col(text(Invoices::Snapshot))
                    .col(time(Invoices::FinalizedAt))
                    .col(time(Invoices::DueAt))
                    .col(ColumnDef::new(Invoices::PaidAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(Invoices::StripeInvoiceId).text())
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "invoices_tenant_period",
                [Invoices::TenantId, Invoices::Period],
            ),
            (
                "invoices_tenant_number",
                [Invoices::TenantId, Invoices::Number],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Invoices::Table).unique();
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(InvoiceLines::Table)
                    .col(
                        ColumnDef::new(InvoiceLines::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(InvoiceLines::InvoiceId).uuid().not_null())
                    .col(ColumnDef::new(InvoiceLines::Position).integer().not_null())
                    .col(text(InvoiceLines::Kind))
                    .col(ColumnDef::new(InvoiceLines::Tier).integer())
                    .col(big(InvoiceLines::Quantity))
                    .col(big(InvoiceLines::Amount))
                    .col(text(InvoiceLines::Description))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("invoice_lines_position")
                    .table(InvoiceLines::Table)
                    .col(InvoiceLines::InvoiceId)
                    .col(InvoiceLines::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(ColumnDef::new(Outbox::Id).uuid().not_null().primary_key())
                    .col(text(Outbox::Topic))
                    .col(text(Outbox::Key))
                    .col(ColumnDef::new(Outbox::TenantId).uuid().not_null())
                    .col(text(Outbox::Payload))
                    .col(text(Outbox::Status))
                    .col(ColumnDef::new(Outbox::Attempts).integer().not_null())
                    .col(time(Outbox::NextAttemptAt))
                    .col(ColumnDef::new(Outbox::LastError).text())
                    .col(ColumnDef::new(Outbox::Result).text())
                    .col(time(Outbox::CreatedAt))
                    .col(ColumnDef::new(Outbox::DoneAt).timestamp_with_time_zone())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_topic_key")
                    .table(Outbox::Table)
                    .col(Outbox::Topic)
                    .col(Outbox::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(TenantBilling::Table)
                    .add_column(
                        ColumnDef::new(TenantBilling::SuspendedAt).timestamp_with_time_zone(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanAssignments::Table)
                    .col(ColumnDef::new(PlanAssignments::TenantId).uuid().not_null())
                    .col(time(PlanAssignments::AssignedAt))
                    .col(ColumnDef::new(PlanAssignments::PlanId).uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(PlanAssignments::TenantId)
                            .col(PlanAssignments::AssignedAt),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO plan_assignments (tenant_id, assigned_at, plan_id) \
                 SELECT id, created_at, plan_id FROM tenants WHERE plan_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TenantBilling::Table)
                    .drop_column(TenantBilling::SuspendedAt)
                    .to_owned(),
            )
            .await?;
        for table in [
            Invoices::Table.into_iden(),
            InvoiceLines::Table.into_iden(),
            Outbox::Table.into_iden(),
            PlanAssignments::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
