//! An endpoint answering far more than any verdict (300 MiB, streamed): the host stops reading
//! at its cap, retries, and ends in review; its memory never holds the answer.

use super::support::{any_mission, decided, deployment, distinct_photo, submitted};
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Mode, both_modes, metric};

both_modes!(missions_an_oversized_vision_answer_is_cut_off);

async fn missions_an_oversized_vision_answer_is_cut_off(mode: Mode) {
    let vision = FakeVision::start(Behaviour::Oversized { bytes: 300 << 20 }).await;
    // A process of its own, so its peak memory is the server's alone.
    let app = deployment(mode, Some(&vision)).await.start_process().await;
    let user = app.new_user().await;
    let mission = any_mission(&app, &user.access).await;
    let before = app.peak_memory_mib();

    let id = submitted(&app, &user.access, &mission, distinct_photo(300), "image/jpeg").await;
    let verdict = decided(&app, &user.access, &id).await;
    let state = verdict["state"].as_str().unwrap_or_default();
    assert!(matches!(state, "needs_review" | "rejected"), "an oversized answer is no verdict: {verdict}");

    let after = app.peak_memory_mib();
    eprintln!("peak RSS of the server: {before} MiB before the oversized answers, {after} MiB after");
    assert!(
        after.saturating_sub(before) < 64,
        "300 MiB answers raised the server's peak memory from {before} to {after} MiB"
    );
    assert!(vision.requests().len() >= 2, "the cut-off attempt was retried");
    let metrics = app.metrics().await;
    let cut_off = metric(&metrics, "outbound_answers_too_large_total", "service=\"vision\"");
    assert!(
        cut_off.is_some_and(|count| count >= 2.0),
        "every oversized answer was cut off and counted: {cut_off:?}"
    );
}
