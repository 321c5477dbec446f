//! A Kafka-protocol broker (tansu, installed by the test command) of a test's own, on a port
//! of its own, so the test can freeze or restart it without touching the shared one.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::process::{Child, Command};

pub struct PrivateBroker {
    pub address: SocketAddr,
    child: Child,
    /// Where a persistent broker keeps its SQLite log; `None` keeps it in memory.
    data_dir: Option<tempfile::TempDir>,
}

impl PrivateBroker {
    /// A broker that forgets everything when it stops.
    pub async fn start() -> Self {
        Self::launch(free_address(), None).await
    }

    /// A broker that keeps its topics, records and offsets on disk across restarts, as a real
    /// deployment's does.
    pub async fn start_persistent() -> Self {
        let dir = tempfile::tempdir().expect("a directory for the broker's log");
        Self::launch(free_address(), Some(dir)).await
    }

    async fn launch(address: SocketAddr, data_dir: Option<tempfile::TempDir>) -> Self {
        let listener = format!("tcp://{address}");
        let mut command = Command::new("tansu");
        command.args(["broker", "--listener-url", &listener, "--advertised-listener-url", &listener]);
        match &data_dir {
            Some(dir) => {
                command.current_dir(dir.path()).args(["--storage-engine", "sqlite://tansu.db"]);
            }
            None => {
                command.args(["--storage-engine", "memory://tansu/"]);
            }
        }
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("tansu runs (the test command installs it)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(address).await.is_ok() {
                return Self { address, child, data_dir };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the private broker did not start on {address}");
    }

    /// The bus URL of this broker.
    pub fn url(&self) -> String {
        format!("kafka://{}", self.address)
    }

    /// Kills the broker (SIGKILL: nothing flushed, no goodbye to clients), leaves it down for
    /// `down`, then starts it again on the same address over the same log.
    pub async fn kill_and_restart_after(&mut self, down: Duration) {
        assert!(self.data_dir.is_some(), "only a persistent broker comes back with its log");
        self.child.kill().await.expect("SIGKILL the broker");
        tokio::time::sleep(down).await;
        *self = Self::launch(self.address, self.data_dir.take()).await;
    }

    /// Freezes the broker (SIGSTOP) for `pause`, then lets it go on (SIGCONT): for that long it
    /// accepts nothing and answers nothing, as a broker behind a failed network would.
    pub async fn freeze_for(&self, pause: Duration) {
        let pid = self.child.id().expect("the broker runs").to_string();
        let signal = |name: &str| {
            let status = std::process::Command::new("kill").args([name, &pid]).status().expect("kill");
            assert!(status.success(), "kill {name} {pid}");
        };
        signal("-STOP");
        tokio::time::sleep(pause).await;
        signal("-CONT");
    }
}

fn free_address() -> SocketAddr {
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("port").port();
    SocketAddr::from(([127, 0, 0, 1], port))
}
