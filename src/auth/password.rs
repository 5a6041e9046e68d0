//! argon2id hashing on a bounded blocking pool, never on the async executor.
use std::sync::Arc;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// OWASP minimum for argon2id: m=19 MiB, t=2, p=1.
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
/// Longer passwords are refused before hashing (long-password DoS).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes and verifies passwords. Concurrency is bounded because each job holds
/// 19 MiB and a full core.
#[derive(Clone)]
pub struct PasswordService {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<String>,
}

fn argon2() -> Argon2<'static> {
    let params =
        Params::new(M_COST_KIB, T_COST, P_COST, None).expect("static argon2 params are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordService {
    /// Builds the service and precomputes the hash that unknown users are checked against.
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let dummy = argon2()
            .hash_password(b"authgraph-dummy-password-for-unknown-users")
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
            .to_string();
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: Arc::new(dummy),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(AppError::internal)
    }

    /// Returns the PHC string of a new argon2id hash.
    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let password = password.to_owned();
        self.run(move || {
            argon2()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
        })
        .await?
        .map_err(|e| AppError::internal(anyhow::anyhow!("argon2: {e}")))
    }

    /// Checks a password against a stored hash, or against the dummy hash when
    /// there is no user, so both cases cost the same time.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> AppResult<bool> {
        let password = password.to_owned();
        let exists = stored.is_some();
        let hash = stored
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let ok = self
            .run(move || match PasswordHash::new(&hash) {
                Ok(parsed) => argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok(),
                Err(_) => false,
            })
            .await?;
        Ok(ok && exists)
    }
}

/// Checks length rules; the minimum comes from the collection settings.
pub fn check_policy(password: &str, min_len: usize) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < min_len {
        return Err(AppError::WeakPassword(format!(
            "password must be at least {min_len} characters long"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::WeakPassword(format!(
            "password must be at most {MAX_PASSWORD_BYTES} bytes long"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let svc = PasswordService::new(2).unwrap();
        let hash = svc.hash("correct horse battery").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            svc.verify("correct horse battery", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!svc.verify("wrong", Some(&hash)).await.unwrap());
        // The dummy hash never lets anyone in, whatever the password.
        assert!(
            !svc.verify("authgraph-dummy-password-for-unknown-users", None)
                .await
                .unwrap()
        );
    }

    #[test]
    fn policy_counts_characters_not_bytes() {
        assert!(check_policy("ééééééé", 8).is_err());
        assert!(check_policy("éééééééé", 8).is_ok());
        assert!(check_policy(&"a".repeat(MAX_PASSWORD_BYTES + 1), 8).is_err());
    }
}
