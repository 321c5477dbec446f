//! Messages are stored before their RECEIPT, carry consecutive offsets and the room's epoch,
//! reach every subscriber in order, and are readable by REST newest first; admins delete them
//! for everyone and mute users.

use super::support::seoul_room;
use serde_json::{Value, json};
use weatherwise_tests::stomp::{StompClient, StompCommand, offset_of, text_of};
use weatherwise_tests::{Mode, both_modes};

async fn messages_reach_every_subscriber_in_order_and_stay_in_history(mode: Mode) {
    let (_chat, app, _admin, room, epoch) = seoul_room(mode, |_| {}).await;
    let (alice, bob) = (app.user().await, app.user().await);
    let mut listener = StompClient::connect(&app, &bob).await;
    listener.subscribe("sub-0", &room, None).await;
    let mut sender = StompClient::connect(&app, &alice).await;
    sender.subscribe("sub-0", &room, None).await;

    let mut offsets = Vec::new();
    for n in 0..5 {
        let receipt = sender.send_text(&room, &format!("안녕 {n}")).await;
        assert_eq!(receipt.command, StompCommand::Receipt, "{receipt:?}");
        offsets.push(offset_of(&receipt));
    }
    assert_eq!(offsets, vec![1, 2, 3, 4, 5], "consecutive offsets from 1");
    for client in [&mut listener, &mut sender] {
        let received = client.messages(5).await;
        for (n, frame) in received.iter().enumerate() {
            assert_eq!(offset_of(frame), n as i64 + 1);
            assert_eq!(text_of(frame), format!("안녕 {n}"));
            assert_eq!(frame.header("epoch"), Some(epoch.as_str()));
            assert_eq!(frame.header("subscription"), Some("sub-0"));
            assert_eq!(frame.header("destination"), Some(format!("/topic/rooms/{room}").as_str()));
            assert!(frame.header("message-id").is_some_and(|id| uuid::Uuid::try_parse(id).is_ok()));
        }
        client.quiet_for(std::time::Duration::from_millis(300)).await;
    }
    let all = app.get_json(&bob, &format!("/chat/rooms/{room}/messages")).await;
    let oldest: &Value = all["messages"].as_array().and_then(|m| m.last()).expect("a message");
    assert_eq!(oldest["user_id"], alice.user_id.as_str());
    assert_eq!(oldest["nickname"], alice.nickname.as_str());

    // REST history: newest first, a cursor that holds while messages arrive.
    let page = app.get_json(&bob, &format!("/chat/rooms/{room}/messages?limit=2")).await;
    let texts: Vec<&str> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().expect("text"))
        .collect();
    assert_eq!(texts, ["안녕 4", "안녕 3"]);
    sender.send_text(&room, "later").await;
    let cursor = page["next_cursor"].as_str().expect("cursor");
    let next = app.get_json(&bob, &format!("/chat/rooms/{room}/messages?limit=2&cursor={cursor}")).await;
    let texts: Vec<&str> = next["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().expect("text"))
        .collect();
    assert_eq!(texts, ["안녕 2", "안녕 1"]);

    // The room shows who is online and where to subscribe.
    let view = app.get_json(&bob, &format!("/chat/rooms/{room}")).await;
    assert_eq!(view["online"], 2, "{view}");
    assert_eq!(view["latest_offset"], 6);
    assert_eq!(view["destination"], format!("/topic/rooms/{room}"));
}

async fn text_is_normalised_and_bounded(mode: Mode) {
    let (_chat, app, _admin, room, _) = seoul_room(mode, |config| config.chat.max_text_chars = 10).await;
    let user = app.user().await;
    let mut client = StompClient::connect(&app, &user).await;
    // "가" as a jamo sequence is stored as the one precomposed character.
    let receipt = client.send_text(&room, "\u{1100}\u{1161}  ").await;
    assert_eq!(receipt.command, StompCommand::Receipt);
    let page = app.get_json(&user, &format!("/chat/rooms/{room}/messages")).await;
    assert_eq!(page["messages"][0]["text"], "가");
    let answer = client.send_text(&room, &"x".repeat(11)).await;
    client.assert_error(answer, "invalid message").await;
}

async fn admins_delete_messages_for_everyone_and_mute_users(mode: Mode) {
    let (_chat, app, admin, room, _) = seoul_room(mode, |_| {}).await;
    let (user, watcher) = (app.user().await, app.user().await);
    let mut listener = StompClient::connect(&app, &watcher).await;
    listener.subscribe("s", &room, None).await;
    let mut client = StompClient::connect(&app, &user).await;
    let receipt = client.send_text(&room, "spam").await;
    let message_id = receipt.header("message-id").expect("message-id").to_owned();
    listener.messages(1).await;

    let deleted = app.delete(&admin, &format!("/admin/chat/rooms/{room}/messages/{message_id}")).await;
    assert_eq!(deleted.status(), 204);
    let event = listener.expect_frame().await;
    assert_eq!(event.header("event"), Some("deleted"), "{event:?}");
    assert_eq!(offset_of(&event), 1);
    let page = app.get_json(&watcher, &format!("/chat/rooms/{room}/messages")).await;
    assert_eq!(page["messages"], json!([]), "gone from history");
    let again = app.delete(&admin, &format!("/admin/chat/rooms/{room}/messages/{message_id}")).await;
    assert_eq!(again.status(), 404);
    // Not an admin: refused.
    let refused = app.delete(&user, &format!("/admin/chat/rooms/{room}/messages/{message_id}")).await;
    assert_eq!(refused.status(), 403);

    let mute = |minutes: i64| json!({"minutes": minutes, "reason": "flooding"});
    let muted =
        app.put_json(&admin, &format!("/admin/chat/rooms/{room}/mutes/{}", user.user_id), &mute(10)).await;
    assert_eq!(muted.status(), 204);
    let invalid =
        app.put_json(&admin, &format!("/admin/chat/rooms/{room}/mutes/{}", user.user_id), &mute(0)).await;
    assert_eq!(invalid.status(), 422);
    let nobody = app
        .put_json(&admin, &format!("/admin/chat/rooms/{room}/mutes/{}", uuid::Uuid::now_v7()), &mute(10))
        .await;
    assert_eq!(nobody.status(), 404, "no such user");
    let answer = client.send_text(&room, "hello?").await;
    let error = client.assert_error(answer, "muted").await;
    let detail = String::from_utf8_lossy(&error.body).into_owned();
    assert!(detail.contains("muted in this room until"), "{detail}");
    // The refused send took no offset: the next message follows the deleted one's at once,
    // and is the next frame (the deletion was announced once, not again from the bus).
    let mut other = StompClient::connect(&app, &watcher).await;
    let receipt = other.send_text(&room, "still here").await;
    assert_eq!(receipt.header("offset"), Some("2"), "{receipt:?}");
    let next = listener.messages(1).await;
    assert_eq!(offset_of(&next[0]), 2, "{next:?}");

    let audit = app.get_json(&admin, "/admin/audit").await;
    let actions: Vec<&str> =
        audit["entries"].as_array().expect("entries").iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"chat.message.delete") && actions.contains(&"chat.mute"), "{actions:?}");
}

both_modes!(
    messages_reach_every_subscriber_in_order_and_stay_in_history,
    text_is_normalised_and_bounded,
    admins_delete_messages_for_everyone_and_mute_users,
);
