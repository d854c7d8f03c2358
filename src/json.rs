//! The little JSON the error bodies need, written the way `serde_json` writes it.

use std::fmt::Write;

/// Appends `text` as a JSON string literal (quotes included).
pub(crate) fn string(out: &mut String, text: &str) {
    out.push('"');
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
        out.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                let _ = write!(out, "\\u{:04x}", c);
            }
        }
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.push('"');
}

/// Appends `"key":` to an object being written.
pub(crate) fn key(out: &mut String, key: &str) {
    string(out, key);
    out.push(':');
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_serde_json() {
        let mut out = String::new();
        super::string(&mut out, "a\"b\\c\nd\te\r\u{1}\u{8}\u{c}µ/");
        assert_eq!(out, r#""a\"b\\c\nd\te\r\u0001\b\fµ/""#);
    }
}
