//! A hand-written recursive-descent parser following InfluxDB 1.x's (`influxql/parser.go`):
//! the same grammar, the same token-by-token decisions and therefore the same error messages.
//!
//! Two representation choices the AST leaves open:
//! - Unary `+`/`-` on a literal folds into the literal (`-1h` is `Duration(-3_600_000_000_000)`);
//!   on a name, call or parenthesis it becomes `Binary(Literal(Integer(±1)), Mul, expr)`, as
//!   1.x builds it.
//! - `DISTINCT x` (without parentheses) becomes the call `distinct(x)`, which 1.x treats it as.

use std::fmt;

use crate::ast::{
    BinaryOp, Delete, Dimension, Expr, Field, Fill, Literal, Measurement, NameOrRegex, PolicySpec,
    Query, Regex, Select, Show, ShowMeasurements, ShowTagValues, Source, Statement, TagKeys,
    VarType,
};
use crate::lexer::{Keyword as K, Lexer, Pos, Tok, Token};

/// Why a statement could not be parsed, as InfluxDB 1.x words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1.x's complete message, position included when 1.x gives one, e.g.
    /// `found EOF, expected FROM at line 1, char 9`.
    pub message: String,
    /// Where the error is (1-based), when the message names a place.
    pub position: Option<Position>,
    /// Whether the text is wrong or merely asks for something this server does not do.
    pub kind: ErrorKind,
}

/// A 1-based line and character (not byte) position in the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Character within the line, from 1.
    pub char: usize,
}

/// What kind of [`ParseError`] this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not valid InfluxQL (1.x rejects it too).
    Syntax,
    /// Valid InfluxQL for a statement or option this server does not implement
    /// (e.g. `SHOW USERS`, `GRANT`); the message reads `<what> is not supported`.
    Unsupported,
}

impl ParseError {
    /// `message at line L, char C`, 1.x's form for errors with a place.
    fn at(message: impl fmt::Display, pos: Pos) -> Self {
        let position = Position {
            line: pos.line + 1,
            char: pos.char + 1,
        };
        ParseError {
            message: format!(
                "{message} at line {}, char {}",
                position.line, position.char
            ),
            position: Some(position),
            kind: ErrorKind::Syntax,
        }
    }

    /// `found X, expected A, B at line L, char C`.
    fn expected(found: &Token<'_>, expected: &[&str]) -> Self {
        Self::at(
            format_args!("found {}, expected {}", found.kind, expected.join(", ")),
            found.pos,
        )
    }

    /// A message without a place (1.x's plain `errors.New` errors).
    fn bare(message: impl Into<String>) -> Self {
        ParseError {
            message: message.into(),
            position: None,
            kind: ErrorKind::Syntax,
        }
    }

    fn unsupported(what: &str) -> Self {
        ParseError {
            message: format!("{what} is not supported"),
            position: None,
            kind: ErrorKind::Unsupported,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

type Result<T> = std::result::Result<T, ParseError>;

/// Parses one or more `;`-separated statements. Empty text (or only `;`, whitespace and
/// comments) gives no statements.
pub fn parse(text: &str) -> Result<Query> {
    parse_with_params(text, &Params::new())
}

/// Bound parameters by name (without the `$`): what `$name` in an expression stands for.
pub type Params = std::collections::HashMap<String, Literal>;

/// [`parse`] with bound parameters: `$name` where a value may stand is that value, as 1.x
/// binds the `params` of a `/query` request; a `$name` not in `params` is an error.
pub fn parse_with_params(text: &str, params: &Params) -> Result<Query> {
    Parser::new(text, params).parse_query()
}

/// How deeply parentheses, calls, signs and subqueries may nest. 1.x has no limit (Go stacks
/// grow); here it keeps hostile input from overflowing the thread's stack: 64 levels take
/// under 1 MiB even in a debug build (see `tests/robustness.rs`), and real queries nest a few.
const MAX_DEPTH: usize = 64;

/// How many binary operators one expression may hold. A chain `a OR b OR …` nests one level
/// per operator (left-associative, as 1.x builds it), and dropping, cloning or walking the
/// tree recurses that deep; this keeps it well inside a thread's stack.
const MAX_OPERATORS: usize = 1000;

/// The statement keywords, in the order 1.x lists them when none matches.
const STATEMENTS: &[&str] = &[
    "SELECT", "DELETE", "SHOW", "CREATE", "DROP", "EXPLAIN", "GRANT", "REVOKE", "ALTER", "SET",
    "KILL",
];

struct Parser<'a> {
    lex: Lexer<'a>,
    /// The lexer as it was before the last token scanned (after skipped whitespace): 1.x's
    /// one-token `Unscan`.
    mark: Lexer<'a>,
    /// Current nesting, against [`MAX_DEPTH`].
    depth: usize,
    /// Binary operators in the expression being parsed, against [`MAX_OPERATORS`].
    operators: usize,
    /// Values of the bound parameters.
    params: &'a Params,
}

fn keyword(token: &Token<'_>) -> Option<K> {
    match token.kind {
        Tok::Keyword(k) => Some(k),
        _ => None,
    }
}

/// 1.x's precedence classes: OR < AND < comparisons < `+ - | ^` < `* / % &`.
fn precedence(op: BinaryOp) -> u8 {
    use BinaryOp::*;
    match op {
        Or => 1,
        And => 2,
        Eq | NotEq | EqRegex | NotEqRegex | Lt | LtEq | Gt | GtEq => 3,
        Add | Sub | BitOr | BitXor => 4,
        Mul | Div | Mod | BitAnd => 5,
    }
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, params: &'a Params) -> Self {
        let lex = Lexer::new(text);
        Parser {
            lex,
            mark: lex,
            depth: 0,
            operators: 0,
            params,
        }
    }

    // ----- token plumbing ---------------------------------------------------------------

    /// The next token, whitespace included (1.x's `Scan`).
    fn scan(&mut self) -> Token<'a> {
        self.mark = self.lex;
        self.lex.scan()
    }

    /// The next token that is not whitespace or a comment (1.x's `ScanIgnoreWhitespace`).
    fn scan_ws(&mut self) -> Token<'a> {
        loop {
            let before = self.lex;
            let token = self.lex.scan();
            if !matches!(token.kind, Tok::Ws | Tok::Comment) {
                self.mark = before;
                return token;
            }
        }
    }

    /// Puts the last scanned token back (skipped whitespace stays skipped, as in 1.x).
    fn unscan(&mut self) {
        self.lex = self.mark;
    }

    fn peek_ws(&mut self) -> Token<'a> {
        let token = self.scan_ws();
        self.unscan();
        token
    }

    /// Consumes `kw` if it is next.
    fn accept(&mut self, kw: K) -> bool {
        let token = self.scan_ws();
        let found = keyword(&token) == Some(kw);
        if !found {
            self.unscan();
        }
        found
    }

    fn expect(&mut self, kw: K) -> Result<()> {
        let token = self.scan_ws();
        if keyword(&token) == Some(kw) {
            Ok(())
        } else {
            Err(ParseError::expected(&token, &[kw.as_str()]))
        }
    }

    fn expect_tok(&mut self, want: Tok<'static>, text: &str) -> Result<()> {
        let token = self.scan_ws();
        if token.kind == want {
            Ok(())
        } else {
            Err(ParseError::expected(&token, &[text]))
        }
    }

    /// Runs `f` one nesting level deeper, refusing past [`MAX_DEPTH`].
    fn nested<T>(&mut self, pos: Pos, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.depth >= MAX_DEPTH {
            return Err(ParseError::at(
                format_args!("nested more than {MAX_DEPTH} levels deep"),
                pos,
            ));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    // ----- small pieces -----------------------------------------------------------------

    fn parse_ident(&mut self) -> Result<String> {
        let token = self.scan_ws();
        match token.kind {
            Tok::Ident(name) => Ok(name),
            _ => Err(ParseError::expected(&token, &["identifier"])),
        }
    }

    fn parse_ident_list(&mut self) -> Result<Vec<String>> {
        let mut idents = vec![self.parse_ident()?];
        while self.scan_ws().kind == Tok::Comma {
            idents.push(self.parse_ident()?);
        }
        self.unscan();
        Ok(idents)
    }

    /// `ON db`, if present.
    fn parse_on(&mut self) -> Result<Option<String>> {
        if self.accept(K::On) {
            self.parse_ident().map(Some)
        } else {
            Ok(None)
        }
    }

    /// An integer in `min..=max` (`REPLICATION n`).
    fn parse_int(&mut self, min: i64, max: i64) -> Result<i64> {
        let token = self.scan_ws();
        let Tok::Integer(text) = token.kind else {
            return Err(ParseError::expected(&token, &["integer"]));
        };
        let n: i64 = text.parse().map_err(|_| {
            ParseError::at(
                format_args!("strconv.Atoi: parsing {text:?}: value out of range"),
                token.pos,
            )
        })?;
        if n < min || n > max {
            return Err(ParseError::at(
                format_args!("invalid value {n}: must be {min} <= n <= {max}"),
                token.pos,
            ));
        }
        Ok(n)
    }

    fn parse_replication(&mut self) -> Result<u32> {
        let n = self.parse_int(1, i64::from(i32::MAX))?;
        // In 1..=i32::MAX, so the conversion cannot fail; saturate rather than unwrap.
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// `KEYWORD n` if the keyword is next (LIMIT, OFFSET, SLIMIT, SOFFSET).
    fn parse_optional_count(&mut self, kw: K) -> Result<Option<u64>> {
        if !self.accept(kw) {
            return Ok(None);
        }
        let token = self.scan_ws();
        match token.kind {
            // 1.x's ParseInt saturates at i64::MAX; a digits-only token fails only by overflow.
            Tok::Integer(text) => Ok(Some(
                text.parse::<u64>()
                    .map_or(i64::MAX as u64, |n| n.min(i64::MAX as u64)),
            )),
            _ => Err(ParseError::expected(&token, &["integer"])),
        }
    }

    /// A duration after `DURATION`: a duration literal or `INF` (0).
    fn parse_duration_value(&mut self) -> Result<i64> {
        let token = self.scan_ws();
        match token.kind {
            Tok::Duration(text) => {
                parse_duration(text).map_err(|msg| ParseError::at(msg, token.pos))
            }
            Tok::Keyword(K::Inf) => Ok(0),
            _ => Err(ParseError::expected(&token, &["duration"])),
        }
    }

    /// After `SHARD`: `DURATION d`, where `INF` is refused.
    fn parse_shard_duration(&mut self) -> Result<i64> {
        self.expect(K::Duration)?;
        let token = self.peek_ws();
        if keyword(&token) == Some(K::Inf) {
            return Err(ParseError::at(
                "invalid duration INF for shard duration",
                token.pos,
            ));
        }
        self.parse_duration_value()
    }

    /// A `/regex/` if one is next (after optional whitespace); 1.x's `parseRegex`.
    fn parse_regex(&mut self) -> Result<Option<Regex>> {
        self.lex.skip_whitespace();
        if self.lex.peek_rune() != Some('/') {
            return Ok(None);
        }
        let pos = self.lex.regex_pos();
        match self.lex.scan_regex() {
            Some(pattern) => Ok(Some(Regex(pattern))),
            // 1.x prints the (empty) text scanned so far after the colon.
            None => Err(ParseError::at("bad regex: ", pos)),
        }
    }

    /// A `/regex/` that must be next.
    fn expect_regex(&mut self) -> Result<Regex> {
        match self.parse_regex()? {
            Some(regex) => Ok(regex),
            None => {
                let token = self.scan_ws();
                Err(ParseError::expected(&token, &["regex"]))
            }
        }
    }

    /// `a`, `a.b`, `a.b.c`, `a..c`; with `regex_tail`, a final `./regex/` too (FROM). 1.x's
    /// `parseSegmentedIdents`.
    fn parse_segments(&mut self, regex_tail: bool) -> Result<(Vec<String>, Option<Regex>)> {
        let mut idents = vec![self.parse_ident()?];
        let mut regex = None;
        loop {
            if self.scan().kind != Tok::Dot {
                self.unscan();
                break;
            }
            match self.lex.peek_rune() {
                Some('/') => {
                    if regex_tail && idents.len() < 3 {
                        regex = Some(self.expect_regex()?);
                    }
                    break;
                }
                Some(':') => break,
                Some('.') => idents.push(String::new()),
                _ => idents.push(self.parse_ident()?),
            }
        }
        if idents.len() > 3 {
            let message = format!("too many segments in {}", quote_ident(&idents));
            return Err(ParseError::at(message, Pos::default()));
        }
        Ok((idents, regex))
    }

    // ----- statements -------------------------------------------------------------------

    fn parse_query(&mut self) -> Result<Query> {
        let mut statements = Vec::new();
        let mut after_semicolon = true;
        loop {
            let token = self.scan_ws();
            match token.kind {
                Tok::Eof => return Ok(Query { statements }),
                Tok::Semicolon => after_semicolon = true,
                _ if !after_semicolon => return Err(ParseError::expected(&token, &[";"])),
                _ => {
                    self.unscan();
                    statements.push(self.parse_statement()?);
                    after_semicolon = false;
                }
            }
        }
    }

    fn parse_statement(&mut self) -> Result<Statement> {
        let token = self.scan_ws();
        match keyword(&token) {
            Some(K::Select) => Ok(Statement::Select(Box::new(self.parse_select()?))),
            Some(K::Delete) => Ok(Statement::Delete(self.parse_delete(false)?)),
            Some(K::Show) => self.parse_show(),
            Some(K::Create) => self.parse_create(),
            Some(K::Drop) => self.parse_drop(),
            Some(K::Explain) => Err(ParseError::unsupported("EXPLAIN")),
            Some(K::Grant) => Err(ParseError::unsupported("GRANT")),
            Some(K::Revoke) => Err(ParseError::unsupported("REVOKE")),
            Some(K::Alter) => {
                self.expect(K::Retention)?;
                self.expect(K::Policy)?;
                self.parse_alter_retention_policy()
            }
            Some(K::Set) => {
                self.expect(K::Password)?;
                self.expect(K::For)?;
                Err(ParseError::unsupported("SET PASSWORD"))
            }
            Some(K::Kill) => {
                self.expect(K::Query)?;
                Err(ParseError::unsupported("KILL QUERY"))
            }
            _ => Err(ParseError::expected(&token, STATEMENTS)),
        }
    }

    fn parse_show(&mut self) -> Result<Statement> {
        const SHOW: &[&str] = &[
            "CONTINUOUS",
            "DATABASES",
            "DIAGNOSTICS",
            "FIELD",
            "GRANTS",
            "MEASUREMENT",
            "MEASUREMENTS",
            "QUERIES",
            "RETENTION",
            "SERIES",
            "SHARD",
            "SHARDS",
            "STATS",
            "SUBSCRIPTIONS",
            "TAG",
            "USERS",
        ];
        let token = self.scan_ws();
        match keyword(&token) {
            Some(K::Continuous) => {
                self.expect(K::Queries)?;
                Err(ParseError::unsupported("SHOW CONTINUOUS QUERIES"))
            }
            Some(K::Databases) => Ok(Statement::ShowDatabases),
            Some(K::Diagnostics) => Err(ParseError::unsupported("SHOW DIAGNOSTICS")),
            Some(K::Field) => {
                let token = self.scan_ws();
                match keyword(&token) {
                    Some(K::Key) => Err(ParseError::unsupported("SHOW FIELD KEY CARDINALITY")),
                    Some(K::Keys) => self.parse_show_field_keys(),
                    _ => Err(ParseError::expected(&token, &["KEY", "KEYS"])),
                }
            }
            Some(K::Grants) => {
                self.expect(K::For)?;
                Err(ParseError::unsupported("SHOW GRANTS"))
            }
            Some(K::Measurement) => {
                let token = self.scan_ws();
                match keyword(&token) {
                    Some(K::Exact | K::Cardinality) => {
                        Err(ParseError::unsupported("SHOW MEASUREMENT CARDINALITY"))
                    }
                    _ => Err(ParseError::expected(&token, &["EXACT", "CARDINALITY"])),
                }
            }
            Some(K::Measurements) => self.parse_show_measurements(),
            Some(K::Queries) => Err(ParseError::unsupported("SHOW QUERIES")),
            Some(K::Retention) => {
                self.expect(K::Policies)?;
                Ok(Statement::ShowRetentionPolicies {
                    on: self.parse_on()?,
                })
            }
            Some(K::Series) => self.parse_show_series(),
            Some(K::Shard) => {
                self.expect(K::Groups)?;
                Err(ParseError::unsupported("SHOW SHARD GROUPS"))
            }
            Some(K::Shards) => Err(ParseError::unsupported("SHOW SHARDS")),
            Some(K::Stats) => Err(ParseError::unsupported("SHOW STATS")),
            Some(K::Subscriptions) => Err(ParseError::unsupported("SHOW SUBSCRIPTIONS")),
            Some(K::Tag) => {
                let token = self.scan_ws();
                match keyword(&token) {
                    Some(K::Key) => Err(ParseError::unsupported("SHOW TAG KEY CARDINALITY")),
                    Some(K::Keys) => self.parse_show_tag_keys(),
                    Some(K::Values) => self.parse_show_tag_values(),
                    _ => Err(ParseError::expected(&token, &["KEY", "KEYS", "VALUES"])),
                }
            }
            Some(K::Users) => Err(ParseError::unsupported("SHOW USERS")),
            _ => Err(ParseError::expected(&token, SHOW)),
        }
    }

    fn parse_create(&mut self) -> Result<Statement> {
        let token = self.scan_ws();
        match keyword(&token) {
            Some(K::Continuous) => {
                self.expect(K::Query)?;
                Err(ParseError::unsupported("CREATE CONTINUOUS QUERY"))
            }
            Some(K::Database) => self.parse_create_database(),
            Some(K::User) => Err(ParseError::unsupported("CREATE USER")),
            Some(K::Retention) => {
                self.expect(K::Policy)?;
                self.parse_create_retention_policy()
            }
            Some(K::Subscription) => Err(ParseError::unsupported("CREATE SUBSCRIPTION")),
            _ => Err(ParseError::expected(
                &token,
                &[
                    "CONTINUOUS",
                    "DATABASE",
                    "USER",
                    "RETENTION",
                    "SUBSCRIPTION",
                ],
            )),
        }
    }

    fn parse_drop(&mut self) -> Result<Statement> {
        let token = self.scan_ws();
        match keyword(&token) {
            Some(K::Continuous) => {
                self.expect(K::Query)?;
                Err(ParseError::unsupported("DROP CONTINUOUS QUERY"))
            }
            Some(K::Database) => Ok(Statement::DropDatabase {
                name: self.parse_ident()?,
            }),
            Some(K::Measurement) => Ok(Statement::DropMeasurement {
                name: self.parse_ident()?,
            }),
            Some(K::Retention) => {
                self.expect(K::Policy)?;
                let name = self.parse_ident()?;
                self.expect(K::On)?;
                let database = self.parse_ident()?;
                Ok(Statement::DropRetentionPolicy { name, database })
            }
            Some(K::Series) => Ok(Statement::DropSeries(self.parse_delete(true)?)),
            Some(K::Shard) => Err(ParseError::unsupported("DROP SHARD")),
            Some(K::Subscription) => Err(ParseError::unsupported("DROP SUBSCRIPTION")),
            Some(K::User) => Err(ParseError::unsupported("DROP USER")),
            _ => Err(ParseError::expected(
                &token,
                &[
                    "CONTINUOUS",
                    "DATABASE",
                    "MEASUREMENT",
                    "RETENTION",
                    "SERIES",
                    "SHARD",
                    "SUBSCRIPTION",
                    "USER",
                ],
            )),
        }
    }

    /// Refuses the write limits of 1.8+ policies, which the AST has no place for.
    fn refuse_write_limits(&mut self) -> Result<()> {
        if self.accept(K::Future) || self.accept(K::Past) {
            return Err(ParseError::unsupported("FUTURE/PAST LIMIT"));
        }
        Ok(())
    }

    fn parse_create_database(&mut self) -> Result<Statement> {
        let name = self.parse_ident()?;
        if !self.accept(K::With) {
            return Ok(Statement::CreateDatabase { name, policy: None });
        }
        let token = self.peek_ws();
        if !matches!(
            keyword(&token),
            Some(K::Duration | K::Name | K::Replication | K::Shard | K::Future | K::Past)
        ) {
            return Err(ParseError::expected(
                &token,
                &["DURATION", "NAME", "REPLICATION", "SHARD", "FUTURE", "PAST"],
            ));
        }
        let mut policy = PolicySpec::default();
        if self.accept(K::Duration) {
            policy.duration = Some(self.parse_duration_value()?);
        }
        if self.accept(K::Replication) {
            policy.replication = Some(self.parse_replication()?);
        }
        if self.accept(K::Shard) {
            // 1.x takes INF (0) here, unlike in the RETENTION POLICY statements.
            self.expect(K::Duration)?;
            policy.shard_duration = Some(self.parse_duration_value()?);
        }
        self.refuse_write_limits()?;
        if self.accept(K::Name) {
            policy.name = Some(self.parse_ident()?);
        }
        Ok(Statement::CreateDatabase {
            name,
            policy: Some(policy),
        })
    }

    fn parse_create_retention_policy(&mut self) -> Result<Statement> {
        let name = self.parse_ident()?;
        self.expect(K::On)?;
        let database = self.parse_ident()?;
        self.expect(K::Duration)?;
        let mut policy = PolicySpec {
            duration: Some(self.parse_duration_value()?),
            ..PolicySpec::default()
        };
        self.expect(K::Replication)?;
        policy.replication = Some(self.parse_replication()?);
        if self.accept(K::Shard) {
            policy.shard_duration = Some(self.parse_shard_duration()?);
        }
        policy.default = self.accept(K::Default);
        self.refuse_write_limits()?;
        Ok(Statement::CreateRetentionPolicy {
            name,
            database,
            policy,
        })
    }

    fn parse_alter_retention_policy(&mut self) -> Result<Statement> {
        let token = self.scan_ws();
        let name = match token.kind {
            Tok::Keyword(K::Default) => "default".to_owned(),
            Tok::Ident(name) => name,
            _ => return Err(ParseError::expected(&token, &["identifier"])),
        };
        self.expect(K::On)?;
        let database = self.parse_ident()?;
        let mut policy = PolicySpec::default();
        let mut seen: Vec<K> = Vec::new();
        loop {
            let token = self.scan_ws();
            let kw = keyword(&token);
            if let Some(kw) = kw.filter(|kw| seen.contains(kw)) {
                return Err(ParseError::at(
                    format_args!("found duplicate {} option", kw.as_str()),
                    token.pos,
                ));
            }
            match kw {
                Some(K::Duration) => policy.duration = Some(self.parse_duration_value()?),
                Some(K::Replication) => policy.replication = Some(self.parse_replication()?),
                Some(K::Shard) => policy.shard_duration = Some(self.parse_shard_duration()?),
                Some(K::Default) => policy.default = true,
                Some(K::Future | K::Past) => {
                    return Err(ParseError::unsupported("FUTURE/PAST LIMIT"))
                }
                _ if seen.is_empty() => {
                    return Err(ParseError::expected(
                        &token,
                        &[
                            "DURATION",
                            "REPLICATION",
                            "SHARD",
                            "DEFAULT",
                            "FUTURE",
                            "PAST",
                        ],
                    ));
                }
                _ => {
                    self.unscan();
                    break;
                }
            }
            if let Some(kw) = kw {
                seen.push(kw);
            }
        }
        Ok(Statement::AlterRetentionPolicy {
            name,
            database,
            policy,
        })
    }

    /// `DELETE` and `DROP SERIES`: `[FROM …] [WHERE …]`, at least one.
    fn parse_delete(&mut self, drop_series: bool) -> Result<Delete> {
        let first = self.peek_ws();
        let mut from = Vec::new();
        if self.accept(K::From) {
            from = self.parse_measurements()?;
            // 1.x walks every source and reports the last complaint.
            let mut complaint = None;
            for m in &from {
                if m.database.is_some() {
                    complaint = Some("database not supported");
                }
                if drop_series && m.retention_policy.is_some() {
                    complaint = Some("retention policy not supported");
                }
            }
            if let Some(message) = complaint {
                return Err(ParseError::at(message, Pos::default()));
            }
        }
        let condition = self.parse_condition()?;
        if from.is_empty() && condition.is_none() {
            return Err(ParseError::expected(&first, &["FROM", "WHERE"]));
        }
        Ok(Delete { from, condition })
    }

    /// `[ON db] [FROM …]`, the start of most `SHOW` statements.
    fn parse_show_on_from(&mut self) -> Result<Show> {
        let on = self.parse_on()?;
        let from = if self.accept(K::From) {
            self.parse_measurements()?
        } else {
            Vec::new()
        };
        Ok(Show {
            on,
            from,
            ..Show::default()
        })
    }

    /// `[WHERE …] [ORDER BY …] [LIMIT n] [OFFSET n]`, the end of the `SHOW` statements.
    /// `ORDER BY` is checked as 1.x checks it, then dropped: names always come sorted.
    fn parse_show_tail(&mut self, show: &mut Show, with_where: bool) -> Result<()> {
        if with_where {
            show.condition = self.parse_condition()?;
        }
        self.parse_order_by()?;
        show.limit = self.parse_optional_count(K::Limit)?;
        show.offset = self.parse_optional_count(K::Offset)?;
        Ok(())
    }

    fn parse_show_measurements(&mut self) -> Result<Statement> {
        let mut statement = ShowMeasurements::default();
        if self.accept(K::On) {
            let token = self.scan_ws();
            match token.kind {
                Tok::Ident(name) => statement.show.on = Some(name),
                Tok::Op(BinaryOp::Mul) => {
                    return Err(ParseError::unsupported("SHOW MEASUREMENTS ON *"))
                }
                _ => return Err(ParseError::expected(&token, &["identifier or *"])),
            }
            if self.scan_ws().kind == Tok::Dot {
                return Err(ParseError::unsupported("SHOW MEASUREMENTS ON db.rp"));
            }
            self.unscan();
        }
        if self.accept(K::With) {
            self.expect(K::Measurement)?;
            let token = self.scan_ws();
            let op = match token.kind {
                Tok::Op(
                    op
                    @ (BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::EqRegex | BinaryOp::NotEqRegex),
                ) => op,
                _ => return Err(ParseError::expected(&token, &["=", "!=", "=~", "!~"])),
            };
            // 1.x reads a whole source here and uses only its name or regex.
            statement.with_measurement = Some((op, self.parse_measurement()?.name));
        }
        self.parse_show_tail(&mut statement.show, true)?;
        Ok(Statement::ShowMeasurements(statement))
    }

    fn parse_show_tag_keys(&mut self) -> Result<Statement> {
        let mut show = self.parse_show_on_from()?;
        if keyword(&self.peek_ws()) == Some(K::With) {
            return Err(ParseError::unsupported("SHOW TAG KEYS WITH KEY"));
        }
        self.parse_show_tail(&mut show, true)?;
        if self.accept(K::Slimit) || self.accept(K::Soffset) {
            return Err(ParseError::unsupported(
                "SHOW TAG KEYS with SLIMIT or SOFFSET",
            ));
        }
        Ok(Statement::ShowTagKeys(show))
    }

    fn parse_show_tag_values(&mut self) -> Result<Statement> {
        if matches!(keyword(&self.peek_ws()), Some(K::Exact | K::Cardinality)) {
            return Err(ParseError::unsupported("SHOW TAG VALUES CARDINALITY"));
        }
        let mut show = self.parse_show_on_from()?;
        self.expect(K::With)?;
        self.expect(K::Key)?;
        let token = self.scan_ws();
        let key = match token.kind {
            Tok::Keyword(K::In) => {
                self.expect_tok(Tok::LParen, "(")?;
                let keys = self.parse_ident_list()?;
                self.expect_tok(Tok::RParen, ")")?;
                TagKeys::In(keys)
            }
            Tok::Op(BinaryOp::Eq) => TagKeys::Eq(self.parse_ident()?),
            Tok::Op(BinaryOp::NotEq) => TagKeys::NotEq(self.parse_ident()?),
            Tok::Op(BinaryOp::EqRegex) => TagKeys::Regex(self.expect_regex()?),
            Tok::Op(BinaryOp::NotEqRegex) => TagKeys::NotRegex(self.expect_regex()?),
            _ => return Err(ParseError::expected(&token, &["IN", "=", "=~"])),
        };
        self.parse_show_tail(&mut show, true)?;
        Ok(Statement::ShowTagValues(ShowTagValues { show, key }))
    }

    fn parse_show_field_keys(&mut self) -> Result<Statement> {
        let mut show = self.parse_show_on_from()?;
        self.parse_show_tail(&mut show, false)?;
        Ok(Statement::ShowFieldKeys(show))
    }

    fn parse_show_series(&mut self) -> Result<Statement> {
        if matches!(keyword(&self.peek_ws()), Some(K::Exact | K::Cardinality)) {
            return Err(ParseError::unsupported("SHOW SERIES CARDINALITY"));
        }
        let mut show = self.parse_show_on_from()?;
        self.parse_show_tail(&mut show, true)?;
        Ok(Statement::ShowSeries(show))
    }

    // ----- SELECT -----------------------------------------------------------------------

    fn parse_select(&mut self) -> Result<Select> {
        let fields = self.parse_fields()?;
        let into = self.parse_into()?;
        let token = self.scan_ws();
        if keyword(&token) != Some(K::From) {
            return Err(ParseError::expected(&token, &["FROM"]));
        }
        let from = self.parse_sources()?;
        let condition = self.parse_condition()?;
        let dimensions = self.parse_dimensions()?;
        let fill = self.parse_fill()?;
        let descending = self.parse_order_by()?;
        let limit = self.parse_optional_count(K::Limit)?;
        let offset = self.parse_optional_count(K::Offset)?;
        let slimit = self.parse_optional_count(K::Slimit)?;
        let soffset = self.parse_optional_count(K::Soffset)?;
        let timezone = self.parse_tz()?;
        // 1.x checks dimensions when it compiles the parsed statement, so syntax errors
        // anywhere in the statement win over these.
        let group_by = to_dimensions(dimensions)?;
        Ok(Select {
            fields,
            into,
            from,
            condition,
            group_by,
            fill,
            descending,
            limit,
            offset,
            slimit,
            soffset,
            timezone,
        })
    }

    fn parse_fields(&mut self) -> Result<Vec<Field>> {
        let mut fields = vec![self.parse_field()?];
        while self.scan().kind == Tok::Comma {
            fields.push(self.parse_field()?);
        }
        self.unscan();
        Ok(fields)
    }

    fn parse_field(&mut self) -> Result<Field> {
        let expr = match self.parse_regex()? {
            Some(regex) => Expr::RegexRef(regex),
            None => {
                let start = self.peek_ws().pos;
                let expr = self.parse_root_expr()?;
                if let Some(op) = condition_operator(&expr) {
                    let mut error = ParseError::bare(format!(
                        "invalid operator {} in SELECT clause at line {}, char {}; operator is intended for WHERE clause",
                        crate::lexer::op_str(op),
                        start.line + 1,
                        start.char + 1,
                    ));
                    error.position = Some(Position {
                        line: start.line + 1,
                        char: start.char + 1,
                    });
                    return Err(error);
                }
                expr
            }
        };
        let alias = if self.accept(K::As) {
            Some(self.parse_ident()?)
        } else {
            None
        };
        self.lex.skip_whitespace();
        Ok(Field { expr, alias })
    }

    /// `INTO [[db.]rp.]measurement` or `… .:MEASUREMENT` (then the name is empty).
    fn parse_into(&mut self) -> Result<Option<Measurement>> {
        if !self.accept(K::Into) {
            return Ok(None);
        }
        let (mut idents, _) = self.parse_segments(false)?;
        if idents.len() < 3 && self.lex.peek_rune() == Some(':') {
            self.expect_tok(Tok::Colon, ":")?;
            self.expect(K::Measurement)?;
            idents.push(String::new());
        }
        Ok(Some(measurement_from(idents, None)))
    }

    fn parse_sources(&mut self) -> Result<Vec<Source>> {
        let mut sources = Vec::new();
        loop {
            let token = self.scan_ws();
            if token.kind == Tok::LParen {
                let select = self.nested(token.pos, |p| {
                    p.expect(K::Select)?;
                    let select = p.parse_select()?;
                    p.expect_tok(Tok::RParen, ")")?;
                    Ok(select)
                })?;
                sources.push(Source::Subquery(Box::new(select)));
            } else {
                self.unscan();
                sources.push(Source::Measurement(self.parse_measurement()?));
            }
            if self.scan_ws().kind != Tok::Comma {
                self.unscan();
                return Ok(sources);
            }
        }
    }

    /// Measurements separated by commas (the `FROM` of `SHOW`, `DELETE`, `DROP SERIES`).
    fn parse_measurements(&mut self) -> Result<Vec<Measurement>> {
        let mut measurements = vec![self.parse_measurement()?];
        while self.scan_ws().kind == Tok::Comma {
            measurements.push(self.parse_measurement()?);
        }
        self.unscan();
        Ok(measurements)
    }

    fn parse_measurement(&mut self) -> Result<Measurement> {
        if let Some(regex) = self.parse_regex()? {
            return Ok(Measurement {
                database: None,
                retention_policy: None,
                name: NameOrRegex::Regex(regex),
            });
        }
        let (idents, regex) = self.parse_segments(true)?;
        Ok(measurement_from(idents, regex))
    }

    fn parse_condition(&mut self) -> Result<Option<Expr>> {
        if self.accept(K::Where) {
            self.parse_root_expr().map(Some)
        } else {
            Ok(None)
        }
    }

    /// `GROUP BY` dimensions, as expressions (checked later by [`to_dimensions`]).
    fn parse_dimensions(&mut self) -> Result<Vec<Expr>> {
        if !self.accept(K::Group) {
            return Ok(Vec::new());
        }
        self.expect(K::By)?;
        let mut dimensions = Vec::new();
        loop {
            let dimension = match self.parse_regex()? {
                Some(regex) => Expr::RegexRef(regex),
                None => self.parse_root_expr()?,
            };
            self.lex.skip_whitespace();
            dimensions.push(dimension);
            if self.scan().kind != Tok::Comma {
                self.unscan();
                return Ok(dimensions);
            }
        }
    }

    fn parse_fill(&mut self) -> Result<Option<Fill>> {
        if !matches!(self.peek_ws().kind, Tok::Ident(ref name) if name.eq_ignore_ascii_case("fill"))
        {
            return Ok(None);
        }
        let Expr::Call { args, .. } = self.parse_root_expr()? else {
            return Err(ParseError::bare("fill must be a function call"));
        };
        let [arg] = args.as_slice() else {
            return Err(ParseError::bare(
                "fill requires an argument, e.g.: 0, null, none, previous, linear",
            ));
        };
        let fill = match arg {
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "null" => Fill::Null,
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "none" => Fill::None,
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "previous" => Fill::Previous,
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "linear" => Fill::Linear,
            Expr::Literal(literal @ (Literal::Integer(_) | Literal::Float(_))) => {
                Fill::Value(literal.clone())
            }
            _ => return Err(ParseError::bare("expected number argument in fill()")),
        };
        Ok(Some(fill))
    }

    /// `ORDER BY time [ASC|DESC]` (or `ORDER BY ASC|DESC`); whether it is descending.
    fn parse_order_by(&mut self) -> Result<bool> {
        const ONLY_TIME: &str = "only ORDER BY time supported at this time";
        if !self.accept(K::Order) {
            return Ok(false);
        }
        self.expect(K::By)?;
        let token = self.scan_ws();
        let descending = match token.kind {
            Tok::Keyword(K::Asc) => false,
            Tok::Keyword(K::Desc) => true,
            Tok::Ident(_) => {
                self.unscan();
                let (name, descending) = self.parse_sort_field()?;
                if name != "time" {
                    return Err(ParseError::bare(ONLY_TIME));
                }
                descending
            }
            _ => return Err(ParseError::expected(&token, &["identifier", "ASC", "DESC"])),
        };
        let mut more = false;
        while self.scan_ws().kind == Tok::Comma {
            self.parse_sort_field()?;
            more = true;
        }
        self.unscan();
        if more {
            return Err(ParseError::bare(ONLY_TIME));
        }
        Ok(descending)
    }

    fn parse_sort_field(&mut self) -> Result<(String, bool)> {
        let name = self.parse_ident()?;
        let token = self.scan_ws();
        let descending = match keyword(&token) {
            Some(K::Desc) => true,
            Some(K::Asc) => false,
            _ => {
                self.unscan();
                false
            }
        };
        Ok((name, descending))
    }

    fn parse_tz(&mut self) -> Result<Option<String>> {
        if !matches!(self.peek_ws().kind, Tok::Ident(ref name) if name.eq_ignore_ascii_case("tz")) {
            return Ok(None);
        }
        let Expr::Call { mut args, .. } = self.parse_root_expr()? else {
            return Err(ParseError::bare("tz must be a function call"));
        };
        match (args.pop(), args.is_empty()) {
            (Some(Expr::Literal(Literal::String(zone))), true) => Ok(Some(zone)),
            (Some(_), true) => Err(ParseError::bare("expected string argument in tz()")),
            _ => Err(ParseError::bare("tz requires exactly one argument")),
        }
    }

    // ----- expressions ------------------------------------------------------------------

    /// A whole expression (a field, condition, dimension, `fill` or `tz`), with a fresh
    /// operator budget.
    fn parse_root_expr(&mut self) -> Result<Expr> {
        self.operators = 0;
        self.parse_expr()
    }

    fn parse_expr(&mut self) -> Result<Expr> {
        let first = self.parse_unary()?;
        self.parse_binary(first, 1)
    }

    /// Precedence climbing from `lhs` over operators of at least `min_precedence`; left
    /// associative, building the same trees as 1.x's insertion algorithm.
    fn parse_binary(&mut self, mut lhs: Expr, min_precedence: u8) -> Result<Expr> {
        loop {
            let token = self.scan_ws();
            let op = match token.kind {
                Tok::Op(op) if precedence(op) >= min_precedence => op,
                _ => {
                    self.unscan();
                    return Ok(lhs);
                }
            };
            let operand = if matches!(op, BinaryOp::EqRegex | BinaryOp::NotEqRegex) {
                Expr::Literal(Literal::Regex(self.expect_regex()?))
            } else {
                self.parse_unary()?
            };
            let rhs = self.parse_binary(operand, precedence(op) + 1)?;
            self.operators += 1;
            if self.operators > MAX_OPERATORS {
                return Err(ParseError::at(
                    format_args!("expression has more than {MAX_OPERATORS} operators"),
                    token.pos,
                ));
            }
            lhs = Expr::Binary {
                left: Box::new(lhs),
                op,
                right: Box::new(rhs),
            };
        }
    }

    /// An operand: literal, name, call, `*`, `( expr )` or a signed operand.
    fn parse_unary(&mut self) -> Result<Expr> {
        let token = self.scan_ws();
        let pos = token.pos;
        match token.kind {
            Tok::LParen => self.nested(pos, |p| {
                let inner = p.parse_expr()?;
                p.expect_tok(Tok::RParen, ")")?;
                Ok(Expr::Paren(Box::new(inner)))
            }),
            Tok::Ident(name) => {
                let before_name = self.mark;
                if self.scan().kind == Tok::LParen {
                    self.nested(pos, |p| p.parse_call(&name))
                } else {
                    self.lex = before_name;
                    self.parse_var_ref()
                }
            }
            Tok::Keyword(K::Distinct) => {
                let next = self.scan();
                match next.kind {
                    Tok::LParen => self.nested(pos, |p| p.parse_call("distinct")),
                    Tok::Ws => {
                        let token = self.scan_ws();
                        match token.kind {
                            Tok::Ident(name) => Ok(Expr::Call {
                                name: "distinct".to_owned(),
                                args: vec![Expr::VarRef {
                                    name,
                                    data_type: None,
                                }],
                            }),
                            _ => Err(ParseError::expected(&token, &["identifier"])),
                        }
                    }
                    _ => Err(ParseError::expected(&next, &["(", "identifier"])),
                }
            }
            Tok::Str(text) => Ok(Expr::Literal(Literal::String(text))),
            Tok::Number(text) => match text.parse::<f64>() {
                Ok(value) if value.is_finite() => Ok(Expr::Literal(Literal::Float(value))),
                _ => Err(ParseError::at("unable to parse number", pos)),
            },
            Tok::Integer(text) => {
                if let Ok(value) = text.parse::<i64>() {
                    Ok(Expr::Literal(Literal::Integer(value)))
                } else if let Ok(value) = text.parse::<u64>() {
                    Ok(Expr::Literal(Literal::Unsigned(value)))
                } else {
                    Err(ParseError::at("unable to parse integer", pos))
                }
            }
            Tok::True => Ok(Expr::Literal(Literal::Boolean(true))),
            Tok::False => Ok(Expr::Literal(Literal::Boolean(false))),
            // 1.x reports a bad duration literal in an expression without a position.
            Tok::Duration(text) => parse_duration(text)
                .map(|ns| Expr::Literal(Literal::Duration(ns)))
                .map_err(ParseError::bare),
            Tok::Op(BinaryOp::Mul) => {
                let mut data_type = None;
                if self.scan().kind == Tok::DoubleColon {
                    let token = self.scan();
                    data_type = Some(match keyword(&token) {
                        Some(K::Field) => VarType::Field,
                        Some(K::Tag) => VarType::Tag,
                        _ => return Err(ParseError::expected(&token, &["field", "tag"])),
                    });
                } else {
                    self.unscan();
                }
                Ok(Expr::Wildcard(data_type))
            }
            Tok::BoundParam(param) => match param.strip_prefix('$') {
                Some(name) if !name.is_empty() => match self.params.get(name) {
                    Some(value) => Ok(Expr::Literal(value.clone())),
                    None => Err(ParseError::bare(format!("missing parameter: {name}"))),
                },
                _ => Err(ParseError::bare("empty bound parameter")),
            },
            Tok::Op(sign @ (BinaryOp::Add | BinaryOp::Sub)) => {
                let next = self.scan_ws();
                if !matches!(
                    next.kind,
                    Tok::Number(_)
                        | Tok::Integer(_)
                        | Tok::Duration(_)
                        | Tok::LParen
                        | Tok::Ident(_)
                ) {
                    return Err(ParseError::expected(
                        &next,
                        &["identifier", "number", "duration", "("],
                    ));
                }
                self.unscan();
                let operand = self.nested(pos, Self::parse_unary)?;
                apply_sign(sign == BinaryOp::Sub, operand)
            }
            _ => Err(ParseError::expected(
                &token,
                &["identifier", "string", "number", "bool"],
            )),
        }
    }

    /// After `name(`: the arguments and `)`. A regex may stand as any argument.
    fn parse_call(&mut self, name: &str) -> Result<Expr> {
        let name = name.to_lowercase();
        let mut args = Vec::new();
        match self.parse_regex()? {
            Some(regex) => args.push(Expr::RegexRef(regex)),
            None => {
                if self.scan().kind == Tok::RParen {
                    return Ok(Expr::Call { name, args });
                }
                self.unscan();
                args.push(self.parse_expr()?);
            }
        }
        while self.scan_ws().kind == Tok::Comma {
            match self.parse_regex()? {
                Some(regex) => args.push(Expr::RegexRef(regex)),
                None => args.push(self.parse_expr()?),
            }
        }
        self.unscan();
        let token = self.scan();
        if token.kind != Tok::RParen {
            return Err(ParseError::expected(&token, &[")"]));
        }
        Ok(Expr::Call { name, args })
    }

    /// `name[.name…][::type]`; the segments join with `.` into one name, as in 1.x.
    fn parse_var_ref(&mut self) -> Result<Expr> {
        let (segments, _) = self.parse_segments(false)?;
        let mut data_type = None;
        if self.scan().kind == Tok::DoubleColon {
            let token = self.scan();
            data_type = Some(match &token.kind {
                Tok::Ident(name) => match name.to_ascii_lowercase().as_str() {
                    "float" => VarType::Float,
                    "integer" => VarType::Integer,
                    "unsigned" => VarType::Unsigned,
                    "string" => VarType::String,
                    "boolean" => VarType::Boolean,
                    _ => {
                        return Err(ParseError::expected(
                            &token,
                            &[
                                "float", "integer", "unsigned", "string", "boolean", "field", "tag",
                            ],
                        ));
                    }
                },
                Tok::Keyword(K::Field) => VarType::Field,
                Tok::Keyword(K::Tag) => VarType::Tag,
                // 1.x's list here omits `unsigned`.
                _ => {
                    return Err(ParseError::expected(
                        &token,
                        &["float", "integer", "string", "boolean", "field", "tag"],
                    ));
                }
            });
        } else {
            self.unscan();
        }
        Ok(Expr::VarRef {
            name: segments.join("."),
            data_type,
        })
    }
}

/// Folds a sign into a literal operand, or multiplies any other operand by ±1 (1.x's tree).
fn apply_sign(negative: bool, operand: Expr) -> Result<Expr> {
    let literal = match operand {
        // Literals scanned from digits are never negative, so negation cannot overflow;
        // wrapping keeps that a non-panicking fact rather than an assumption.
        Expr::Literal(Literal::Integer(v)) if negative => Literal::Integer(v.wrapping_neg()),
        Expr::Literal(Literal::Float(v)) if negative => Literal::Float(-v),
        Expr::Literal(Literal::Duration(v)) if negative => Literal::Duration(v.wrapping_neg()),
        Expr::Literal(Literal::Unsigned(v)) if negative => {
            // i64::MIN scans as unsigned (its digits overflow i64) but fits once negated.
            if v == 1 << 63 {
                Literal::Integer(i64::MIN)
            } else {
                return Err(ParseError::bare(format!("constant -{v} underflows int64")));
            }
        }
        operand @ (Expr::VarRef { .. } | Expr::Call { .. } | Expr::Paren(_)) => {
            return Ok(Expr::Binary {
                left: Box::new(Expr::Literal(Literal::Integer(if negative {
                    -1
                } else {
                    1
                }))),
                op: BinaryOp::Mul,
                right: Box::new(operand),
            });
        }
        other => return Ok(other),
    };
    Ok(Expr::Literal(literal))
}

/// The first comparison or logical operator in `expr` (pre-order), which a field may not use.
fn condition_operator(expr: &Expr) -> Option<BinaryOp> {
    use BinaryOp::*;
    match expr {
        Expr::Binary {
            op: op @ (Eq | NotEq | EqRegex | NotEqRegex | Lt | LtEq | Gt | GtEq | And | Or),
            ..
        } => Some(*op),
        Expr::Binary { left, right, .. } => {
            condition_operator(left).or_else(|| condition_operator(right))
        }
        Expr::Paren(inner) => condition_operator(inner),
        Expr::Call { args, .. } => args.iter().find_map(condition_operator),
        _ => None,
    }
}

/// `[db.][rp.]name` from 1–3 segments (and a trailing regex); empty segments mean "not given".
fn measurement_from(mut idents: Vec<String>, regex: Option<Regex>) -> Measurement {
    let given = |s: String| Some(s).filter(|s| !s.is_empty());
    let name = match regex {
        Some(regex) => NameOrRegex::Regex(regex),
        None => NameOrRegex::Name(idents.pop().unwrap_or_default()),
    };
    let mut parts = idents.into_iter();
    let (database, retention_policy) = match (parts.next(), parts.next()) {
        (Some(db), Some(rp)) => (given(db), given(rp)),
        (Some(rp), None) => (None, given(rp)),
        _ => (None, None),
    };
    Measurement {
        database,
        retention_policy,
        name,
    }
}

/// Checks `GROUP BY` expressions as 1.x's compiler does and turns them into dimensions.
fn to_dimensions(exprs: Vec<Expr>) -> Result<Vec<Dimension>> {
    let mut dimensions = Vec::with_capacity(exprs.len());
    let mut has_time = false;
    for expr in exprs {
        let dimension = match expr {
            Expr::VarRef { name, .. } if name.eq_ignore_ascii_case("time") => {
                return Err(ParseError::bare(
                    "time() is a function and expects at least one argument",
                ));
            }
            Expr::VarRef { name, .. } => Dimension::Tag(name),
            Expr::Wildcard(_) => Dimension::Wildcard,
            Expr::RegexRef(regex) => Dimension::Regex(regex),
            Expr::Call { name, args } => {
                if name != "time" {
                    return Err(ParseError::bare("only time() calls allowed in dimensions"));
                }
                let (interval, offset) = match args.as_slice() {
                    [interval] => (interval, None),
                    [interval, offset] => (interval, Some(offset)),
                    _ => return Err(ParseError::bare("time dimension expected 1 or 2 arguments")),
                };
                let Expr::Literal(Literal::Duration(interval)) = *interval else {
                    return Err(ParseError::bare(
                        "time dimension must have duration argument",
                    ));
                };
                if has_time {
                    return Err(ParseError::bare("multiple time dimensions not allowed"));
                }
                has_time = true;
                let offset = match offset {
                    None => None,
                    Some(Expr::Literal(Literal::Duration(offset))) => Some(*offset),
                    Some(Expr::Call { name, args }) if name == "now" && args.is_empty() => {
                        return Err(ParseError::unsupported("GROUP BY time() offset now()"));
                    }
                    Some(Expr::Call { name, .. }) if name == "now" => {
                        return Err(ParseError::bare(
                            "time dimension offset now() function requires no arguments",
                        ));
                    }
                    Some(Expr::Call { .. }) => {
                        return Err(ParseError::bare(
                            "time dimension offset function must be now()",
                        ));
                    }
                    Some(Expr::Literal(Literal::String(_))) => {
                        return Err(ParseError::unsupported(
                            "GROUP BY time() offset as a time string",
                        ));
                    }
                    Some(_) => {
                        return Err(ParseError::bare(
                            "time dimension offset must be duration or now()",
                        ))
                    }
                };
                Dimension::Time { interval, offset }
            }
            _ => return Err(ParseError::bare("only time and tag dimensions allowed")),
        };
        dimensions.push(dimension);
    }
    Ok(dimensions)
}

/// 1.x's `ParseDuration`: one or more `<digits><unit>` with units `ns`, `u`/`µ`, `ms`, `s`,
/// `m`, `h`, `d`, `w`, summed in nanoseconds; a leading `-` negates. The error is 1.x's text.
pub(crate) fn parse_duration(text: &str) -> std::result::Result<i64, String> {
    const INVALID: &str = "invalid duration";
    if text.len() < 2 {
        return Err(INVALID.to_owned());
    }
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits_len == 0 || digits_len == rest.len() {
            return Err(INVALID.to_owned());
        }
        let (digits, after) = rest.split_at(digits_len);
        let count: i64 = digits.parse().map_err(|_| INVALID.to_owned())?;
        const UNITS: &[(&str, i64)] = &[
            ("ns", 1),
            ("ms", 1_000_000),
            ("u", 1_000),
            ("µ", 1_000),
            ("s", 1_000_000_000),
            ("m", 60 * 1_000_000_000),
            ("h", 3_600 * 1_000_000_000),
            ("d", 86_400 * 1_000_000_000),
            ("w", 604_800 * 1_000_000_000),
        ];
        let Some((unit, scale, after)) = UNITS
            .iter()
            .find_map(|&(unit, scale)| after.strip_prefix(unit).map(|after| (unit, scale, after)))
        else {
            return Err(INVALID.to_owned());
        };
        total = count
            .checked_mul(scale)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| {
                format!("overflowed duration {count}{unit}: choose a smaller duration or INF")
            })?;
        rest = after;
    }
    Ok(if negative { -total } else { total })
}

/// 1.x's `QuoteIdent`, for the "too many segments" message.
fn quote_ident(segments: &[String]) -> String {
    let last = segments.len().saturating_sub(1);
    segments
        .iter()
        .enumerate()
        .map(|(i, segment)| {
            let quote = needs_quotes(segment)
                || (i < last && !segment.is_empty())
                || ((i == 0 || i == last) && segment.is_empty());
            let escaped = segment
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            if quote {
                format!("\"{escaped}\"")
            } else {
                escaped
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether a name must be double-quoted to read back as itself.
fn needs_quotes(ident: &str) -> bool {
    let reserved = ["and", "or", "true", "false"]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(ident))
        || K::lookup(ident).is_some();
    let mut chars = ident.chars();
    let bad_first = chars
        .next()
        .is_some_and(|c| !(c.is_ascii_alphabetic() || c == '_'));
    reserved || bad_first || chars.any(|c| !(c.is_ascii_alphanumeric() || c == '_'))
}
