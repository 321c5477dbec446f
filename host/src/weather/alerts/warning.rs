//! A weather warning as KMA's feeds report it, in the host's own terms: which province and
//! area it covers, what kind and level, when it was announced and takes effect, and what the
//! announcement did (issue, change, extend, lift).

use crate::weather::model::{AlertKind, AlertLevel};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an announcement did to a warning. Lifted ones are reported by the feeds for a while
/// after they end; they are not in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningCommand {
    /// 발표: a new warning.
    Issue,
    /// 대치: replaces an earlier one (say an advisory becoming a warning).
    Replace,
    /// 연장: extended.
    Extend,
    /// 변경: area or timing changed.
    Change,
    /// 해제 / 대치해제: lifted.
    Lift,
    /// A command the feed spelled in a way we do not know; treated as in force.
    Other,
}

impl WarningCommand {
    pub fn in_force(self) -> bool {
        self != Self::Lift
    }
}

/// One row of a warning feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The province (시/도) it falls in, spelled as [`crate::weather::province_of`] spells
    /// provinces (`서울특별시`, `강원특별자치도`, …).
    pub province: String,
    /// The feed's upper region code (REG_UP, e.g. `L1020000`), or the area code's province
    /// part in feeds without one.
    pub upper_code: String,
    /// The warning area's code (REG_ID / areaCode, e.g. `L1021000`).
    pub area_code: String,
    /// The warning area's name (REG_KO / areaName, e.g. `강원북부산지`).
    pub area_name: String,
    pub kind: AlertKind,
    pub level: AlertLevel,
    pub command: WarningCommand,
    /// When it was announced (TM_FC / tmFc, Asia/Seoul in the feed).
    pub announced_at: DateTime<Utc>,
    /// When it takes effect (TM_EF / startTime).
    pub effective_at: DateTime<Utc>,
    /// When it is expected to end, as the feed words it ("01일 오후(12시~18시)"), if it says.
    pub ends: Option<String>,
}

impl Warning {
    /// The identity of an announcement: the same row seen again (in the next poll, in the
    /// other feed, twice in one answer) is the same warning.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{:?}-{:?}",
            self.upper_code,
            self.area_code,
            self.announced_at.timestamp(),
            self.effective_at.timestamp(),
            self.kind,
            self.level
        )
    }
}
