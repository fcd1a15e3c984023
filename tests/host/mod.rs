//! The host skeleton: bootstrapping, admin API, authentication, the HTTP surface,
//! HTTPS, shutdown and resilience.

mod admin;
mod auth;
mod bootstrap;
mod http;
mod https;
mod lifecycle;
mod resilience;
