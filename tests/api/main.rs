//! Integration tests: the real server on 127.0.0.1:0, a fresh database per test
//! (SQLite file, or a new Postgres database when AUTHGRAPH_TEST_DATABASE_URL is set).
mod helpers;

mod access;
mod admin;
mod auth_flow;
mod bad_input;
mod cli;
mod cross_door;
mod declared_fields;
mod email_codes;
mod fake_oidc;
mod files_cocobase;
mod files_graphql;
mod files_pocketbase;
mod files_thumbs;
mod limits;
mod oauth;
mod oauth_cocobase;
mod oauth_pocketbase;
mod planner;
mod profile;
mod querying;
mod rest_cocobase;
mod rest_pocketbase;
mod rest_urbackend;
mod schema;
mod second_factor_policy;
mod second_factors;
mod sessions;
mod subscriptions;
mod tokens;
