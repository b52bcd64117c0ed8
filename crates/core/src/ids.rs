//! Identifier newtypes, so a tenant id can never be passed where a key id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A tenant (customer organisation).
    TenantId
);
uuid_id!(
    /// A tenant administrator (portal user).
    AdminId
);
uuid_id!(
    /// An API key.
    KeyId
);

impl TenantId {
    /// The platform's own tenant: it holds the operator's credentials, and only credentials
    /// of this tenant can carry the `operator` scope. A fixed id that no generated id can
    /// take (generated ids are UUIDv7; this one has no version bits), created by the
    /// migrations, so it is never found by a name a customer could also choose.
    pub const PLATFORM: TenantId = TenantId(Uuid::from_u128(1));

    /// Whether this is [`TenantId::PLATFORM`].
    pub fn is_platform(self) -> bool {
        self == Self::PLATFORM
    }
}
