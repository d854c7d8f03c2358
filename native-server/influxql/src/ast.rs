//! The statements of InfluxQL as InfluxDB 1.x parses them.
//!
//! Names are unquoted and unescaped; durations and times are nanoseconds; regular expressions
//! keep their pattern text (the planner compiles them).

/// One or more statements separated by `;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The statements in order.
    pub statements: Vec<Statement>,
}

/// One InfluxQL statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `SELECT …`
    Select(Box<Select>),
    /// `SHOW DATABASES`
    ShowDatabases,
    /// `SHOW MEASUREMENTS [ON db] [WITH MEASUREMENT =|=~ …] [WHERE …] [LIMIT n] [OFFSET n]`
    ShowMeasurements(ShowMeasurements),
    /// `SHOW TAG KEYS [ON db] [FROM …] [WHERE …] [LIMIT n] [OFFSET n]`
    ShowTagKeys(Show),
    /// `SHOW TAG VALUES [ON db] [FROM …] WITH KEY … [WHERE …] [LIMIT n] [OFFSET n]`
    ShowTagValues(ShowTagValues),
    /// `SHOW FIELD KEYS [ON db] [FROM …] [LIMIT n] [OFFSET n]`
    ShowFieldKeys(Show),
    /// `SHOW SERIES [ON db] [FROM …] [WHERE …] [LIMIT n] [OFFSET n]`
    ShowSeries(Show),
    /// `SHOW RETENTION POLICIES [ON db]`
    ShowRetentionPolicies {
        /// The `ON` database.
        on: Option<String>,
    },
    /// `CREATE DATABASE name [WITH [DURATION d] [REPLICATION n] [SHARD DURATION d] [NAME rp]]`
    CreateDatabase {
        /// The database.
        name: String,
        /// The `WITH` clause's policy, if any.
        policy: Option<PolicySpec>,
    },
    /// `DROP DATABASE name`
    DropDatabase {
        /// The database.
        name: String,
    },
    /// `CREATE RETENTION POLICY name ON db DURATION d REPLICATION n [SHARD DURATION d] [DEFAULT]`
    CreateRetentionPolicy {
        /// The policy's name.
        name: String,
        /// The `ON` database.
        database: String,
        /// The policy.
        policy: PolicySpec,
    },
    /// `ALTER RETENTION POLICY name ON db [DURATION d] [REPLICATION n] [SHARD DURATION d] [DEFAULT]`
    AlterRetentionPolicy {
        /// The policy's name.
        name: String,
        /// The `ON` database.
        database: String,
        /// The changes (fields left `None` stay as they are).
        policy: PolicySpec,
    },
    /// `DROP RETENTION POLICY name ON db`
    DropRetentionPolicy {
        /// The policy's name.
        name: String,
        /// The `ON` database.
        database: String,
    },
    /// `DROP MEASUREMENT name`
    DropMeasurement {
        /// The measurement.
        name: String,
    },
    /// `DROP SERIES [FROM …] [WHERE …]` (at least one of the two)
    DropSeries(Delete),
    /// `DELETE [FROM …] [WHERE …]` (at least one of the two)
    Delete(Delete),
}

/// The options of a retention policy as a statement gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySpec {
    /// `DURATION d`, nanoseconds; `Some(0)` is `INF`.
    pub duration: Option<i64>,
    /// `REPLICATION n`
    pub replication: Option<u32>,
    /// `SHARD DURATION d`, nanoseconds
    pub shard_duration: Option<i64>,
    /// `NAME rp` (only in `CREATE DATABASE … WITH`)
    pub name: Option<String>,
    /// `DEFAULT`
    pub default: bool,
}

/// A `SELECT` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// The projection, in order.
    pub fields: Vec<Field>,
    /// `INTO target` — parsed so it can be refused by name (a query never writes).
    pub into: Option<Measurement>,
    /// `FROM` sources, in order.
    pub from: Vec<Source>,
    /// `WHERE` condition.
    pub condition: Option<Expr>,
    /// `GROUP BY` dimensions, in order.
    pub group_by: Vec<Dimension>,
    /// `fill(…)`; `None` when not given (InfluxDB's default is `fill(null)`).
    pub fill: Option<Fill>,
    /// `ORDER BY time DESC`
    pub descending: bool,
    /// `LIMIT n`
    pub limit: Option<u64>,
    /// `OFFSET n`
    pub offset: Option<u64>,
    /// `SLIMIT n`
    pub slimit: Option<u64>,
    /// `SOFFSET n`
    pub soffset: Option<u64>,
    /// `tz('Region/City')`
    pub timezone: Option<String>,
}

/// One projected expression with its optional `AS` alias.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The expression.
    pub expr: Expr,
    /// `AS alias`
    pub alias: Option<String>,
}

/// A `FROM` source.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A measurement, possibly qualified, or a regex over measurement names.
    Measurement(Measurement),
    /// `(SELECT …)`
    Subquery(Box<Select>),
}

/// `[db.[rp].]name` or `[db.[rp].]/regex/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The database part, if given.
    pub database: Option<String>,
    /// The retention-policy part, if given.
    pub retention_policy: Option<String>,
    /// The name or regex.
    pub name: NameOrRegex,
}

/// A name, or a regex matching names.
#[derive(Debug, Clone, PartialEq)]
pub enum NameOrRegex {
    /// An exact name.
    Name(String),
    /// `/pattern/`
    Regex(Regex),
}

/// A regular expression's pattern, as written between the slashes (`\/` unescaped to `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regex(pub String);

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A field, tag or `time` reference, with an optional `::type` cast.
    VarRef {
        /// The name.
        name: String,
        /// `::field`, `::tag`, `::float`, …
        data_type: Option<VarType>,
    },
    /// `*`, `*::field`, `*::tag`
    Wildcard(Option<VarType>),
    /// A regex in a projection or call argument (`SELECT /usage_.*/`, `mean(/u.*/)`).
    RegexRef(Regex),
    /// A literal value.
    Literal(Literal),
    /// `name(args…)`, including `now()`.
    Call {
        /// The function name, lower-cased.
        name: String,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `left op right`
    Binary {
        /// The left operand.
        left: Box<Expr>,
        /// The operator.
        op: BinaryOp,
        /// The right operand.
        right: Box<Expr>,
    },
    /// `( expr )`: kept so names and precedence read back as written.
    Paren(Box<Expr>),
}

/// The `::type` of a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    /// `::field`
    Field,
    /// `::tag`
    Tag,
    /// `::float`
    Float,
    /// `::integer`
    Integer,
    /// `::unsigned`
    Unsigned,
    /// `::string`
    String,
    /// `::boolean`
    Boolean,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `42`, `-7`
    Integer(i64),
    /// An integer too large for `i64`.
    Unsigned(u64),
    /// `1.5`, `-0.25`, `1e3`
    Float(f64),
    /// `'text'`
    String(String),
    /// `true` / `false`
    Boolean(bool),
    /// `10s`, `1h30m`, `1767222000s`: nanoseconds.
    Duration(i64),
    /// `/pattern/` on the right of `=~` / `!~`.
    Regex(Regex),
}

/// A binary operator, in InfluxQL's precedence classes (see the parser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `=`
    Eq,
    /// `!=` or `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `=~`
    EqRegex,
    /// `!~`
    NotEqRegex,
    /// `AND`
    And,
    /// `OR`
    Or,
}

/// A `GROUP BY` dimension.
#[derive(Debug, Clone, PartialEq)]
pub enum Dimension {
    /// `time(interval[, offset])`, nanoseconds; the offset may be negative.
    Time {
        /// The window width.
        interval: i64,
        /// The window offset.
        offset: Option<i64>,
    },
    /// A tag name.
    Tag(String),
    /// `*`: every tag.
    Wildcard,
    /// `/regex/`: the tags whose names match.
    Regex(Regex),
}

/// `fill(…)`
#[derive(Debug, Clone, PartialEq)]
pub enum Fill {
    /// `fill(null)`: empty windows answer null (the default).
    Null,
    /// `fill(none)`: empty windows are left out.
    None,
    /// `fill(previous)`
    Previous,
    /// `fill(linear)`
    Linear,
    /// `fill(<number>)`
    Value(Literal),
}

/// The options shared by the `SHOW` statements that read one database's series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Show {
    /// `ON db`
    pub on: Option<String>,
    /// `FROM` measurements.
    pub from: Vec<Measurement>,
    /// `WHERE` condition.
    pub condition: Option<Expr>,
    /// `LIMIT n`
    pub limit: Option<u64>,
    /// `OFFSET n`
    pub offset: Option<u64>,
}

/// `SHOW MEASUREMENTS`
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShowMeasurements {
    /// `ON db`, `WHERE`, `LIMIT`, `OFFSET` (`from` is always empty).
    pub show: Show,
    /// `WITH MEASUREMENT = name` / `=~ /regex/` (`!=`/`!~` negate).
    pub with_measurement: Option<(BinaryOp, NameOrRegex)>,
}

/// `SHOW TAG VALUES`
#[derive(Debug, Clone, PartialEq)]
pub struct ShowTagValues {
    /// `ON`, `FROM`, `WHERE`, `LIMIT`, `OFFSET`.
    pub show: Show,
    /// `WITH KEY …`
    pub key: TagKeys,
}

/// Which tag keys `SHOW TAG VALUES … WITH KEY` names.
#[derive(Debug, Clone, PartialEq)]
pub enum TagKeys {
    /// `= "key"`
    Eq(String),
    /// `!= "key"`
    NotEq(String),
    /// `IN ("a", "b")`
    In(Vec<String>),
    /// `=~ /regex/`
    Regex(Regex),
    /// `!~ /regex/`
    NotRegex(Regex),
}

/// `DELETE` / `DROP SERIES`: which measurements, which series and times.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delete {
    /// `FROM` measurements (empty: all).
    pub from: Vec<Measurement>,
    /// `WHERE` condition.
    pub condition: Option<Expr>,
}
