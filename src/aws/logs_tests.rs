use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::layer::SubscriberExt;

use super::*;
use crate::logging::capture::CaptureLayer;

const PROVIDER_SECRET: &str = "provider-secret-canary";
const PROVIDER_TOKEN: &str = "provider-token-canary";
const ALIBABA_SECRET: &str = "alibaba-secret-canary";

fn request() -> Value {
    json!({
        "action": "CREATE",
        "awsAccountId": "123456789012",
        "region": "eu-west-1",
        "stackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/images/0f1e",
        "requestData": {
            "logicalResourceId": "Copy",
            "providerLogGroupName": "tf-alicloud-imagecopy-logs",
            "providerCredentials": {
                "accessKeyId": "ASIAPROVIDER",
                "secretAccessKey": PROVIDER_SECRET,
                "sessionToken": PROVIDER_TOKEN,
            },
            "typeConfiguration": {
                "AlibabaCloud": {"AccessKeyId": "LTAI", "AccessKeySecret": ALIBABA_SECRET},
            },
        },
    })
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn line(timestamp_ms: i64, message: &str) -> CapturedLine {
    CapturedLine {
        timestamp_ms,
        message: message.into(),
    }
}

#[test]
fn the_destination_is_the_log_group_with_one_stream_per_resource() {
    let destination = LogDestination::from_request(&request(), no_env).unwrap();
    assert_eq!(destination.group, "tf-alicloud-imagecopy-logs");
    assert_eq!(
        destination.stream,
        "arn__aws__cloudformation__eu-west-1__123456789012__stack/images/0f1e/Copy"
    );
    assert_eq!(destination.endpoint, "https://logs.eu-west-1.amazonaws.com");
    assert!(!format!("{destination:?}").contains(PROVIDER_SECRET));

    // `cfn test` sends no stack id.
    let mut request = request();
    request.as_object_mut().unwrap().remove("stackId");
    request["region"] = json!("cn-north-1");
    let destination = LogDestination::from_request(&request, |name| {
        (name == ENV_LOGS_ENDPOINT).then(|| "http://127.0.0.1:4566/".to_string())
    })
    .unwrap();
    assert_eq!(destination.stream, "123456789012-cn-north-1");
    assert_eq!(destination.endpoint, "http://127.0.0.1:4566");
    let destination = LogDestination::from_request(&request, no_env).unwrap();
    assert_eq!(
        destination.endpoint,
        "https://logs.cn-north-1.amazonaws.com.cn"
    );
}

#[test]
fn nothing_is_shipped_without_a_group_credentials_or_region() {
    for pointer in [
        "/requestData/providerLogGroupName",
        "/requestData/providerCredentials/secretAccessKey",
        "/region",
    ] {
        let mut request = request();
        *request.pointer_mut(pointer).unwrap() = json!("");
        assert!(
            LogDestination::from_request(&request, no_env).is_none(),
            "{pointer}"
        );
    }
    let mut request = request();
    request["requestData"]
        .as_object_mut()
        .unwrap()
        .remove("providerCredentials");
    assert!(LogDestination::from_request(&request, no_env).is_none());
}

#[test]
fn every_secret_the_request_carries_is_blanked_out_of_the_lines() {
    let secrets = secrets_in(&request());
    assert_eq!(secrets.len(), 3, "{secrets:?}");
    let lines = blank_secrets(
        vec![line(
            1,
            &format!("leak {PROVIDER_SECRET} {PROVIDER_TOKEN} {ALIBABA_SECRET} LTAI"),
        )],
        &secrets,
    );
    assert_eq!(lines[0].message, "leak *** *** *** LTAI");
}

#[test]
fn batches_keep_time_order_and_the_put_log_events_limits() {
    let mut events: Vec<CapturedLine> = (0..10_001).rev().map(|t| line(t, "x")).collect();
    events.push(line(5, "second at 5"));
    let split = batches(events);
    assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), [10_000, 2]);
    let all: Vec<&CapturedLine> = split.iter().flatten().collect();
    assert!(all
        .windows(2)
        .all(|w| w[0].timestamp_ms <= w[1].timestamp_ms));
    // Stable: of two lines stamped alike, the one written first stays first.
    let at_5: Vec<&str> = all
        .iter()
        .filter(|e| e.timestamp_ms == 5)
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(at_5, ["x", "second at 5"]);

    // Bytes: five lines of 300 KiB are cut to the event limit, then four fit in 1 MiB.
    let big = "é".repeat(150 * 1024);
    let split = batches((0..5).map(|t| line(t, &big)).collect());
    assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), [4, 1]);
    for batch in &split {
        let bytes: usize = batch.iter().map(|e| e.message.len() + EVENT_OVERHEAD).sum();
        assert!(bytes <= MAX_BATCH_BYTES, "{bytes}");
        assert!(batch.iter().all(|e| e.message.len() <= MAX_EVENT_BYTES));
    }
}

/// A CloudWatch Logs stand-in on loopback: answers each call with the next scripted
/// (status, body), or never answers once the script runs out and `hang` is set.
struct FakeLogs {
    endpoint: String,
    calls: Arc<Mutex<Vec<(String, Value)>>>,
}

impl FakeLogs {
    async fn start(script: Vec<(u16, &'static str)>, hang: bool) -> FakeLogs {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let calls = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&calls);
        tokio::spawn(async move {
            let mut script = script.into_iter();
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let Some((target, body)) = read_request(&mut socket).await else {
                    continue;
                };
                recorded.lock().unwrap().push((target, body));
                match script.next() {
                    Some((status, body)) => {
                        let answer = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = socket.write_all(answer.as_bytes()).await;
                    }
                    None if hang => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    None => return,
                }
            }
        });
        FakeLogs { endpoint, calls }
    }

    fn actions(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(t, _)| t.trim_start_matches("Logs_20140328.").to_string())
            .collect()
    }

    fn destination(&self) -> LogDestination {
        let endpoint = self.endpoint.clone();
        LogDestination::from_request(&request(), move |name| {
            (name == ENV_LOGS_ENDPOINT).then(|| endpoint.clone())
        })
        .unwrap()
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, Value)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data).to_string();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let head = text[..end].to_ascii_lowercase();
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_string))
        };
        let length: usize = header("content-length")?.parse().ok()?;
        if data.len() >= end + 4 + length {
            let body = serde_json::from_slice(&data[end + 4..end + 4 + length]).ok()?;
            // The target's case as sent: read from the original text.
            let target = text[..end]
                .lines()
                .find_map(|l| {
                    l.split_once(':')
                        .filter(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))
                        .map(|(_, v)| v.trim().to_string())
                })
                .unwrap_or_default();
            return Some((target, body));
        }
    }
}

/// `capture_and_ship` with the capture layer as this future's subscriber.
async fn run_shipped(destination: &LogDestination, deadline: Instant) -> &'static str {
    let secrets = secrets_in(&request());
    let work = async {
        tracing::info!(image_id = "m-1", "copy started");
        tracing::warn!("with a leak {ALIBABA_SECRET}");
        "the answer"
    };
    let subscriber = tracing_subscriber::registry().with(CaptureLayer { json: false });
    capture_and_ship(destination, &secrets, deadline, work)
        .with_subscriber(subscriber)
        .await
}

const NO_GROUP: &str =
    r#"{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}"#;
const NO_STREAM: &str = r#"{"__type":"ResourceNotFoundException","message":"The specified log stream does not exist."}"#;

#[tokio::test]
async fn a_missing_group_and_stream_are_created_then_the_lines_put_in_one_batch() {
    let fake = FakeLogs::start(
        vec![
            (400, NO_GROUP),
            (200, "{}"),
            (
                400,
                r#"{"__type":"com.amazonaws.logs#ResourceAlreadyExistsException","message":"exists"}"#,
            ),
            (200, r#"{"nextSequenceToken":"1"}"#),
        ],
        false,
    )
    .await;
    let answer = run_shipped(&fake.destination(), Instant::now() + Duration::from_secs(5)).await;
    assert_eq!(answer, "the answer");
    assert_eq!(
        fake.actions(),
        [
            "PutLogEvents",
            "CreateLogGroup",
            "CreateLogStream",
            "PutLogEvents"
        ]
    );
    let calls = fake.calls.lock().unwrap();
    let put = &calls[3].1;
    assert_eq!(put["logGroupName"], "tf-alicloud-imagecopy-logs");
    assert_eq!(put["logStreamName"], fake.destination().stream);
    let messages: Vec<&str> = put["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["INFO copy started image_id=m-1", "WARN with a leak ***"]
    );
    let everything = format!("{:?}", *calls);
    for secret in [ALIBABA_SECRET, PROVIDER_SECRET, PROVIDER_TOKEN] {
        assert!(!everything.contains(secret), "{secret} shipped");
    }
}

#[tokio::test]
async fn a_missing_stream_alone_creates_no_group() {
    let fake = FakeLogs::start(vec![(400, NO_STREAM), (200, "{}"), (200, "{}")], false).await;
    run_shipped(&fake.destination(), Instant::now() + Duration::from_secs(5)).await;
    assert_eq!(
        fake.actions(),
        ["PutLogEvents", "CreateLogStream", "PutLogEvents"]
    );
}

#[tokio::test]
async fn a_refusal_or_a_dead_endpoint_never_changes_the_answer() {
    let refused = FakeLogs::start(
        vec![(
            400,
            r#"{"__type":"AccessDeniedException","message":"not allowed"}"#,
        )],
        false,
    )
    .await;
    let answer = run_shipped(
        &refused.destination(),
        Instant::now() + Duration::from_secs(5),
    )
    .await;
    assert_eq!(answer, "the answer");
    assert_eq!(refused.actions(), ["PutLogEvents"]);

    let mut destination = refused.destination();
    destination.endpoint = "http://127.0.0.1:1".into();
    let answer = run_shipped(&destination, Instant::now() + Duration::from_secs(5)).await;
    assert_eq!(answer, "the answer");
}

#[tokio::test]
async fn a_hanging_endpoint_is_given_up_at_the_deadline() {
    let fake = FakeLogs::start(vec![], true).await;
    let deadline = Instant::now() + Duration::from_secs(1);
    let answer = run_shipped(&fake.destination(), deadline).await;
    assert_eq!(answer, "the answer");
    // Not a timing claim: the endpoint would hold it for an hour.
    assert!(Instant::now() < deadline + Duration::from_secs(5));
    assert_eq!(fake.actions(), ["PutLogEvents"]);
}

#[tokio::test]
async fn work_that_logs_nothing_calls_nothing() {
    let fake = FakeLogs::start(vec![], false).await;
    let subscriber = tracing_subscriber::registry().with(CaptureLayer { json: false });
    let answer = capture_and_ship(
        &fake.destination(),
        &[],
        Instant::now() + Duration::from_secs(5),
        async { 7 },
    )
    .with_subscriber(subscriber)
    .await;
    assert_eq!(answer, 7);
    assert!(fake.actions().is_empty());
}

#[test]
fn refusals_name_the_code_in_json_and_in_xml() {
    let json = refusal(
        "PutLogEvents",
        400,
        r#"{"__type":"com.amazonaws.logs#ThrottlingException","message":"Rate exceeded"}"#,
    );
    assert_eq!(
        json.to_string(),
        "CloudWatch Logs refused PutLogEvents (HTTP 400 ThrottlingException): Rate exceeded"
    );
    let xml = refusal(
        "CreateLogGroup",
        403,
        "<?xml version=\"1.0\"?><ErrorResponse><Error><Code>AccessDenied</Code><Message>not allowed</Message></Error></ErrorResponse>",
    );
    assert_eq!(xml.code(), Some("AccessDenied"));
    assert!(
        xml.to_string().ends_with("AccessDenied): not allowed"),
        "{xml}"
    );
}
