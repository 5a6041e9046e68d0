//! Passkeys (WebAuthn credentials) and the challenges of their ceremonies.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    ProjectId,
    RpId,
    CredentialId,
    Credential,
    Name,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum PasskeyChallenges {
    Table,
    Id,
    ChallengeHash,
    ProjectId,
    UserId,
    LoginChallengeId,
    Kind,
    RpId,
    State,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .if_not_exists()
                    .col(string(Passkeys::Id).primary_key())
                    .col(string(Passkeys::UserId))
                    .col(string(Passkeys::ProjectId))
                    // The relying party it was registered for.
                    .col(string(Passkeys::RpId))
                    // base64url of the authenticator's credential id.
                    .col(string(Passkeys::CredentialId))
                    // The public key, counter and flags (webauthn-rs `Credential`, JSON).
                    .col(text(Passkeys::Credential))
                    .col(string(Passkeys::Name))
                    // Unix seconds.
                    .col(big_integer(Passkeys::CreatedAt))
                    .col(big_integer_null(Passkeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Passkeys::Table, Passkeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_passkeys_credential")
                    .unique()
                    .table(Passkeys::Table)
                    .col(Passkeys::ProjectId)
                    .col(Passkeys::CredentialId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_passkeys_user")
                    .table(Passkeys::Table)
                    .col(Passkeys::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasskeyChallenges::Table)
                    .if_not_exists()
                    .col(string(PasskeyChallenges::Id).primary_key())
                    // A keyed hash of the challenge: the challenge itself is not stored.
                    .col(string(PasskeyChallenges::ChallengeHash))
                    .col(string(PasskeyChallenges::ProjectId))
                    // The registering user, or the user an email named at sign-in.
                    .col(string_null(PasskeyChallenges::UserId))
                    // The second-factor challenge this ceremony answers, if any.
                    .col(string_null(PasskeyChallenges::LoginChallengeId))
                    // "register" or "login".
                    .col(string(PasskeyChallenges::Kind))
                    .col(string(PasskeyChallenges::RpId))
                    // The ceremony's state without its challenge (JSON).
                    .col(text(PasskeyChallenges::State))
                    .col(big_integer(PasskeyChallenges::ExpiresAt))
                    .col(big_integer(PasskeyChallenges::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_passkey_challenges_hash")
                    .unique()
                    .table(PasskeyChallenges::Table)
                    .col(PasskeyChallenges::ChallengeHash)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            PasskeyChallenges::Table.into_iden(),
            Passkeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
