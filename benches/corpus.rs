//! Deterministic benchmark corpora (shared by the parse benchmark and `scripts/bench-parse.sh`).

/// A small xorshift generator: the same corpus on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

const CPU_FIELDS: [&str; 10] = [
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
];

/// Telegraf's `cpu` input: 3 tags, 10 float fields, nanosecond timestamps (~230 B/line),
/// 10 s apart.
pub fn telegraf(lines: usize) -> String {
    telegraf_every(lines, 10_000_000_000)
}

/// [`telegraf`] with lines `step` nanoseconds apart (plus a little jitter): a dense corpus
/// spans minutes, as a fleet's real writes do.
pub fn telegraf_every(lines: usize, step: i64) -> String {
    use std::fmt::Write;
    let mut rng = Rng::new(0x5eed);
    let mut out = String::with_capacity(lines * 240);
    let mut ts: i64 = 1_700_000_000_000_000_000;
    for _ in 0..lines {
        let _ = write!(
            out,
            "cpu,cpu=cpu{},host=server{:02},dc=us-west-{}",
            rng.below(16),
            rng.below(100),
            rng.below(4)
        );
        for (i, field) in CPU_FIELDS.iter().enumerate() {
            let sep = if i == 0 { ' ' } else { ',' };
            // Like Telegraf: a few full-precision ratios, some short values, many zeros.
            let _ = match i {
                0 | 2 => write!(out, "{sep}{field}={}", rng.below(10_000) as f64 / 7.0),
                1 => write!(out, "{sep}{field}={}.{:03}", rng.below(10), rng.below(1000)),
                4 | 6 => write!(out, "{sep}{field}={}.{}", rng.below(2), rng.below(100)),
                _ => write!(out, "{sep}{field}=0"),
            };
        }
        ts += step + rng.below(1000) as i64;
        let _ = writeln!(out, " {ts}");
    }
    out
}

/// A fleet's dashboard data: 100 hosts × 8 cpus, every series written every 10 s, in time
/// order (800 lines a timestamp), the fields of [`telegraf`]; `lines` lines in all.
#[allow(dead_code)]
pub fn fleet(lines: usize) -> String {
    fleet_of(lines, 8, 1_700_000_000)
}

/// [`fleet`] with `cpus` cpus per host, from `start` (seconds since the epoch).
#[allow(dead_code)]
pub fn fleet_of(lines: usize, cpus: usize, start: i64) -> String {
    use std::fmt::Write;
    let mut rng = Rng::new(0xf1ee7);
    let mut out = String::with_capacity(lines * 240);
    let start = start * 1_000_000_000;
    let per_time = 100 * cpus;
    for n in 0..lines {
        let series = n % per_time;
        let ts = start + (n / per_time) as i64 * 10_000_000_000;
        let _ = write!(
            out,
            "cpu,cpu=cpu{},host=host{:03},dc=us-west-{}",
            series % cpus,
            series / cpus,
            series / cpus % 4
        );
        for (i, field) in CPU_FIELDS.iter().enumerate() {
            let sep = if i == 0 { ' ' } else { ',' };
            let _ = match i {
                0 | 2 => write!(out, "{sep}{field}={}", rng.below(10_000) as f64 / 100.0),
                1 => write!(out, "{sep}{field}={}.{:03}", rng.below(10), rng.below(1000)),
                4 | 6 => write!(out, "{sep}{field}={}.{}", rng.below(2), rng.below(100)),
                _ => write!(out, "{sep}{field}=0"),
            };
        }
        let _ = writeln!(out, " {ts}");
    }
    out
}

/// A mixed corpus: escapes, quoted strings, integers, unsigned, booleans, missing timestamps.
pub fn mixed(lines: usize) -> String {
    use std::fmt::Write;
    let mut rng = Rng::new(0xfeed);
    let mut out = String::with_capacity(lines * 160);
    let mut ts: i64 = 1_700_000_000_000_000_000;
    for _ in 0..lines {
        ts += 1_000_000 + rng.below(1000) as i64;
        match rng.below(5) {
            0 => {
                let _ = write!(
                    out,
                    "disk\\ io,device=sd{},path=/var/lib\\ data,mode=rw\\,sync reads={}i,writes={}i,read_bytes={}u,busy={}",
                    (b'a' + rng.below(4) as u8) as char,
                    rng.below(1_000_000),
                    rng.below(1_000_000),
                    rng.next_u64() >> 4,
                    if rng.below(2) == 0 { "true" } else { "F" }
                );
            }
            1 => {
                let _ = write!(
                    out,
                    "syslog,appname=nginx,facility=daemon,severity=warning message=\"GET /api/v2/write?bucket=\\\"b{}\\\" 204 {}ms\",procid=\"{}\",version={}i",
                    rng.below(100),
                    rng.below(500),
                    rng.below(65536),
                    rng.below(3)
                );
            }
            2 => {
                let _ = write!(
                    out,
                    "http_response,method=GET,server=https://example.com/{} response_time={}.{:04},http_response_code={}i,content_length={}u,result_type=\"success\"",
                    rng.below(50),
                    rng.below(3),
                    rng.below(10000),
                    200 + rng.below(4),
                    rng.below(100_000)
                );
            }
            3 => {
                let _ = write!(
                    out,
                    "mem active={}i,available_percent={}.{},buffered={}i,free={}i,used_percent={}e-2",
                    rng.below(1 << 34),
                    rng.below(100),
                    rng.below(1000),
                    rng.below(1 << 30),
                    rng.below(1 << 33),
                    rng.below(10000)
                );
            }
            _ => {
                let _ = write!(
                    out,
                    "weather,location=us\\,midwest,station=\"KC\\=1\" temperature={}.{},humidity={}i,raining={},note=\"line\\\\break\"",
                    -20 + rng.below(60) as i64,
                    rng.below(10),
                    rng.below(100),
                    if rng.below(2) == 0 { "t" } else { "FALSE" }
                );
            }
        }
        if rng.below(4) == 0 {
            out.push('\n');
        } else {
            let _ = writeln!(out, " {ts}");
        }
    }
    out
}
