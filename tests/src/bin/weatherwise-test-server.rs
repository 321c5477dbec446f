//! The `weatherwise` command line for tests that run the server as a process of its own (to
//! kill it with SIGKILL, or to measure its memory alone). Cargo builds only a package's own
//! binaries before its tests, so this package builds the host's `main.rs` itself, unchanged.

include!("../../../host/src/main.rs");
