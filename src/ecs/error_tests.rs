//! Error classification, parsing and redaction.

use super::*;

fn none() -> Redactor {
    Redactor::default()
}

#[test]
fn parses_the_json_error_body() {
    let body = br#"{"RequestId":"R-1","HostId":"ecs.aliyuncs.com","Code":"InvalidImageId.NotFound","Message":"The specified ImageId does not exist.","Recommend":"https://api.aliyun.com/troubleshoot?q=x"}"#;
    let err = error_from_response("DescribeImages", 404, body, &none());
    assert_eq!(
        err,
        EcsError::Api {
            action: "DescribeImages".into(),
            http_status: 404,
            code: "InvalidImageId.NotFound".into(),
            message: "The specified ImageId does not exist.".into(),
            request_id: Some("R-1".into()),
        }
    );
    assert_eq!(err.code(), Some("InvalidImageId.NotFound"));
    assert_eq!(err.request_id(), Some("R-1"));
    assert!(err.is_not_found());
    assert!(!err.is_retryable());
    let shown = err.to_string();
    assert!(
        shown.contains("InvalidImageId.NotFound") && shown.contains("R-1"),
        "{shown}"
    );
}

#[test]
fn html_from_a_proxy_is_a_decode_error_with_its_title() {
    let body = b"<html>\n<head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let err = error_from_response("CopyImage", 502, body, &none());
    match &err {
        EcsError::Decode {
            http_status,
            detail,
            ..
        } => {
            assert_eq!(*http_status, 502);
            assert_eq!(detail, "HTML page \"502 Bad Gateway\"");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
}

#[test]
fn empty_and_414_bodies_are_decode_errors() {
    let err = error_from_response("TagResources", 414, b"", &none());
    assert!(
        matches!(&err, EcsError::Decode { http_status: 414, detail, .. } if detail == "empty body")
    );
    assert!(!err.is_retryable());
    let err = error_from_response("TagResources", 414, b"Request-URI Too Large", &none());
    assert!(err.to_string().contains("414") && err.to_string().contains("Request-URI Too Large"));
}

#[test]
fn long_bodies_are_cut_to_one_short_line() {
    let body = format!("line one\n\tline two {}", "x".repeat(1000));
    let detail = body_snippet(body.as_bytes(), &none());
    assert!(detail.starts_with("line one line two xxx"), "{detail}");
    assert!(detail.chars().count() <= SNIPPET_CHARS + 1);
    assert!(detail.ends_with('…'));
}

#[test]
fn classifies_retryable_codes() {
    for code in [
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "Rejected.Throttling",
        "ServiceUnavailable",
        "InternalError",
        "UnknownError",
    ] {
        assert_eq!(
            transience("DescribeImages", code),
            Some(Transience::Brief),
            "{code}"
        );
    }
    for code in [
        "IncorrectImageStatus",
        "ThrottlingX",
        "Forbidden",
        "InvalidImageId.NotFound",
    ] {
        assert_eq!(transience("DescribeImages", code), None, "{code}");
    }
    let api = |code: &str, status: u16| EcsError::Api {
        action: "A".into(),
        http_status: status,
        code: code.into(),
        message: String::new(),
        request_id: None,
    };
    assert!(api("Throttling.User", 400).is_retryable());
    assert!(api("SomethingNew", 503).is_retryable());
    assert!(!api("QuotaExceed.Image", 403).is_retryable());
    for source in [
        TransportError::Timeout(std::time::Duration::from_secs(1)),
        TransportError::Connect("refused".into()),
        TransportError::Other("connection closed before message completed".into()),
    ] {
        assert!(EcsError::Transport {
            action: "A".into(),
            source
        }
        .is_retryable());
    }
    let gave_up = EcsError::DeadlineExceeded {
        action: "A".into(),
        attempts: 3,
        last: Some(Box::new(api("Throttling", 400))),
    };
    assert!(!gave_up.is_retryable());
    assert!(gave_up
        .to_string()
        .contains("deadline passed after 3 attempt(s)"));
    assert!(gave_up.to_string().contains("Throttling"));
}

#[test]
fn busy_and_in_flight_codes_are_retried_only_where_they_mean_later() {
    let api = |action: &str, code: &str, status: u16| EcsError::Api {
        action: action.into(),
        http_status: status,
        code: code.into(),
        message: String::new(),
        request_id: None,
    };
    for action in ["CopyImage", "DeleteImage"] {
        assert_eq!(
            api(action, "OperationDenied.ImageCopying", 403).transience(),
            Some(Transience::Busy),
            "{action}"
        );
    }
    // Elsewhere the code means the request itself cannot work (e.g. ModifyImageAttribute).
    assert!(!api("CancelCopyImage", "OperationDenied.ImageCopying", 403).is_retryable());
    for code in ["OperationConflict", "LastTokenProcessing"] {
        assert_eq!(
            api("TagResources", code, 400).transience(),
            Some(Transience::Brief)
        );
    }
    for status in [500, 502, 503, 504, 599] {
        assert!(
            api("CopyImage", "Anything", status).is_retryable(),
            "{status}"
        );
    }
    let gave_up = EcsError::DeadlineExceeded {
        action: "CopyImage".into(),
        attempts: 2,
        last: Some(Box::new(api(
            "CopyImage",
            "OperationDenied.ImageCopying",
            403,
        ))),
    };
    assert_eq!(
        gave_up.last_answer().code(),
        Some("OperationDenied.ImageCopying")
    );
}

#[test]
fn not_found_covers_images_and_snapshots_only() {
    let api = |code: &str| EcsError::Api {
        action: "A".into(),
        http_status: 404,
        code: code.into(),
        message: String::new(),
        request_id: None,
    };
    for code in NOT_FOUND_CODES {
        assert!(api(code).is_not_found());
    }
    assert!(!api("InvalidRegionId.NotFound").is_not_found());
    assert!(!api("IncorrectImageStatus").is_not_found());
}

#[test]
fn redacts_secrets_in_any_encoding_and_the_string_to_sign() {
    let redactor = Redactor::new(["TOKEN/canary+1=="]);
    let encoded = crate::ecs::encode::percent_encode("TOKEN/canary+1==");
    let twice = crate::ecs::encode::percent_encode(&encoded);
    for text in [
        "x TOKEN/canary+1== y".to_string(),
        format!("x {encoded} y"),
        format!("x {twice} y"),
    ] {
        assert_eq!(redactor.redact(&text), "x *** y");
    }
    let message = format!("Specified signature is not matched with our calculation. server string to sign is:GET&%2F&SecurityToken%3D{twice}");
    let body =
        format!(r#"{{"Code":"SignatureDoesNotMatch","Message":"{message}","RequestId":"R"}}"#);
    let err = error_from_response(
        "DescribeRegions",
        400,
        body.as_bytes(),
        &Redactor::default(),
    );
    assert_eq!(
        err.to_string(),
        "DescribeRegions failed: HTTP 400 SignatureDoesNotMatch: Specified signature is not matched with our calculation. server string to sign is: <redacted> (RequestId R)"
    );
}
