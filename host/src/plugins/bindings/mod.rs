//! The plugin boundary: one module per contract version (`wit/<version>/plugins.wit`), each
//! with its generated bindings, its host imports and the conversions between its types and
//! the host's own. Nothing outside this module names a generated type, so a new contract
//! version is a new module here and a new arm in [`Generator`] and [`Policy`].

pub mod v0_1;
pub mod v0_2;

use super::Contract;
use super::sandbox::Sandbox;
use crate::language::Language;
use crate::missions::{GenerationContext, MissionContent};
use crate::verification::{PhotoFeatures, Verdict};
use crate::weather::SlotWeather;
use wasmtime::Store;
use wasmtime::component::{Component, Linker};

/// Conversions both ways between a host enum and a generated one with the same variants.
macro_rules! same_enum {
    ($host_module:ident :: $host:ident <=> $wit_module:ident :: $wit:ident { $($variant:ident),* $(,)? }) => {
        impl From<$host_module::$host> for $wit_module::$wit {
            fn from(value: $host_module::$host) -> Self {
                match value { $($host_module::$host::$variant => Self::$variant),* }
            }
        }

        impl From<$wit_module::$wit> for $host_module::$host {
            fn from(value: $wit_module::$wit) -> Self {
                match value { $($wit_module::$wit::$variant => Self::$variant),* }
            }
        }
    };
}
pub(crate) use same_enum;

/// Adds the host imports of every contract version: the generator linker gets each version's
/// `log`, the policy linker each version's `log` and `vision`.
pub fn add_to_linkers(
    generators: &mut Linker<Sandbox>,
    policies: &mut Linker<Sandbox>,
) -> anyhow::Result<()> {
    v0_1::add_to_linkers(generators, policies)?;
    v0_2::add_to_linkers(generators, policies)?;
    Ok(())
}

/// A mission generator, pre-linked for the contract version it implements.
pub enum Generator {
    V0_1(v0_1::Generator),
    V0_2(v0_2::Generator),
}

impl Generator {
    pub fn new(linker: &Linker<Sandbox>, component: &Component, contract: Contract) -> anyhow::Result<Self> {
        Ok(match contract {
            Contract::V0_1 => Self::V0_1(v0_1::Generator::new(linker, component)?),
            Contract::V0_2 => Self::V0_2(v0_2::Generator::new(linker, component)?),
        })
    }

    /// Instantiates and calls `generate`; the outer error is the runtime's (trap, fuel,
    /// deadline), the inner one the component's own.
    pub async fn generate(
        &self,
        store: &mut Store<Sandbox>,
        weather: &[SlotWeather],
        context: &GenerationContext,
    ) -> wasmtime::Result<Result<Vec<MissionContent>, String>> {
        match self {
            Self::V0_1(generator) => generator.generate(store, weather, context).await,
            Self::V0_2(generator) => generator.generate(store, weather, context).await,
        }
    }
}

/// A verification policy, pre-linked for the contract version it implements.
pub enum Policy {
    V0_1(v0_1::Policy),
    V0_2(v0_2::Policy),
}

impl Policy {
    pub fn new(linker: &Linker<Sandbox>, component: &Component, contract: Contract) -> anyhow::Result<Self> {
        Ok(match contract {
            Contract::V0_1 => Self::V0_1(v0_1::Policy::new(linker, component)?),
            Contract::V0_2 => Self::V0_2(v0_2::Policy::new(linker, component)?),
        })
    }

    /// Instantiates and calls `verify`; errors as for [`Generator::generate`].
    pub async fn verify(
        &self,
        store: &mut Store<Sandbox>,
        mission: &MissionContent,
        photo: &PhotoFeatures,
        language: Language,
    ) -> wasmtime::Result<Result<Verdict, String>> {
        match self {
            Self::V0_1(policy) => policy.verify(store, mission, photo).await,
            Self::V0_2(policy) => policy.verify(store, mission, photo, language).await,
        }
    }
}
