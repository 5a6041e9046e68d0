//! A stored file of a profile field.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub project_id: String,
    pub collection_id: String,
    pub user_id: String,
    /// The profile field holding the file's name.
    pub field: String,
    /// The name in the profile and the URL, chosen by the server.
    pub name: String,
    /// The object's key in storage, random.
    pub storage_key: String,
    /// The client's file name: metadata only, never a path.
    pub original_name: String,
    pub size: i64,
    /// The type found from the content's first bytes.
    pub content_type: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
