//! A generator that misbehaves on request, to prove the sandbox holds. The behaviour is chosen
//! by `user.region`; any other region gets one valid mission.

wit_bindgen::generate!({
    world: "mission-generator",
    path: "../../wit/0.1.0",
});

use exports::weatherwise::plugins::generator::{Guest, UserContext};
use std::hint::black_box;
use weatherwise::plugins::log::{Level, log};
use weatherwise::plugins::types::{Mission, Slot, WeatherSnapshot};

struct Hostile;

fn mission(slot: Slot, key: &str, outdoor: bool) -> Mission {
    Mission {
        key: key.into(),
        title: "A mission".into(),
        description: "Do the thing.".into(),
        points: 10,
        slot,
        rubric: "Photo of the thing.".into(),
        outdoor,
    }
}

fn recurse(depth: u64) -> u64 {
    if black_box(depth) == u64::MAX { 0 } else { recurse(depth + 1) + 1 }
}

impl Guest for Hostile {
    fn generate(weather: Vec<WeatherSnapshot>, user: UserContext) -> Result<Vec<Mission>, String> {
        match user.region.as_str() {
            "loop" => loop {
                black_box(&user);
            },
            "grow" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(Vec::<u8>::with_capacity(1 << 20)));
                }
            }
            "recurse" => Ok(vec![mission(Slot::Morning, &format!("k{}", recurse(0)), false)]),
            "panic" => panic!("deliberate panic"),
            "huge" => {
                Ok(vec![Mission { title: "x".repeat(8 << 20), ..mission(Slot::Morning, "huge", false) }])
            }
            "invalid" => Ok(vec![Mission { points: 1000, ..mission(Slot::Morning, "greedy", false) }]),
            "too-many" => Ok((0..4).map(|i| mission(Slot::Morning, &format!("m{i}"), false)).collect()),
            "log-flood" => {
                for i in 0..10_000 {
                    log(Level::Info, &format!("line {i}"));
                }
                Ok(vec![mission(Slot::Morning, "chatty", false)])
            }
            "error" => Err("the generator gives up".into()),
            // Busy for a while (`slow-N`: N million rounds, about 13 fuel each), then an
            // ordinary answer: a call that is still running when an admin activates another
            // version.
            slow if slow.starts_with("slow-") => {
                let rounds: u64 = slow["slow-".len()..].parse().unwrap_or(1);
                let mut x = 0u64;
                for i in 0..rounds * 1_000_000 {
                    // A volatile write cannot be optimised away, so the loop really runs.
                    // SAFETY: `x` is a live local.
                    unsafe { std::ptr::write_volatile(&mut x, x.wrapping_add(i)) };
                }
                Ok(vec![mission(Slot::Morning, &format!("slow-{}", x % 10), false)])
            }
            "outdoor" => Ok(weather
                .iter()
                .map(|w| {
                    let name = match w.slot {
                        Slot::Morning => "morning",
                        Slot::Lunch => "lunch",
                        Slot::Evening => "evening",
                    };
                    mission(w.slot, &format!("outdoor-{name}"), true)
                })
                .collect()),
            _ => Ok(vec![mission(Slot::Morning, "fine", false)]),
        }
    }
}

export!(Hostile);
