//! PDFs: a plan's cap on the pages of one request (`plans.max_pdf_pages`). A PDF is charged
//! one unit per page, so the cap bounds what one call can reserve and how long it runs;
//! existing plans get 50.

use sea_orm_migration::prelude::*;

/// Adds the column.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000015_pdf_pages"
    }
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    MaxPdfPages,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .add_column(
                        ColumnDef::new(Plans::MaxPdfPages)
                            .integer()
                            .not_null()
                            .default(50),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .drop_column(Plans::MaxPdfPages)
                    .to_owned(),
            )
            .await
    }
}
