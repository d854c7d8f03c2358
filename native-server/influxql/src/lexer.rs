//! The scanner: InfluxQL text to tokens, with the line/char positions 1.x reports.
//!
//! Like 1.x's scanner it never decides by itself that `/` starts a regex: the parser asks for a
//! regex ([`Lexer::scan_regex`]) at the few places one may appear, and everywhere else `/` is
//! division.

use std::fmt;

use crate::ast::BinaryOp;

/// A zero-based line and character (not byte) position, as 1.x counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) char: usize,
}

/// Declares the keyword enum with its upper-case spelling (which is also how 1.x prints it).
macro_rules! keywords {
    ($($variant:ident => $text:literal,)*) => {
        /// A reserved word; usable as a name only when double-quoted.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Keyword {
            $($variant,)*
        }

        impl Keyword {
            const ALL: &'static [Keyword] = &[$(Keyword::$variant,)*];

            /// The keyword as 1.x prints it in messages.
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $(Keyword::$variant => $text,)*
                }
            }
        }
    };
}

keywords! {
    All => "ALL",
    Alter => "ALTER",
    Analyze => "ANALYZE",
    Any => "ANY",
    As => "AS",
    Asc => "ASC",
    Begin => "BEGIN",
    By => "BY",
    Cardinality => "CARDINALITY",
    Create => "CREATE",
    Continuous => "CONTINUOUS",
    Database => "DATABASE",
    Databases => "DATABASES",
    Default => "DEFAULT",
    Delete => "DELETE",
    Desc => "DESC",
    Destinations => "DESTINATIONS",
    Diagnostics => "DIAGNOSTICS",
    Distinct => "DISTINCT",
    Drop => "DROP",
    Duration => "DURATION",
    End => "END",
    Every => "EVERY",
    Exact => "EXACT",
    Explain => "EXPLAIN",
    Field => "FIELD",
    For => "FOR",
    From => "FROM",
    Future => "FUTURE",
    Grant => "GRANT",
    Grants => "GRANTS",
    Group => "GROUP",
    Groups => "GROUPS",
    In => "IN",
    Inf => "INF",
    Insert => "INSERT",
    Into => "INTO",
    Key => "KEY",
    Keys => "KEYS",
    Kill => "KILL",
    Limit => "LIMIT",
    Measurement => "MEASUREMENT",
    Measurements => "MEASUREMENTS",
    Name => "NAME",
    Offset => "OFFSET",
    On => "ON",
    Order => "ORDER",
    Password => "PASSWORD",
    Past => "PAST",
    Policy => "POLICY",
    Policies => "POLICIES",
    Privileges => "PRIVILEGES",
    Queries => "QUERIES",
    Query => "QUERY",
    Read => "READ",
    Replication => "REPLICATION",
    Resample => "RESAMPLE",
    Retention => "RETENTION",
    Revoke => "REVOKE",
    Select => "SELECT",
    Series => "SERIES",
    Set => "SET",
    Show => "SHOW",
    Shard => "SHARD",
    Shards => "SHARDS",
    Slimit => "SLIMIT",
    Soffset => "SOFFSET",
    Stats => "STATS",
    Subscription => "SUBSCRIPTION",
    Subscriptions => "SUBSCRIPTIONS",
    Tag => "TAG",
    To => "TO",
    User => "USER",
    Users => "USERS",
    Values => "VALUES",
    Verbose => "VERBOSE",
    Where => "WHERE",
    With => "WITH",
    Write => "WRITE",
}

impl Keyword {
    /// The keyword spelled `word` in any case, if it is one.
    pub(crate) fn lookup(word: &str) -> Option<Keyword> {
        Keyword::ALL
            .iter()
            .copied()
            .find(|k| k.as_str().eq_ignore_ascii_case(word))
    }
}

/// What a token is. Literal-bearing kinds keep the text 1.x echoes back in `found X`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    Eof,
    Ws,
    Comment,
    /// `/*` without its `*/` (1.x: ILLEGAL with no text).
    UnterminatedComment,
    Illegal(char),
    /// A bare or double-quoted name, unescaped.
    Ident(String),
    /// `$name`, kept whole: there are no bound parameters here, so it is always an error.
    BoundParam(String),
    Keyword(Keyword),
    True,
    False,
    /// Digits only (the text 1.x shows; `1.` scans as `1`).
    Integer(&'a str),
    /// A decimal number.
    Number(&'a str),
    /// Digits followed by unit letters, e.g. `1h30m`; not yet validated.
    Duration(&'a str),
    /// A single-quoted string, unescaped.
    Str(String),
    /// A string or quoted name cut by a newline or the end of the text: its text so far.
    BadString(String),
    /// An unknown escape such as `\q`.
    BadEscape(String),
    /// A symbolic operator, or `AND` / `OR`.
    Op(BinaryOp),
    LParen,
    RParen,
    Comma,
    Colon,
    DoubleColon,
    Semicolon,
    Dot,
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub(crate) kind: Tok<'a>,
    pub(crate) pos: Pos,
}

impl fmt::Display for Tok<'_> {
    /// 1.x's `tokstr`: the literal text when there is one, otherwise the token's name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn or_name<'t>(text: &'t str, name: &'static str) -> &'t str {
            if text.is_empty() {
                name
            } else {
                text
            }
        }
        let text: &str = match self {
            Tok::Eof => "EOF",
            Tok::Ws => "WS",
            Tok::Comment => "COMMENT",
            Tok::UnterminatedComment => "ILLEGAL",
            Tok::Illegal(c) => return write!(f, "{c}"),
            Tok::Ident(s) => or_name(s, "IDENT"),
            Tok::BoundParam(s) => s,
            Tok::Keyword(k) => k.as_str(),
            Tok::True => "TRUE",
            Tok::False => "FALSE",
            Tok::Integer(s) => or_name(s, "INTEGER"),
            Tok::Number(s) => or_name(s, "NUMBER"),
            Tok::Duration(s) => s,
            Tok::Str(s) => or_name(s, "STRING"),
            Tok::BadString(s) => or_name(s, "BADSTRING"),
            Tok::BadEscape(s) => s,
            Tok::Op(op) => op_str(*op),
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::DoubleColon => "::",
            Tok::Semicolon => ";",
            Tok::Dot => ".",
        };
        f.write_str(text)
    }
}

/// An operator as 1.x prints it (`<>` prints as `!=`).
pub(crate) fn op_str(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
        BinaryOp::BitAnd => "&",
        BinaryOp::BitOr => "|",
        BinaryOp::BitXor => "^",
        BinaryOp::Eq => "=",
        BinaryOp::NotEq => "!=",
        BinaryOp::Lt => "<",
        BinaryOp::LtEq => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::GtEq => ">=",
        BinaryOp::EqRegex => "=~",
        BinaryOp::NotEqRegex => "!~",
        BinaryOp::And => "AND",
        BinaryOp::Or => "OR",
    }
}

/// A cursor over the query text. `Copy`, so the parser backtracks by saving and restoring it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    /// Byte offset of the next character.
    offset: usize,
    pos: Pos,
    /// Where the last consumed character was. 1.x reports strings, quoted-name errors and
    /// bad regexes here (its reader's `curr()` after an `unread()` yields the character
    /// *before* the opening quote or slash), so `ON 'host'` errors one character early.
    prev: Pos,
    /// Whether 1.x's reader would already have read past the end of the text. 1.x counts the
    /// end one character further once it has been read and not put back (after a name or
    /// whitespace that runs to the end, or a peek there), so `SELECT` reports `char 8`, not 7.
    eof_consumed: bool,
}

/// 1.x's whitespace: space, tab and newline (`\r` reads as a newline).
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n')
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Letters that may follow a duration's digits (`µ` is U+00B5, as in 1.x).
fn is_unit_char(c: char) -> bool {
    c.is_ascii_alphabetic() || c == 'µ'
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer {
            src,
            offset: 0,
            pos: Pos::default(),
            prev: Pos::default(),
            eof_consumed: false,
        }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.offset..).unwrap_or("")
    }

    /// The next character without consuming it; `\r` reads as `\n`.
    fn peek(&self) -> Option<char> {
        self.rest()
            .chars()
            .next()
            .map(|c| if c == '\r' { '\n' } else { c })
    }

    /// Consumes one character (`\r\n` and lone `\r` as one `\n`), advancing the position.
    fn bump(&mut self) -> Option<char> {
        let c = self.rest().chars().next()?;
        self.prev = self.pos;
        self.offset += c.len_utf8();
        let c = if c == '\r' {
            if self.rest().starts_with('\n') {
                self.offset += 1;
            }
            '\n'
        } else {
            c
        };
        if c == '\n' {
            self.pos.line += 1;
            self.pos.char = 0;
        } else {
            self.pos.char += 1;
        }
        Some(c)
    }

    fn bump_while(&mut self, keep: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
    }

    /// Records that 1.x would have read the end of the text here and not put it back.
    fn touch_eof(&mut self) {
        if self.offset >= self.src.len() {
            self.eof_consumed = true;
        }
    }

    /// Where 1.x places a regex that starts at the next character (see `prev`).
    pub(crate) fn regex_pos(&self) -> Pos {
        self.prev
    }

    /// 1.x's `peekRune`: the next character; peeking at the end counts as reading it.
    pub(crate) fn peek_rune(&mut self) -> Option<char> {
        self.touch_eof();
        self.peek()
    }

    /// Skips plain whitespace (not comments), as 1.x does before looking for a regex.
    pub(crate) fn skip_whitespace(&mut self) {
        if self.peek().is_some_and(is_ws) {
            self.bump_while(is_ws);
            self.touch_eof();
        }
    }

    /// Scans the next token, whitespace and comments included.
    pub(crate) fn scan(&mut self) -> Token<'a> {
        let pos = self.pos;
        let before = self.prev;
        let start = self.offset;
        let token = |kind| Token { kind, pos };
        let Some(c) = self.peek() else {
            let char = self.pos.char + usize::from(self.eof_consumed);
            return Token {
                kind: Tok::Eof,
                pos: Pos {
                    line: self.pos.line,
                    char,
                },
            };
        };
        if is_ws(c) {
            self.bump_while(is_ws);
            self.touch_eof();
            return token(Tok::Ws);
        }
        if is_ident_start(c) {
            self.bump_while(is_ident_char);
            self.touch_eof();
            let word = &self.src[start..self.offset];
            return token(classify_word(word));
        }
        let digit_after_dot = || {
            self.rest()
                .get(1..)
                .is_some_and(|r| r.starts_with(|d: char| d.is_ascii_digit()))
        };
        if c.is_ascii_digit() || (c == '.' && digit_after_dot()) {
            return token(self.scan_number());
        }
        self.bump();
        let kind = match c {
            '"' => match self.scan_quoted('"', before) {
                Ok(name) => Tok::Ident(name),
                Err(bad) => return bad,
            },
            '\'' => match self.scan_quoted('\'', before) {
                Ok(text) => {
                    return Token {
                        kind: Tok::Str(text),
                        pos: before,
                    }
                }
                Err(bad) => return bad,
            },
            '$' => {
                let name = if self.peek() == Some('"') {
                    let quote = self.pos;
                    self.bump();
                    match self.scan_quoted('"', quote) {
                        Ok(name) => name,
                        Err(bad) => return bad,
                    }
                } else {
                    let from = self.offset;
                    self.bump_while(is_ident_char);
                    self.touch_eof();
                    self.src[from..self.offset].to_owned()
                };
                Tok::BoundParam(format!("${name}"))
            }
            '.' => Tok::Dot,
            '+' => Tok::Op(BinaryOp::Add),
            '-' if self.peek() == Some('-') => {
                self.bump_while(|c| c != '\n');
                self.bump();
                self.touch_eof();
                Tok::Comment
            }
            '-' => Tok::Op(BinaryOp::Sub),
            '*' => Tok::Op(BinaryOp::Mul),
            '/' if self.peek() == Some('*') => {
                self.bump();
                self.skip_block_comment()
            }
            '/' => Tok::Op(BinaryOp::Div),
            '%' => Tok::Op(BinaryOp::Mod),
            '&' => Tok::Op(BinaryOp::BitAnd),
            '|' => Tok::Op(BinaryOp::BitOr),
            '^' => Tok::Op(BinaryOp::BitXor),
            '=' => Tok::Op(self.pick(&[('~', BinaryOp::EqRegex)], BinaryOp::Eq)),
            '!' => match self.peek() {
                Some('=') => {
                    self.bump();
                    Tok::Op(BinaryOp::NotEq)
                }
                Some('~') => {
                    self.bump();
                    Tok::Op(BinaryOp::NotEqRegex)
                }
                _ => Tok::Illegal('!'),
            },
            '>' => Tok::Op(self.pick(&[('=', BinaryOp::GtEq)], BinaryOp::Gt)),
            '<' => Tok::Op(self.pick(
                &[('=', BinaryOp::LtEq), ('>', BinaryOp::NotEq)],
                BinaryOp::Lt,
            )),
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            ';' => Tok::Semicolon,
            ':' if self.peek() == Some(':') => {
                self.bump();
                Tok::DoubleColon
            }
            ':' => Tok::Colon,
            other => Tok::Illegal(other),
        };
        token(kind)
    }

    /// A two-character operator if the next character completes one, else the one-character one.
    fn pick(&mut self, seconds: &[(char, BinaryOp)], single: BinaryOp) -> BinaryOp {
        match self.peek() {
            Some(next) => match seconds.iter().find(|(c, _)| *c == next) {
                Some(&(_, op)) => {
                    self.bump();
                    op
                }
                None => single,
            },
            None => single,
        }
    }

    /// After `/*`: skips to `*/`.
    fn skip_block_comment(&mut self) -> Tok<'a> {
        loop {
            match self.bump() {
                None => {
                    self.touch_eof();
                    return Tok::UnterminatedComment;
                }
                Some('*') if self.rest().starts_with('/') => {
                    self.bump();
                    return Tok::Comment;
                }
                Some(_) => {}
            }
        }
    }

    /// 1.x's `scanNumber`: `123` (integer), `1.5` / `.5` / `1.` (number), `10s` / `1h30m`
    /// (duration: digits, then letters, then any letters and digits). As an extension 1.x
    /// lacks, an exponent (`1e3`, `2.5E-4`) makes a number.
    fn scan_number(&mut self) -> Tok<'a> {
        let start = self.offset;
        self.bump_while(|c| c.is_ascii_digit());
        let mut end = self.offset;
        let mut decimal = false;
        if self.peek() == Some('.') {
            decimal = true;
            self.bump();
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump_while(|c| c.is_ascii_digit());
                end = self.offset;
            }
        }
        if self.at_exponent() {
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            self.bump_while(|c| c.is_ascii_digit());
            return Tok::Number(&self.src[start..self.offset]);
        }
        if decimal {
            return Tok::Number(&self.src[start..end]);
        }
        if self.peek().is_some_and(is_unit_char) {
            self.bump_while(is_unit_char);
            self.bump_while(|c| is_unit_char(c) || c.is_ascii_digit());
            return Tok::Duration(&self.src[start..self.offset]);
        }
        Tok::Integer(&self.src[start..end])
    }

    /// `e`/`E`, an optional sign, then a digit.
    fn at_exponent(&self) -> bool {
        let b = self.rest().as_bytes();
        match b {
            [b'e' | b'E', d, ..] if d.is_ascii_digit() => true,
            [b'e' | b'E', b'+' | b'-', d, ..] => d.is_ascii_digit(),
            _ => false,
        }
    }

    /// 1.x's `ScanString` after the opening quote: escapes `\n \\ \" \'`; a newline or the end
    /// of the text cuts the string (BADSTRING), any other escape is BADESCAPE.
    fn scan_quoted(&mut self, quote: char, start: Pos) -> Result<String, Token<'a>> {
        let mut text = String::new();
        loop {
            match self.bump() {
                Some(c) if c == quote => return Ok(text),
                None | Some('\n') => {
                    self.touch_eof();
                    return Err(Token {
                        kind: Tok::BadString(text),
                        pos: start,
                    });
                }
                Some('\\') => {
                    let at = self.pos;
                    match self.bump() {
                        Some('n') => text.push('\n'),
                        Some(c @ ('\\' | '"' | '\'')) => text.push(c),
                        Some(other) => {
                            return Err(Token {
                                kind: Tok::BadEscape(format!("\\{other}")),
                                pos: at,
                            });
                        }
                        None => {
                            self.touch_eof();
                            return Err(Token {
                                kind: Tok::BadString(text),
                                pos: start,
                            });
                        }
                    }
                }
                Some(c) => text.push(c),
            }
        }
    }

    /// 1.x's `ScanRegex`, called when the next character is `/`: the pattern up to the next
    /// unescaped `/`, with `\/` read as `/` and every other backslash kept. `None` when a
    /// newline or the end of the text comes first.
    pub(crate) fn scan_regex(&mut self) -> Option<String> {
        if self.bump() != Some('/') {
            return None;
        }
        let mut pattern = String::new();
        loop {
            match self.bump() {
                Some('/') => return Some(pattern),
                None | Some('\n') => {
                    self.touch_eof();
                    return None;
                }
                Some('\\') => {
                    if self.peek() == Some('/') {
                        self.bump();
                        pattern.push('/');
                    } else {
                        pattern.push('\\');
                    }
                }
                Some(c) => pattern.push(c),
            }
        }
    }
}

/// A bare word: keyword, operator word, boolean or name.
fn classify_word(word: &str) -> Tok<'static> {
    if word.eq_ignore_ascii_case("and") {
        Tok::Op(BinaryOp::And)
    } else if word.eq_ignore_ascii_case("or") {
        Tok::Op(BinaryOp::Or)
    } else if word.eq_ignore_ascii_case("true") {
        Tok::True
    } else if word.eq_ignore_ascii_case("false") {
        Tok::False
    } else if let Some(keyword) = Keyword::lookup(word) {
        Tok::Keyword(keyword)
    } else {
        Tok::Ident(word.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every token (whitespace skipped) with its 1-based char, up to and including EOF.
    fn tokens(text: &str) -> Vec<(String, usize)> {
        let mut lexer = Lexer::new(text);
        let mut out = Vec::new();
        loop {
            let token = lexer.scan();
            let done = token.kind == Tok::Eof;
            if token.kind != Tok::Ws {
                out.push((token.kind.to_string(), token.pos.char + 1));
            }
            if done {
                return out;
            }
        }
    }

    fn owned(expected: &[(&str, usize)]) -> Vec<(String, usize)> {
        expected.iter().map(|&(t, c)| (t.to_owned(), c)).collect()
    }

    #[test]
    fn operators_and_punctuation() {
        assert_eq!(
            tokens("+ - * / % & | ^ = != <> =~ !~ < <= > >= ( ) , ; . : ::"),
            owned(&[
                ("+", 1),
                ("-", 3),
                ("*", 5),
                ("/", 7),
                ("%", 9),
                ("&", 11),
                ("|", 13),
                ("^", 15),
                ("=", 17),
                ("!=", 19),
                ("!=", 22),
                ("=~", 25),
                ("!~", 28),
                ("<", 31),
                ("<=", 33),
                (">", 36),
                (">=", 38),
                ("(", 41),
                (")", 43),
                (",", 45),
                (";", 47),
                (".", 49),
                (":", 51),
                ("::", 53),
                ("EOF", 55),
            ])
        );
    }

    #[test]
    fn words() {
        assert_eq!(
            tokens("select From and OR true False my_name \"quoted name\""),
            owned(&[
                ("SELECT", 1),
                ("FROM", 8),
                ("AND", 13),
                ("OR", 17),
                ("TRUE", 20),
                ("FALSE", 25),
                ("my_name", 31),
                ("quoted name", 39),
                ("EOF", 52),
            ])
        );
    }

    #[test]
    fn numbers() {
        let kinds = |text| {
            let mut lexer = Lexer::new(text);
            lexer.scan().kind
        };
        assert_eq!(kinds("123"), Tok::Integer("123"));
        assert_eq!(kinds("1.5"), Tok::Number("1.5"));
        assert_eq!(kinds(".5"), Tok::Number(".5"));
        assert_eq!(kinds("1."), Tok::Number("1"));
        assert_eq!(kinds("1e9"), Tok::Number("1e9"));
        assert_eq!(kinds("1e"), Tok::Duration("1e"));
        assert_eq!(kinds("1h30m"), Tok::Duration("1h30m"));
        assert_eq!(kinds("5µs"), Tok::Duration("5µs"));
        assert_eq!(kinds("1767218400000ms"), Tok::Duration("1767218400000ms"));
    }

    /// 1.x counts the end one further once a name or whitespace has run into it.
    #[test]
    fn end_position_follows_1x() {
        assert_eq!(tokens("ab"), owned(&[("ab", 1), ("EOF", 4)]));
        assert_eq!(tokens("ab "), owned(&[("ab", 1), ("EOF", 5)]));
        assert_eq!(tokens("12"), owned(&[("12", 1), ("EOF", 3)]));
        assert_eq!(
            tokens("(a)"),
            owned(&[("(", 1), ("a", 2), (")", 3), ("EOF", 4)])
        );
        assert_eq!(tokens(""), owned(&[("EOF", 1)]));
    }

    #[test]
    fn strings_are_placed_one_char_early() {
        assert_eq!(tokens("a 'b'"), owned(&[("a", 1), ("b", 2), ("EOF", 6)]));
        assert_eq!(tokens("'b'"), owned(&[("b", 1), ("EOF", 4)]));
    }

    #[test]
    fn comments_and_newlines() {
        let mut lexer = Lexer::new("a -- x\r\nb /* y */ c");
        let mut seen = Vec::new();
        loop {
            let token = lexer.scan();
            if token.kind == Tok::Eof {
                break;
            }
            seen.push((token.kind.to_string(), token.pos.line, token.pos.char));
        }
        assert_eq!(
            seen,
            vec![
                ("a".into(), 0, 0),
                ("WS".into(), 0, 1),
                ("COMMENT".into(), 0, 2),
                ("b".into(), 1, 0),
                ("WS".into(), 1, 1),
                ("COMMENT".into(), 1, 2),
                ("WS".into(), 1, 9),
                ("c".into(), 1, 10),
            ]
        );
    }

    #[test]
    fn regexes() {
        let regex = |text| Lexer::new(text).scan_regex();
        assert_eq!(regex("/a.b/"), Some("a.b".into()));
        assert_eq!(regex(r"/a\/b/"), Some("a/b".into()));
        assert_eq!(regex(r"/\d\w/"), Some(r"\d\w".into()));
        assert_eq!(regex(r"/a\\/b/"), Some(r"a\/b".into()));
        assert_eq!(regex("/open"), None);
        assert_eq!(regex("/a\nb/"), None);
        assert_eq!(regex(r"/a\"), None);
        assert_eq!(regex("x/"), None);
    }

    #[test]
    fn bad_strings_and_escapes() {
        let first = |text| Lexer::new(text).scan().kind;
        assert_eq!(first("'abc"), Tok::BadString("abc".into()));
        assert_eq!(first("'ab\ncd'"), Tok::BadString("ab".into()));
        assert_eq!(first("'a\\qb'"), Tok::BadEscape("\\q".into()));
        assert_eq!(first("\"a\\"), Tok::BadString("a".into()));
        assert_eq!(first("/* never closed"), Tok::UnterminatedComment);
        assert_eq!(first("$name"), Tok::BoundParam("$name".into()));
        assert_eq!(first("!"), Tok::Illegal('!'));
        assert_eq!(first("€"), Tok::Illegal('€'));
    }
}
