//! A project may list the browser origins allowed to call it with
//! credentials (cookies): a JSON array of `scheme://host[:port]`, or null.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    CorsOrigins,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let add = Table::alter()
            .table(Projects::Table)
            .add_column(text_null(Projects::CorsOrigins))
            .to_owned();
        manager.alter_table(add).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = Table::alter()
            .table(Projects::Table)
            .drop_column(Projects::CorsOrigins)
            .to_owned();
        manager.alter_table(drop).await
    }
}
