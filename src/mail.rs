//! Outgoing email through lettre: an SMTP server in production
//! (`AUTHGRAPH_SMTP_URL`), a recording mailer for in-process tests. Without an
//! SMTP server, the flows that need email answer "not enabled". The domain
//! never sends directly: mail goes through the outbox (`domain::outbox`),
//! whose worker calls [`Mailer::send`].
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// One message.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    Disabled,
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    /// Keeps every message in memory (tests); refuses them while its switch
    /// is down, as an unreachable SMTP server would.
    Recording(Arc<Mutex<Vec<Mail>>>, Arc<AtomicBool>),
}

impl Mailer {
    /// `smtp://host:port` (plain; `?tls=required` for STARTTLS) or
    /// `smtps://user:pass@host` (implicit TLS); empty disables email.
    pub fn from_config(url: &str, from: &str) -> anyhow::Result<Self> {
        if url.is_empty() {
            return Ok(Mailer::Disabled);
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("AUTHGRAPH_SMTP_URL is not a valid smtp:// or smtps:// URL")?
            .build();
        let from = from.parse().context(
            "AUTHGRAPH_MAIL_FROM is not a valid address like `App <no-reply@example.com>`",
        )?;
        Ok(Mailer::Smtp { transport, from })
    }

    /// A mailer that records, and its outbox.
    pub fn recording() -> (Self, Arc<Mutex<Vec<Mail>>>) {
        let outbox = Arc::new(Mutex::new(Vec::new()));
        let down = Arc::new(AtomicBool::new(false));
        (Mailer::Recording(outbox.clone(), down), outbox)
    }

    /// Makes a recording mailer refuse (`true`) or accept mail again (tests).
    pub fn set_down(&self, down: bool) {
        if let Mailer::Recording(_, switch) = self {
            switch.store(down, Ordering::SeqCst);
        }
    }

    pub fn enabled(&self) -> bool {
        !matches!(self, Mailer::Disabled)
    }

    pub async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        match self {
            Mailer::Disabled => anyhow::bail!("email is not configured"),
            Mailer::Recording(_, down) if down.load(Ordering::SeqCst) => {
                anyhow::bail!("the recording mailer is down")
            }
            Mailer::Recording(outbox, _) => {
                outbox.lock().unwrap_or_else(|e| e.into_inner()).push(mail);
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                let to = mail
                    .to
                    .parse()
                    .map_err(|e| Permanent(format!("recipient: {e}")))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body)
                    .map_err(|e| Permanent(format!("building the message: {e}")))?;
                transport.send(message).await.context("sending by SMTP")?;
                Ok(())
            }
        }
    }
}

/// A failure that no retry can mend: a malformed message, or a recipient
/// the SMTP server refused for good (5xx).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Permanent(String);

/// Whether a `Mailer::send` error is permanent (retrying is pointless).
pub fn is_permanent(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.is::<Permanent>()
            || cause
                .downcast_ref::<lettre::transport::smtp::Error>()
                .is_some_and(|e| e.is_permanent())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_malformed_recipient_is_permanent_an_unreachable_server_is_not() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        // Nothing listens on port 9 of the loopback.
        let mailer = Mailer::from_config("smtp://127.0.0.1:9", "a <a@example.com>").unwrap();
        let mail = |to: &str| Mail {
            to: to.into(),
            subject: "s".into(),
            body: "b".into(),
        };
        let malformed = mailer.send(mail("not an address")).await.unwrap_err();
        assert!(is_permanent(&malformed), "{malformed:?}");
        let unreachable = mailer.send(mail("ann@example.com")).await.unwrap_err();
        assert!(!is_permanent(&unreachable), "{unreachable:?}");
    }
}
