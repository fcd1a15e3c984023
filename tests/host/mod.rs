//! The host skeleton: bootstrapping, admin API, authentication, the HTTP surface,
//! HTTPS, shutdown, resilience and the isolation matrix.

mod admin;
mod auth;
mod bootstrap;
mod http;
mod https;
mod isolation;
mod lifecycle;
mod readme;
mod resilience;
