//! What a component is: which world and contract version it implements (from the interface it
//! exports, e.g. `weatherwise:plugins/generator@0.2.0`), what it imports and exports, its size
//! and how long it took to compile. Used by uploads and by `weatherwise plugin check`.

use super::engine::PluginEngine;
use super::generator::LoadedGenerator;
use super::policy::LoadedPolicy;
use super::{Contract, World};
use std::time::Instant;

/// Largest component accepted (bytes). Components that embed a language runtime are large: a
/// Python generator built by componentize-py is about 18 MB (the interpreter plus a snapshot of
/// its initialised heap) however small its own code, so 32 MiB leaves room for such a runtime
/// and a few libraries. Uploads are admin-only and stored once per version.
pub const MAX_COMPONENT_BYTES: usize = 32 << 20;

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub world: World,
    /// The version of the plugin contracts it was built against.
    pub contract: Contract,
    pub size_bytes: usize,
    pub sha256: String,
    pub compile_ms: f64,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

pub enum Loaded {
    Generator(LoadedGenerator),
    Policy(LoadedPolicy),
}

#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("the file is {0} bytes; the limit is {MAX_COMPONENT_BYTES}")]
    TooLarge(usize),
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    #[error("the component implements no known world (mission-generator, verification-policy): {0}")]
    UnknownWorld(String),
    #[error("the component implements {0}, a contract version this server does not run (it runs {known})",
        known = Contract::ALL.map(Contract::as_str).join(", "))]
    UnknownContract(String),
}

/// The plugin interface a component exports: `weatherwise:plugins/<interface>@<version>`.
const EXPORT_PREFIX: &str = "weatherwise:plugins/";

/// The world and contract version of a component, from the plugin interface it exports.
fn implemented(exports: &[String]) -> Result<(World, Contract), InspectError> {
    for export in exports {
        let Some((interface, version)) =
            export.strip_prefix(EXPORT_PREFIX).and_then(|rest| rest.split_once('@'))
        else {
            continue;
        };
        let world = match interface {
            "generator" => World::MissionGenerator,
            "policy" => World::VerificationPolicy,
            _ => continue,
        };
        let contract =
            Contract::parse(version).ok_or_else(|| InspectError::UnknownContract(export.clone()))?;
        return Ok((world, contract));
    }
    Err(InspectError::UnknownWorld(format!(
        "it exports neither {EXPORT_PREFIX}generator nor {EXPORT_PREFIX}policy (exports: {})",
        exports.join(", ")
    )))
}

/// Compiles `bytes`, finds its world and pre-links it.
pub fn load(engine: &PluginEngine, name: &str, bytes: &[u8]) -> Result<(Report, Loaded), InspectError> {
    if bytes.len() > MAX_COMPONENT_BYTES {
        return Err(InspectError::TooLarge(bytes.len()));
    }
    let started = Instant::now();
    let component = engine.compile(bytes).map_err(|err| InspectError::Invalid(format!("{err:#}")))?;
    let compile_ms = started.elapsed().as_secs_f64() * 1000.0;
    let ty = component.component_type();
    let imports = ty.imports(&engine.engine).map(|(name, _)| name.to_owned()).collect();
    let exports: Vec<String> = ty.exports(&engine.engine).map(|(name, _)| name.to_owned()).collect();
    let (world, contract) = implemented(&exports)?;
    let linked = match world {
        World::MissionGenerator => {
            LoadedGenerator::new(engine, name, &component, contract).map(Loaded::Generator)
        }
        World::VerificationPolicy => {
            LoadedPolicy::new(engine, name, &component, contract).map(Loaded::Policy)
        }
    };
    let loaded = linked.map_err(|err| {
        InspectError::UnknownWorld(format!(
            "it exports a {} of contract {} but does not fit it: {err:#}",
            world.as_str(),
            contract.as_str()
        ))
    })?;
    let report = Report {
        world,
        contract,
        size_bytes: bytes.len(),
        sha256: sha256_hex(bytes),
        compile_ms,
        imports,
        exports,
    };
    Ok((report, loaded))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn the_world_and_contract_come_from_the_plugin_interface_exported() {
        let generator = names(&["wasi:cli/run@0.2.0", "weatherwise:plugins/generator@0.2.0"]);
        assert!(matches!(implemented(&generator), Ok((World::MissionGenerator, Contract::V0_2))));
        let policy = names(&["weatherwise:plugins/policy@0.1.0"]);
        assert!(matches!(implemented(&policy), Ok((World::VerificationPolicy, Contract::V0_1))));
    }

    #[test]
    fn an_unknown_contract_version_or_no_plugin_interface_is_refused_by_name() {
        let future = names(&["weatherwise:plugins/generator@0.3.0"]);
        let Err(err) = implemented(&future) else { panic!("0.3.0 accepted") };
        assert!(matches!(err, InspectError::UnknownContract(_)));
        assert_eq!(
            err.to_string(),
            "the component implements weatherwise:plugins/generator@0.3.0, a contract version this \
             server does not run (it runs 0.1.0, 0.2.0)"
        );
        let command = names(&["wasi:cli/run@0.2.0"]);
        let Err(err) = implemented(&command) else { panic!("a command accepted") };
        assert!(err.to_string().contains("no known world"), "{err}");
        assert!(implemented(&names(&["weatherwise:plugins/log@0.2.0"])).is_err(), "an import-like name");
    }
}
