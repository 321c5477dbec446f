//! Host-side checks of what components return: the contract's lengths, counts, ranges and
//! enum combinations. A component is untrusted; its output is input.

use super::limits::{CallError, CallErrorKind};
use crate::missions::MissionContent;
use crate::verification::Verdict;

fn invalid(message: String) -> CallError {
    CallError::new(CallErrorKind::InvalidOutput, message)
}

fn check_text(field: &str, text: &str, max_chars: usize) -> Result<(), CallError> {
    let count = text.chars().count();
    if text.trim().is_empty() || count > max_chars {
        return Err(invalid(format!("{field} must be 1 to {max_chars} characters, got {count}")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid(format!("{field} contains control characters")));
    }
    Ok(())
}

pub fn missions(missions: &[MissionContent]) -> Result<(), CallError> {
    if missions.len() > 3 {
        return Err(invalid(format!("at most 3 missions, got {}", missions.len())));
    }
    for (index, mission) in missions.iter().enumerate() {
        let key_ok = (1..=48).contains(&mission.key.len())
            && mission.key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !key_ok {
            return Err(invalid(format!("mission {index}: key must be 1 to 48 of [a-z0-9-]")));
        }
        check_text("title", &mission.title, 40)?;
        check_text("description", &mission.description, 300)?;
        check_text("rubric", &mission.rubric, 500)?;
        if !(1..=100).contains(&mission.points) {
            return Err(invalid(format!("mission {index}: points must be 1 to 100, got {}", mission.points)));
        }
        if missions[..index].iter().any(|earlier| earlier.slot == mission.slot) {
            return Err(invalid(format!("mission {index}: two missions for one slot")));
        }
    }
    Ok(())
}

pub fn verdict(verdict: &Verdict) -> Result<(), CallError> {
    if !verdict.confidence.is_finite() || !(0.0..=1.0).contains(&verdict.confidence) {
        return Err(invalid(format!("confidence must be within 0..1, got {}", verdict.confidence)));
    }
    check_text("reason", &verdict.reason, 300)
}
