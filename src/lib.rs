//! authgraph: a self-hosted user-authentication server.
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod files;
pub mod graphql;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod rest;
pub mod secret;
pub mod store;
