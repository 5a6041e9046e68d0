//! OAuth2 / OpenID Connect sign-in: the identities that link a provider's
//! account to a user, and the flows between the redirect and its callback.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthIdentities {
    Table,
    Id,
    CollectionId,
    Provider,
    Subject,
    UserId,
    Email,
    EmailVerified,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OauthFlows {
    Table,
    StateHash,
    ProjectId,
    CollectionId,
    Provider,
    RedirectUrl,
    CodeVerifier,
    Nonce,
    ExpiresAt,
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
                    .table(OauthIdentities::Table)
                    .if_not_exists()
                    .col(string(OauthIdentities::Id).primary_key())
                    .col(string(OauthIdentities::CollectionId))
                    // The configured provider's name in the collection.
                    .col(string(OauthIdentities::Provider))
                    // The provider's stable id of the account (`sub`, GitHub's id).
                    .col(string(OauthIdentities::Subject))
                    .col(string(OauthIdentities::UserId))
                    .col(string_null(OauthIdentities::Email))
                    .col(boolean(OauthIdentities::EmailVerified).default(false))
                    .col(big_integer(OauthIdentities::CreatedAt))
                    .col(big_integer(OauthIdentities::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OauthIdentities::Table, OauthIdentities::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_oauth_identities_subject")
                    .table(OauthIdentities::Table)
                    .col(OauthIdentities::CollectionId)
                    .col(OauthIdentities::Provider)
                    .col(OauthIdentities::Subject)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_oauth_identities_user")
                    .table(OauthIdentities::Table)
                    .col(OauthIdentities::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthFlows::Table)
                    .if_not_exists()
                    // SHA-256 of the `state` handed to the client: the value
                    // itself is never stored.
                    .col(string(OauthFlows::StateHash).primary_key())
                    .col(string(OauthFlows::ProjectId))
                    .col(string(OauthFlows::CollectionId))
                    .col(string(OauthFlows::Provider))
                    .col(string(OauthFlows::RedirectUrl))
                    .col(string(OauthFlows::CodeVerifier))
                    .col(string(OauthFlows::Nonce))
                    .col(big_integer(OauthFlows::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OauthFlows::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OauthIdentities::Table).to_owned())
            .await
    }
}
