//! Schema assembly and SDL export.
use async_graphql::Schema;

use super::mutation::Mutation;
use super::query::Query;
use super::subscription::Subscription;
use crate::domain::Services;
use crate::domain::access::Caller;

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Maximum query depth and complexity (nested abuse is refused before execution).
const MAX_DEPTH: usize = 12;
const MAX_COMPLEXITY: usize = 1000;

/// Builds the schema around the domain services.
pub fn build_schema(services: Services, introspection: bool) -> AppSchema {
    let builder = Schema::build(Query, Mutation, Subscription)
        .data(services)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY);
    if introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The SDL committed as `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query, Mutation, Subscription).finish().sdl()
}

/// Puts the caller and fresh per-request dataloaders into a request's data.
pub fn request_data(data: &mut async_graphql::Data, services: &Services, caller: Caller) {
    use async_graphql::dataloader::DataLoader;

    use super::loaders::{CollectionLoader, ReverseLoader, UserLoader};

    let project_id = caller
        .project
        .as_ref()
        .map(|p| p.id.clone())
        .unwrap_or_default();
    let db = services.db.clone();
    data.insert(DataLoader::new(
        UserLoader {
            db: db.clone(),
            project_id: project_id.clone(),
        },
        tokio::spawn,
    ));
    data.insert(DataLoader::new(
        ReverseLoader {
            db: db.clone(),
            catalog: services.catalog.clone(),
            project_id,
        },
        tokio::spawn,
    ));
    data.insert(DataLoader::new(
        CollectionLoader {
            db,
            catalog: services.catalog.clone(),
        },
        tokio::spawn,
    ));
    data.insert(caller);
}
