"""The rule table: which missions fit which weather.

Plain Python over the WIT types, so it can be read (and unit-tested) on its own. Rules are
tried most specific first; a rule's candidates are tried in order.
"""

from dataclasses import dataclass
from typing import Callable, List

from wit_world.imports.types import Mission, Precipitation, Sky, Slot, WeatherSnapshot

WET = {Precipitation.RAIN, Precipitation.SHOWER, Precipitation.DRIZZLE}
SNOWY = {Precipitation.SNOW, Precipitation.RAIN_AND_SNOW}


@dataclass(frozen=True)
class Candidate:
    key: str
    title: str
    description: str
    points: int
    rubric: str
    outdoor: bool

    def mission(self, slot: Slot) -> Mission:
        return Mission(
            key=self.key,
            title=self.title,
            description=self.description,
            points=self.points,
            slot=slot,
            rubric=self.rubric,
            outdoor=self.outdoor,
        )


@dataclass(frozen=True)
class Rule:
    name: str
    applies: Callable[[WeatherSnapshot], bool]
    candidates: List[Candidate]


def is_wet(weather: WeatherSnapshot) -> bool:
    return weather.precipitation in WET


def is_snowy(weather: WeatherSnapshot) -> bool:
    return weather.precipitation in SNOWY


def is_cold_or_dry(weather: WeatherSnapshot) -> bool:
    return weather.temperature_c <= 5.0 or weather.humidity_pct <= 30


def is_clear(weather: WeatherSnapshot) -> bool:
    return weather.sky == Sky.CLEAR and weather.precipitation == Precipitation.NONE


# Alerts are not looked at here: the host drops outdoor missions in a slot under a
# dangerous-weather warning, whatever a generator proposes.
RULES: List[Rule] = [
    Rule(
        "rain",
        is_wet,
        [
            Candidate(
                "py-umbrella-ready",
                "Umbrella by the door",
                "Rain is on the way: put your umbrella by the door so you take it with you.",
                10,
                "Photo of an umbrella, open or closed, by a door or in a hand.",
                False,
            ),
            Candidate(
                "py-indoor-stretch",
                "Stretch indoors",
                "A wet slot: stay dry and do five minutes of stretching at home or at work.",
                15,
                "Photo of someone stretching indoors, or a yoga mat laid out indoors.",
                False,
            ),
        ],
    ),
    Rule(
        "snow",
        is_snowy,
        [
            Candidate(
                "py-snow-window",
                "Snow through the window",
                "Snow is falling: watch it from a window with something warm.",
                10,
                "Photo of falling or fallen snow seen through a window, from indoors.",
                False,
            ),
        ],
    ),
    Rule(
        "cold-or-dry",
        is_cold_or_dry,
        [
            Candidate(
                "py-tumbler",
                "Your own tumbler",
                "Cold or dry air: carry a warm drink in your own tumbler, not a paper cup.",
                15,
                "Photo of a reusable tumbler or thermos, ideally with a warm drink.",
                False,
            ),
            Candidate(
                "py-hydrate",
                "Drink a glass of water",
                "Dry air dehydrates: drink a full glass of water.",
                5,
                "Photo of a full glass or bottle of water about to be drunk.",
                False,
            ),
        ],
    ),
    Rule(
        "clear",
        is_clear,
        [
            Candidate(
                "py-walk-outdoors",
                "Walk outdoors",
                "Clear skies: take a ten-minute walk outside.",
                20,
                "Photo taken outdoors on a street, path or park while walking, sky visible.",
                True,
            ),
            Candidate(
                "py-sky-photo",
                "Look up",
                "Clear skies: step outside and photograph the sky.",
                10,
                "Photo of the open sky, taken outdoors.",
                True,
            ),
        ],
    ),
    Rule(
        "any",
        lambda weather: True,
        [
            Candidate(
                "py-take-the-stairs",
                "Take the stairs",
                "Skip the lift once today and take the stairs.",
                10,
                "Photo of a staircase from the point of view of someone climbing it.",
                False,
            ),
        ],
    ),
]


def candidates(weather: WeatherSnapshot) -> List[Candidate]:
    """Missions that fit `weather`, most specific first; never empty."""
    found: List[Candidate] = []
    for rule in RULES:
        if rule.applies(weather):
            found.extend(rule.candidates)
    return found
