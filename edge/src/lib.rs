//! # linegate-edge — linegate as a Cloudflare Worker, in front of storage
//!
//! A thin crate on the `linegate` core: every protocol rule (auth schemes, parameters and
//! database mapping, gzip, line protocol, error bodies) is the core's; this crate holds the
//! edge's own policy (KV token scopes, upstream URLs, retries, the R2 spool).
//!
//! Every write is authenticated against the `TOKENS` KV namespace, validated by the core,
//! re-encoded as canonical line protocol with nanosecond timestamps, gzip-compressed and
//! POSTed to every upstream that takes its database ([`upstream`]: InfluxDB's v1, v2 or v3
//! write API). When a storage is down the batch goes to that upstream's spool in the `SPOOL`
//! R2 bucket, new batches queue behind it, and a cron trigger replays it in order. See
//! `wrangler.toml` for the bindings and settings.
//!
//! The crate has two halves:
//!
//! - [`map`] and [`upstream`]: plain functions that decide everything — routes, token scopes,
//!   the upstreams and their URLs and credentials, how upstream answers map back to the
//!   client's endpoint, retry timing, spool keys. They build and are tested on any target,
//!   without the Workers runtime.
//! - the runtime entry (wasm32 only, private): the `fetch` and `scheduled` handlers that
//!   move bytes between the `worker` crate's types and [`map`].

#![deny(missing_docs)]

pub mod map;
pub mod upstream;

#[cfg(target_arch = "wasm32")]
mod entry;
