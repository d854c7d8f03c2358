//! Fuzzes the InfluxQL parser (`linegate-influxql`): any text, valid UTF-8 or not, parses to
//! statements or to an error with a message, never a panic or a stack overflow, and an
//! error's position lies within the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match linegate_influxql::parse(&text) {
        Ok(query) => {
            let _ = format!("{query:?}");
        }
        Err(error) => {
            assert!(!error.message.is_empty());
            if let Some(position) = error.position {
                // As 1.x, a lone `\r` and `\r\n` end a line too.
                let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count() + 1;
                assert!(position.line <= lines, "{error:?} in {text:?}");
            }
        }
    }
});
