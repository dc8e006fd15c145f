//! How calls fail: retried while the deadline allows, typed errors otherwise.

use super::*;
use crate::ecs::testing::{api_error, json};
use crate::ecs::transport::TransportError;
use serde_json::json as j;

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_with_a_fresh_nonce_each_time() {
    let transport = ScriptedTransport::sequence(vec![
        api_error(
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        ),
        Err(TransportError::Connect("refused".into())),
        json(200, j!({"RequestId": "R", "ImageId": "m-new"})),
    ]);
    let client = client_with(transport.clone(), None);
    let id = client
        .copy_image(&CopyImageRequest::default_for_test(), later())
        .await
        .unwrap();
    assert_eq!(id, "m-new");
    assert_eq!(transport.requests().len(), 3);
    let nonces: std::collections::HashSet<String> = (0..3)
        .map(|i| {
            param(&transport.params(i), "SignatureNonce")
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(nonces.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn persistent_5xx_gives_up_at_the_deadline() {
    let transport = ScriptedTransport::sequence(vec![api_error(503, "ServiceUnavailable", "busy")]);
    let client = client_with(transport.clone(), None);
    let deadline = Instant::now() + Duration::from_secs(15);
    let err = client
        .delete_image("cn-shanghai", "m-1", true, deadline)
        .await
        .unwrap_err();
    assert!(Instant::now() <= deadline);
    match &err {
        EcsError::DeadlineExceeded {
            action,
            attempts,
            last: Some(last),
        } => {
            assert_eq!(action, "DeleteImage");
            assert_eq!(*attempts as usize, transport.requests().len());
            assert_eq!(last.code(), Some("ServiceUnavailable"));
            assert_eq!(last.request_id(), Some("req-ServiceUnavailable"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn other_errors_return_at_once_with_code_message_and_request_id() {
    // (DeleteImage's OperationDenied.ImageCopying is transient: see `error::TRANSIENT`.)
    let transport = ScriptedTransport::sequence(vec![api_error(
        403,
        "ImageUsingByInstance",
        "The specified image has been used to create instances.",
    )]);
    let client = client_with(transport.clone(), None);
    let err = client
        .delete_image("cn-shanghai", "m-1", false, later())
        .await
        .unwrap_err();
    assert_eq!(transport.requests().len(), 1);
    assert_eq!(
        err.to_string(),
        "DeleteImage failed: HTTP 403 ImageUsingByInstance: The specified image has been used to create instances. (RequestId req-ImageUsingByInstance)"
    );
}

#[tokio::test]
async fn unexpected_success_bodies_are_decode_errors() {
    let transport = ScriptedTransport::sequence(vec![
        Ok(HttpResponse {
            status: 200,
            body: bytes::Bytes::from_static(b"<html><title>Captive portal</title></html>"),
        }),
        json(200, j!({"RequestId": "R"})),
    ]);
    let client = client_with(transport, None);
    let request = CopyImageRequest::default_for_test();
    let err = client.copy_image(&request, later()).await.unwrap_err();
    assert!(
        matches!(&err, EcsError::Decode { http_status: 200, detail, .. } if detail.contains("Captive portal")),
        "{err:?}"
    );
    let err = client.copy_image(&request, later()).await.unwrap_err();
    assert!(
        matches!(&err, EcsError::Decode { detail, .. } if detail.contains("ImageId")),
        "{err:?}"
    );
}
