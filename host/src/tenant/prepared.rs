//! Statements prepared once per connection, for statements built from requests
//! (vault adapters' SQL, repeated scoped queries). Unlike the Data API's shapes,
//! their number has no bound in the code, so a connection's cache is emptied (and its
//! statements closed) once it holds [`MAX_PREPARED`].

use deadpool_postgres::ClientWrapper;
use postgres_types::Type;

/// Most statements built from requests that one connection keeps prepared.
pub const MAX_PREPARED: usize = 256;

/// `statement` prepared on `client` for `types`, from the connection's cache after
/// its first use: a repeated statement is bound and run in one exchange, without
/// PostgreSQL parsing and planning it again (a statement without parameters keeps
/// its generic plan, as pgbench's `-M prepared` does).
pub async fn prepare_bounded(
    client: &ClientWrapper,
    statement: &str,
    types: &[Type],
) -> Result<tokio_postgres::Statement, tokio_postgres::Error> {
    if client.statement_cache.size() >= MAX_PREPARED {
        client.statement_cache.clear();
    }
    client.prepare_typed_cached(statement, types).await
}
