//! The server as a process of its own: the `weatherwise` command line (built from the host's
//! `main.rs` as this package's `weatherwise-test-server` binary), started with a deployment's
//! configuration written to a file. Only such a server can be killed outright (its consumers,
//! pools and workers die with it) or have its memory measured alone.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use weatherwise::config::Config;

/// How long a server process may take to report its address.
const START_TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) struct ServerProcess {
    child: Child,
    pid: u32,
}

impl ServerProcess {
    /// Starts `weatherwise serve` with exactly `config` (no `WEATHERWISE_*` variable of the test
    /// environment reaches it) and waits until it listens.
    pub(crate) async fn start(config: &Config) -> (Self, SocketAddr) {
        let file = config.data_dir.join(format!("server-{}.toml", uuid::Uuid::new_v4().simple()));
        let text = toml::to_string(config).expect("the configuration as TOML");
        std::fs::write(&file, text).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        let mut command = Command::new(binary());
        command.arg("--config").arg(&file).arg("serve");
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("WEATHERWISE_") {
                command.env_remove(name);
            }
        }
        // The address is read from the "listening" line; the rest is passed on to the test's
        // output, so a failing test shows what its server said.
        command.env("RUST_LOG", format!("{},weatherwise=info", config.log.filter));
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child =
            command.spawn().unwrap_or_else(|err| panic!("starting {}: {err}", binary().display()));
        let pid = child.id().expect("a running child has an id");
        let stderr = child.stderr.take().expect("piped stderr");
        let (address_tx, address_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut address_tx = Some(address_tx);
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(address) = listening_address(&line)
                    && let Some(tx) = address_tx.take()
                {
                    let _ = tx.send(address);
                }
                eprintln!("[server {pid}] {line}");
            }
        });
        let address = match tokio::time::timeout(START_TIMEOUT, address_rx).await {
            Ok(Ok(address)) => address,
            Ok(Err(_)) => {
                let status = child.wait().await;
                panic!("the server process ended before listening: {status:?} (its output is above)")
            }
            Err(_) => panic!("the server process did not listen within {START_TIMEOUT:?}"),
        };
        (Self { child, pid }, address)
    }

    /// SIGKILL: no graceful shutdown, no draining, nothing flushed.
    pub(crate) async fn kill(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        let status = self.child.wait().await.expect("wait");
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(status.signal(), Some(9), "the server died of SIGKILL: {status:?}");
    }

    /// SIGTERM, as an orchestrator stops a server; returns once it exited, failing unless it
    /// exited cleanly.
    pub(crate) async fn terminate(&mut self) -> anyhow::Result<()> {
        let sent = Command::new("kill").args(["-TERM", &self.pid.to_string()]).status().await?;
        anyhow::ensure!(sent.success(), "kill -TERM {} failed", self.pid);
        let status = self.child.wait().await?;
        anyhow::ensure!(status.success(), "the server exited with {status:?}");
        Ok(())
    }

    /// The server's resident memory at its highest so far (`VmHWM`), in KiB.
    pub(crate) fn peak_memory_kib(&self) -> u64 {
        let path = format!("/proc/{}/status", self.pid);
        let status = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"));
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmHWM in {path}"))
    }
}

/// `address=127.0.0.1:PORT` of the server's "listening" log line.
fn listening_address(line: &str) -> Option<SocketAddr> {
    if !line.contains("listening") {
        return None;
    }
    let rest = line.split("address=").nth(1)?;
    rest.split_whitespace().next()?.trim_matches('"').parse().ok()
}

/// The server binary. Cargo builds a package's binaries before its integration tests and
/// examples, into the directory above theirs (`target/<profile>/deps/`,
/// `target/<profile>/examples/`).
/// Runs the `weatherwise` command line with exactly `config` and `args` (as an operator would
/// beside running servers) and returns what it printed and how it exited.
pub(crate) async fn run_command(config: &Config, args: &[&str]) -> std::process::Output {
    let file = config.data_dir.join(format!("command-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, toml::to_string(config).expect("the configuration as TOML")).expect("config file");
    let mut command = Command::new(binary());
    command.arg("--config").arg(&file).args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WEATHERWISE_") {
            command.env_remove(name);
        }
    }
    command.env("RUST_LOG", "warn").stdin(Stdio::null());
    command.output().await.unwrap_or_else(|err| panic!("running {}: {err}", binary().display()))
}

fn binary() -> PathBuf {
    let name = format!("weatherwise-test-server{}", std::env::consts::EXE_SUFFIX);
    let exe = std::env::current_exe().expect("the test executable's path");
    let path = exe
        .parent()
        .and_then(std::path::Path::parent)
        .map(|profile_dir| profile_dir.join(&name))
        .expect("the test executable lives in target/<profile>/<kind>/");
    assert!(
        path.exists(),
        "{} is missing: it is built with this package's tests (`cargo build -p weatherwise-tests --tests`)",
        path.display()
    );
    path
}
