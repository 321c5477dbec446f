//! What a component is: which world it implements, what it imports and exports, its size and
//! how long it took to compile. Used by uploads and by `weatherwise plugin check`.

use super::World;
use super::engine::PluginEngine;
use super::generator::LoadedGenerator;
use super::policy::LoadedPolicy;
use std::time::Instant;

/// Largest component accepted (bytes). Components that embed a language runtime are large: a
/// Python generator built by componentize-py is about 18 MB (the interpreter plus a snapshot of
/// its initialised heap) however small its own code, so 32 MiB leaves room for such a runtime
/// and a few libraries. Uploads are admin-only and stored once per version.
pub const MAX_COMPONENT_BYTES: usize = 32 << 20;

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub world: World,
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
}

/// Compiles `bytes`, finds its world and pre-links it.
pub fn load(engine: &PluginEngine, name: &str, bytes: &[u8]) -> Result<(Report, Loaded), InspectError> {
    if bytes.len() > MAX_COMPONENT_BYTES {
        return Err(InspectError::TooLarge(bytes.len()));
    }
    let started = Instant::now();
    let component = engine.compile(bytes).map_err(|err| InspectError::Invalid(format!("{err:#}")))?;
    let compile_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (world, loaded) = match LoadedGenerator::new(engine, name, &component) {
        Ok(generator) => (World::MissionGenerator, Loaded::Generator(generator)),
        Err(generator_err) => match LoadedPolicy::new(engine, name, &component) {
            Ok(policy) => (World::VerificationPolicy, Loaded::Policy(policy)),
            Err(policy_err) => {
                return Err(InspectError::UnknownWorld(format!(
                    "as a generator: {generator_err:#}; as a policy: {policy_err:#}"
                )));
            }
        },
    };
    let ty = component.component_type();
    let imports = ty.imports(&engine.engine).map(|(name, _)| name.to_owned()).collect();
    let exports = ty.exports(&engine.engine).map(|(name, _)| name.to_owned()).collect();
    let report =
        Report { world, size_bytes: bytes.len(), sha256: sha256_hex(bytes), compile_ms, imports, exports };
    Ok((report, loaded))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
