//! The activation gate: every version is measured on its world's golden corpus
//! (`plugins/corpus/`, built into the binary) under production limits, and the result kept as
//! its scorecard. Only a version that passes every case is activated, unless an admin forces it
//! (which the audit log records with the reason).
//!
//! A component of contract 0.2.0 runs every case once per language (Korean, then English) and
//! must write in the language asked; one of 0.1.0 receives no language and runs every case
//! once, judged against the English wording of the expectations.

mod generator;
mod policy;

pub use generator::score_generator;
pub use policy::score_policy;

use super::records::Scorecard;
use super::{Contract, World};
use crate::language::Language;
use std::time::Instant;

const GENERATOR_CORPUS: &str = include_str!("../../../../plugins/corpus/mission-generator.json");
const POLICY_CORPUS: &str = include_str!("../../../../plugins/corpus/verification-policy.json");
/// Seed of the components' random sources during the gate: fixed, so scorecards reproduce.
const GATE_SEED: u64 = 0x00c0_ffee;

/// The corpus texts and their digest: a scorecard names the corpus it was measured on.
pub fn corpus_digest(world: World) -> String {
    let text = match world {
        World::MissionGenerator => GENERATOR_CORPUS,
        World::VerificationPolicy => POLICY_CORPUS,
    };
    super::inspect::sha256_hex(text.as_bytes())[..16].to_owned()
}

/// One run of a case: the language the component is given, and whether it is judged on
/// writing in it (only components that receive a language are).
#[derive(Clone, Copy)]
struct Run {
    language: Language,
    judged_on_language: bool,
}

impl Run {
    /// The runs of every case for a component of `contract`.
    fn all(contract: Contract) -> Vec<Run> {
        match contract {
            Contract::V0_1 => vec![Run { language: Language::En, judged_on_language: false }],
            Contract::V0_2 => {
                Language::ALL.into_iter().map(|language| Run { language, judged_on_language: true }).collect()
            }
        }
    }

    /// The case's name in the scorecard: with the language when cases run in several.
    fn name(self, case: &str) -> String {
        if self.judged_on_language { format!("{case} [{}]", self.language.as_str()) } else { case.to_owned() }
    }
}

/// Whether user-facing `text` is written in `language`: Korean text has Hangul, English none.
fn written_in(text: &str, language: Language) -> bool {
    Language::of_script(text) == language
}

/// Whether a word of `text` (lower-cased, split at anything not alphanumeric) starts with one
/// of `stems`: "mask" matches "masks", "air" does not match "stairs", "우산" matches "우산을".
fn mentions_any(text: &str, stems: &[String]) -> bool {
    let text = text.to_lowercase();
    let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    stems.iter().any(|stem| words.iter().any(|word| word.starts_with(stem.as_str())))
}

/// Peaks over the cases, and the failures.
#[derive(Default)]
struct Tally {
    passed: u32,
    total: u32,
    fuel_peak: u64,
    time_peak_us: u64,
    memory_peak_bytes: u64,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, name: &str, started: Instant, outcome: Result<(u64, usize), String>) {
        self.total += 1;
        self.time_peak_us = self.time_peak_us.max(started.elapsed().as_micros() as u64);
        match outcome {
            Ok((fuel, memory)) => {
                self.passed += 1;
                self.fuel_peak = self.fuel_peak.max(fuel);
                self.memory_peak_bytes = self.memory_peak_bytes.max(memory as u64);
            }
            Err(why) => self.failures.push(format!("{name}: {why}")),
        }
    }

    fn scorecard(self, world: World, contract: Contract, size_bytes: u64) -> Scorecard {
        Scorecard {
            contract,
            corpus: corpus_digest(world),
            passed: self.passed,
            total: self.total,
            pass_rate: if self.total == 0 { 0.0 } else { f64::from(self.passed) / f64::from(self.total) },
            fuel_peak: self.fuel_peak,
            time_peak_us: self.time_peak_us,
            memory_peak_bytes: self.memory_peak_bytes,
            size_bytes,
            failures: self.failures,
            created_at: crate::db::now_ms(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_by_stem_in_both_languages() {
        let stems = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(mentions_any("Wear your Masks", &stems(&["mask"])));
        assert!(!mentions_any("Take the stairs", &stems(&["air"])));
        assert!(mentions_any("우산을 챙기세요", &stems(&["우산"])));
        assert!(!mentions_any("비상용품을 점검하세요", &stems(&["우산", "빗"])));
    }

    #[test]
    fn the_language_of_a_text_is_told_by_its_script() {
        assert!(written_in("텀블러를 사용하세요", Language::Ko));
        assert!(!written_in("Bring a tumbler", Language::Ko));
        assert!(written_in("Bring a tumbler", Language::En));
        assert!(!written_in("KF94 마스크", Language::En));
    }
}
