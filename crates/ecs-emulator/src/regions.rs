//! What the emulator says about a region: its display name, endpoint and id prefix.

/// The two characters ECS puts after `m-` / `s-` for resources of a region, so generated ids
/// look like real ones (`m-bp...` in Hangzhou, `m-uf...` in Shanghai).
pub fn id_prefix(region: &str) -> &'static str {
    match region {
        "cn-hangzhou" => "bp",
        "cn-shanghai" => "uf",
        "cn-beijing" => "2z",
        "cn-shenzhen" => "wz",
        "cn-qingdao" => "m5",
        "cn-zhangjiakou" => "8v",
        "cn-hongkong" => "j6",
        "ap-southeast-1" => "t4",
        "ap-northeast-1" => "6w",
        "us-west-1" => "rj",
        "us-east-1" => "0x",
        "eu-central-1" => "gw",
        "eu-west-1" => "d7",
        _ => "em",
    }
}

pub fn local_name(region: &str) -> String {
    let name = match region {
        "cn-hangzhou" => "华东1（杭州）",
        "cn-shanghai" => "华东2（上海）",
        "cn-beijing" => "华北2（北京）",
        "cn-shenzhen" => "华南1（深圳）",
        "cn-qingdao" => "华北1（青岛）",
        "cn-zhangjiakou" => "华北3（张家口）",
        "cn-hongkong" => "中国香港",
        "ap-southeast-1" => "新加坡",
        "ap-northeast-1" => "日本（东京）",
        "us-west-1" => "美国（硅谷）",
        "us-east-1" => "美国（弗吉尼亚）",
        "eu-central-1" => "德国（法兰克福）",
        "eu-west-1" => "英国（伦敦）",
        other => other,
    };
    name.to_string()
}

/// Public endpoint as DescribeRegions reports it; Hangzhou is the documented exception.
pub fn endpoint(region: &str) -> String {
    match region {
        "cn-hangzhou" => "ecs-cn-hangzhou.aliyuncs.com".to_string(),
        other => format!("ecs.{other}.aliyuncs.com"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_prefixes() {
        assert_eq!(endpoint("cn-hangzhou"), "ecs-cn-hangzhou.aliyuncs.com");
        assert_eq!(endpoint("cn-shanghai"), "ecs.cn-shanghai.aliyuncs.com");
        assert_eq!(id_prefix("cn-shanghai"), "uf");
        assert_eq!(id_prefix("xx-unknown-1"), "em");
        assert_eq!(local_name("xx-unknown-1"), "xx-unknown-1");
    }
}
