//! HTTPS with rustls.

use crate::support::{self, Api, Plinth, ServerOptions};

#[tokio::test]
async fn with_a_certificate_the_server_speaks_https_only() {
    let dir = support::temp_dir("tls");
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let server = Plinth::start(ServerOptions {
        database_url: Some(support::shared_cluster().url()),
        args: vec![
            "--tls-cert".into(),
            dir.join("cert.pem").display().to_string(),
            "--tls-key".into(),
            dir.join("key.pem").display().to_string(),
        ],
        ..Default::default()
    });
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );
    let roots = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(roots)
        .build()
        .unwrap();
    let client = Api::new(&server.base).with_client(http);
    let resp = client.get("/healthz").await;
    assert_eq!(resp.status, 200);
    let plain = reqwest::get(server.base.replace("https://", "http://") + "/healthz").await;
    assert!(
        plain.is_err() || !plain.unwrap().status().is_success(),
        "plain HTTP is not served"
    );
}
