//! The store: where the catalog, the WAL, the buffer and the Parquet files meet.
//!
//! A write goes: parse (the core) → [`Catalog::admit`] → Arrow batches → WAL append with
//! fsync → rows into the active buffer → 204. A background task freezes the buffer when it
//! is big or old enough and persists it, then compacts the files ([`crate::compact`]);
//! writes are refused with 503 while more than [`StoreConfig::max_buffer_bytes`] waits in
//! memory, so memory stays bounded.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use linegate::lp::LineErrorKind;
use linegate::{validate_text, LineError, WriteError, WriteRequest};
use object_store::ObjectStore;
use tokio::sync::Notify;

use crate::buffer::{adapt, to_record_batches, Buffers, Generation, TableBuffer, TableKey};
use crate::catalog::{AdmitError, Catalog, DatabaseDef, TableDef};
use crate::compact;
use crate::dedup;
use crate::fsutil;
use crate::last;
use crate::metrics::Metrics;
use crate::persist::{self, Manifest, ParquetFile};
use crate::wal::{self, Entry, Wal, WalError};

/// Tuning of the store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Holds `wal/`, `catalog.json` and `snapshot.json`.
    pub data_dir: PathBuf,
    /// Persist when the active buffer holds this many bytes.
    pub persist_bytes: usize,
    /// Persist when the oldest buffered row is this old.
    pub persist_interval: Duration,
    /// Hold writes while this many bytes wait in memory; refuse them (503) if no persist
    /// makes room within `busy_wait`.
    pub max_buffer_bytes: usize,
    /// How long a write waits for room before the 503. Waiting is backpressure a client
    /// needs no retry logic for, and it resumes as soon as a persist ends, where a
    /// `Retry-After` (whole seconds) keeps writers idle longer than a persist takes.
    pub busy_wait: Duration,
    /// Width of the time window of one Parquet file.
    pub gen1_duration: Duration,
    /// A past day's files are merged into one when none was written for this long.
    pub compact_after: Duration,
    /// Whether files are merged at all.
    pub compaction: bool,
    /// The most tags and fields a table may have.
    pub max_columns: usize,
}

/// One table as a query sees it.
#[derive(Clone)]
pub struct TableSource {
    /// The table's name.
    pub name: String,
    /// Its current schema.
    pub schema: SchemaRef,
    /// How many of the schema's first columns are tags.
    pub tag_count: usize,
    /// Its persisted files, oldest write first.
    pub files: Vec<Arc<ParquetFile>>,
    /// Its buffered rows, oldest generation first.
    pub buffers: Vec<TableBuffer>,
    /// Rows older than this are expired (the database's retention), if any.
    pub cutoff: Option<i64>,
}

/// What [`Store::last_source`] gives.
pub struct LastSource {
    /// The table's key.
    pub key: TableKey,
    /// Its last rows, if made.
    pub rows: Option<Arc<RecordBatch>>,
    /// The last rows of a prefix of its sealed buffer batches, if a query kept them.
    pub buffered: Option<last::Buffered>,
    /// The change count to make them at.
    pub changes: u64,
    /// Its files, buffer and retention.
    pub source: TableSource,
}

/// The last rows `base` of table `def` with a generation's rows taken in (they win a tie).
async fn last_with(
    def: &TableDef,
    base: &RecordBatch,
    rows: &TableBuffer,
) -> Result<RecordBatch, String> {
    let schema = def.schema();
    let failed = |e: &dyn std::fmt::Display| format!("updating the last values failed: {e}");
    let mut ranked = vec![
        last::ranked(&adapt(base, &schema).map_err(|e| failed(&e))?, 0).map_err(|e| failed(&e))?,
    ];
    for (i, batch) in rows.batches().enumerate() {
        let batch = adapt(batch, &schema).map_err(|e| failed(&e))?;
        ranked.push(last::ranked(&batch, i as u64 + 1).map_err(|e| failed(&e))?);
    }
    let frame = datafusion::prelude::SessionContext::new()
        .read_batches(ranked)
        .map_err(|e| failed(&e))?;
    last::reduce(frame, &schema, def.columns.tags().len())
        .await
        .map_err(|e| failed(&e))
}

/// Bodies larger than this are validated with `block_in_place`, which hands the worker's
/// other tasks to another thread. Below it validating inline is cheaper: a 4 MiB body takes
/// a few milliseconds, and the handoff cost a 5,000-line batch (1.2 MB) 5-8% of the server's
/// CPU in thread wakeups (a 3 M-line load: 6,700 context switches instead of 9,500).
const LARGE_BODY: usize = 4 << 20;

/// The outcome of a stored write: the lines rejected in a partial write (empty → 204).
pub type Stored = Vec<LineError>;

/// The catalog, WAL, buffer and persisted files of one server.
pub struct Store {
    config: StoreConfig,
    catalog: Mutex<Catalog>,
    buffers: Arc<Mutex<Buffers>>,
    manifest: Mutex<Manifest>,
    wal: Wal,
    objects: Arc<dyn ObjectStore>,
    metrics: Arc<Metrics>,
    /// One snapshot or compaction at a time (they number files from the same manifest).
    snapshotting: tokio::sync::Mutex<()>,
    /// Files a compaction replaced, deleted once no query holds them.
    retired: Mutex<Vec<Arc<ParquetFile>>>,
    /// Wakes the persister when the buffer passes its threshold.
    wake: Notify,
    /// Wakes the writers waiting for room when a persist has freed buffer memory.
    drained: Notify,
    /// The persister task, stopped at shutdown before the runtime goes away.
    persister: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock cannot leave these structures half-updated in a way
    // that matters more than stopping all writes would.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Nanoseconds since the Unix epoch.
pub fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

impl Store {
    /// Opens the store in `config.data_dir`: loads the catalog and manifest, removes Parquet
    /// files the manifest does not list, replays the WAL into the buffer and starts a new
    /// segment.
    pub async fn open(
        config: StoreConfig,
        objects: Arc<dyn ObjectStore>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Arc<Store>> {
        let wal_dir = config.data_dir.join("wal");
        std::fs::create_dir_all(&wal_dir)?;
        let mut catalog = Catalog::open(&config.data_dir.join("catalog.json"))?;
        catalog.set_max_columns(config.max_columns);
        let manifest = Manifest::open(&config.data_dir.join("snapshot.json"))?;
        match persist::remove_unlisted(&objects, &manifest).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                files = n,
                "removed Parquet files the manifest does not list (left by an interrupted snapshot or compaction, or replaced and not yet deleted)"
            ),
            Err(e) => {
                return Err(std::io::Error::other(format!(
                    "the object store cannot be listed: {e}"
                )))
            }
        }

        let mut buffers = Buffers::default();
        buffers.latest.persisted = manifest.latest_times();
        let mut last_segment = manifest.wal_persisted_through;
        for (number, path) in wal::segments(&wal_dir)? {
            last_segment = last_segment.max(number);
            if number <= manifest.wal_persisted_through {
                std::fs::remove_file(&path)?; // persisted before the last stop
                continue;
            }
            let mut failed = 0u64;
            let outcome = wal::replay(&path, |payload| {
                if !replay_entry(&mut catalog, &mut buffers, payload) {
                    failed += 1;
                }
            })?;
            for (from, to) in &outcome.damaged {
                tracing::error!(
                    segment = number,
                    from,
                    to,
                    "WAL segment damaged (a disk or filesystem fault): the records in these bytes are lost, those before and after were recovered; the segment as found is kept as {}.corrupt",
                    path.display()
                );
            }
            if let Some(at) = outcome.torn_at {
                tracing::warn!(
                    segment = number,
                    offset = at,
                    bytes = outcome.torn_bytes,
                    "WAL segment ends in a torn record (an append interrupted by a crash, never acknowledged); cut it off"
                );
            }
            tracing::info!(
                segment = number,
                records = outcome.records,
                skipped = failed,
                "replayed WAL segment"
            );
        }
        metrics.buffer(buffers.bytes(), buffers.rows());
        let wal = Wal::start(&wal_dir, last_segment + 1, metrics.clone())?;
        Ok(Arc::new(Store {
            config,
            catalog: Mutex::new(catalog),
            buffers: Arc::new(Mutex::new(buffers)),
            manifest: Mutex::new(manifest),
            wal,
            objects,
            metrics,
            snapshotting: tokio::sync::Mutex::new(()),
            retired: Mutex::new(Vec::new()),
            wake: Notify::new(),
            drained: Notify::new(),
            persister: Mutex::new(None),
        }))
    }

    /// Stores a write: validates `body`, checks it against the catalog, logs it and buffers
    /// its rows. Resolves once the rows are durable (or logged, with `no_sync`).
    pub async fn write(&self, request: &WriteRequest, body: Vec<u8>) -> Result<Stored, WriteError> {
        if !self.wait_for_room().await {
            self.metrics.busy();
            return Err(WriteError::Unavailable { retry_after: 1 });
        }
        let now = now_nanos();
        let precision = request.params.precision;
        let database = &request.params.database;
        let text = linegate::utf8(&body)?;
        // A large body is validated off the async workers' hands, so other requests
        // (and /ping) keep being served meanwhile.
        let accepted = if text.len() > LARGE_BODY {
            tokio::task::block_in_place(|| request.validate_text(text, now))?
        } else {
            request.validate_text(text, now)?
        };
        // Steady state: the rows fit the tables as they are. Otherwise the catalog changes
        // and is saved (an fsync), which is blocking work.
        // One look at the catalog also gives the retention (admitting never changes it).
        let (unchanged, retention) = {
            let catalog = lock(&self.catalog);
            let retention = catalog.database(database).and_then(|db| db.retention);
            (
                catalog.admit_unchanged(database, &accepted.batch),
                retention,
            )
        };
        let mut admitted = match unchanged {
            Some(admitted) => admitted,
            None => tokio::task::block_in_place(|| {
                lock(&self.catalog).admit(database, text, &accepted.batch, request.all_or_nothing())
            })
            .map_err(|e| match e {
                AdmitError::Line(line) => WriteError::Line(line),
                AdmitError::Io(e) if fsutil::is_full(&e) => {
                    WriteError::InsufficientStorage(fsutil::full_message(&e))
                }
                AdmitError::Io(e) => {
                    WriteError::Internal(format!("saving the catalog failed: {e}"))
                }
            })?,
        };
        let mut rejected = accepted.rejected;
        if !admitted.errors.is_empty() {
            rejected.extend(std::mem::take(&mut admitted.errors));
            rejected.sort_by_key(|e| e.line);
        }
        if let Some(period) = retention {
            let expired = expired_rows(text, &accepted.batch, now - period, period);
            if !expired.is_empty() {
                for (row, error) in expired {
                    if let Err(at) = admitted.rejected_rows.binary_search(&row) {
                        admitted.rejected_rows.insert(at, row);
                        rejected.push(error);
                    }
                }
                rejected.sort_by_key(|e| e.line);
            }
        }
        let lines = (accepted.batch.len() + rejected.len() - admitted.rejected_rows.len()) as u64;
        let stored_rows = accepted.batch.len() - admitted.rejected_rows.len();
        if stored_rows == 0 {
            return Err(WriteError::PartialWrite(rejected));
        }
        let fields = accepted.batch.field_count() as u64;
        let skip_lines: Vec<u32> = if admitted.rejected_rows.is_empty() {
            Vec::new()
        } else {
            let rows: Vec<u32> = accepted.batch.rows().map(|r| r.line_number).collect();
            admitted.rejected_rows.iter().map(|&i| rows[i]).collect()
        };
        let batches = to_record_batches(&accepted.batch, &admitted.tables, &admitted.rejected_rows)
            .map_err(|e| WriteError::Internal(format!("building record batches failed: {e}")))?;
        let head = Entry {
            database_id: admitted.database_id,
            database: database.clone(),
            precision,
            default_time: precision.truncate(now),
            skip_lines,
            body: &body[..],
        }
        .encode_head();
        let bytes = body.len() as u64;
        let buffers = self.buffers.clone();
        let metrics = self.metrics.clone();
        let database_id = admitted.database_id;
        let apply = Box::new(move || {
            let mut buffers = lock(&buffers);
            buffers.push(database_id, batches);
            metrics.buffer(buffers.bytes(), buffers.rows());
        });
        self.wal
            .append(head, body, !request.params.no_sync, apply)
            .await
            .map_err(|e| match e {
                WalError::Full(message) => WriteError::InsufficientStorage(message),
                WalError::Failed(message) => WriteError::Internal(message),
            })?;
        if lock(&self.buffers).active.bytes >= self.config.persist_bytes {
            self.wake.notify_one();
        }
        self.metrics.write(lines, stored_rows as u64, fields, bytes);
        Ok(rejected)
    }

    /// Whether the buffer is below its cap, waiting up to `busy_wait` for a persist to make
    /// room when it is not.
    async fn wait_for_room(&self) -> bool {
        let deadline = tokio::time::Instant::now() + self.config.busy_wait;
        loop {
            // Registered before the check, so a persist ending in between still wakes us.
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if lock(&self.buffers).bytes() < self.config.max_buffer_bytes {
                return true;
            }
            self.wake.notify_one();
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                return false;
            }
        }
    }

    /// The catalog, locked.
    pub fn catalog(&self) -> MutexGuard<'_, Catalog> {
        lock(&self.catalog)
    }

    /// Creates an empty database keeping points for `retention` ns (forever if `None`);
    /// `false` if it exists. Saving the catalog is blocking work.
    pub fn create_database(&self, name: &str, retention: Option<i64>) -> std::io::Result<bool> {
        tokio::task::block_in_place(|| lock(&self.catalog).create_database(name, retention))
    }

    /// Drops a database with its buffered rows and files; `false` if there is none.
    pub async fn delete_database(&self, name: &str) -> std::io::Result<bool> {
        let removed = tokio::task::block_in_place(|| self.forget_database(name))?;
        let Some(removed) = removed else {
            return Ok(false);
        };
        // Frozen generations are dropped by the snapshot, which skips unknown databases.
        persist::remove_files(&self.objects, &removed)
            .await
            .map_err(std::io::Error::other)?;
        Ok(true)
    }

    /// Drops table `table` (a measurement) of database `database` with its rows and files;
    /// `false` if there is no such table. Its rows in the WAL are persisted away (and
    /// skipped, their table being gone) before this returns, so a restart cannot bring
    /// them back.
    pub async fn delete_table(&self, database: &str, table: &str) -> Result<bool, String> {
        let dropped =
            tokio::task::block_in_place(|| lock(&self.catalog).delete_table(database, table))
                .map_err(|e| format!("saving the catalog failed: {e}"))?;
        let Some(key) = dropped else {
            return Ok(false);
        };
        lock(&self.buffers).last.forget(|k| k == key);
        self.snapshot().await?;
        let gone: Vec<Arc<ParquetFile>> = tokio::task::block_in_place(|| {
            let mut manifest = lock(&self.manifest);
            let (gone, kept) = std::mem::take(&mut manifest.files)
                .into_iter()
                .partition(|f| (f.database_id, f.table_id) == key);
            manifest.files = kept;
            manifest.save().map(|()| gone)
        })
        .map_err(|e| format!("saving the manifest failed: {e}"))?;
        lock(&self.retired).extend(gone);
        self.remove_retired().await;
        Ok(true)
    }

    /// Deletes the rows of table `table` of database `database` that `doomed` selects, all
    /// within `[min_time, max_time]` (InfluxQL's `DELETE` and `DROP SERIES`); how many.
    ///
    /// The buffer is persisted first, so every row is in a file; then each file holding
    /// such rows is rewritten without them and swapped in the manifest, under the lock
    /// compaction takes. The delete is whole once this returns and survives restarts; rows
    /// written meanwhile are newer than the delete and stay.
    pub async fn delete_rows(
        &self,
        database: &str,
        table: &str,
        (min_time, max_time): (i64, i64),
        doomed: datafusion::prelude::Expr,
    ) -> Result<u64, String> {
        use datafusion::prelude::{coalesce, lit};
        self.snapshot().await?;
        let _one = self.snapshotting.lock().await;
        let (def, database_id, instance) = {
            let catalog = lock(&self.catalog);
            let Some(db) = catalog.database(database) else {
                return Ok(0);
            };
            let Some(def) = db.tables.get(table).cloned() else {
                return Ok(0);
            };
            (def, db.id, lock(&self.manifest).instance.clone())
        };
        let files: Vec<Arc<ParquetFile>> = lock(&self.manifest)
            .table_files(database_id, def.id)
            .into_iter()
            .filter(|f| f.min_time <= max_time && f.max_time >= min_time)
            .collect();
        let keep = !coalesce(vec![doomed, lit(false)]);
        // The last values may hold rows about to go: forgotten now, and again at the end
        // (whatever happens in between), so no query answers from them meanwhile.
        let key = (database_id, def.id);
        lock(&self.buffers).last.forget(|k| k == key);
        let result = self
            .delete_from_files(&def, database_id, &instance, files, keep)
            .await;
        lock(&self.buffers).last.forget(|k| k == key);
        drop(_one);
        self.remove_retired().await;
        result
    }

    /// Rewrites each of `files` (of table `def`) with only the rows `keep` selects, and
    /// swaps it in the manifest; how many rows went.
    async fn delete_from_files(
        &self,
        def: &TableDef,
        database_id: u32,
        instance: &str,
        files: Vec<Arc<ParquetFile>>,
        keep: datafusion::prelude::Expr,
    ) -> Result<u64, String> {
        use datafusion::prelude::{SessionConfig, SessionContext};
        let schema = def.schema();
        let mut deleted = 0;
        for file in files {
            // A file written before the table gained columns is read in today's schema.
            let batches = persist::read(&self.objects, &file.path)
                .await?
                .iter()
                .map(|b| adapt(b, &schema))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("deleting rows failed: {e}"))?;
            let failed =
                |e: datafusion::error::DataFusionError| format!("deleting rows failed: {e}");
            // One partition keeps the rows in the file's order (series, then time).
            let one = SessionConfig::new().with_target_partitions(1);
            let kept = SessionContext::new_with_config(one)
                .read_batches(batches)
                .and_then(|frame| frame.filter(keep.clone()))
                .map_err(failed)?
                .collect()
                .await
                .map_err(failed)?;
            let rows: u64 = kept.iter().map(|b| b.num_rows() as u64).sum();
            if rows == file.rows {
                continue;
            }
            deleted += file.rows - rows;
            let replacement = if rows == 0 {
                None
            } else {
                let batch = arrow::compute::concat_batches(&schema, &kept)
                    .map_err(|e| format!("deleting rows failed: {e}"))?;
                let day = file.min_time - file.min_time.rem_euclid(compact::DAY);
                let encoded = persist::encode(def, &[batch], day, persist::RowOrder::SeriesKey)
                    .map_err(|e| format!("deleting rows failed: {e}"))?;
                let number = lock(&self.manifest).next_file;
                let path = persist::file_path(instance, database_id, def.id, day, number);
                let size = encoded.bytes.len() as u64;
                persist::put(&self.objects, &path, encoded.bytes)
                    .await
                    .map_err(|e| format!("writing {path} failed: {e}"))?;
                // Everything but the rows stays: the file keeps its place in write order.
                Some(Arc::new(ParquetFile {
                    path,
                    rows: encoded.rows,
                    min_time: encoded.min_time,
                    max_time: encoded.max_time,
                    size,
                    ..(*file).clone()
                }))
            };
            tokio::task::block_in_place(|| {
                let mut manifest = lock(&self.manifest);
                let Some(at) = manifest.files.iter().position(|m| Arc::ptr_eq(m, &file)) else {
                    return Ok(()); // the table or database was dropped meanwhile
                };
                match replacement {
                    Some(new) => {
                        manifest.files[at] = new;
                        manifest.next_file += 1;
                    }
                    None => {
                        manifest.files.remove(at);
                    }
                }
                manifest
                    .save()
                    .map_err(|e| format!("saving the manifest failed: {e}"))?;
                lock(&self.retired).push(file.clone());
                Ok::<(), String>(())
            })?;
        }
        Ok(deleted)
    }

    /// Drops a database from the catalog, the buffer and the manifest (saving both files);
    /// its Parquet files, for deletion. `None` if there is no such database.
    fn forget_database(&self, name: &str) -> std::io::Result<Option<Vec<Arc<ParquetFile>>>> {
        let Some(db) = lock(&self.catalog).delete_database(name)? else {
            return Ok(None);
        };
        let removed: Vec<Arc<ParquetFile>> = {
            let mut buffers = lock(&self.buffers);
            buffers.remove_database(db.id);
            buffers.last.forget(|(database, _)| database == db.id);
            let mut manifest = lock(&self.manifest);
            let (gone, kept) = std::mem::take(&mut manifest.files)
                .into_iter()
                .partition(|f| f.database_id == db.id);
            manifest.files = kept;
            manifest.save()?;
            gone
        };
        Ok(Some(removed))
    }

    /// What a query of database `name` reads: every table with its files and buffered rows,
    /// taken together so a snapshot finishing meanwhile cannot show a row twice.
    pub fn sources(&self, name: &str) -> Option<Vec<TableSource>> {
        let db: DatabaseDef = lock(&self.catalog).database(name)?.clone();
        let buffers = lock(&self.buffers);
        let manifest = lock(&self.manifest);
        Some(
            db.tables
                .values()
                .map(|table| TableSource {
                    name: table.name.clone(),
                    schema: table.schema(),
                    tag_count: table.columns.tags().len(),
                    files: manifest.table_files(db.id, table.id),
                    buffers: buffers.table((db.id, table.id)),
                    cutoff: db.retention_cutoff(now_nanos()),
                })
                .collect(),
        )
    }

    /// What `last()` of table `table` of database `name` reads: its source (files, buffer,
    /// retention), its last rows if made, and the change count to make them at; all taken
    /// together, as [`Store::sources`] does.
    pub fn last_source(&self, name: &str, table: &str) -> Option<LastSource> {
        let db: DatabaseDef = lock(&self.catalog).database(name)?.clone();
        let def = db.tables.get(table)?;
        let key = (db.id, def.id);
        let buffers = lock(&self.buffers);
        let manifest = lock(&self.manifest);
        Some(LastSource {
            key,
            rows: buffers.last.get(key),
            buffered: buffers.last.buffered(key),
            changes: buffers.last.changes(),
            source: TableSource {
                name: def.name.clone(),
                schema: def.schema(),
                tag_count: def.columns.tags().len(),
                files: manifest.table_files(db.id, def.id),
                buffers: buffers.table(key),
                cutoff: db.retention_cutoff(now_nanos()),
            },
        })
    }

    /// Keeps the last rows a scan made at change count `changes` (see [`crate::last`]).
    pub fn keep_last(&self, key: TableKey, rows: Arc<RecordBatch>, changes: u64) {
        lock(&self.buffers).last.keep(key, rows, changes);
    }

    /// Keeps the last rows of a table's sealed buffer batches (see [`crate::last`]).
    pub fn keep_last_buffered(&self, key: TableKey, buffered: last::Buffered, changes: u64) {
        lock(&self.buffers)
            .last
            .keep_buffered(key, buffered, changes);
    }

    /// The object store holding the Parquet files.
    pub fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }

    /// Runs the persister until the process ends: snapshots when the buffer is big or old.
    pub fn spawn_persister(self: &Arc<Self>) {
        let store = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let _ = tokio::time::timeout(Duration::from_secs(1), store.wake.notified()).await;
                let due = {
                    let buffers = lock(&store.buffers);
                    let active = &buffers.active;
                    active.bytes >= store.config.persist_bytes
                        || active
                            .since
                            .is_some_and(|t| t.elapsed() >= store.config.persist_interval)
                };
                if due {
                    if let Err(e) = store.snapshot().await {
                        tracing::error!(error = %e, "snapshot failed; will retry");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                }
                if let Err(e) = store.expire() {
                    tracing::error!(error = %e, "expiring files failed; will retry");
                }
                if store.config.compaction {
                    if let Err(e) = store.compact().await {
                        tracing::error!(error = %e, "compaction failed; will retry");
                    }
                }
                store.remove_retired().await;
            }
        });
        *lock(&self.persister) = Some(task);
    }

    /// Freezes the active buffer, writes it as Parquet, lists the files in the manifest and
    /// deletes the WAL segments they cover. Also retries generations a failed snapshot left.
    pub async fn snapshot(&self) -> Result<(), String> {
        let _one = self.snapshotting.lock().await;
        let buffers = self.buffers.clone();
        let has_rows = lock(&buffers).active.rows > 0;
        if has_rows {
            let freeze = buffers.clone();
            self.wal
                .rotate(Box::new(move |closed| {
                    lock(&freeze).freeze(closed);
                }))
                .await
                .map_err(|e| e.message().to_owned())?;
        }
        loop {
            let next = lock(&buffers).frozen.first().cloned();
            let Some(generation) = next else { break };
            self.persist_generation(&generation).await?;
        }
        Ok(())
    }

    async fn persist_generation(&self, generation: &Arc<Generation>) -> Result<(), String> {
        let started = std::time::Instant::now();
        let window = self.config.gen1_duration.as_nanos().max(1) as i64;
        let mut files = Vec::new();
        let (mut first_file, instance, seq) = {
            let manifest = lock(&self.manifest);
            (
                manifest.next_file,
                manifest.instance.clone(),
                manifest.next_seq,
            )
        };
        let mut last_updates = Vec::new();
        for (&(database_id, table_id), table) in &generation.tables {
            let def = {
                let catalog = lock(&self.catalog);
                catalog
                    .database_by_id(database_id)
                    .and_then(|db| db.tables.values().find(|t| t.id == table_id).cloned())
            };
            let Some(def) = def else {
                continue; // dropped meanwhile
            };
            // The table's last rows, if made, take in the generation's.
            let key = (database_id, table_id);
            let base = lock(&self.buffers).last.get(key);
            let updated = match &base {
                Some(base) => last_with(&def, base, table).await.map(Arc::new).ok(),
                None => None,
            };
            last_updates.push(last::Update { key, base, updated });
            let buffer = table.clone();
            let encoded =
                tokio::task::spawn_blocking(move || persist::encode_table(&def, &buffer, window))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("encoding Parquet failed: {e}"))?;
            for part in encoded {
                let path =
                    persist::file_path(&instance, database_id, table_id, part.window, first_file);
                first_file += 1;
                let size = part.bytes.len() as u64;
                persist::put(&self.objects, &path, part.bytes)
                    .await
                    .map_err(|e| format!("writing {path} failed: {e}"))?;
                files.push(Arc::new(ParquetFile {
                    database_id,
                    table_id,
                    path,
                    rows: part.rows,
                    min_time: part.min_time,
                    max_time: part.max_time,
                    size,
                    seq,
                    level: 0,
                    repeats: table.repeats,
                    written_at: now_nanos(),
                }));
            }
        }
        let (count, rows) = (files.len(), files.iter().map(|f| f.rows as usize).sum());
        tokio::task::block_in_place(|| {
            self.commit_generation(generation, files, first_file, last_updates)
        })?;
        self.drained.notify_waiters();
        self.metrics.persisted(count, rows);
        tracing::info!(
            files = count,
            rows,
            took_ms = started.elapsed().as_millis() as u64,
            "persisted buffer to Parquet"
        );
        Ok(())
    }

    /// Lists a persisted generation's files in the manifest (saved durably), drops the
    /// generation from memory and deletes the WAL segments it covered.
    fn commit_generation(
        &self,
        generation: &Arc<Generation>,
        files: Vec<Arc<ParquetFile>>,
        next_file: u64,
        last_updates: Vec<last::Update>,
    ) -> Result<(), String> {
        {
            // Listing the files and dropping the generation happen under both locks, so a
            // query sees the rows either in memory or in files, never both or neither; the
            // last rows take in the generation at the same moment.
            let mut buffers = lock(&self.buffers);
            let mut manifest = lock(&self.manifest);
            manifest.files.extend(files);
            manifest.next_file = next_file;
            manifest.next_seq += 1;
            manifest.wal_persisted_through = generation.last_segment;
            manifest
                .save()
                .map_err(|e| format!("saving the manifest failed: {e}"))?;
            buffers.frozen.retain(|g| !Arc::ptr_eq(g, generation));
            buffers.last.persisted(last_updates);
            self.metrics.buffer(buffers.bytes(), buffers.rows());
        }
        let wal_dir = self.config.data_dir.join("wal");
        for (number, path) in wal::segments(&wal_dir).map_err(|e| e.to_string())? {
            if number <= generation.last_segment {
                std::fs::remove_file(&path).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Unlists the files whose every row is past its database's retention; they are deleted
    /// once no query reads them.
    pub fn expire(&self) -> Result<usize, String> {
        let now = now_nanos();
        let cutoffs: HashMap<u32, i64> = lock(&self.catalog)
            .databases()
            .filter_map(|db| Some((db.id, db.retention_cutoff(now)?)))
            .collect();
        if cutoffs.is_empty() {
            return Ok(0);
        }
        let mut manifest = lock(&self.manifest);
        let expired = |f: &Arc<ParquetFile>| {
            cutoffs
                .get(&f.database_id)
                .is_some_and(|&cutoff| f.max_time < cutoff)
        };
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut manifest.files)
            .into_iter()
            .partition(expired);
        manifest.files = kept;
        if gone.is_empty() {
            return Ok(0);
        }
        if let Err(e) = tokio::task::block_in_place(|| manifest.save()) {
            manifest.files.extend(gone);
            return Err(format!("saving the manifest failed: {e}"));
        }
        let count = gone.len();
        lock(&self.retired).extend(gone);
        tracing::info!(files = count, "expired Parquet files past their retention");
        Ok(count)
    }

    /// Runs the compactions that are due, one at a time; how many ran.
    pub async fn compact(&self) -> Result<usize, String> {
        let mut done = 0;
        loop {
            let _one = self.snapshotting.lock().await;
            let (job, instance, number) = {
                let manifest = lock(&self.manifest);
                let quiet = self.config.compact_after.as_nanos() as i64;
                let job = compact::next_job(&manifest.files, now_nanos(), quiet);
                (job, manifest.instance.clone(), manifest.next_file)
            };
            let Some(job) = job else {
                return Ok(done);
            };
            self.run_compaction(job, &instance, number).await?;
            done += 1;
        }
    }

    /// Merges a job's files into one, lists it in place of them, and retires them.
    async fn run_compaction(
        &self,
        job: compact::Job,
        instance: &str,
        number: u64,
    ) -> Result<(), String> {
        let started = std::time::Instant::now();
        let first = &job.inputs[0];
        let (database_id, table_id) = (first.database_id, first.table_id);
        let def = {
            let catalog = lock(&self.catalog);
            catalog
                .database_by_id(database_id)
                .and_then(|db| db.tables.values().find(|t| t.id == table_id).cloned())
        };
        let Some(def) = def else {
            return Ok(()); // dropped meanwhile; its files go with it
        };
        let mut batches = Vec::new();
        for input in &job.inputs {
            batches.extend(persist::read(&self.objects, &input.path).await?);
        }
        let day = job.day;
        let encoded = tokio::task::spawn_blocking(move || {
            let merged = dedup::merge(&def.schema(), def.columns.tags().len(), batches)?;
            persist::encode(&def, &[merged], day, persist::RowOrder::SeriesKey)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("compacting failed: {e}"))?;
        let path = persist::file_path(instance, database_id, table_id, job.day, number);
        let size = encoded.bytes.len() as u64;
        persist::put(&self.objects, &path, encoded.bytes)
            .await
            .map_err(|e| format!("writing {path} failed: {e}"))?;
        let merged = Arc::new(ParquetFile {
            database_id,
            table_id,
            path,
            rows: encoded.rows,
            min_time: encoded.min_time,
            max_time: encoded.max_time,
            size,
            seq: job.seq(),
            level: job.level,
            repeats: job.repeats,
            written_at: now_nanos(),
        });
        let rows_in: u64 = job.inputs.iter().map(|f| f.rows).sum();
        tokio::task::block_in_place(|| {
            let mut manifest = lock(&self.manifest);
            let listed = |f: &Arc<ParquetFile>| manifest.files.iter().any(|m| Arc::ptr_eq(m, f));
            if !job.inputs.iter().all(listed) {
                return Ok(()); // a database drop took them; the new file is unlisted
            }
            manifest
                .files
                .retain(|m| !job.inputs.iter().any(|f| Arc::ptr_eq(m, f)));
            manifest.files.push(merged.clone());
            manifest.next_file = number + 1;
            manifest
                .save()
                .map_err(|e| format!("saving the manifest failed: {e}"))?;
            lock(&self.retired).extend(job.inputs.iter().cloned());
            Ok::<(), String>(())
        })?;
        tracing::info!(
            files = job.inputs.len(),
            rows_in,
            rows_out = merged.rows,
            level = job.level,
            took_ms = started.elapsed().as_millis() as u64,
            "compacted Parquet files"
        );
        Ok(())
    }

    /// Deletes the replaced files no query reads any more.
    pub async fn remove_retired(&self) {
        let unused: Vec<Arc<ParquetFile>> = {
            let mut retired = lock(&self.retired);
            let (unused, held) = std::mem::take(&mut *retired)
                .into_iter()
                .partition(|f| Arc::strong_count(f) == 1);
            *retired = held;
            unused
        };
        if let Err(e) = persist::remove_files(&self.objects, &unused).await {
            // Unlisted files are removed at the next start in any case.
            tracing::warn!(error = %e, "deleting replaced Parquet files failed");
        }
    }

    /// Stops accepting writes: syncs and closes the WAL, then persists the buffer so the next
    /// start has nothing to replay.
    pub async fn shutdown(&self) {
        // Stopped at an await point: a compaction cut short leaves an unlisted file, which
        // the next start removes, as after a crash.
        let persister = lock(&self.persister).take();
        if let Some(task) = persister {
            task.abort();
            let _ = task.await;
        }
        if let Err(e) = self.snapshot().await {
            tracing::error!(error = %e, "final snapshot failed; the WAL will be replayed at the next start");
        }
        self.wal.close().await;
    }
}

/// The rows of `batch` older than `cutoff`, with their errors (`period` is the retention).
fn expired_rows(
    text: &str,
    batch: &linegate::WriteBatch<'_>,
    cutoff: i64,
    period: i64,
) -> Vec<(usize, LineError)> {
    let period = crate::catalog::format_duration(period);
    batch
        .rows()
        .enumerate()
        .filter(|(_, row)| row.time < cutoff)
        .map(|(i, row)| {
            let kind = LineErrorKind::BeyondRetention(period.clone());
            (
                i,
                LineError::locate(text, row.offset, row.line_number, row.offset, kind),
            )
        })
        .collect()
}

/// Rebuilds the rows of one logged write into `generation`. `false` if it could not.
fn replay_entry(catalog: &mut Catalog, buffers: &mut Buffers, payload: &[u8]) -> bool {
    let Some(entry) = Entry::decode(payload) else {
        tracing::error!("unreadable WAL record skipped");
        return false;
    };
    match catalog.database(&entry.database) {
        Some(db) if db.id == entry.database_id => {}
        _ => return true, // the database was dropped after this write
    }
    let Ok(text) = std::str::from_utf8(entry.body) else {
        return false;
    };
    let Ok(accepted) = validate_text(text, entry.precision, entry.default_time, false) else {
        return false;
    };
    let Ok(admitted) = catalog.admit(&entry.database, text, &accepted.batch, false) else {
        return false;
    };
    let mut skip: Vec<usize> = accepted
        .batch
        .rows()
        .enumerate()
        .filter(|(_, row)| entry.skip_lines.binary_search(&row.line_number).is_ok())
        .map(|(i, _)| i)
        .collect();
    skip.extend(&admitted.rejected_rows);
    skip.sort_unstable();
    skip.dedup();
    match to_record_batches(&accepted.batch, &admitted.tables, &skip) {
        Ok(batches) => {
            buffers.push(admitted.database_id, batches);
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::RecordBatch;
    use linegate::RequestParts;
    use object_store::memory::InMemory;

    fn request(query: &str) -> WriteRequest {
        WriteRequest::parse(&RequestParts {
            method: "POST",
            path: "/api/v3/write_lp",
            query: Some(query),
            ..Default::default()
        })
        .unwrap()
    }

    async fn open(dir: &std::path::Path, max_buffer_bytes: usize) -> Arc<Store> {
        let config = StoreConfig {
            data_dir: dir.to_owned(),
            persist_bytes: usize::MAX,
            persist_interval: Duration::from_secs(3600),
            max_buffer_bytes,
            busy_wait: Duration::from_secs(1),
            gen1_duration: Duration::from_secs(600),
            compact_after: Duration::from_secs(60),
            compaction: true,
            max_columns: crate::catalog::DEFAULT_MAX_COLUMNS,
        };
        Store::open(
            config,
            Arc::new(InMemory::new()),
            Arc::new(Metrics::default()),
        )
        .await
        .unwrap()
    }

    fn temp(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("linegate-store-{name}-"))
            .tempdir()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_full_buffer_holds_writes_until_a_persist_and_refuses_them_with_503_after_the_wait() {
        let tmp = temp("busy");
        let dir = tmp.path();
        let store = open(dir, 1).await;
        let req = request("db=b");
        store.write(&req, b"m f=1 1\n".to_vec()).await.unwrap();
        let refused = store.write(&req, b"m f=2 2\n".to_vec()).await.unwrap_err();
        assert_eq!(refused, WriteError::Unavailable { retry_after: 1 });
        assert_eq!(refused.headers(), [("Retry-After", "1".to_owned())]);
        store.snapshot().await.unwrap();
        store.write(&req, b"m f=3 3\n".to_vec()).await.unwrap();
        // A write that arrives while the buffer is full waits for the persist instead.
        let waiting = tokio::spawn({
            let store = store.clone();
            let req = req.clone();
            async move { store.write(&req, b"m f=4 4\n".to_vec()).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "the write waits for room");
        store.snapshot().await.unwrap();
        waiting.await.unwrap().unwrap();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_restart_replays_the_wal_with_the_same_rows_and_skipped_lines() {
        let tmp = temp("replay");
        let dir = tmp.path();
        {
            let store = open(dir, usize::MAX).await;
            // Line 2 breaks the schema (f is a float), line 3 does not parse: both skipped.
            let rejected = store
                .write(
                    &request("db=r&precision=s"),
                    b"m,t=a f=1 1\nm f=1i 2\nm f=\nm,t=b f=2\n".to_vec(),
                )
                .await
                .unwrap();
            assert_eq!(rejected.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 3]);
            let before = store.sources("r").unwrap();
            assert_eq!(before[0].buffers.iter().map(|b| b.rows).sum::<usize>(), 2);
            store.wal.close().await; // a crash: nothing persisted
        }
        let store = open(dir, usize::MAX).await;
        let after = store.sources("r").unwrap();
        let batches: Vec<RecordBatch> = after[0]
            .buffers
            .iter()
            .flat_map(|b| b.batches().cloned())
            .collect();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 2);
        let text = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert!(text.contains("1970-01-01T00:00:01"), "{text}");
        assert!(text.contains("| b |"), "{text}");
    }
}
