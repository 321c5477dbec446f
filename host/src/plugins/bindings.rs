//! Host bindings of `weatherwise:plugins@0.1.0`. A future WIT version gets a module of its own
//! beside this one, so components built against 0.1.0 keep working.

pub mod generator_world {
    wasmtime::component::bindgen!({
        world: "mission-generator",
        path: "../wit",
        imports: { default: async },
        exports: { default: async },
    });
}

pub mod policy_world {
    wasmtime::component::bindgen!({
        world: "verification-policy",
        path: "../wit",
        imports: { default: async },
        exports: { default: async },
        with: {
            "weatherwise:plugins/types": super::generator_world::weatherwise::plugins::types,
            "weatherwise:plugins/log": super::generator_world::weatherwise::plugins::log,
        },
    });
}

pub use generator_world::exports::weatherwise::plugins::generator::UserContext;
pub use generator_world::weatherwise::plugins::log::Level;
pub use generator_world::weatherwise::plugins::types::{
    Alert, AlertKind, AlertLevel, Mission, Precipitation, Sky, Slot, WeatherSnapshot,
};
pub use policy_world::exports::weatherwise::plugins::policy::{Decision, PhotoFeatures, Verdict};
pub use policy_world::weatherwise::plugins::vision::VisionError;
