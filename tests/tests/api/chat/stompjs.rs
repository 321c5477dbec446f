//! The stock client, unmodified: @stomp/stompjs 7 in Node (installed from npm by the test
//! command) connects, subscribes, sends with receipts, receives, resumes from an offset, and
//! is refused with an ERROR frame when its token is not valid; its browser bundle does the same
//! in headless Chromium, from a page of another origin the server allows.

use super::support::seoul_room;
use serde_json::Value;
use std::path::PathBuf;
use weatherwise_tests::stomp::{StompClient, StompCommand};
use weatherwise_tests::{Mode, TestApp, both_modes};

/// Runs `chat.mjs scenario` with `env` and returns the JSON line it printed.
async fn stompjs(app: &TestApp, scenario: &str, env: &[(&str, &str)]) -> Value {
    node(app, &["chat.mjs", scenario], env).await
}

/// Runs a script of `tests/stompjs` with `args` and `env` (and `URL`, the server's `/ws`).
async fn node(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stompjs");
    let output = tokio::process::Command::new("node")
        .current_dir(&dir)
        .args(args)
        .env("URL", format!("ws://{}/ws", app.address))
        .envs(env.iter().copied())
        .output()
        .await
        .expect("node runs (the test command installs it and the client's packages)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node {args:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("one JSON line")
}

async fn the_stock_client_chats_and_resumes(mode: Mode) {
    let (_chat, app, _admin, room, epoch) = seoul_room(mode, |_| {}).await;
    let user = app.user().await;
    let chat = stompjs(&app, "chat", &[("TOKEN", &user.access), ("ROOM", &room), ("COUNT", "3")]).await;
    assert_eq!(chat["version"], "1.2", "{chat}");
    assert_eq!(chat["heartBeat"], "10000,10000");
    let offsets: Vec<i64> = chat["received"]
        .as_array()
        .expect("received")
        .iter()
        .map(|m| m["offset"].as_i64().expect("offset"))
        .collect();
    assert_eq!(offsets, [1, 2, 3], "{chat}");
    assert_eq!(chat["received"][0]["text"], "stompjs 0 안녕");
    assert_eq!(chat["received"][0]["epoch"], epoch.as_str());
    let mut receipts: Vec<i64> = chat["receipts"]
        .as_array()
        .expect("receipts")
        .iter()
        .map(|r| r["offset"].as_i64().expect("offset"))
        .collect();
    receipts.sort_unstable();
    assert_eq!(receipts, [1, 2, 3], "every SEND acknowledged after it was stored: {chat}");

    // Two more while it is away; it resumes from offset 3 and gets exactly those.
    let mut other = StompClient::connect(&app, &app.user().await).await;
    for text in ["four", "five"] {
        assert_eq!(other.send_text(&room, text).await.command, StompCommand::Receipt);
    }
    let resumed = stompjs(
        &app,
        "resume",
        &[("TOKEN", &user.access), ("ROOM", &room), ("COUNT", "2"), ("OFFSET", "3"), ("EPOCH", &epoch)],
    )
    .await;
    let texts: Vec<&str> = resumed["received"]
        .as_array()
        .expect("received")
        .iter()
        .map(|m| m["text"].as_str().expect("text"))
        .collect();
    assert_eq!(texts, ["four", "five"], "{resumed}");
    assert_eq!(resumed["received"][0]["resume"], "ok");

    let refused = stompjs(&app, "unauthorized", &[("TOKEN", "forged"), ("ROOM", &room)]).await;
    assert_eq!(refused["error"], "unauthorized", "{refused}");
}

async fn the_browser_bundle_chats_from_an_allowed_origin(mode: Mode) {
    let page_port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("port").port();
    let origin = format!("http://127.0.0.1:{page_port}");
    let (_chat, app, _admin, room, _) =
        seoul_room(mode, |config| config.chat.allowed_origins = vec![origin.clone()]).await;
    let user = app.user().await;
    let port = page_port.to_string();
    let seen = node(
        &app,
        &["browser.mjs"],
        &[("TOKEN", &user.access), ("ROOM", &room), ("COUNT", "3"), ("PAGE_PORT", &port)],
    )
    .await;
    assert_eq!(seen["version"], "1.2", "{seen}");
    let offsets: Vec<i64> = seen["received"]
        .as_array()
        .expect("received")
        .iter()
        .map(|m| m["offset"].as_i64().expect("offset"))
        .collect();
    assert_eq!(offsets, [1, 2, 3], "{seen}");
    assert_eq!(seen["received"][2]["text"], "browser 2");
    let mut receipts: Vec<i64> =
        seen["receipts"].as_array().expect("receipts").iter().map(|r| r.as_i64().expect("offset")).collect();
    receipts.sort_unstable();
    assert_eq!(receipts, [1, 2, 3], "{seen}");
}

both_modes!(the_stock_client_chats_and_resumes, the_browser_bundle_chats_from_an_allowed_origin);
