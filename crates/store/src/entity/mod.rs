//! sea-orm entities, one per table. Repositories in the parent module are the only users.

pub mod admin;
pub mod api_key;
pub mod audit_event;
pub mod oauth_client;
pub mod revoked_token;
pub mod session;
pub mod signing_key;
pub mod tenant;
