//! The audit trail: one row per security-relevant event (sign-up, log-in,
//! password and email changes, factors, sessions, admin actions, key rotation).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    Id,
    ProjectId,
    CollectionId,
    UserId,
    Kind,
    Outcome,
    Ip,
    UserAgent,
    At,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .if_not_exists()
                    // Time-ordered: the hex milliseconds, then random letters.
                    .col(string(AuditEvents::Id).primary_key())
                    // None for events of no project (signing-key rotation).
                    .col(string_null(AuditEvents::ProjectId))
                    .col(string_null(AuditEvents::CollectionId))
                    // None when nobody is known (a failed log-in for an unknown
                    // email). No foreign key: events outlive deleted users.
                    .col(string_null(AuditEvents::UserId))
                    // A stable snake_case name (`log_in`, `password_changed`, …).
                    .col(string(AuditEvents::Kind))
                    // `success`, `failure` or `locked`.
                    .col(string(AuditEvents::Outcome))
                    .col(string_null(AuditEvents::Ip))
                    .col(string_null(AuditEvents::UserAgent))
                    // Unix milliseconds.
                    .col(big_integer(AuditEvents::At))
                    // A small JSON object (method, factor, session, key…), never a secret.
                    .col(text(AuditEvents::Detail))
                    .to_owned(),
            )
            .await?;
        // Pages go newest first by time, then id: the id ends each index so
        // that order comes from the index, without a sort.
        let indexes: [(&str, &[AuditEvents]); 4] = [
            (
                "ix_audit_events_project_at",
                &[AuditEvents::ProjectId, AuditEvents::At, AuditEvents::Id],
            ),
            (
                "ix_audit_events_project_user_at",
                &[
                    AuditEvents::ProjectId,
                    AuditEvents::UserId,
                    AuditEvents::At,
                    AuditEvents::Id,
                ],
            ),
            (
                "ix_audit_events_project_kind_at",
                &[
                    AuditEvents::ProjectId,
                    AuditEvents::Kind,
                    AuditEvents::At,
                    AuditEvents::Id,
                ],
            ),
            // Retention deletes by age across projects.
            ("ix_audit_events_at", &[AuditEvents::At]),
        ];
        for (name, cols) in indexes {
            let mut index = Index::create();
            index.name(name).table(AuditEvents::Table).if_not_exists();
            for col in cols {
                index.col(*col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(AuditEvents::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
