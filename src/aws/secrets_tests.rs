use super::*;
use crate::test_env::env;
use serde_json::json;

const ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:alibaba-ak-AbCdEf";

fn secret() -> SecretRef {
    SecretRef {
        store: Store::SecretsManager,
        id: ARN.to_string(),
    }
}

const LAMBDA: [(&str, &str); 4] = [
    ("AWS_REGION", "us-east-1"),
    ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
    ("AWS_SECRET_ACCESS_KEY", "aws-secret"),
    ("AWS_SESSION_TOKEN", "aws-token"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    LAMBDA
        .iter()
        .copied()
        .chain(extra.iter().copied())
        .collect()
}

#[test]
fn no_arn_means_no_secret() {
    assert!(SecretSource::from_lookup(env(&LAMBDA)).is_none());
    assert!(SecretSource::from_lookup(env(&with(&[(ENV_SECRET_ARN, " ")]))).is_none());
}

#[test]
fn the_region_and_endpoint_come_from_the_arn() {
    let source = SecretSource::from_lookup(env(&with(&[(ENV_SECRET_ARN, ARN)])))
        .unwrap()
        .unwrap();
    assert_eq!(source.region, "eu-west-1");
    assert_eq!(
        source.endpoint,
        "https://secretsmanager.eu-west-1.amazonaws.com"
    );
    let china = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:ak";
    let source = SecretSource::from_lookup(env(&with(&[(ENV_SECRET_ARN, china)])))
        .unwrap()
        .unwrap();
    assert_eq!(
        source.endpoint,
        "https://secretsmanager.cn-north-1.amazonaws.com.cn"
    );
}

#[test]
fn a_name_uses_the_function_region_and_the_endpoint_can_be_overridden() {
    let source = SecretSource::from_lookup(env(&with(&[
        (ENV_SECRET_ARN, "alibaba-ak"),
        (ENV_SECRETS_MANAGER_ENDPOINT, "http://127.0.0.1:5000/"),
    ])))
    .unwrap()
    .unwrap();
    assert_eq!(source.region, "us-east-1");
    assert_eq!(source.endpoint, "http://127.0.0.1:5000");
    let err = SecretSource::from_lookup(env(&[
        (ENV_SECRET_ARN, "alibaba-ak"),
        ("AWS_ACCESS_KEY_ID", "ASIA"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
    ]))
    .unwrap()
    .unwrap_err();
    assert!(matches!(err, SecretError::NoRegion { .. }), "{err}");
    assert!(err.to_string().contains("alibaba-ak"), "{err}");
}

#[test]
fn without_the_role_credentials_the_error_names_the_secret() {
    let err = SecretSource::from_lookup(env(&[(ENV_SECRET_ARN, ARN)]))
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, SecretError::NoAwsCredentials { .. }));
    assert!(err.to_string().contains(ARN), "{err}");
    assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"), "{err}");
}

#[test]
fn plain_credentials_beside_the_secret_are_refused() {
    for plain in [ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_TF_SECRET_KEY] {
        let vars = with(&[(ENV_SECRET_ARN, ARN), (plain, "x")]);
        let err = SecretSource::from_lookup(env(&vars)).unwrap().unwrap_err();
        assert!(err.to_string().contains(plain), "{err}");
        assert!(err.to_string().contains(ENV_SECRET_ARN), "{err}");
    }
}

#[test]
fn the_documented_shape_gives_credentials() {
    let creds = credentials_from_secret_string(
        r#"{"AccessKeyId": "LTAIinsecret", "AccessKeySecret": "ali-secret", "Note": 1}"#,
    )
    .unwrap();
    assert_eq!(creds.access_key_id(), "LTAIinsecret");
    assert_eq!(creds.secret(), "ali-secret");
    assert_eq!(creds.security_token(), None);
    let creds = credentials_from_secret_string(
        r#"{"AccessKeyId":"STS.id","AccessKeySecret":"s","SecurityToken":"tok"}"#,
    )
    .unwrap();
    assert_eq!(creds.security_token(), Some("tok"));
}

#[test]
fn a_wrong_shape_is_described_without_quoting_the_value() {
    let canary = "CANARY-secret-value-0042";
    let cases = [
        (canary.to_string(), "not JSON"),
        (format!("{{\"AccessKeyId\": \"{canary}"), "not JSON"),
        (format!("[\"{canary}\"]"), "not a JSON object"),
        (
            format!("{{\"AccessKeyId\": \"{canary}\"}}"),
            "no AccessKeySecret",
        ),
        (
            format!("{{\"AccessKeyId\": \"id\", \"AccessKeySecret\": [\"{canary}\"]}}"),
            "AccessKeySecret is not a string",
        ),
        (
            format!("{{\"AccessKeyId\": \"\", \"AccessKeySecret\": \"{canary}\"}}"),
            "no AccessKeyId",
        ),
    ];
    for (secret, expected) in cases {
        let problem = credentials_from_secret_string(&secret).unwrap_err();
        let text = problem.to_string();
        assert!(text.contains(expected), "{secret}: {text}");
        assert!(!text.contains(canary), "{text}");
    }
    let answer = serde_json::json!({ "ARN": ARN, "SecretBinary": "AAAA" }).to_string();
    assert_eq!(
        credentials_from_answer(Store::SecretsManager, &answer).unwrap_err(),
        SecretProblem::NoSecretString
    );
    assert_eq!(
        credentials_from_answer(Store::SecretsManager, &format!("not json {canary}")).unwrap_err(),
        SecretProblem::AnswerNotUnderstood
    );
}

#[test]
fn aws_errors_give_code_and_message() {
    let err = refusal(
        &secret(),
        400,
        r#"{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}"#,
    );
    let text = err.to_string();
    assert!(text.contains(ARN), "{text}");
    assert!(
        text.contains("HTTP 400 ResourceNotFoundException"),
        "{text}"
    );
    assert!(text.contains("can't find"), "{text}");
    assert!(!is_transient(&err));
    let err = refusal(
        &secret(),
        400,
        r#"{"__type":"com.amazon.coral#ThrottlingException"}"#,
    );
    assert!(
        err.to_string().contains("HTTP 400 ThrottlingException"),
        "{err}"
    );
    assert!(is_transient(&err));
    let err = refusal(
        &secret(),
        403,
        "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>not authorized</Message></Error></Errors></ErrorResponse>",
    );
    assert!(
        err.to_string()
            .ends_with("(HTTP 403 AccessDenied): not authorized"),
        "{err}"
    );
    let err = refusal(&secret(), 503, &"x".repeat(1000));
    assert!(is_transient(&err));
    assert!(err.to_string().len() < 600);
}

#[test]
fn only_secrets_manager_arns_name_a_region() {
    assert_eq!(
        parse_arn(ARN, "secretsmanager"),
        Some(("aws".to_string(), "eu-west-1".to_string()))
    );
    assert_eq!(parse_arn("alibaba-ak", "secretsmanager"), None);
    assert_eq!(
        parse_arn("arn:aws:ssm:eu-west-1:1:parameter/x", "secretsmanager"),
        None
    );
    assert_eq!(
        parse_arn(
            "arn:aws:secretsmanager:EU.evil:1:secret:x",
            "secretsmanager"
        ),
        None
    );
}

#[test]
fn an_ssm_parameter_is_read_from_ssm_in_its_region() {
    let arn = "arn:aws:ssm:ap-southeast-1:123456789012:parameter/ecs-image-copy/ak";
    let source = SecretSource::from_lookup(env(&with(&[(ENV_PARAMETER_NAME, arn)])))
        .unwrap()
        .unwrap();
    assert_eq!(source.secret.store, Store::ParameterStore);
    assert_eq!(source.endpoint, "https://ssm.ap-southeast-1.amazonaws.com");
    assert_eq!(
        source.secret.to_string(),
        format!("the SSM parameter {arn}")
    );
    let source = SecretSource::from_lookup(env(&with(&[
        (ENV_PARAMETER_NAME, "/ecs-image-copy/ak"),
        (ENV_SSM_ENDPOINT, "http://127.0.0.1:5000"),
    ])))
    .unwrap()
    .unwrap();
    assert_eq!(source.region, "us-east-1");
    assert_eq!(source.endpoint, "http://127.0.0.1:5000");
    let body = |kind: &str| {
        json!({ "Parameter": { "Name": "/x", "Type": kind,
            "Value": r#"{"AccessKeyId":"LTAIp","AccessKeySecret":"s"}"# } })
        .to_string()
    };
    let creds = credentials_from_answer(Store::ParameterStore, &body("SecureString")).unwrap();
    assert_eq!(creds.access_key_id(), "LTAIp");
    assert_eq!(
        credentials_from_answer(Store::ParameterStore, &body("String")).unwrap_err(),
        SecretProblem::NotSecureString("String".into())
    );
}

#[test]
fn a_secret_and_a_parameter_together_are_refused() {
    let vars = with(&[(ENV_SECRET_ARN, ARN), (ENV_PARAMETER_NAME, "/x")]);
    let err = SecretSource::from_lookup(env(&vars)).unwrap().unwrap_err();
    assert!(matches!(err, SecretError::TwoPlaces), "{err}");
    let vars = with(&[(ENV_PARAMETER_NAME, "/x"), (ENV_ACCESS_KEY_ID, "LTAI")]);
    let err = SecretSource::from_lookup(env(&vars)).unwrap().unwrap_err();
    assert!(err.to_string().contains(ENV_PARAMETER_NAME), "{err}");
}
