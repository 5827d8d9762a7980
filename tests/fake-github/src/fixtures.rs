//! GitHub's published examples: where they are, the REST answers the fake builds on, the
//! webhook payloads tests deliver, and the signature GitHub puts on a delivery.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The fixture folder: `$VOUCH_FIXTURES`, else the verbatim copy in `tests/fixtures/github`
/// (its README says where each file comes from), so a clean clone tests on its own.
pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os("VOUCH_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/github"),
    }
}

/// GitHub's example payload `webhooks/<event>/<file>`, e.g.
/// `webhook_payload("pull_request", "opened.payload.json")`.
///
/// # Panics
/// When the file is missing or is not JSON: the test names a fixture that is not there.
pub fn webhook_payload(event: &str, file: &str) -> Value {
    let path = fixtures_dir().join("webhooks").join(event).join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("webhook fixture {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("webhook fixture {}: {e}", path.display()))
}

/// The `X-Hub-Signature-256` value GitHub sends with `body`: `sha256=<hex HMAC-SHA256>`.
pub fn sign_webhook(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The REST examples the fake answers from.
pub(crate) const REST_FILES: &[&str] = &[
    "apps/create-installation-access-token.json",
    "apps/get-authenticated.json",
    "apps/list-installations.json",
    "apps/list-repos-accessible-to-installation.json",
    "repos/get.json",
    "repos/get-collaborator-permission-level.json",
    "pulls/get.json",
    "pulls/list.json",
    "pulls/list-commits.json",
    "pulls/list-reviews.json",
    "teams/list-members-in-org.json",
    "checks/create.json",
    "checks/list-for-ref.json",
    "checks/list-annotations.json",
];

/// The loaded examples and each operation's documentation URL (for error bodies).
pub(crate) struct Fixtures {
    rest: HashMap<&'static str, Value>,
    docs: HashMap<String, String>,
}

fn read_json(path: &Path) -> std::io::Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}

impl Fixtures {
    pub(crate) fn load(dir: &Path) -> std::io::Result<Fixtures> {
        let rest_dir = dir.join("rest");
        let mut rest = HashMap::new();
        for file in REST_FILES {
            rest.insert(*file, read_json(&rest_dir.join(file))?);
        }
        let index = read_json(&rest_dir.join("index.json"))?;
        let docs = index
            .get("operations")
            .and_then(Value::as_array)
            .map(|ops| {
                ops.iter()
                    .filter_map(|op| {
                        Some((
                            op.get("operationId")?.as_str()?.to_string(),
                            op.get("docs")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Fixtures { rest, docs })
    }

    /// A copy of an example (`Null` for a file not in [`REST_FILES`]).
    pub(crate) fn get(&self, file: &str) -> Value {
        self.rest.get(file).cloned().unwrap_or(Value::Null)
    }

    /// The first item of an example that is a list (or of the list under `key`).
    pub(crate) fn first(&self, file: &str, key: Option<&str>) -> Value {
        let v = self.get(file);
        let list = match key {
            Some(k) => v.get(k).cloned().unwrap_or(Value::Null),
            None => v,
        };
        list.get(0).cloned().unwrap_or(Value::Null)
    }

    /// The documentation URL GitHub puts in error bodies for an operation.
    pub(crate) fn docs(&self, operation: &str) -> String {
        self.docs
            .get(operation)
            .cloned()
            .unwrap_or_else(|| "https://docs.github.com/rest".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_githubs_documented_example() {
        // From GitHub's "Validating webhook deliveries" page.
        assert_eq!(
            sign_webhook(b"It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn every_rest_example_loads() {
        let f = Fixtures::load(&fixtures_dir()).unwrap();
        for file in REST_FILES {
            assert!(!f.get(file).is_null(), "{file}");
        }
        assert!(f
            .docs("checks/create")
            .starts_with("https://docs.github.com/"));
        assert!(webhook_payload("ping", "payload.json").is_object());
    }
}
