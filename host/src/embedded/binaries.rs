//! Finding the PostgreSQL server binaries: `PATH`, then `pg_config --bindir`,
//! then the newest `/usr/lib/postgresql/*/bin`.

use std::path::{Path, PathBuf};

use super::EmbeddedError;

/// The directory holding `initdb` and `postgres`.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    /// `initdb`.
    pub initdb: PathBuf,
    /// `postgres`.
    pub postgres: PathBuf,
}

/// The first PostgreSQL major version with `reserved_connections`.
pub const RESERVED_CONNECTIONS_SINCE: u32 = 16;

impl PgBinaries {
    /// Locates the binaries, or says what to install.
    pub fn locate() -> Result<Self, EmbeddedError> {
        let from_dir = |dir: &Path| {
            let initdb = dir.join("initdb");
            let postgres = dir.join("postgres");
            (initdb.is_file() && postgres.is_file()).then_some(Self { initdb, postgres })
        };
        if let (Some(initdb), Some(postgres)) = (find_binary("initdb"), find_binary("postgres")) {
            return Ok(Self { initdb, postgres });
        }
        if let Ok(out) = std::process::Command::new("pg_config")
            .arg("--bindir")
            .output()
        {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if let Some(found) = from_dir(&dir) {
                return Ok(found);
            }
        }
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                Some((version, e.path().join("bin")))
            })
            .collect();
        versions.sort();
        versions
            .iter()
            .rev()
            .find_map(|(_, dir)| from_dir(dir))
            .ok_or(EmbeddedError::BinariesMissing)
    }

    /// The server's major version, from `postgres --version`
    /// (`postgres (PostgreSQL) 17.7` answers 17).
    pub fn major_version(&self) -> Result<u32, EmbeddedError> {
        let output = std::process::Command::new(&self.postgres)
            .arg("--version")
            .output()
            .map_err(|e| EmbeddedError::Command {
                what: "postgres --version",
                detail: e.to_string(),
            })?;
        let text = String::from_utf8_lossy(&output.stdout);
        parse_major_version(&text).ok_or_else(|| EmbeddedError::Command {
            what: "postgres --version",
            detail: format!("unexpected answer {:?}", text.trim()),
        })
    }
}

/// The major version in a `postgres --version` line.
fn parse_major_version(line: &str) -> Option<u32> {
    let (_, rest) = line.split_once("(PostgreSQL)")?;
    let version = rest.split_whitespace().next()?;
    version
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Finds an executable on `PATH`.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::parse_major_version;

    #[test]
    fn major_versions_are_read_from_the_version_line() {
        assert_eq!(
            parse_major_version("postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(parse_major_version("pg_ctl 15"), None);
        assert_eq!(
            parse_major_version("postgres (PostgreSQL) 17.7\n"),
            Some(17)
        );
        assert_eq!(
            parse_major_version("postgres (PostgreSQL) 18beta1"),
            Some(18)
        );
    }
}
