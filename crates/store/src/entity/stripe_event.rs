//! `stripe_events`: inbound webhook events processed, by Stripe's id.
use sea_orm::entity::prelude::*;

/// A processed event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stripe_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: String,
    /// Stripe's event type (`invoice.paid`).
    pub kind: String,
    /// What processing it did (`paid`, `ignored`, …).
    pub outcome: String,
    pub received_at: DateTimeUtc,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
