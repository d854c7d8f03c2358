//! The parser never panics: every prefix of every sample, random fragment soup, random
//! characters and hostile nesting all end in `Ok` or `Err`.

use linegate_influxql::{parse, ErrorKind};

const SAMPLES: &[&str] = &[
    "SELECT mean(\"usage_user\") AS \"mean\" INTO \"archive\" FROM \"telegraf\".\"autogen\".\"cpu\" WHERE \"host\" =~ /^web\\/x/ AND time >= now() - 1h GROUP BY time(10s, -5s), \"host\" fill(previous) ORDER BY time DESC LIMIT 100 OFFSET 10 SLIMIT 5 SOFFSET 1 tz('Europe/Paris')",
    "SELECT *::field, v::integer, /re/, -v, +1.5e3, 'it\\'s', top(x, host, 3) FROM db..m, /cpu.*/, (SELECT count(distinct(x)) FROM a) WHERE a <> 1 OR b != 2 AND c !~ /x/",
    "SELECT a % b & c | d ^ e FROM m WHERE time > 1767218400000ms and time <= 1767222000s fill(-1.5)",
    "SELECT DISTINCT host FROM m -- comment\n; /* block */ SHOW DATABASES;",
    "SHOW MEASUREMENTS ON db WITH MEASUREMENT =~ /c/ WHERE a = 'b' LIMIT 1 OFFSET 2",
    "SHOW TAG KEYS ON db FROM cpu WHERE a = 1 LIMIT 1 OFFSET 1",
    "SHOW TAG VALUES ON db FROM cpu WITH KEY IN (\"a\", b) WHERE x = 'y' LIMIT 3",
    "SHOW TAG VALUES WITH KEY !~ /x/",
    "SHOW FIELD KEYS ON db FROM rp.cpu LIMIT 1",
    "SHOW SERIES ON db FROM cpu WHERE host = 'a'",
    "SHOW RETENTION POLICIES ON \"db\"",
    "CREATE DATABASE db WITH DURATION 1d REPLICATION 1 SHARD DURATION 1h NAME rp",
    "CREATE RETENTION POLICY rp ON db DURATION INF REPLICATION 1 SHARD DURATION 1d DEFAULT",
    "ALTER RETENTION POLICY rp ON db DURATION 1h REPLICATION 2 SHARD DURATION 1h DEFAULT",
    "DROP RETENTION POLICY rp ON db; DROP DATABASE db; DROP MEASUREMENT m",
    "DROP SERIES FROM cpu WHERE host = 'a'; DELETE FROM cpu WHERE time < '2020-01-01'",
    "SELECT \"a\\\"b\\\\c\\nd\" FROM \"ü\"\r\nWHERE x = 'µ' -- end",
    "SELECT 9223372036854775808, -9223372036854775808, 1µ, 1u, 1ns, 2w3d FROM m",
    "SELECT v INTO db.rp.:MEASUREMENT FROM m GROUP BY *, /x/",
    "SHOW USERS; GRANT ALL TO bob; KILL QUERY 1",
];

/// Parsing must return (either way) and unsupported errors must carry no position.
fn no_panic(text: &str) {
    if let Err(e) = parse(text) {
        assert!(!e.message.is_empty(), "{text:?}");
        if e.kind == ErrorKind::Unsupported {
            assert!(e.position.is_none(), "{text:?}");
        }
    }
}

#[test]
fn every_prefix_of_every_sample() {
    for sample in SAMPLES {
        for (end, _) in sample.char_indices() {
            no_panic(&sample[..end]);
            no_panic(&sample[end..]);
        }
        no_panic(sample);
    }
}

/// A tiny deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "SLIMIT",
    "SOFFSET",
    "INTO",
    "AS",
    "AND",
    "OR",
    "SHOW",
    "TAG",
    "KEYS",
    "VALUES",
    "WITH",
    "KEY",
    "IN",
    "ON",
    "CREATE",
    "DROP",
    "DATABASE",
    "RETENTION",
    "POLICY",
    "DURATION",
    "REPLICATION",
    "SHARD",
    "DEFAULT",
    "INF",
    "DELETE",
    "SERIES",
    "MEASUREMENT",
    "MEASUREMENTS",
    "FIELD",
    "ALTER",
    "DISTINCT",
    "fill",
    "tz",
    "time",
    "now",
    "null",
    "none",
    "mean",
    "host",
    "v",
    "*",
    "::",
    ":",
    "field",
    "tag",
    "float",
    "(",
    ")",
    ",",
    ";",
    ".",
    "..",
    "/",
    "/x/",
    "/a\\/b",
    "'s'",
    "'",
    "\"",
    "\"q\"",
    "\\",
    "-",
    "--",
    "+",
    "%",
    "&",
    "|",
    "^",
    "=",
    "!=",
    "<>",
    "=~",
    "!~",
    "<",
    "<=",
    ">",
    ">=",
    "!",
    "1",
    "-1",
    "1.5",
    ".5",
    "1.",
    "1e3",
    "1e",
    "1h",
    "1h30m",
    "1x",
    "15251w",
    "99999999999999999999",
    "1µ",
    "µ",
    "$",
    "$p",
    " ",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "/*",
    "*/",
    "€",
    "\u{0}",
    "DESC",
    "ASC",
    "true",
    "FALSE",
];

#[test]
fn random_fragment_soup() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let len = rng.below(24);
        let mut text = String::new();
        for _ in 0..len {
            text.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
            if rng.below(3) == 0 {
                text.push(' ');
            }
        }
        no_panic(&text);
    }
}

#[test]
fn random_characters() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let alphabet: Vec<char> =
        "SELCTFROMWHEacdfgpx0123456789 \t\n\r()[]{}*/\\'\"-+=!~<>.,;:%&|^$µé€\u{0}"
            .chars()
            .collect();
    for _ in 0..20_000 {
        let len = rng.below(40);
        let text: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        no_panic(&text);
        no_panic(&format!("SELECT {text}"));
        no_panic(&format!("SELECT v FROM m WHERE {text}"));
    }
}

#[test]
fn random_mutations_of_samples() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for _ in 0..5_000 {
        let sample: Vec<char> = SAMPLES[rng.below(SAMPLES.len())].chars().collect();
        let mut chars = sample.clone();
        for _ in 0..1 + rng.below(4) {
            if chars.is_empty() {
                break;
            }
            let at = rng.below(chars.len());
            match rng.below(3) {
                0 => {
                    chars.remove(at);
                }
                1 => chars.insert(at, sample[rng.below(sample.len())]),
                _ => {
                    let other = rng.below(chars.len());
                    chars.swap(at, other);
                }
            }
        }
        no_panic(&chars.into_iter().collect::<String>());
    }
}

/// Deep nesting is refused with an error rather than overflowing the stack: the allowed 64
/// levels fit in 1 MiB even unoptimised (nested subqueries cost the most, ~12 KiB a level in
/// a debug build), half of a default Rust or Tokio thread.
#[test]
fn hostile_nesting() {
    let deep = 100_000;
    let cases = [
        format!("SELECT {}1 FROM m", "(".repeat(deep)),
        format!("SELECT {}1{} FROM m", "(".repeat(deep), ")".repeat(deep)),
        format!("SELECT {}v FROM m", "-(".repeat(deep)),
        format!("SELECT {}v FROM m", "mean(".repeat(deep)),
        format!("SELECT {}v FROM m", "distinct(".repeat(deep)),
        format!("SELECT v FROM {}", "(SELECT v FROM ".repeat(deep)),
        format!("SELECT v FROM m WHERE {}a = 1", "(".repeat(deep)),
        format!("SELECT v FROM m WHERE a = 1{}", " AND b = 2".repeat(deep)),
        format!("SELECT v FROM m WHERE a = 1{}", " AND b = 2".repeat(499)),
        format!("SELECT {} FROM m", vec!["v"; deep].join(",")),
        format!("SELECT v FROM m{}", "; SELECT v FROM m".repeat(deep / 10)),
    ];
    let handle = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || {
            for text in &cases {
                // Walking the tree (here: Debug, Clone, Drop) must fit too.
                if let Ok(query) = parse(text) {
                    let copy = query.clone();
                    assert!(!format!("{copy:?}").is_empty());
                }
                no_panic(text);
            }
        })
        .expect("spawn");
    handle.join().expect("no stack overflow or panic");

    let err = parse(&format!(
        "SELECT {}1{} FROM m",
        "(".repeat(65),
        ")".repeat(65)
    ))
    .unwrap_err();
    assert_eq!(
        err.message,
        "nested more than 64 levels deep at line 1, char 72"
    );
    let ok = format!("SELECT {}1{} FROM m", "(".repeat(64), ")".repeat(64));
    assert!(parse(&ok).is_ok());
}

#[test]
fn operator_budget() {
    let at_limit = format!("SELECT v FROM m WHERE a = 1{}", " OR a = 1".repeat(499));
    assert!(parse(&at_limit).is_ok());
    // 999 operators, then ` OR a = 1` brings the 1000th (`=`) and the 1001st (`OR`).
    let over = format!("{at_limit} OR a = 1");
    let Err(err) = parse(&over) else {
        panic!("over the budget parsed")
    };
    let or_char = over.len() - " OR a = 1".len() + 2;
    assert_eq!(
        err.message,
        format!("expression has more than 1000 operators at line 1, char {or_char}")
    );
    // The budget is per expression, not per statement.
    let fields = vec!["a + b"; 600].join(", ");
    assert!(parse(&format!(
        "SELECT {fields} FROM m WHERE {}",
        vec!["x = 1"; 400].join(" AND ")
    ))
    .is_ok());
}
