//! Stripe sync's own records.
//!
//! - `stripe_customers`: the Stripe customer of each tenant (created on demand by the relay;
//!   one per tenant, and a customer belongs to one tenant).
//! - `stripe_events`: inbound webhook events processed, by Stripe's event id, so a delivery
//!   repeated by Stripe (or replayed by anyone) is processed once.

use sea_orm_migration::prelude::*;

/// Creates the tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000009_stripe"
    }
}

#[derive(DeriveIden)]
enum StripeCustomers {
    Table,
    TenantId,
    CustomerId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StripeEvents {
    Table,
    EventId,
    Kind,
    Outcome,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StripeCustomers::Table)
                    .col(
                        ColumnDef::new(StripeCustomers::TenantId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(StripeCustomers::CustomerId)
                            .text()
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(StripeCustomers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StripeEvents::Table)
                    .col(
                        ColumnDef::new(StripeEvents::EventId)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(StripeEvents::Kind).text().not_null())
                    .col(ColumnDef::new(StripeEvents::Outcome).text().not_null())
                    .col(
                        ColumnDef::new(StripeEvents::ReceivedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StripeCustomers::Table.into_iden(),
            StripeEvents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
