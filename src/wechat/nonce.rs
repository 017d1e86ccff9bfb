//! The `reserved` nonce: the CSRF guard that ties WeChat's callback to the session that asked for it.

use crate::error::{Error, Result};
use crate::prelude::*;
use crate::wechat::params::Reserved;

/// Characters of a generated nonce; all of them are in WeChat's `reserved` charset.
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Length of a generated nonce: 32 × log2(62) ≈ 190.5 bits.
pub const NONCE_LEN: usize = 32;

/// Bytes at or above this are rejected: 248 = 4 × 62, so `byte % 62` is uniform below it.
const REJECT_FROM: u8 = (256 / ALPHABET.len() * ALPHABET.len()) as u8;

/// A fresh nonce of [`NONCE_LEN`] characters of `[A-Za-z0-9]`, drawn from `fill` by rejection sampling so
/// no character is likelier than another.
///
/// `fill` is the random source (the browser's `crypto.getRandomValues` in the package); it returns `Err`
/// when none is available, which becomes [`Error::CryptoUnavailable`].
///
/// ```
/// let mut counter = 0u8;
/// let nonce = wx_subscribemsg::wechat::nonce::generate(|buf| {
///     for b in buf.iter_mut() { *b = counter; counter = counter.wrapping_add(1); }
///     Ok::<(), ()>(())
/// }).unwrap();
/// assert_eq!(nonce.as_str().len(), 32);
/// assert!(nonce.as_str().starts_with("ABCD"));
/// ```
pub fn generate<E>(mut fill: impl FnMut(&mut [u8]) -> Result<(), E>) -> Result<Reserved> {
    let mut out = String::with_capacity(NONCE_LEN);
    let mut buf = [0u8; 48];
    // Each byte is kept with probability 248/256, so this ends; the cap only guards a broken source.
    for _ in 0..64 {
        fill(&mut buf).map_err(|_| Error::CryptoUnavailable)?;
        for &b in buf.iter().filter(|&&b| b < REJECT_FROM) {
            out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            if out.len() == NONCE_LEN {
                return Reserved::parse(&out);
            }
        }
    }
    Err(Error::CryptoUnavailable)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn rejection_threshold_is_the_largest_multiple_of_62() {
        assert_eq!(REJECT_FROM, 248);
    }

    #[test]
    fn rejects_biased_bytes_instead_of_wrapping_them() {
        // 248..=255 would map to A..H again under a plain modulo; they must be skipped.
        let mut next = 240u8;
        let nonce = generate::<()>(|buf| {
            for b in buf.iter_mut() {
                *b = next;
                next = next.wrapping_add(1);
            }
            Ok(())
        })
        .unwrap();
        // 240..=247 → ALPHABET[240%62..] = "yz0123456789" slice, then 248..=255 skipped, then 0.. → "ABC…".
        assert_eq!(&nonce.as_str()[..10], "23456789AB");
    }

    #[test]
    fn characters_are_uniform_where_a_plain_modulo_would_favour_a_to_h() {
        // xorshift32: a deterministic stand-in for the browser's generator.
        let mut state = 0x9E37_79B9u32;
        let mut counts = [0u32; 62];
        for _ in 0..2000 {
            let nonce = generate::<()>(|buf| {
                for b in buf.iter_mut() {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    *b = (state >> 24) as u8;
                }
                Ok(())
            })
            .unwrap();
            for c in nonce.as_str().bytes() {
                counts[ALPHABET.iter().position(|&a| a == c).unwrap()] += 1;
            }
        }
        // 64,000 characters: 1,032 expected each (σ ≈ 32). Modulo bias would put A..H near 1,280.
        assert!(counts.iter().all(|&c| (882..=1182).contains(&c)), "{counts:?}");
    }

    #[test]
    fn a_failing_or_stuck_source_is_an_error_not_a_hang() {
        assert_eq!(generate(|_| Err(())), Err(Error::CryptoUnavailable));
        let stuck = |buf: &mut [u8]| -> Result<(), ()> {
            buf.fill(255);
            Ok(())
        };
        assert_eq!(generate(stuck), Err(Error::CryptoUnavailable));
    }
}
