//! Hostile and broken access tokens: each is refused with 401 and a problem document.

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use weatherwise_tests::{Mode, TEST_JWT_KID, TEST_JWT_SECRET, TestApp, assert_problem, both_modes};

both_modes!(
    forged_and_broken_tokens_are_refused,
    tokens_are_refused_before_their_not_before_time,
    admin_grant_command_takes_effect_on_the_next_token,
    rotated_keys_sign_new_tokens_and_still_verify_old_ones,
);

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// Claims like the server's, for a real user and session, with `edit` applied.
fn claims(user_id: &str, session_id: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut claims = json!({
        "sub": user_id, "aud": "weatherwise-api", "iss": "weatherwise",
        "iat": now(), "exp": now() + 600, "jti": "forged", "sid": session_id, "role": "admin"
    });
    edit(&mut claims);
    claims
}

fn sign(header_typ: Option<&str>, kid: Option<&str>, secret: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = header_typ.map(str::to_owned);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).expect("sign")
}

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn forged_and_broken_tokens_are_refused(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    let real: Value = {
        let payload = user.access.split('.').nth(1).expect("payload");
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("b64"),
        )
        .expect("json")
    };
    let sid = real["sid"].as_str().expect("sid").to_owned();
    let uid = user.user_id.clone();

    // A correctly forged token with the test key is accepted: the cases below fail for their
    // own reason, not because forging is impossible.
    let control = sign(Some("at+jwt"), Some(TEST_JWT_KID), TEST_JWT_SECRET, &claims(&uid, &sid, |_| {}));
    assert_eq!(app.get_me(&control).await.status(), 200, "control token");

    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "at+jwt", "kid": TEST_JWT_KID})),
        b64(&claims(&uid, &sid, |_| {}))
    );
    let wrong_signature = sign(
        Some("at+jwt"),
        Some(TEST_JWT_KID),
        "another-secret-another-secret-another-secret",
        &claims(&uid, &sid, |_| {}),
    );
    let wrong_aud = sign(
        Some("at+jwt"),
        Some(TEST_JWT_KID),
        TEST_JWT_SECRET,
        &claims(&uid, &sid, |c| c["aud"] = json!("someone-else")),
    );
    let wrong_iss = sign(
        Some("at+jwt"),
        Some(TEST_JWT_KID),
        TEST_JWT_SECRET,
        &claims(&uid, &sid, |c| c["iss"] = json!("evil")),
    );
    let refresh_typed =
        sign(Some("refresh+jwt"), Some(TEST_JWT_KID), TEST_JWT_SECRET, &claims(&uid, &sid, |_| {}));
    let untyped = sign(None, Some(TEST_JWT_KID), TEST_JWT_SECRET, &claims(&uid, &sid, |_| {}));
    let unknown_kid =
        sign(Some("at+jwt"), Some("rotated-away"), TEST_JWT_SECRET, &claims(&uid, &sid, |_| {}));
    let no_exp = sign(
        Some("at+jwt"),
        Some(TEST_JWT_KID),
        TEST_JWT_SECRET,
        &claims(&uid, &sid, |c| {
            c.as_object_mut().expect("object").remove("exp");
        }),
    );
    let hs512 = {
        let mut header = Header::new(Algorithm::HS512);
        header.typ = Some("at+jwt".into());
        header.kid = Some(TEST_JWT_KID.into());
        encode(&header, &claims(&uid, &sid, |_| {}), &EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()))
            .expect("sign")
    };
    let cases: Vec<(&str, String)> = vec![
        ("alg none", alg_none),
        ("wrong signature", wrong_signature),
        ("wrong audience", wrong_aud),
        ("wrong issuer", wrong_iss),
        ("refresh-typed JWT", refresh_typed),
        ("no typ", untyped),
        ("unknown kid", unknown_kid),
        ("no exp", no_exp),
        ("HS512 instead of the pinned HS256", hs512),
        ("refresh token as access token", user.refresh().to_owned()),
        ("garbage", "not.a.jwt".into()),
        ("oversized", "a".repeat(10_000)),
    ];
    for (name, token) in cases {
        let response = app.get_me(&token).await;
        assert_eq!(response.status(), 401, "{name} must be refused");
        assert_problem(response, 401, "invalid_token").await;
    }

    let expired = sign(
        Some("at+jwt"),
        Some(TEST_JWT_KID),
        TEST_JWT_SECRET,
        &claims(&uid, &sid, |c| {
            c["iat"] = json!(now() - 3600);
            c["exp"] = json!(now() - 600);
        }),
    );
    assert_problem(app.get_me(&expired).await, 401, "token_expired").await;

    let missing = app.http.get(app.api("/me")).send().await.expect("request");
    assert_problem(missing, 401, "missing_token").await;
    let basic = app
        .http
        .get(app.api("/me"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .expect("request");
    assert_problem(basic, 401, "invalid_token").await;
}

/// `nbf` is checked with the same 5 s leeway as `exp`: a token made for later is refused until
/// then, and one valid from now (or a moment from now) is accepted.
async fn tokens_are_refused_before_their_not_before_time(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    let sid = {
        let payload = user.access.split('.').nth(1).expect("payload");
        let real: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("b64"),
        )
        .expect("json");
        real["sid"].as_str().expect("sid").to_owned()
    };
    let with_nbf = |nbf: i64| {
        sign(
            Some("at+jwt"),
            Some(TEST_JWT_KID),
            TEST_JWT_SECRET,
            &claims(&user.user_id, &sid, |c| c["nbf"] = json!(nbf)),
        )
    };
    for (name, nbf) in [("an hour from now", now() + 3600), ("a minute from now", now() + 60)] {
        let response = app.get_me(&with_nbf(nbf)).await;
        assert_eq!(response.status(), 401, "a token valid from {name} must be refused");
        assert_problem(response, 401, "invalid_token").await;
    }
    assert_eq!(app.get_me(&with_nbf(now() - 60)).await.status(), 200, "valid since a minute ago");
    assert_eq!(app.get_me(&with_nbf(now() + 2)).await.status(), 200, "within the leeway");
}

async fn admin_grant_command_takes_effect_on_the_next_token(mode: Mode) {
    let deployment = weatherwise_tests::Deployment::new(mode).await;
    let app = deployment.start().await;
    let user = app.new_user().await;
    let before: Value = app.get_me(&user.access).await.json().await.expect("json");
    assert_eq!(before["role"], "user");

    // The same code path as `weatherwise admin grant <email>`, against this deployment.
    let db = weatherwise::db::Database::connect(&deployment.config.database_url(), 1).await.expect("db");
    let users = weatherwise::accounts::SqlUsers::new(db);
    use weatherwise::accounts::UserStore as _;
    assert!(users.set_role_by_email(&user.email, weatherwise::accounts::Role::Admin).await.expect("grant"));
    assert!(
        !users
            .set_role_by_email("nobody@example.com", weatherwise::accounts::Role::Admin)
            .await
            .expect("grant")
    );

    let login: Value = app.login_json(&user.email, user.password()).await;
    assert_eq!(login["user"]["role"], "admin");
}

async fn rotated_keys_sign_new_tokens_and_still_verify_old_ones(mode: Mode) {
    use weatherwise::config::{JwtKey, Secret};
    let deployment = weatherwise_tests::Deployment::new(mode).await;
    let before = deployment.start().await;
    let user = before.new_user().await;
    drop(before);

    // The next release signs with a new key and keeps the old one for verification only.
    let mut rotated = deployment.config.clone();
    rotated.auth.jwt_keys = vec![
        JwtKey {
            kid: "test-2".into(),
            secret: Secret::new("a-newer-secret-a-newer-secret-a-newer-secret".into()),
        },
        JwtKey { kid: TEST_JWT_KID.into(), secret: Secret::new(TEST_JWT_SECRET.into()) },
    ];
    let after = weatherwise_tests::Deployment { config: rotated, ..deployment }.start().await;
    assert_eq!(after.get_me(&user.access).await.status(), 200, "a token signed with the old key still works");
    let login: Value = after.login_json(&user.email, user.password()).await;
    let header = login["access_token"].as_str().expect("token").split('.').next().expect("header").to_owned();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).expect("b64"),
    )
    .expect("json");
    assert_eq!(header["kid"], "test-2");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "HS256");
}
