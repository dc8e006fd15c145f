use super::*;
use crate::test_env::env as lookup;

#[test]
fn exception_data_parses_and_names_its_source() {
    let raw: serde_json::Value =
        serde_json::from_str(include_str!("endpoint_exceptions.json")).unwrap();
    assert!(raw["source"]
        .as_str()
        .unwrap()
        .contains("aliyun-python-sdk-core"));
    assert!(data().exceptions.len() >= 10);
}

#[test]
fn documented_exceptions_use_the_central_host() {
    let endpoints = Endpoints::official();
    for region in [
        "cn-hangzhou",
        "cn-qingdao",
        "cn-beijing",
        "cn-shanghai",
        "cn-shenzhen",
        "cn-hongkong",
        "ap-southeast-1",
        "us-west-1",
        "us-east-1",
    ] {
        assert_eq!(
            endpoints.base_url(region).unwrap(),
            "https://ecs-cn-hangzhou.aliyuncs.com",
            "{region}"
        );
    }
}

#[test]
fn other_regions_use_the_regional_host() {
    let endpoints = Endpoints::official();
    assert_eq!(
        endpoints.base_url("eu-central-1").unwrap(),
        "https://ecs.eu-central-1.aliyuncs.com"
    );
    assert_eq!(
        endpoints.base_url("ap-southeast-7").unwrap(),
        "https://ecs.ap-southeast-7.aliyuncs.com"
    );
}

#[test]
fn a_network_gives_the_sdk_host_and_skips_the_public_exceptions() {
    // EndpointResolverRules: the endpoint map only for "public", then
    // <product>-<network>.<region>.aliyuncs.com.
    let vpc = Endpoints::official().with_network("VPC").unwrap();
    assert_eq!(
        vpc.base_url("cn-hangzhou").unwrap(),
        "https://ecs-vpc.cn-hangzhou.aliyuncs.com"
    );
    assert_eq!(
        vpc.base_url("eu-central-1").unwrap(),
        "https://ecs-vpc.eu-central-1.aliyuncs.com"
    );
    let public = Endpoints::official().with_network("public").unwrap();
    assert_eq!(public, Endpoints::official());
    for bad in ["", "v p c", "vpc.evil.com", "vpc/", "a:b"] {
        let err = Endpoints::official().with_network(bad).unwrap_err();
        assert!(err.to_string().contains(ENV_NETWORK), "{bad}: {err}");
    }
}

#[test]
fn override_applies_to_every_region() {
    let endpoints = Endpoints::with_override("http://127.0.0.1:8080/").unwrap();
    assert_eq!(
        endpoints.base_url("cn-hangzhou").unwrap(),
        "http://127.0.0.1:8080"
    );
    assert_eq!(
        endpoints.base_url("eu-west-1").unwrap(),
        "http://127.0.0.1:8080"
    );
}

#[test]
fn the_region_placeholder_is_replaced_in_host_and_path() {
    let endpoints = Endpoints::with_override("https://ecs-vpc.{region}.aliyuncs.com").unwrap();
    assert_eq!(
        endpoints.base_url("cn-beijing").unwrap(),
        "https://ecs-vpc.cn-beijing.aliyuncs.com"
    );
    let endpoints = Endpoints::with_override("http://127.0.0.1:9000/{region}/").unwrap();
    assert_eq!(
        endpoints.base_url("eu-west-1").unwrap(),
        "http://127.0.0.1:9000/eu-west-1"
    );
}

#[test]
fn a_region_entry_beats_the_single_url_and_the_network() {
    let endpoints = Endpoints::from_lookup(lookup(&[
        (ENV_ECS_ENDPOINT, "https://ecs.{region}.proxy.internal"),
        (ENV_NETWORK, "vpc"),
        (
            ENV_ECS_ENDPOINTS,
            " cn-hangzhou = http://127.0.0.1:1 ,cn-beijing=http://127.0.0.1:2/,",
        ),
    ]))
    .unwrap();
    assert_eq!(
        endpoints.base_url("cn-hangzhou").unwrap(),
        "http://127.0.0.1:1"
    );
    assert_eq!(
        endpoints.base_url("cn-beijing").unwrap(),
        "http://127.0.0.1:2"
    );
    assert_eq!(
        endpoints.base_url("eu-west-1").unwrap(),
        "https://ecs.eu-west-1.proxy.internal"
    );
    let map_and_network = Endpoints::from_lookup(lookup(&[
        (ENV_NETWORK, "vpc"),
        (ENV_ECS_ENDPOINTS, "cn-hangzhou=http://127.0.0.1:1"),
    ]))
    .unwrap();
    assert_eq!(
        map_and_network.base_url("cn-shanghai").unwrap(),
        "https://ecs-vpc.cn-shanghai.aliyuncs.com"
    );
}

#[test]
fn bad_urls_are_rejected_with_the_variable_name() {
    for bad in [
        "",
        "127.0.0.1:8080",
        "ftp://host",
        "http://",
        "http://user:pw@host",
        "http://host/?a=b",
        "http://host/#frag",
        "not a url",
        "http://{region}:x",
    ] {
        let err = Endpoints::with_override(bad).unwrap_err();
        assert!(err.to_string().contains(ENV_ECS_ENDPOINT), "{bad}: {err}");
        let entry = format!("cn-hangzhou={bad}");
        let err =
            Endpoints::from_lookup(lookup(&[(ENV_ECS_ENDPOINTS, entry.as_str())])).unwrap_err();
        assert!(err.to_string().contains(ENV_ECS_ENDPOINTS), "{bad}: {err}");
    }
}

#[test]
fn bad_map_entries_are_rejected_naming_the_entry() {
    for (bad, quoted) in [
        ("cn-hangzhou", "\"cn-hangzhou\""),
        ("CN-HANGZHOU=http://h", "\"CN-HANGZHOU=http://h\""),
        ("=http://h", "\"=http://h\""),
        ("cn-a=http://h,cn-a=http://i", "\"cn-a=http://i\""),
    ] {
        let err = Endpoints::from_lookup(lookup(&[(ENV_ECS_ENDPOINTS, bad)])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(ENV_ECS_ENDPOINTS), "{bad}: {text}");
        assert!(text.contains(quoted), "{bad}: {text}");
    }
    let err = Endpoints::from_lookup(lookup(&[(ENV_ECS_ENDPOINTS, "cn-a=ftp://h")])).unwrap_err();
    assert!(
        matches!(err, EndpointError::InvalidUrl { variable, .. } if variable == ENV_ECS_ENDPOINTS)
    );
}

#[test]
fn a_unicode_endpoint_host_is_refused_naming_the_variable_and_the_ascii_form() {
    let err =
        Endpoints::from_lookup(lookup(&[(ENV_ECS_ENDPOINT, "https://ecs.例子.cn/")])).unwrap_err();
    assert!(
        matches!(err, EndpointError::NonAsciiHost { variable, .. } if variable == ENV_ECS_ENDPOINT)
    );
    let text = err.to_string();
    assert!(text.contains("\"ecs.例子.cn\" is not ASCII"), "{text}");
    assert!(text.contains("xn--"), "{text}");
    let ascii_form =
        Endpoints::from_lookup(lookup(&[(ENV_ECS_ENDPOINT, "https://ecs.xn--fsqu00a.cn/")]));
    assert!(ascii_form.is_ok(), "{ascii_form:?}");
}

#[test]
fn unset_or_blank_variables_mean_the_official_hosts() {
    assert_eq!(
        Endpoints::from_lookup(|_| None).unwrap(),
        Endpoints::official()
    );
    assert_eq!(
        Endpoints::from_lookup(|_| Some("  ".into())).unwrap(),
        Endpoints::official()
    );
}

#[test]
fn region_ids_cannot_inject_hosts() {
    let official = Endpoints::official();
    let templated = Endpoints::with_override("https://ecs.{region}.example").unwrap();
    for bad in [
        "",
        "evil.com/",
        "cn-hangzhou.evil.com",
        "CN-HANGZHOU",
        "a b",
        "a@b",
    ] {
        assert!(official.base_url(bad).is_err(), "{bad}");
        assert!(templated.base_url(bad).is_err(), "{bad}");
    }
}
