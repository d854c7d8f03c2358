//! The three write endpoints and their query-string parameters.

use std::borrow::Cow;

use crate::error::WriteError;
use crate::precision::Precision;

/// Which write API a request came in on. The endpoint decides the parameters, the precision
/// spellings, partial-write behaviour and the shape of error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// InfluxDB 1.x `POST /write`.
    V1,
    /// InfluxDB 2.x `POST /api/v2/write`.
    V2,
    /// InfluxDB 3 `POST /api/v3/write_lp`.
    V3,
}

impl Endpoint {
    /// All endpoints, in version order.
    pub const ALL: [Endpoint; 3] = [Endpoint::V1, Endpoint::V2, Endpoint::V3];

    /// The endpoint served at `path` (exact match, as InfluxDB routes).
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Self::ALL.into_iter().find(|e| e.path() == path)
    }

    /// The request path.
    pub const fn path(self) -> &'static str {
        match self {
            Endpoint::V1 => "/write",
            Endpoint::V2 => "/api/v2/write",
            Endpoint::V3 => "/api/v3/write_lp",
        }
    }

    /// The precision spellings this endpoint accepts (see GUIDE §2).
    pub fn precisions(self) -> impl Iterator<Item = &'static str> {
        Precision::SPELLINGS
            .iter()
            .map(|&(name, _)| name)
            .filter(move |&name| match self {
                Endpoint::V1 => name != "auto",
                Endpoint::V2 => name != "auto" && name != "µ",
                Endpoint::V3 => true,
            })
    }

    /// Parses a `precision` value for this endpoint.
    pub fn parse_precision(self, value: &str) -> Result<Precision, WriteError> {
        if self.precisions().any(|name| name == value) {
            if let Some(precision) = Precision::from_name(value) {
                return Ok(precision);
            }
        }
        let expected: Vec<String> = self.precisions().map(|n| format!("`{n}`")).collect();
        let detail = format!(
            "unknown variant `{value}`, expected one of {}",
            expected.join(", ")
        );
        Err(WriteError::InvalidParameter(match self {
            Endpoint::V1 => format!("failed to deserialize db/rp/precision in request: {detail}"),
            Endpoint::V2 => {
                format!("failed to deserialize org/bucket/precision in request: {detail}")
            }
            Endpoint::V3 => format!("serde error: {detail}"),
        }))
    }

    /// The precision when the request names none.
    pub const fn default_precision(self) -> Precision {
        match self {
            Endpoint::V1 | Endpoint::V2 => Precision::Nanosecond,
            Endpoint::V3 => Precision::Auto,
        }
    }
}

/// The meaning of a write request's query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteParams {
    /// Target database (after the v1 `rp` and v2 `bucket` mappings), validated.
    pub database: String,
    /// Timestamp precision of the body.
    pub precision: Precision,
    /// Store the good lines of a batch with bad ones (v3 only; default true there).
    pub accept_partial: bool,
    /// Acknowledge before the write is durable (v3 only; default false).
    pub no_sync: bool,
}

/// The `key=value` pairs of a query string or form body, decoded as
/// `application/x-www-form-urlencoded` (invalid UTF-8 shown as U+FFFD).
pub fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    form_urlencoded::parse(query.as_bytes())
}

/// The database a v1 `db` and `rp` name, for writes and queries alike: `db`, or `db/rp`
/// for a retention policy other than `autogen` or `default`. The policy is lower-cased
/// first, as InfluxDB 3 does on write, so what `rp=MyRP` wrote, `rp=MyRP` reads.
pub fn v1_database(db: &str, rp: Option<&str>) -> String {
    let rp = rp.unwrap_or("").to_lowercase();
    match rp.as_str() {
        "" | "''" | "autogen" | "default" => db.to_owned(),
        _ => format!("{db}/{rp}"),
    }
}

/// The database a v2 `bucket` names: a bucket `db/rp` is the v1 pair `db` and `rp`
/// ([`v1_database`]), so `bucket=MyDb/MyRP` reaches what `db=MyDb&rp=MyRP` wrote and
/// `db/autogen` is `db`; a bucket without `/` is the database itself.
pub fn v2_database(bucket: &str) -> String {
    match bucket.split_once('/') {
        // An empty retention part stays, so that the name rule refuses it.
        Some((db, rp)) if !rp.is_empty() => v1_database(db, Some(rp)),
        _ => bucket.to_owned(),
    }
}

/// The raw values of the parameters an endpoint honours, each at most once.
#[derive(Default)]
struct Raw<'q> {
    db: Option<Cow<'q, str>>,
    rp: Option<Cow<'q, str>>,
    bucket: Option<Cow<'q, str>>,
    org: Option<Cow<'q, str>>,
    precision: Option<Cow<'q, str>>,
    accept_partial: Option<Cow<'q, str>>,
    no_sync: Option<Cow<'q, str>>,
    p: Option<Cow<'q, str>>,
}

impl<'q> Raw<'q> {
    fn collect(endpoint: Endpoint, query: &'q str) -> Result<Self, WriteError> {
        let mut raw = Raw::default();
        for (key, value) in query_pairs(query) {
            let slot = match (endpoint, key.as_ref()) {
                (Endpoint::V1 | Endpoint::V3, "db") => &mut raw.db,
                (Endpoint::V1, "rp") => &mut raw.rp,
                (Endpoint::V1, "p") => &mut raw.p,
                (Endpoint::V2, "bucket") => &mut raw.bucket,
                (Endpoint::V2, "org") => &mut raw.org,
                (_, "precision") => &mut raw.precision,
                (Endpoint::V3, "accept_partial") => &mut raw.accept_partial,
                (Endpoint::V3, "no_sync") => &mut raw.no_sync,
                // consistency, u, orgID, and anything unknown: ignored, as InfluxDB does.
                _ => continue,
            };
            if slot.is_some() {
                let message = format!("duplicate field `{key}`");
                return Err(WriteError::InvalidParameter(match endpoint {
                    Endpoint::V1 => {
                        format!("failed to deserialize db/rp/precision in request: {message}")
                    }
                    Endpoint::V2 => {
                        format!("failed to deserialize org/bucket/precision in request: {message}")
                    }
                    Endpoint::V3 => format!("serde error: {message}"),
                }));
            }
            // A bad value fails where it stands, as serde does: an error in an earlier
            // parameter wins over a later one and over a missing `db`.
            match key.as_ref() {
                "precision" => {
                    endpoint.parse_precision(&value)?;
                }
                "accept_partial" | "no_sync" => {
                    parse_bool(Some(&value), false)?;
                }
                _ => {}
            }
            *slot = Some(value);
        }
        Ok(raw)
    }
}

fn parse_bool(value: Option<&str>, default: bool) -> Result<bool, WriteError> {
    match value {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(WriteError::InvalidParameter(
            "serde error: provided string was not `true` or `false`".into(),
        )),
    }
}

impl WriteParams {
    /// Reads the parameters of a write to `endpoint` from its query string (`None` when the
    /// URL has no `?`), applying InfluxDB's mappings and linegate's decisions (GUIDE §2).
    pub fn parse(endpoint: Endpoint, query: Option<&str>) -> Result<WriteParams, WriteError> {
        let invalid = |m: &str| Err(WriteError::InvalidParameter(m.to_owned()));
        let Some(query) = query else {
            return invalid(match endpoint {
                Endpoint::V1 => "no db destination provided",
                Endpoint::V2 => "no org/bucket destination provided",
                Endpoint::V3 => "missing query parameter 'db'",
            });
        };
        let raw = Raw::collect(endpoint, query)?;
        let precision = match &raw.precision {
            Some(value) => endpoint.parse_precision(value)?,
            None => endpoint.default_precision(),
        };
        let database = match endpoint {
            Endpoint::V1 => {
                let Some(db) = raw.db else {
                    return invalid(
                        "failed to deserialize db/rp/precision in request: missing field `db`",
                    );
                };
                let name = v1_database(&db, raw.rp.as_deref());
                check_namespace(&name)?;
                name
            }
            Endpoint::V2 => {
                let bucket = match raw.bucket {
                    Some(bucket) if !bucket.is_empty() => bucket,
                    _ => return invalid("missing bucket value"),
                };
                // `org` is ignored, empty or not, as InfluxDB 3 does.
                let name = v2_database(&bucket);
                check_namespace(&name)?;
                name
            }
            Endpoint::V3 => match raw.db {
                Some(db) => db.into_owned(),
                None => return invalid("serde error: missing field `db`"),
            },
        };
        check_database_name(&database)?;
        Ok(WriteParams {
            database,
            precision,
            accept_partial: endpoint == Endpoint::V3
                && parse_bool(raw.accept_partial.as_deref(), true)?,
            no_sync: endpoint == Endpoint::V3 && parse_bool(raw.no_sync.as_deref(), false)?,
        })
    }
}

/// InfluxDB's namespace rule for v1/v2 names: 1 to 64 bytes of letters, digits, `/ _ -`.
fn check_namespace(name: &str) -> Result<(), WriteError> {
    if name.is_empty() || name.len() > 64 {
        return Err(WriteError::InvalidParameter(format!(
            "namespace name {name} length must be between 1 and 64 characters"
        )));
    }
    if let Some(n) = name
        .chars()
        .position(|c| !(c.is_alphanumeric() || matches!(c, '/' | '_' | '-')))
    {
        return Err(WriteError::InvalidParameter(format!(
            "namespace name '{name}' contains invalid character, character number {n} is not allowed"
        )));
    }
    Ok(())
}

/// The database-name rule of InfluxDB 3: `[A-Za-z0-9][A-Za-z0-9_-]*(/[A-Za-z0-9_-]+)?`,
/// at most 511 bytes, with its messages.
pub fn check_database_name(name: &str) -> Result<(), WriteError> {
    const INVALID_CHAR: &str = "invalid character in database or rp name: must be ASCII, containing only letters, numbers, underscores, or hyphens";
    const INVALID_RP: &str = "db name with invalid retention policy, if providing a retention policy name, must be of form '<db_name>/<rp_name>'";
    let invalid = |m: &str| Err(WriteError::InvalidParameter(m.to_owned()));
    if name.is_empty() {
        return invalid("db name cannot be empty");
    }
    if name.len() > 511 {
        return invalid("db name too long: max 511");
    }
    if !name.is_ascii() {
        return invalid(INVALID_CHAR);
    }
    let bytes = name.as_bytes();
    if !bytes[0].is_ascii_alphanumeric() {
        return invalid("db name did not start with a number or letter");
    }
    let mut slash = false;
    for &c in &bytes[1..] {
        match c {
            b'/' if slash => return invalid(INVALID_RP),
            b'/' => slash = true,
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' => {}
            _ => return invalid(INVALID_CHAR),
        }
    }
    if bytes[bytes.len() - 1] == b'/' {
        return invalid(INVALID_RP);
    }
    Ok(())
}

/// The `p` query parameter, which v1 `/write` and `/query` take as the token.
pub(crate) fn password_param(query: Option<&str>) -> Option<String> {
    let mut found = None;
    for (key, value) in query_pairs(query?) {
        if key == "p" {
            if found.is_some() {
                // InfluxDB treats an ambiguous query string as "no p".
                return None;
            }
            found = Some(value.into_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests;
