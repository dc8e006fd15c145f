//! Loads the known-answer vectors kept as data in `tests/data/signature_v1_vectors.json`
//! (produced by the official Python SDK; see the generator script beside the file).

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Vectors {
    pub generator: String,
    pub encode: Vec<EncodeCase>,
    pub signature: Vec<SignatureCase>,
}

#[derive(Debug, Deserialize)]
pub struct EncodeCase {
    pub input: String,
    pub expected: String,
}

#[derive(Debug, Deserialize)]
pub struct SignatureCase {
    pub name: String,
    pub method: String,
    pub secret: String,
    pub params: BTreeMap<String, String>,
    pub canonical_query: String,
    pub string_to_sign: String,
    pub signature: String,
    pub signed_query: String,
}

pub fn vectors() -> Vectors {
    serde_json::from_str(include_str!("../../tests/data/signature_v1_vectors.json"))
        .expect("tests/data/signature_v1_vectors.json is valid")
}
