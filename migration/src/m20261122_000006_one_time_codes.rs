//! One-time codes sent by email (password reset): only keyed hashes are
//! stored; a code is deleted when used, replaced by a newer one, or after a
//! few wrong guesses.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OneTimeCodes {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    OtpHash,
    Attempts,
    ExpiresAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OneTimeCodes::Table)
                    .if_not_exists()
                    .col(string(OneTimeCodes::Id).primary_key())
                    .col(string(OneTimeCodes::UserId))
                    .col(string(OneTimeCodes::Purpose))
                    .col(string(OneTimeCodes::TokenHash).unique_key())
                    .col(string(OneTimeCodes::OtpHash))
                    .col(integer(OneTimeCodes::Attempts).default(0))
                    // Unix seconds.
                    .col(big_integer(OneTimeCodes::ExpiresAt))
                    .col(big_integer(OneTimeCodes::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("one_time_codes_user_purpose")
                    // One live code per user and purpose: a newer one replaces it.
                    .unique()
                    .table(OneTimeCodes::Table)
                    .col(OneTimeCodes::UserId)
                    .col(OneTimeCodes::Purpose)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(OneTimeCodes::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
