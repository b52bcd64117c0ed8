//! sea-orm entities, one per table. Repositories in the parent module are the only users.

pub mod admin;
pub mod api_key;
pub mod audit_checkpoint;
pub mod audit_event;
pub mod audit_head;
pub mod billing_alert;
pub mod credit_entry;
pub mod idempotency_key;
pub mod invoice;
pub mod invoice_line;
pub mod limit_override;
pub mod oauth_client;
pub mod outbox;
pub mod plan;
pub mod plan_assignment;
pub mod plan_price;
pub mod revoked_token;
pub mod session;
pub mod signing_key;
pub mod stripe_customer;
pub mod stripe_event;
pub mod tenant;
pub mod tenant_billing;
pub mod usage_event;
