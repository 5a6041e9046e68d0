//! The state every handler can extract. Doors that need more (GraphQL's
//! schema, PocketBase's realtime clients) wrap it in a state of their own and
//! give it back by `FromRef`, so nothing below the doors names a door.
use std::sync::Arc;

use crate::config::Config;
use crate::domain::Services;

/// The domain services, the configuration and the shutdown signal; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub config: Arc<Config>,
    pub shutdown: super::shutdown::Shutdown,
}
