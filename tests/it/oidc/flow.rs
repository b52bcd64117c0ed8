//! A person signs in with the tenant's provider and becomes (or is) its member.

use super::*;
use anyhow::{Context, Result};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_with_the_tenants_provider() -> Result<()> {
    let (srv, t, idp, _op) = setup().await?;
    let (nav, cookie) = start(&srv, " Alice@ACME.test ").await?;
    assert_eq!(nav.status, 200);
    assert_eq!(
        nav.set_cookies,
        [format!(
            "{cookie}; Path=/v1/session/oidc; HttpOnly; SameSite=Lax; Max-Age=600"
        )]
    );
    // Authorization code + PKCE S256, a state (also in the browser's cookie) and a nonce.
    let authorize = &nav.location;
    assert!(
        authorize.starts_with(&format!("{}/", idp.issuer)),
        "{authorize}"
    );
    assert_eq!(param(authorize, "response_type")?, "code");
    assert_eq!(param(authorize, "code_challenge_method")?, "S256");
    assert_eq!(param(authorize, "client_id")?, idp.client_id);
    assert_eq!(param(authorize, "login_hint")?, "alice@acme.test");
    assert_eq!(
        param(authorize, "redirect_uri")?,
        srv.url("/v1/session/oidc/callback")
    );
    let state = param(authorize, "state")?;
    assert_eq!(cookie, format!("tollgate_oidc={state}"));
    assert_eq!(param(authorize, "nonce")?.len(), 43);

    let back = drive(authorize, "alice@acme.test").await?;
    let done = navigate(&back, Some(&cookie)).await?;
    assert_eq!((done.status, done.location.as_str()), (303, "/admin/"));
    let session_cookie = &done.set_cookies[0];
    assert!(
        session_cookie.starts_with("tollgate_session=")
            && session_cookie.contains("; HttpOnly; SameSite=Strict;"),
        "{session_cookie}"
    );
    // The used state's cookie is cleared with it.
    assert_eq!(
        done.set_cookies[1..],
        ["tollgate_oidc=; Path=/v1/session/oidc; HttpOnly; SameSite=Lax; Max-Age=0"]
    );

    // Another site cannot start a sign-in in a visitor's browser.
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/session/oidc/start"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({ "email": "alice@acme.test" }))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 403);
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/session/oidc/start"))
        .form(&[("email", "alice@acme.test")])
        .send()
        .await?;
    assert_eq!(
        resp.status().as_u16(),
        415,
        "a form post (no preflight) is refused"
    );
    let (status, me) = session_of(&srv, &done).await?;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (
            &me["email"],
            &me["role"],
            &me["tenant_id"],
            &me["must_change_password"]
        ),
        (
            &json!("alice@acme.test"),
            &json!("viewer"),
            &json!(t.id),
            &json!(false)
        )
    );

    // The same callback again finds its state used.
    let again = navigate(&back, Some(&cookie)).await?;
    assert_eq!(again.refusal().as_deref(), Some("oidc_state_invalid"));
    assert_eq!(again.cookie("tollgate_session"), None);

    // Signing in again is the same member.
    let second = sign_in(&srv, "alice@acme.test").await?;
    let (_, me2) = session_of(&srv, &second).await?;
    assert_eq!(me2["admin_id"], me["admin_id"]);
    let members = srv.store().list_admins(t.id.parse()?).await?;
    assert_eq!(
        members
            .iter()
            .filter(|m| m.email == "alice@acme.test")
            .count(),
        1
    );
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_time_password_member_signing_in_with_the_provider_loses_it() -> Result<()> {
    let (srv, t, _idp, _op) = setup().await?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, created) = owner
        .post(
            "/v1/members",
            json!({ "email": "bob@acme.test", "role": "admin" }),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    let one_time = created["password"].as_str().context("password")?.to_owned();
    let nav = sign_in(&srv, "bob@acme.test").await?;
    let (status, me) = session_of(&srv, &nav).await?;
    assert_eq!(status, 200, "{me}");
    // Their role is the owner's choice, not the default; no password change is asked for.
    assert_eq!(
        (&me["role"], &me["must_change_password"]),
        (&json!("admin"), &json!(false))
    );
    // The one-time password (which the owner saw) no longer signs in.
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/session"))
        .json(&json!({ "email": "bob@acme.test", "password": one_time }))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 401);
    // Linked and retired in one change, audited as the member's own.
    let events = srv.store().audit_events(Some(t.id.parse()?)).await?;
    let linked: Vec<_> = events
        .iter()
        .filter(|e| e.action == "member.linked")
        .collect();
    assert_eq!(linked.len(), 1, "{events:?}");
    let me_target = format!("admin:{}", me["admin_id"].as_str().context("admin_id")?);
    assert_eq!(
        (linked[0].actor.as_str(), linked[0].target.as_deref()),
        (me_target.as_str(), Some(me_target.as_str()))
    );
    let detail: Value = serde_json::from_str(&linked[0].detail)?;
    assert_eq!(
        (&detail["subject"], &detail["one_time_password_retired"]),
        (&json!("bob@acme.test"), &json!(true))
    );
    // Signing in again changes nothing more.
    sign_in(&srv, "bob@acme.test").await?;
    let events = srv.store().audit_events(Some(t.id.parse()?)).await?;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action.starts_with("member."))
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        // The owner's (the harness made the tenant with one), Bob's, his link.
        ["member.created", "member.created", "member.linked"]
    );
    srv.stop().await
}

/// A member is an identity at the provider (issuer, `sub`), not only an email: the same
/// person under a new email is the same member; another person under the member's email is
/// refused; a new issuer unlinks everyone, and each is linked again by email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_is_their_identity_at_the_provider() -> Result<()> {
    let (srv, t, idp, op) = setup().await?;
    let tenant: tollgate_core::TenantId = t.id.parse()?;
    let first = sign_in(&srv, "alice@acme.test").await?;
    let (_, alice) = session_of(&srv, &first).await?;

    // Someone else the provider vouches for under Alice's email.
    let other = sign_in(&srv, "alice@acme.test|mallory").await?;
    assert_eq!(other.refusal().as_deref(), Some("oidc_subject_mismatch"));

    // Alice, after the provider changed her email: still her member, no new one.
    let renamed = sign_in(&srv, "alice.renamed@acme.test|alice@acme.test").await?;
    let (status, me) = session_of(&srv, &renamed).await?;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["admin_id"], alice["admin_id"]);
    let members = srv.store().list_admins(tenant).await?;
    assert_eq!(members.len(), 2, "the owner and Alice");

    // Her first sign-in's member.created carries the request's context.
    let events = srv.store().audit_events(Some(tenant)).await?;
    let created = events
        .iter()
        .find(|e| e.action == "member.created" && e.detail.contains("oidc"))
        .context("member.created via oidc")?;
    assert_eq!(created.ip.as_deref(), Some("127.0.0.1"));
    let alice_ref = format!("admin:{}", alice["admin_id"].as_str().context("id")?);
    assert_eq!(
        (created.actor.as_str(), created.target.as_deref()),
        (alice_ref.as_str(), Some(alice_ref.as_str()))
    );

    // A link to an issuer the tenant no longer uses means nothing here: such a member is
    // linked again by email (a stale row, as a database restored from before a switch has).
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, carol) = owner
        .post(
            "/v1/members",
            json!({ "email": "carol@acme.test", "role": "viewer" }),
        )
        .await?;
    assert_eq!(status, 201, "{carol}");
    use sea_orm::ConnectionTrait;
    srv.store()
        .conn()
        .execute_unprepared(&format!(
            "UPDATE admins SET oidc_issuer = 'https://gone.example', oidc_subject = 'carol' \
             WHERE id = '{}'",
            carol["member"]["id"].as_str().context("carol's id")?
        ))
        .await?;
    let nav = sign_in(&srv, "carol@acme.test|carol-now").await?;
    let (status, me) = session_of(&srv, &nav).await?;
    assert_eq!(status, 200, "{me}");
    let row = srv
        .store()
        .admin_by_email("carol@acme.test")
        .await?
        .context("carol")?;
    assert_eq!(
        (row.oidc_issuer.as_deref(), row.oidc_subject.as_deref()),
        (Some(idp.issuer.as_str()), Some("carol-now"))
    );

    // Another issuer: the links to the old one's identities go, in the audited change.
    let idp2 = Provider::start(&srv.url("/v1/session/oidc/callback")).await?;
    let (status, body) = set_provider(&srv, &op, &t, &idp2, "acme.test").await?;
    assert_eq!(status, 200, "{body}");
    let events = srv.store().audit_events(Some(tenant)).await?;
    let configured = events
        .iter()
        .rev()
        .find(|e| e.action == "oidc.configured")
        .context("oidc.configured")?;
    let detail: Value = serde_json::from_str(&configured.detail)?;
    assert_eq!(detail["members_unlinked"], 2, "Alice and Carol: {detail}");
    // Alice at the new provider (another subject there) is linked again by her email.
    let again = sign_in(&srv, "alice@acme.test|alice-at-idp2").await?;
    let (_, me) = session_of(&srv, &again).await?;
    assert_eq!(me["admin_id"], alice["admin_id"]);
    let row = srv
        .store()
        .admin_by_email("alice@acme.test")
        .await?
        .context("alice")?;
    assert_eq!(
        (row.oidc_issuer.as_deref(), row.oidc_subject.as_deref()),
        (Some(idp2.issuer.as_str()), Some("alice-at-idp2"))
    );
    srv.stop().await
}

/// A sign-in is good for ten minutes from its start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_expires_after_ten_minutes() -> Result<()> {
    let clock = tollgate_core::ManualClock::new(chrono::Utc::now());
    let spec = crate::harness::ServerSpec::new(crate::harness::Backend::Postgres, true).await?;
    let srv = spec
        .start_with_clock(std::sync::Arc::new(clock.clone()))
        .await?;
    let (srv, _t, _idp, _op) = configured(srv).await?;

    let (nav, cookie) = start(&srv, "alice@acme.test").await?;
    let back = drive(&nav.location, "alice@acme.test").await?;
    clock.advance(chrono::Duration::seconds(601));
    let late = navigate(&back, Some(&cookie)).await?;
    assert_eq!(late.refusal().as_deref(), Some("oidc_state_invalid"));

    // Within the ten minutes, it signs in.
    let (nav, cookie) = start(&srv, "alice@acme.test").await?;
    let back = drive(&nav.location, "alice@acme.test").await?;
    clock.advance(chrono::Duration::seconds(590));
    let in_time = navigate(&back, Some(&cookie)).await?;
    assert_eq!(
        (in_time.status, in_time.location.as_str()),
        (303, "/admin/")
    );
    srv.stop().await
}
