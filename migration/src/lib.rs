//! Schema migrations, run at start and by `authgraph migrate`.
#![forbid(unsafe_code)]

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_core;
mod m20261122_000002_create_sessions;
mod m20261122_000003_users_order_index;
mod m20261122_000004_server_settings;
mod m20261122_000005_rate_limits;
mod m20261122_000006_one_time_codes;
mod m20261122_000007_code_payload;
mod m20261201_000008_second_factors;
mod m20261201_000009_files;
mod m20261215_000010_oauth;
mod m20261216_000011_oauth_flow_links;
mod m20261220_000012_passkeys;
mod m20261223_000015_project_cors;
mod m20261224_000016_mail_outbox;
mod m20261225_000017_audit_events;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_core::Migration),
            Box::new(m20261122_000002_create_sessions::Migration),
            Box::new(m20261122_000003_users_order_index::Migration),
            Box::new(m20261122_000004_server_settings::Migration),
            Box::new(m20261122_000005_rate_limits::Migration),
            Box::new(m20261122_000006_one_time_codes::Migration),
            Box::new(m20261122_000007_code_payload::Migration),
            Box::new(m20261201_000008_second_factors::Migration),
            Box::new(m20261201_000009_files::Migration),
            Box::new(m20261215_000010_oauth::Migration),
            Box::new(m20261216_000011_oauth_flow_links::Migration),
            Box::new(m20261220_000012_passkeys::Migration),
            Box::new(m20261223_000015_project_cors::Migration),
            Box::new(m20261224_000016_mail_outbox::Migration),
            Box::new(m20261225_000017_audit_events::Migration),
        ]
    }
}
