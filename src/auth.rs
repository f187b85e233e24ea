//! Caller authentication: the API keys file, the named callers it lists,
//! their scopes, and checking a presented key against them.
//!
//! The file (`--api-keys-file` / `SOG_API_KEYS_FILE`) holds one caller per
//! line, `name:sha256hex[:scopes]`:
//!
//! ```text
//! # name : SHA-256 of the key (hex) : scopes (optional, comma-separated; default all)
//! billing:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! portal:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752:orders
//! ```
//!
//! Only hashes of the keys are stored, so the file itself is no secret worth
//! stealing. Scopes are `orders` (service-orders) and `details`
//! (service-order-details, which holds customer data). Names are letters,
//! digits, `.`, `_` and `-` (at most 64): they appear in logs and metrics.
//!
//! A presented key is hashed and compared with every caller's hash in
//! constant time ([`subtle`]); the key itself is never kept or logged.
//! [`ApiKeyStore`] holds the current set and swaps in a new one on
//! [`ApiKeyStore::reload`] (SIGHUP), keeping the old set when the new file is
//! invalid.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The longest key accepted (longer presented keys are refused unhashed).
pub const MAX_KEY_BYTES: usize = 256;
/// The longest caller name accepted.
pub const MAX_NAME_BYTES: usize = 64;

/// What a caller may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `GET /v1/business-process/service-orders`.
    Orders,
    /// `GET /v1/business-process/service-order-details` (customer data).
    Details,
}

impl Scope {
    /// Every scope (a caller without a scope list has them all).
    pub const ALL: [Scope; 2] = [Scope::Orders, Scope::Details];

    /// The name used in the keys file.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Orders => "orders",
            Scope::Details => "details",
        }
    }

    fn parse(s: &str) -> Option<Scope> {
        match s.trim() {
            "orders" => Some(Scope::Orders),
            "details" => Some(Scope::Details),
            _ => None,
        }
    }
}

/// An authenticated caller, attached to the request (and its response) as an
/// extension by the authentication layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's name from the keys file (never the key).
    pub name: Arc<str>,
    scopes: Vec<Scope>,
}

impl Caller {
    /// Whether the caller may use `scope`.
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// The caller's scopes.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }
}

/// One line of the keys file.
#[derive(Clone)]
struct Entry {
    caller: Caller,
    hash: [u8; 32],
}

/// The callers of one version of the keys file.
#[derive(Clone, Default)]
pub struct ApiKeys {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field(
                "callers",
                &self
                    .entries
                    .iter()
                    .map(|e| &*e.caller.name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Why a keys file was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeysFileError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not `name:sha256hex[:scopes]`.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong (never the line's content: it may be a pasted key).
        reason: String,
    },
}

/// The SHA-256 of a key, as the keys file stores it (lower-case hex).
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl ApiKeys {
    /// Parses the text of a keys file.
    pub fn parse(text: &str) -> Result<ApiKeys, KeysFileError> {
        let mut entries = Vec::new();
        let mut names = HashSet::new();
        let mut hashes = HashSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: &str| KeysFileError::Line {
                line: i + 1,
                reason: reason.to_owned(),
            };
            let mut parts = line.splitn(3, ':');
            let name = parts.next().unwrap_or_default().trim();
            let hash = parts
                .next()
                .ok_or_else(|| bad("expected name:sha256hex[:scopes]"))?
                .trim();
            if name.is_empty()
                || name.len() > MAX_NAME_BYTES
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            {
                return Err(bad(
                    "the name must be 1 to 64 letters, digits, '.', '_' or '-'",
                ));
            }
            let mut digest = [0u8; 32];
            if hash.len() != 64 || hex::decode_to_slice(hash, &mut digest).is_err() {
                return Err(bad(
                    "the key hash must be 64 hex digits (the SHA-256 of the key, not the key itself)",
                ));
            }
            let scopes = match parts.next().map(str::trim).filter(|s| !s.is_empty()) {
                None => Scope::ALL.to_vec(),
                Some(list) => {
                    let mut scopes = Vec::new();
                    for s in list.split(',') {
                        let scope =
                            Scope::parse(s).ok_or_else(|| bad("scopes are orders and details"))?;
                        if !scopes.contains(&scope) {
                            scopes.push(scope);
                        }
                    }
                    scopes
                }
            };
            if !names.insert(name.to_owned()) {
                return Err(bad("this caller name is already listed"));
            }
            if !hashes.insert(digest) {
                return Err(bad("this key hash is already listed for another caller"));
            }
            entries.push(Entry {
                caller: Caller {
                    name: Arc::from(name),
                    scopes,
                },
                hash: digest,
            });
        }
        Ok(ApiKeys { entries })
    }

    /// Reads and parses a keys file.
    pub fn load(path: &Path) -> Result<ApiKeys, KeysFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeysFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        ApiKeys::parse(&text)
    }

    /// How many callers are listed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no caller is listed (every request is then refused).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The caller whose key is `key`, if any. Every listed hash is compared,
    /// in constant time, whichever matches.
    pub fn authenticate(&self, key: &str) -> Option<Caller> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return None;
        }
        let presented: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut found = None;
        for entry in &self.entries {
            if bool::from(entry.hash.ct_eq(&presented)) {
                found = Some(entry.caller.clone());
            }
        }
        found
    }
}

/// The current API keys, reloadable while the gateway runs.
#[derive(Debug, Clone)]
pub struct ApiKeyStore {
    path: PathBuf,
    current: Arc<RwLock<Arc<ApiKeys>>>,
}

impl ApiKeyStore {
    /// Loads `path`; fails when the file cannot be read or parsed.
    pub fn open(path: &Path) -> Result<ApiKeyStore, KeysFileError> {
        let keys = ApiKeys::load(path)?;
        if keys.is_empty() {
            tracing::warn!(path = %path.display(), "the API keys file lists no callers: every API request will be refused");
        }
        Ok(ApiKeyStore {
            path: path.to_owned(),
            current: Arc::new(RwLock::new(Arc::new(keys))),
        })
    }

    /// The current set of keys.
    pub fn keys(&self) -> Arc<ApiKeys> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Re-reads the file. On success the new set replaces the old one; on
    /// failure the old set stays in force and the error is logged and returned.
    pub fn reload(&self) -> Result<usize, KeysFileError> {
        match ApiKeys::load(&self.path) {
            Ok(keys) => {
                let callers = keys.len();
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
                tracing::info!(path = %self.path.display(), callers, "API keys reloaded");
                Ok(callers)
            }
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "the API keys file is invalid; keeping the previous keys");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_hashes_and_scopes() {
        let text = format!(
            "# callers\n\nbilling:{}\nportal:{}:orders\nboth:{}: details , orders \n",
            hash_key("k1"),
            hash_key("k2"),
            hash_key("k3").to_uppercase()
        );
        let keys = ApiKeys::parse(&text).unwrap();
        assert_eq!(keys.len(), 3);
        let billing = keys.authenticate("k1").unwrap();
        assert_eq!(&*billing.name, "billing");
        assert!(billing.may(Scope::Orders) && billing.may(Scope::Details));
        let portal = keys.authenticate("k2").unwrap();
        assert!(portal.may(Scope::Orders) && !portal.may(Scope::Details));
        assert!(keys.authenticate("k3").unwrap().may(Scope::Details));
        assert!(keys.authenticate("k4").is_none());
        assert!(keys.authenticate("").is_none());
        assert!(keys.authenticate(&"x".repeat(MAX_KEY_BYTES + 1)).is_none());
    }

    #[test]
    fn refuses_bad_lines_without_echoing_them() {
        let h = hash_key("k");
        for (text, what) in [
            ("a-raw-key-pasted-here".to_owned(), "name:sha256hex"),
            (format!("bad name:{h}"), "the name"),
            ("svc:a-raw-key-pasted-here".to_owned(), "64 hex digits"),
            (format!("svc:{h}:everything"), "scopes"),
            (format!("svc:{h}\nsvc:{}", hash_key("j")), "already listed"),
            (format!("a:{h}\nb:{h}"), "another caller"),
        ] {
            let err = ApiKeys::parse(&text).unwrap_err().to_string();
            assert!(err.contains(what), "{err}");
            assert!(!err.contains("a-raw-key"), "{err}");
        }
    }

    #[test]
    fn reload_keeps_the_old_keys_when_the_new_file_is_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, format!("a:{}\n", hash_key("k1"))).unwrap();
        let store = ApiKeyStore::open(&path).unwrap();
        std::fs::write(&path, "garbage").unwrap();
        assert!(store.reload().is_err());
        assert!(store.keys().authenticate("k1").is_some());
        std::fs::write(&path, format!("b:{}\n", hash_key("k2"))).unwrap();
        assert_eq!(store.reload().unwrap(), 1);
        assert!(store.keys().authenticate("k1").is_none());
        assert_eq!(&*store.keys().authenticate("k2").unwrap().name, "b");
    }

    #[test]
    fn debug_lists_names_only() {
        let keys = ApiKeys::parse(&format!("svc:{}", hash_key("k"))).unwrap();
        let shown = format!("{keys:?}");
        assert!(shown.contains("svc") && !shown.contains(&hash_key("k")));
    }
}
