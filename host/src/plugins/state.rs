//! What each plugin store holds: a WASI context that grants nothing (no files, no
//! environment, no network; stderr captured for panic messages), the memory ceiling,
//! the current call's budget and run clock, and — for vault adapters — the one capability the
//! host binds to the call.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::clock::{CallBudget, RunClock};
use super::error::MemoryCeiling;

/// Bytes of guest stderr kept (for panic messages).
const STDERR_CAPTURE_BYTES: usize = 8 * 1024;

/// The memory ceiling: `StoreLimits`, with growth past the limit turned into a typed
/// error so that the host can say what happened.
pub struct Ceiling {
    limits: StoreLimits,
}

impl Ceiling {
    fn new(memory_bytes: usize) -> Self {
        Self {
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .table_elements(100_000)
                .instances(64)
                .tables(64)
                .memories(16)
                .build(),
        }
    }
}

impl ResourceLimiter for Ceiling {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if self.limits.memory_growing(current, desired, maximum)? {
            Ok(true)
        } else {
            Err(MemoryCeiling.into())
        }
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if self.limits.table_growing(current, desired, maximum)? {
            Ok(true)
        } else {
            Err(MemoryCeiling.into())
        }
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// The data of every plugin store.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) ceiling: Ceiling,
    /// The limits of the current call (or instantiation).
    pub(crate) budget: CallBudget,
    /// How long the current call has run.
    pub(crate) clock: Arc<RunClock>,
    stderr: MemoryOutputPipe,
    /// The capability bound to the current vault-adapter call, if any.
    pub(crate) capability: Option<super::vault::Capability>,
}

impl HostState {
    /// A fresh state with a memory ceiling.
    pub fn new(memory_bytes: usize) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            ceiling: Ceiling::new(memory_bytes),
            budget: CallBudget::starting_now(Duration::from_secs(1)),
            clock: Arc::new(RunClock::default()),
            stderr,
            capability: None,
        }
    }

    /// Arms `run` for the next call: a fresh budget and a clock at zero.
    pub(crate) fn arm(&mut self, run: Duration) {
        self.budget = CallBudget::starting_now(run);
        self.clock.reset();
    }

    /// At every epoch tick: counts the time run so far, and whether the current call
    /// must stop.
    pub(crate) fn exhausted(&self) -> bool {
        self.budget.exhausted(self.clock.tick())
    }

    /// What the guest wrote to stderr so far.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).into_owned()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
