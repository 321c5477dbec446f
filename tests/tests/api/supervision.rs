//! Background work that panics is started again on the same queue: nothing waiting in it is
//! lost (the vote shards run this way).

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use weatherwise::tasks::Tasks;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervised_work_is_started_again_after_a_panic() {
    let tasks = Tasks::new();
    let (sender, receiver) = mpsc::channel::<u32>(16);
    let receiver = Arc::new(Mutex::new(receiver));
    let (done, mut handled) = mpsc::unbounded_channel();
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = runs.clone();
    tasks.spawn_supervised_work("flaky", move |drain| {
        let (receiver, done) = (receiver.clone(), done.clone());
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            let mut receiver = receiver.lock().await;
            loop {
                let item = tokio::select! {
                    () = drain.cancelled() => return,
                    item = receiver.recv() => item,
                };
                let Some(item) = item else { return };
                assert_ne!(item, 13, "an item this work cannot take");
                done.send(item).expect("the test listens");
            }
        }
    });
    for item in [1, 13, 2, 13, 3] {
        sender.send(item).await.expect("queued");
    }
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let item = tokio::time::timeout(Duration::from_secs(10), handled.recv()).await;
        seen.push(item.expect("handled within 10 s").expect("work alive"));
    }
    assert_eq!(seen, vec![1, 2, 3], "the items after each panic were still handled, in order");
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 3, "started once, then after each panic");
    let stopped = tasks.shutdown(Duration::from_secs(5)).await;
    assert_eq!(stopped.work_abandoned, 0, "the restarted work still drains at shutdown");
}
