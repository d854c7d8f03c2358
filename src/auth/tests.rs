use super::*;

use std::collections::HashMap;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};

use AuthScheme::{Basic, Bearer, QueryParam, Token};

fn parsed(header: &[u8]) -> (AuthScheme, String) {
    match Credentials::from_header(header) {
        Ok(c) => (c.scheme, c.token().to_owned()),
        Err(e) => panic!("{:?}: unexpected {e:?}", String::from_utf8_lossy(header)),
    }
}

fn malformed(header: &[u8]) {
    assert_eq!(
        Credentials::from_header(header),
        Err(WriteError::MalformedAuthorization),
        "{:?}",
        String::from_utf8_lossy(header)
    );
}

fn basic(user_and_token: &[u8]) -> Vec<u8> {
    format!("Basic {}", STANDARD.encode(user_and_token)).into_bytes()
}

fn from_request(
    path: &str,
    query: Option<&str>,
    authorization: Option<&[u8]>,
) -> Result<Option<(AuthScheme, String)>, WriteError> {
    Credentials::from_request(path, query, authorization)
        .map(|c| c.map(|c| (c.scheme, c.token().to_owned())))
}

fn some(scheme: AuthScheme, token: &str) -> Result<Option<(AuthScheme, String)>, WriteError> {
    Ok(Some((scheme, token.to_owned())))
}

// ---------------------------------------------------------------------------------------
// Authorization header: Bearer and Token

#[test]
fn bearer_and_token() {
    assert_eq!(parsed(b"Bearer abc"), (Bearer, "abc".into()));
    assert_eq!(parsed(b"Token abc"), (Token, "abc".into()));
    assert_eq!(
        parsed(b"Bearer apiv3_AbC-dEf_0123456789"),
        (Bearer, "apiv3_AbC-dEf_0123456789".into())
    );
    // The token is taken byte for byte: no decoding, no trimming of other characters.
    assert_eq!(parsed(b"Token user:pass"), (Token, "user:pass".into()));
    assert_eq!(parsed(b"Bearer a=b="), (Bearer, "a=b=".into()));
    assert_eq!(parsed(b"Bearer %41"), (Bearer, "%41".into()));
    assert_eq!(
        parsed(b"Bearer dXNlcjp0b2tlbg=="),
        (Bearer, "dXNlcjp0b2tlbg==".into())
    );
    assert_eq!(parsed(b"Token Bearer"), (Token, "Bearer".into()));
    assert_eq!(parsed(b"Bearer tok\t"), (Bearer, "tok\t".into()));
    assert_eq!(parsed(b"Bearer \ttok"), (Bearer, "\ttok".into()));
    assert_eq!(
        parsed(b"Bearer ~!@#$%^&*()"),
        (Bearer, "~!@#$%^&*()".into())
    );
}

#[test]
fn empty_token_parses_and_is_left_to_authentication() {
    assert_eq!(parsed(b"Bearer "), (Bearer, String::new()));
    assert_eq!(parsed(b"Token "), (Token, String::new()));
}

#[test]
fn scheme_is_case_sensitive() {
    for header in [
        &b"bearer abc"[..],
        b"BEARER abc",
        b"BeArEr abc",
        b"token abc",
        b"TOKEN abc",
        b"basic dXNlcjp0b2tlbg==",
        b"BASIC dXNlcjp0b2tlbg==",
    ] {
        malformed(header);
    }
}

#[test]
fn unknown_schemes() {
    for header in [
        &b"Digest abc"[..],
        b"Negotiate abc",
        b"Bearer: abc",
        b"Bearer, abc",
        b"Bearer= abc",
        b"Token: abc",
        b"Bearerabc",
        b"Tokenabc",
        b"abc",
        b"X abc",
        b"\tBearer abc",
        b"Bearer\tabc",
    ] {
        malformed(header);
    }
}

#[test]
fn wrong_number_of_parts() {
    for header in [
        // Empty and scheme only.
        &b""[..],
        b" ",
        b"  ",
        b"Bearer",
        b"Token",
        b"Basic",
        // Extra parts.
        b"Bearer abc def",
        b"Token abc def",
        b"Basic dXNlcjp0b2tlbg== x",
        b"Bearer abc ",
        b"Bearer abc  ",
        // Two spaces (an empty part between them).
        b"Bearer  abc",
        b"Token  abc",
        b"Basic  dXNlcjp0b2tlbg==",
        // Leading space.
        b" Bearer abc",
        b" Token abc",
        b"  Bearer abc",
        // Just spaces after the scheme.
        b"Bearer  ",
        b"Token   ",
    ] {
        malformed(header);
    }
}

#[test]
fn header_must_be_visible_ascii() {
    for header in [
        // Not UTF-8.
        &b"Bearer \xff"[..],
        b"Bearer tok\x80en",
        b"\xffBearer tok",
        b"Bearer tok\xc3",
        // UTF-8 but not ASCII (InfluxDB refuses these in `to_str`).
        "Bearer tök".as_bytes(),
        "Token ✓".as_bytes(),
        "Bearer\u{a0}tok".as_bytes(),
        // Control characters other than tab.
        b"Bearer tok\0",
        b"Bearer tok\r",
        b"Bearer tok\n",
        b"Bearer tok\r\n",
        b"Bearer \x01",
        b"Bearer tok\x7f",
        b"Bearer tok\x1b",
    ] {
        malformed(header);
    }
}

// ---------------------------------------------------------------------------------------
// Authorization header: Basic

#[test]
fn basic_user_and_token() {
    assert_eq!(parsed(b"Basic dXNlcjp0b2tlbg=="), (Basic, "token".into()));
    assert_eq!(parsed(&basic(b"user:token")), (Basic, "token".into()));
    assert_eq!(
        parsed(&basic(b"any:apiv3_xyz")),
        (Basic, "apiv3_xyz".into())
    );
    // The user is ignored, and may be empty.
    assert_eq!(parsed(&basic(b":token")), (Basic, "token".into()));
    assert_eq!(
        parsed(&basic(b"someone else:token")),
        (Basic, "token".into())
    );
    // An empty token parses (and will not authenticate).
    assert_eq!(parsed(&basic(b"user:")), (Basic, String::new()));
    assert_eq!(parsed(&basic(b":")), (Basic, String::new()));
    // The decoded text may hold spaces and non-ASCII UTF-8.
    assert_eq!(parsed(&basic(b"user:to ken")), (Basic, "to ken".into()));
    assert_eq!(parsed(&basic("usé:tök".as_bytes())), (Basic, "tök".into()));
    // Base64 that needs `+` and `/` (the standard alphabet).
    let text = "u:>>>???";
    let encoded = STANDARD.encode(text);
    assert!(encoded.contains('+') || encoded.contains('/'), "{encoded}");
    assert_eq!(
        parsed(format!("Basic {encoded}").as_bytes()),
        (Basic, ">>>???".into())
    );
}

#[test]
fn basic_token_is_after_the_last_colon() {
    // GUIDE §2: the part after the last `:` is the token; the user (colons and all) is
    // ignored. (InfluxDB 3 refuses a user part holding a colon.)
    assert_eq!(parsed(&basic(b"a:b:token")), (Basic, "token".into()));
    assert_eq!(parsed(&basic(b"user::token")), (Basic, "token".into()));
    assert_eq!(parsed(&basic(b"::")), (Basic, "".into()));
    assert_eq!(parsed(&basic(b"http://x:token")), (Basic, "token".into()));
}

#[test]
fn basic_without_colon() {
    malformed(&basic(b"token"));
    malformed(&basic(b""));
    malformed(b"Basic ");
    malformed(&basic(b"user token"));
}

#[test]
fn basic_bad_base64() {
    for header in [
        &b"Basic !!!"[..],
        b"Basic ***",
        b"Basic dXNlcjp0b2tlbg=!",
        // Padding is mandatory and canonical (base64 STANDARD engine).
        b"Basic dXNlcjp0b2tlbg",
        b"Basic dXNlcjp0b2tlbg=",
        b"Basic dXNlcjp0b2tlbg===",
        b"Basic =dXNlcjp0b2tlbg=",
        b"Basic dXNlcjp0b2tlbg==dXNlcjp0b2tlbg==",
        // Non-zero trailing bits (`h` instead of `g`).
        b"Basic dXNlcjp0b2tlbh==",
        // A length that is not a multiple of four.
        b"Basic dXNlc",
        b"Basic d",
        // Line breaks or tabs inside.
        b"Basic dXNlcjp0\tb2tlbg==",
    ] {
        malformed(header);
    }
    // The no-pad encoding of something that needs padding is refused.
    let no_pad = STANDARD_NO_PAD.encode("user:token");
    assert!(!no_pad.ends_with('='));
    malformed(format!("Basic {no_pad}").as_bytes());
    // The URL-safe alphabet is refused.
    let url = URL_SAFE.encode("u:>>>???");
    assert!(url.contains('-') || url.contains('_'), "{url}");
    malformed(format!("Basic {url}").as_bytes());
}

#[test]
fn basic_not_utf8() {
    malformed(&basic(b"user:\xff"));
    malformed(&basic(b"\xff:token"));
    malformed(&basic(b"user:tok\xc3"));
}

#[test]
fn base64_without_padding_needs_no_padding_when_length_divides() {
    // "user:tok1" is 9 bytes: its encoding has no `=` at all and is canonical.
    let encoded = STANDARD.encode("user:tok1");
    assert!(!encoded.contains('='));
    assert_eq!(
        parsed(format!("Basic {encoded}").as_bytes()),
        (Basic, "tok1".into())
    );
}

// ---------------------------------------------------------------------------------------
// from_request: `p` and the header

#[test]
fn p_is_read_on_write_and_query_only() {
    for path in ["/write", "/query"] {
        assert_eq!(
            from_request(path, Some("p=tok"), None),
            some(QueryParam, "tok")
        );
        assert_eq!(
            from_request(path, Some("db=x&u=me&p=tok"), None),
            some(QueryParam, "tok")
        );
        // `p` wins over a header, which is then not even parsed.
        assert_eq!(
            from_request(path, Some("p=tok"), Some(b"Bearer other")),
            some(QueryParam, "tok")
        );
        assert_eq!(
            from_request(path, Some("p=tok"), Some(b"bearer malformed header")),
            some(QueryParam, "tok")
        );
        assert_eq!(
            from_request(path, Some("p=tok"), Some(b"\xff")),
            some(QueryParam, "tok")
        );
        // An empty `p` is an (empty) token too.
        assert_eq!(from_request(path, Some("p="), None), some(QueryParam, ""));
        assert_eq!(
            from_request(path, Some("p="), Some(b"Bearer good")),
            some(QueryParam, "")
        );
        assert_eq!(from_request(path, Some("p"), None), some(QueryParam, ""));
        // Decoded.
        assert_eq!(
            from_request(path, Some("p=a%2Bb+c"), None),
            some(QueryParam, "a+b c")
        );
        // Two `p`s: ignored, the header decides.
        assert_eq!(from_request(path, Some("p=a&p=b"), None), Ok(None));
        assert_eq!(
            from_request(path, Some("p=a&p=b"), Some(b"Token hdr")),
            some(Token, "hdr")
        );
        assert_eq!(
            from_request(path, Some("p=a&p=b"), Some(b"bearer hdr")),
            Err(WriteError::MalformedAuthorization)
        );
        // `u` alone is no token.
        assert_eq!(from_request(path, Some("u=me"), None), Ok(None));
        assert_eq!(
            from_request(path, Some("u=me"), Some(b"Bearer hdr")),
            some(Bearer, "hdr")
        );
    }
}

#[test]
fn p_is_not_read_elsewhere() {
    for path in [
        "/api/v2/write",
        "/api/v3/write_lp",
        "/api/v3/query_sql",
        "/write/",
        "/Write",
        "/query/",
        "",
    ] {
        assert_eq!(from_request(path, Some("p=tok"), None), Ok(None), "{path}");
        assert_eq!(
            from_request(path, Some("p=tok"), Some(b"Bearer hdr")),
            some(Bearer, "hdr"),
            "{path}"
        );
        assert_eq!(
            from_request(path, Some("p=tok"), Some(b"bearer hdr")),
            Err(WriteError::MalformedAuthorization),
            "{path}"
        );
    }
}

#[test]
fn header_only() {
    for path in ["/write", "/api/v2/write", "/api/v3/write_lp", "/query"] {
        assert_eq!(from_request(path, None, None), Ok(None));
        assert_eq!(from_request(path, Some(""), None), Ok(None));
        assert_eq!(from_request(path, Some("db=x"), None), Ok(None));
        assert_eq!(
            from_request(path, None, Some(b"Bearer b")),
            some(Bearer, "b")
        );
        assert_eq!(from_request(path, None, Some(b"Token t")), some(Token, "t"));
        assert_eq!(
            from_request(path, Some("db=x"), Some(&basic(b"u:k"))),
            some(Basic, "k")
        );
        assert_eq!(
            from_request(path, None, Some(b"Bearer")),
            Err(WriteError::MalformedAuthorization)
        );
        // A present but empty header is malformed, not absent.
        assert_eq!(
            from_request(path, None, Some(b"")),
            Err(WriteError::MalformedAuthorization)
        );
    }
}

#[test]
fn malformed_error_is_400_with_influxdb_text() {
    let e = Credentials::from_header(b"bearer x").unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(
        e.body(crate::Endpoint::V1),
        r#"{"error":"Authorization header was malformed, the request was not in the form of 'Authorization: <auth-scheme> <token>', supported auth-schemes are Bearer, Token and Basic"}"#
    );
}

// ---------------------------------------------------------------------------------------
// Credentials

#[test]
fn debug_never_shows_the_token() {
    for scheme in [Bearer, Token, Basic, QueryParam] {
        let c = Credentials::new(scheme, "s3cr3t-t0ken");
        let debug = format!("{c:?}");
        assert_eq!(
            debug,
            format!("Credentials {{ scheme: {scheme:?}, token: \"<redacted>\" }}")
        );
        assert!(!format!("{c:#?}").contains("s3cr3t"));
        assert!(!format!("{:?}", Some(c.clone())).contains("s3cr3t"));
        assert!(!format!("{:?}", vec![c]).contains("s3cr3t"));
    }
    let parsed = Credentials::from_header(b"Bearer s3cr3t").unwrap();
    assert!(!format!("{parsed:?}").contains("s3cr3t"));
    let parsed = Credentials::from_header(&basic(b"user:s3cr3t")).unwrap();
    assert!(!format!("{parsed:?}").contains("s3cr3t"));
}

#[test]
fn credentials_accessors() {
    let c = Credentials::new(Token, String::from("abc"));
    assert_eq!(c.scheme, Token);
    assert_eq!(c.token(), "abc");
    assert_eq!(c.hash(), TokenHash::of("abc"));
    assert_eq!(c, Credentials::new(Token, "abc"));
    assert_ne!(c, Credentials::new(Bearer, "abc"));
    assert_ne!(c, Credentials::new(Token, "abd"));
}

// ---------------------------------------------------------------------------------------
// TokenHash

const SHA256_EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const SHA256_448: &str = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

#[test]
fn sha256_test_vectors() {
    assert_eq!(TokenHash::of("").to_hex(), SHA256_EMPTY);
    assert_eq!(TokenHash::of("abc").to_hex(), SHA256_ABC);
    assert_eq!(
        TokenHash::of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").to_hex(),
        SHA256_448
    );
    assert_eq!(
        TokenHash::of("abc").0[..4],
        [0xba, 0x78, 0x16, 0xbf],
        "raw bytes are big-endian digest order"
    );
    // UTF-8 bytes are hashed.
    assert_eq!(
        TokenHash::of("µ"),
        TokenHash(Sha256::digest([0xc2, 0xb5]).into())
    );
}

#[test]
fn hex_round_trip() {
    for token in [
        "",
        "abc",
        "apiv3_xyz",
        "µ",
        "a much longer token with spaces",
    ] {
        let hash = TokenHash::of(token);
        let hex = hash.to_hex();
        assert_eq!(hex.len(), 64);
        assert!(hex
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_eq!(TokenHash::from_hex(&hex), Some(hash));
    }
    let all = TokenHash(core::array::from_fn(|i| (i * 8 + 7) as u8));
    assert_eq!(
        all.to_hex(),
        "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff"
    );
    assert_eq!(TokenHash([0; 32]).to_hex(), "0".repeat(64));
    assert_eq!(TokenHash([0xff; 32]).to_hex(), "f".repeat(64));
    assert_eq!(
        TokenHash::from_hex(&"0".repeat(64)),
        Some(TokenHash([0; 32]))
    );
    // Upper-case digits read the same value.
    assert_eq!(
        TokenHash::from_hex(&SHA256_ABC.to_ascii_uppercase()),
        Some(TokenHash::of("abc"))
    );
}

#[test]
fn from_hex_rejects_bad_input() {
    let good = SHA256_ABC;
    let bad: Vec<String> = vec![
        String::new(),
        good[..63].to_owned(),
        good[..62].to_owned(),
        format!("{good}0"),
        format!("{good}00"),
        format!("0x{}", &good[2..]),
        format!("g{}", &good[1..]),
        format!("{}g", &good[..63]),
        format!(" {}", &good[1..]),
        format!("{} ", &good[..63]),
        format!("+{}", &good[1..]),
        format!("-{}", &good[1..]),
        format!("{}\0", &good[..63]),
        // 64 bytes, but not 64 hex digits.
        format!("é{}", &good[2..]),
        format!("{}é", &good[..62]),
        "z".repeat(64),
    ];
    for text in bad {
        assert_eq!(TokenHash::from_hex(&text), None, "{text:?}");
    }
}

#[test]
fn constant_time_equality() {
    let a = TokenHash::of("a");
    let b = TokenHash::of("b");
    assert!(a.ct_eq(&a));
    assert!(a.ct_eq(&TokenHash::of("a")));
    assert!(!a.ct_eq(&b));
    assert!(!b.ct_eq(&a));
    for i in 0..32 {
        for bit in [0x01u8, 0x80] {
            let mut other = a;
            other.0[i] ^= bit;
            assert!(!a.ct_eq(&other), "byte {i} bit {bit:#x}");
            assert!(!other.ct_eq(&a), "byte {i} bit {bit:#x}");
            assert_eq!(a.ct_eq(&other), a == other);
        }
    }
    assert!(TokenHash([0; 32]).ct_eq(&TokenHash([0; 32])));
}

#[test]
fn token_hash_debug_shows_a_prefix_only() {
    assert_eq!(
        format!("{:?}", TokenHash::of("abc")),
        "TokenHash(ba7816bf8f01)"
    );
    assert!(!format!("{:?}", TokenHash::of("abc")).contains(SHA256_ABC));
}

// ---------------------------------------------------------------------------------------
// Scope

fn forbidden(database: &str, access: Access) -> Result<(), WriteError> {
    Err(WriteError::Forbidden {
        database: database.to_owned(),
        access,
    })
}

#[test]
fn admin_permits_everything() {
    for db in ["db", "", "*", "db/rp", "anything"] {
        assert_eq!(Scope::Admin.permits(db, Access::Read), Ok(()));
        assert_eq!(Scope::Admin.permits(db, Access::Write), Ok(()));
    }
}

#[test]
fn database_grants() {
    let scope = Scope::Databases(vec![
        ("w".into(), vec![Access::Write]),
        ("r".into(), vec![Access::Read]),
        ("rw".into(), vec![Access::Read, Access::Write]),
        ("none".into(), vec![]),
    ]);
    assert_eq!(scope.permits("w", Access::Write), Ok(()));
    assert_eq!(
        scope.permits("w", Access::Read),
        forbidden("w", Access::Read)
    );
    assert_eq!(scope.permits("r", Access::Read), Ok(()));
    assert_eq!(
        scope.permits("r", Access::Write),
        forbidden("r", Access::Write)
    );
    assert_eq!(scope.permits("rw", Access::Read), Ok(()));
    assert_eq!(scope.permits("rw", Access::Write), Ok(()));
    assert_eq!(
        scope.permits("none", Access::Read),
        forbidden("none", Access::Read)
    );
    assert_eq!(
        scope.permits("none", Access::Write),
        forbidden("none", Access::Write)
    );
    // Exact, case-sensitive names: no prefixes, no rp inheritance.
    assert_eq!(
        scope.permits("W", Access::Write),
        forbidden("W", Access::Write)
    );
    assert_eq!(
        scope.permits("w/rp", Access::Write),
        forbidden("w/rp", Access::Write)
    );
    assert_eq!(
        scope.permits("ww", Access::Write),
        forbidden("ww", Access::Write)
    );
    assert_eq!(
        scope.permits("", Access::Write),
        forbidden("", Access::Write)
    );
    assert_eq!(
        scope.permits("*", Access::Write),
        forbidden("*", Access::Write)
    );
    // The error is a 403 naming the database.
    let e = scope.permits("other", Access::Write).unwrap_err();
    assert_eq!(e.status(), 403);
    assert_eq!(
        e.message(crate::Endpoint::V1),
        "token does not grant write access to database 'other'"
    );
}

#[test]
fn grants_for_one_database_may_be_split() {
    let scope = Scope::Databases(vec![
        ("db".into(), vec![Access::Read]),
        ("db".into(), vec![Access::Write]),
    ]);
    assert_eq!(scope.permits("db", Access::Read), Ok(()));
    assert_eq!(scope.permits("db", Access::Write), Ok(()));
}

#[test]
fn wildcard_grant() {
    let scope = Scope::Databases(vec![("*".into(), vec![Access::Write])]);
    for db in ["a", "db/rp", "", "*"] {
        assert_eq!(scope.permits(db, Access::Write), Ok(()), "{db:?}");
        assert_eq!(
            scope.permits(db, Access::Read),
            forbidden(db, Access::Read),
            "{db:?}"
        );
    }
    // Only a whole `*` is a wildcard.
    let scope = Scope::Databases(vec![("d*".into(), vec![Access::Write])]);
    assert_eq!(
        scope.permits("db", Access::Write),
        forbidden("db", Access::Write)
    );
    assert_eq!(scope.permits("d*", Access::Write), Ok(()));
}

#[test]
fn empty_scope_permits_nothing() {
    let scope = Scope::Databases(vec![]);
    assert_eq!(
        scope.permits("db", Access::Read),
        forbidden("db", Access::Read)
    );
    assert_eq!(
        scope.permits("db", Access::Write),
        forbidden("db", Access::Write)
    );
}

// ---------------------------------------------------------------------------------------
// TokenStore

/// A store that, like the real ones, only knows hashes.
struct Store(HashMap<TokenHash, Scope>);

impl TokenStore for Store {
    fn scope(&self, hash: &TokenHash) -> Option<Scope> {
        self.0.get(hash).cloned()
    }
}

fn store() -> Store {
    Store(HashMap::from([
        (TokenHash::of("admin-token"), Scope::Admin),
        (
            TokenHash::of("writer"),
            Scope::Databases(vec![("db".into(), vec![Access::Write])]),
        ),
        (
            TokenHash::of("reader"),
            Scope::Databases(vec![("db".into(), vec![Access::Read])]),
        ),
    ]))
}

#[test]
fn store_authorize() {
    let store = store();
    let creds = |t: &str| Credentials::new(Bearer, t);
    // 401: no token, unknown token, empty token, a token's hash instead of the token.
    assert_eq!(
        store.authorize(None, "db", Access::Write),
        Err(WriteError::Unauthenticated)
    );
    for token in [
        "unknown",
        "",
        "Writer",
        "writer ",
        &TokenHash::of("writer").to_hex(),
    ] {
        let e = store
            .authorize(Some(&creds(token)), "db", Access::Write)
            .unwrap_err();
        assert_eq!(e, WriteError::Unauthenticated, "{token:?}");
        assert_eq!(e.status(), 401);
    }
    // Allowed.
    assert_eq!(
        store.authorize(Some(&creds("writer")), "db", Access::Write),
        Ok(())
    );
    assert_eq!(
        store.authorize(Some(&creds("reader")), "db", Access::Read),
        Ok(())
    );
    assert_eq!(
        store.authorize(Some(&creds("admin-token")), "other", Access::Write),
        Ok(())
    );
    // 403: known token, outside its scope.
    let e = store
        .authorize(Some(&creds("writer")), "other", Access::Write)
        .unwrap_err();
    assert_eq!(
        e,
        WriteError::Forbidden {
            database: "other".into(),
            access: Access::Write,
        }
    );
    assert_eq!(e.status(), 403);
    assert_eq!(
        store.authorize(Some(&creds("reader")), "db", Access::Write),
        forbidden("db", Access::Write)
    );
    // The scheme does not matter, only the token.
    for scheme in [Bearer, Token, Basic, QueryParam] {
        assert_eq!(
            store.authorize(
                Some(&Credentials::new(scheme, "writer")),
                "db",
                Access::Write
            ),
            Ok(())
        );
    }
}

#[test]
fn store_authorize_from_a_parsed_request() {
    let store = store();
    let creds = Credentials::from_request("/write", Some("db=db&p=writer"), None).unwrap();
    assert_eq!(store.authorize(creds.as_ref(), "db", Access::Write), Ok(()));
    let creds =
        Credentials::from_request("/api/v2/write", None, Some(&basic(b"x:writer"))).unwrap();
    assert_eq!(store.authorize(creds.as_ref(), "db", Access::Write), Ok(()));
    let creds = Credentials::from_request("/api/v3/write_lp", Some("p=writer"), None).unwrap();
    assert_eq!(
        store.authorize(creds.as_ref(), "db", Access::Write),
        Err(WriteError::Unauthenticated)
    );
}
