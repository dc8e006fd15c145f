//! The promises that hold whatever goes wrong: every event answered, panics included,
//! callbacks retried, no secret in any log line.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ecs_image_copy::ecs::{
    Credentials, EcsClient, Endpoints, HttpRequest, HttpResponse, RetryPolicy, Transport,
    TransportError,
};
use ecs_image_copy::handler::{HandleError, Handled, Handler};
use ecs_image_copy::lifecycle::FAILED_CREATE_MARKER;
use ecs_image_copy::settings::Settings;
use tokio::time::Instant;

#[tokio::test]
async fn a_callback_failing_twice_is_retried_until_accepted() {
    let world = World::new(Duration::from_millis(300)).await;
    world.receiver.fail_next(2, 503);
    let Ok(Handled::Answered(handled)) = world
        .send(
            &cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props()),
            Duration::from_secs(60),
        )
        .await
    else {
        panic!("not delivered in the end")
    };
    assert_eq!(handled.delivery.attempts, 3);
    let requests = world.receiver.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.windows(2).all(|w| w[0].body == w[1].body),
        "the same answer each time"
    );
    assert_eq!(world.receiver.accepted().len(), 1);
}

#[tokio::test]
async fn a_callback_that_refuses_is_reported_not_retried_forever() {
    let world = World::new(Duration::from_millis(300)).await;
    world.receiver.fail_next(1, 403);
    let result = world
        .send(
            &cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props()),
            Duration::from_secs(30),
        )
        .await;
    assert!(
        matches!(result, Err(HandleError::NotDelivered { .. })),
        "{result:?}"
    );
    assert_eq!(world.receiver.requests().len(), 1);
}

#[tokio::test]
async fn an_event_without_a_response_url_is_an_error_not_a_hang() {
    let world = World::new(Duration::from_millis(300)).await;
    let mut event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    event.as_object_mut().unwrap().remove("ResponseURL");
    let result = world.send(&event, Duration::from_secs(5)).await;
    assert!(
        matches!(result, Err(HandleError::Unanswerable(_))),
        "{result:?}"
    );
    assert!(world.ecs().calls().is_empty());
}

/// A transport whose every call panics: stands for a bug deep inside the lifecycle.
struct PanickingTransport;

impl Transport for PanickingTransport {
    fn send(
        &self,
        _request: HttpRequest,
        _timeout: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + '_>> {
        Box::pin(async { panic!("transport exploded") })
    }
}

#[tokio::test]
async fn a_panic_inside_the_lifecycle_is_still_answered() {
    let world = World::new(Duration::from_millis(300)).await;
    let ecs = EcsClient::with_transport(
        Credentials::new("id", "secret", None),
        Endpoints::official(),
        Arc::new(PanickingTransport),
        RetryPolicy::default(),
    );
    let settings = Settings {
        credentials: Ok(None),
        region_id: Some(DEST_REGION.into()),
        ecs_endpoints: Ok(ecs_image_copy::ecs::Endpoints::official()),
        ros_timeout: Duration::from_secs(60),
        handover: None,
    };
    let handler = Handler::with_client(ecs, settings);
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let Ok(Handled::Answered(handled)) = handler
        .handle(
            &serde_json::to_vec(&event).unwrap(),
            Instant::now() + Duration::from_secs(10),
        )
        .await
    else {
        panic!("not answered despite the panic")
    };
    let answer: serde_json::Value = serde_json::from_str(&handled.body.json).unwrap();
    assert_eq!(answer["Status"], "FAILED");
    assert_eq!(answer["PhysicalResourceId"], FAILED_CREATE_MARKER);
    assert!(
        answer["Reason"]
            .as_str()
            .unwrap()
            .contains("transport exploded"),
        "{answer}"
    );
}

#[tokio::test]
async fn missing_credentials_are_answered_failed_naming_the_variable() {
    let world = World::new(Duration::from_millis(300)).await;
    let handler = Handler::new(Settings::from_lookup(|name| match name {
        "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some("LTAI-only-the-id".to_string()),
        "ALIBABA_CLOUD_REGION_ID" => Some(DEST_REGION.to_string()),
        _ => None,
    }));
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let Ok(Handled::Answered(handled)) = handler
        .handle(
            &serde_json::to_vec(&event).unwrap(),
            Instant::now() + Duration::from_secs(10),
        )
        .await
    else {
        panic!("not answered")
    };
    let answer: serde_json::Value = serde_json::from_str(&handled.body.json).unwrap();
    assert_eq!(answer["Status"], "FAILED");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(
        reason.contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        "{reason}"
    );
}
