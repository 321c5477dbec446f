"""A mission generator written in Python: the `mission-generator` world of
`wit/0.1.0/plugins.wit` (contract 0.1.0), built into a component with componentize-py.

For each slot the first candidate of the rule table (`rules.py`) that the user was not given
recently, and that is not already chosen today, wins. When every candidate was given recently
the best fit is repeated rather than leaving the slot empty.
"""

from typing import List

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.generator import UserContext
from wit_world.imports import log
from wit_world.imports.types import Mission, WeatherSnapshot

import rules


class Generator(exports.Generator):
    def generate(self, weather: List[WeatherSnapshot], user: UserContext) -> List[Mission]:
        if len(weather) > 3:
            # Raising `Err` returns the `err` case of the WIT result.
            raise Err(f"expected at most three slots, got {len(weather)}")
        recent = set(user.recent_mission_keys)
        chosen: List[Mission] = []
        for snapshot in weather:
            if any(mission.slot == snapshot.slot for mission in chosen):
                continue
            fits = rules.candidates(snapshot)
            taken = {mission.key for mission in chosen}
            # Prefer a mission not given recently; else one not given today; else the best fit.
            fresh = [c for c in fits if c.key not in recent and c.key not in taken]
            not_today = [c for c in fits if c.key not in taken]
            pick = (fresh or not_today or fits)[0]
            chosen.append(pick.mission(snapshot.slot))
        log.log(
            log.Level.INFO,
            f"{len(chosen)} missions for {user.region} on {user.local_date}",
        )
        return chosen
