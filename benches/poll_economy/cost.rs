//! What a user pays per copy on each path, from published prices (US East, N. Virginia; free
//! tiers left out), on the same simulated copies as the polling tables.
//!
//! - `Custom::ImageCopy`: only the function's Lambda time. The waiter's invocation runs for
//!   the whole wait (it sleeps between polls), handed over to a fresh invocation every
//!   15 minutes at most (`Timeout: 900`), at the memory and architecture `template.yaml`
//!   declares. <https://aws.amazon.com/lambda/pricing/>: requests $0.20 per million;
//!   duration $0.0000133334 per GB-second on Arm, $0.0000166667 on x86. CloudFormation
//!   stops waiting for a custom resource after at most an hour (`ServiceTimeout` ≤ 3600 s;
//!   the handler answers a margin, 60 s, before it), so longer waits cannot be had this way.
//! - `TF::Alicloud::ImageCopy` (a registry type outside the AWS/Custom namespaces):
//!   <https://aws.amazon.com/cloudformation/pricing/>: $0.0009 per handler operation, plus
//!   $0.00008 per second of an operation beyond its first 30 s. The page does not say
//!   whether each callback of an IN_PROGRESS CREATE is an operation of its own, or the whole
//!   CREATE one operation whose duration is the wait; both readings are shown. The handler's
//!   own Lambda time is the type publisher's, not the user's.

use super::{Copy, Outcome, Shape};

const LAMBDA_REQUEST: f64 = 0.20 / 1_000_000.0;
const LAMBDA_GB_SECOND_ARM: f64 = 0.000_013_333_4;
const LAMBDA_GB_SECOND_X86: f64 = 0.000_016_666_7;
const LAMBDA_INVOCATION_LIMIT: f64 = 900.0;
/// The longest CloudFormation waits for a custom resource, less the handler's answer margin.
const CUSTOM_RESOURCE_ANSWER_BY: f64 = 3600.0 - 60.0;
const HANDLER_OPERATION: f64 = 0.0009;
const OPERATION_SECOND: f64 = 0.000_08;
const OPERATION_FREE_SECONDS: f64 = 30.0;

const TEMPLATE: &str = include_str!("../../template.yaml");

/// The function's memory (GB) and whether it runs on Arm, as `template.yaml` declares them.
fn function_size() -> (f64, bool) {
    let mut lines = TEMPLATE.lines().map(str::trim);
    let mut memory_mb = None;
    let mut arm = None;
    while let Some(line) = lines.next() {
        if let Some(value) = line.strip_prefix("MemorySize:") {
            memory_mb = value.trim().parse::<f64>().ok();
        }
        if line == "Architectures:" {
            arm = lines
                .next()
                .map(|l| l.trim_start_matches("- ").trim() == "arm64");
        }
    }
    (
        memory_mb.expect("template.yaml declares MemorySize") / 1024.0,
        arm.unwrap_or(false),
    )
}

pub fn table(waiter: impl Fn(&Copy) -> Outcome, registry: impl Fn(&Copy) -> Outcome) {
    let (memory_gb, arm) = function_size();
    let gb_second = if arm {
        LAMBDA_GB_SECOND_ARM
    } else {
        LAMBDA_GB_SECOND_X86
    };
    println!();
    println!("SECTION cost");
    println!(
        "COST_BASIS memory_mb={:.0} architecture={} gb_second_usd={gb_second} requests_per_million_usd={:.2} operation_usd={HANDLER_OPERATION} operation_second_usd={OPERATION_SECOND}",
        memory_gb * 1024.0,
        if arm { "arm64" } else { "x86_64" },
        LAMBDA_REQUEST * 1_000_000.0,
    );
    println!("| copy | queued ahead | seen `Available` after | custom resource: Lambda invocations | GB-s | custom resource: $ per copy | registry: handler invocations | registry: $ if each invocation is an operation | registry: $ if the CREATE is one operation lasting the wait |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for minutes in [1.0, 10.0, 60.0] {
        for queued in [0, 1, 3] {
            let copy = Copy {
                curve: Shape::Linear,
                duration: minutes * 60.0,
                queued,
            };
            let waited = copy.available_at() + waiter(&copy).lag;
            let invocations = (waited / LAMBDA_INVOCATION_LIMIT).ceil().max(1.0);
            let gb_seconds = waited * memory_gb;
            let usd = gb_seconds * gb_second + invocations * LAMBDA_REQUEST;
            let custom = if waited > CUSTOM_RESOURCE_ANSWER_BY {
                // What the Lambda time would cost, had the engine waited that long.
                format!("over the 1 h limit: cannot (${usd:.5} of Lambda time if it could)")
            } else {
                format!("${usd:.5}")
            };
            let callbacks = registry(&copy);
            let registry_waited = copy.available_at() + callbacks.lag;
            let operations = f64::from(callbacks.calls + 1);
            let per_invocation = operations * HANDLER_OPERATION;
            let one_operation = HANDLER_OPERATION
                + (registry_waited - OPERATION_FREE_SECONDS).max(0.0) * OPERATION_SECOND;
            println!(
                "| {minutes} min | {queued} | {waited:.0} s | {invocations:.0} | {gb_seconds:.0} | {custom} | {operations:.0} | ${per_invocation:.4} | ${one_operation:.4} |",
            );
        }
    }
}
