//! Builds the bundled plugins (`plugins/generator-default`, `plugins/policy-default`, both of
//! contract 0.2.0) for `wasm32-wasip2` and places them in `OUT_DIR` for `include_bytes!`. They
//! get a target directory of their own (`target/plugins`) so this nested cargo never waits on
//! the outer build's lock; the tests find the other components there too: the misbehaving
//! ones, and the kept 0.1.0 copies of the bundled generator and policy.

use std::path::PathBuf;
use std::process::Command;

/// Bundled into the binary.
const PLUGINS: &[(&str, &str)] =
    &[("generator-default", "generator_default"), ("policy-default", "policy_default")];
/// Built beside them for the tests, never bundled.
const TEST_COMPONENTS: &[&str] = &[
    "hostile-generator",
    "hostile-policy",
    "not-a-plugin",
    "minimal-generator",
    "generator-default-v0_1",
    "policy-default-v0_1",
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("workspace root").to_path_buf();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
    println!("cargo:rerun-if-changed={}", workspace.join("plugins").display());
    ensure_wasm_target();
    let target_dir = workspace.join("target").join("plugins");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args(["build", "--profile", "plugin", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(&target_dir);
    for package in PLUGINS.iter().map(|(package, _)| *package).chain(TEST_COMPONENTS.iter().copied()) {
        command.args(["-p", package]);
    }
    // Flags meant for the host build must not leak into the guest build.
    for variable in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
    ] {
        command.env_remove(variable);
    }
    let status = command.status().expect("running cargo for the bundled plugins");
    assert!(
        status.success(),
        "building the bundled plugins failed; is the target installed? `rustup target add wasm32-wasip2`"
    );
    for (_, artifact) in PLUGINS {
        let built = target_dir.join("wasm32-wasip2").join("plugin").join(format!("{artifact}.wasm"));
        std::fs::copy(&built, out_dir.join(format!("{artifact}.wasm")))
            .unwrap_or_else(|err| panic!("copying {}: {err}", built.display()));
    }
}

/// `cargo run` on a fresh machine should just work: add the guest target when rustup can.
fn ensure_wasm_target() {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    let Ok(installed) = installed else { return };
    if String::from_utf8_lossy(&installed.stdout).lines().any(|line| line.trim() == "wasm32-wasip2") {
        return;
    }
    println!("cargo:warning=installing the wasm32-wasip2 target for the bundled plugins");
    let _ = Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status();
}
