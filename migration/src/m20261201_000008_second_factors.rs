//! Second factors: authenticator apps (TOTP, the secret encrypted), email
//! codes (a flag), recovery codes (keyed hashes) and the log-in challenges a
//! first factor opens.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SecondFactors {
    Table,
    Id,
    UserId,
    Kind,
    Secret,
    Confirmed,
    LastStep,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum LoginChallenges {
    Table,
    Id,
    UserId,
    ProjectId,
    CollectionId,
    FirstMethod,
    Methods,
    Attempts,
    LongLived,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn owner(from: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SecondFactors::Table)
                    .if_not_exists()
                    .col(string(SecondFactors::Id).primary_key())
                    .col(string(SecondFactors::UserId))
                    // "totp" or "email".
                    .col(string(SecondFactors::Kind))
                    // TOTP: the secret sealed under a key derived from the server secret.
                    .col(string_null(SecondFactors::Secret))
                    .col(boolean(SecondFactors::Confirmed).default(false))
                    // The last accepted TOTP step: a code is accepted once.
                    .col(big_integer(SecondFactors::LastStep).default(-1))
                    .col(big_integer(SecondFactors::CreatedAt))
                    .foreign_key(&mut owner((SecondFactors::Table, SecondFactors::UserId)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("second_factors_user_kind")
                    .unique()
                    .table(SecondFactors::Table)
                    .col(SecondFactors::UserId)
                    .col(SecondFactors::Kind)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .if_not_exists()
                    .col(string(RecoveryCodes::Id).primary_key())
                    .col(string(RecoveryCodes::UserId))
                    .col(string(RecoveryCodes::CodeHash))
                    .col(big_integer_null(RecoveryCodes::UsedAt))
                    .foreign_key(&mut owner((RecoveryCodes::Table, RecoveryCodes::UserId)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recovery_codes_user")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginChallenges::Table)
                    .if_not_exists()
                    .col(string(LoginChallenges::Id).primary_key())
                    .col(string(LoginChallenges::UserId))
                    .col(string(LoginChallenges::ProjectId))
                    .col(string(LoginChallenges::CollectionId))
                    .col(string(LoginChallenges::FirstMethod))
                    // Comma-separated methods that complete it.
                    .col(string(LoginChallenges::Methods))
                    .col(integer(LoginChallenges::Attempts).default(0))
                    .col(boolean(LoginChallenges::LongLived).default(false))
                    // Unix seconds.
                    .col(big_integer(LoginChallenges::ExpiresAt))
                    .col(big_integer(LoginChallenges::CreatedAt))
                    .foreign_key(&mut owner((
                        LoginChallenges::Table,
                        LoginChallenges::UserId,
                    )))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("login_challenges_user")
                    .table(LoginChallenges::Table)
                    .col(LoginChallenges::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            LoginChallenges::Table.into_iden(),
            RecoveryCodes::Table.into_iden(),
            SecondFactors::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
