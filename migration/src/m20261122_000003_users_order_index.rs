//! Lists are ordered newest first with the id breaking ties: an index on
//! (collection_id, created_at, id) serves that order without sorting.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    CollectionId,
    CreatedAt,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_users_collection_created")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_users_collection_created_id")
                    .table(Users::Table)
                    .col(Users::CollectionId)
                    .col(Users::CreatedAt)
                    .col(Users::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_users_collection_created_id")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_users_collection_created")
                    .table(Users::Table)
                    .col(Users::CollectionId)
                    .col(Users::CreatedAt)
                    .to_owned(),
            )
            .await
    }
}
