//! Hundreds of clients in one room at once, each sending while all of them read: every message
//! is stored once under its own offset, and every subscriber receives every message exactly
//! once, in offset order. In the scaled mode the clients are split over two instances, so half
//! of each subscriber's messages crossed the broker.

use super::support::{ChatDeployment, room_of};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::Barrier;
use weatherwise_tests::stomp::{StompClient, StompCommand, offset_of, text_of};
use weatherwise_tests::{Mode, TestApp, both_modes};

const CLIENTS: usize = 200;
const SENDS_EACH: usize = 3;

async fn hundreds_of_clients_send_at_once_and_each_receives_everything_once_in_order(mode: Mode) {
    // Every subscriber's queue holds the room's whole traffic: the clients of this test share
    // two cores with the server and may fall behind for a while, which is not what it is about
    // (a slow consumer being cut off is tested on its own).
    let chat = ChatDeployment::new(mode, |config| config.chat.queue_frames = 2 * CLIENTS * SENDS_EACH).await;
    let instances: Vec<Arc<TestApp>> = match mode {
        Mode::Embedded => vec![Arc::new(chat.deployment.start().await)],
        Mode::Scaled => {
            vec![
                Arc::new(chat.deployment.start_process().await),
                Arc::new(chat.deployment.start_process().await),
            ]
        }
    };
    let admin = chat.deployment.admin(&instances[0]).await;
    let room = room_of(&instances[0], &admin, "서울특별시").await["id"].as_str().expect("id").to_owned();
    let users = chat.deployment.stored_users(CLIENTS).await;

    // Everyone subscribes first; then all send at the same moment and read until they have seen
    // the room's whole traffic.
    let subscribed = Arc::new(Barrier::new(CLIENTS));
    let mut clients = Vec::with_capacity(CLIENTS);
    for (n, user) in users.into_iter().enumerate() {
        let (app, room, subscribed) =
            (instances[n % instances.len()].clone(), room.clone(), subscribed.clone());
        clients.push(tokio::spawn(async move {
            let mut client = StompClient::connect(&app, &user).await;
            client.subscribe("s", &room, None).await;
            subscribed.wait().await;
            let mut stored = Vec::with_capacity(SENDS_EACH);
            for k in 0..SENDS_EACH {
                let receipt = client.send_text(&room, &format!("{n}/{k}")).await;
                assert_eq!(receipt.command, StompCommand::Receipt, "{receipt:?}");
                stored.push(offset_of(&receipt));
            }
            let received = client.messages(CLIENTS * SENDS_EACH).await;
            client.quiet_for(std::time::Duration::from_millis(300)).await;
            let received: Vec<(i64, String)> =
                received.iter().map(|frame| (offset_of(frame), text_of(frame))).collect();
            (stored, received)
        }));
    }

    let total = (CLIENTS * SENDS_EACH) as i64;
    let mut stored = Vec::new();
    let mut first_view: Option<Vec<(i64, String)>> = None;
    for client in clients {
        let (offsets, received) = client.await.expect("a client");
        stored.extend(offsets);
        let offsets: Vec<i64> = received.iter().map(|(offset, _)| *offset).collect();
        assert_eq!(offsets, (1..=total).collect::<Vec<_>>(), "every message once, in order");
        // Every subscriber sees the same text under the same offset.
        match &first_view {
            None => first_view = Some(received),
            Some(view) => assert_eq!(view, &received, "subscribers disagree"),
        }
    }
    stored.sort_unstable();
    assert_eq!(stored, (1..=total).collect::<Vec<_>>(), "one offset per message, none shared");
    let texts: HashSet<String> = first_view.expect("clients").into_iter().map(|(_, text)| text).collect();
    let sent: HashSet<String> =
        (0..CLIENTS).flat_map(|n| (0..SENDS_EACH).map(move |k| format!("{n}/{k}"))).collect();
    assert_eq!(texts, sent, "what was received is what was sent");
}

both_modes!(hundreds_of_clients_send_at_once_and_each_receives_everything_once_in_order);
