//! The README's first session, run as written against a real server: every curl of
//! it must answer 2xx (each runs with `--fail-with-body`), and what it prints must
//! show each of the four APIs at work.

use std::process::Command;

use crate::support::{self, Plinth, ServerOptions};

/// The first `sh` block after `heading` in the README.
fn block_after(readme: &str, heading: &str) -> String {
    let from = readme
        .find(heading)
        .unwrap_or_else(|| panic!("the README has no `{heading}`"));
    let rest = &readme[from..];
    let start = rest.find("```sh\n").expect("an sh block") + "```sh\n".len();
    let end = rest[start..].find("```").expect("the block ends");
    rest[start..start + end].to_owned()
}

#[tokio::test]
async fn the_readme_tour_runs_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let tour = block_after(&readme, "## A first session");
    assert!(tour.matches("curl ").count() >= 10, "{tour}");

    let server = Plinth::start(ServerOptions::default());
    let dir = support::temp_dir("readme");
    let token_file = dir.join("admin-token");
    std::fs::write(&token_file, &server.admin_token).expect("token file");
    let address = server
        .base
        .strip_prefix("http://")
        .expect("an http address");
    let script = tour
        .replace("localhost:8080", address)
        .replace(".plinth/admin-token", &token_file.to_string_lossy());
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -euo pipefail\ncurl() {{ command curl --fail-with-body \"$@\"; }}\n{script}"
        ))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the tour failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    for shown in [
        "\"provisioned\"",
        "\"table_name\":\"orders\"",
        "\"inserted\":2",
        "\"total\":80",
        "\"revenue\"",
        "\"name\":\"Acme\"",
    ] {
        assert!(stdout.contains(shown), "no {shown} in:\n{stdout}");
    }
}
