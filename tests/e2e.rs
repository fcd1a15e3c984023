//! Black-box tests of `plinth serve`: real PostgreSQL servers, real HTTP, real Wasm
//! plugins, real PgBouncer and ClickHouse. One file per feature under each folder.

mod support;

mod host;
mod ingestion;
mod plugins;
mod rows;
mod tables;
mod vault;
