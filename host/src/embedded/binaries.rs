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
}

/// Finds an executable on `PATH`.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
