//! The capabilities the host grants vault adapters: what each lets a guest reach,
//! and what it refuses.

use super::*;

fn state_with_http() -> HostState {
    let mut state = HostState::new(1 << 20);
    state.capability = Some(Capability::Http(Arc::new(HttpEndpoint {
        // Nothing listens on port 9 of a loopback address we never bind; a
        // refused request never gets that far anyway.
        base: "http://127.0.0.1:9".into(),
        database: "ws_test".into(),
        client: reqwest::Client::new(),
    })));
    state
}

#[tokio::test]
async fn http_requests_that_leave_the_endpoint_or_its_database_are_refused() {
    let mut state = state_with_http();
    for path in [
        "//evil.example/",
        "http://evil.example/",
        "/@evil.example",
        "relative",
        "/?database=ws_other",
        "/?x=1&database=ws_other",
        "/?user=default&password=",
        "/?query_id=steal",
    ] {
        let answer = http::Host::send(
            &mut state,
            http::Request {
                method: http::Method::Post,
                path_and_query: path.into(),
                body: b"SELECT 1".to_vec(),
            },
        )
        .await
        .expect("no trap");
        assert!(
            matches!(answer, Err(http::HttpError::Refused(_))),
            "{path} was not refused"
        );
    }
}

#[tokio::test]
async fn a_capability_of_the_other_kind_is_no_capability() {
    let mut state = state_with_http();
    let answer = sql::Host::query_json(&mut state, "SELECT 1".into(), vec![])
        .await
        .expect("no trap");
    assert!(answer.is_err());
    let mut bare = HostState::new(1 << 20);
    let answer = http::Host::send(
        &mut bare,
        http::Request {
            method: http::Method::Get,
            path_and_query: "/".into(),
            body: vec![],
        },
    )
    .await
    .expect("no trap");
    assert!(matches!(answer, Err(http::HttpError::Refused(_))));
}
