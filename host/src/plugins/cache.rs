//! Compiled components: compiled once per content, kept in memory, and written to disk
//! as precompiled artifacts keyed by content hash and engine settings, so a restart
//! does not recompile. `Component::deserialize` trusts its input, so an artifact is
//! loaded only when its HMAC (under a key only this host's data directory holds)
//! proves the host wrote it.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

type HmacSha256 = Hmac<Sha256>;

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Already in memory.
    Memory,
    /// Loaded from a verified artifact on disk.
    Disk,
    /// Compiled now.
    Compiled,
}

/// Counters of cache behaviour, exposed as metrics.
#[derive(Debug, Default)]
pub struct CacheCounters {
    /// Components compiled from WebAssembly.
    pub compiled: AtomicU64,
    /// Components loaded from disk artifacts.
    pub loaded: AtomicU64,
    /// Disk artifacts refused (bad MAC, unreadable, incompatible).
    pub rejected: AtomicU64,
    /// Artifacts dropped because no installed plugin uses them any more.
    pub evicted: AtomicU64,
}

/// The compile cache.
pub struct CompileCache {
    dir: Option<PathBuf>,
    mac_key: Vec<u8>,
    memory: moka::sync::Cache<[u8; 32], Component>,
    engine_fingerprint: String,
    /// Counters.
    pub counters: Arc<CacheCounters>,
    /// Slots for compilations running at once; beyond them an install is refused
    /// with "busy" rather than queued, so uploads cannot pile up CPU work.
    compiling: Arc<tokio::sync::Semaphore>,
}

/// Compilations (Cranelift, on blocking threads) that may run at once.
pub const MAX_CONCURRENT_COMPILES: usize = 2;

/// Every compilation slot is taken: the install should be retried shortly.
#[derive(Debug, thiserror::Error)]
#[error("every compilation slot is busy ({MAX_CONCURRENT_COMPILES} plugins are compiling); retry shortly")]
pub struct CompilersBusy;

/// SHA-256 of a component's bytes.
pub fn digest(wasm: &[u8]) -> [u8; 32] {
    Sha256::digest(wasm).into()
}

impl CompileCache {
    /// A cache writing artifacts under `dir` (none: memory only).
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> std::io::Result<Self> {
        let mac_key = match &dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                load_or_create_key(&dir.join("artifact-key"))?
            }
            None => Vec::new(),
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(Self {
            dir,
            mac_key,
            memory: moka::sync::Cache::builder().max_capacity(256).build(),
            engine_fingerprint: format!("{:016x}", hasher.finish()),
            counters: Arc::new(CacheCounters::default()),
            compiling: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_COMPILES)),
        })
    }

    /// The component for `wasm`, from memory, disk or a fresh compilation (which runs
    /// on a blocking thread).
    pub async fn component(
        &self,
        engine: &Engine,
        wasm: Arc<Vec<u8>>,
    ) -> wasmtime::Result<(Component, Provenance)> {
        let key = digest(&wasm);
        if let Some(hit) = self.memory.get(&key) {
            return Ok((hit, Provenance::Memory));
        }
        if let Some(component) = self.load(engine, &key) {
            self.counters.loaded.fetch_add(1, Ordering::Relaxed);
            self.memory.insert(key, component.clone());
            return Ok((component, Provenance::Disk));
        }
        let Ok(_slot) = self.compiling.clone().try_acquire_owned() else {
            return Err(wasmtime::Error::new(CompilersBusy));
        };
        let compiling = engine.clone();
        let bytes = wasm.clone();
        let component = tokio::task::spawn_blocking(move || Component::new(&compiling, &*bytes))
            .await
            .map_err(|e| wasmtime::Error::msg(format!("compilation task failed: {e}")))??;
        self.counters.compiled.fetch_add(1, Ordering::Relaxed);
        self.store(&key, &component);
        self.memory.insert(key, component.clone());
        Ok((component, Provenance::Compiled))
    }

    /// Forgets the component of `key`: its memory entry and its files on disk.
    pub fn evict(&self, key: &[u8; 32]) {
        self.memory.invalidate(key);
        if let Some((artifact, mac)) = self.paths(key) {
            for path in [artifact, mac] {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => {
                        tracing::warn!(%error, path = %path.display(), "cannot remove a plugin artifact")
                    }
                }
            }
        }
        self.counters.evicted.fetch_add(1, Ordering::Relaxed);
    }

    fn paths(&self, key: &[u8; 32]) -> Option<(PathBuf, PathBuf)> {
        let dir = self.dir.as_ref()?;
        let name = format!("{}-{}", hex::encode(key), self.engine_fingerprint);
        Some((
            dir.join(format!("{name}.cwasm")),
            dir.join(format!("{name}.mac")),
        ))
    }

    fn mac(&self, artifact: &[u8]) -> Option<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(&self.mac_key).ok()?;
        mac.update(artifact);
        Some(mac)
    }

    fn load(&self, engine: &Engine, key: &[u8; 32]) -> Option<Component> {
        let (artifact_path, mac_path) = self.paths(key)?;
        let artifact = std::fs::read(&artifact_path).ok()?;
        let tag = std::fs::read(&mac_path).ok()?;
        let verified = self.mac(&artifact)?.verify_slice(&tag).is_ok();
        if !verified {
            tracing::warn!(path = %artifact_path.display(), "refusing a compiled plugin artifact whose MAC does not match");
            self.counters.rejected.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        // SAFETY: the artifact's MAC, under a key only this data directory holds, shows
        // that this host serialized it from a component it compiled itself.
        match unsafe { Component::deserialize(engine, &artifact) } {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(%error, "a compiled plugin artifact is unusable; recompiling");
                self.counters.rejected.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    fn store(&self, key: &[u8; 32], component: &Component) {
        let Some((artifact_path, mac_path)) = self.paths(key) else {
            return;
        };
        let written = (|| -> std::io::Result<()> {
            let artifact = component
                .serialize()
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let tag = self
                .mac(&artifact)
                .ok_or_else(|| std::io::Error::other("no MAC key"))?
                .finalize()
                .into_bytes();
            write_atomically(&artifact_path, &artifact)?;
            write_atomically(&mac_path, &tag)
        })();
        if let Err(error) = written {
            tracing::warn!(%error, "could not write a compiled plugin artifact; it will be recompiled next start");
        }
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}

/// The directory's MAC key, created on first use. Several processes may share one
/// cache directory and start together: the key is written to a private file and
/// linked into place, so exactly one key wins and every process reads that one.
fn load_or_create_key(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(existing) = std::fs::read(path) {
        if existing.len() == 32 {
            return Ok(existing);
        }
        // A key file of the wrong size is not ours to trust: replace it.
        std::fs::remove_file(path)?;
    }
    use rand::RngCore;
    let mut key = vec![0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let tmp = path.with_extension(format!(
        "tmp{}-{:016x}",
        std::process::id(),
        rand::rng().next_u64()
    ));
    std::fs::write(&tmp, &key)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    let linked = std::fs::hard_link(&tmp, path);
    std::fs::remove_file(&tmp)?;
    match linked {
        Ok(()) => Ok(key),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let winner = std::fs::read(path)?;
            if winner.len() == 32 {
                Ok(winner)
            } else {
                Err(std::io::Error::other("the artifact key file is malformed"))
            }
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_starting_together_agree_on_one_artifact_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("artifact-key");
        let keys: Vec<Vec<u8>> = std::thread::scope(|scope| {
            let racers: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| load_or_create_key(&path).unwrap()))
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| k.len() == 32 && *k == keys[0]));
        assert_eq!(std::fs::read(&path).unwrap(), keys[0]);
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary key files are left behind");
    }
}
