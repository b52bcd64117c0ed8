//! Tenant administrators ("members"), managed by owners of the same tenant.

use super::{ctx, Tag};
use crate::problem::ApiResult;
use crate::security::SessionCookie;
use crate::state::AppState;
use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use std::sync::Arc;
use tollgate_core::{AdminId, DomainError, Role};
use tollgate_store::admins::Admin;

/// A portal role: `viewer` reads, `admin` also manages credentials, webhooks and prices'
/// settings, `owner` also manages members and the spend cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum RoleName {
    /// Everything, members included.
    Owner,
    /// Manage clients, keys and webhooks.
    Admin,
    /// Read only.
    Viewer,
}

impl From<Role> for RoleName {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => RoleName::Owner,
            Role::Admin => RoleName::Admin,
            Role::Viewer => RoleName::Viewer,
        }
    }
}

impl From<RoleName> for Role {
    fn from(r: RoleName) -> Self {
        match r {
            RoleName::Owner => Role::Owner,
            RoleName::Admin => Role::Admin,
            RoleName::Viewer => Role::Viewer,
        }
    }
}

/// The stored role of a member row (a row with another value is a bug, answered as 500).
pub(crate) fn stored_role(s: &str) -> Result<RoleName, DomainError> {
    Role::parse(s)
        .map(RoleName::from)
        .map_err(|_| DomainError::internal(format!("stored role `{s}`")))
}

/// A member (never with a password hash).
#[derive(Debug, Object)]
pub struct Member {
    /// Id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Role.
    pub role: RoleName,
    /// Still on the one-time password they were created with.
    pub must_change_password: bool,
    /// Created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<&Admin> for Member {
    type Error = DomainError;

    fn try_from(a: &Admin) -> Result<Self, DomainError> {
        Ok(Self {
            id: a.id.to_string(),
            email: a.email.clone(),
            role: stored_role(&a.role)?,
            must_change_password: a.must_change_password,
            created_at: a.created_at,
        })
    }
}

/// New member.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewMember {
    /// Email (the login name).
    pub email: String,
    /// Role.
    pub role: RoleName,
}

/// A created member with their one-time password.
#[derive(Debug, Object)]
pub struct CreatedMemberBody {
    /// The member.
    pub member: Member,
    /// Initial password; shown once, never retrievable again.
    pub password: String,
}

/// Role change.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct MemberPatch {
    /// New role.
    pub role: RoleName,
}

/// Creation answer.
#[derive(ApiResponse)]
pub enum MemberCreated {
    /// Created.
    #[oai(status = 201)]
    Created(
        Json<CreatedMemberBody>,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// Deletion answer.
#[derive(ApiResponse)]
pub enum Deleted {
    /// Done.
    #[oai(status = 204)]
    Done,
}

/// Parses an id from a path; a malformed id is simply not found.
pub(crate) fn parse_uuid(
    s: &str,
    what: &'static str,
) -> Result<uuid::Uuid, tollgate_core::DomainError> {
    uuid::Uuid::parse_str(s).map_err(|_| tollgate_core::DomainError::NotFound(what))
}

/// Member operations.
pub struct MembersApi;

#[OpenApi]
impl MembersApi {
    /// List the tenant's members.
    ///
    /// **Permissions**: a portal session (any role).
    #[oai(
        path = "/v1/members",
        method = "get",
        tag = "Tag::Members",
        operation_id = "listMembers"
    )]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        session: SessionCookie,
    ) -> ApiResult<Json<Vec<Member>>> {
        let s = state.admin(&session, None, false).await?;
        Ok(Json(
            state
                .auth
                .list_members(&s)
                .await?
                .iter()
                .map(Member::try_from)
                .collect::<Result<_, _>>()?,
        ))
    }

    /// Add a member; returns a one-time password.
    ///
    /// **Permissions**: portal session with role `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/members",
        method = "post",
        tag = "Tag::Members",
        operation_id = "createMember"
    )]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        body: Json<NewMember>,
    ) -> ApiResult<MemberCreated> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        let role = Role::from(body.0.role);
        let created = state
            .auth
            .add_member(&s, &body.0.email, role, &ctx(req))
            .await?;
        Ok(MemberCreated::Created(
            Json(CreatedMemberBody {
                member: Member::try_from(&created.admin)?,
                password: created.password,
            }),
            "no-store".into(),
        ))
    }

    /// Get a member.
    ///
    /// **Permissions**: a portal session (any role).
    #[oai(
        path = "/v1/members/:id",
        method = "get",
        tag = "Tag::Members",
        operation_id = "getMember"
    )]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        session: SessionCookie,
        id: Path<String>,
    ) -> ApiResult<Json<Member>> {
        let s = state.admin(&session, None, false).await?;
        let id: AdminId = AdminId(parse_uuid(&id.0, "member")?);
        Ok(Json(Member::try_from(&state.auth.member(&s, id).await?)?))
    }

    /// Change a member's role. The last owner cannot be demoted (409 `last_owner`).
    ///
    /// **Permissions**: portal session with role `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/members/:id",
        method = "patch",
        tag = "Tag::Members",
        operation_id = "updateMember"
    )]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        id: Path<String>,
        body: Json<MemberPatch>,
    ) -> ApiResult<Json<Member>> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        let id: AdminId = AdminId(parse_uuid(&id.0, "member")?);
        let role = Role::from(body.0.role);
        Ok(Json(Member::try_from(
            &state.auth.set_member_role(&s, id, role, &ctx(req)).await?,
        )?))
    }

    /// Remove a member. The last owner cannot be removed (409 `last_owner`).
    ///
    /// **Permissions**: portal session with role `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/members/:id",
        method = "delete",
        tag = "Tag::Members",
        operation_id = "deleteMember"
    )]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        id: Path<String>,
    ) -> ApiResult<Deleted> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        let id: AdminId = AdminId(parse_uuid(&id.0, "member")?);
        state.auth.remove_member(&s, id, &ctx(req)).await?;
        Ok(Deleted::Done)
    }
}
