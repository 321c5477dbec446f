//! Two instances of one scaled deployment over the real broker: a message sent on either
//! reaches subscribers on both, in order and once; when an instance dies its clients reconnect
//! to the other and resume without a gap while messages keep coming; a broker that stops
//! answering or restarts mid-stream loses or repeats nothing; exactly one instance polls the
//! feed, and another takes over when it dies.

use super::support::{ChatDeployment, room_of};
use std::time::Duration;
use weatherwise_tests::broker::PrivateBroker;
use weatherwise_tests::stomp::{StompClient, StompCommand, offset_of};
use weatherwise_tests::{Mode, TestApp, metric};

async fn room(chat: &ChatDeployment, app: &TestApp) -> (String, String) {
    let admin = chat.deployment.admin(app).await;
    let room = room_of(app, &admin, "서울특별시").await;
    (room["id"].as_str().expect("id").to_owned(), room["epoch"].as_str().expect("epoch").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_messages_cross_instances_and_survive_one_dying() {
    let chat = ChatDeployment::new(Mode::Scaled, |_| {}).await;
    let mut first = chat.deployment.start_process().await;
    let second = chat.deployment.start_process().await;
    let (room, epoch) = room(&chat, &first).await;
    let (reader, writer) = (first.new_user().await, first.new_user().await);

    let mut on_first = StompClient::connect(&first, &reader).await;
    on_first.subscribe("s", &room, None).await;
    let mut on_second = StompClient::connect(&second, &reader).await;
    on_second.subscribe("s", &room, None).await;
    let mut sender_first = StompClient::connect(&first, &writer).await;
    let mut sender_second = StompClient::connect(&second, &writer).await;
    for n in 0..10 {
        let sender = if n % 2 == 0 { &mut sender_first } else { &mut sender_second };
        assert_eq!(sender.send_text(&room, &format!("m{n}")).await.command, StompCommand::Receipt);
    }
    for client in [&mut on_first, &mut on_second] {
        let offsets: Vec<i64> = client.messages(10).await.iter().map(offset_of).collect();
        assert_eq!(offsets, (1..=10).collect::<Vec<_>>(), "every message, in order, once");
        client.quiet_for(Duration::from_millis(500)).await;
    }

    // The first instance dies while the second keeps taking messages; the first's subscriber
    // comes back on the second and resumes from its last offset.
    let sending = {
        let room = room.clone();
        tokio::spawn(async move {
            for n in 10..40 {
                let receipt = sender_second.send_text(&room, &format!("m{n}")).await;
                assert_eq!(receipt.command, StompCommand::Receipt, "{receipt:?}");
            }
        })
    };
    first.kill().await;
    assert!(on_first.closes_within(Duration::from_secs(10)).await);
    let mut back = StompClient::connect(&second, &reader).await;
    let receipt = back.subscribe("s", &room, Some((10, &epoch))).await;
    assert_eq!(receipt.header("resume"), Some("ok"));
    sending.await.expect("the sender");
    let offsets: Vec<i64> = back.messages(30).await.iter().map(offset_of).collect();
    assert_eq!(offsets, (11..=40).collect::<Vec<_>>());
    let offsets: Vec<i64> = on_second.messages(30).await.iter().map(offset_of).collect();
    assert_eq!(offsets, (11..=40).collect::<Vec<_>>());
    back.quiet_for(Duration::from_millis(500)).await;
}

/// What happens to the broker in the middle of a stream of messages.
enum BrokerFault {
    /// It stops answering for a while (SIGSTOP, SIGCONT), as behind a failed network.
    Unreachable,
    /// It is killed (SIGKILL) and started again over its log.
    Restarted,
}

/// A sender on one instance and a subscriber on the other, over a broker of the test's own that
/// suffers `fault` mid-stream: sends go on being stored and acknowledged, and the subscriber
/// receives each message once, in order.
async fn no_message_is_lost_or_repeated_when_the_broker(fault: BrokerFault) {
    let mut broker = match fault {
        BrokerFault::Unreachable => PrivateBroker::start().await,
        BrokerFault::Restarted => PrivateBroker::start_persistent().await,
    };
    let url = broker.url();
    let chat = ChatDeployment::new(Mode::Scaled, |config| config.bus.url = url).await;
    let first = chat.deployment.start_process().await;
    let second = chat.deployment.start_process().await;
    let (room, _) = room(&chat, &first).await;
    let (reader, writer) = (first.new_user().await, first.new_user().await);
    let mut subscriber = StompClient::connect(&second, &reader).await;
    subscriber.subscribe("s", &room, None).await;

    const TOTAL: i64 = 150;
    let sending = {
        let (room, mut sender) = (room.clone(), StompClient::connect(&first, &writer).await);
        tokio::spawn(async move {
            for n in 1..=TOTAL {
                let receipt = sender.send_text(&room, &format!("m{n}")).await;
                assert_eq!(receipt.command, StompCommand::Receipt, "{receipt:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    match fault {
        BrokerFault::Unreachable => broker.freeze_for(Duration::from_secs(3)).await,
        BrokerFault::Restarted => broker.kill_and_restart_after(Duration::from_secs(2)).await,
    }
    sending.await.expect("every message was stored and acknowledged");

    let offsets: Vec<i64> = subscriber.messages(TOTAL as usize).await.iter().map(offset_of).collect();
    assert_eq!(offsets, (1..=TOTAL).collect::<Vec<_>>(), "each message once, in order");
    subscriber.quiet_for(Duration::from_secs(2)).await;
    // Both instances outlived the fault.
    for instance in [&first, &second] {
        assert_eq!(instance.http.get(instance.url("/healthz")).send().await.expect("healthz").status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_no_message_is_lost_or_repeated_while_the_broker_is_unreachable() {
    no_message_is_lost_or_repeated_when_the_broker(BrokerFault::Unreachable).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_no_message_is_lost_or_repeated_while_the_broker_restarts() {
    no_message_is_lost_or_repeated_when_the_broker(BrokerFault::Restarted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_one_instance_polls_the_feed_and_another_takes_over() {
    let chat = ChatDeployment::new(Mode::Scaled, |config| {
        config.alerts.poll_interval_secs = 1;
        config.alerts.lease_secs = 3;
    })
    .await;
    let first = chat.deployment.start_process().await;
    let second = chat.deployment.start_process().await;
    let polls = |text: String| metric(&text, "alerts_polls_total", "outcome=\"ok\"").unwrap_or(0.0);
    // Over a few poll intervals, exactly one of the two polls.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (a, b) = (polls(first.metrics().await), polls(second.metrics().await));
    assert!((a > 0.0) != (b > 0.0), "exactly one instance polls: {a} and {b}");
    let (mut holder, other, other_before) = if a > 0.0 { (first, second, b) } else { (second, first, a) };
    // The holder dies; within a lease term the other takes over.
    holder.kill().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if polls(other.metrics().await) > other_before {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "nobody took the lease over");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
