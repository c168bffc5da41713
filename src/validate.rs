//! Check-digit validators, by name. Each takes the canonical value (ASCII digits and upper-case
//! letters, separators removed) and answers whether it is well formed; none panics on bad input.

/// How a validator's answer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// A check digit: failing caps a finding at `low`, passing sets `validated`.
    CheckDigit,
    /// A structural plausibility test (a prefix): passing adds to the score, failing only
    /// removes unlabelled values.
    Structure,
}

/// A named validator from `patterns/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    MyNumber,
    DriversLicense,
    ResidentCode,
    InsurerNumber,
    PassportPrefix,
}

impl Validator {
    /// The validator called `name` in `patterns/`, if there is one.
    pub fn by_name(name: &str) -> Option<Validator> {
        Some(match name {
            "my_number" => Validator::MyNumber,
            "drivers_license" => Validator::DriversLicense,
            "resident_code" => Validator::ResidentCode,
            "insurer_number" => Validator::InsurerNumber,
            "passport_prefix" => Validator::PassportPrefix,
            _ => return None,
        })
    }

    pub fn strength(self) -> Strength {
        match self {
            Validator::PassportPrefix => Strength::Structure,
            _ => Strength::CheckDigit,
        }
    }

    /// Whether `canonical` passes.
    pub fn check(self, canonical: &str) -> bool {
        let b = canonical.as_bytes();
        match self {
            Validator::MyNumber => my_number(b),
            Validator::DriversLicense => drivers_license(b),
            Validator::ResidentCode => resident_code(b),
            Validator::InsurerNumber => insurer_number(b),
            Validator::PassportPrefix => b.len() == 9 && matches!(b[0], b'M' | b'T'),
        }
    }
}

fn digits(b: &[u8]) -> Option<Vec<u32>> {
    b.iter()
        .map(|&c| c.is_ascii_digit().then(|| u32::from(c - b'0')))
        .collect()
}

/// Weighted mod-11 sum with weights 2..7 cycling from the rightmost digit of `body`
/// (Qn = n+1 for n ≤ 6, n−5 for n ≥ 7, n counted from the right starting at 1).
fn mod11_weights_2_to_7(body: &[u32]) -> u32 {
    body.iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let n = i as u32 + 1;
            d * if n <= 6 { n + 1 } else { n - 5 }
        })
        .sum::<u32>()
        % 11
}

/// 個人番号: 12 digits, the last a check digit.
/// Source: 行政手続における特定の個人を識別するための番号の利用等に関する法律施行令… 総務省令第85号
/// (平成26年) 第5条: r = Σ Pn·Qn mod 11 over the 11-digit body, check = 0 if r ≤ 1 else 11 − r.
pub fn my_number(b: &[u8]) -> bool {
    let Some(d) = digits(b) else { return false };
    if d.len() != 12 {
        return false;
    }
    let r = mod11_weights_2_to_7(&d[..11]);
    let check = if r <= 1 { 0 } else { 11 - r };
    check == d[11]
}

/// 住民票コード: 11 digits, the last a check digit; weights 2..7 from the right over the 10-digit
/// body (平成14年総務省告示第436号, as implemented by code4fukui/Modulus11 and matching published
/// sample codes). The remainder-0 mapping is unverified, so both 0 (as for My Number) and
/// (11 − r) mod 10 (as for 全国地方公共団体コード) are accepted.
pub fn resident_code(b: &[u8]) -> bool {
    let Some(d) = digits(b) else { return false };
    if d.len() != 11 {
        return false;
    }
    let r = mod11_weights_2_to_7(&d[..10]);
    let a = if r <= 1 { 0 } else { 11 - r };
    let b_variant = (11 - r) % 10;
    d[10] == a || d[10] == b_variant
}

/// Public-safety-commission codes of first issuance (the first two digits of a licence number),
/// after the National Police Agency circular of 1981-09-10 as listed by secondary sources.
const LICENCE_COMMISSIONS: [u32; 51] = [
    10, 11, 12, 13, 14, 20, 21, 22, 23, 24, 25, 30, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 60,
    61, 62, 63, 64, 65, 70, 71, 72, 73, 74, 80, 81, 82, 83, 90, 91, 92, 93, 94, 95, 96, 97,
];

/// 運転免許証番号: `PP YY NNNNNN C R`; PP a commission code, C over digits 1–10 with weights
/// 5,4,3,2,7,6,5,4,3,2, C = (11 − r) mod 10 (Uehara, tetsutalow.github.io/driversnumbercheckdigit;
/// jiko0.com). Code 00 (old overseas conversions) is not accepted.
pub fn drivers_license(b: &[u8]) -> bool {
    let Some(d) = digits(b) else { return false };
    if d.len() != 12 {
        return false;
    }
    let pp = d[0] * 10 + d[1];
    if !LICENCE_COMMISSIONS.contains(&pp) {
        return false;
    }
    const W: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let r = d[..10].iter().zip(W).map(|(x, w)| x * w).sum::<u32>() % 11;
    (11 - r) % 10 == d[10]
}

/// 保険者番号 (8 digits, or 6 for 市町村国保): from the rightmost body digit multiply by 2,1,2,1…,
/// add the digits of each product, check = (10 − sum mod 10) mod 10 (MHLW numbering rules as
/// quoted at www5f.biglobe.ne.jp/~h-it/mlcont/mc0124.htm).
pub fn insurer_number(b: &[u8]) -> bool {
    let Some(d) = digits(b) else { return false };
    if d.len() != 8 && d.len() != 6 {
        return false;
    }
    let (body, check) = d.split_at(d.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let p = x * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    (10 - sum % 10) % 10 == check[0]
}

/// 法人番号: 13 digits, the FIRST a check digit: 9 − (Σ Pn·Qn mod 9), Qn = 1 for odd n and 2 for
/// even n counted from the right of the 12-digit base (国税庁 checkdigit.pdf). Used to recognise
/// a distractor, never to report.
pub fn corporate_number(b: &[u8]) -> bool {
    let Some(d) = digits(b) else { return false };
    if d.len() != 13 {
        return false;
    }
    let s: u32 = d[1..]
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| x * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    9 - s % 9 == d[0]
}

/// ICAO Doc 9303 Part 3 check digit: weights 7,3,1 repeating; digits are their value, A–Z 10–35,
/// `<` 0; the sum mod 10.
pub fn icao_check_digit(field: &[u8]) -> Option<u32> {
    let mut s = 0u32;
    for (i, &c) in field.iter().enumerate() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'<' => 0,
            _ => return None,
        };
        s += v * [7, 3, 1][i % 3];
    }
    Some(s % 10)
}

/// A TD3 (passport) machine-readable zone line 2 of 44 characters whose document-number, birth
/// date, expiry and composite check digits all hold.
pub fn mrz_td3_line2(b: &[u8]) -> bool {
    if b.len() != 44 {
        return false;
    }
    let cd = |field: &[u8], at: usize| -> bool {
        b[at].is_ascii_digit() && icao_check_digit(field) == Some(u32::from(b[at] - b'0'))
    };
    let composite: Vec<u8> = [&b[0..10], &b[13..20], &b[21..43]].concat();
    cd(&b[0..9], 9) && cd(&b[13..19], 19) && cd(&b[21..27], 27) && cd(&composite, 43)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values below were computed independently with the Python implementations in
    // shared/reference/jp-identifiers.md §4 (and published sample numbers cited there).

    #[test]
    fn my_number_values() {
        for v in [
            "123456789018",
            "621498320257",
            "176749365367",
            "861564985029",
            "000000000000",
        ] {
            assert!(my_number(v.as_bytes()), "{v}");
        }
        for v in [
            "123456789019",
            "176749365362",
            "861564985021",
            "12345678901",
            "12345678901a",
        ] {
            assert!(!my_number(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn corporate_values() {
        for v in ["7000012050002", "1180301018771", "6010701027558", "1013369678351"] {
            assert!(corporate_number(v.as_bytes()), "{v}");
        }
        for v in ["2013369678351", "5638349667622"] {
            assert!(!corporate_number(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn resident_code_values() {
        for v in [
            "24727059608",
            "24846016224",
            "25208017643",
            "00472011871",
            "19782789670",
            "19782789671",
        ] {
            assert!(resident_code(v.as_bytes()), "{v}");
        }
        for v in ["00472011877", "81375855824", "26097187355"] {
            assert!(!resident_code(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn licence_values() {
        for v in [
            "115332368650",
            "643188975470",
            "625944942081",
            "729405688471",
            "974997243422",
        ] {
            assert!(drivers_license(v.as_bytes()), "{v}");
        }
        for v in ["115332368680", "643188975460", "625944942061", "315332368660"] {
            assert!(!drivers_license(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn insurer_values() {
        for v in ["33120015", "01130012", "131011", "06443857", "39088000", "366112"] {
            assert!(insurer_number(v.as_bytes()), "{v}");
        }
        for v in ["06443852", "39088001", "366113"] {
            assert!(!insurer_number(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn icao_values() {
        assert_eq!(icao_check_digit(b"L898902C3"), Some(6));
        assert_eq!(icao_check_digit(b"TK1234567"), Some(1));
        assert!(mrz_td3_line2(b"L898902C36UTO7408122F1204159ZE184226B<<<<<10"));
        assert!(mrz_td3_line2(b"TK12345671JPN8501019M3001019<<<<<<<<<<<<<<<0"));
        assert!(!mrz_td3_line2(b"TK12345672JPN8501019M3001019<<<<<<<<<<<<<<<0"));
    }
}
