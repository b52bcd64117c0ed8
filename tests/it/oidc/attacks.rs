//! What an attacker brings to the callback, each refused with its own code.

use super::*;
use anyhow::Result;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_refuses_what_an_attacker_brings() -> Result<()> {
    let (srv, t, idp, _op) = setup().await?;
    let refused = |nav: &Nav| -> Option<String> {
        assert_eq!(nav.status, 303);
        assert_eq!(
            nav.cookie("tollgate_session"),
            None,
            "no session on a refusal"
        );
        nav.refusal()
    };

    // No state cookie, or another browser's: refused, and the sign-in is still the owner's.
    let (nav, cookie) = start(&srv, "alice@acme.test").await?;
    let back = drive(&nav.location, "alice@acme.test").await?;
    let (_, other_cookie) = start(&srv, "alice@acme.test").await?;
    for c in [None, Some(other_cookie.as_str()), Some("tollgate_oidc=")] {
        let nav = navigate(&back, c).await?;
        assert_eq!(
            refused(&nav).as_deref(),
            Some("oidc_state_invalid"),
            "{c:?}"
        );
    }
    let ok = navigate(&back, Some(&cookie)).await?;
    assert_eq!((ok.status, ok.location.as_str()), (303, "/admin/"));
    assert!(ok.cookie("tollgate_session").is_some());

    // The used code under a fresh sign-in's state: the provider refuses it (PKCE and
    // single use), so it signs no one in.
    let (fresh, fresh_cookie) = start(&srv, "alice@acme.test").await?;
    let replay = with_param(&back, "state", &param(&fresh.location, "state")?)?;
    let nav = navigate(&replay, Some(&fresh_cookie)).await?;
    assert_eq!(refused(&nav).as_deref(), Some("oidc_code_refused"));

    // A nonce the sign-in did not send (the authorization request tampered with).
    let (nav, cookie) = start(&srv, "alice@acme.test").await?;
    let tampered = with_param(&nav.location, "nonce", "a-nonce-of-the-attackers-choosing")?;
    let back = drive(&tampered, "alice@acme.test").await?;
    let nav = navigate(&back, Some(&cookie)).await?;
    assert_eq!(refused(&nav).as_deref(), Some("oidc_nonce_mismatch"));

    // Another issuer named in the callback (a mix-up).
    let (nav, cookie) = start(&srv, "alice@acme.test").await?;
    let back = drive(&nav.location, "alice@acme.test").await?;
    let mixed = with_param(&back, "iss", "https://evil.test")?;
    let nav = navigate(&mixed, Some(&cookie)).await?;
    assert_eq!(refused(&nav).as_deref(), Some("oidc_issuer_mismatch"));

    // The provider said no.
    let (nav, cookie) = start(&srv, "alice@acme.test").await?;
    let denied = format!(
        "{}?error=access_denied&state={}",
        srv.url("/v1/session/oidc/callback"),
        param(&nav.location, "state")?
    );
    let nav = navigate(&denied, Some(&cookie)).await?;
    assert_eq!(refused(&nav).as_deref(), Some("oidc_denied"));

    // Emails the provider vouches for that are not the tenant's to let in. The sign-in
    // starts at the tenant's domain; the person then logs in at the provider as another.
    for (login, code) in [
        ("mallory@evil.test", "oidc_email_domain"),
        ("mallory@acme.test.evil.test", "oidc_email_domain"),
        ("mallory@sub.acme.test", "oidc_email_domain"),
        ("mallory@acme.testx", "oidc_email_domain"),
        ("mallory+unverified@acme.test", "oidc_email_unverified"),
        ("mallory", "oidc_email_unverified"),
    ] {
        let (nav, cookie) = start(&srv, "alice@acme.test").await?;
        let back = drive(&nav.location, login).await?;
        let nav = navigate(&back, Some(&cookie)).await?;
        assert_eq!(refused(&nav).as_deref(), Some(code), "{login}");
    }

    // Another tenant cannot make a member at the claimed domain (in any spelling), so its
    // owner cannot stand between the domain's people and their tenant...
    let other = srv.tenant("ocr:read").await?;
    let owner = srv.login(&other.owner_email, &other.owner_password).await?;
    for email in [
        "ceo@acme.test",
        "CEO@Acme.Test",
        " ceo@acme.test",
        "ceo@other.test@acme.test",
    ] {
        let (status, body) = owner
            .post("/v1/members", json!({ "email": email, "role": "owner" }))
            .await?;
        let expected = if email.contains("other.test") {
            (422, "invalid_email")
        } else {
            (409, "email_domain_claimed")
        };
        assert_eq!(
            (status, body["code"].as_str().unwrap_or("")),
            expected,
            "{email}: {body}"
        );
    }
    // ...and a member made there before the domain was claimed signs in to neither.
    srv.store()
        .create_admin(
            other.id.parse()?,
            "ceo@acme.test",
            "not-a-hash",
            tollgate_core::Role::Owner,
            false,
            chrono::Utc::now(),
        )
        .await?;
    let nav = sign_in(&srv, "ceo@acme.test").await?;
    assert_eq!(refused(&nav).as_deref(), Some("oidc_email_in_use"));

    // A subject no provider issues (over 255 characters, or not visible ASCII).
    for sub in ["s".repeat(256), "da ve".to_owned(), "dav\u{e9}".to_owned()] {
        let nav = sign_in(&srv, &format!("dave@acme.test|{sub}")).await?;
        assert_eq!(
            refused(&nav).as_deref(),
            Some("oidc_token_invalid"),
            "{sub}"
        );
    }

    // None of these made a member; every refusal is in the tenant's audit log.
    let members = srv.store().list_admins(t.id.parse()?).await?;
    let emails: Vec<&str> = members.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(emails, [t.owner_email.as_str(), "alice@acme.test"]);
    drop(idp);
    srv.stop().await
}

/// A state cookie sent twice is no state (a sibling domain can plant one, and the order the
/// browser sends them in is not ours); the sign-in stays its owner's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doubled_state_cookie_is_refused() -> Result<()> {
    let (srv, _t, _idp, _op) = setup().await?;
    let (nav, cookie) = start(&srv, "alice@acme.test").await?;
    let back = drive(&nav.location, "alice@acme.test").await?;
    for doubled in [
        format!("{cookie}; {cookie}"),
        format!("{cookie}; tollgate_oidc=planted"),
        format!("tollgate_oidc=planted; {cookie}"),
    ] {
        let nav = navigate(&back, Some(&doubled)).await?;
        assert_eq!(
            nav.refusal().as_deref(),
            Some("oidc_state_invalid"),
            "{doubled}"
        );
    }
    let ok = navigate(&back, Some(&cookie)).await?;
    assert_eq!((ok.status, ok.location.as_str()), (303, "/admin/"));
    srv.stop().await
}

/// Two callbacks with one state at once: one session, one refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_state_signs_in_once_under_a_race() -> Result<()> {
    let (srv, _t, _idp, _op) = setup().await?;
    for _ in 0..3 {
        let (nav, cookie) = start(&srv, "alice@acme.test").await?;
        let back = drive(&nav.location, "alice@acme.test").await?;
        let (a, b) = tokio::join!(
            navigate(&back, Some(&cookie)),
            navigate(&back, Some(&cookie))
        );
        let mut outcomes: Vec<Option<String>> = [a?, b?]
            .iter()
            .map(|n| match n.cookie("tollgate_session") {
                Some(_) => None,
                None => n.refusal(),
            })
            .collect();
        outcomes.sort();
        assert_eq!(outcomes, [None, Some("oidc_state_invalid".into())]);
    }
    srv.stop().await
}

/// Forged states cost one lookup and are not counted (a page of them must not lock out the
/// people behind an address); refusals past the state check are, and block the address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_callbacks_past_the_state_check_count_against_an_address() -> Result<()> {
    let (srv, _t, _idp, _op) = setup().await?;
    let callback = srv.url("/v1/session/oidc/callback");
    for i in 0..40 {
        let forged = format!("{callback}?code=x&state=forged{i}");
        let nav = navigate(&forged, Some(&format!("tollgate_oidc=forged{i}"))).await?;
        assert_eq!(nav.refusal().as_deref(), Some("oidc_state_invalid"));
    }
    let ok = sign_in(&srv, "alice@acme.test").await?;
    assert_eq!(
        (ok.status, ok.location.as_str()),
        (303, "/admin/"),
        "not blocked"
    );

    // Twenty denials with real states, and the next callback is held off.
    for _ in 0..20 {
        let (nav, cookie) = start(&srv, "alice@acme.test").await?;
        let denied = format!(
            "{callback}?error=access_denied&state={}",
            param(&nav.location, "state")?
        );
        let nav = navigate(&denied, Some(&cookie)).await?;
        assert_eq!(nav.refusal().as_deref(), Some("oidc_denied"));
    }
    let next = navigate(&format!("{callback}?state=x"), Some("tollgate_oidc=x")).await?;
    assert_eq!(next.refusal().as_deref(), Some("too_many_attempts"));
    srv.stop().await
}
