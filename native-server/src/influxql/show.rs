//! The statements other than `SELECT`: the `SHOW` listings, answered from the catalog (and
//! from the data when they filter with `WHERE` or list tag values and series), and the
//! database, retention-policy and measurement statements, which change the catalog.
//!
//! linegate keeps one retention period per database; a retention policy `rp` of database
//! `db` is the database `db/rp`, exactly where v1 writes with `rp=` land.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::prelude::{col, lit, SessionContext};
use linegate_influxql::{
    BinaryOp, Delete, Expr, Measurement, NameOrRegex, PolicySpec, Show, ShowMeasurements,
    ShowTagValues, Statement, TagKeys,
};

use super::answer::{Series, Value};
use super::columns::Table;
use super::condition::{condition, TimeRange};
use super::plan::compile;
use super::{Error, Run};
use crate::query;

/// Runs a statement other than `SELECT`.
pub async fn run(run: &Run<'_>, statement: &Statement) -> Result<Vec<Series>, Error> {
    match statement {
        Statement::Select(_) => Err(Error::Statement("unexpected SELECT".into())),
        Statement::ShowDatabases => Ok(databases(run)),
        Statement::ShowMeasurements(show) => measurements(run, show).await,
        Statement::ShowTagKeys(show) => tag_keys(run, show).await,
        Statement::ShowTagValues(show) => tag_values(run, show).await,
        Statement::ShowFieldKeys(show) => field_keys(run, show),
        Statement::ShowSeries(show) => series(run, show).await,
        // The policies of the v1 database itself, not of the one its default reaches.
        Statement::ShowRetentionPolicies { on } => match on.as_deref().or(run.database) {
            Some(name) => {
                let database = run.store.catalog().resolve(name).to_owned();
                run.readable(&database)?;
                retention_policies(run, name)
            }
            None => Err(Error::Statement("database name required".into())),
        },
        Statement::CreateDatabase { name, policy } => create_database(run, name, policy.as_ref()),
        Statement::DropDatabase { name } => drop_database(run, name).await,
        Statement::CreateRetentionPolicy {
            name,
            database,
            policy,
        } => create_policy(run, database, name, policy),
        Statement::AlterRetentionPolicy {
            name,
            database,
            policy,
        } => alter_policy(run, database, name, policy),
        Statement::DropRetentionPolicy { name, database } => drop_policy(run, database, name).await,
        Statement::DropMeasurement { name } => {
            let database = run.database(None)?;
            run.store
                .delete_table(&database, name)
                .await
                .map_err(Error::Statement)?;
            Ok(vec![])
        }
        Statement::Delete(delete) => delete_points(run, delete, false).await,
        Statement::DropSeries(delete) => delete_points(run, delete, true).await,
    }
}

/// `DELETE` and `DROP SERIES`: the points of the measurements named (all when none) that
/// the tag and time condition selects are removed at once, for good.
async fn delete_points(run: &Run<'_>, delete: &Delete, series: bool) -> Result<Vec<Series>, Error> {
    let (database, tables) = tables(run, None, &delete.from)?;
    let range = TimeRange::of(delete.condition.as_ref(), run.now)?;
    if series && (range.lower.is_some() || range.upper.is_some()) {
        return Err(Error::Statement(
            "DROP SERIES doesn't support time in WHERE clause".into(),
        ));
    }
    let range = (
        range.lower.unwrap_or(i64::MIN),
        range.upper.unwrap_or(i64::MAX),
    );
    for table in tables {
        let doomed = match &delete.condition {
            Some(cond) => {
                if let Some(field) = field_in(cond, &table) {
                    return Err(Error::Statement(format!(
                        "fields not supported in WHERE clause during deletion: {field} is a field"
                    )));
                }
                condition(&table, cond, run.now)?
            }
            None => lit(true),
        };
        run.store
            .delete_rows(&database, &table.name, range, doomed)
            .await
            .map_err(Error::Storage)?;
    }
    Ok(vec![])
}

/// The first field a condition names, if any: deletes select by tags and time only.
fn field_in(expr: &Expr, table: &Table) -> Option<String> {
    match expr {
        Expr::VarRef { name, .. } if !table.tags.contains(name) && name != "time" => table
            .fields
            .iter()
            .any(|(f, _)| f == name)
            .then(|| name.clone()),
        Expr::Binary { left, right, .. } => {
            field_in(left, table).or_else(|| field_in(right, table))
        }
        Expr::Paren(inner) => field_in(inner, table),
        _ => None,
    }
}

fn listing(name: Option<&str>, columns: &[&str], values: Vec<Vec<Value>>) -> Series {
    Series {
        name: name.map(str::to_owned),
        tags: BTreeMap::new(),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        values,
        zone: None,
    }
}

fn string(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn limited<T>(items: Vec<T>, show: &Show) -> Vec<T> {
    let skip = show.offset.unwrap_or(0) as usize;
    match show.limit {
        Some(limit) if limit > 0 => items.into_iter().skip(skip).take(limit as usize).collect(),
        _ => items.into_iter().skip(skip).collect(),
    }
}

/// `SHOW DATABASES`: each v1 database once (its retention policies `db/rp` are not
/// databases of their own).
/// The databases the token may read (a scoped token does not learn the others' names).
fn databases(run: &Run<'_>) -> Vec<Series> {
    let names: BTreeSet<String> = run
        .store
        .catalog()
        .databases()
        .filter(|db| (run.may_read)(&db.name))
        .map(|db| db.name.split('/').next().unwrap_or(&db.name).to_owned())
        .collect();
    let values = names.iter().map(|n| vec![string(n)]).collect();
    vec![listing(Some("databases"), &["name"], values)]
}

/// The tables of a statement's database that its `FROM` names (all when it names none).
fn tables(
    run: &Run<'_>,
    on: Option<&str>,
    from: &[Measurement],
) -> Result<(String, Vec<Table>), Error> {
    let database = run.database(on)?;
    let catalog = run.store.catalog();
    let Some(db) = catalog.database(&database) else {
        return Err(Error::Statement(format!("database not found: {database}")));
    };
    let mut patterns = Vec::new();
    for m in from {
        patterns.push(match &m.name {
            NameOrRegex::Name(name) => Err(name.clone()),
            NameOrRegex::Regex(regex) => Ok(compile(&regex.0)?),
        });
    }
    let tables = db
        .tables
        .values()
        .filter(|t| {
            patterns.is_empty()
                || patterns.iter().any(|p| match p {
                    Err(name) => *name == t.name,
                    Ok(re) => re.is_match(&t.name),
                })
        })
        .map(|t| Table::new(t))
        .collect();
    Ok((database, tables))
}

/// The rows of `table` that `condition` keeps, as a frame to read from.
async fn matching(
    ctx: &SessionContext,
    table: &Table,
    condition_expr: Option<&Expr>,
    now: i64,
) -> Result<datafusion::prelude::DataFrame, Error> {
    let mut frame = ctx
        .table(format!("\"{}\"", table.name.replace('"', "\"\"")))
        .await?;
    if let Some(expr) = condition_expr {
        frame = frame.filter(condition(table, expr, now)?)?;
    }
    Ok(frame)
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `SHOW MEASUREMENTS`
async fn measurements(run: &Run<'_>, show: &ShowMeasurements) -> Result<Vec<Series>, Error> {
    let (database, tables) = tables(run, show.show.on.as_deref(), &[])?;
    let mut names = Vec::new();
    let ctx = match &show.show.condition {
        Some(_) => Some(query::context(run.store, &database)?),
        None => None,
    };
    for table in tables {
        if let Some((op, name)) = &show.with_measurement {
            let matched = match name {
                NameOrRegex::Name(n) => *n == table.name,
                NameOrRegex::Regex(r) => compile(&r.0)?.is_match(&table.name),
            };
            let wanted = match op {
                BinaryOp::NotEq | BinaryOp::NotEqRegex => !matched,
                _ => matched,
            };
            if !wanted {
                continue;
            }
        }
        if let (Some(ctx), Some(cond)) = (&ctx, &show.show.condition) {
            let frame = matching(ctx, &table, Some(cond), run.now)
                .await?
                .limit(0, Some(1))?;
            let rows: usize = run.collect(frame).await?.iter().map(|b| b.num_rows()).sum();
            if rows == 0 {
                continue;
            }
        }
        names.push(table.name);
    }
    let names = limited(names, &show.show);
    if names.is_empty() {
        return Ok(vec![]);
    }
    let values = names.iter().map(|n| vec![string(n)]).collect();
    Ok(vec![listing(Some("measurements"), &["name"], values)])
}

/// `SHOW TAG KEYS`: each measurement's tag keys, by name.
async fn tag_keys(run: &Run<'_>, show: &Show) -> Result<Vec<Series>, Error> {
    let (database, tables) = tables(run, show.on.as_deref(), &show.from)?;
    let ctx = match &show.condition {
        Some(_) => Some(query::context(run.store, &database)?),
        None => None,
    };
    let mut out = Vec::new();
    for table in tables {
        let mut keys = table.tags.clone();
        if let (Some(ctx), Some(_)) = (&ctx, &show.condition) {
            let frame = matching(ctx, &table, show.condition.as_ref(), run.now).await?;
            let present = distinct_tags(run, frame, &table.tags).await?;
            keys.retain(|k| present.iter().any(|row| row.get(k).is_some()));
        }
        keys.sort();
        let keys = limited(keys, show);
        if keys.is_empty() {
            continue;
        }
        let values = keys.iter().map(|k| vec![string(k)]).collect();
        out.push(listing(Some(&table.name), &["tagKey"], values));
    }
    Ok(out)
}

/// The distinct tag sets of a frame's rows, each as its non-empty tags.
async fn distinct_tags(
    run: &Run<'_>,
    frame: datafusion::prelude::DataFrame,
    tags: &[String],
) -> Result<Vec<BTreeMap<String, String>>, Error> {
    if tags.is_empty() {
        return Ok(vec![]);
    }
    let columns: Vec<_> = tags.iter().map(|t| col(quoted(t))).collect();
    let frame = frame.aggregate(columns, vec![])?;
    let batches = run.collect(frame).await?;
    let mut sets = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let mut set = BTreeMap::new();
            for (i, tag) in tags.iter().enumerate() {
                if let Value::String(v) = super::select::cell(batch.column(i).as_ref(), row) {
                    if !v.is_empty() {
                        set.insert(tag.clone(), v);
                    }
                }
            }
            sets.push(set);
        }
    }
    Ok(sets)
}

/// `SHOW TAG VALUES … WITH KEY …`: `key`, `value` pairs per measurement, sorted.
async fn tag_values(run: &Run<'_>, show: &ShowTagValues) -> Result<Vec<Series>, Error> {
    let (database, tables) = tables(run, show.show.on.as_deref(), &show.show.from)?;
    let ctx = query::context(run.store, &database)?;
    let selects = |key: &str| -> Result<bool, Error> {
        Ok(match &show.key {
            TagKeys::Eq(k) => k == key,
            TagKeys::NotEq(k) => k != key,
            TagKeys::In(keys) => keys.iter().any(|k| k == key),
            TagKeys::Regex(r) => compile(&r.0)?.is_match(key),
            TagKeys::NotRegex(r) => !compile(&r.0)?.is_match(key),
        })
    };
    let mut out = Vec::new();
    for table in tables {
        let mut keys = Vec::new();
        for tag in &table.tags {
            if selects(tag)? {
                keys.push(tag.clone());
            }
        }
        if keys.is_empty() {
            continue;
        }
        let mut pairs: BTreeSet<(String, String)> = BTreeSet::new();
        for key in &keys {
            let frame = matching(&ctx, &table, show.show.condition.as_ref(), run.now)
                .await?
                .filter(
                    col(quoted(key))
                        .is_not_null()
                        .and(col(quoted(key)).not_eq(lit(""))),
                )?
                .aggregate(vec![col(quoted(key))], vec![])?;
            for batch in run.collect(frame).await? {
                for row in 0..batch.num_rows() {
                    if let Value::String(v) = super::select::cell(batch.column(0).as_ref(), row) {
                        pairs.insert((key.clone(), v));
                    }
                }
            }
        }
        let pairs = limited(pairs.into_iter().collect(), &show.show);
        if pairs.is_empty() {
            continue;
        }
        let values = pairs
            .into_iter()
            .map(|(k, v)| vec![Value::String(k), Value::String(v)])
            .collect();
        out.push(listing(Some(&table.name), &["key", "value"], values));
    }
    Ok(out)
}

/// `SHOW FIELD KEYS`: each measurement's fields and types, by name.
fn field_keys(run: &Run<'_>, show: &Show) -> Result<Vec<Series>, Error> {
    let (_, tables) = tables(run, show.on.as_deref(), &show.from)?;
    let mut out = Vec::new();
    for table in tables {
        let mut fields = table.fields.clone();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let fields = limited(fields, show);
        if fields.is_empty() {
            continue;
        }
        let values = fields
            .iter()
            .map(|(name, ty)| vec![string(name), string(ty.name())])
            .collect();
        out.push(listing(
            Some(&table.name),
            &["fieldKey", "fieldType"],
            values,
        ));
    }
    Ok(out)
}

/// `SHOW SERIES`: every series key (`cpu,host=a,region=x`), sorted, in one listing.
async fn series(run: &Run<'_>, show: &Show) -> Result<Vec<Series>, Error> {
    let (database, tables) = tables(run, show.on.as_deref(), &show.from)?;
    let ctx = query::context(run.store, &database)?;
    let mut keys = BTreeSet::new();
    for table in tables {
        let frame = matching(&ctx, &table, show.condition.as_ref(), run.now).await?;
        if table.tags.is_empty() {
            let rows: usize = run
                .collect(frame.limit(0, Some(1))?)
                .await?
                .iter()
                .map(|b| b.num_rows())
                .sum();
            if rows > 0 {
                keys.insert(escape(&table.name, &[',', ' ']));
            }
            continue;
        }
        for set in distinct_tags(run, frame, &table.tags).await? {
            let mut key = escape(&table.name, &[',', ' ']);
            for (k, v) in set {
                key.push(',');
                key.push_str(&escape(&k, &[',', '=', ' ']));
                key.push('=');
                key.push_str(&escape(&v, &[',', '=', ' ']));
            }
            keys.insert(key);
        }
    }
    let keys = limited(keys.into_iter().collect::<Vec<_>>(), show);
    if keys.is_empty() {
        return Ok(vec![]);
    }
    let values = keys.into_iter().map(|k| vec![Value::String(k)]).collect();
    Ok(vec![listing(None, &["key"], values)])
}

/// Line protocol's escaping, as series keys are written.
fn escape(text: &str, special: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if special.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `SHOW RETENTION POLICIES ON db`: the database's own policy (`autogen`, or the name
/// `CREATE DATABASE … NAME` gave it), each `db/rp` database, and the DBRP mappings of `db`
/// to other databases, in the order they were made; the default is where `db` resolves.
pub fn retention_policies(run: &Run<'_>, name: &str) -> Result<Vec<Series>, Error> {
    let catalog = run.store.catalog();
    let mut policies: Vec<(u32, String, String)> = Vec::new();
    if let Some(db) = catalog.database(name) {
        let own = catalog
            .dbrps()
            .find(|m| m.db == name && m.target == name && !is_default_name(&m.rp))
            .map_or("autogen".to_owned(), |m| m.rp.clone());
        policies.push((db.id, own, name.to_owned()));
    } else if let Some(default) = catalog
        .dbrps()
        .find(|m| m.db == name && is_default_name(&m.rp))
    {
        // A v1 name that only exists as mappings: its default mapping is its own policy.
        let id = catalog.database(&default.target).map_or(0, |db| db.id);
        policies.push((id, "autogen".to_owned(), default.target.clone()));
    }
    let prefix = format!("{name}/");
    for db in catalog.databases() {
        if let Some(rp) = db.name.strip_prefix(&prefix) {
            policies.push((db.id, rp.to_owned(), db.name.clone()));
        }
    }
    for mapping in catalog.dbrps().filter(|m| m.db == name) {
        let listed = policies.iter().any(|(_, rp, _)| *rp == mapping.rp);
        if !listed && !is_default_name(&mapping.rp) && mapping.target != name {
            let id = catalog
                .database(&mapping.target)
                .map_or(u32::MAX, |db| db.id);
            policies.push((id, mapping.rp.clone(), mapping.target.clone()));
        }
    }
    if policies.is_empty() {
        return Err(Error::Statement(format!("database not found: {name}")));
    }
    policies.sort();
    let default_target = catalog.resolve(name);
    let values = policies
        .iter()
        .map(|(_, rp, target)| {
            let db = catalog.database(target);
            let period = db.and_then(|db| db.retention).unwrap_or(0);
            let shard = db
                .and_then(|db| db.shard_duration)
                .unwrap_or_else(|| shard_group_duration(period));
            vec![
                string(rp),
                string(&go_duration(period)),
                string(&go_duration(shard)),
                Value::Integer(1),
                Value::Boolean(target == default_target),
            ]
        })
        .collect();
    Ok(vec![listing(
        None,
        &[
            "name",
            "duration",
            "shardGroupDuration",
            "replicaN",
            "default",
        ],
        values,
    )])
}

/// The names v1 clients use for "the database's default policy".
fn is_default_name(rp: &str) -> bool {
    linegate::v1_database("", Some(rp)).is_empty()
}

const HOUR: i64 = 3_600_000_000_000;

/// 1.x's shard-group duration for a retention period: a week for forever or half a year
/// and more, a day from two days, else an hour.
fn shard_group_duration(period: i64) -> i64 {
    match period {
        0 => 168 * HOUR,
        p if p >= 180 * 24 * HOUR => 168 * HOUR,
        p if p >= 48 * HOUR => 24 * HOUR,
        _ => HOUR,
    }
}

/// A duration as InfluxDB 1.x prints it (`720h0m0s`, `0s` for forever).
fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let seconds = nanos / 1_000_000_000;
    format!(
        "{}h{}m{}s",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// A policy's retention period: `INF` (0) is forever; anything shorter than an hour is
/// refused, as in 1.x.
fn period(duration: Option<i64>) -> Result<Option<i64>, Error> {
    match duration {
        None | Some(0) => Ok(None),
        Some(d) if d < HOUR => Err(Error::Statement(
            "retention policy duration must be at least 1h0m0s".into(),
        )),
        Some(d) => Ok(Some(d)),
    }
}

/// The shard-group duration a statement sets: its own (at least an hour), else 1.x's
/// default for the period.
fn shard(policy: &PolicySpec, period: Option<i64>) -> i64 {
    match policy.shard_duration {
        Some(d) if d > 0 => d.max(HOUR),
        _ => shard_group_duration(period.unwrap_or(0)),
    }
}

fn saved<T>(result: std::io::Result<T>) -> Result<T, Error> {
    result.map_err(|e| Error::Statement(format!("saving the catalog failed: {e}")))
}

/// `CREATE DATABASE name [WITH DURATION d … NAME rp]`: the database keeps points for `d`;
/// a named policy is the database's own under that name (`rp=` reaches it too). Creating
/// one that exists is not an error, as in 1.x.
fn create_database(
    run: &Run<'_>,
    name: &str,
    policy: Option<&PolicySpec>,
) -> Result<Vec<Series>, Error> {
    let spec = policy.cloned().unwrap_or_default();
    let period = period(spec.duration)?;
    if saved(run.store.create_database(name, period))? {
        let shard = shard(&spec, period);
        saved(run.store.catalog().set_retention(name, period, Some(shard)))?;
    }
    if let Some(rp) = spec.name.as_deref().filter(|rp| !is_default_name(rp)) {
        saved(run.store.catalog().create_dbrp(name, rp, name))?.map_err(Error::Statement)?;
    }
    Ok(vec![])
}

/// `DROP DATABASE name`: the database, its retention policies and their mappings.
async fn drop_database(run: &Run<'_>, name: &str) -> Result<Vec<Series>, Error> {
    let prefix = format!("{name}/");
    let doomed: Vec<String> = run
        .store
        .catalog()
        .databases()
        .filter(|db| db.name == name || db.name.starts_with(&prefix))
        .map(|db| db.name.clone())
        .collect();
    for database in doomed {
        saved(run.store.delete_database(&database).await)?;
    }
    let mappings: Vec<String> = run
        .store
        .catalog()
        .dbrps()
        .filter(|m| m.db == name)
        .map(|m| m.rp.clone())
        .collect();
    for rp in mappings {
        saved(run.store.catalog().delete_dbrp(name, &rp))?;
    }
    Ok(vec![])
}

/// `CREATE RETENTION POLICY rp ON db DURATION d …`: the database `db/rp`.
fn create_policy(
    run: &Run<'_>,
    db: &str,
    rp: &str,
    policy: &PolicySpec,
) -> Result<Vec<Series>, Error> {
    if run.store.catalog().database(db).is_none() {
        return Err(Error::Statement(format!("database not found: {db}")));
    }
    let period = period(policy.duration)?;
    let target = linegate::v1_database(db, Some(rp));
    if target != db && !saved(run.store.create_database(&target, period))? {
        return Err(Error::Statement("retention policy already exists".into()));
    }
    let shard = shard(policy, period);
    saved(
        run.store
            .catalog()
            .set_retention(&target, period, Some(shard)),
    )?;
    if policy.default {
        make_default(run, db, &target)?;
    }
    Ok(vec![])
}

/// `ALTER RETENTION POLICY rp ON db …`: a new period (or shard duration) for `db/rp`, or
/// make it the default.
fn alter_policy(
    run: &Run<'_>,
    db: &str,
    rp: &str,
    policy: &PolicySpec,
) -> Result<Vec<Series>, Error> {
    let mut target = linegate::v1_database(db, Some(rp));
    // The database's own policy may go by the name CREATE DATABASE … NAME gave it.
    if run.store.catalog().resolve(&target) == db {
        target = db.to_owned();
    }
    let (current, shard) = match run.store.catalog().database(&target) {
        Some(def) => (def.retention, def.shard_duration),
        None => return Err(Error::Statement("retention policy not found".into())),
    };
    let period = match policy.duration {
        Some(_) => period(policy.duration)?,
        None => current,
    };
    let shard = policy.shard_duration.map(|d| d.max(HOUR)).or(shard);
    saved(run.store.catalog().set_retention(&target, period, shard))?;
    if policy.default {
        make_default(run, db, &target)?;
    }
    Ok(vec![])
}

/// Writes and queries that name no policy go to `target`.
fn make_default(run: &Run<'_>, db: &str, target: &str) -> Result<(), Error> {
    let mut catalog = run.store.catalog();
    if target == db {
        saved(catalog.delete_dbrp(db, "autogen"))?;
        return Ok(());
    }
    saved(catalog.create_dbrp(db, "autogen", target))?.map_err(Error::Statement)
}

/// `DROP RETENTION POLICY rp ON db`: the database `db/rp` and its points.
async fn drop_policy(run: &Run<'_>, db: &str, rp: &str) -> Result<Vec<Series>, Error> {
    let target = linegate::v1_database(db, Some(rp));
    if target == db || run.store.catalog().resolve(&target) == db {
        return Err(Error::Statement(format!(
            "linegate keeps a database's points in its own policy: DROP DATABASE {db} \
             removes them"
        )));
    }
    saved(run.store.delete_database(&target).await)?;
    let mut catalog = run.store.catalog();
    if catalog.resolve(db) == target {
        saved(catalog.delete_dbrp(db, "autogen"))?;
    }
    saved(catalog.delete_dbrp(db, rp))?;
    Ok(vec![])
}
