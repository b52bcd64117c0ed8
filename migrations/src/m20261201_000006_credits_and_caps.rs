//! Prepaid credit, spend caps and billing alerts.
//!
//! - `credit_entries`: the append-only ledger of a tenant's prepaid credit. A grant is a
//!   positive entry; what an invoice consumes of it, or what expires unused, are negative
//!   entries naming the grant. A grant's balance is the sum of its entries, a tenant's the
//!   sum of all of them; `(grant_id, reference)` is unique, so booking the same consumption
//!   or expiry twice is refused by the database.
//! - `tenant_billing`: a tenant's own settings (its monthly spend cap, the credit balance
//!   below which it is alerted).
//! - `billing_alerts`: thresholds reached, once per tenant, period, kind and level.

use sea_orm_migration::prelude::*;

/// Creates the three tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000006_credits_and_caps"
    }
}

#[derive(DeriveIden)]
enum CreditEntries {
    Table,
    Id,
    TenantId,
    GrantId,
    Kind,
    Reference,
    Amount,
    Currency,
    ExpiresAt,
    InvoiceId,
    Memo,
    Actor,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TenantBilling {
    Table,
    TenantId,
    SpendCap,
    SpendCapCurrency,
    CreditAlertBelow,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BillingAlerts {
    Table,
    Id,
    TenantId,
    Period,
    Kind,
    Level,
    Detail,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CreditEntries::Table)
                    .col(
                        ColumnDef::new(CreditEntries::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CreditEntries::TenantId).uuid().not_null())
                    .col(ColumnDef::new(CreditEntries::GrantId).uuid().not_null())
                    .col(ColumnDef::new(CreditEntries::Kind).text().not_null())
                    .col(ColumnDef::new(CreditEntries::Reference).text().not_null())
                    .col(
                        ColumnDef::new(CreditEntries::Amount)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CreditEntries::Currency).text().not_null())
                    .col(ColumnDef::new(CreditEntries::ExpiresAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(CreditEntries::InvoiceId).uuid())
                    .col(ColumnDef::new(CreditEntries::Memo).text())
                    .col(ColumnDef::new(CreditEntries::Actor).text().not_null())
                    .col(
                        ColumnDef::new(CreditEntries::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("credit_entries_grant_reference")
                    .table(CreditEntries::Table)
                    .col(CreditEntries::GrantId)
                    .col(CreditEntries::Reference)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("credit_entries_tenant")
                    .table(CreditEntries::Table)
                    .col(CreditEntries::TenantId)
                    .col(CreditEntries::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TenantBilling::Table)
                    .col(
                        ColumnDef::new(TenantBilling::TenantId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(TenantBilling::SpendCap).big_integer())
                    .col(ColumnDef::new(TenantBilling::SpendCapCurrency).text())
                    .col(ColumnDef::new(TenantBilling::CreditAlertBelow).big_integer())
                    .col(
                        ColumnDef::new(TenantBilling::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BillingAlerts::Table)
                    .col(
                        ColumnDef::new(BillingAlerts::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(BillingAlerts::TenantId).uuid().not_null())
                    .col(ColumnDef::new(BillingAlerts::Period).text().not_null())
                    .col(ColumnDef::new(BillingAlerts::Kind).text().not_null())
                    .col(ColumnDef::new(BillingAlerts::Level).integer().not_null())
                    .col(ColumnDef::new(BillingAlerts::Detail).text().not_null())
                    .col(
                        ColumnDef::new(BillingAlerts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("billing_alerts_once")
                    .table(BillingAlerts::Table)
                    .col(BillingAlerts::TenantId)
                    .col(BillingAlerts::Period)
                    .col(BillingAlerts::Kind)
                    .col(BillingAlerts::Level)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CreditEntries::Table.into_iden(),
            TenantBilling::Table.into_iden(),
            BillingAlerts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
