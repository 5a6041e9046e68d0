//! Files of profile fields: the object in storage and what the domain knows
//! of it. A row is written in the transaction that puts its name in the
//! profile, after the object is stored whole, and removed in the one that
//! takes the name out (the object is deleted after that commit).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    ProjectId,
    CollectionId,
    UserId,
    Field,
    Name,
    StorageKey,
    OriginalName,
    Size,
    ContentType,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .if_not_exists()
                    .col(string(Files::Id).primary_key())
                    .col(string(Files::ProjectId))
                    .col(string(Files::CollectionId))
                    .col(string(Files::UserId))
                    .col(string(Files::Field))
                    .col(string(Files::Name))
                    .col(string(Files::StorageKey).unique_key())
                    .col(string(Files::OriginalName))
                    .col(big_integer(Files::Size))
                    .col(string(Files::ContentType))
                    .col(timestamp_with_time_zone(Files::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("files_user_name")
                    // A record's file names are unique: the URL names one file.
                    .unique()
                    .table(Files::Table)
                    .col(Files::UserId)
                    .col(Files::Name)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Files::Table).if_exists().to_owned())
            .await
    }
}
