//! Each process of a measurement in its own session, as daemons run.
//!
//! Linux's autogroup scheduler (`/proc/sys/kernel/sched_autogroup_enabled`, on by
//! default) shares the CPUs fairly between sessions, not between threads.
//! PostgreSQL's backends each start a session of their own; a child of the harness
//! would share the harness's. Left so, wrk and Plinth would split one share between
//! them while every PostgreSQL backend had a whole one, and the load generator would
//! be taking its CPU from the server it measures. Every server and load generator
//! the harness starts is therefore the leader of a new session.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes `command`'s process the leader of a new session (and of its scheduling
/// autogroup) when it starts. Out of the harness's session it no longer gets the
/// terminal's Ctrl-C, so it is sent SIGTERM when the harness's main thread (which
/// starts every child) dies.
pub fn own_session(command: &mut Command) -> &mut Command {
    // SAFETY: the closure runs in the forked child before exec and calls only
    // setsid(2) and prctl(2), which are async-signal-safe; it touches no memory of
    // the parent's.
    unsafe {
        command.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                .map_err(std::io::Error::from)
        })
    }
}
