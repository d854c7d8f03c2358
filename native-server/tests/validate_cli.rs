//! `linegate validate` run as a real process on real files.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn linegate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_linegate"))
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("linegate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    // A stored (uncompressed) deflate block inside a gzip member: no compressor needed.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    for (i, chunk) in bytes.chunks(65_535).enumerate() {
        let last = (i + 1) * 65_535 >= bytes.len();
        out.push(last as u8);
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let mut crc = crc32(bytes).to_le_bytes().to_vec();
    out.append(&mut crc);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn valid_file_exits_zero_with_a_summary() {
    let path = temp_file(
        "good.lp",
        b"cpu,host=a v=1,w=2i 1700000000\n# comment\n\nmem free=3u 1700000001\n",
    );
    let out = linegate()
        .args(["validate", "--precision", "s"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("2 lines, 2 points, 3 fields, 0 errors, 65 bytes in "),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("MB/s)"), "{stdout}");
}

#[test]
fn bad_lines_are_reported_compiler_style_and_exit_one() {
    let path = temp_file(
        "bad.lp",
        b"cpu v=1\n\ncpu v=\ncpu,host=a v=1 12.5\r\nok v=2\n",
    );
    let out = linegate().arg("validate").arg(&path).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let name = path.display();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], format!("{name}:3:7: missing value for field 'v'"));
    assert_eq!(
        lines[1],
        format!("{name}:4:16: invalid timestamp '12.5': expected an integer (digits only, optional '-')")
    );
    assert!(
        lines[2].starts_with("4 lines, 2 points, 2 fields, 2 errors, "),
        "{stdout}"
    );
}

#[test]
fn gzip_input_and_stdin() {
    let body = b"cpu v=1 1\ncpu v=2 2\n".repeat(40_000);
    let path = temp_file("data.lp.gz", &gzip(&body));
    let out = linegate().args(["validate"]).arg(&path).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("80000 lines, 80000 points, 80000 fields, 0 errors, 800000 bytes"),
        "{stdout}"
    );

    let mut child = linegate()
        .args(["validate", "--endpoint", "v1", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"m,t=1 x=\"a b\" 5\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("1 lines, 1 points"));
}

#[test]
fn endpoint_rules_apply_to_precision_and_unreadable_input_exits_two() {
    let path = temp_file("p.lp", b"m v=1 1\n");
    let out = linegate()
        .args(["validate", "--endpoint", "v1", "--precision", "auto"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("unknown variant `auto`"));

    let out = linegate()
        .args(["validate", "/nonexistent/file.lp"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let path = temp_file("latin1.lp", b"m v=1\nm s=\"caf\xe9\"\n");
    let out = linegate().args(["validate"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("invalid utf-8 sequence at line 2, column 9"),
        "{stderr}"
    );
}

#[test]
fn large_input_streams_in_chunks_and_a_string_may_span_their_boundary() {
    // The validator reads 8 MiB at a time: a string with a newline in it starts just before
    // that boundary and ends after it; bad lines on both sides keep their line numbers.
    const CHUNK: usize = 8 << 20;
    let filler = b"cpu v=1i 1\n";
    let n = (CHUNK - 100) / filler.len();
    let mut body = filler.repeat(n);
    body[filler.len()..2 * filler.len()].copy_from_slice(b"cpu v=1x 1\n");
    body.extend_from_slice(b"s t=\"");
    body.extend_from_slice(&[b'x'; 200]);
    body.extend_from_slice(b"\nsecond\" 1\nbad\nok v=1i 2\n");
    let path = temp_file("chunks.lp", &body);
    let out = linegate().arg("validate").arg(&path).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let name = path.display();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("{name}:2:7: ")),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(&format!("{name}:{}:4: missing field set", n + 3)),
        "{}",
        lines[1]
    );
    let summary = format!(
        "{} lines, {} points, {} fields, 2 errors, {} bytes",
        n + 3,
        n + 1,
        n + 1,
        body.len()
    );
    assert!(lines[2].starts_with(&summary), "{} vs {summary}", lines[2]);
}
