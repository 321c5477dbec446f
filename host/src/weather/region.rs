//! The province-level region (시/도) of a point, for the generator's `user-context.region` and
//! for matching alerts, which KMA issues per province.
//!
//! An approximation without boundary data: a point within the radius of a metropolitan city
//! (one circle of about the city's area) belongs to that city; otherwise to the province of the
//! nearest of a few reference towns per province. Near a border the answer may be the
//! neighbour; that is acceptable for choosing missions and alert rooms, not for addresses.

use crate::geo::{Point, distance_m};

/// Metropolitan and special cities: name, centre, radius in km (the smallest ratio of distance
/// to radius wins, so Sejong and Daejeon, 17 km apart, stay apart).
const CITIES: &[(&str, f64, f64, f64)] = &[
    ("서울특별시", 37.5665, 126.9780, 16.0),
    ("부산광역시", 35.1796, 129.0756, 16.0),
    ("대구광역시", 35.8714, 128.6014, 15.0),
    ("인천광역시", 37.4563, 126.7052, 12.0),
    ("광주광역시", 35.1595, 126.8526, 13.0),
    ("대전광역시", 36.3504, 127.3845, 12.0),
    ("울산광역시", 35.5384, 129.3114, 16.0),
    ("세종특별자치시", 36.4800, 127.2890, 11.0),
];

/// Reference towns of the nine provinces.
const TOWNS: &[(&str, f64, f64)] = &[
    ("경기도", 37.2636, 127.0286),         // Suwon
    ("경기도", 37.6584, 126.8320),         // Goyang
    ("경기도", 37.2411, 127.1776),         // Yongin
    ("경기도", 36.9921, 127.1129),         // Pyeongtaek
    ("경기도", 37.7381, 127.0338),         // Uijeongbu
    ("경기도", 37.7599, 126.7800),         // Paju
    ("경기도", 37.2720, 127.4350),         // Icheon
    ("경기도", 37.8315, 127.5105),         // Gapyeong
    ("경기도", 38.0966, 127.0748),         // Yeoncheon
    ("경기도", 37.4917, 127.4875),         // Yangpyeong
    ("경기도", 37.0080, 127.2797),         // Anseong
    ("경기도", 37.1995, 126.8311),         // Hwaseong
    ("경기도", 37.3219, 126.8309),         // Ansan
    ("강원특별자치도", 37.8813, 127.7298), // Chuncheon
    ("강원특별자치도", 37.7519, 128.8761), // Gangneung
    ("강원특별자치도", 37.3422, 127.9202), // Wonju
    ("강원특별자치도", 38.2070, 128.5918), // Sokcho
    ("강원특별자치도", 37.4500, 129.1650), // Samcheok
    ("강원특별자치도", 37.1641, 128.9856), // Taebaek
    ("강원특별자치도", 37.6970, 127.8887), // Hongcheon
    ("강원특별자치도", 38.1467, 127.3132), // Cheorwon
    ("강원특별자치도", 37.1837, 128.4617), // Yeongwol
    ("강원특별자치도", 37.3807, 128.6608), // Jeongseon
    ("강원특별자치도", 37.3708, 128.3900), // Pyeongchang
    ("충청북도", 36.6424, 127.4890),       // Cheongju
    ("충청북도", 36.9910, 127.9260),       // Chungju
    ("충청북도", 37.1326, 128.1910),       // Jecheon
    ("충청북도", 36.4894, 127.7295),       // Boeun
    ("충청북도", 36.3064, 127.5714),       // Okcheon
    ("충청북도", 36.1750, 127.7764),       // Yeongdong
    ("충청북도", 36.9403, 127.6906),       // Eumseong
    ("충청북도", 36.9845, 128.3655),       // Danyang
    ("충청남도", 36.8151, 127.1139),       // Cheonan
    ("충청남도", 36.7898, 127.0019),       // Asan
    ("충청남도", 36.7848, 126.4503),       // Seosan
    ("충청남도", 36.4465, 127.1190),       // Gongju
    ("충청남도", 36.1872, 127.0987),       // Nonsan
    ("충청남도", 36.3334, 126.6127),       // Boryeong
    ("충청남도", 36.6013, 126.6608),       // Hongseong
    ("충청남도", 36.8898, 126.6459),       // Dangjin
    ("충청남도", 36.2757, 126.9098),       // Buyeo
    ("충청남도", 36.1088, 127.4881),       // Geumsan
    ("충청남도", 36.7456, 126.2980),       // Taean
    ("전북특별자치도", 35.8242, 127.1480), // Jeonju
    ("전북특별자치도", 35.9483, 126.9577), // Iksan
    ("전북특별자치도", 35.9676, 126.7366), // Gunsan
    ("전북특별자치도", 35.5699, 126.8559), // Jeongeup
    ("전북특별자치도", 35.4164, 127.3904), // Namwon
    ("전북특별자치도", 35.8036, 126.8809), // Gimje
    ("전북특별자치도", 36.0068, 127.6608), // Muju
    ("전북특별자치도", 35.4358, 126.7019), // Gochang
    ("전북특별자치도", 35.7917, 127.4249), // Jinan
    ("전라남도", 34.8118, 126.3922),       // Mokpo
    ("전라남도", 34.7604, 127.6622),       // Yeosu
    ("전라남도", 34.9507, 127.4872),       // Suncheon
    ("전라남도", 35.0160, 126.7108),       // Naju
    ("전라남도", 34.9407, 127.6959),       // Gwangyang
    ("전라남도", 34.5733, 126.5992),       // Haenam
    ("전라남도", 35.3211, 126.9882),       // Damyang
    ("전라남도", 34.6111, 127.2850),       // Goheung
    ("전라남도", 35.2772, 126.5120),       // Yeonggwang
    ("전라남도", 34.3110, 126.7551),       // Wando
    ("전라남도", 35.2025, 127.4627),       // Gurye
    ("전라남도", 35.0646, 126.9866),       // Hwasun
    ("전라남도", 34.6816, 126.9070),       // Jangheung
    ("경상북도", 36.0190, 129.3435),       // Pohang
    ("경상북도", 35.8562, 129.2247),       // Gyeongju
    ("경상북도", 36.1195, 128.3446),       // Gumi
    ("경상북도", 36.5684, 128.7294),       // Andong
    ("경상북도", 36.1398, 128.1136),       // Gimcheon
    ("경상북도", 36.8057, 128.6240),       // Yeongju
    ("경상북도", 36.4109, 128.1590),       // Sangju
    ("경상북도", 36.5866, 128.1867),       // Mungyeong
    ("경상북도", 35.9733, 128.9386),       // Yeongcheon
    ("경상북도", 36.9930, 129.4004),       // Uljin
    ("경상북도", 36.4150, 129.3653),       // Yeongdeok
    ("경상북도", 36.4359, 129.0572),       // Cheongsong
    ("경상북도", 36.3527, 128.6973),       // Uiseong
    ("경상북도", 37.4844, 130.9057),       // Ulleung
    ("경상북도", 35.8251, 128.7415),       // Gyeongsan
    ("경상북도", 35.9190, 128.2829),       // Seongju
    ("경상남도", 35.2279, 128.6811),       // Changwon
    ("경상남도", 35.1800, 128.1076),       // Jinju
    ("경상남도", 35.2285, 128.8894),       // Gimhae
    ("경상남도", 35.3350, 129.0373),       // Yangsan
    ("경상남도", 34.8806, 128.6211),       // Geoje
    ("경상남도", 34.8544, 128.4331),       // Tongyeong
    ("경상남도", 35.0037, 128.0642),       // Sacheon
    ("경상남도", 35.5038, 128.7467),       // Miryang
    ("경상남도", 35.6867, 127.9095),       // Geochang
    ("경상남도", 35.5666, 128.1658),       // Hapcheon
    ("경상남도", 34.8376, 127.8924),       // Namhae
    ("경상남도", 35.5205, 127.7251),       // Hamyang
    ("경상남도", 35.5446, 128.4924),       // Changnyeong
    ("제주특별자치도", 33.4996, 126.5312), // Jeju
    ("제주특별자치도", 33.2541, 126.5600), // Seogwipo
    ("제주특별자치도", 33.4113, 126.2694), // Hallim
    ("제주특별자치도", 33.4587, 126.9313), // Seongsan
];

/// The province-level region of a point in Korea (one of the 17 시/도), by the approximation
/// described above. Points far from Korea get the nearest province all the same: callers
/// check the grid domain first.
pub fn province_of(lat: f64, lon: f64) -> &'static str {
    let here = Point { lat, lon };
    let city = CITIES
        .iter()
        .map(|(name, clat, clon, radius_km)| {
            (*name, distance_m(here, Point { lat: *clat, lon: *clon }) / (radius_km * 1000.0))
        })
        .filter(|(_, ratio)| *ratio <= 1.0)
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((name, _)) = city {
        return name;
    }
    TOWNS
        .iter()
        .map(|(name, tlat, tlon)| (*name, distance_m(here, Point { lat: *tlat, lon: *tlon })))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("서울특별시", |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cities_and_towns_get_their_province() {
        for (place, lat, lon, province) in [
            ("Seoul City Hall", 37.5665, 126.9780, "서울특별시"),
            ("Gangnam", 37.4979, 127.0276, "서울특별시"),
            ("Busan", 35.1796, 129.0756, "부산광역시"),
            ("Jeju", 33.4996, 126.5312, "제주특별자치도"),
            ("Seogwipo", 33.2541, 126.5600, "제주특별자치도"),
            ("Daejeon", 36.3504, 127.3845, "대전광역시"),
            ("Sejong", 36.4800, 127.2890, "세종특별자치시"),
            ("Incheon", 37.4563, 126.7052, "인천광역시"),
            ("Gangneung", 37.7519, 128.8761, "강원특별자치도"),
            ("Chuncheon", 37.8813, 127.7298, "강원특별자치도"),
            ("Suwon", 37.2636, 127.0286, "경기도"),
            ("Seongnam", 37.4200, 127.1265, "경기도"),
            ("Jeonju", 35.8242, 127.1480, "전북특별자치도"),
            ("Gwangju", 35.1595, 126.8526, "광주광역시"),
            ("Mokpo", 34.8118, 126.3922, "전라남도"),
            ("Daegu", 35.8714, 128.6014, "대구광역시"),
            ("Andong", 36.5684, 128.7294, "경상북도"),
            ("Changwon", 35.2279, 128.6811, "경상남도"),
            ("Ulsan", 35.5384, 129.3114, "울산광역시"),
            ("Cheongju", 36.6424, 127.4890, "충청북도"),
            ("Cheonan", 36.8151, 127.1139, "충청남도"),
        ] {
            assert_eq!(province_of(lat, lon), province, "{place}");
        }
    }

    #[test]
    fn there_are_seventeen_regions() {
        let mut names: Vec<&str> = CITIES.iter().map(|c| c.0).chain(TOWNS.iter().map(|t| t.0)).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 17, "{names:?}");
    }
}
