//! The baseline of the HTTP benchmarks: a bare axum route on the same runtime settings as the
//! product, with none of its middleware, storage or authentication.
//!
//! `cargo run --release --example hello_axum -- 127.0.0.1:9999`

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9999".into());
    let app = Router::new().route("/", get(|| async { "hello" }));
    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
