//! Customer data access (seed 000): provisioning, the privilege matrix, the merged
//! views, connection URIs and base-record loads.

mod privileges;
mod limits;
mod provision;
mod records;
mod resolved;
mod uris;
