//! Schema assembly and SDL export.
use async_graphql::Schema;

use super::loaders::Scope;
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
    let builder = Schema::build(Query, Mutation::default(), Subscription)
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
    Schema::build(Query, Mutation::default(), Subscription)
        .finish()
        .sdl()
}

/// Puts the caller and fresh per-request dataloaders into a request's data.
pub fn request_data(data: &mut async_graphql::Data, services: &Services, caller: Caller) {
    let project_id = caller
        .project
        .as_ref()
        .map(|p| p.id.clone())
        .unwrap_or_default();
    let scope = Scope {
        db: services.db.clone(),
        catalog: services.catalog.clone(),
        project_id,
    };
    scope.insert_loaders(data);
    data.insert(caller);
}
