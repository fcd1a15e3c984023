//! Plugin failures, with blame: what the guest did wrong (or what the host could not
//! do) and which plugin it was.

use super::PluginKind;

/// What went wrong in a plugin call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginFault {
    /// The call ran past its deadline (the guest's fault).
    Deadline,
    /// The guest tried to grow its memory past the ceiling (the guest's fault).
    Memory,
    /// The guest exhausted its stack (the guest's fault).
    StackOverflow,
    /// The guest panicked, with its message (the guest's fault).
    Panic(String),
    /// The guest trapped otherwise (the guest's fault).
    Trap(String),
    /// The guest returned something the host refuses (the guest's fault).
    BadOutput(String),
    /// The component could not be loaded or does not fit its world (the installer's fault).
    Invalid(String),
    /// Every instance slot of this kind stayed busy for as long as a call can last (load).
    Busy,
    /// The host failed around the call (our fault).
    Host(String),
}

/// A failed plugin call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind} plugin `{name}` {}", describe(.fault))]
pub struct PluginError {
    /// The world.
    pub kind: PluginKind,
    /// The plugin's name.
    pub name: String,
    /// What happened.
    pub fault: PluginFault,
}

fn describe(fault: &PluginFault) -> String {
    match fault {
        PluginFault::Deadline => "ran past its deadline and was stopped".into(),
        PluginFault::Memory => "tried to use more memory than its ceiling allows".into(),
        PluginFault::StackOverflow => "overflowed its stack (runaway recursion)".into(),
        PluginFault::Panic(message) => format!("panicked: {message}"),
        PluginFault::Trap(message) => format!("trapped: {message}"),
        PluginFault::BadOutput(message) => format!("returned a result the host refuses: {message}"),
        PluginFault::Invalid(message) => format!("cannot be used: {message}"),
        PluginFault::Busy => "has no free instance; retry shortly".into(),
        PluginFault::Host(message) => {
            format!("could not be called because of a host failure: {message}")
        }
    }
}

impl PluginError {
    /// An error for this plugin.
    pub fn new(kind: PluginKind, name: &str, fault: PluginFault) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            fault,
        }
    }

    /// True when the guest (not the host) is to blame.
    pub fn is_guest_fault(&self) -> bool {
        !matches!(self.fault, PluginFault::Busy | PluginFault::Host(_))
    }
}

/// Marker error raised by the epoch callback when a call's deadline passes.
#[derive(Debug)]
pub(crate) struct DeadlineExceeded;

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline exceeded")
    }
}

impl std::error::Error for DeadlineExceeded {}

/// Marker error raised by the limiter when memory would grow past the ceiling.
#[derive(Debug)]
pub(crate) struct MemoryCeiling;

impl std::fmt::Display for MemoryCeiling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("memory ceiling reached")
    }
}

impl std::error::Error for MemoryCeiling {}

/// Classifies the error of a guest call; `stderr` is what the guest printed (a Rust
/// panic message ends up there).
pub(crate) fn classify(error: &wasmtime::Error, stderr: &str) -> PluginFault {
    if error.downcast_ref::<DeadlineExceeded>().is_some() {
        return PluginFault::Deadline;
    }
    if error.downcast_ref::<MemoryCeiling>().is_some() {
        return PluginFault::Memory;
    }
    if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
        match trap {
            wasmtime::Trap::StackOverflow => return PluginFault::StackOverflow,
            wasmtime::Trap::Interrupt => return PluginFault::Deadline,
            _ => {}
        }
    }
    if let Some(message) = panic_message(stderr) {
        return PluginFault::Panic(message);
    }
    let mut text = error.to_string();
    if let Some(root) = error.chain().last() {
        let root = root.to_string();
        if root != text {
            text = format!("{text}: {root}");
        }
    }
    PluginFault::Trap(text)
}

/// The message of a Rust panic printed to stderr, if any.
fn panic_message(stderr: &str) -> Option<String> {
    let line = stderr.lines().find(|l| l.contains("panicked at"))?;
    let after = stderr
        .split_once(line)
        .map(|(_, rest)| rest.lines().find(|l| !l.trim().is_empty()).unwrap_or(""))
        .unwrap_or("");
    let message = if after.is_empty() || after.starts_with("note:") {
        line.to_owned()
    } else {
        after.trim().to_owned()
    };
    Some(message.chars().take(300).collect())
}
