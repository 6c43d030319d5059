//! CCF's size and time strings (spec/ccf-api.md §7 "Size and time strings"; CCF's
//! `ds/unit_strings.h`): a decimal number, optionally followed by a unit. Units are
//! case-insensitive, and spaces between number and unit are allowed, as CCF allows them.
//!
//! - Sizes: no unit or `B` is bytes; `KB`, `MB`, `GB`, `TB`, `PB` are powers of 1024 (CCF's
//!   `"1MB"` is 1,048,576 bytes).
//! - Times: `us`, `ms`, `s`, `min`, `h`; a bare number is microseconds, as in CCF.
//!
//! CCF reads the number with `from_chars`, which stops at the first non-digit, so it takes
//! `"1.5MB"` for 1 MB. Cloister refuses such strings instead of guessing, and refuses values that
//! overflow 64 bits.

/// Bytes in a CCF size string, or `None` if it is not one.
pub fn parse_size_bytes(text: &str) -> Option<u64> {
    let (number, unit) = split_number_and_unit(text)?;
    let power = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "kb" => 1,
        "mb" => 2,
        "gb" => 3,
        "tb" => 4,
        "pb" => 5,
        _ => return None,
    };
    number.checked_mul(1024u64.checked_pow(power)?)
}

/// Microseconds in a CCF time string, or `None` if it is not one.
pub fn parse_duration_us(text: &str) -> Option<u64> {
    let (number, unit) = split_number_and_unit(text)?;
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "us" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        "min" => 60_000_000,
        "h" => 3_600_000_000,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// Milliseconds in a CCF time string, or `None` if it is not one. A remainder below one
/// millisecond rounds up, so that a positive timeout or interval never becomes zero (a zero tick
/// would spin); whole milliseconds are exact.
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    parse_duration_us(text).map(|us| us.div_ceil(1_000))
}

/// Splits `"12 KB"` into `(12, "KB")`: digits, optional spaces, then letters only.
fn split_number_and_unit(text: &str) -> Option<(u64, &str)> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, rest) = text.split_at(digits_end);
    if digits.is_empty() {
        return None;
    }
    let number = digits.parse::<u64>().ok()?;
    let unit = rest.trim_start_matches(' ');
    if !unit.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some((number, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_powers_of_1024() {
        let cases = [
            ("0", 0),
            ("12", 12),
            ("12B", 12),
            ("1001", 1001),
            ("3KB", 3 * 1024),
            ("16KB", 16 * 1024),
            ("1MB", 1024 * 1024),
            ("5MB", 5 * 1024 * 1024),
            ("100MB", 100 * 1024 * 1024),
            ("2GB", 2 * 1024 * 1024 * 1024),
            ("1TB", 1 << 40),
            ("1PB", 1 << 50),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_size_bytes(text), Some(bytes), "{text}");
        }
    }

    #[test]
    fn size_units_ignore_case_and_may_follow_a_space() {
        assert_eq!(parse_size_bytes("64kb"), Some(64 * 1024));
        assert_eq!(parse_size_bytes("64 KB"), Some(64 * 1024));
        assert_eq!(parse_size_bytes("1 b"), Some(1));
    }

    #[test]
    fn malformed_sizes_are_refused() {
        for text in [
            "",
            "MB",
            "5XB",
            "12345INVALIDUNIT",
            "12345ms",
            "1.5MB",
            "-1",
            "+1",
            " 1MB",
            "1MB ",
            "1 M B",
            "1KB2",
        ] {
            assert_eq!(parse_size_bytes(text), None, "{text:?}");
        }
    }

    #[test]
    fn sizes_that_overflow_64_bits_are_refused() {
        assert_eq!(parse_size_bytes("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_size_bytes("18446744073709551616"), None);
        assert_eq!(parse_size_bytes("16384PB"), None);
        assert_eq!(parse_size_bytes("16383PB"), Some(16383 << 50));
    }

    #[test]
    fn durations_convert_to_milliseconds() {
        let cases = [
            ("100ms", 100),
            ("1000ms", 1000),
            ("5000ms", 5000),
            ("1s", 1000),
            ("5s", 5000),
            ("60s", 60_000),
            ("1min", 60_000),
            ("30min", 1_800_000),
            ("2h", 7_200_000),
            ("10000us", 10),
            ("0ms", 0),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_duration_ms(text), Some(ms), "{text}");
        }
    }

    #[test]
    fn a_bare_number_is_microseconds_as_in_ccf() {
        assert_eq!(parse_duration_us("1000"), Some(1000));
        assert_eq!(parse_duration_ms("1000"), Some(1));
    }

    #[test]
    fn sub_millisecond_remainders_round_up() {
        assert_eq!(parse_duration_ms("1us"), Some(1));
        assert_eq!(parse_duration_ms("1500us"), Some(2));
        assert_eq!(parse_duration_us("1500us"), Some(1500));
    }

    #[test]
    fn duration_units_ignore_case() {
        assert_eq!(parse_duration_ms("1S"), Some(1000));
        assert_eq!(parse_duration_ms("1 Min"), Some(60_000));
    }

    #[test]
    fn malformed_durations_are_refused() {
        for text in [
            "", "ms", "5MB", "1.5s", "-1s", "1d", "1 sec", "s1", "100ms ",
        ] {
            assert_eq!(parse_duration_us(text), None, "{text:?}");
        }
        assert_eq!(parse_duration_us("18446744073709551615h"), None);
    }
}
