//! A string that never prints: signing secrets and URLs with credentials in
//! the configuration. Its `Debug` shows `Secret([redacted])`, it has no
//! `Display`, and its bytes are overwritten when it is dropped or cleared.
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// A secret string; read it with [`Secret::expose`] where it is used.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Overwrites the secret and leaves it empty.
    pub fn clear(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Compares in time independent of the contents (the length may show).
impl PartialEq<str> for Secret {
    fn eq(&self, other: &str) -> bool {
        self.0.as_bytes().ct_eq(other.as_bytes()).into()
    }
}

impl PartialEq<&str> for Secret {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

/// Read as a plain string (TOML, environment variables).
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// Only an empty secret serializes (as `""`): the configuration loader starts
/// from the serialized defaults, which hold no secrets, and a set secret must
/// not leave the process this way.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            serializer.serialize_str("")
        } else {
            Err(serde::ser::Error::custom("a secret is not serialized"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::from("hunter2-hunter2");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(s.expose(), "hunter2-hunter2");
        assert_eq!(s.len(), 15);
        assert!(s == "hunter2-hunter2" && s != "hunter2");
    }

    #[test]
    fn clear_empties() {
        let mut s = Secret::from(String::from("abc"));
        s.clear();
        assert!(s.is_empty());
        assert_eq!(s.expose(), "");
    }

    #[test]
    fn reads_as_a_string_and_serializes_only_when_empty() {
        let s: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(s.expose(), "abc");
        assert!(serde_json::to_string(&s).is_err());
        assert_eq!(serde_json::to_string(&Secret::default()).unwrap(), "\"\"");
    }
}
