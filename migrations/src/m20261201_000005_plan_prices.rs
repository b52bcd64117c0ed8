//! Plan prices: what a plan costs, from a billing period on. A price change made during a
//! period applies from the next one, so each row names the first period it applies to; the
//! price of a period is the row with the latest such period not after it.

use sea_orm_migration::prelude::*;

/// Creates `plan_prices`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000005_plan_prices"
    }
}

#[derive(DeriveIden)]
enum PlanPrices {
    Table,
    Id,
    PlanId,
    EffectivePeriod,
    Price,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlanPrices::Table)
                    .col(
                        ColumnDef::new(PlanPrices::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PlanPrices::PlanId).uuid().not_null())
                    .col(
                        ColumnDef::new(PlanPrices::EffectivePeriod)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PlanPrices::Price).text().not_null())
                    .col(
                        ColumnDef::new(PlanPrices::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plan_prices_plan_period")
                    .table(PlanPrices::Table)
                    .col(PlanPrices::PlanId)
                    .col(PlanPrices::EffectivePeriod)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PlanPrices::Table).to_owned())
            .await
    }
}
