//! Compiled components persist across restarts, and only artifacts the host wrote
//! itself are loaded.

use std::sync::atomic::Ordering;

use super::{limits, runtime, BUILTINS};
use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_start_loads_compiled_artifacts_instead_of_compiling() {
    let dir = support::temp_dir("plugin-cache");
    let settings = limits(1000, 8);
    let first = runtime(&settings, Some(dir.clone())).await;
    let counters = first.cache_counters();
    assert_eq!(
        counters.compiled.load(Ordering::Relaxed),
        BUILTINS,
        "every built-in was compiled"
    );
    assert_eq!(counters.loaded.load(Ordering::Relaxed), 0);
    drop(first);

    let second = runtime(&settings, Some(dir.clone())).await;
    let counters = second.cache_counters();
    assert_eq!(
        counters.compiled.load(Ordering::Relaxed),
        0,
        "nothing was recompiled"
    );
    assert_eq!(counters.loaded.load(Ordering::Relaxed), BUILTINS);
    second
        .parse_query(uuid::Uuid::new_v4(), "limit=1")
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_artifact_is_refused_and_recompiled() {
    let dir = support::temp_dir("plugin-tamper");
    let settings = limits(1000, 8);
    drop(runtime(&settings, Some(dir.clone())).await);
    let artifact = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("an artifact was written");
    let mut bytes = std::fs::read(&artifact).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&artifact, bytes).unwrap();

    let again = runtime(&settings, Some(dir)).await;
    let counters = again.cache_counters();
    assert_eq!(counters.rejected.load(Ordering::Relaxed), 1);
    assert_eq!(counters.compiled.load(Ordering::Relaxed), 1);
    assert_eq!(counters.loaded.load(Ordering::Relaxed), BUILTINS - 1);
}
