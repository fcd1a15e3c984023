//! # Plinth
//!
//! One program that gives every workspace of a SaaS platform its own PostgreSQL
//! database and four APIs over it. A request meets the modules in this order:
//!
//! [`server`] accepts it (TLS, timeouts, request id, metrics) and hands it to the
//! [`api`] router; [`auth`] says who is calling and with which scopes; [`tenant`]
//! resolves the workspace, its pool and the tenant transaction; each API parses its
//! input into a typed request, plans it against the schema cache, has [`sql`] build
//! the parameterised statement, executes it in the tenant transaction and renders
//! the JSON. The four APIs: customer data access ([`api::ingestion`], [`tenant`]),
//! the Data API ([`api::rows`], [`plan`], [`schema_cache`]), Workspace Tables
//! ([`tables`] and the scoped [`query`]) and the Data Vault ([`vault`], whose engine
//! adapters run in [`plugins`]). Errors of every stage meet in [`error`], the one
//! table of statuses and codes. Around that: [`config`] (the settings snapshot), [`embedded`] (the
//! PostgreSQL and PgBouncer children), [`cluster`] and [`control`] (the control
//! database), and [`secrets`] (passwords sealed at rest).

#![warn(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod client;
pub mod cluster;
pub mod config;
pub mod control;
pub mod embedded;
pub mod error;
pub mod names;
pub mod plan;
pub mod plugins;
pub mod query;
pub mod request;
pub mod schema_cache;
pub mod secrets;
pub mod server;
pub mod sql;
pub mod tables;
pub mod tenant;
pub mod vault;
