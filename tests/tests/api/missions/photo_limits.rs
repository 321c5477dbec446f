//! Photo uploads within bounds: 20 users sending every kind of hostile photo at once keep the
//! server's peak memory under 300 MiB (bodies and decodes share one memory budget), and each
//! user's uploads are rate-limited, refused ones included.

use super::bad_uploads::png_declaring;
use super::support::{COFFEE, any_mission, deployment};
use futures::StreamExt;
use std::collections::BTreeMap;
use weatherwise::config::RateLimit;
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Mode, TestApp, assert_problem, both_modes};

both_modes!(
    missions_hostile_uploads_from_twenty_users_stay_within_the_memory_target,
    missions_photo_uploads_are_rate_limited_per_user_refused_ones_included,
);

const USERS: usize = 20;
const PEAK_TARGET_MIB: u64 = 300;

fn encoded(image: image::DynamicImage, format: image::ImageFormat) -> bytes::Bytes {
    let mut bytes = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut bytes), format).expect("encode");
    bytes.into()
}

/// Every upload one user sends, worst first (a user whose photo is accepted costs nothing
/// more: the mission then takes no photo until it is decided).
fn hostile_uploads() -> Vec<(&'static str, bytes::Bytes, &'static str)> {
    // A valid 6324×6324 PNG of one colour: about 155 KB that decode to 120 MB.
    let huge_png = encoded(image::DynamicImage::new_rgb8(6324, 6324), image::ImageFormat::Png);
    // 9 MiB that look like a JPEG for four bytes: the body is the cost.
    let mut garbage = vec![0x5Au8; 9 << 20];
    garbage[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, 0xDB]);
    vec![
        ("36-megapixel truncated PNG", png_declaring(6000, 6000).into(), "image/png"),
        ("40-megapixel PNG", huge_png, "image/png"),
        ("9 MiB of garbage", garbage.into(), "image/jpeg"),
        ("9-megapixel truncated PNG", png_declaring(3000, 3000).into(), "image/png"),
        (
            "9-megapixel PNG",
            encoded(image::DynamicImage::new_rgb8(3000, 3000), image::ImageFormat::Png),
            "image/png",
        ),
        (
            "35-megapixel JPEG",
            encoded(image::DynamicImage::new_rgb8(7000, 5000), image::ImageFormat::Jpeg),
            "image/jpeg",
        ),
    ]
}

async fn upload(
    app: &TestApp,
    token: &str,
    mission: &str,
    bytes: bytes::Bytes,
    mime: &str,
) -> reqwest::Response {
    try_upload(app, token, mission, bytes, mime).await.expect("request")
}

/// An upload the server may refuse before reading its body: it then answers and closes the
/// connection, and a client still writing a large body sees the connection reset instead.
async fn try_upload(
    app: &TestApp,
    token: &str,
    mission: &str,
    bytes: bytes::Bytes,
    mime: &str,
) -> reqwest::Result<reqwest::Response> {
    let length = bytes.len() as u64;
    let part = reqwest::multipart::Part::stream_with_length(reqwest::Body::from(bytes), length)
        .file_name("photo")
        .mime_str(mime)
        .expect("mime");
    let form = reqwest::multipart::Form::new().part("photo", part);
    app.http
        .post(app.api(&format!("/missions/{mission}/verifications")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
}

async fn missions_hostile_uploads_from_twenty_users_stay_within_the_memory_target(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.95)).await;
    // A process of its own, so its peak memory is the server's alone.
    let deployment = deployment(mode, Some(&vision)).await;
    let app = deployment.start_process().await;
    let mut users = Vec::new();
    for user in deployment.stored_users(USERS).await {
        let mission = any_mission(&app, &user.access).await;
        users.push((user, mission));
    }
    let uploads = hostile_uploads();
    let before = app.peak_memory_mib();

    let outcomes: Vec<(&str, u16, String)> = futures::stream::iter(users.iter())
        .map(|(user, mission)| {
            let (app, uploads) = (&app, &uploads);
            async move {
                let mut outcomes = Vec::new();
                for (what, bytes, mime) in uploads {
                    let outcome = match try_upload(app, &user.access, mission, bytes.clone(), mime).await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let body: serde_json::Value = response.json().await.expect("a JSON answer");
                            (*what, status, body["code"].as_str().unwrap_or("accepted").to_owned())
                        }
                        Err(err) if err.is_request() => (*what, 0, "refused before its body was read".into()),
                        Err(err) => panic!("{what}: {err}"),
                    };
                    outcomes.push(outcome);
                }
                outcomes
            }
        })
        .buffer_unordered(USERS)
        .flat_map(futures::stream::iter)
        .collect()
        .await;

    let after = app.peak_memory_mib();
    let mut tally: BTreeMap<(&str, u16, &str), usize> = BTreeMap::new();
    for (what, status, code) in &outcomes {
        *tally.entry((what, *status, code.as_str())).or_default() += 1;
    }
    eprintln!("peak RSS of the server: {before} MiB before, {after} MiB after; outcomes: {tally:#?}");
    for (what, status, code) in &outcomes {
        assert!(
            matches!(
                (*status, code.as_str()),
                (202, _) | (409, "mission_not_open") | (422, _) | (503, "photos_busy") | (0, _)
            ),
            "{what}: {status} {code}"
        );
    }
    assert!(outcomes.iter().any(|(_, status, _)| *status == 202), "photos that fit were accepted");
    let refused_unread =
        |what: &str| outcomes.iter().filter(|o| o.0 == what).all(|o| o.2 == "photo_too_many_pixels");
    assert!(refused_unread("40-megapixel PNG") && refused_unread("36-megapixel truncated PNG"));
    assert!(
        after <= PEAK_TARGET_MIB,
        "peak memory {after} MiB (from {before} MiB) exceeds {PEAK_TARGET_MIB} MiB"
    );
}

async fn missions_photo_uploads_are_rate_limited_per_user_refused_ones_included(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.95)).await;
    let mut deployment = deployment(mode, Some(&vision)).await;
    deployment.config.rate_limits.photo_uploads_per_user = RateLimit { limit: 3, window_secs: 60 };
    let app = deployment.start().await;
    let user = app.new_user().await;
    let mission = any_mission(&app, &user.access).await;
    for _ in 0..3 {
        let refused = upload(&app, &user.access, &mission, bytes::Bytes::new(), "image/jpeg").await;
        assert_problem(refused, 422, "photo_empty").await;
    }
    // An empty photo again (a body the server need not read to refuse it, so the client is
    // never cut off while sending it): limited now, where it was refused as empty before.
    let limited = upload(&app, &user.access, &mission, bytes::Bytes::new(), "image/jpeg").await;
    let retry_after = limited.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    assert!(retry_after.is_some_and(|secs| (1..=60).contains(&secs)), "Retry-After: {retry_after:?}");
    assert_problem(limited, 429, "rate_limited").await;

    // Another user is not held back, and nothing was lost: the mission keeps every attempt.
    let other = app.new_user().await;
    let theirs = any_mission(&app, &other.access).await;
    let accepted = upload(&app, &other.access, &theirs, COFFEE.to_vec().into(), "image/png").await;
    assert_eq!(accepted.status(), 202);
    let detail = super::support::get(&app, &user.access, &format!("/missions/{mission}")).await;
    assert_eq!((detail["state"].as_str(), detail["attempts"].as_i64()), (Some("assigned"), Some(0)));
}
