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
                let message = Message::builder()
                    .from(from.clone())
                    .to(mail.to.parse().context("recipient address")?)
                    .subject(mail.subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body)
                    .context("building the message")?;
                transport.send(message).await.context("sending by SMTP")?;
                Ok(())
            }
        }
    }
}
