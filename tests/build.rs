//! Builds the Python example plugin, `plugins/generator-python`, into
//! `target/plugins/python/generator_python.wasm` for the tests, with the componentize-py that
//! `scripts/python-tools.sh` installs into `target/tools/python` (or the one named by
//! `WEATHERWISE_COMPONENTIZE_PY`). Only the tests need Python; the server never does.
//!
//! The example implements contract 0.1.0 (`wit/0.1.0`), which the server keeps running beside
//! newer ones. The component is rebuilt only when its sources, that WIT or the pinned tool
//! version change (a fingerprint of them is stored beside it). Without the pinned tool nothing
//! is built and the reason is written to `generator_python.problem`, which the tests that need
//! the component report when they fail.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bumped when the way the component is built changes, so old builds are not reused.
const RECIPE: &str = "componentize mission-generator app v1";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("workspace root").to_path_buf();
    let sources = workspace.join("plugins").join("generator-python");
    let wit = workspace.join("wit").join("0.1.0");
    let tool = std::env::var_os("WEATHERWISE_COMPONENTIZE_PY").map(PathBuf::from).unwrap_or_else(|| {
        workspace.join("target").join("tools").join("python").join("bin").join("componentize-py")
    });
    println!("cargo:rerun-if-changed={}", sources.display());
    println!("cargo:rerun-if-changed={}", wit.display());
    // A missing tool is checked again on every build until it is installed.
    println!("cargo:rerun-if-changed={}", tool.display());
    println!("cargo:rerun-if-env-changed=WEATHERWISE_COMPONENTIZE_PY");

    let out_dir = workspace.join("target").join("plugins").join("python");
    std::fs::create_dir_all(&out_dir).expect("creating target/plugins/python");
    let wasm = out_dir.join("generator_python.wasm");
    let stamp = out_dir.join("generator_python.fingerprint");
    let problem = out_dir.join("generator_python.problem");

    let fingerprint = fingerprint(&[&sources, &wit]);
    if wasm.exists() && std::fs::read_to_string(&stamp).is_ok_and(|old| old == fingerprint) {
        let _ = std::fs::remove_file(&problem);
        return;
    }
    let _ = std::fs::remove_file(&stamp);
    let pinned = pinned_version(&sources.join("requirements.txt"));
    if let Err(reason) = check_tool(&tool, &pinned) {
        let _ = std::fs::remove_file(&wasm);
        let message = format!(
            "the Python example plugin is not built: {reason}. Run `bash scripts/python-tools.sh` \
             (installs componentize-py {pinned} into target/tools/python) or `bash scripts/test.sh`."
        );
        std::fs::write(&problem, &message).expect("writing the problem note");
        println!("cargo:warning={message}");
        return;
    }
    componentize(&tool, &sources, &wit, &out_dir, &wasm);
    std::fs::write(&stamp, &fingerprint).expect("writing the fingerprint");
    let _ = std::fs::remove_file(&problem);
}

/// The `componentize-py==X` line of the plugin's requirements.
fn pinned_version(requirements: &Path) -> String {
    let text = std::fs::read_to_string(requirements)
        .unwrap_or_else(|err| panic!("{}: {err}", requirements.display()));
    text.lines()
        .find_map(|line| line.trim().strip_prefix("componentize-py=="))
        .map(|version| version.trim().to_owned())
        .unwrap_or_else(|| panic!("{} pins no componentize-py version", requirements.display()))
}

fn check_tool(tool: &Path, pinned: &str) -> Result<(), String> {
    let output = Command::new(tool)
        .arg("--version")
        .output()
        .map_err(|err| format!("componentize-py not found at {} ({err})", tool.display()))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if version != format!("componentize-py {pinned}") {
        return Err(format!("{} is `{version}`, componentize-py {pinned} is pinned", tool.display()));
    }
    Ok(())
}

/// Runs componentize-py on a copy of the sources, so the interpreter's byte-code caches land in
/// `target` and not in the source tree; writes the component atomically.
fn componentize(tool: &Path, sources: &Path, wit: &Path, out_dir: &Path, wasm: &Path) {
    let staging = out_dir.join("src");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).expect("creating the staging directory");
    for file in python_files(sources) {
        let name = file.file_name().expect("file name");
        std::fs::copy(&file, staging.join(name)).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
    }
    let partial = out_dir.join("generator_python.wasm.partial");
    let output = Command::new(tool)
        .arg("--wit-path")
        .arg(wit)
        .args(["--world", "mission-generator", "--quiet", "componentize", "--python-path"])
        .arg(&staging)
        .arg("--output")
        .arg(&partial)
        .arg("app")
        // Only the staged sources go in, never packages of whatever environment runs the build.
        .env_remove("VIRTUAL_ENV")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|err| panic!("running {}: {err}", tool.display()));
    assert!(
        output.status.success(),
        "componentize-py failed on plugins/generator-python:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&partial, wasm).unwrap_or_else(|err| panic!("{}: {err}", wasm.display()));
}

/// The plugin's Python sources, sorted so the fingerprint does not depend on directory order.
fn python_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "py"))
        .collect();
    files.sort();
    files
}

/// Hash of the recipe and of every file under `roots` (names and contents), byte-code caches
/// aside.
fn fingerprint(roots: &[&Path]) -> String {
    let mut files = Vec::new();
    for root in roots {
        collect_files(root, &mut files);
    }
    files.sort();
    let mut hasher = Sha256::new();
    hasher.update(RECIPE.as_bytes());
    for file in files {
        let contents = std::fs::read(&file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update((contents.len() as u64).to_le_bytes());
        hasher.update(&contents);
    }
    hex::encode(hasher.finalize())
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.file_name().is_some_and(|name| name == "__pycache__") {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}
