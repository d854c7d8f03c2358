//! The little JSON the error bodies need, written piece by piece into one `String` with
//! `serde_json`'s string escaping (the core already reads JSON query bodies with it; a
//! hand-written escaper measured no smaller in the page's wasm).

/// Appends `text` as a JSON string literal (quotes included).
pub(crate) fn string(out: &mut String, text: &str) {
    // Serializing a `str` cannot fail.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}

/// Appends `"key":` to an object being written.
pub(crate) fn key(out: &mut String, key: &str) {
    string(out, key);
    out.push(':');
}
