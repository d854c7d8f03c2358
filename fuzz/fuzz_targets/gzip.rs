//! Fuzzes the streaming gzip decoder (`BodyDecoder` with `Content-Encoding: gzip`) against
//! flate2, a reference decoder: the body is fed in 1–4 chunks under a 64 KiB limit.
//!
//! Input layout: byte 0 places up to three cuts (bits 0-1: how many; the cut points come
//! from bytes 1-3 as fractions of the body); the body follows byte 3. Half of the inputs
//! are compressed first (byte 0 bit 7), so that valid streams are explored too.
//!
//! Checked: no panic; what the decoder accepts is exactly what flate2 decodes (every
//! member, concatenated); over the limit it answers 413, and on bad input 400 with flate2
//! also failing (or finding the stream incomplete or trailing garbage).
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use linegate::{BodyDecoder, ContentEncoding};

const LIMIT: usize = 64 * 1024;

/// flate2's reading of every gzip member of `data`, or `None` if it is not gzip.
fn reference(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .take(LIMIT as u64 + 1)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (control, cuts, raw) = (data[0], &data[1..4], &data[4..]);
    let compressed;
    let body: &[u8] = if control & 0x80 != 0 {
        compressed = linegate::body::gzip(raw, control & 7);
        &compressed
    } else {
        raw
    };
    let mut points: Vec<usize> = cuts[..(control & 3) as usize]
        .iter()
        .map(|&c| body.len() * c as usize / 255)
        .collect();
    points.sort();
    let mut decoder = BodyDecoder::new(ContentEncoding::Gzip, LIMIT);
    let mut start = 0;
    let mut outcome = Ok(());
    for end in points.into_iter().chain([body.len()]) {
        outcome = decoder.push(&body[start..end]);
        if outcome.is_err() {
            break;
        }
        start = end;
    }
    let decoded = outcome.and_then(|()| decoder.finish());
    let expected = reference(body);
    match decoded {
        Ok(decoded) => {
            assert!(decoded.len() <= LIMIT);
            if control & 0x80 != 0 {
                assert_eq!(decoded, raw, "a round trip changed the data");
            }
            if let Some(expected) = expected {
                assert_eq!(decoded, expected, "differs from flate2");
            }
        }
        Err(error) => {
            assert!(matches!(error.status(), 400 | 413), "{error:?}");
            if error.status() == 413 {
                assert!(expected.is_none_or(|e| e.len() > LIMIT), "413 under the limit");
            }
            assert!(control & 0x80 == 0 || error.status() == 413, "own gzip refused: {error:?}");
        }
    }
});
