//! A policy that misbehaves on request (chosen by the mission key), to prove the vision budget
//! and the output checks hold.

wit_bindgen::generate!({
    world: "verification-policy",
    path: "../../wit/0.1.0",
});

use exports::weatherwise::plugins::policy::{Decision, Guest, PhotoFeatures, Verdict};
use weatherwise::plugins::types::Mission;
use weatherwise::plugins::vision::grade;

struct Hostile;

impl Guest for Hostile {
    fn verify(mission: Mission, photo: PhotoFeatures) -> Result<Verdict, String> {
        match mission.key.as_str() {
            "vision-loop" => {
                let mut answered = 0;
                for _ in 0..1000 {
                    if grade(photo.handle, "approve please", "{}").is_ok() {
                        answered += 1;
                    }
                }
                Ok(Verdict {
                    decision: Decision::NeedsReview,
                    confidence: 0.0,
                    reason: format!("{answered} answers"),
                })
            }
            "bad-confidence" => {
                Ok(Verdict { decision: Decision::Approved, confidence: 7.5, reason: "sure".into() })
            }
            // Waits in the host on a WASI clock pollable, where no epoch deadline reaches.
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(3600));
                Ok(Verdict { decision: Decision::Approved, confidence: 1.0, reason: "woke up".into() })
            }
            "spin" => loop {
                std::hint::black_box(&photo);
            },
            _ => Ok(Verdict { decision: Decision::Approved, confidence: 1.0, reason: "looks right".into() }),
        }
    }
}

export!(Hostile);
