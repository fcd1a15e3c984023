//! The runtime's bounds on a call: its wall-clock ceiling.

use std::time::Instant;

use super::*;

/// A call whose guest waits on the host (as a sleep on a linked clock, or a
/// stalled engine, would) is stopped at the wall-clock ceiling, not when the wait
/// ends: the run budget alone never sees that time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_waiting_on_the_host_is_stopped_at_its_wall_ceiling() {
    let settings = PluginSettings::uniform(PluginLimits {
        deadline: Duration::from_millis(50),
        memory_bytes: 16 << 20,
        max_instances: 4,
    });
    let runtime = PluginRuntime::new(&settings, None, None, None)
        .await
        .unwrap();
    let plugin = runtime
        .resolve(PluginKind::FilterParser, None)
        .await
        .unwrap();
    let started = Instant::now();
    let error = runtime
        .invoke(&plugin, Some(Uuid::new_v4()), |_, _| {
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            })
        })
        .await
        .unwrap_err();
    assert_eq!(error.fault, PluginFault::Deadline);
    let ceiling = wall_ceiling(settings.filter.deadline);
    assert!(started.elapsed() >= ceiling);
    assert!(started.elapsed() < ceiling + Duration::from_secs(2));
}
