//! Server-wide settings shared by every instance (e.g. the generated signing key
//! on Postgres, so instances accept each other's tokens).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServerSettings {
    Table,
    Key,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServerSettings::Table)
                    .if_not_exists()
                    .col(string(ServerSettings::Key).primary_key())
                    .col(text(ServerSettings::Value))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ServerSettings::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
