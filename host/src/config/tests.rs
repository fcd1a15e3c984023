//! Layering and validation of the settings.

use super::resolve::MAX_WORKERS;
use super::*;
use crate::cli::ServeArgs;

#[test]
fn defaults_follow_the_bootstrapping_contract() {
    let settings = Settings::from_layers(&ServeArgs::default(), FileConfig::default()).unwrap();
    assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(settings.data_dir, PathBuf::from(".plinth"));
    assert_eq!(settings.jwt.workspace_claim, "workspace_id");
    assert!(settings.database_url.is_none());
}

#[test]
fn flags_win_over_the_file() {
    let file: FileConfig =
        toml::from_str("listen = \"127.0.0.1:9000\"\n[http]\nmax_body_bytes = 2048").unwrap();
    let args = ServeArgs {
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    };
    let settings = Settings::from_layers(&args, file).unwrap();
    assert_eq!(settings.listen.port(), 0);
    assert_eq!(settings.http.max_body_bytes, 2048);
}

#[test]
fn unknown_file_keys_are_refused() {
    let err = toml::from_str::<FileConfig>("lisen = \"x\"").unwrap_err();
    assert!(err.to_string().contains("unknown field"));
}

#[test]
fn workers_default_by_where_the_database_runs_and_are_bounded() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let embedded = Settings::from_layers(&ServeArgs::default(), FileConfig::default()).unwrap();
    assert_eq!(embedded.workers, (cores / 2).max(1));
    let external = ServeArgs {
        database_url: Some("postgresql://db.internal/postgres".into()),
        ..Default::default()
    };
    let external = Settings::from_layers(&external, FileConfig::default()).unwrap();
    assert_eq!(external.workers, cores);
    let file: FileConfig = toml::from_str("workers = 3").unwrap();
    let from_file = Settings::from_layers(&ServeArgs::default(), file).unwrap();
    assert_eq!(from_file.workers, 3);
    for refused in [0, MAX_WORKERS + 1] {
        let args = ServeArgs {
            workers: Some(refused),
            ..Default::default()
        };
        let err = Settings::from_layers(&args, FileConfig::default()).unwrap_err();
        assert!(err.to_string().contains("PLINTH_WORKERS"), "{err}");
    }
}

#[test]
fn half_a_tls_pair_is_refused() {
    let args = ServeArgs {
        tls_cert: Some("cert.pem".into()),
        ..Default::default()
    };
    let err = Settings::from_layers(&args, FileConfig::default()).unwrap_err();
    assert!(err.to_string().contains("together"));
}
