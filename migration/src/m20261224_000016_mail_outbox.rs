//! The outbox of mail: every mail the server sends is a row first, delivered
//! by a worker with retries, so a mail survives an SMTP outage and a restart.
//! The message is sealed (recipient, subject and body), and erased once sent.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    /// `pending`, `sent`, `failed` or `expired`.
    Status,
    /// Recipient, subject and body, sealed; null once the row is done.
    Sealed,
    Attempts,
    /// Unix milliseconds of the next attempt.
    DueAt,
    /// Unix milliseconds until which an instance holds the row; null = free.
    ClaimedUntil,
    ClaimedBy,
    /// Unix seconds after which the mail is not worth sending (its code expired).
    ExpiresAt,
    CreatedAt,
    /// Unix milliseconds when the row was sent, failed or expired.
    DoneAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table(MailOutbox::Table)
            .if_not_exists()
            .col(string(MailOutbox::Id).primary_key())
            .col(string(MailOutbox::Status))
            .col(text_null(MailOutbox::Sealed))
            .col(integer(MailOutbox::Attempts).default(0))
            .col(big_integer(MailOutbox::DueAt))
            .col(big_integer_null(MailOutbox::ClaimedUntil))
            .col(string_null(MailOutbox::ClaimedBy))
            .col(big_integer_null(MailOutbox::ExpiresAt))
            .col(big_integer(MailOutbox::CreatedAt))
            .col(big_integer_null(MailOutbox::DoneAt))
            .to_owned();
        manager.create_table(table).await?;
        let due = Index::create()
            .name("idx_mail_outbox_status_due")
            .table(MailOutbox::Table)
            .col(MailOutbox::Status)
            .col(MailOutbox::DueAt)
            .to_owned();
        manager.create_index(due).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = Table::drop().table(MailOutbox::Table).to_owned();
        manager.drop_table(drop).await
    }
}
