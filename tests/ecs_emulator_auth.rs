//! Authentication through the real client: the emulator's own credentials (long-term and STS)
//! work; each way of getting them wrong comes back with the emulator's code, is not retried,
//! and never shows the secret, the token or the server's string to sign.

mod ecs_emulator_support;

use std::time::Duration;

use ecs_emulator::EmulatorConfig;
use ecs_emulator_support::*;
use ecs_image_copy::ecs::Credentials;

/// Credentials that differ from the emulator's in one way.
fn auth_cases(good: &Credentials) -> Vec<(&'static str, Credentials, &'static str, u16)> {
    let id = good.access_key_id().to_string();
    let secret = good.secret().to_string();
    let token = good.security_token().map(str::to_string);
    vec![
        (
            "unknown AccessKey id",
            Credentials::new("LTAIunknownkey0000", secret.clone(), token.clone()),
            "InvalidAccessKeyId.NotFound",
            404,
        ),
        (
            "wrong secret",
            Credentials::new(id.clone(), "SECRET-wrong-e2e", token.clone()),
            "SignatureDoesNotMatch",
            400,
        ),
        (
            "other STS token",
            Credentials::new(id.clone(), secret.clone(), Some("TOKEN-other-e2e".into())),
            "InvalidSecurityToken.MismatchWithAccessKey",
            400,
        ),
        (
            "no STS token",
            Credentials::new(id, secret, None),
            "MissingSecurityToken",
            400,
        ),
    ]
}

#[tokio::test]
async fn sts_credentials_work_and_wrong_ones_get_the_emulators_codes() {
    let harness = Harness::with_config(EmulatorConfig {
        security_token: Some("TOKEN-sts-e2e/+=".into()),
        access_key_secret: "SECRET-sts-e2e".into(),
        ..EmulatorConfig::default()
    })
    .await;
    let good = harness.credentials();
    let image = harness
        .client()
        .describe_image(SOURCE_REGION, SOURCE_IMAGE, soon())
        .await
        .unwrap();
    assert!(image.is_some());
    let recorded = &harness.control().calls()[0];
    assert_eq!(recorded.params["SecurityToken"], "<redacted>");

    for (name, credentials, code, status) in auth_cases(&good) {
        harness.control().clear_calls();
        let client = harness.client_with(credentials, fast_retry(1));
        let error = assert_api_error(
            client
                .describe_image(SOURCE_REGION, SOURCE_IMAGE, soon())
                .await,
            code,
            status,
        );
        assert_eq!(harness.control().calls().len(), 1, "{name}: retried");
        let shown = format!("{error} {error:?}");
        for needle in [
            "SECRET-sts-e2e",
            "SECRET-wrong-e2e",
            "TOKEN-sts-e2e",
            "TOKEN-other-e2e",
            "TOKEN-sts-e2e%2F%2B%3D",
        ] {
            assert!(!shown.contains(needle), "{name} leaks {needle}: {shown}");
        }
    }
    harness.shutdown().await;
}

#[tokio::test]
async fn a_token_sent_with_long_term_keys_is_malformed() {
    let harness = Harness::start(100).await;
    let good = harness.credentials();
    let with_token = Credentials::new(
        good.access_key_id(),
        good.secret(),
        Some("TOKEN-stray-e2e".into()),
    );
    let client = harness.client_with(with_token, fast_retry(1));
    assert_api_error(
        client
            .describe_image(SOURCE_REGION, SOURCE_IMAGE, soon())
            .await,
        "InvalidSecurityToken.Malformed",
        400,
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn signature_mismatch_hides_the_secret_and_the_string_to_sign() {
    let harness = Harness::with_config(EmulatorConfig {
        access_key_secret: "SECRET-canary-e2e".into(),
        security_token: Some("TOKEN-canary-e2e".into()),
        ..EmulatorConfig::default()
    })
    .await;
    let good = harness.credentials();
    let wrong = Credentials::new(
        good.access_key_id(),
        "SECRET-wrong-canary",
        Some("TOKEN-canary-e2e".into()),
    );
    let client = harness.client_with(wrong, fast_retry(1));
    let error = assert_api_error(
        client
            .describe_image(
                DESTINATION_REGION,
                "m-uf6x",
                deadline_in(Duration::from_secs(3)),
            )
            .await,
        "SignatureDoesNotMatch",
        400,
    );
    let (_, _, message, _) = api_parts(&error);
    assert!(message.starts_with("Specified signature is not matched"));
    assert!(
        message.ends_with("string to sign is: <redacted>"),
        "{message}"
    );
    for shown in [
        error.to_string(),
        format!("{error:?}"),
        format!("{error:#?}"),
    ] {
        for needle in [
            "SECRET-canary-e2e",
            "SECRET-wrong-canary",
            "TOKEN-canary-e2e",
            "GET&%2F&",
            "AccessKeyId%3D",
            "Signature=",
        ] {
            assert!(!shown.contains(needle), "leaks {needle}: {shown}");
        }
    }
    harness.shutdown().await;
}
