//! A Redis server of a test's own (the machine's `redis-server`), on a port of its own, so the
//! test can kill and restart it without touching the shared one. It keeps nothing on disk: a
//! restart loses every key, as a failover that dropped acknowledged writes would.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::process::{Child, Command};

pub struct PrivateRedis {
    pub address: SocketAddr,
    child: Child,
}

impl PrivateRedis {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("port")
            .port();
        Self::launch(SocketAddr::from(([127, 0, 0, 1], port))).await
    }

    async fn launch(address: SocketAddr) -> Self {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &address.port().to_string()])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server runs (the machine's Redis package provides it)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(address).await.is_ok() {
                return Self { address, child };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the private Redis did not start on {address}");
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.address)
    }

    /// Kills the server (SIGKILL), leaves it down for `down`, and starts an empty one on the
    /// same address.
    pub async fn kill_and_restart_after(&mut self, down: Duration) {
        self.child.kill().await.expect("SIGKILL redis-server");
        tokio::time::sleep(down).await;
        *self = Self::launch(self.address).await;
    }
}
