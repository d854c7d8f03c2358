//! Credentials: where a request's token comes from, and what a token may do.
//!
//! The core only extracts the token ([`Credentials::from_request`]) and decides whether a
//! [`Scope`] permits an access ([`Scope::permits`]). Looking the token up is the shell's job:
//! the native server implements [`TokenStore`]; the edge worker looks the hash up in KV.
//! Tokens are only ever kept as their SHA-256 ([`TokenHash`]) and compared in constant time.

use std::fmt;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::WriteError;
use crate::params::password_param;

/// How the client presented its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: Token <token>` (InfluxDB 2.x style).
    Token,
    /// `Authorization: Basic base64(<user>:<token>)`; the user is ignored.
    Basic,
    /// `?p=<token>` on v1 `/write` and `/query`; `u` is ignored.
    QueryParam,
}

/// A token presented by a client. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// How it was presented.
    pub scheme: AuthScheme,
    token: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("scheme", &self.scheme)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// Credentials with a token, as a shell that already has one builds them.
    pub fn new(scheme: AuthScheme, token: impl Into<String>) -> Self {
        Credentials {
            scheme,
            token: token.into(),
        }
    }

    /// The token. Handle with care: never log it.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The token's hash, the only form in which tokens are stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.token)
    }

    /// Extracts the token of a request, in InfluxDB 3's order:
    ///
    /// 1. on `/write` and `/query` only, a `p` query parameter (the header is then ignored);
    /// 2. the `Authorization` header: `Bearer <t>`, `Token <t>` or `Basic base64(user:t)`,
    ///    scheme words case-sensitive, exactly one space, visible ASCII only; `Basic` takes
    ///    what follows the last `:` of the decoded credentials;
    /// 3. otherwise no credentials (`Ok(None)`).
    ///
    /// A header that is present but not of those forms is a 400
    /// ([`WriteError::MalformedAuthorization`]).
    pub fn from_request(
        path: &str,
        query: Option<&str>,
        authorization: Option<&[u8]>,
    ) -> Result<Option<Credentials>, WriteError> {
        if path == "/write" || path == "/query" {
            if let Some(token) = password_param(query) {
                return Ok(Some(Credentials::new(AuthScheme::QueryParam, token)));
            }
        }
        match authorization {
            None => Ok(None),
            Some(header) => Self::from_header(header).map(Some),
        }
    }

    /// Parses an `Authorization` header value.
    pub fn from_header(header: &[u8]) -> Result<Credentials, WriteError> {
        let malformed = || WriteError::MalformedAuthorization;
        // Visible ASCII and tab only, as `HeaderValue::to_str` (InfluxDB answers 500 there).
        if !header
            .iter()
            .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
        {
            return Err(malformed());
        }
        let header = std::str::from_utf8(header).map_err(|_| malformed())?;
        let (scheme, value) = header.split_once(' ').ok_or_else(malformed)?;
        if value.contains(' ') {
            return Err(malformed());
        }
        let scheme = match scheme {
            "Bearer" => AuthScheme::Bearer,
            "Token" => AuthScheme::Token,
            "Basic" => AuthScheme::Basic,
            _ => return Err(malformed()),
        };
        if scheme != AuthScheme::Basic {
            return Ok(Credentials::new(scheme, value));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| malformed())?;
        let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
        // GUIDE §2: the token is what follows the last `:`; the user is ignored.
        let (_user, token) = decoded.rsplit_once(':').ok_or_else(malformed)?;
        Ok(Credentials::new(AuthScheme::Basic, token))
    }
}

/// SHA-256 of a token: what stores keep instead of the token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// Hashes a token.
    pub fn of(token: &str) -> TokenHash {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }

    /// Parses the 64-character lower-case hex form.
    pub fn from_hex(hex: &str) -> Option<TokenHash> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let digit = |c: u8| (c as char).to_digit(16);
            out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Some(TokenHash(out))
    }

    /// The lower-case hex form (the key in the worker's KV namespace).
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
            s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
        }
        s
    }

    /// Equality that takes the same time wherever the hashes differ.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({})", &self.to_hex()[..12])
    }
}

/// What a request wants to do with a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Query.
    Read,
    /// Write.
    Write,
}

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything, including administration.
    Admin,
    /// The listed databases, each with the accesses it grants.
    Databases(Vec<(String, Vec<Access>)>),
}

impl Scope {
    /// Decides whether this scope allows `access` to `database` (403 when not).
    pub fn permits(&self, database: &str, access: Access) -> Result<(), WriteError> {
        let allowed = match self {
            Scope::Admin => true,
            Scope::Databases(grants) => grants
                .iter()
                .any(|(db, accesses)| (db == database || db == "*") && accesses.contains(&access)),
        };
        if allowed {
            Ok(())
        } else {
            Err(WriteError::Forbidden {
                database: database.to_owned(),
                access,
            })
        }
    }
}

/// Where a synchronous shell keeps its tokens.
pub trait TokenStore {
    /// The scope of the token with this hash, if it is known (and not expired).
    fn scope(&self, hash: &TokenHash) -> Option<Scope>;

    /// Authenticates `credentials` and authorizes `access` to `database`:
    /// missing or unknown token → 401, known but out of scope → 403.
    fn authorize(
        &self,
        credentials: Option<&Credentials>,
        database: &str,
        access: Access,
    ) -> Result<(), WriteError> {
        let credentials = credentials.ok_or(WriteError::Unauthenticated)?;
        let scope = self
            .scope(&credentials.hash())
            .ok_or(WriteError::Unauthenticated)?;
        scope.permits(database, access)
    }
}

#[cfg(test)]
mod tests;
