//! Projects, auth collections, users and superusers.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    Slug,
    Name,
    PublishableKeyHash,
    SecretKeyHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
    ProjectId,
    Name,
    Settings,
    Fields,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    ProjectId,
    CollectionId,
    Email,
    EmailNormalized,
    PasswordHash,
    Data,
    Roles,
    Verified,
    Disabled,
    TokenVersion,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Superusers {
    Table,
    Id,
    Email,
    EmailNormalized,
    PasswordHash,
    TokenVersion,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Projects::Table)
                    .if_not_exists()
                    .col(string(Projects::Id).primary_key())
                    .col(string(Projects::Slug).unique_key())
                    .col(string(Projects::Name))
                    .col(string(Projects::PublishableKeyHash).unique_key())
                    .col(string(Projects::SecretKeyHash).unique_key())
                    .col(timestamp_with_time_zone(Projects::CreatedAt))
                    .col(timestamp_with_time_zone(Projects::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Collections::Table)
                    .if_not_exists()
                    .col(string(Collections::Id).primary_key())
                    .col(string(Collections::ProjectId))
                    .col(string(Collections::Name))
                    .col(json_binary(Collections::Settings))
                    .col(json_binary(Collections::Fields))
                    .col(timestamp_with_time_zone(Collections::CreatedAt))
                    .col(timestamp_with_time_zone(Collections::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Collections::Table, Collections::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_collections_project_name")
                    .table(Collections::Table)
                    .col(Collections::ProjectId)
                    .col(Collections::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(string(Users::Id).primary_key())
                    .col(string(Users::ProjectId))
                    .col(string(Users::CollectionId))
                    .col(string(Users::Email))
                    .col(string(Users::EmailNormalized))
                    .col(string(Users::PasswordHash))
                    .col(json_binary(Users::Data))
                    .col(json_binary(Users::Roles))
                    .col(boolean(Users::Verified).default(false))
                    .col(boolean(Users::Disabled).default(false))
                    .col(big_integer(Users::TokenVersion).default(0))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::CollectionId)
                            .to(Collections::Table, Collections::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The name is matched by the store to report EMAIL_EXISTS on a race.
        manager
            .create_index(
                Index::create()
                    .name("ux_users_collection_email")
                    .table(Users::Table)
                    .col(Users::CollectionId)
                    .col(Users::EmailNormalized)
                    .unique()
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
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Superusers::Table)
                    .if_not_exists()
                    .col(string(Superusers::Id).primary_key())
                    .col(string(Superusers::Email))
                    .col(string(Superusers::EmailNormalized).unique_key())
                    .col(string(Superusers::PasswordHash))
                    .col(big_integer(Superusers::TokenVersion).default(0))
                    .col(timestamp_with_time_zone(Superusers::CreatedAt))
                    .col(timestamp_with_time_zone(Superusers::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Superusers::Table.into_iden(),
            Users::Table.into_iden(),
            Collections::Table.into_iden(),
            Projects::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
