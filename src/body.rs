//! Request bodies: `Content-Encoding`, streaming gzip inflate, and size caps enforced while
//! the bytes arrive — a gzip bomb stops at the cap having inflated no more than the cap.

use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_HAS_MORE_INPUT, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use crate::error::WriteError;

/// Default cap on the raw and on the decoded body: 10 MiB, as InfluxDB 3.
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

/// Gzip (one member) of `data` at a miniz compression `level` (0–10; 1 is fastest): what
/// a shell sends when it forwards a body with `Content-Encoding: gzip`.
pub fn gzip(data: &[u8], level: u8) -> Vec<u8> {
    let deflated = miniz_oxide::deflate::compress_to_vec(data, level);
    let mut out = Vec::with_capacity(deflated.len() + 18);
    // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unknown
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    out.extend_from_slice(&deflated);
    let mut crc = crc32fast::Hasher::new();
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// How the body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEncoding {
    /// No `Content-Encoding`, or `identity`.
    Identity,
    /// `gzip` (one or more concatenated members).
    Gzip,
}

impl ContentEncoding {
    /// Reads a `Content-Encoding` header value; `gzip` and `identity` match in any case,
    /// anything else is a 415.
    pub fn from_header(value: Option<&[u8]>) -> Result<ContentEncoding, WriteError> {
        let Some(value) = value else {
            return Ok(ContentEncoding::Identity);
        };
        let trimmed = value.trim_ascii();
        if trimmed.eq_ignore_ascii_case(b"gzip") {
            Ok(ContentEncoding::Gzip)
        } else if trimmed.eq_ignore_ascii_case(b"identity") || trimmed.is_empty() {
            Ok(ContentEncoding::Identity)
        } else {
            Err(WriteError::UnsupportedEncoding(
                String::from_utf8_lossy(value).into_owned(),
            ))
        }
    }
}

/// Where the gzip decoder is within the current member.
enum GzipStage {
    /// Reading the member header (fixed 10 bytes plus optional parts).
    Header(HeaderReader),
    /// Inflating the deflate stream.
    Deflate(Box<DecompressorOxide>),
    /// Collecting the 8-byte trailer (CRC32, size mod 2^32).
    Trailer(Vec<u8>),
    /// After a complete member: only another member may follow.
    Between,
}

/// Decodes a request body chunk by chunk, enforcing both caps as it goes.
///
/// ```
/// use linegate::{BodyDecoder, ContentEncoding};
///
/// let mut decoder = BodyDecoder::new(ContentEncoding::Identity, 1024);
/// decoder.push(b"cpu v=1\n").unwrap();
/// assert_eq!(decoder.finish().unwrap(), b"cpu v=1\n");
/// ```
pub struct BodyDecoder {
    encoding: ContentEncoding,
    limit: usize,
    raw_len: usize,
    /// The decoded bytes. Gzip inflates straight into it, after a zeroed window
    /// ([`WINDOW`] bytes) and with zeroed room ahead: the body is `out[WINDOW..decoded]`.
    out: Vec<u8>,
    decoded: usize,
    gzip: GzipStage,
    member_start: usize,
    crc: crc32fast::Hasher,
    /// The inflate state of the last member, reused (reset) by the next.
    spare: Option<Box<DecompressorOxide>>,
}

impl BodyDecoder {
    /// A decoder for `encoding` whose raw and decoded sizes may not exceed `limit` bytes.
    pub fn new(encoding: ContentEncoding, limit: usize) -> Self {
        BodyDecoder {
            encoding,
            limit,
            raw_len: 0,
            out: Vec::new(),
            decoded: 0,
            gzip: GzipStage::Header(HeaderReader::new()),
            member_start: 0,
            crc: crc32fast::Hasher::new(),
            spare: None,
        }
    }

    /// Rejects early a request whose `Content-Length` already exceeds the cap; otherwise
    /// makes room for an identity body of that length, so its bytes are copied once.
    pub fn check_content_length(&mut self, content_length: Option<u64>) -> Result<(), WriteError> {
        match content_length {
            Some(n) if n > self.limit as u64 => Err(self.too_large()),
            Some(n) if self.encoding == ContentEncoding::Identity && self.out.is_empty() => {
                self.out.reserve_exact(n as usize);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn too_large(&self) -> WriteError {
        WriteError::TooLarge { limit: self.limit }
    }

    /// How many bytes are decoded so far.
    #[cfg(test)]
    fn decoded_len(&self) -> usize {
        match self.encoding {
            ContentEncoding::Identity => self.out.len(),
            ContentEncoding::Gzip => self.decoded.saturating_sub(WINDOW),
        }
    }

    /// Feeds the next chunk of the raw body.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), WriteError> {
        self.raw_len += chunk.len();
        if self.raw_len > self.limit {
            return Err(self.too_large());
        }
        match self.encoding {
            ContentEncoding::Identity => {
                if self.out.is_empty() {
                    self.out.reserve(chunk.len());
                }
                self.out.extend_from_slice(chunk);
                Ok(())
            }
            ContentEncoding::Gzip => self.push_gzip(chunk),
        }
    }

    /// Ends the body and returns the decoded bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, WriteError> {
        if self.encoding == ContentEncoding::Gzip {
            match &self.gzip {
                GzipStage::Between => {}
                // An empty body or a member cut short.
                _ => return Err(WriteError::InvalidGzip("unexpected end of file".into())),
            }
            // Moved down in place: no second buffer (a Worker's memory is 128 MB), and the
            // room left is at most what the last doubling added.
            self.out.truncate(self.decoded);
            self.out.drain(..WINDOW);
            return Ok(self.out);
        }
        self.out.shrink_to_fit();
        Ok(self.out)
    }

    /// Decodes a whole body at once.
    pub fn decode(
        encoding: ContentEncoding,
        limit: usize,
        body: &[u8],
    ) -> Result<Vec<u8>, WriteError> {
        let mut decoder = BodyDecoder::new(encoding, limit);
        decoder.push(body)?;
        decoder.finish()
    }

    fn push_gzip(&mut self, mut input: &[u8]) -> Result<(), WriteError> {
        let invalid = |m: &str| Err(WriteError::InvalidGzip(m.to_owned()));
        while !input.is_empty() {
            match &mut self.gzip {
                GzipStage::Between => {
                    self.gzip = GzipStage::Header(HeaderReader::new());
                }
                GzipStage::Header(header) => {
                    let (used, done) = header
                        .read(input)
                        .map_err(|m| WriteError::InvalidGzip(m.to_owned()))?;
                    input = &input[used..];
                    if !done {
                        debug_assert!(input.is_empty());
                        return Ok(());
                    }
                    let state = match self.spare.take() {
                        Some(mut state) => {
                            state.init();
                            state
                        }
                        None => Box::default(),
                    };
                    self.gzip = GzipStage::Deflate(state);
                    if self.out.is_empty() {
                        self.out.resize(WINDOW, 0);
                        self.decoded = WINDOW;
                    }
                    self.member_start = self.decoded;
                    self.crc = crc32fast::Hasher::new();
                }
                GzipStage::Deflate(state) => {
                    let (consumed, done) =
                        inflate_member(state, input, &mut self.out, &mut self.decoded, self.limit)?;
                    input = &input[consumed..];
                    if done {
                        self.crc.update(&self.out[self.member_start..self.decoded]);
                        let trailer = GzipStage::Trailer(Vec::with_capacity(8));
                        if let GzipStage::Deflate(state) =
                            std::mem::replace(&mut self.gzip, trailer)
                        {
                            self.spare = Some(state);
                        }
                    } else if consumed == 0 {
                        return Ok(());
                    }
                }
                GzipStage::Trailer(trailer) => {
                    let take = (8 - trailer.len()).min(input.len());
                    trailer.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    if trailer.len() == 8 {
                        let crc =
                            u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
                        let size =
                            u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
                        let member_len = self.decoded - self.member_start;
                        let actual_crc =
                            std::mem::replace(&mut self.crc, crc32fast::Hasher::new()).finalize();
                        if crc != actual_crc || size != member_len as u32 {
                            return invalid(
                                "corrupt gzip stream does not have a matching checksum",
                            );
                        }
                        self.gzip = GzipStage::Between;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The zeroed bytes before the first member's output. A deflate stream may refer up to
/// 32 KiB back; before its start it reads these zeros, as flate2 (InfluxDB 3's decoder)
/// does from its zeroed window, so a corrupt stream fails with the same error.
const WINDOW: usize = 32 * 1024;

/// Room the first inflate of a body starts with; it doubles as needed, up to the cap.
const FIRST_ROOM: usize = 64 * 1024;

/// Inflates as much of `input` as possible straight into `out` after its `decoded` bytes,
/// never letting the body (past the [`WINDOW`]) grow beyond `limit + 1` bytes. The output
/// stays in place, so back-references read it there (miniz's non-wrapping mode, its
/// fastest: no window to copy through). Returns the bytes consumed and whether the
/// deflate stream ended.
fn inflate_member(
    state: &mut DecompressorOxide,
    input: &[u8],
    out: &mut Vec<u8>,
    decoded: &mut usize,
    limit: usize,
) -> Result<(usize, bool), WriteError> {
    let flags = TINFL_FLAG_HAS_MORE_INPUT | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    // Room for at most one byte past the limit: enough to know it was exceeded.
    let cap = limit.saturating_add(1).saturating_add(WINDOW);
    let grow = |out: &mut Vec<u8>| {
        if out.len() >= cap {
            return Err(WriteError::TooLarge { limit });
        }
        let wanted = (out.len() * 2).max(FIRST_ROOM).min(cap);
        // Exactly: this already doubles, and the cap bounds the allocation too.
        out.reserve_exact(wanted - out.len());
        out.resize(wanted, 0);
        Ok(())
    };
    let mut consumed = 0;
    if out.len() == *decoded {
        grow(out)?;
    }
    loop {
        let (status, used, written) = decompress(state, &input[consumed..], out, *decoded, flags);
        consumed += used;
        *decoded += written;
        if *decoded - WINDOW > limit {
            return Err(WriteError::TooLarge { limit });
        }
        match status {
            TINFLStatus::Done => return Ok((consumed, true)),
            TINFLStatus::NeedsMoreInput => return Ok((consumed, false)),
            // Room is short: grow it, even if miniz left a few bytes unused.
            TINFLStatus::HasMoreOutput => grow(out)?,
            _ => return Err(WriteError::InvalidGzip("corrupt deflate stream".into())),
        }
    }
}

const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;
/// The flag bits RFC 1952 reserves; a header with any of them set is refused.
const FRESERVED: u8 = 0xe0;
/// The longest file name or comment flate2 (InfluxDB 3's decoder) accepts.
const FIELD_MAX: usize = 65535;

/// The parts of a gzip member header, in order (RFC 1952 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderStep {
    /// Magic, method, flags, mtime, extra flags, OS: 10 bytes.
    Fixed,
    /// The 2-byte length of the extra field (`FEXTRA`).
    ExtraLen,
    /// The extra field; this many bytes remain.
    Extra(usize),
    /// The zero-terminated file name (`FNAME`); this many bytes read.
    Name(usize),
    /// The zero-terminated comment (`FCOMMENT`); this many bytes read.
    Comment(usize),
    /// The low 16 bits of the CRC32 of the header so far (`FHCRC`).
    HeaderCrc,
}

/// Reads a member header as its bytes arrive, so that a header split over many pushes
/// costs no more than one that arrives whole. Checks what flate2 checks, with its texts.
struct HeaderReader {
    step: HeaderStep,
    flags: u8,
    /// The fixed-size part being collected, and how much of it is there.
    part: [u8; 10],
    filled: usize,
    /// CRC32 of the header bytes read so far, for `FHCRC`.
    crc: crc32fast::Hasher,
}

impl HeaderReader {
    fn new() -> Self {
        HeaderReader {
            step: HeaderStep::Fixed,
            flags: 0,
            part: [0; 10],
            filled: 0,
            crc: crc32fast::Hasher::new(),
        }
    }

    /// Reads header bytes from the start of `input`: how many it used, and whether the
    /// header is complete (if not, it used all of `input`).
    fn read(&mut self, input: &[u8]) -> Result<(usize, bool), &'static str> {
        const BAD: &str = "invalid gzip header";
        let mut at = 0;
        loop {
            let done = match self.step {
                HeaderStep::Fixed => {
                    if !self.fill(input, &mut at, 10) {
                        return Ok((at, false));
                    }
                    let h = self.part;
                    if h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 || h[3] & FRESERVED != 0 {
                        return Err(BAD);
                    }
                    self.flags = h[3];
                    self.crc.update(&h);
                    HeaderStep::Fixed
                }
                HeaderStep::ExtraLen => {
                    if !self.fill(input, &mut at, 2) {
                        return Ok((at, false));
                    }
                    let len = [self.part[0], self.part[1]];
                    self.crc.update(&len);
                    self.step = HeaderStep::Extra(u16::from_le_bytes(len) as usize);
                    continue;
                }
                HeaderStep::Extra(left) => {
                    let take = left.min(input.len() - at);
                    self.crc.update(&input[at..at + take]);
                    at += take;
                    if take < left {
                        self.step = HeaderStep::Extra(left - take);
                        return Ok((at, false));
                    }
                    HeaderStep::ExtraLen
                }
                HeaderStep::Name(len) | HeaderStep::Comment(len) => {
                    // At most FIELD_MAX bytes before the terminating zero.
                    let rest = &input[at..];
                    let allowed = FIELD_MAX - len;
                    let window = &rest[..rest.len().min(allowed + 1)];
                    match window.iter().position(|&c| c == 0) {
                        Some(i) => {
                            self.crc.update(&rest[..=i]);
                            at += i + 1;
                            self.step
                        }
                        None if rest.len() > allowed => return Err("gzip header field too long"),
                        None => {
                            self.crc.update(rest);
                            at = input.len();
                            self.step = match self.step {
                                HeaderStep::Name(_) => HeaderStep::Name(len + rest.len()),
                                _ => HeaderStep::Comment(len + rest.len()),
                            };
                            return Ok((at, false));
                        }
                    }
                }
                HeaderStep::HeaderCrc => {
                    if !self.fill(input, &mut at, 2) {
                        return Ok((at, false));
                    }
                    let stored = u16::from_le_bytes([self.part[0], self.part[1]]);
                    if stored != self.crc.clone().finalize() as u16 {
                        return Err("corrupt gzip stream does not have a matching checksum");
                    }
                    HeaderStep::HeaderCrc
                }
            };
            match self.after(done) {
                Some(next) => self.step = next,
                None => return Ok((at, true)),
            }
        }
    }

    /// The first part after `done` that the flags ask for; `None` at the end of the header.
    fn after(&self, done: HeaderStep) -> Option<HeaderStep> {
        let parts = [
            (FEXTRA, HeaderStep::ExtraLen),
            (FNAME, HeaderStep::Name(0)),
            (FCOMMENT, HeaderStep::Comment(0)),
            (FHCRC, HeaderStep::HeaderCrc),
        ];
        let from = match done {
            HeaderStep::Fixed => 0,
            HeaderStep::ExtraLen | HeaderStep::Extra(_) => 1,
            HeaderStep::Name(_) => 2,
            HeaderStep::Comment(_) => 3,
            HeaderStep::HeaderCrc => 4,
        };
        parts[from..]
            .iter()
            .find(|(flag, _)| self.flags & flag != 0)
            .map(|&(_, step)| step)
    }

    /// Collects the next bytes of an `n`-byte part into `self.part`; true once complete.
    fn fill(&mut self, input: &[u8], at: &mut usize, n: usize) -> bool {
        let take = (n - self.filled).min(input.len() - *at);
        self.part[self.filled..self.filled + take].copy_from_slice(&input[*at..*at + take]);
        self.filled += take;
        *at += take;
        if self.filled == n {
            self.filled = 0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests;
