//! The bootstrapping contract: embedded PostgreSQL, the listening line, health,
//! the admin token file, restarts and crashes.

use std::os::unix::fs::PermissionsExt;

use crate::support::{self, Plinth, ServerOptions, Workspace};

#[tokio::test]
async fn an_embedded_server_answers_health_and_readiness() {
    let server = Plinth::start(ServerOptions::default());
    assert!(
        server.base.starts_with("http://127.0.0.1:"),
        "{}",
        server.base
    );
    let resp = server.anonymous().get("/healthz").await;
    assert_eq!(resp.status, 200);
    let resp = server.anonymous().get("/readyz").await;
    assert_eq!(resp.status, 200, "{}", resp.body);
}

#[tokio::test]
async fn a_generated_admin_token_is_written_with_mode_0600_and_works() {
    let dir = support::temp_dir("token");
    let data_dir = dir.join("data");
    let server = Plinth::start(ServerOptions {
        data_dir: Some(data_dir.clone()),
        env: vec![("PLINTH_ADMIN_TOKEN".into(), String::new())],
        ..Default::default()
    });
    let path = data_dir.join("admin-token");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let token = std::fs::read_to_string(&path).unwrap();
    let resp = server
        .anonymous()
        .with_token(token.trim())
        .get("/v1/admin/workspaces")
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let resp = server.admin().get("/v1/admin/workspaces").await;
    assert_eq!(
        resp.status, 401,
        "the default test token is not the generated one"
    );
}

#[tokio::test]
async fn a_restart_reuses_the_embedded_cluster_and_its_data() {
    let data_dir = support::temp_dir("restart").join("data");
    let options = ServerOptions {
        data_dir: Some(data_dir.clone()),
        ..Default::default()
    };
    let first = Plinth::start(options.clone());
    let ws = Workspace::create(&first, "kept").await;
    let status = first.terminate().expect("exit status");
    assert!(status.success(), "clean exit: {status:?}");
    assert!(
        !data_dir.join("pg/postmaster.pid").exists(),
        "the embedded server was stopped"
    );
    let second = Plinth::start(options);
    let resp = second
        .admin()
        .get(&format!("/v1/admin/workspaces/{}", ws.id))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["name"], "kept");
}

#[tokio::test]
async fn a_crash_leaving_a_stale_postmaster_pid_does_not_prevent_the_next_start() {
    let data_dir = support::temp_dir("crash").join("data");
    let options = ServerOptions {
        data_dir: Some(data_dir.clone()),
        ..Default::default()
    };
    let first = Plinth::start(options.clone());
    Workspace::create(&first, "before crash").await;
    let pid_file = data_dir.join("pg/postmaster.pid");
    let postmaster: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // Kill both without any chance to clean up.
    first.kill();
    support::procs::signal(postmaster, nix::sys::signal::Signal::SIGKILL);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(pid_file.exists(), "the crash left postmaster.pid behind");
    let second = Plinth::start(options);
    let resp = second.admin().get("/v1/admin/workspaces").await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["total"], 1);
}

#[tokio::test]
async fn a_data_dir_the_database_user_cannot_reach_is_refused_with_one_clear_line() {
    if nix::unistd::Uid::effective().as_raw() != 0 {
        return; // only root switches users; nothing to check otherwise
    }
    let dir = support::temp_dir("unreachable");
    let private = dir.join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let err = Plinth::try_start(ServerOptions {
        data_dir: Some(private.join("data")),
        ..Default::default()
    })
    .err()
    .expect("start must fail");
    assert!(
        err.contains("not reachable by the `postgres` user"),
        "{err}"
    );
    assert!(err.contains("mode 700"), "{err}");
}

#[tokio::test]
async fn an_external_cluster_is_used_with_database_url() {
    let server = support::shared();
    let resp = server.anonymous().get("/readyz").await;
    assert_eq!(resp.status, 200);
    assert!(
        !server.data_dir.join("pg").exists(),
        "no embedded cluster was created"
    );
}

#[tokio::test]
async fn building_a_new_template_drops_the_templates_of_earlier_versions() {
    let cluster = support::TestPostgres::start();
    let maintenance = support::pg_connect(&cluster.db_url("postgres")).await;
    let current = plinth::tenant::provision::template::name();
    let newer = "plinth_template_v999";
    let outdated = ["plinth_template_v1", "plinth_template_v1_building"];
    for database in outdated.iter().chain([&newer]) {
        maintenance
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .await
            .unwrap();
    }
    let server = Plinth::start(ServerOptions {
        database_url: Some(cluster.url()),
        ..Default::default()
    });
    Workspace::provisioned(&server, "after an upgrade").await;
    let templates: Vec<String> = maintenance
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'plinth_template%' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut expected = vec![current, newer.to_owned()];
    expected.sort();
    assert_eq!(
        templates, expected,
        "the current template was built and the earlier ones dropped; a newer replica's kept"
    );
}
