//! The write-ahead log: every accepted write is framed, appended and fsync'd here before the
//! client hears 204.
//!
//! Segments are files `wal/<20-digit number>.wal`; a record is
//! `[u32 length][u32 CRC32 of the payload][payload]`, little-endian. One thread owns the
//! open segment and commits in groups: it takes every append that is waiting, writes them,
//! fsyncs once, then acknowledges them all — so concurrent requests share one fsync. The
//! same thread runs each append's `apply` hook (adding the rows to the in-memory buffer) and
//! the rotation hook, so the set of rows in a buffer generation is exactly the set of
//! records in the segments it covers.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use linegate::Precision;
use tokio::sync::oneshot;

use crate::fsutil;
use crate::metrics::Metrics;

/// Bytes of the record header (length + CRC).
const HEADER: usize = 8;
/// A record longer than this is corruption, not data (bodies are capped far below).
const MAX_RECORD: usize = 1 << 30;
const VERSION: u8 = 1;

/// One logged write: enough to rebuild exactly the rows that were acknowledged.
///
/// The body is the decoded line protocol as received; replay parses it again with the same
/// precision and default time and skips the lines the catalog rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<B> {
    /// The database's catalog id (a dropped and recreated database has a new one).
    pub database_id: u32,
    /// The database's name.
    pub database: String,
    /// The precision the body was written with.
    pub precision: Precision,
    /// Time given to lines without a timestamp, in nanoseconds.
    pub default_time: i64,
    /// Lines that parsed but broke the schema; they were not stored.
    pub skip_lines: Vec<u32>,
    /// The decoded body.
    pub body: B,
}

impl<B: AsRef<[u8]>> Entry<B> {
    /// The record header and metadata; the body follows it on disk.
    pub fn encode_head(&self) -> Vec<u8> {
        let precision = self.precision.as_str().as_bytes();
        let mut head = Vec::with_capacity(
            HEADER + 24 + self.database.len() + precision.len() + 4 * self.skip_lines.len(),
        );
        head.extend_from_slice(&[0; HEADER]);
        head.push(VERSION);
        head.extend_from_slice(&self.database_id.to_le_bytes());
        head.push(precision.len() as u8);
        head.extend_from_slice(precision);
        head.extend_from_slice(&self.default_time.to_le_bytes());
        head.extend_from_slice(&(self.database.len() as u32).to_le_bytes());
        head.extend_from_slice(self.database.as_bytes());
        head.extend_from_slice(&(self.skip_lines.len() as u32).to_le_bytes());
        for line in &self.skip_lines {
            head.extend_from_slice(&line.to_le_bytes());
        }
        let body = self.body.as_ref();
        let length = (head.len() - HEADER + body.len()) as u32;
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head[HEADER..]);
        crc.update(body);
        head[..4].copy_from_slice(&length.to_le_bytes());
        head[4..8].copy_from_slice(&crc.finalize().to_le_bytes());
        head
    }
}

impl<'a> Entry<&'a [u8]> {
    /// Reads a record payload (without the header).
    pub fn decode(payload: &'a [u8]) -> Option<Entry<&'a [u8]>> {
        let mut r = payload;
        let mut take = |n: usize| -> Option<&'a [u8]> {
            let (head, rest) = r.split_at_checked(n)?;
            r = rest;
            Some(head)
        };
        if take(1)?[0] != VERSION {
            return None;
        }
        let database_id = u32::from_le_bytes(take(4)?.try_into().ok()?);
        let precision_len = take(1)?[0] as usize;
        let precision = Precision::from_name(std::str::from_utf8(take(precision_len)?).ok()?)?;
        let default_time = i64::from_le_bytes(take(8)?.try_into().ok()?);
        let name_len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        let database = std::str::from_utf8(take(name_len)?).ok()?.to_owned();
        let skips = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        let mut skip_lines = Vec::with_capacity(skips.min(payload.len() / 4));
        for _ in 0..skips {
            skip_lines.push(u32::from_le_bytes(take(4)?.try_into().ok()?));
        }
        Some(Entry {
            database_id,
            database,
            precision,
            default_time,
            skip_lines,
            body: r,
        })
    }
}

/// The path of segment `number`.
fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:020}.wal"))
}

/// The segments in `dir`, oldest first.
pub fn segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let number = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".wal"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(number) = number {
            found.push((number, path));
        }
    }
    found.sort();
    Ok(found)
}

/// What reading a segment found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Complete records passed to the callback.
    pub records: u64,
    /// Where a torn tail began, if the segment had one; it has been cut off.
    pub torn_at: Option<u64>,
    /// Bytes dropped with the torn tail.
    pub torn_bytes: u64,
    /// Damaged byte ranges with intact records after them: the records there are lost, the
    /// ones before and after were replayed, and the segment as found is kept as
    /// `<segment>.wal.corrupt` for inspection.
    pub damaged: Vec<(u64, u64)>,
}

/// Calls `each` with every intact record of the segment at `path`, in order.
///
/// A bad record (short header, short payload or bad CRC) with nothing intact after it is a
/// torn tail: an append interrupted by a crash, never acknowledged. It is cut off so the
/// segment reads cleanly next time. A bad record with intact records after it is damage in
/// the middle (a disk or filesystem fault): the records after it are found again by their
/// framing and replayed too, and the damage is reported in [`Replayed::damaged`].
pub fn replay(path: &Path, mut each: impl FnMut(&[u8])) -> io::Result<Replayed> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut outcome = Replayed::default();
    // The clean prefix streams through a buffer; only after a bad record is the rest read
    // whole, to look for intact records beyond it.
    let bad_at = {
        let mut reader = BufReader::with_capacity(1 << 20, &mut file);
        replay_clean(&mut reader, size, &mut each, &mut outcome.records)?
    };
    let Some(bad_at) = bad_at else {
        return Ok(outcome);
    };
    let mut rest = Vec::with_capacity((size - bad_at) as usize);
    file.seek(SeekFrom::Start(bad_at))?;
    file.read_to_end(&mut rest)?;
    let mut pos = 0;
    while pos < rest.len() {
        if let Some((payload, next)) = frame_at(&rest, pos) {
            each(payload);
            outcome.records += 1;
            pos = next;
            continue;
        }
        match (pos + 1..rest.len()).find(|&p| frame_at(&rest, p).is_some()) {
            Some(resumed) => {
                outcome
                    .damaged
                    .push((bad_at + pos as u64, bad_at + resumed as u64));
                pos = resumed;
            }
            None => {
                let at = bad_at + pos as u64;
                outcome.torn_at = Some(at);
                outcome.torn_bytes = size - at;
                break;
            }
        }
    }
    if !outcome.damaged.is_empty() {
        let mut kept = path.as_os_str().to_owned();
        kept.push(".corrupt");
        fs::copy(path, &kept)?;
    }
    if let Some(at) = outcome.torn_at {
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(at)?;
        file.sync_all()?;
    }
    Ok(outcome)
}

/// Replays records from the start while they are intact; the offset of the first bad one.
fn replay_clean(
    reader: &mut impl Read,
    size: u64,
    each: &mut impl FnMut(&[u8]),
    records: &mut u64,
) -> io::Result<Option<u64>> {
    let mut offset = 0u64;
    let mut payload = Vec::new();
    loop {
        let mut header = [0u8; HEADER];
        match read_full(reader, &mut header)? {
            0 if offset == size => return Ok(None),
            n if n < HEADER => return Ok(Some(offset)),
            _ => {}
        }
        let length = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
        if length > MAX_RECORD || offset + (HEADER + length) as u64 > size {
            return Ok(Some(offset));
        }
        payload.resize(length, 0);
        reader.read_exact(&mut payload)?;
        if crc32fast::hash(&payload) != crc {
            return Ok(Some(offset));
        }
        each(&payload);
        *records += 1;
        offset += (HEADER + length) as u64;
    }
}

/// The intact record at `pos` of `bytes` (its payload, and where the next record starts).
fn frame_at(bytes: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let header = bytes.get(pos..pos.checked_add(HEADER)?)?;
    let length = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    let end = (pos + HEADER).checked_add(length)?;
    let payload = bytes.get(pos + HEADER..end)?;
    // Cheap tests first: resynchronising tries every offset of the damaged range.
    if payload.first() != Some(&VERSION) || crc32fast::hash(payload) != crc {
        return None;
    }
    Some((payload, end))
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Why an append was not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalError {
    /// The disk is full: this append was not written (the segment is as it was before it),
    /// and appends are taken again once there is room.
    Full(String),
    /// The log takes no more appends: an I/O error left the segment's tail unknown, or the
    /// log stopped.
    Failed(String),
}

impl WalError {
    /// What went wrong, for the client and the log.
    pub fn message(&self) -> &str {
        match self {
            WalError::Full(m) | WalError::Failed(m) => m,
        }
    }
}

/// A hook run on the log thread.
pub type Hook = Box<dyn FnOnce() + Send>;
/// The rotation hook: gets the number of the segment just closed.
pub type RotateHook = Box<dyn FnOnce(u64) + Send>;

/// An append waiting for the log thread.
pub struct Append {
    /// [`Entry::encode_head`].
    pub head: Vec<u8>,
    /// The entry's body.
    pub body: Vec<u8>,
    /// Wait for fsync before `apply` and the acknowledgement (false for v3 `no_sync=true`).
    pub sync: bool,
    /// Runs once the record is written (and fsync'd when `sync`), before `done`.
    pub apply: Hook,
    /// Receives the outcome.
    pub done: oneshot::Sender<Result<(), WalError>>,
}

enum Op {
    Append(Append),
    Rotate(RotateHook, oneshot::Sender<Result<(), WalError>>),
    Close(oneshot::Sender<()>),
}

/// The handle to the log thread.
#[derive(Clone)]
pub struct Wal {
    ops: mpsc::Sender<Op>,
}

impl Wal {
    /// Starts the log thread, appending to a new segment numbered `next_segment` in `dir`.
    pub fn start(dir: &Path, next_segment: u64, metrics: Arc<Metrics>) -> io::Result<Wal> {
        let file = create_segment(dir, next_segment)?;
        let (ops, queue) = mpsc::channel();
        let mut log = LogThread {
            dir: dir.to_owned(),
            file,
            segment: next_segment,
            written: 0,
            failed: None,
            metrics,
        };
        thread::Builder::new()
            .name("linegate-wal".into())
            .spawn(move || log.run(queue))?;
        Ok(Wal { ops })
    }

    /// Appends a record; resolves once it is durable (or written, without `sync`).
    pub async fn append(
        &self,
        head: Vec<u8>,
        body: Vec<u8>,
        sync: bool,
        apply: Hook,
    ) -> Result<(), WalError> {
        let (done, outcome) = oneshot::channel();
        let append = Append {
            head,
            body,
            sync,
            apply,
            done,
        };
        self.ops
            .send(Op::Append(append))
            .map_err(|_| WalError::Failed("the write-ahead log is closed".into()))?;
        outcome
            .await
            .map_err(|_| WalError::Failed("the write-ahead log stopped".into()))?
    }

    /// Closes the current segment and starts the next one; `then` runs on the log thread in
    /// between, with the closed segment's number.
    pub async fn rotate(&self, then: RotateHook) -> Result<(), WalError> {
        let (done, outcome) = oneshot::channel();
        self.ops
            .send(Op::Rotate(then, done))
            .map_err(|_| WalError::Failed("the write-ahead log is closed".into()))?;
        outcome
            .await
            .map_err(|_| WalError::Failed("the write-ahead log stopped".into()))?
    }

    /// Syncs and stops the log thread (after every append sent before).
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.ops.send(Op::Close(done)).is_ok() {
            let _ = closed.await;
        }
    }
}

fn create_segment(dir: &Path, number: u64) -> io::Result<File> {
    let file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(segment_path(dir, number))?;
    fsutil::sync_dir(dir)?;
    Ok(file)
}

struct LogThread {
    dir: PathBuf,
    file: File,
    segment: u64,
    /// Bytes of the open segment written whole (a failed append is cut back to this).
    written: u64,
    /// Set after an I/O error: the segment's tail is unknown, so nothing more is accepted.
    failed: Option<String>,
    metrics: Arc<Metrics>,
}

/// An append written but not yet fsync'd.
type Waiting = (Hook, oneshot::Sender<Result<(), WalError>>);

impl LogThread {
    fn run(&mut self, queue: mpsc::Receiver<Op>) {
        let mut waiting: Vec<Waiting> = Vec::new();
        while let Ok(first) = queue.recv() {
            let mut next = Some(first);
            // Everything already queued joins this group and shares its fsync.
            while let Some(op) = next.take().or_else(|| queue.try_recv().ok()) {
                match op {
                    Op::Append(append) => self.write(append, &mut waiting),
                    Op::Rotate(then, done) => {
                        self.commit(&mut waiting);
                        let _ = done.send(self.rotate(then));
                    }
                    Op::Close(done) => {
                        self.commit(&mut waiting);
                        let _ = done.send(());
                        return;
                    }
                }
            }
            self.commit(&mut waiting);
        }
        self.commit(&mut waiting);
    }

    fn write(&mut self, append: Append, waiting: &mut Vec<Waiting>) {
        if let Some(reason) = &self.failed {
            let _ = append.done.send(Err(WalError::Failed(reason.clone())));
            return;
        }
        let written = self
            .file
            .write_all(&append.head)
            .and_then(|()| self.file.write_all(&append.body));
        if let Err(e) = written {
            let _ = append.done.send(Err(self.write_failed(e)));
            return;
        }
        self.written += (append.head.len() + append.body.len()) as u64;
        self.metrics
            .wal_bytes(append.head.len() + append.body.len());
        if append.sync {
            waiting.push((append.apply, append.done));
        } else {
            (append.apply)();
            let _ = append.done.send(Ok(()));
        }
    }

    /// Fsyncs once for every waiting append, then applies and acknowledges them.
    fn commit(&mut self, waiting: &mut Vec<Waiting>) {
        if waiting.is_empty() {
            return;
        }
        let started = Instant::now();
        let synced = match &self.failed {
            Some(reason) => Err(reason.clone()),
            None => self
                .file
                .sync_data()
                .map_err(|e| format!("write-ahead log fsync failed: {e}")),
        };
        self.metrics.wal_fsync(started.elapsed(), waiting.len());
        if let Err(reason) = &synced {
            self.fail(reason.clone());
        }
        for (apply, done) in waiting.drain(..) {
            match &synced {
                Ok(()) => {
                    apply();
                    let _ = done.send(Ok(()));
                }
                Err(reason) => {
                    let _ = done.send(Err(WalError::Failed(reason.clone())));
                }
            }
        }
    }

    fn rotate(&mut self, then: RotateHook) -> Result<(), WalError> {
        if let Some(reason) = &self.failed {
            return Err(WalError::Failed(reason.clone()));
        }
        let next = self.segment + 1;
        let rotated = self
            .file
            .sync_data()
            .and_then(|()| create_segment(&self.dir, next));
        match rotated {
            Ok(file) => {
                let closed = self.segment;
                self.file = file;
                self.segment = next;
                self.written = 0;
                then(closed);
                Ok(())
            }
            Err(e) => {
                self.fail(format!("write-ahead log rotation failed: {e}"));
                Err(WalError::Failed(self.failed.clone().unwrap_or_default()))
            }
        }
    }

    /// After a failed write: with the disk full, the partial record is cut off and the log
    /// goes on (the append is refused, later ones may fit); any other error, or a cut that
    /// fails, leaves the tail unknown and stops the log.
    fn write_failed(&mut self, e: io::Error) -> WalError {
        if fsutil::is_full(&e) {
            match self.file.set_len(self.written) {
                Ok(()) => {
                    tracing::warn!(error = %e, "write-ahead log: disk full, write refused");
                    return WalError::Full(fsutil::full_message(&e));
                }
                Err(cut) => tracing::error!(error = %cut, "cutting a failed append off failed"),
            }
        }
        self.fail(format!("write-ahead log write failed: {e}"));
        WalError::Failed(self.failed.clone().unwrap_or_default())
    }

    fn fail(&mut self, reason: String) {
        tracing::error!(%reason, "write-ahead log failed; writes are refused until restart");
        self.failed = Some(reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(body: &[u8]) -> Entry<&[u8]> {
        Entry {
            database_id: 7,
            database: "db/rp".into(),
            precision: Precision::Second,
            default_time: -5,
            skip_lines: vec![3, 9],
            body,
        }
    }

    fn record(entry: &Entry<&[u8]>) -> Vec<u8> {
        let mut bytes = entry.encode_head();
        bytes.extend_from_slice(entry.body);
        bytes
    }

    fn temp(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("linegate-wal-{name}-"))
            .tempdir()
            .unwrap()
    }

    #[test]
    fn entries_round_trip() {
        let original = entry(b"m f=1 1\n");
        let bytes = record(&original);
        assert_eq!(Entry::decode(&bytes[HEADER..]), Some(original));
        assert_eq!(Entry::decode(&bytes[HEADER..HEADER + 5]), None);
    }

    #[test]
    fn replay_stops_at_a_torn_tail_and_cuts_it() {
        let tmp = temp("torn");
        let dir = tmp.path();
        let path = segment_path(dir, 1);
        let mut bytes = record(&entry(b"a f=1\n"));
        bytes.extend(record(&entry(b"b f=2\n")));
        let full = bytes.len();
        let third = record(&entry(b"c f=3\n"));
        bytes.extend_from_slice(&third[..third.len() - 2]);
        fs::write(&path, &bytes).unwrap();

        let mut bodies = Vec::new();
        let outcome = replay(&path, |p| {
            bodies.push(Entry::decode(p).unwrap().body.to_vec())
        })
        .unwrap();
        assert_eq!(bodies, [b"a f=1\n".to_vec(), b"b f=2\n".to_vec()]);
        assert_eq!(outcome.torn_at, Some(full as u64));
        assert_eq!(fs::metadata(&path).unwrap().len(), full as u64);
        let again = replay(&path, |_| {}).unwrap();
        assert_eq!((again.records, again.torn_at), (2, None));
    }

    #[test]
    fn a_flipped_bit_in_the_last_record_is_a_torn_tail() {
        let tmp = temp("crc");
        let dir = tmp.path();
        let path = segment_path(dir, 1);
        let mut bytes = record(&entry(b"a f=1\n"));
        let first = bytes.len();
        bytes.extend(record(&entry(b"b f=2\n")));
        let last = bytes.len() - 2;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let outcome = replay(&path, |_| {}).unwrap();
        assert_eq!((outcome.records, outcome.torn_at), (1, Some(first as u64)));
    }

    #[test]
    fn damage_in_the_middle_keeps_the_records_on_both_sides() {
        let tmp = temp("middle");
        let dir = tmp.path();
        let path = segment_path(dir, 1);
        let bodies: Vec<Vec<u8>> = (0..5).map(|i| format!("m v={i}i\n").into_bytes()).collect();
        let mut bytes = Vec::new();
        let mut starts = Vec::new();
        for body in &bodies {
            starts.push(bytes.len());
            bytes.extend(record(&entry(body)));
        }
        let end_of_1 = starts[2];
        // Record 1's payload damaged, record 3's header overwritten with zeros.
        bytes[starts[1] + HEADER + 3] ^= 0x40;
        bytes[starts[3]..starts[3] + HEADER].fill(0);
        fs::write(&path, &bytes).unwrap();

        let mut seen = Vec::new();
        let outcome = replay(&path, |p| {
            seen.push(Entry::decode(p).unwrap().body.to_vec())
        })
        .unwrap();
        assert_eq!(
            seen,
            [bodies[0].clone(), bodies[2].clone(), bodies[4].clone()]
        );
        assert_eq!(outcome.records, 3);
        assert_eq!(
            outcome.damaged,
            [
                (starts[1] as u64, end_of_1 as u64),
                (starts[3] as u64, starts[4] as u64)
            ]
        );
        assert_eq!(outcome.torn_at, None);
        // Nothing cut: the segment stays as it was, and a copy is kept for inspection.
        assert_eq!(fs::read(&path).unwrap(), bytes);
        assert_eq!(
            fs::read(dir.join("00000000000000000001.wal.corrupt")).unwrap(),
            bytes
        );
        assert_eq!(segments(dir).unwrap().len(), 1);
    }

    #[test]
    fn damage_then_a_torn_tail() {
        let tmp = temp("middle-torn");
        let dir = tmp.path();
        let path = segment_path(dir, 1);
        let mut bytes = record(&entry(b"a f=1\n"));
        let second = bytes.len();
        bytes.extend(record(&entry(b"b f=2\n")));
        let third = bytes.len();
        bytes.extend(record(&entry(b"c f=3\n")));
        let fourth = bytes.len();
        let torn = record(&entry(b"d f=4\n"));
        bytes.extend_from_slice(&torn[..torn.len() - 3]);
        bytes[second + HEADER + 1] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let mut seen = Vec::new();
        let outcome = replay(&path, |p| {
            seen.push(Entry::decode(p).unwrap().body.to_vec())
        })
        .unwrap();
        assert_eq!(seen, [b"a f=1\n".to_vec(), b"c f=3\n".to_vec()]);
        assert_eq!(outcome.damaged, [(second as u64, third as u64)]);
        assert_eq!(outcome.torn_at, Some(fourth as u64));
        assert_eq!(fs::metadata(&path).unwrap().len(), fourth as u64);
    }

    #[tokio::test]
    async fn group_commit_applies_in_order_and_rotates() {
        let tmp = temp("group");
        let dir = tmp.path();
        let wal = Wal::start(dir, 1, Arc::new(Metrics::default())).unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut pending = Vec::new();
        for i in 0..20u8 {
            let body = [b'a' + i];
            let head = entry(&body).encode_head();
            let seen = seen.clone();
            let wal = wal.clone();
            pending.push(tokio::spawn(async move {
                wal.append(
                    head,
                    body.to_vec(),
                    i % 2 == 0,
                    Box::new(move || seen.lock().unwrap().push(i)),
                )
                .await
            }));
        }
        for p in pending {
            p.await.unwrap().unwrap();
        }
        let closed = Arc::new(std::sync::Mutex::new(None));
        let c = closed.clone();
        wal.rotate(Box::new(move |n| *c.lock().unwrap() = Some(n)))
            .await
            .unwrap();
        wal.close().await;
        assert_eq!(seen.lock().unwrap().len(), 20);
        assert_eq!(*closed.lock().unwrap(), Some(1));
        let found: Vec<u64> = segments(dir).unwrap().into_iter().map(|s| s.0).collect();
        assert_eq!(found, [1, 2]);
        let outcome = replay(&segment_path(dir, 1), |_| {}).unwrap();
        assert_eq!((outcome.records, outcome.torn_at), (20, None));
    }
}
