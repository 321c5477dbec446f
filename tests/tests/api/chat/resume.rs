//! A subscription that says where it left off gets exactly what it missed, then live messages,
//! with no gap and no duplicate, also after a restart of its instance; when that cannot be
//! done it is told so (`resume:reset`) and given the latest messages.

use super::support::{ChatDeployment, room_of, seoul_room};
use weatherwise_tests::stomp::{StompClient, StompCommand, offset_of, text_of};
use weatherwise_tests::{Mode, both_modes};

async fn resuming_gets_exactly_what_was_missed(mode: Mode) {
    let (_chat, app, _admin, room, epoch) = seoul_room(mode, |_| {}).await;
    let (reader, writer) = (app.user().await, app.user().await);
    let mut sender = StompClient::connect(&app, &writer).await;
    let mut client = StompClient::connect(&app, &reader).await;
    client.subscribe("s", &room, None).await;
    for n in 1..=3 {
        sender.send_text(&room, &format!("m{n}")).await;
    }
    let seen: Vec<i64> = client.messages(3).await.iter().map(offset_of).collect();
    assert_eq!(seen, [1, 2, 3]);
    drop(client);

    for n in 4..=6 {
        sender.send_text(&room, &format!("m{n}")).await;
    }
    let mut client = StompClient::connect(&app, &reader).await;
    let receipt = client.subscribe("s", &room, Some((3, &epoch))).await;
    assert_eq!(receipt.header("resume"), Some("ok"), "{receipt:?}");
    let missed = client.messages(3).await;
    assert_eq!(missed.iter().map(offset_of).collect::<Vec<_>>(), [4, 5, 6]);
    assert_eq!(missed[0].header("resume"), Some("ok"), "the first frame says the resume held");
    assert_eq!(missed[1].header("resume"), None);
    sender.send_text(&room, "m7").await;
    let live = client.messages(1).await;
    assert_eq!((offset_of(&live[0]), text_of(&live[0])), (7, "m7".to_owned()));
    client.quiet_for(std::time::Duration::from_millis(300)).await;

    // Resuming at the head: nothing to catch up, live from there.
    let mut current = StompClient::connect(&app, &reader).await;
    current.subscribe("s", &room, Some((7, &epoch))).await;
    sender.send_text(&room, "m8").await;
    let next = current.messages(1).await;
    assert_eq!(offset_of(&next[0]), 8);
    assert_eq!(next[0].header("resume"), Some("ok"));

    // Another epoch: not this history. The latest messages, and the signal to reload.
    let mut stranger = StompClient::connect(&app, &reader).await;
    let receipt = stranger.subscribe("s", &room, Some((3, "another-epoch"))).await;
    assert_eq!(receipt.header("resume"), Some("reset"));
    let latest = stranger.messages(8).await;
    assert_eq!(latest.iter().map(offset_of).collect::<Vec<_>>(), (1..=8).collect::<Vec<_>>());
    assert_eq!(latest[0].header("resume"), Some("reset"));

    // Without an offset: the latest messages, then live ones.
    let mut joiner = StompClient::connect(&app, &reader).await;
    let receipt = joiner.subscribe("s", &room, None).await;
    assert_eq!(receipt.header("resume"), None);
    assert_eq!(
        joiner.messages(8).await.iter().map(offset_of).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    sender.send_text(&room, "m9").await;
    assert_eq!(offset_of(&joiner.messages(1).await[0]), 9);
}

async fn a_gap_beyond_what_is_kept_is_a_reset(mode: Mode) {
    let (_chat, app, _admin, room, epoch) = seoul_room(mode, |config| {
        config.chat.resume_max_messages = 5;
        config.chat.recent_messages = 4;
    })
    .await;
    let user = app.user().await;
    let mut sender = StompClient::connect(&app, &user).await;
    for n in 1..=12 {
        assert_eq!(sender.send_text(&room, &format!("m{n}")).await.command, StompCommand::Receipt);
    }
    let mut client = StompClient::connect(&app, &user).await;
    let receipt = client.subscribe("s", &room, Some((2, &epoch))).await;
    assert_eq!(receipt.header("resume"), Some("reset"), "10 missed, 5 kept");
    let latest = client.messages(4).await;
    assert_eq!(latest.iter().map(offset_of).collect::<Vec<_>>(), [9, 10, 11, 12]);
    // An offset the room never gave out is no resume either.
    let mut future = StompClient::connect(&app, &user).await;
    let receipt = future.subscribe("s", &room, Some((99, &epoch))).await;
    assert_eq!(receipt.header("resume"), Some("reset"));
    // Within the bound, it resumes.
    let mut near = StompClient::connect(&app, &user).await;
    let receipt = near.subscribe("s", &room, Some((8, &epoch))).await;
    assert_eq!(receipt.header("resume"), Some("ok"));
    assert_eq!(near.messages(4).await.iter().map(offset_of).collect::<Vec<_>>(), [9, 10, 11, 12]);
}

async fn resuming_after_the_instance_restarts(mode: Mode) {
    let chat = ChatDeployment::new(mode, |_| {}).await;
    let mut app = chat.deployment.start_process().await;
    let admin = chat.deployment.admin(&app).await;
    let room = room_of(&app, &admin, "서울특별시").await;
    let (room, epoch) =
        (room["id"].as_str().expect("id").to_owned(), room["epoch"].as_str().expect("epoch").to_owned());
    let user = app.new_user().await;
    let mut client = StompClient::connect(&app, &user).await;
    client.subscribe("s", &room, None).await;
    let mut sender = StompClient::connect(&app, &user).await;
    for n in 1..=3 {
        sender.send_text(&room, &format!("m{n}")).await;
    }
    assert_eq!(client.messages(3).await.iter().map(offset_of).collect::<Vec<_>>(), [1, 2, 3]);
    // SIGKILL: no goodbye to anyone.
    app.kill().await;
    assert!(client.closes_within(std::time::Duration::from_secs(10)).await);

    let app = chat.deployment.start_process().await;
    let mut sender = StompClient::connect(&app, &user).await;
    for n in 4..=5 {
        sender.send_text(&room, &format!("m{n}")).await;
    }
    let mut client = StompClient::connect(&app, &user).await;
    let receipt = client.subscribe("s", &room, Some((3, &epoch))).await;
    assert_eq!(receipt.header("resume"), Some("ok"));
    let missed = client.messages(2).await;
    assert_eq!(missed.iter().map(text_of).collect::<Vec<_>>(), ["m4", "m5"]);
    assert_eq!(missed.iter().map(offset_of).collect::<Vec<_>>(), [4, 5]);
}

both_modes!(
    resuming_gets_exactly_what_was_missed,
    a_gap_beyond_what_is_kept_is_a_reset,
    resuming_after_the_instance_restarts,
);
