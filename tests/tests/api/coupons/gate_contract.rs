//! The `CouponGate` contract, run unchanged against the in-process gate and the Redis gate.

use futures::future::join_all;
use std::sync::Arc;
use weatherwise::coupons::gate::{Admission, CouponGate, DayKey, GateDay};
use weatherwise::coupons::memory_gate::MemoryGate;
use weatherwise::coupons::redis_gate::RedisGate;
use weatherwise_tests::redis_url;

fn day(event: &str) -> DayKey {
    DayKey { event_id: event.into(), day: "2026-12-01".into() }
}

fn state(epoch: &str, remaining: i64, users: &[&str]) -> GateDay {
    GateDay { epoch: epoch.into(), remaining, users: users.iter().map(|u| u.to_string()).collect() }
}

async fn gate_contract(gate: Arc<dyn CouponGate>) {
    let key = day("e1");
    // A gate that holds nothing admits nothing.
    assert_eq!(gate.read(&key).await.expect("read"), None);
    assert_eq!(gate.admit(&key, "any", "u1").await.expect("admit"), Admission::Stale);

    gate.rebuild(&key, &state("one", 2, &["u0"])).await.expect("rebuild");
    assert_eq!(gate.read(&key).await.expect("read"), Some(state("one", 2, &["u0"])));
    assert_eq!(gate.admit(&key, "two", "u1").await.expect("admit"), Admission::Stale, "another epoch");
    assert_eq!(gate.admit(&key, "one", "u0").await.expect("admit"), Admission::AlreadyHolds);
    assert_eq!(gate.admit(&key, "one", "u1").await.expect("admit"), Admission::Admitted);
    assert_eq!(gate.admit(&key, "one", "u1").await.expect("admit"), Admission::AlreadyHolds);
    assert_eq!(gate.admit(&key, "one", "u2").await.expect("admit"), Admission::Admitted);
    assert_eq!(gate.admit(&key, "one", "u3").await.expect("admit"), Admission::SoldOut);
    assert_eq!(gate.read(&key).await.expect("read"), Some(state("one", 0, &["u0", "u1", "u2"])));

    // Given back: a unit, and the user unless they still hold one; never under another epoch.
    gate.give_back(&key, "one", "u2", false).await.expect("give back");
    gate.give_back(&key, "old", "u1", false).await.expect("give back");
    assert_eq!(gate.read(&key).await.expect("read"), Some(state("one", 1, &["u0", "u1"])));
    gate.give_back(&key, "one", "u1", true).await.expect("give back");
    assert_eq!(gate.read(&key).await.expect("read"), Some(state("one", 2, &["u0", "u1"])));
    assert_eq!(gate.admit(&key, "one", "u1").await.expect("admit"), Admission::AlreadyHolds);

    // Days are apart; a rebuild replaces a day whole.
    let other = day("e2");
    assert_eq!(gate.admit(&other, "one", "u9").await.expect("admit"), Admission::Stale);
    gate.rebuild(&key, &state("three", 1, &[])).await.expect("rebuild");
    assert_eq!(gate.admit(&key, "one", "u9").await.expect("admit"), Admission::Stale);
    assert_eq!(gate.admit(&key, "three", "u0").await.expect("admit"), Admission::Admitted);

    // At once: 200 users for 10 units admit exactly 10; one user racing itself, once.
    let crowded = day("e3");
    gate.rebuild(&crowded, &state("c", 10, &[])).await.expect("rebuild");
    let admitted = join_all((0..200).map(|n| {
        let (gate, crowded) = (gate.clone(), crowded.clone());
        async move { gate.admit(&crowded, "c", &format!("user-{n}")).await.expect("admit") }
    }))
    .await;
    assert_eq!(admitted.iter().filter(|a| **a == Admission::Admitted).count(), 10);
    assert_eq!(admitted.iter().filter(|a| **a == Admission::SoldOut).count(), 190);
    let alone = day("e4");
    gate.rebuild(&alone, &state("a", 5, &[])).await.expect("rebuild");
    let twice = join_all((0..50).map(|_| {
        let (gate, alone) = (gate.clone(), alone.clone());
        async move { gate.admit(&alone, "a", "same").await.expect("admit") }
    }))
    .await;
    assert_eq!(twice.iter().filter(|a| **a == Admission::Admitted).count(), 1);
    assert_eq!(gate.read(&alone).await.expect("read").map(|day| day.remaining), Some(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupon_gate_in_memory() {
    gate_contract(Arc::new(MemoryGate::default())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupon_gate_on_redis() {
    let prefix = format!("wwtest:{}:", uuid::Uuid::new_v4().simple());
    let gate = RedisGate::connect(&redis_url(), &prefix).await.expect("Redis must be running");
    gate_contract(Arc::new(gate)).await;
}
