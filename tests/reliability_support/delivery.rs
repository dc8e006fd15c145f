//! One event delivered as a stack engine would (once or duplicated, to a ResponseURL that
//! may fail at first), and the answers it accepted.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::Rng;
use serde_json::Value;
use tokio::time::Instant;

use super::rig::Rig;

/// Everything a lifecycle produced that must never hold a secret.
#[derive(Default)]
pub struct Transcript {
    pub answers: Vec<String>,
    pub errors: Vec<String>,
}

/// The answer a stack engine accepted for one event.
#[derive(Debug, Clone)]
pub(super) struct Accepted {
    pub(super) status: String,
    pub(super) physical: String,
    pub(super) reason: String,
}

/// Delivers the event once or twice (a duplicate, sometimes concurrent), with a ResponseURL
/// that may fail its first attempts, and checks that each delivery had exactly one answer
/// accepted and that all of them agree.
pub(super) async fn deliver(
    rig: &Rig,
    event: &Value,
    rng: &mut StdRng,
    transcript: &mut Transcript,
) -> Result<Accepted, String> {
    let failures = rng.random_range(0..3usize);
    if failures > 0 {
        rig.receiver
            .fail_next(failures, if rng.random_bool(0.5) { 500 } else { 503 });
    }
    let raw = serde_json::to_vec(event).unwrap();
    let deadline = || Instant::now() + Duration::from_secs(30);
    let results = match rng.random_range(0..4) {
        0 => {
            let (a, b) = tokio::join!(
                rig.handler.handle(&raw, deadline()),
                rig.handler.handle(&raw, deadline())
            );
            vec![a, b]
        }
        1 => vec![
            rig.handler.handle(&raw, deadline()).await,
            rig.handler.handle(&raw, deadline()).await,
        ],
        _ => vec![rig.handler.handle(&raw, deadline()).await],
    };
    let deliveries = results.len();
    for result in results {
        if let Err(e) = result {
            let shown = format!("{e} / {e:?}");
            transcript.errors.push(shown.clone());
            return Err(format!("not answered: {shown}"));
        }
    }
    let url = event["ResponseURL"].as_str().unwrap();
    let path = &url[url.find("/c").or_else(|| url.find("/r")).unwrap()..];
    let mine: Vec<_> = rig
        .receiver
        .requests()
        .into_iter()
        .filter(|r| r.target == path)
        .collect();
    transcript.answers.extend(
        mine.iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned()),
    );
    let accepted: Vec<Accepted> = mine
        .iter()
        .filter(|r| (200..300).contains(&r.status))
        .map(|r| {
            let v = r.json();
            Accepted {
                status: v["Status"].as_str().unwrap_or_default().to_string(),
                physical: v["PhysicalResourceId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                reason: v["Reason"].as_str().unwrap_or_default().to_string(),
            }
        })
        .collect();
    if accepted.len() != deliveries {
        return Err(format!(
            "{deliveries} deliveries but {} accepted answers",
            accepted.len()
        ));
    }
    let first = accepted[0].clone();
    if accepted
        .iter()
        .any(|a| a.physical != first.physical || a.status != first.status)
    {
        return Err(format!("duplicates answered differently: {accepted:?}"));
    }
    Ok(first)
}
