//! Which of the host's 17 provinces (시/도, spelled as [`crate::weather::province_of`] spells
//! them) a KMA warning area lies in, from the names the feeds give.
//!
//! KMA does not issue warnings per province but per warning area (특보구역): mountain and
//! plain halves of a county, quarters of Seoul, islands, sea areas. The feeds name the area and
//! sometimes an upper area, and neither is reliably a province: the upper area may be a whole
//! province (`강원도`, still under its pre-2023 name), several at once (`서울·인천·경기도`,
//! because one regional office covers them), or a part of one (`제주시(산지 제외)`); the area
//! may start with its province (`강원북부산지`, `서울동남권`) or be a city, a county or an
//! island that does not (`수원`, `울릉도.독도`, `서해5도`). So we match prefixes of both names
//! against province keywords and a table of cities, counties and islands, with these rules:
//!
//! - sea areas (`…앞바다`, `…먼바다`, `…평수구역`) are in no province: warnings for them are not
//!   about anywhere a user stands;
//! - the area decides over the upper area, because upper areas group metropolitan cities with
//!   the province around them (부산 under 경상남도, 광주 under 전라남도); only when the two name
//!   different ordinary provinces is the feed's own grouping trusted instead;
//! - the two names used by two provinces (`광주`: 경기도 and 광주광역시; `고성`: 강원 and 경남)
//!   are settled by the upper area, and are unknown without one;
//! - a name that lists several provinces (`서울·인천·경기도`) says nothing on its own.
//!
//! Anything else is unknown (`None`): the parsers skip such a row and say so, rather than guess.

/// The 17 province names the host uses.
pub const PROVINCES: [&str; 17] = [
    "서울특별시",
    "부산광역시",
    "대구광역시",
    "인천광역시",
    "광주광역시",
    "대전광역시",
    "울산광역시",
    "세종특별자치시",
    "경기도",
    "강원특별자치도",
    "충청북도",
    "충청남도",
    "전북특별자치도",
    "전라남도",
    "경상북도",
    "경상남도",
    "제주특별자치도",
];

const SEOUL: &str = "서울특별시";
const BUSAN: &str = "부산광역시";
const DAEGU: &str = "대구광역시";
const INCHEON: &str = "인천광역시";
const GWANGJU: &str = "광주광역시";
const DAEJEON: &str = "대전광역시";
const ULSAN: &str = "울산광역시";
const SEJONG: &str = "세종특별자치시";
const GYEONGGI: &str = "경기도";
const GANGWON: &str = "강원특별자치도";
const CHUNGBUK: &str = "충청북도";
const CHUNGNAM: &str = "충청남도";
const JEONBUK: &str = "전북특별자치도";
const JEONNAM: &str = "전라남도";
const GYEONGBUK: &str = "경상북도";
const GYEONGNAM: &str = "경상남도";
const JEJU: &str = "제주특별자치도";

/// Name prefixes and their province: province keywords first, then cities, counties and
/// islands (stems without 시/군/도, so `수원`, `수원시` and `수원남부` all match). No prefix
/// here is a prefix of another province's entry; `광주` and `고성` are handled before this.
const PREFIXES: &[(&str, &str)] = &[
    // Provinces and metropolitan cities, by their short and long names.
    ("서울", SEOUL),
    ("부산", BUSAN),
    ("대구", DAEGU),
    ("인천", INCHEON),
    ("광주", GWANGJU),
    ("대전", DAEJEON),
    ("울산", ULSAN),
    ("세종", SEJONG),
    ("경기", GYEONGGI),
    ("강원", GANGWON),
    ("충북", CHUNGBUK),
    ("충청북도", CHUNGBUK),
    ("충남", CHUNGNAM),
    ("충청남도", CHUNGNAM),
    ("전북", JEONBUK),
    ("전라북도", JEONBUK),
    ("전남", JEONNAM),
    ("전라남도", JEONNAM),
    ("경북", GYEONGBUK),
    ("경상북도", GYEONGBUK),
    ("경남", GYEONGNAM),
    ("경상남도", GYEONGNAM),
    ("제주", JEJU),
    // 대구: 군위 joined the city in 2023.
    ("군위", DAEGU),
    // 인천: its counties and the northwestern islands.
    ("강화", INCHEON),
    ("옹진", INCHEON),
    ("서해5도", INCHEON),
    ("백령", INCHEON),
    ("연평", INCHEON),
    ("대청", INCHEON),
    // 경기도
    ("수원", GYEONGGI),
    ("성남", GYEONGGI),
    ("고양", GYEONGGI),
    ("용인", GYEONGGI),
    ("부천", GYEONGGI),
    ("안산", GYEONGGI),
    ("안양", GYEONGGI),
    ("남양주", GYEONGGI),
    ("화성", GYEONGGI),
    ("평택", GYEONGGI),
    ("의정부", GYEONGGI),
    ("시흥", GYEONGGI),
    ("파주", GYEONGGI),
    ("김포", GYEONGGI),
    ("광명", GYEONGGI),
    ("군포", GYEONGGI),
    ("하남", GYEONGGI),
    ("오산", GYEONGGI),
    ("이천", GYEONGGI),
    ("양주", GYEONGGI),
    ("구리", GYEONGGI),
    ("안성", GYEONGGI),
    ("포천", GYEONGGI),
    ("의왕", GYEONGGI),
    ("여주", GYEONGGI),
    ("양평", GYEONGGI),
    ("동두천", GYEONGGI),
    ("과천", GYEONGGI),
    ("가평", GYEONGGI),
    ("연천", GYEONGGI),
    // 강원특별자치도
    ("춘천", GANGWON),
    ("원주", GANGWON),
    ("강릉", GANGWON),
    ("동해", GANGWON),
    ("태백", GANGWON),
    ("속초", GANGWON),
    ("삼척", GANGWON),
    ("홍천", GANGWON),
    ("횡성", GANGWON),
    ("영월", GANGWON),
    ("평창", GANGWON),
    ("정선", GANGWON),
    ("철원", GANGWON),
    ("화천", GANGWON),
    ("양구", GANGWON),
    ("인제", GANGWON),
    ("양양", GANGWON),
    ("대관령", GANGWON),
    // 충청북도
    ("청주", CHUNGBUK),
    ("충주", CHUNGBUK),
    ("제천", CHUNGBUK),
    ("보은", CHUNGBUK),
    ("옥천", CHUNGBUK),
    ("영동", CHUNGBUK),
    ("증평", CHUNGBUK),
    ("진천", CHUNGBUK),
    ("괴산", CHUNGBUK),
    ("음성", CHUNGBUK),
    ("단양", CHUNGBUK),
    // 충청남도
    ("천안", CHUNGNAM),
    ("공주", CHUNGNAM),
    ("보령", CHUNGNAM),
    ("아산", CHUNGNAM),
    ("서산", CHUNGNAM),
    ("논산", CHUNGNAM),
    ("계룡", CHUNGNAM),
    ("당진", CHUNGNAM),
    ("금산", CHUNGNAM),
    ("부여", CHUNGNAM),
    ("서천", CHUNGNAM),
    ("청양", CHUNGNAM),
    ("홍성", CHUNGNAM),
    ("예산", CHUNGNAM),
    ("태안", CHUNGNAM),
    // 전북특별자치도
    ("전주", JEONBUK),
    ("군산", JEONBUK),
    ("익산", JEONBUK),
    ("정읍", JEONBUK),
    ("남원", JEONBUK),
    ("김제", JEONBUK),
    ("완주", JEONBUK),
    ("진안", JEONBUK),
    ("무주", JEONBUK),
    ("장수", JEONBUK),
    ("임실", JEONBUK),
    ("순창", JEONBUK),
    ("고창", JEONBUK),
    ("부안", JEONBUK),
    // 전라남도, with its outlying islands.
    ("목포", JEONNAM),
    ("여수", JEONNAM),
    ("순천", JEONNAM),
    ("나주", JEONNAM),
    ("광양", JEONNAM),
    ("담양", JEONNAM),
    ("곡성", JEONNAM),
    ("구례", JEONNAM),
    ("고흥", JEONNAM),
    ("보성", JEONNAM),
    ("화순", JEONNAM),
    ("장흥", JEONNAM),
    ("강진", JEONNAM),
    ("해남", JEONNAM),
    ("영암", JEONNAM),
    ("무안", JEONNAM),
    ("함평", JEONNAM),
    ("영광", JEONNAM),
    ("장성", JEONNAM),
    ("완도", JEONNAM),
    ("진도", JEONNAM),
    ("신안", JEONNAM),
    ("흑산", JEONNAM),
    ("홍도", JEONNAM),
    ("거문", JEONNAM),
    ("초도", JEONNAM),
    // 경상북도, with 울릉도 and 독도.
    ("포항", GYEONGBUK),
    ("경주", GYEONGBUK),
    ("김천", GYEONGBUK),
    ("안동", GYEONGBUK),
    ("구미", GYEONGBUK),
    ("영주", GYEONGBUK),
    ("영천", GYEONGBUK),
    ("상주", GYEONGBUK),
    ("문경", GYEONGBUK),
    ("경산", GYEONGBUK),
    ("의성", GYEONGBUK),
    ("청송", GYEONGBUK),
    ("영양", GYEONGBUK),
    ("영덕", GYEONGBUK),
    ("청도", GYEONGBUK),
    ("고령", GYEONGBUK),
    ("성주", GYEONGBUK),
    ("칠곡", GYEONGBUK),
    ("예천", GYEONGBUK),
    ("봉화", GYEONGBUK),
    ("울진", GYEONGBUK),
    ("울릉", GYEONGBUK),
    ("독도", GYEONGBUK),
    // 경상남도
    ("창원", GYEONGNAM),
    ("마산", GYEONGNAM),
    ("진해", GYEONGNAM),
    ("진주", GYEONGNAM),
    ("통영", GYEONGNAM),
    ("사천", GYEONGNAM),
    ("김해", GYEONGNAM),
    ("밀양", GYEONGNAM),
    ("거제", GYEONGNAM),
    ("양산", GYEONGNAM),
    ("의령", GYEONGNAM),
    ("함안", GYEONGNAM),
    ("창녕", GYEONGNAM),
    ("남해", GYEONGNAM),
    ("하동", GYEONGNAM),
    ("산청", GYEONGNAM),
    ("함양", GYEONGNAM),
    ("거창", GYEONGNAM),
    ("합천", GYEONGNAM),
    // 제주특별자치도 (제주도산지, 제주시동부, … match `제주`).
    ("서귀포", JEJU),
    ("추자", JEJU),
    ("성산", JEJU),
];

/// Characters that join several names into one (`울릉도.독도`, `서울·인천·경기도`).
const SEPARATORS: &[char] = &['·', 'ㆍ', '・', '‧', '.', ',', '/', '、', '+'];

/// The province of a warning area, from the feed's upper area name (REG_UP_KO; empty when
/// the feed has none) and area name (REG_KO / areaName). `None` for sea areas and for names
/// we do not know or cannot tell apart; see the module documentation for the rules.
pub fn province_of_area(upper_name: &str, area_name: &str) -> Option<&'static str> {
    if is_sea_area(area_name) {
        return None;
    }
    let area = normalize(area_name);
    let upper = normalize(upper_name);
    if let Some(settled) = shared_name(&area, &upper) {
        return settled;
    }
    let from_area = of_name(&area);
    let from_upper = if is_sea_area(upper_name) { None } else { of_name(&upper) };
    match (from_area, from_upper) {
        (Some(area), Some(upper)) if area != upper && !is_city(area) && !is_city(upper) => Some(upper),
        (Some(area), _) => Some(area),
        (None, upper) => upper,
    }
}

/// Whether a warning area is at sea (coastal and offshore waters, sheltered waters).
pub fn is_sea_area(name: &str) -> bool {
    let name = normalize(name);
    name.contains("바다") || name.contains("평수구역") || name.contains("해역") || name.ends_with("해상")
}

/// Metropolitan and special self-governing cities (as opposed to the nine provinces).
fn is_city(province: &str) -> bool {
    province.ends_with("특별시") || province.ends_with("광역시") || province.ends_with("특별자치시")
}

/// Without blanks and without parenthesised remarks (`제주시(산지 제외)` → `제주시`).
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = depth.saturating_sub(1),
            c if depth > 0 || c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// `Some(answer)` when the area's name is one two provinces use, settled by the upper area.
fn shared_name(area: &str, upper: &str) -> Option<Option<&'static str>> {
    let mentions = |words: &[&str]| words.iter().any(|word| upper.contains(word));
    if area == "광주" || area == "광주시" {
        return Some(if mentions(&["경기"]) {
            Some(GYEONGGI)
        } else if mentions(&["광주", "전남", "전라남도"]) {
            Some(GWANGJU)
        } else {
            None
        });
    }
    if area.starts_with("고성") {
        return Some(if mentions(&["강원"]) {
            Some(GANGWON)
        } else if mentions(&["경남", "경상남도"]) {
            Some(GYEONGNAM)
        } else {
            None
        });
    }
    None
}

/// The province a (normalized) name points to: every part of a joined name that we know must
/// agree.
fn of_name(name: &str) -> Option<&'static str> {
    let mut found = None;
    for part in name.split(SEPARATORS).filter(|part| !part.is_empty()) {
        if let Some(province) = of_part(part) {
            match found {
                None => found = Some(province),
                Some(seen) if seen == province => {}
                Some(_) => return None,
            }
        }
    }
    found
}

fn of_part(part: &str) -> Option<&'static str> {
    if let Some(exact) = PROVINCES.iter().find(|province| **province == part) {
        return Some(exact);
    }
    PREFIXES
        .iter()
        .filter(|(prefix, _)| part.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, province)| *province)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_province_is_found_by_its_names_and_places() {
        let cases: [(&str, &[&str]); 17] = [
            (SEOUL, &["서울", "서울특별시", "서울동남권", "서울서북권"]),
            (BUSAN, &["부산", "부산광역시", "부산동부", "부산서부"]),
            (DAEGU, &["대구", "대구광역시", "군위", "군위군"]),
            (INCHEON, &["인천", "인천광역시", "강화", "옹진", "서해5도", "백령도", "연평도"]),
            (GWANGJU, &["광주광역시", "광주동부", "광주서부"]),
            (DAEJEON, &["대전", "대전광역시"]),
            (ULSAN, &["울산", "울산광역시", "울산동부", "울산서부"]),
            (SEJONG, &["세종", "세종특별자치시"]),
            (
                GYEONGGI,
                &["경기도", "경기북부", "수원", "성남시", "고양", "용인", "의정부", "남양주", "동두천"],
            ),
            (
                GANGWON,
                &[
                    "강원도",
                    "강원특별자치도",
                    "강원북부산지",
                    "춘천",
                    "강릉평지",
                    "원주",
                    "속초평지",
                    "대관령",
                ],
            ),
            (CHUNGBUK, &["충북", "충청북도", "청주", "충주", "제천", "영동"]),
            (CHUNGNAM, &["충남", "충청남도", "천안", "아산", "서산", "태안"]),
            (JEONBUK, &["전북", "전북특별자치도", "전라북도", "전주", "군산", "남원"]),
            (
                JEONNAM,
                &["전남", "전라남도", "목포", "여수", "순천", "흑산도·홍도", "거문도·초도", "흑산도.홍도"],
            ),
            (
                GYEONGBUK,
                &["경북", "경상북도", "경북북동산지", "포항", "경주", "안동", "울릉도·독도", "울릉도.독도"],
            ),
            (GYEONGNAM, &["경남", "경상남도", "창원", "김해", "진주", "남해", "거제"]),
            (
                JEJU,
                &[
                    "제주",
                    "제주도",
                    "제주특별자치도",
                    "제주도산지",
                    "제주시동부",
                    "서귀포시서부",
                    "추자도",
                    "제주시(산지 제외)",
                ],
            ),
        ];
        for (province, names) in cases {
            for name in names {
                assert_eq!(province_of_area("", name), Some(province), "area {name}");
                assert_eq!(province_of_area(name, "모르는구역"), Some(province), "upper {name}");
            }
        }
        let covered: std::collections::BTreeSet<&str> = cases.iter().map(|(province, _)| *province).collect();
        assert_eq!(covered.len(), 17);
        assert!(PREFIXES.iter().all(|(_, province)| PROVINCES.contains(province)));
    }

    #[test]
    fn no_prefix_is_a_prefix_of_another_provinces_entry() {
        for (a, pa) in PREFIXES {
            for (b, pb) in PREFIXES {
                if a != b && b.starts_with(a) {
                    assert_eq!(pa, pb, "{a} is a prefix of {b}");
                }
            }
        }
    }

    #[test]
    fn sea_areas_are_in_no_province() {
        for sea in [
            "서해중부앞바다",
            "서해중부먼바다",
            "동해중부안쪽먼바다",
            "남해서부동쪽먼바다",
            "제주도남쪽먼바다",
            "경기북부앞바다",
            "부산앞바다",
            "여수평수구역",
            "동해중부해상",
        ] {
            assert!(is_sea_area(sea), "{sea}");
            assert_eq!(province_of_area("경기도", sea), None, "{sea}");
        }
        assert!(!is_sea_area("동해평지"));
        assert!(!is_sea_area("남해"));
        assert_eq!(province_of_area("", "동해평지"), Some(GANGWON));
    }

    #[test]
    fn unknown_names_are_unknown() {
        assert_eq!(province_of_area("", ""), None);
        assert_eq!(province_of_area("", "모르는구역"), None);
        assert_eq!(province_of_area("전국", "동부"), None);
        assert_eq!(province_of_area("", "Seoul"), None);
    }

    #[test]
    fn the_upper_area_settles_names_two_provinces_share() {
        assert_eq!(province_of_area("경기도", "광주"), Some(GYEONGGI));
        assert_eq!(province_of_area("서울·인천·경기도", "광주"), Some(GYEONGGI));
        assert_eq!(province_of_area("전라남도", "광주"), Some(GWANGJU));
        assert_eq!(province_of_area("광주광역시", "광주"), Some(GWANGJU));
        assert_eq!(province_of_area("", "광주"), None);
        assert_eq!(province_of_area("강원도", "고성평지"), Some(GANGWON));
        assert_eq!(province_of_area("경상남도", "고성"), Some(GYEONGNAM));
        assert_eq!(province_of_area("", "고성"), None);
    }

    #[test]
    fn metropolitan_areas_win_over_the_province_kma_groups_them_with() {
        assert_eq!(province_of_area("경상남도", "부산"), Some(BUSAN));
        assert_eq!(province_of_area("경상남도", "울산서부"), Some(ULSAN));
        assert_eq!(province_of_area("경상북도", "대구"), Some(DAEGU));
        assert_eq!(province_of_area("충청남도", "대전"), Some(DAEJEON));
        assert_eq!(province_of_area("충청남도", "세종"), Some(SEJONG));
        assert_eq!(province_of_area("서울·인천·경기도", "서울동북권"), Some(SEOUL));
        assert_eq!(province_of_area("서울·인천·경기도", "인천"), Some(INCHEON));
        assert_eq!(province_of_area("서울·인천·경기도", "수원"), Some(GYEONGGI));
    }

    #[test]
    fn joined_names_must_agree_and_provinces_disagreeing_defer_to_the_upper_area() {
        assert_eq!(province_of_area("", "서울·인천·경기도"), None);
        assert_eq!(province_of_area("서울·인천·경기도", "모르는구역"), None);
        assert_eq!(province_of_area("경상북도", "울릉도.독도"), Some(GYEONGBUK));
        // A bare `영동` is a county of 충청북도, but under 강원도 it is the east coast.
        assert_eq!(province_of_area("강원도", "영동"), Some(GANGWON));
        assert_eq!(province_of_area("충청북도", "영동"), Some(CHUNGBUK));
        assert_eq!(province_of_area(" 강원도 ", " 강원 북부 산지 "), Some(GANGWON));
    }
}
