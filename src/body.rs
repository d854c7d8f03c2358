//! Request bodies: `Content-Encoding`, streaming gzip inflate, and size caps enforced while
//! the bytes arrive — a gzip bomb stops at the cap having inflated no more than the cap.

use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use crate::error::WriteError;

/// Default cap on the raw and on the decoded body: 10 MiB, as InfluxDB 3.
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

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
    /// Collecting the member header (fixed 10 bytes plus optional parts).
    Header(Vec<u8>),
    /// Inflating the deflate stream.
    Deflate(Box<InflateState>),
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
    out: Vec<u8>,
    gzip: GzipStage,
    member_start: usize,
    crc: crc32fast::Hasher,
}

impl BodyDecoder {
    /// A decoder for `encoding` whose raw and decoded sizes may not exceed `limit` bytes.
    pub fn new(encoding: ContentEncoding, limit: usize) -> Self {
        BodyDecoder {
            encoding,
            limit,
            raw_len: 0,
            out: Vec::new(),
            gzip: GzipStage::Header(Vec::new()),
            member_start: 0,
            crc: crc32fast::Hasher::new(),
        }
    }

    /// Rejects early a request whose `Content-Length` already exceeds the cap.
    pub fn check_content_length(&self, content_length: Option<u64>) -> Result<(), WriteError> {
        match content_length {
            Some(n) if n > self.limit as u64 => Err(self.too_large()),
            _ => Ok(()),
        }
    }

    fn too_large(&self) -> WriteError {
        WriteError::TooLarge { limit: self.limit }
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
                    self.gzip = GzipStage::Header(Vec::new());
                }
                GzipStage::Header(header) => {
                    let before = header.len();
                    header.extend_from_slice(input);
                    match gzip_header_len(header) {
                        Err(()) => return invalid("invalid gzip header"),
                        Ok(None) => {
                            if header.len() > 64 * 1024 {
                                return invalid("invalid gzip header");
                            }
                            return Ok(());
                        }
                        Ok(Some(len)) => {
                            input = &input[len - before..];
                            self.gzip =
                                GzipStage::Deflate(InflateState::new_boxed(DataFormat::Raw));
                            self.member_start = self.out.len();
                            self.crc = crc32fast::Hasher::new();
                        }
                    }
                }
                GzipStage::Deflate(state) => {
                    let (consumed, done) = inflate_into(state, input, &mut self.out, self.limit)?;
                    input = &input[consumed..];
                    if done {
                        self.crc.update(&self.out[self.member_start..]);
                        self.gzip = GzipStage::Trailer(Vec::with_capacity(8));
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
                        let member_len = self.out.len() - self.member_start;
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

/// Inflates as much of `input` as possible into `out`, never letting `out` grow past
/// `limit + 1` bytes. Returns the bytes consumed and whether the deflate stream ended.
fn inflate_into(
    state: &mut InflateState,
    mut input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(usize, bool), WriteError> {
    const STEP: usize = 256 * 1024;
    let mut consumed = 0;
    loop {
        // Room for at most one byte past the limit: enough to know it was exceeded.
        let room = (limit + 1)
            .saturating_sub(out.len())
            .min(STEP.max(input.len() * 4));
        if room == 0 {
            return Err(WriteError::TooLarge { limit });
        }
        let start = out.len();
        out.resize(start + room, 0);
        let result = inflate(state, input, &mut out[start..], MZFlush::None);
        out.truncate(start + result.bytes_written);
        consumed += result.bytes_consumed;
        input = &input[result.bytes_consumed..];
        if out.len() > limit {
            return Err(WriteError::TooLarge { limit });
        }
        match result.status {
            Ok(MZStatus::StreamEnd) => return Ok((consumed, true)),
            Ok(_) => {
                if input.is_empty() && result.bytes_written < room {
                    return Ok((consumed, false));
                }
                if result.bytes_consumed == 0 && result.bytes_written == 0 {
                    return Ok((consumed, false));
                }
            }
            // Needs more input (or more room, which the next round gives).
            Err(MZError::Buf) => {
                if input.is_empty() {
                    return Ok((consumed, false));
                }
            }
            Err(_) => return Err(WriteError::InvalidGzip("corrupt deflate stream".into())),
        }
    }
}

/// Length of a complete gzip member header at the start of `h`, `None` if more bytes are
/// needed, `Err` if it is not a gzip header.
fn gzip_header_len(h: &[u8]) -> Result<Option<usize>, ()> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if h.len() >= 2 && (h[0] != 0x1f || h[1] != 0x8b) || h.len() >= 3 && h[2] != 8 {
        return Err(());
    }
    if h.len() < 10 {
        return Ok(None);
    }
    let flags = h[3];
    if flags & 0xe0 != 0 {
        return Err(());
    }
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let Some(len) = h.get(pos..pos + 2) else {
            return Ok(None);
        };
        pos += 2 + u16::from_le_bytes([len[0], len[1]]) as usize;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            match h
                .get(pos..)
                .and_then(|rest| rest.iter().position(|&c| c == 0))
            {
                Some(i) => pos += i + 1,
                None => return Ok(None),
            }
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    Ok(if h.len() >= pos { Some(pos) } else { None })
}

#[cfg(test)]
mod tests;
