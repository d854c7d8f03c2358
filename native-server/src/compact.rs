//! Compaction: a table's small files of one day become one large sorted file, with one row
//! per point (last write wins).
//!
//! Persists write one file per table, time window and persist, so a day of live data or a
//! backfill leaves many small files, and every query would open them all. Within a UTC day the
//! files are merged in tiers: [`FAN_IN`] files of one level become one file of the next, so the
//! day's newest data is rewritten rarely. Once the day is over and no file of it was written
//! for a while, all its files become one. The merged file lists the newest `seq` of its inputs,
//! so it keeps its place in write order; it is written before the manifest lists it, and its
//! inputs are deleted only after that and once no query reads them: a crash at any point leaves
//! the same answers.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::persist::ParquetFile;

/// One day in nanoseconds: the time span of a compacted file.
pub const DAY: i64 = 86_400 * 1_000_000_000;

/// How many files of one level are merged into one of the next.
pub const FAN_IN: usize = 4;

/// A day takes no more live writes this long after its end (wall clock), so all its files
/// can be merged into one.
const CLOSED_AFTER: i64 = 3_600 * 1_000_000_000;

/// A file with this many rows is not merged again, so a merge's memory stays bounded (it
/// holds its inputs' rows).
pub const FULL_ROWS: u64 = 500_000;

/// Files to merge into one.
#[derive(Debug)]
pub struct Job {
    /// The start of the day the files cover.
    pub day: i64,
    /// The files, oldest write first, consecutive in write order among the day's files.
    pub inputs: Vec<Arc<ParquetFile>>,
    /// The level of the merged file.
    pub level: u32,
    /// Whether the merged file may repeat a point of another file: not when the job takes
    /// the whole day (only files of that day hold its times).
    pub repeats: bool,
}

impl Job {
    /// The merged file's place in write order: that of its newest input.
    pub fn seq(&self) -> u64 {
        self.inputs.iter().map(|f| f.seq).max().unwrap_or(0)
    }
}

/// The next merge among `files` at wall-clock time `now`, if any is due; `quiet` is how long
/// (ns) a past day must have had no new file before its files are merged as far as they go.
pub fn next_job(files: &[Arc<ParquetFile>], now: i64, quiet: i64) -> Option<Job> {
    let mut days: BTreeMap<(u32, u32, i64), Vec<Arc<ParquetFile>>> = BTreeMap::new();
    for f in files {
        let day = f.min_time.div_euclid(DAY);
        if f.max_time.div_euclid(DAY) == day {
            days.entry((f.database_id, f.table_id, day * DAY))
                .or_default()
                .push(f.clone());
        }
    }
    for ((_, _, day), mut day_files) in days {
        day_files.sort_by_key(|f| f.seq);
        let closed = now.saturating_sub(CLOSED_AFTER) >= day.saturating_add(DAY);
        let settled = day_files
            .iter()
            .all(|f| now.saturating_sub(f.written_at) >= quiet);
        let job = |inputs: &[Arc<ParquetFile>], level: u32| Job {
            day,
            inputs: inputs.to_vec(),
            level,
            repeats: inputs.len() < day_files.len() && inputs.iter().any(|f| f.repeats),
        };
        // Only files next to each other in write order merge, so the merged file can take
        // their place in it; full files are left as they are.
        for run in day_files.split(|f| f.rows >= FULL_ROWS) {
            let top = run.iter().map(|f| f.level).max().unwrap_or(0);
            if closed && settled {
                // Any neighbours that fit together: two big files at the start of the run
                // must not keep the small ones after them apart.
                let inputs = (0..run.len())
                    .find_map(|start| bounded(&run[start..]).and_then(|i| trim(i, &day_files)));
                if let Some(inputs) = inputs {
                    return Some(job(inputs, top + 1));
                }
            }
            for tier in run.chunk_by(|a, b| a.level == b.level) {
                if tier.len() >= FAN_IN {
                    if let Some(inputs) = bounded(tier).and_then(|i| trim(i, &day_files)) {
                        return Some(job(inputs, tier[0].level + 1));
                    }
                }
            }
        }
    }
    None
}

/// `inputs` without their newest files while a file of the same persist (same `seq`) stays
/// out and may repeat a point of theirs: the merged file takes its newest input's place in
/// write order, and must not pass that file. `None` if fewer than two are left.
fn trim<'a>(
    mut inputs: &'a [Arc<ParquetFile>],
    day: &[Arc<ParquetFile>],
) -> Option<&'a [Arc<ParquetFile>]> {
    while let Some(newest) = inputs.last().map(|f| f.seq) {
        let passed = day
            .iter()
            .any(|f| f.seq == newest && f.repeats && !inputs.iter().any(|i| Arc::ptr_eq(i, f)));
        if !passed {
            break;
        }
        inputs = &inputs[..inputs.iter().take_while(|f| f.seq < newest).count()];
    }
    (inputs.len() >= 2).then_some(inputs)
}

/// The longest prefix of `files` whose rows fit in [`FULL_ROWS`], if it has two files or
/// more.
fn bounded(files: &[Arc<ParquetFile>]) -> Option<&[Arc<ParquetFile>]> {
    let mut rows = 0;
    let fit = files
        .iter()
        .take_while(|f| {
            rows += f.rows;
            rows <= FULL_ROWS
        })
        .count();
    (fit >= 2).then(|| &files[..fit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(seq: u64, day: i64, level: u32, rows: u64) -> Arc<ParquetFile> {
        Arc::new(ParquetFile {
            database_id: 1,
            table_id: 1,
            path: format!("f{seq}"),
            rows,
            min_time: day * DAY + seq as i64,
            max_time: day * DAY + 1_000 + seq as i64,
            size: 1,
            seq,
            level,
            repeats: false,
            written_at: seq as i64,
        })
    }

    #[test]
    fn a_live_day_merges_in_tiers_and_a_settled_past_day_into_one_file() {
        let now = 10 * DAY + 5;
        let mut files: Vec<_> = (1..=3).map(|s| file(s, 10, 0, 1)).collect();
        assert!(
            next_job(&files, now, 0).is_none(),
            "three files wait for a fourth"
        );
        files.push(file(4, 10, 0, 1));
        let job = next_job(&files, now, 0).unwrap();
        assert_eq!((job.inputs.len(), job.level, job.seq()), (4, 1, 4));
        // The day is over: everything merges, whatever the level, once no file is new.
        let files = vec![file(1, 3, 2, 1), file(7, 3, 0, 1)];
        assert!(
            next_job(&files, 8, 2).is_none(),
            "file 7 was written 1 ns ago"
        );
        let job = next_job(&files, now, 2).unwrap();
        assert_eq!((job.inputs.len(), job.level, job.day), (2, 3, 3 * DAY));
        assert!(!job.repeats, "the whole day");
        assert!(
            next_job(&[file(1, 3, 2, 1)], now, 0).is_none(),
            "one file is done"
        );
    }

    #[test]
    fn merges_stay_bounded_and_in_write_order() {
        let now = 10 * DAY;
        // A full file splits the day: 1 and 3 may not merge around it.
        let files = vec![
            file(1, 3, 0, 10),
            file(2, 3, 0, FULL_ROWS),
            file(3, 3, 0, 10),
        ];
        assert!(next_job(&files, now, 0).is_none());
        // A run merges only as far as it fits; two that do not fit together stay.
        let big = [
            file(1, 3, 0, FULL_ROWS / 2 + 1),
            file(2, 3, 0, FULL_ROWS / 2),
        ];
        assert!(next_job(&big, now, 0).is_none());
        let mut files: Vec<_> = (1..=4).map(|s| file(s, 3, 0, FULL_ROWS / 3)).collect();
        files[0] = Arc::new(ParquetFile {
            repeats: true,
            ..(*files[0]).clone()
        });
        let job = next_job(&files, now, 0).unwrap();
        assert_eq!(
            job.inputs.iter().map(|f| f.seq).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert!(job.repeats, "file 4 stays beside it");
        // Big files that cannot merge leave the small ones after them free to.
        let files = vec![
            file(1, 3, 5, FULL_ROWS - 50),
            file(2, 3, 5, FULL_ROWS - 50),
            file(3, 3, 1, 100),
            file(4, 3, 0, 100),
            file(5, 3, 0, 100),
        ];
        let job = next_job(&files, now, 0).unwrap();
        assert_eq!(
            job.inputs.iter().map(|f| f.seq).collect::<Vec<_>>(),
            [3, 4, 5]
        );
        // A merge never passes a file of its newest input's persist that may repeat one of
        // its points (here the full one, left out): it stops before that persist.
        let repeating = Arc::new(ParquetFile {
            repeats: true,
            ..(*file(7, 3, 0, FULL_ROWS)).clone()
        });
        let files = vec![
            file(5, 3, 0, 10),
            file(6, 3, 0, 10),
            file(7, 3, 0, 10),
            repeating,
        ];
        let job = next_job(&files, now, 0).unwrap();
        assert_eq!(job.inputs.iter().map(|f| f.seq).collect::<Vec<_>>(), [5, 6]);
    }
}
