//! With distinctive credentials, a run of successes, API errors, retried faults, wrong
//! credentials and a blown deadline against the emulator leaves no secret, token, string to
//! sign or signature in any log line (TRACE, every crate) nor in any error's Display or Debug.

mod log_capture;

mod ecs_emulator_support;

use std::time::Duration;

use ecs_emulator::{EmulatorConfig, Faults};
use ecs_emulator_support::*;
use ecs_image_copy::ecs::{CopyImageRequest, Credentials, EcsError, Tag};

const SECRET: &str = "SECRET-canary-e2e";
/// Characters that percent-encoding changes, so encoded forms are distinct needles too;
/// every encoding still starts with this prefix.
const TOKEN: &str = "TOKEN-canary-e2e/+=";
const TOKEN_PREFIX: &str = "TOKEN-canary-e2e";

fn rendered(error: &EcsError) -> Vec<String> {
    let mut texts = vec![
        error.to_string(),
        format!("{error:?}"),
        format!("{error:#?}"),
    ];
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        texts.push(cause.to_string());
        source = cause.source();
    }
    if let EcsError::DeadlineExceeded {
        last: Some(last), ..
    } = error
    {
        texts.extend(rendered(last));
    }
    texts
}

#[track_caller]
fn assert_clean(label: &str, text: &str) {
    for needle in [
        SECRET,
        "SECRET-wrong-canary",
        TOKEN_PREFIX,
        "TOKEN-other-canary",
        "Signature=",
        "Signature%3D",
        "GET&%2F&",
        "SignatureNonce=",
    ] {
        assert!(!text.contains(needle), "{label} leaks {needle:?}:\n{text}");
    }
}

#[tokio::test]
async fn no_canary_reaches_logs_or_errors_over_real_http() {
    let (captured, _guard) = log_capture::capture_on_this_thread();

    let harness = Harness::with_config(EmulatorConfig {
        access_key_id: "LTAIcanaryE2eKeyId".into(),
        access_key_secret: SECRET.into(),
        security_token: Some(TOKEN.into()),
        copy_duration: Duration::from_millis(200),
        seed: 9,
        ..EmulatorConfig::default()
    })
    .await;
    let good = harness.credentials();
    let client = harness.client();
    let mut texts = vec![
        format!("{client:?}"),
        format!("{good:?}"),
        good.to_string(),
        format!("{:?}", harness.config),
    ];
    let mut errors: Vec<EcsError> = Vec::new();

    // Successes, with throttling and 5xx retried along the way.
    harness.control().set_faults(Faults {
        throttle: 0.3,
        server_error: 0.2,
        ..Faults::default()
    });
    let image_id = client
        .copy_image(
            &CopyImageRequest {
                client_token: Some("canary-token-1".into()),
                tags: vec![Tag::new("k", "v")],
                ..copy_request()
            },
            deadline_in(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    client
        .describe_image(DESTINATION_REGION, &image_id, soon())
        .await
        .unwrap()
        .unwrap();
    client
        .describe_image(SOURCE_REGION, SOURCE_IMAGE, soon())
        .await
        .unwrap();
    harness.control().set_faults(Faults::default());

    // API errors.
    errors.push(
        client
            .modify_image_attribute(
                DESTINATION_REGION,
                &image_id,
                Some("1-not-a-valid-name"),
                None,
                soon(),
            )
            .await
            .unwrap_err(),
    );
    errors.push(
        client
            .cancel_copy_image(SOURCE_REGION, SOURCE_IMAGE, soon())
            .await
            .unwrap_err(),
    );
    // Wrong credentials: the emulator's SignatureDoesNotMatch carries its string to sign,
    // which holds the token.
    for credentials in [
        Credentials::new(
            good.access_key_id(),
            "SECRET-wrong-canary",
            Some(TOKEN.into()),
        ),
        Credentials::new(
            good.access_key_id(),
            SECRET,
            Some("TOKEN-other-canary".into()),
        ),
        Credentials::new(good.access_key_id(), SECRET, None),
        Credentials::new("LTAIunknownCanary", SECRET, Some(TOKEN.into())),
    ] {
        let wrong = harness.client_with(credentials, fast_retry(2));
        texts.push(format!("{wrong:?}"));
        errors.push(
            wrong
                .describe_image(DESTINATION_REGION, &image_id, soon())
                .await
                .unwrap_err(),
        );
    }
    // Throttled until the deadline.
    harness.control().set_faults(Faults {
        throttle: 1.0,
        ..Faults::default()
    });
    errors.push(
        client
            .tag_resources(
                DESTINATION_REGION,
                &image_id,
                &[Tag::new("a", "b")],
                deadline_in(Duration::from_millis(200)),
            )
            .await
            .unwrap_err(),
    );
    harness.control().set_faults(Faults::default());
    // Connection refused, after the emulator is gone.
    let endpoint = harness.endpoint();
    harness.shutdown().await;
    let orphan = client_for(&endpoint, good.clone(), fast_retry(3));
    errors.push(
        orphan
            .describe_image(
                SOURCE_REGION,
                SOURCE_IMAGE,
                deadline_in(Duration::from_millis(200)),
            )
            .await
            .unwrap_err(),
    );

    let codes: Vec<Option<&str>> = errors.iter().map(EcsError::code).collect();
    assert_eq!(
        codes,
        [
            Some("InvalidImageName.Malformed"),
            Some("IncorrectImageStatus"),
            Some("SignatureDoesNotMatch"),
            Some("InvalidSecurityToken.MismatchWithAccessKey"),
            Some("MissingSecurityToken"),
            Some("InvalidAccessKeyId.NotFound"),
            None,
            None,
        ]
    );
    for error in &errors {
        texts.extend(rendered(error));
    }
    for text in &texts {
        assert_clean("rendered text", text);
    }

    let logs = captured.text();
    for expected in [
        "CopyImage",
        "Throttling.User",
        "SignatureDoesNotMatch",
        "MissingSecurityToken",
    ] {
        assert!(logs.contains(expected), "no {expected:?} logged:\n{logs}");
    }
    assert_clean("logs", &logs);
}
