//! One wasmtime `Engine` for the process: component model, fuel, epoch interruption and the
//! pooling allocator; one `Linker` per world, holding only that world's imports in every
//! contract version (plus WASI with an authority-free context, which Rust and Python guests
//! import through their runtimes).

use super::bindings;
use super::limits::{CallError, CallErrorKind, Limits};
use super::sandbox::Sandbox;
use anyhow::Context;
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

/// How often the epoch advances; deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Instances that may run at once (pool slots).
const POOL_INSTANCES: u32 = 256;

#[derive(Clone)]
pub struct PluginEngine {
    pub engine: Engine,
    pub generator_linker: Linker<Sandbox>,
    pub policy_linker: Linker<Sandbox>,
    pub limits: Limits,
}

impl PluginEngine {
    pub fn new(limits: Limits) -> anyhow::Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(POOL_INSTANCES)
            .total_core_instances(POOL_INSTANCES * 8)
            .total_memories(POOL_INSTANCES * 2)
            .total_tables(POOL_INSTANCES * 4)
            .total_stacks(POOL_INSTANCES)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_core_instances_per_component(16)
            .max_memory_size(limits.max_memory_bytes);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(1 << 20)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(anyhow::Error::from).context("creating the wasm engine")?;
        start_epoch_ticker(&engine);

        let mut generator_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut generator_linker)?;
        let mut policy_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut policy_linker)?;
        bindings::add_to_linkers(&mut generator_linker, &mut policy_linker)?;
        Ok(Self { engine, generator_linker, policy_linker, limits })
    }

    pub fn compile(&self, bytes: &[u8]) -> anyhow::Result<Component> {
        Ok(Component::new(&self.engine, bytes)?)
    }

    /// A fresh store for one call, with its budgets armed.
    pub fn store(&self, sandbox: Sandbox) -> Result<Store<Sandbox>, CallError> {
        let mut store = Store::new(&self.engine, sandbox);
        store.limiter(|sandbox| sandbox);
        store
            .set_fuel(self.limits.fuel)
            .map_err(|err| CallError::new(CallErrorKind::Instantiation, err.to_string()))?;
        // Yield to the executor regularly so a busy component never holds a runtime thread.
        store
            .fuel_async_yield_interval(Some(100_000))
            .map_err(|err| CallError::new(CallErrorKind::Instantiation, err.to_string()))?;
        let own_time = self.limits.timeout();
        store.set_epoch_deadline(ticks_for(own_time));
        // The deadline bounds the component's own time: time spent waiting for the host's
        // vision requests is given back, and those have their own budget (`vision_timeout_ms`).
        store.epoch_deadline_callback(move |context| {
            let own = context.data().clock.own_time();
            if own >= own_time {
                return Err(Trap::Interrupt.into());
            }
            Ok(wasmtime::UpdateDeadline::Continue(ticks_for(own_time - own)))
        });
        Ok(store)
    }

    /// Turns a wasmtime error of a call into the kind the caller and the metrics see.
    pub fn classify(&self, err: &wasmtime::Error, store: &Store<Sandbox>) -> CallError {
        if store.data().memory_denied {
            return CallError::new(CallErrorKind::MemoryLimit, "memory limit reached");
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => CallError::new(CallErrorKind::OutOfFuel, "fuel exhausted"),
            Some(Trap::Interrupt) => CallError::new(CallErrorKind::Timeout, "deadline reached"),
            Some(trap) => CallError::new(CallErrorKind::Trap, trap.to_string()),
            None => CallError::new(CallErrorKind::Trap, format!("{err:#}")),
        }
    }
}

/// Advances the epoch until the engine is dropped everywhere.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map(drop)
        .unwrap_or_else(|err| tracing::error!(error = %err, "could not start the epoch ticker"));
}

fn ticks_for(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis().div_ceil(EPOCH_TICK.as_millis()).max(1)).unwrap_or(u64::MAX)
}
