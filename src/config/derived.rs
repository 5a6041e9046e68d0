//! What the settings become for the parts that use them: listen addresses,
//! the database URL, the file store, the relying parties, the rate limits,
//! the outbox's timing and the hashing workers.
use std::net::SocketAddr;

use anyhow::Context;

use super::Config;

/// The wait for a hashing worker the default queue bound aims at.
pub const HASH_QUEUE_TARGET_MS: u64 = 500;
/// About what one argon2id job (m=19 MiB, t=2) takes on one core.
pub const HASH_MS: u64 = 50;
use crate::domain::passkeys::relying_party::{RelyingParties, RpSettings};

impl Config {
    /// The metrics' own listen address, when they have one.
    pub fn metrics_socket_addr(&self) -> anyhow::Result<Option<SocketAddr>> {
        if self.metrics_addr.is_empty() {
            return Ok(None);
        }
        self.metrics_addr.parse().map(Some).with_context(|| {
            format!(
                "AUTHGRAPH_METRICS_ADDR `{}` is not a socket address like 127.0.0.1:9464",
                self.metrics_addr
            )
        })
    }

    /// The relying parties of passkeys, from the `AUTHGRAPH_PASSKEY_*` settings.
    pub fn relying_parties(&self) -> anyhow::Result<RelyingParties> {
        RelyingParties::new(&RpSettings {
            rp_id: &self.passkey_rp_id,
            origins: &self.passkey_origins,
            public_url: &self.public_url,
            localhost: self.passkey_localhost,
        })
        .map_err(anyhow::Error::msg)
    }

    /// The parsed listen address.
    pub fn socket_addr(&self) -> anyhow::Result<SocketAddr> {
        self.addr.parse().with_context(|| {
            format!(
                "AUTHGRAPH_ADDR `{}` is not a socket address like 127.0.0.1:8080",
                self.addr
            )
        })
    }

    /// The database URL, defaulting to an SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("authgraph.db").display()
            )
        } else {
            self.database_url.clone()
        }
    }

    /// The store of uploaded files.
    pub fn file_store(&self) -> anyhow::Result<crate::files::FileStore> {
        use crate::files::{FileStore, S3Settings};
        match self.storage.as_str() {
            "memory" => Ok(FileStore::memory()),
            "s3" => FileStore::s3(&S3Settings {
                bucket: self.s3_bucket.clone(),
                region: self.s3_region.clone(),
                endpoint: self.s3_endpoint.clone(),
                access_key_id: self.s3_access_key_id.clone(),
                secret_access_key: self.s3_secret_access_key.expose().to_owned(),
                path_style: self.s3_path_style,
            })
            .context("AUTHGRAPH_S3_*: the S3 storage settings"),
            _ => FileStore::local(&self.data_dir.join("files"))
                .with_context(|| format!("creating {}", self.data_dir.join("files").display())),
        }
    }

    /// The rate limits and lockout to enforce.
    pub fn limits(&self) -> crate::domain::limits::Limits {
        use crate::domain::limits::{Limits, Rule};
        let per_ip = |max| Rule {
            max,
            window_secs: self.rate_limit_window_secs,
        };
        Limits {
            login_per_ip: per_ip(self.login_limit_per_ip),
            signup_per_ip: per_ip(self.signup_limit_per_ip),
            lockout: Rule {
                max: self.lockout_failures,
                window_secs: self.lockout_secs,
            },
            refresh_per_account: per_ip(self.refresh_limit_per_account),
            password_change_per_account: per_ip(self.password_change_limit_per_account),
            refresh_per_ip: per_ip(self.refresh_limit_per_ip),
            password_change_per_ip: per_ip(self.password_change_limit_per_ip),
            mail_code_per_ip: per_ip(self.mail_code_limit_per_ip),
            mail_code_per_account: per_ip(self.mail_code_limit_per_account),
            mfa_per_account: Rule {
                max: self.mfa_limit_per_account,
                window_secs: self.mfa_limit_window_secs,
            },
            mfa_per_ip: Rule {
                max: self.mfa_limit_per_ip,
                window_secs: self.mfa_limit_window_secs,
            },
        }
    }

    /// How the mail outbox retries and how long it keeps rows.
    pub fn outbox(&self) -> crate::domain::outbox::state::OutboxSettings {
        crate::domain::outbox::state::OutboxSettings {
            retry_max_secs: self.mail_retry_max_secs,
            give_up_secs: self.mail_give_up_secs,
            keep_secs: self.mail_keep_secs,
        }
    }

    /// Most hash jobs admitted to wait for a worker: the setting, or the
    /// number the workers get through in [`HASH_QUEUE_TARGET_MS`] at
    /// [`HASH_MS`] a job.
    pub fn hash_queue_max(&self) -> usize {
        if self.hash_queue_max == 0 {
            (self.hash_workers() * (HASH_QUEUE_TARGET_MS / HASH_MS) as usize).max(1)
        } else {
            self.hash_queue_max
        }
    }

    /// Number of concurrent hash jobs.
    pub fn hash_workers(&self) -> usize {
        if self.hash_concurrency == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        } else {
            self.hash_concurrency
        }
    }
}
