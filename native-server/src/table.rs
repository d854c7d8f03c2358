//! What a query reads of one table: the persisted files its time range needs, the buffered
//! rows, and where two sources may hold the same point, their merge (last write wins).
//!
//! Files outside the query's time range are skipped from the manifest's time ranges before
//! anything is opened; inside the files, DataFusion skips row groups by their statistics.
//! Sources are merged only when needed: a file or buffer generation knows whether it may
//! repeat a point written before it ([`crate::buffer::Latest`]), and only then is it merged
//! with the earlier sources its time range overlaps.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::ExecutionPlan;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::buffer::{adapt, TableBuffer};
use crate::catalog::TIME_COLUMN;
use crate::dedup;
use crate::persist::{self, ParquetFile};
use crate::store::TableSource;

/// The URL under which the store's object store is registered with DataFusion.
pub const STORE_URL: &str = "linegate://store/";

/// A persisted file listed in the manifest is missing or unreadable: the answer would lack
/// rows, so the query fails (500) instead.
#[derive(Debug)]
pub struct MissingFile(pub String);

impl std::fmt::Display for MissingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MissingFile {}

/// One table of the store as DataFusion scans it.
pub struct StoredTable {
    source: TableSource,
    objects: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for StoredTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTable")
            .field("name", &self.source.name)
            .field("files", &self.source.files.len())
            .field("buffers", &self.source.buffers.len())
            .finish()
    }
}

impl StoredTable {
    /// The table `source`, whose files are in `objects`.
    pub fn new(source: TableSource, objects: Arc<dyn ObjectStore>) -> StoredTable {
        StoredTable { source, objects }
    }
}

/// The inclusive time range a query's filters allow, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Smallest time allowed.
    pub min: i64,
    /// Largest time allowed.
    pub max: i64,
}

impl TimeRange {
    const ALL: TimeRange = TimeRange {
        min: i64::MIN,
        max: i64::MAX,
    };

    fn overlaps(self, min: i64, max: i64) -> bool {
        min <= self.max && self.min <= max
    }

    /// Narrows the range by the filters that compare `time` with a constant; the others
    /// (and anything not understood) leave it as it is, which is always safe.
    pub fn from_filters(filters: &[Expr]) -> TimeRange {
        let mut range = TimeRange::ALL;
        for filter in filters {
            range.narrow(filter);
        }
        range
    }

    fn narrow(&mut self, filter: &Expr) {
        match filter {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
                Operator::And => {
                    self.narrow(left);
                    self.narrow(right);
                }
                _ => {
                    if let (Some(()), Some(t)) = (time_column(left), nanos(right)) {
                        self.apply(*op, t);
                    } else if let (Some(t), Some(()), Some(op)) =
                        (nanos(left), time_column(right), op.swap())
                    {
                        self.apply(op, t);
                    }
                }
            },
            Expr::Between(Between {
                expr,
                negated: false,
                low,
                high,
            }) if time_column(expr).is_some() => {
                if let (Some(low), Some(high)) = (nanos(low), nanos(high)) {
                    self.apply(Operator::GtEq, low);
                    self.apply(Operator::LtEq, high);
                }
            }
            _ => {}
        }
    }

    fn apply(&mut self, op: Operator, t: i64) {
        match op {
            Operator::Gt => self.min = self.min.max(t.saturating_add(1)),
            Operator::GtEq => self.min = self.min.max(t),
            Operator::Lt => self.max = self.max.min(t.saturating_sub(1)),
            Operator::LtEq => self.max = self.max.min(t),
            Operator::Eq => {
                self.min = self.min.max(t);
                self.max = self.max.min(t);
            }
            _ => {}
        }
    }
}

fn time_column(expr: &Expr) -> Option<()> {
    match expr {
        Expr::Column(c) if c.name == TIME_COLUMN => Some(()),
        _ => None,
    }
}

/// A timestamp constant in nanoseconds (rounded outward is not needed: coarser units are
/// exact multiples).
fn nanos(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::TimestampNanosecond(Some(t), _) => Some(*t),
        ScalarValue::TimestampMicrosecond(Some(t), _) => t.checked_mul(1_000),
        ScalarValue::TimestampMillisecond(Some(t), _) => t.checked_mul(1_000_000),
        ScalarValue::TimestampSecond(Some(t), _) => t.checked_mul(1_000_000_000),
        _ => None,
    }
}

/// One source of a table's rows, in write order among the others.
enum Source<'a> {
    File(&'a Arc<ParquetFile>),
    Buffer(&'a TableBuffer),
}

impl Source<'_> {
    fn span(&self) -> (i64, i64) {
        match self {
            Source::File(f) => (f.min_time, f.max_time),
            Source::Buffer(b) => (b.min_time, b.max_time),
        }
    }

    fn repeats(&self) -> bool {
        match self {
            Source::File(f) => f.repeats,
            Source::Buffer(b) => b.repeats,
        }
    }
}

/// Splits `sources` (oldest first) into those read as they are and groups to merge: a
/// source that may repeat a point joins the earlier sources its time range overlaps; a
/// buffer that may repeat one is merged even alone (a file is merged within itself).
fn plan_merges(sources: &[Source<'_>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut group: Vec<usize> = (0..sources.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    let mut merged = vec![false; sources.len()];
    for (i, source) in sources.iter().enumerate() {
        if !source.repeats() {
            continue;
        }
        merged[i] |= matches!(source, Source::Buffer(_));
        let (min, max) = source.span();
        for (j, earlier) in sources[..i].iter().enumerate() {
            let (lo, hi) = earlier.span();
            if lo <= max && min <= hi {
                let (a, b) = (root(&mut group, i), root(&mut group, j));
                group[a] = b;
                merged[i] = true;
                merged[j] = true;
            }
        }
    }
    let mut direct = Vec::new();
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, &in_group) in merged.iter().enumerate() {
        if in_group {
            let r = root(&mut group, i);
            groups.entry(r).or_default().push(i);
        } else {
            direct.push(i);
        }
    }
    (direct, groups.into_values().collect())
}

impl StoredTable {
    /// The rows of a merge group, one row per point.
    async fn merge_group(&self, sources: &[&Source<'_>]) -> Result<RecordBatch> {
        let mut batches = Vec::new();
        for source in sources {
            match source {
                Source::File(file) => batches.extend(
                    persist::read(&self.objects, &file.path)
                        .await
                        .map_err(|e| DataFusionError::External(Box::new(MissingFile(e))))?,
                ),
                Source::Buffer(buffer) => batches.extend(buffer.batches().cloned()),
            }
        }
        let schema = self.source.schema.clone();
        let tags = self.source.tag_count;
        tokio::task::spawn_blocking(move || dedup::merge(&schema, tags, batches))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
            .map_err(DataFusionError::from)
    }

    /// Checks that the files are there: a listed file that is gone fails the query rather
    /// than silently dropping its rows.
    async fn check_present(&self, files: &[&Arc<ParquetFile>]) -> Result<()> {
        futures::future::try_join_all(files.iter().map(|f| async move {
            self.objects
                .head(&object_store::path::Path::from(f.path.as_str()))
                .await
                .map_err(|e| {
                    DataFusionError::External(Box::new(MissingFile(format!(
                        "persisted file {} cannot be read: {e}",
                        f.path
                    ))))
                })
        }))
        .await
        .map(|_| ())
    }
}

#[async_trait]
impl TableProvider for StoredTable {
    fn schema(&self) -> SchemaRef {
        self.source.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // The filters narrow what is opened; DataFusion still applies them to every row.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let range = TimeRange::from_filters(filters);
        let sources: Vec<Source<'_>> = self
            .source
            .files
            .iter()
            .map(Source::File)
            .chain(self.source.buffers.iter().map(Source::Buffer))
            .filter(|s| {
                let (min, max) = s.span();
                range.overlaps(min, max)
            })
            .collect();
        let (direct, groups) = plan_merges(&sources);
        let schema = self.source.schema.clone();
        let mut memory: Vec<RecordBatch> = Vec::new();
        let mut files: Vec<&Arc<ParquetFile>> = Vec::new();
        for &i in &direct {
            match &sources[i] {
                Source::File(file) => files.push(file),
                Source::Buffer(buffer) => {
                    for batch in buffer.batches() {
                        memory.push(adapt(batch, &schema)?);
                    }
                }
            }
        }
        for group in &groups {
            let members: Vec<&Source<'_>> = group.iter().map(|&i| &sources[i]).collect();
            memory.push(self.merge_group(&members).await?);
        }
        let mut plans: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        if !files.is_empty() {
            self.check_present(&files).await?;
            let urls = files
                .iter()
                .map(|f| ListingTableUrl::parse(format!("{STORE_URL}{}", f.path)))
                .collect::<Result<Vec<_>>>()?;
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet");
            let config = ListingTableConfig::new_with_multi_paths(urls)
                .with_listing_options(options)
                .with_schema(schema.clone());
            let listing = ListingTable::try_new(config)?;
            plans.push(listing.scan(state, projection, filters, limit).await?);
        }
        if !memory.is_empty() || plans.is_empty() {
            let table = MemTable::try_new(schema, vec![memory])?;
            plans.push(table.scan(state, projection, filters, limit).await?);
        }
        UnionExec::try_new(plans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    fn ts(t: i64) -> Expr {
        Expr::Literal(ScalarValue::TimestampNanosecond(Some(t), None), None)
    }

    #[test]
    fn the_time_range_comes_from_comparisons_with_constants() {
        let filters = [col("time").gt_eq(ts(10)), ts(20).gt(col("time"))];
        assert_eq!(
            TimeRange::from_filters(&filters),
            TimeRange { min: 10, max: 19 }
        );
        let between = [col("time").between(ts(5), ts(7)), col("host").eq(lit("a"))];
        assert_eq!(
            TimeRange::from_filters(&between),
            TimeRange { min: 5, max: 7 }
        );
        let ms = Expr::Literal(ScalarValue::TimestampMillisecond(Some(3), None), None);
        assert_eq!(
            TimeRange::from_filters(&[col("time").lt_eq(ms)]).max,
            3_000_000
        );
        // Not understood: everything.
        let or = [col("time").lt(ts(1)).or(col("time").gt(ts(9)))];
        assert_eq!(TimeRange::from_filters(&or), TimeRange::ALL);
    }

    fn file(seq: u64, min_time: i64, max_time: i64, repeats: bool) -> Arc<ParquetFile> {
        Arc::new(ParquetFile {
            database_id: 1,
            table_id: 1,
            path: format!("f{seq}"),
            rows: 1,
            min_time,
            max_time,
            size: 1,
            seq,
            level: 0,
            repeats,
            written_at: 0,
        })
    }

    #[test]
    fn only_sources_that_may_repeat_a_point_are_merged_with_what_they_overlap() {
        let files = [
            file(1, 0, 10, false),
            file(2, 11, 20, false),
            file(3, 15, 30, true),
            file(4, 40, 50, true),
        ];
        let sources: Vec<Source<'_>> = files.iter().map(Source::File).collect();
        let (direct, groups) = plan_merges(&sources);
        assert_eq!(direct, [0, 3]);
        assert_eq!(groups, [vec![1, 2]]);
        let mut buffer = TableBuffer::default();
        buffer.repeats = true;
        buffer.min_time = 100;
        buffer.max_time = 200;
        let alone = [Source::Buffer(&buffer)];
        assert_eq!(plan_merges(&alone), (vec![], vec![vec![0]]));
    }
}
