//! A Kafka-protocol broker (tansu, installed by the test command) of a test's own, on a port
//! of its own, so the test can make it unreachable without touching the shared one.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::process::{Child, Command};

pub struct PrivateBroker {
    pub address: SocketAddr,
    child: Child,
}

impl PrivateBroker {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("port")
            .port();
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = format!("tcp://{address}");
        let child = Command::new("tansu")
            .args(["broker", "--listener-url", &listener, "--advertised-listener-url", &listener])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("tansu runs (the test command installs it)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(address).await.is_ok() {
                return Self { address, child };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the private broker did not start on {address}");
    }

    /// The bus URL of this broker.
    pub fn url(&self) -> String {
        format!("kafka://{}", self.address)
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
