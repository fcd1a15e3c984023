//! Customer data access (seed 000): provisioning, the privilege matrix, the merged
//! views, connection URIs and base-record loads.

mod limits;
mod privileges;
mod provision;
mod records;
mod resolved;
mod uris;
