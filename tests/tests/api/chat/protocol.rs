//! The STOMP session's rules: authentication at CONNECT, destinations, frame bounds, the
//! upgrade's origin check, heart-beats, the send rate, slow consumers, and sessions that end.

use super::support::seoul_room;
use futures::future::join_all;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use weatherwise::config::RateLimit;
use weatherwise_tests::stomp::{PROMPTLY, StompClient, StompCommand, StompFrame};
use weatherwise_tests::{Mode, both_modes};

fn connect_frame(token: Option<&str>) -> StompFrame {
    let frame = StompFrame::new(StompCommand::Connect).with_header("accept-version", "1.2,1.1,1.0");
    match token {
        Some(token) => frame.with_header("Authorization", format!("Bearer {token}")),
        None => frame,
    }
}

async fn connect_refuses_what_is_not_a_live_session(mode: Mode) {
    let (_chat, app, _admin, room, _) = seoul_room(mode, |_| {}).await;
    let mut anonymous = StompClient::open(&app).await;
    anonymous.send_frame(connect_frame(None)).await;
    anonymous.expect_error("unauthorized").await;

    let mut forged = StompClient::open(&app).await;
    forged.send_frame(connect_frame(Some("not.a.token"))).await;
    forged.expect_error("unauthorized").await;

    let user = app.user().await;
    let mut early = StompClient::open(&app).await;
    early
        .send_frame(
            StompFrame::new(StompCommand::Send).with_header("destination", format!("/topic/rooms/{room}")),
        )
        .await;
    early.expect_error("not connected").await;

    // A CONNECT split over three WebSocket messages, with a heart-beat before it, is one frame.
    let mut split = StompClient::open(&app).await;
    let bytes = format!("\nCONNECT\naccept-version:1.2\nAuthorization:Bearer {}\n\n\0", user.access);
    let (a, rest) = bytes.split_at(5);
    let (b, c) = rest.split_at(20);
    for part in [a, b, c] {
        split.send_raw(Message::Text(part.to_owned().into())).await;
    }
    assert_eq!(split.expect_frame().await.command, StompCommand::Connected);
}

async fn destinations_and_frame_bounds_are_enforced(mode: Mode) {
    let (_chat, app, _admin, room, _) = seoul_room(mode, |_| {}).await;
    let user = app.user().await;
    let mut client = StompClient::connect(&app, &user).await;
    client
        .send_frame(
            StompFrame::new(StompCommand::Subscribe)
                .with_header("id", "s")
                .with_header("destination", "/topic/rooms/00000000-0000-0000-0000-000000000000"),
        )
        .await;
    client.expect_error("no such destination").await;
    // A SEND to a room id nobody gave out: refused, and nothing is stored anywhere.
    let mut client = StompClient::connect(&app, &user).await;
    let answer = client.send_text(&uuid::Uuid::now_v7().to_string(), "anyone?").await;
    client.assert_error(answer, "no such destination").await;
    let page = app.get_json(&user, &format!("/chat/rooms/{room}/messages")).await;
    assert_eq!(page["messages"], serde_json::json!([]), "{page}");

    let mut client = StompClient::connect(&app, &user).await;
    client.send_frame(StompFrame::new(StompCommand::Subscribe).with_header("destination", "/queue/x")).await;
    client.expect_error("missing id").await;

    // Larger than the frame limit (16 KiB): refused before it is buffered.
    let mut client = StompClient::connect(&app, &user).await;
    let huge = format!("SEND\ndestination:/topic/rooms/{room}\n\n{}\0", "x".repeat(40 * 1024));
    client.send_raw(Message::Text(huge.into())).await;
    assert!(client.closes_within(PROMPTLY).await, "an oversized frame ends the connection");

    // Two frames packed in one WebSocket message are both handled.
    let mut client = StompClient::connect(&app, &user).await;
    let packed = format!(
        "SEND\ndestination:/topic/rooms/{room}\nreceipt:a\n\none\0\nSEND\ndestination:/topic/rooms/{room}\nreceipt:b\n\ntwo\0"
    );
    client.send_raw(Message::Text(packed.into())).await;
    let (first, second) = (client.expect_frame().await, client.expect_frame().await);
    assert_eq!((first.header("receipt-id"), second.header("receipt-id")), (Some("a"), Some("b")));
}

async fn browser_origins_must_be_allowed(mode: Mode) {
    let (_chat, app, _admin, _room, _) =
        seoul_room(mode, |config| config.chat.allowed_origins = vec!["https://app.example".into()]).await;
    let refused = StompClient::open_with(&app, &[("Origin", "https://evil.example")]).await;
    assert!(refused.is_err_and(|err| err.contains("403")), "a foreign origin is refused");
    StompClient::open_with(&app, &[("Origin", "https://app.example")]).await.expect("an allowed origin");
    let own = format!("http://{}", app.address);
    StompClient::open_with(&app, &[("Origin", own.as_str())]).await.expect("the server's own origin");
}

async fn a_silent_client_misses_its_heart_beats(mode: Mode) {
    let (_chat, app, _admin, _room, _) = seoul_room(mode, |config| config.chat.heart_beat_ms = 1000).await;
    let user = app.user().await;
    let mut client = StompClient::connect_with(&app, &user.access, "1000,1000").await;
    // The server beats within its interval (a bare EOL the client's reader skips) and, hearing
    // nothing for two intervals, gives up.
    let started = tokio::time::Instant::now();
    let error = client.expect_error("heart-beat timeout").await;
    assert!(started.elapsed() >= Duration::from_millis(1500), "{error:?} after {:?}", started.elapsed());
}

async fn sends_are_rate_limited_per_user(mode: Mode) {
    let (_chat, app, _admin, room, _) =
        seoul_room(mode, |config| config.chat.sends_per_user = RateLimit { limit: 3, window_secs: 60 }).await;
    let user = app.user().await;
    let mut client = StompClient::connect(&app, &user).await;
    for n in 0..3 {
        assert_eq!(client.send_text(&room, &format!("m{n}")).await.command, StompCommand::Receipt);
    }
    let answer = client.send_text(&room, "one too many").await;
    client.assert_error(answer, "rate limited").await;
    // Per user: another connection of the same user is limited too, another user is not.
    let mut again = StompClient::connect(&app, &user).await;
    let answer = again.send_text(&room, "still?").await;
    again.assert_error(answer, "rate limited").await;
    let mut other = StompClient::connect(&app, &app.user().await).await;
    assert_eq!(other.send_text(&room, "fine").await.command, StompCommand::Receipt);
}

async fn a_slow_consumer_is_disconnected_not_buffered(mode: Mode) {
    let (_chat, app, _admin, room, epoch) = seoul_room(mode, |config| {
        config.chat.queue_frames = 16;
        config.chat.max_text_chars = 1000;
        config.chat.resume_max_messages = 4000;
    })
    .await;
    let reader = app.user().await;
    let mut slow = StompClient::connect_slow_reader(&app, &reader).await;
    slow.subscribe("s", &room, None).await;
    // 3 KB a message (Korean is 3 bytes a character), 4 senders, 1,000 messages each: 12 MB,
    // far more than the socket buffers hold, arriving far faster than the reader reads.
    let text = "가".repeat(1000);
    let senders = app.users(4).await;
    let flood = join_all(senders.iter().map(|sender| {
        let (app, room, text) = (&app, &room, &text);
        async move {
            let mut client = StompClient::connect(app, sender).await;
            for _ in 0..1000 {
                let receipt = client.send_text(room, text).await;
                assert_eq!(receipt.command, StompCommand::Receipt, "{receipt:?}");
            }
        }
    }));
    // Reading one message every 8 ms meanwhile (slower than the senders, yet fast enough to
    // drain what the kernel buffered before the server's write deadline): what was queued,
    // then the ERROR naming why, then the close.
    let reading = async {
        let mut last_offset = 0;
        loop {
            let frame = slow.expect_frame().await;
            if frame.command == StompCommand::Error {
                return (frame, last_offset);
            }
            last_offset = weatherwise_tests::stomp::offset_of(&frame);
            tokio::time::sleep(Duration::from_millis(8)).await;
        }
    };
    let (_, (error, last_offset)) = tokio::join!(flood, reading);
    assert_eq!(error.header("message"), Some("slow consumer"), "{error:?}");
    assert!(slow.closes_within(PROMPTLY).await);
    assert!(last_offset < 4000, "cut off before the end ({last_offset})");
    // It resumes from its last offset and gets the rest, in order.
    let mut resumed = StompClient::connect(&app, &reader).await;
    resumed.subscribe("s", &room, Some((last_offset, &epoch))).await;
    let rest = resumed.messages((4000 - last_offset) as usize).await;
    let offsets: Vec<i64> = rest.iter().map(weatherwise_tests::stomp::offset_of).collect();
    assert_eq!(offsets, ((last_offset + 1)..=4000).collect::<Vec<_>>());
}

async fn ending_the_session_closes_the_socket(mode: Mode) {
    let (_chat, app, _admin, room, _) = seoul_room(mode, |_| {}).await;
    let user = app.new_user().await;
    let mut client = StompClient::connect(&app, &user).await;
    client.subscribe("s", &room, None).await;
    let logout =
        app.http.post(app.api("/auth/logout")).bearer_auth(&user.access).send().await.expect("logout");
    assert_eq!(logout.status(), 204);
    client.expect_error("session ended").await;
    // And the token no longer connects.
    let mut again = StompClient::open(&app).await;
    again.send_frame(connect_frame(Some(&user.access))).await;
    again.expect_error("unauthorized").await;
}

both_modes!(
    connect_refuses_what_is_not_a_live_session,
    destinations_and_frame_bounds_are_enforced,
    browser_origins_must_be_allowed,
    a_silent_client_misses_its_heart_beats,
    sends_are_rate_limited_per_user,
    a_slow_consumer_is_disconnected_not_buffered,
    ending_the_session_closes_the_socket,
);
