//! InfluxQL, the query language of InfluxDB 1.x, parsed to an AST.
//!
//! ```
//! use linegate_influxql::{parse, Statement};
//!
//! let query = parse("SELECT mean(usage_user) FROM cpu WHERE time > now() - 1h GROUP BY time(1m)").unwrap();
//! assert!(matches!(query.statements[0], Statement::Select(_)));
//! ```
//!
//! Errors read as 1.x writes them (`found X, expected Y at line 1, char 8`), so clients that
//! show InfluxDB's messages show these.
#![deny(missing_docs)]

pub mod ast;
mod lexer;
mod parser;

pub use ast::*;
pub use parser::{parse, parse_with_params, ErrorKind, Params, ParseError, Position};
