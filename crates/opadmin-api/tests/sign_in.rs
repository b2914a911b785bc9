//! Sign-in against a wiremock server that plays the b5 server with real crypto.

mod common;

use common::{Answer, TOTP_SECRET, catch_all, fixture, start, test_options};
use opadmin_api::ApiError;
use opadmin_api::auth::{SignInOptions, sign_in};
use opadmin_crypto::srp::SrpVersion;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn sign_in_v2_succeeds_and_registers_the_device_once() {
    let (server, fake) = start().await;
    catch_all(&server, 0).await;
    let creds = fake.account.credentials(&server.uri());

    let signed_in = sign_in(creds.clone(), test_options())
        .await
        .expect("sign-in");
    assert_eq!(signed_in.account_uuid.as_str(), fake.account.account_uuid);
    assert_eq!(signed_in.user_uuid.as_str(), fake.account.user_uuid);
    assert_eq!(
        signed_in.keyring.primary().map(|k| k.uuid().to_owned()),
        Some(fake.account.primary_keyset_uuid.clone())
    );
    assert!(signed_in.new_dsecret.is_none());
    let device = signed_in.device_uuid.clone();
    assert_eq!(device.len(), 26);
    assert!(
        device
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert!(fake.state().registered_devices.contains(&device));
    assert_eq!(signed_in.client.device_uuid(), device);
    assert!(signed_in.client.transport().session_id().is_some());

    // Signing in again as the same device does not register it again.
    let again = sign_in(creds, test_options().with_device_uuid(device.clone()))
        .await
        .expect("second sign-in");
    assert_eq!(again.device_uuid, device);
    let registrations = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/v1/device")
        .count();
    assert_eq!(registrations, 1);
    assert_eq!(fake.state().sessions_started, 2);
}

#[tokio::test]
async fn sign_in_v1_succeeds() {
    let (server, fake) = start().await;
    catch_all(&server, 0).await;
    let signed_in = sign_in(
        fake.account.credentials(&server.uri()),
        test_options().with_srp(SrpVersion::V1),
    )
    .await
    .expect("v1 sign-in");
    assert_eq!(signed_in.user_uuid.as_str(), fake.account.user_uuid);
    assert!(signed_in.keyring.primary().is_some());
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert!(paths.contains(&"/api/v1/auth".to_owned()), "{paths:?}");
    assert!(
        paths.contains(&"/api/v2/auth/verify".to_owned()),
        "{paths:?}"
    );
    assert!(
        !paths.contains(&"/api/v2/auth/complete".to_owned()),
        "{paths:?}"
    );
}

#[tokio::test]
async fn sign_in_with_totp_then_with_the_remembered_device() {
    let (server, fake) = start().await;
    catch_all(&server, 0).await;
    {
        let mut state = fake.state();
        state.mfa =
            Some(json!({"totp": {"enabled": true, "digits": 6}, "dsecret": {"enabled": true}}));
        state.dsecret_to_hand_out = Some("gUhBItRHUI7vAc04TJNUkA".into());
    }
    let creds = fake.account.credentials(&server.uri());
    let first = sign_in(creds.clone(), test_options().with_totp_secret(TOTP_SECRET))
        .await
        .expect("sign-in with TOTP");
    let dsecret = first.new_dsecret.clone().expect("a remember-me token");
    assert_eq!(dsecret.expose_secret(), "gUhBItRHUI7vAc04TJNUkA");
    assert_eq!(fake.state().mfa_answers, vec!["totp".to_owned()]);

    // With the token (and no TOTP secret) the second factor is answered by dshmac.
    let second = sign_in(
        creds.clone(),
        test_options()
            .with_device_uuid(first.device_uuid.clone())
            .with_dsecret(dsecret),
    )
    .await
    .expect("sign-in with dsecret");
    assert!(second.new_dsecret.is_none());
    assert_eq!(
        fake.state().mfa_answers,
        vec!["totp".to_owned(), "dsecret".to_owned()]
    );

    // A code callback works too; a wrong code is an authentication failure.
    sign_in(
        creds.clone(),
        test_options().with_mfa_code_fn(|challenge| {
            assert!(challenge.accepts_totp());
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            opadmin_crypto::mfa::totp(TOTP_SECRET, now).ok()
        }),
    )
    .await
    .expect("sign-in with a code callback");
    let err = sign_in(
        creds,
        test_options().with_mfa_code_fn(|_| Some("000000".to_owned())),
    )
    .await
    .expect_err("wrong code");
    // (1 in a million that 000000 is the right code.)
    assert!(matches!(err, ApiError::Authentication), "{err:?}");
}

#[tokio::test]
async fn mfa_without_a_configured_factor_is_typed() {
    let (server, fake) = start().await;
    catch_all(&server, 0).await;
    // The real server's challenge: dsecret, dsecretProxy, totp and duo offered.
    let challenge = fixture("verify-key-response-mfa.json")["mfa"].clone();
    fake.state().mfa = Some(challenge);
    let creds = fake.account.credentials(&server.uri());
    match sign_in(creds.clone(), test_options()).await {
        Err(ApiError::MfaRequired { methods }) => {
            assert!(methods.contains(&"totp".to_owned()), "{methods:?}");
            assert!(methods.contains(&"duo".to_owned()), "{methods:?}");
        }
        other => panic!("{other:?}"),
    }
    // Only Duo and WebAuthn: reported, not performed.
    fake.state().mfa = Some(json!({"duo": {"enabled": true}, "webAuthn": {"enabled": true}}));
    match sign_in(creds, test_options().with_totp_secret(TOTP_SECRET)).await {
        Err(ApiError::MfaUnsupported { offered }) => {
            assert_eq!(offered, vec!["duo".to_owned(), "webAuthn".to_owned()]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn wrong_password_is_authentication_without_retry() {
    let (server, fake) = start().await;
    catch_all(&server, 0).await;
    let mut creds = fake.account.credentials(&server.uri());
    creds.password = "not the password".into();
    let err = sign_in(creds, test_options())
        .await
        .expect_err("wrong password");
    assert!(matches!(err, ApiError::Authentication), "{err:?}");
    let confirms = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/v2/auth/confirm-key")
        .count();
    assert_eq!(confirms, 1);
}

#[tokio::test]
async fn unknown_account_is_authentication() {
    let (server, fake) = start().await;
    catch_all(&server, 0).await;
    let mut creds = fake.account.credentials(&server.uri());
    creds.email = "nobody@example.com".into();
    let err = sign_in(creds, test_options()).await.expect_err("unknown");
    assert!(matches!(err, ApiError::Authentication), "{err:?}");
}

#[tokio::test]
async fn wrong_server_proof_is_an_error_and_not_retried() {
    let (server, fake) = start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/auth/confirm-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"serverVerifyHash": "dEc7XWvZyk9H0GNkYVkY_MUq7BRq8Mk_PlpxNv1men8"}),
        ))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/auth/complete"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .expect(0)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let err = sign_in(fake.account.credentials(&server.uri()), test_options())
        .await
        .expect_err("wrong proof");
    assert!(matches!(err, ApiError::Tampered(_)), "{err:?}");
    assert!(err.to_string().contains("serverVerifyHash"), "{err}");
}

#[tokio::test]
async fn wrong_secret_key_is_typed() {
    let (server, fake) = start().await;
    // The real server's start answer names Secret Key RTN9SA; ours is another one.
    Mock::given(method("POST"))
        .and(path("/api/v3/auth/start"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("start-new-session-response.json")),
        )
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let err = sign_in(
        fake.account.credentials(&server.uri()),
        test_options().with_device_uuid("rz64r4uhyvgew672nm4ncaqonq"),
    )
    .await
    .expect_err("wrong Secret Key");
    assert!(matches!(err, ApiError::WrongSecretKey), "{err:?}");
}

#[tokio::test]
async fn suspended_and_deleted_users_are_typed() {
    let (server, fake) = start().await;
    catch_all(&server, 0).await;
    let creds = fake.account.credentials(&server.uri());
    fake.state().complete_status = Some((435, json!({"reason": "user_suspended"})));
    let err = sign_in(creds.clone(), test_options())
        .await
        .expect_err("suspended");
    assert!(matches!(err, ApiError::UserSuspended), "{err:?}");
    fake.state().complete_status = Some((436, json!({})));
    let err = sign_in(creds.clone(), test_options().with_srp(SrpVersion::V1))
        .await
        .expect_err("deleted");
    assert!(matches!(err, ApiError::UserDeleted), "{err:?}");
}

#[tokio::test]
async fn a_v1_server_hash_mismatch_is_tampering() {
    let (server, fake) = start().await;
    catch_all(&server, 0).await;
    // The fixture's serverVerifyHash does not belong to this session.
    let mut answer = fixture("verify-key-response.json");
    answer["userUuid"] = json!(fake.account.user_uuid);
    fake.state().complete_answer = Some(answer);
    let err = sign_in(
        fake.account.credentials(&server.uri()),
        SignInOptions::default()
            .with_srp(SrpVersion::V1)
            .with_transport(common::test_transport()),
    )
    .await
    .expect_err("mismatch");
    assert!(matches!(err, ApiError::Tampered(_)), "{err:?}");
}

#[tokio::test]
async fn addresses_are_checked_before_anything_is_sent() {
    let creds = common::AccountData::generate().credentials("http://my.1password.com");
    let err = sign_in(creds, test_options())
        .await
        .expect_err("plain http");
    assert!(matches!(err, ApiError::InvalidInput(_)), "{err:?}");
    let _ = Answer::Plain(json!({}));
}
