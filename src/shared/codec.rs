//! The format of values stored in Redis: a version byte, then (encrypted)
//! a random 96-bit nonce and the ChaCha20-Poly1305 ciphertext of the
//! payload, with the Redis key's logical name as associated data (so a
//! value cannot be replayed under another key).
//!
//! ```text
//! v1 (encrypted): 0x01 | nonce (12) | AEAD(endpoint (1) | fetched_at ms (8) | fresh_until ms (8) | body)
//! v0 (plaintext, only with SOG_REDIS_ALLOW_PLAINTEXT): 0x00 | endpoint | fetched_at | fresh_until | body
//! ```
//!
//! A codec with a key refuses plaintext values, and one without a key
//! refuses encrypted ones: both count as a miss.

use bytes::Bytes;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Utc};
use rand::RngCore;

use crate::cache::Entry;
use crate::upstream::Endpoint;

const V_PLAINTEXT: u8 = 0;
const V_CHACHA20POLY1305: u8 = 1;
const NONCE_LEN: usize = 12;
const META_LEN: usize = 17;

/// Why a stored value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// Too short, unknown version or bad metadata.
    #[error("malformed value")]
    Malformed,
    /// Authentication failed: wrong key, other key name or tampering.
    #[error("the value does not decrypt with this key")]
    Undecryptable,
    /// Plaintext value while a key is configured, or the reverse.
    #[error("the value's encryption does not match the configuration")]
    WrongMode,
}

/// Seals and opens values stored in Redis.
#[derive(Clone)]
pub struct EntryCodec {
    cipher: Option<ChaCha20Poly1305>,
}

impl std::fmt::Debug for EntryCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryCodec")
            .field("encrypted", &self.cipher.is_some())
            .finish()
    }
}

impl EntryCodec {
    /// A codec encrypting with `key`, or storing plaintext with `None`.
    pub fn new(key: Option<&[u8; 32]>) -> Self {
        Self {
            cipher: key.map(|k| ChaCha20Poly1305::new(&Key::from(*k))),
        }
    }

    /// Whether values are encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.cipher.is_some()
    }

    /// Seals `plaintext`, bound to the logical name `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        match &self.cipher {
            None => {
                let mut out = Vec::with_capacity(1 + plaintext.len());
                out.push(V_PLAINTEXT);
                out.extend_from_slice(plaintext);
                out
            }
            Some(cipher) => {
                let mut nonce = [0u8; NONCE_LEN];
                rand::rng().fill_bytes(&mut nonce);
                let sealed = cipher
                    .encrypt(
                        &Nonce::from(nonce),
                        Payload {
                            msg: plaintext,
                            aad,
                        },
                    )
                    // Only fails for messages beyond 256 GiB.
                    .unwrap_or_default();
                let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
                out.push(V_CHACHA20POLY1305);
                out.extend_from_slice(&nonce);
                out.extend_from_slice(&sealed);
                out
            }
        }
    }

    /// Opens a value sealed under the logical name `aad`.
    pub fn open(&self, aad: &[u8], value: &[u8]) -> Result<Vec<u8>, CodecError> {
        let (&version, rest) = value.split_first().ok_or(CodecError::Malformed)?;
        match (version, &self.cipher) {
            (V_PLAINTEXT, None) => Ok(rest.to_vec()),
            (V_CHACHA20POLY1305, Some(cipher)) => {
                if rest.len() < NONCE_LEN {
                    return Err(CodecError::Malformed);
                }
                let (nonce, sealed) = rest.split_at(NONCE_LEN);
                let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CodecError::Malformed)?;
                cipher
                    .decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad })
                    .map_err(|_| CodecError::Undecryptable)
            }
            (V_PLAINTEXT | V_CHACHA20POLY1305, _) => Err(CodecError::WrongMode),
            _ => Err(CodecError::Malformed),
        }
    }

    /// An entry as a Redis value.
    pub fn encode_entry(&self, entry: &Entry) -> Vec<u8> {
        let mut plain = Vec::with_capacity(META_LEN + entry.body().len());
        plain.push(match entry.endpoint {
            Endpoint::Orders => 0,
            Endpoint::Details => 1,
        });
        plain.extend_from_slice(&entry.fetched_at.timestamp_millis().to_be_bytes());
        plain.extend_from_slice(&entry.fresh_until.timestamp_millis().to_be_bytes());
        plain.extend_from_slice(entry.body());
        self.seal(entry.key().as_bytes(), &plain)
    }

    /// The entry stored under the cache key `key`.
    pub fn decode_entry(&self, key: &str, value: &[u8]) -> Result<Entry, CodecError> {
        let plain = self.open(key.as_bytes(), value)?;
        if plain.len() < META_LEN {
            return Err(CodecError::Malformed);
        }
        let endpoint = match plain[0] {
            0 => Endpoint::Orders,
            1 => Endpoint::Details,
            _ => return Err(CodecError::Malformed),
        };
        let millis = |b: &[u8]| {
            let arr: [u8; 8] = b.try_into().map_err(|_| CodecError::Malformed)?;
            DateTime::<Utc>::from_timestamp_millis(i64::from_be_bytes(arr))
                .ok_or(CodecError::Malformed)
        };
        let fetched_at = millis(&plain[1..9])?;
        let fresh_until = millis(&plain[9..17])?;
        let ttl = (fresh_until - fetched_at).to_std().unwrap_or_default();
        let body = Bytes::copy_from_slice(&plain[META_LEN..]);
        Ok(Entry::new(endpoint, key, body, fetched_at, ttl))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn entry() -> Entry {
        Entry::new(
            Endpoint::Details,
            "service-order-details?n_no=N1",
            Bytes::from_static(br#"{"items":[{"customer":"Acme Corp"}]}"#),
            DateTime::from_timestamp(1_796_000_000, 123_000_000).unwrap(),
            Duration::from_secs(300),
        )
    }

    #[test]
    fn encrypted_round_trip_hides_the_body() {
        let codec = EntryCodec::new(Some(&[7u8; 32]));
        let e = entry();
        let value = codec.encode_entry(&e);
        assert_eq!(value[0], V_CHACHA20POLY1305);
        let text = String::from_utf8_lossy(&value);
        assert!(!text.contains("Acme") && !text.contains("items"));
        let back = codec.decode_entry(e.key(), &value).unwrap();
        assert_eq!(back.body(), e.body());
        assert_eq!(back.fetched_at, e.fetched_at);
        assert_eq!(back.fresh_until, e.fresh_until);
        assert_eq!(back.etag(), e.etag());
        assert_eq!(back.endpoint, Endpoint::Details);
    }

    #[test]
    fn nonces_differ_per_write() {
        let codec = EntryCodec::new(Some(&[7u8; 32]));
        let e = entry();
        assert_ne!(codec.encode_entry(&e), codec.encode_entry(&e));
    }

    #[test]
    fn wrong_key_other_name_tampering_and_mode_mismatch_are_refused() {
        let codec = EntryCodec::new(Some(&[7u8; 32]));
        let e = entry();
        let value = codec.encode_entry(&e);
        let other = EntryCodec::new(Some(&[8u8; 32]));
        assert_eq!(
            other.decode_entry(e.key(), &value).unwrap_err(),
            CodecError::Undecryptable
        );
        let elsewhere = "service-order-details?n_no=N2";
        assert_eq!(
            codec.decode_entry(elsewhere, &value).unwrap_err(),
            CodecError::Undecryptable
        );
        let mut tampered = value.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(codec.decode_entry(e.key(), &tampered).is_err());
        let plain = EntryCodec::new(None);
        assert_eq!(
            plain.decode_entry(e.key(), &value).unwrap_err(),
            CodecError::WrongMode
        );
        let plain_value = plain.encode_entry(&e);
        assert_eq!(
            plain.decode_entry(e.key(), &plain_value).unwrap().body(),
            e.body()
        );
        assert_eq!(
            codec.decode_entry(e.key(), &plain_value).unwrap_err(),
            CodecError::WrongMode
        );
        assert_eq!(codec.open(b"k", &[]).unwrap_err(), CodecError::Malformed);
        assert_eq!(
            codec.open(b"k", &[9, 1, 2]).unwrap_err(),
            CodecError::Malformed
        );
    }
}
