//! Running child servers as an unprivileged user when Plinth is root, and making
//! sure that user can reach and own their data directories.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use nix::unistd::{Gid, Uid, User};

use super::EmbeddedError;

/// The user a child server runs as; `None` fields mean "as Plinth itself".
#[derive(Debug, Clone)]
pub struct ChildUser {
    /// Target uid, when switching.
    pub uid: Option<u32>,
    /// Target gid, when switching.
    pub gid: Option<u32>,
}

impl ChildUser {
    /// When root, the `postgres` system user; otherwise the current user.
    pub fn for_database_servers() -> Result<Self, EmbeddedError> {
        if !Uid::effective().is_root() {
            return Ok(Self {
                uid: None,
                gid: None,
            });
        }
        let user = User::from_name("postgres")
            .ok()
            .flatten()
            .ok_or(EmbeddedError::NoUnprivilegedUser)?;
        Ok(Self {
            uid: Some(user.uid.as_raw()),
            gid: Some(user.gid.as_raw()),
        })
    }

    /// Applies the user switch to a command.
    pub fn apply(&self, command: &mut tokio::process::Command) {
        if let Some(gid) = self.gid {
            command.gid(gid);
        }
        if let Some(uid) = self.uid {
            command.uid(uid);
        }
    }

    /// Hands a file or directory to the child user (no-op when not switching).
    pub fn chown(&self, path: &Path) -> Result<(), EmbeddedError> {
        if let (Some(uid), Some(gid)) = (self.uid, self.gid) {
            nix::unistd::chown(path, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid))).map_err(
                |e| EmbeddedError::Io {
                    context: format!("chown {}", path.display()),
                    source: e.into(),
                },
            )?;
        }
        Ok(())
    }

    /// Checks that every directory from the root down to `path` lets this user through.
    pub fn ensure_reachable(&self, path: &Path) -> Result<(), EmbeddedError> {
        let (Some(uid), Some(gid)) = (self.uid, self.gid) else {
            return Ok(());
        };
        let absolute = std::fs::canonicalize(path)
            .map_err(EmbeddedError::io(format!("resolving {}", path.display())))?;
        for dir in absolute.ancestors() {
            let meta = std::fs::metadata(dir)
                .map_err(EmbeddedError::io(format!("reading {}", dir.display())))?;
            let mode = meta.permissions().mode();
            let passes = if meta.uid() == uid {
                mode & 0o100 != 0
            } else if meta.gid() == gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            };
            if !passes {
                return Err(EmbeddedError::Unreachable {
                    path: path.to_owned(),
                    blocker: dir.to_owned(),
                    mode: mode & 0o7777,
                });
            }
        }
        Ok(())
    }
}
