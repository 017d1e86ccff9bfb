//! String helpers the crate uses in place of `format!` and `[..].concat()`, which cost the wasm module more bytes
//! than the few strings a page writes are worth (see README "Size").

use crate::prelude::*;

/// The strings of `parts` one after another. `[..].concat()` does this too, through a generic joiner that costs the
/// wasm module about 1 KB; this loop costs a tenth of that.
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// The decimal digits of `n`. The `itoa` crate does it faster, with digit tables and panic messages that weigh
/// more in the wasm module than this loop, and speed does not matter for the few numbers a page writes.
pub(crate) fn decimal(mut n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[start..].iter().map(|&d| char::from(d)).collect()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn decimal_and_concat() {
        assert_eq!(super::decimal(0), "0");
        assert_eq!(super::decimal(1000), "1000");
        assert_eq!(super::decimal(u64::MAX), "18446744073709551615");
        assert_eq!(super::concat(&["wxsub:", "", "abc"]), "wxsub:abc");
        assert_eq!(super::concat(&[]), "");
    }
}
