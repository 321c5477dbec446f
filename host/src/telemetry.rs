//! Structured logs through `tracing`: text for people, JSON for collectors.

use crate::config::LogConfig;
use tracing_subscriber::EnvFilter;

pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.filter));
    // Colour only for a person at a terminal; files and collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    // A second init (tests start several apps in one process) keeps the first subscriber.
    let _ = if config.format == "json" { builder.json().try_init() } else { builder.try_init() };
}
