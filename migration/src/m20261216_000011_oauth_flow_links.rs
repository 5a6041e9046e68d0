//! A flow started by a signed-in user to link a provider's account to it
//! (GraphQL `startOAuth(link: true)` then `linkIdentity`): the user it is
//! for, kept beside the flow under the same state hash.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthFlowLinks {
    Table,
    StateHash,
    UserId,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthFlowLinks::Table)
                    .if_not_exists()
                    .col(string(OauthFlowLinks::StateHash).primary_key())
                    .col(string(OauthFlowLinks::UserId))
                    .col(big_integer(OauthFlowLinks::ExpiresAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OauthFlowLinks::Table).to_owned())
            .await
    }
}
