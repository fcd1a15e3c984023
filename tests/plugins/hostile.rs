//! Hostile plugins end in a clear error within their limits, and the calls running
//! beside them go on untouched.

use std::time::{Duration, Instant};

use plinth::plugins::PluginFault;

use super::{hostile, limits, runtime};

const DEADLINE_MS: u64 = 100;

async fn attack(input: &str) -> (PluginFault, Duration) {
    attack_within(input, DEADLINE_MS).await
}

/// Attacks that must fail for their own reason, not for the deadline, get a long one.
async fn attack_within(input: &str, deadline_ms: u64) -> (PluginFault, Duration) {
    let rt = runtime(&limits(deadline_ms, 8), None).await;
    let plugin = hostile(&rt).await;
    let started = Instant::now();
    let error = rt
        .parse_with(&plugin, Some(uuid::Uuid::new_v4()), input)
        .await
        .expect_err("the attack must fail");
    assert_eq!(error.name, "hostile");
    (error.fault, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_stopped_at_its_deadline() {
    let (fault, took) = attack("loop").await;
    assert_eq!(fault, PluginFault::Deadline);
    assert!(took >= Duration::from_millis(DEADLINE_MS), "{took:?}");
    // The budget counts CPU time, so a loaded machine stretches the wall time; the
    // call's wall-clock ceiling still bounds it.
    let ceiling = (Duration::from_millis(DEADLINE_MS)
        * plinth::plugins::clock::WALL_CEILING_FACTOR)
        .max(plinth::plugins::clock::MIN_WALL_CEILING);
    assert!(took < ceiling + Duration::from_millis(500), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_hits_the_ceiling() {
    let (fault, _) = attack_within("bomb", 10_000).await;
    assert_eq!(fault, PluginFault::Memory);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_overflows_the_stack_cleanly() {
    let (fault, _) = attack_within("recurse", 10_000).await;
    assert_eq!(fault, PluginFault::StackOverflow);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_reported_with_its_message() {
    let (fault, _) = attack_within("panic", 10_000).await;
    match fault {
        PluginFault::Panic(message) => assert!(message.contains("panics on purpose"), "{message}"),
        other => panic!("expected a panic, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_result_is_refused_by_the_host() {
    let (fault, _) = attack_within("huge", 10_000).await;
    match fault {
        PluginFault::BadOutput(message) => assert!(message.contains("select items"), "{message}"),
        other => panic!("expected a refused result, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapped_instance_is_dropped_and_the_next_call_gets_a_fresh_one() {
    let rt = runtime(&limits(DEADLINE_MS, 8), None).await;
    let plugin = hostile(&rt).await;
    let ws = Some(uuid::Uuid::new_v4());
    rt.parse_with(&plugin, ws, "fine").await.unwrap().unwrap();
    assert_eq!(
        rt.idle_instances(plinth::plugins::PluginKind::FilterParser),
        1
    );
    rt.parse_with(&plugin, ws, "panic").await.unwrap_err();
    assert_eq!(
        rt.idle_instances(plinth::plugins::PluginKind::FilterParser),
        0
    );
    rt.parse_with(&plugin, ws, "fine").await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn well_behaved_calls_succeed_alongside_attacks() {
    let rt = runtime(&limits(DEADLINE_MS, 16), None).await;
    let plugin = hostile(&rt).await;
    let mut attacks = Vec::new();
    for input in ["loop", "bomb", "loop", "recurse", "panic", "loop"] {
        let (rt, plugin) = (rt.clone(), plugin.clone());
        attacks.push(tokio::spawn(async move {
            rt.parse_with(&plugin, Some(uuid::Uuid::new_v4()), input)
                .await
        }));
    }
    let started = Instant::now();
    let mut good = Vec::new();
    for i in 0..50 {
        let rt = rt.clone();
        good.push(tokio::spawn(async move {
            rt.parse_query(uuid::Uuid::new_v4(), &format!("select=id&limit={i}"))
                .await
        }));
    }
    for call in good {
        let query = call
            .await
            .unwrap()
            .expect("the plugin answers")
            .expect("parses");
        assert!(query.limit.is_some());
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "good calls were starved: {:?}",
        started.elapsed()
    );
    for attack in attacks {
        assert!(attack.await.unwrap().is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_instance_is_busy_callers_wait_for_a_free_one() {
    // Two instances only, both stuck in loops until their deadline.
    let rt = runtime(&limits(2000, 2), None).await;
    let plugin = hostile(&rt).await;
    let mut stuck = Vec::new();
    for _ in 0..2 {
        let (rt, plugin) = (rt.clone(), plugin.clone());
        stuck.push(tokio::spawn(async move {
            rt.parse_with(&plugin, Some(uuid::Uuid::new_v4()), "loop")
                .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A third caller waits for a slot (back-pressure), then gets one once the loops
    // are stopped.
    let started = Instant::now();
    let answer = rt
        .parse_with(&plugin, Some(uuid::Uuid::new_v4()), "fine")
        .await;
    assert!(answer.is_ok(), "{answer:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "it waited: {:?}",
        started.elapsed()
    );
    for s in stuck {
        assert!(s.await.unwrap().is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_parser_that_imports_a_clock_is_refused_naming_the_import() {
    let rt = runtime(&limits(50, 8), None).await;
    let refused = rt
        .load(
            plinth::plugins::PluginKind::FilterParser,
            "napper",
            plinth::plugins::Origin::Platform,
            std::sync::Arc::new(std::fs::read(super::NAPPER).unwrap()),
        )
        .await;
    let Err(error) = refused else {
        panic!("a component importing the clock must be refused");
    };
    assert!(matches!(error.fault, PluginFault::Invalid(_)), "{error}");
    assert!(
        error.to_string().contains("wasi:clocks/monotonic-clock"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_whose_plugin_stalls_makes_no_other_workspace_wait() {
    let rt = runtime(&limits(1000, 16), None).await;
    let plugin = hostile(&rt).await;
    let attacker = uuid::Uuid::new_v4();
    let stalled: Vec<_> = (0..8)
        .map(|_| {
            let (rt, plugin) = (rt.clone(), plugin.clone());
            tokio::spawn(async move { rt.parse_with(&plugin, Some(attacker), "loop").await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Another workspace on the built-in parser, and another on the same installed
    // plugin, are answered at once.
    let started = Instant::now();
    for i in 0..20 {
        let parsed = rt
            .parse_query(uuid::Uuid::new_v4(), &format!("select=id&id=eq.{i}"))
            .await;
        assert!(matches!(parsed, Ok(Ok(_))), "{parsed:?}");
    }
    let answer = rt
        .parse_with(&plugin, Some(uuid::Uuid::new_v4()), "fine")
        .await;
    assert!(answer.is_ok(), "{answer:?}");
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "nobody else waited: {:?}",
        started.elapsed()
    );
    for call in stalled {
        call.abort();
    }
}

/// `wasm` with a custom section appended: the same component, another digest.
fn distinct(wasm: &[u8], n: u64) -> Vec<u8> {
    let name = b"plinth-test";
    let mut out = wasm.to_vec();
    out.push(0); // custom section
    out.push((1 + name.len() + 8) as u8);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&n.to_le_bytes());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installs_beyond_the_compilation_slots_are_refused_as_busy_not_queued() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(&limits(100, 8), Some(dir.path().to_owned())).await;
    let bytes = std::fs::read(super::HOSTILE).unwrap();
    let loads: Vec<_> = (0..6)
        .map(|n| {
            let (rt, wasm) = (rt.clone(), distinct(&bytes, n));
            tokio::spawn(async move {
                rt.load(
                    plinth::plugins::PluginKind::FilterParser,
                    "upload",
                    plinth::plugins::Origin::Platform,
                    std::sync::Arc::new(wasm),
                )
                .await
                .map(|_| ())
            })
        })
        .collect();
    let mut busy = 0;
    for load in loads {
        match load.await.unwrap() {
            Ok(()) => {}
            Err(error) => {
                assert_eq!(error.fault, PluginFault::Busy, "{error}");
                busy += 1;
            }
        }
    }
    assert!(busy >= 1, "six concurrent compilations, two slots");
    assert!(busy <= 4, "the slots were used");
    // Once the slots are free, the refused upload compiles.
    let retried = rt
        .load(
            plinth::plugins::PluginKind::FilterParser,
            "upload",
            plinth::plugins::Origin::Platform,
            std::sync::Arc::new(distinct(&bytes, 5)),
        )
        .await;
    if let Err(error) = retried {
        panic!("the retried upload: {error}");
    }
}
