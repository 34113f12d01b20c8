//! Claims: how appliers sharing one Patchew queue avoid applying a series twice.
//!
//! Patchew offers no lock. Its queue (`series/unapplied`) lists the series whose `git`
//! result is `pending`, and a result may be PUT `running` with any `data`. So a claim
//! is a `running` result whose data names its owner and a token unique to this
//! attempt. Claiming reads the result and writes the claim only over `pending` or a
//! stale claim; the series is then fetched and applied in the mirror while the claim
//! settles, and before anything leaves the machine the result is read again, at
//! least the settle time after the claim (by default scaled on how long the claim's
//! own requests took, see [`Settle::after`]): whoever's token is there then owns the series,
//! every other claimant throws its work away. The owner checks again before
//! reporting, so that an applier that lost its claim (taken over when stale,
//! or re-queued by Patchew because the series' tags changed) neither pushes nor
//! reports. The race that remains is described in the README.
//!
//! Giving a series back keeps, in the same data, the reasons of its give-backs in a
//! row, which the next claim carries on: the give-back limit is counted by all the
//! appliers of the queue together.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::error::CmdError;
use crate::report::patchew::{Patchew, QueueItem, ResultInfo, Status};

/// Keys of our claim in the result's `data`.
const APPLIER: &str = "applier";
const PID: &str = "pid";
/// The host the claimant runs on: a claim of this host whose process is gone was
/// left by an applier that died (a SIGKILL), and is re-queued at once.
const HOST: &str = "host";
const TOKEN: &str = "claim";
const CLAIMED_AT: &str = "claimed_at";
/// Patchew keeps the queue's push options in the `git` result's data; a claim
/// replaces that data, so it carries them over for a later re-queue.
const PUSH_OPTIONS: &str = "git.push_options";
/// The reasons of the give-backs in a row so far, in the result's data like the push
/// options: every applier sharing the queue counts them, not each its own.
const GIVE_BACKS: &str = "give_backs";
/// Most reasons read back, and their length: the data is the server's to send.
const MAX_GIVE_BACKS: usize = 100;
const MAX_REASON: usize = 1000;

/// This applier as it signs claims.
#[derive(Debug, Clone)]
pub struct Claimant {
    pub name: String,
    pub timeout: Duration,
    pub settle: Settle,
}

/// How long a claim settles before it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// `patchew.claimSettle`, as configured.
    Fixed(Duration),
    /// Scaled on the claim's own requests ([`Settle::after`]).
    Measured,
}

impl Settle {
    /// Covers a competitor's pause between its read and its write when Patchew is
    /// near (the same host or data centre), where round trips alone are too short.
    pub const FLOOR: Duration = Duration::from_millis(50);
    pub const FACTOR: u32 = 2;

    /// `patchew.claimSettle` when set, else measured.
    pub fn configured(seconds: Option<Duration>) -> Self {
        seconds.map_or(Settle::Measured, Settle::Fixed)
    }

    /// The settle of a claim whose read and write took `requests` together.
    ///
    /// A competitor that read `pending` before our write landed writes its own claim
    /// within its read-to-write time: one round trip to Patchew, plus whatever pause
    /// it takes between the two. Our check reaches the server one round trip of ours
    /// plus the settle after our write landed, so the settle need only cover how
    /// much slower the competitor's round trip is than ours, and that pause. Twice
    /// our two requests, about four of our round trips, covers a competitor up to
    /// five times slower than us; appliers on networks further apart set
    /// `patchew.claimSettle`.
    pub fn after(self, requests: Duration) -> Duration {
        match self {
            Settle::Fixed(settle) => settle,
            Settle::Measured => requests.saturating_mul(Self::FACTOR).max(Self::FLOOR),
        }
    }
}

/// A claim written. It counts only once `settle` has passed since it was `written`
/// and the result still holds its token ([`Claimant::holds`], which waits for that):
/// until then the work may go on in the mirror, but nothing may leave the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    token: String,
    given_back: Vec<String>,
    written: Instant,
    settle: Duration,
}

impl Claim {
    /// Why the series was given back each time in a row before this claim, by any
    /// applier, oldest first.
    pub fn given_back(&self) -> &[String] {
        &self.given_back
    }

    /// How long after it was written the claim counts.
    pub fn settle(&self) -> Duration {
        self.settle
    }
}

/// The give-back a stale claim stands for.
fn died_on_it(owner: &str) -> String {
    format!("the applier {owner} stopped without reporting: its claim went stale")
}

/// The give-back reasons a result's data carries (bounded).
fn give_backs(data: &Value) -> Vec<String> {
    let Some(list) = data.get(GIVE_BACKS).and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(Value::as_str)
        .take(MAX_GIVE_BACKS)
        .map(|reason| reason.chars().take(MAX_REASON).collect())
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Claimed(Claim),
    /// Someone else has it, or it is no longer waiting; the reason is for the log.
    Skipped(String),
}

/// What a `git` result says about claiming its series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Free,
    /// A claim older than the timeout (or one whose age cannot be told).
    Stale {
        by: String,
    },
    Held {
        by: String,
        age_secs: i64,
    },
    Done(Status),
}

pub fn state(result: &ResultInfo, now: i64, timeout: Duration) -> State {
    match result.status {
        Status::Pending => State::Free,
        Status::Success | Status::Failure => State::Done(result.status),
        Status::Running => {
            let by = owner(&result.data);
            // Our own stamp first; Patchew's last_update covers a running result
            // written by some other tool.
            let since = result
                .data
                .get(CLAIMED_AT)
                .and_then(Value::as_str)
                .and_then(parse_utc)
                .or_else(|| result.last_update.as_deref().and_then(parse_utc));
            match since {
                Some(t) if now.saturating_sub(t) < timeout.as_secs() as i64 => State::Held {
                    by,
                    age_secs: now.saturating_sub(t).max(0),
                },
                // An undatable claim would otherwise block the series forever.
                _ => State::Stale { by },
            }
        }
    }
}

fn owner(data: &Value) -> String {
    let name = data.get(APPLIER).and_then(Value::as_str).unwrap_or("?");
    match data.get(PID).and_then(Value::as_u64) {
        Some(pid) => format!("{name} (pid {pid})"),
        None => name.to_owned(),
    }
}

fn token_of(result: &ResultInfo) -> Option<&str> {
    (result.status == Status::Running)
        .then(|| result.data.get(TOKEN).and_then(Value::as_str))
        .flatten()
}

impl Claimant {
    /// `configured`, else the host name: what a person reading Patchew's result
    /// recognises. The pid and the token tell instances on one host apart.
    pub fn new(configured: Option<&str>, timeout: Duration, settle: Settle) -> Self {
        Claimant {
            name: configured.map(str::to_owned).unwrap_or_else(hostname),
            timeout,
            settle,
        }
    }

    pub fn try_claim(&self, patchew: &Patchew, item: &QueueItem) -> Result<Outcome, CmdError> {
        let now = unix_now();
        let requests = Instant::now();
        let before = get(patchew, &item.result_uri)?;
        let mut given_back = give_backs(&before.data);
        match state(&before, now, self.timeout) {
            State::Free => {}
            State::Stale { by } => given_back.push(died_on_it(&by)),
            State::Held { by, age_secs } => {
                return Ok(Outcome::Skipped(format!(
                    "claimed by {by} {age_secs} s ago"
                )))
            }
            State::Done(status) => {
                return Ok(Outcome::Skipped(format!("already {}", status_word(status))))
            }
        }
        let token = format!("{}/{}/{:x}", self.name, std::process::id(), unix_nanos());
        let mut data = carried_data(queue_push_options(item), &given_back);
        data.insert(APPLIER.into(), self.name.clone().into());
        data.insert(PID.into(), std::process::id().into());
        data.insert(HOST.into(), hostname().into());
        data.insert(TOKEN.into(), token.clone().into());
        data.insert(CLAIMED_AT.into(), format_utc(now).into());
        put(
            patchew,
            &item.result_uri,
            &json!({"status": Status::Running, "data": data}),
        )?;
        // A competitor that read `pending` just before our PUT writes its claim
        // within the settle time; the last writer wins and everyone can tell who it
        // was. The settle runs while the series is fetched and applied in the
        // mirror: [`Claimant::holds`], before anything leaves the machine, waits
        // for whatever is left of it.
        let settle = self.settle.after(requests.elapsed());
        Ok(Outcome::Claimed(Claim {
            token,
            given_back,
            written: Instant::now(),
            settle,
        }))
    }

    /// Whether `claim` still holds. When this errors (the server is unreachable),
    /// the caller neither pushes nor reports: the claim goes stale and is taken over.
    pub fn holds(
        &self,
        patchew: &Patchew,
        item: &QueueItem,
        claim: &Claim,
    ) -> Result<bool, CmdError> {
        let left = claim.settle.saturating_sub(claim.written.elapsed());
        if !left.is_zero() {
            super::timing::timed("settle", || std::thread::sleep(left));
        }
        let now = super::timing::timed("check", || get(patchew, &item.result_uri))?;
        Ok(token_of(&now) == Some(claim.token.as_str()))
    }

    /// Puts a series we claimed back in the queue, push options kept, as if we had
    /// never taken it: for trouble that is not the series' fault. `reasons` are the
    /// give-backs in a row so far, this one included when it counts.
    pub fn give_back(
        &self,
        patchew: &Patchew,
        item: &QueueItem,
        reasons: &[String],
    ) -> Result<(), CmdError> {
        let data = carried_data(queue_push_options(item), reasons);
        put_pending(patchew, &item.result_uri, data)
    }

    /// Puts series whose claim went stale (their applier died) back in the queue,
    /// as Patchew's own "git reset" does; a running series is not listed as
    /// unapplied, so nobody would apply it otherwise. Returns their message-ids.
    pub fn requeue_stale(&self, patchew: &Patchew) -> Result<Vec<String>, CmdError> {
        let running = patchew.search_series("running:git", 100)?;
        let mut requeued = Vec::new();
        for series in running {
            let Some(uri) = series.git_result_uri() else {
                continue;
            };
            // One unreadable series must not stop the scan of the others.
            let Ok(result) = get(patchew, &uri) else {
                continue;
            };
            let stale = match state(&result, unix_now(), self.timeout) {
                State::Stale { .. } => true,
                State::Held { .. } => died_here(&result.data),
                _ => false,
            };
            if !stale {
                continue;
            }
            // Counted: a series that kills its applier (out of memory, say) would
            // otherwise be taken and lost again for ever. A stopped service gives
            // its series back instead, without counting.
            let mut given_back = give_backs(&result.data);
            given_back.push(died_on_it(&owner(&result.data)));
            let push_options = result.data.get(PUSH_OPTIONS).cloned();
            put_pending(patchew, &uri, carried_data(push_options, &given_back))?;
            requeued.push(series.message_id);
        }
        Ok(requeued)
    }
}

/// Whether a claim was made on this host by a process that is gone (not us).
fn died_here(data: &Value) -> bool {
    let host = data.get(HOST).and_then(Value::as_str);
    let pid = data
        .get(PID)
        .and_then(Value::as_u64)
        .and_then(|p| u32::try_from(p).ok());
    match (host, pid) {
        (Some(host), Some(pid)) => {
            host == hostname() && pid != std::process::id() && !super::stale_lock::pid_alive(pid)
        }
        _ => false,
    }
}

/// The queue's push options for `item`, when it has any.
fn queue_push_options(item: &QueueItem) -> Option<Value> {
    item.push_options
        .as_deref()
        .filter(|o| !o.is_empty())
        .map(Value::from)
}

/// What a result's data carries from one holder of the series to the next: the
/// queue's push options and the give-backs in a row so far.
fn carried_data(push_options: Option<Value>, given_back: &[String]) -> Map<String, Value> {
    let mut data = Map::new();
    if let Some(o) = push_options {
        data.insert(PUSH_OPTIONS.into(), o);
    }
    if !given_back.is_empty() {
        data.insert(GIVE_BACKS.into(), given_back.into());
    }
    data
}

/// Puts the series back in the queue with `data`.
fn put_pending(patchew: &Patchew, uri: &str, data: Map<String, Value>) -> Result<(), CmdError> {
    put(
        patchew,
        uri,
        &json!({"status": Status::Pending, "data": data, "log": null}),
    )
}

fn get(patchew: &Patchew, uri: &str) -> Result<ResultInfo, CmdError> {
    Ok(patchew.get_result(uri)?)
}

fn put(patchew: &Patchew, uri: &str, body: &Value) -> Result<(), CmdError> {
    Ok(patchew.put_json(uri, body)?)
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pending => "pending",
        Status::Running => "running",
        Status::Success => "applied",
        Status::Failure => "failed",
    }
}

fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown-host".into())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// `2024-01-31T12:00:00Z`: what Patchew's own dates look like, readable in its UI.
pub fn format_utc(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_string()
}

/// RFC 3339 (`T`, `t` or a space between date and time, fractions allowed); no zone
/// means UTC, as Patchew's naive `last_update` is.
pub fn parse_utc(s: &str) -> Option<i64> {
    let s = s.trim();
    let instant = s.parse::<jiff::Timestamp>().ok().or_else(|| {
        s.parse::<jiff::civil::DateTime>()
            .ok()?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    })?;
    Some(instant.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The count comes from the server: only strings are taken, at most 100 of
    /// them, each at most 1000 characters.
    #[test]
    fn give_back_reasons_are_read_within_bounds() {
        assert!(give_backs(&json!({})).is_empty());
        assert!(give_backs(&json!({"give_backs": "not a list"})).is_empty());
        assert_eq!(
            give_backs(&json!({"give_backs": ["a", 7, null, "b"]})),
            ["a", "b"]
        );
        let long = "x".repeat(5000);
        let many = vec![long; 500];
        let read = give_backs(&json!({ "give_backs": many }));
        assert_eq!(read.len(), MAX_GIVE_BACKS);
        assert!(read.iter().all(|r| r.chars().count() == MAX_REASON));
    }

    fn result(status: Status, data: Value, last_update: Option<&str>) -> ResultInfo {
        ResultInfo {
            name: "git".into(),
            status,
            data,
            log_url: None,
            log: None,
            last_update: last_update.map(str::to_owned),
        }
    }

    #[test]
    fn dates_round_trip_and_parse_patchew_forms() {
        for secs in [0, 951_782_400, 1_700_000_000, 4_102_444_799] {
            assert_eq!(parse_utc(&format_utc(secs)), Some(secs), "{secs}");
        }
        assert_eq!(format_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_utc("2023-11-14T22:13:20.123456"), Some(1_700_000_000));
        assert_eq!(parse_utc("2023-11-14 23:13:20+01:00"), Some(1_700_000_000));
        assert_eq!(parse_utc("2023-11-14T22:13:20-00:30"), Some(1_700_001_800));
        for bad in [
            "",
            "yesterday",
            "2023-13-01T00:00:00Z",
            "2023-11-14T22:13:20 UTC",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_measured_settle_is_twice_the_claims_requests_and_never_below_the_floor() {
        let ms = Duration::from_millis;
        assert_eq!(Settle::configured(None), Settle::Measured);
        assert_eq!(Settle::Measured.after(ms(6)), Settle::FLOOR);
        assert_eq!(Settle::Measured.after(ms(0)), Settle::FLOOR);
        assert_eq!(Settle::Measured.after(ms(400)), ms(800));
        // A configured value is taken as it is, 0 and values below the floor too.
        assert_eq!(Settle::configured(Some(ms(0))).after(ms(400)), ms(0));
        assert_eq!(Settle::configured(Some(ms(50))).after(ms(400)), ms(50));
        assert_eq!(Settle::Fixed(ms(2000)).after(ms(6)), ms(2000));
    }

    #[test]
    fn claims_are_held_until_the_timeout() {
        let hour = Duration::from_secs(3600);
        let now = 1_700_000_000;
        let claim =
            |at: i64| json!({"applier": "a", "pid": 7, "claim": "t", "claimed_at": format_utc(at)});
        assert_eq!(
            state(&result(Status::Pending, json!({}), None), now, hour),
            State::Free
        );
        assert_eq!(
            state(&result(Status::Running, claim(now - 60), None), now, hour),
            State::Held {
                by: "a (pid 7)".into(),
                age_secs: 60
            }
        );
        assert_eq!(
            state(&result(Status::Running, claim(now - 3600), None), now, hour),
            State::Stale {
                by: "a (pid 7)".into()
            }
        );
        // Someone else's running result: dated by Patchew, or not at all.
        let fresh = format_utc(now - 5);
        assert!(matches!(
            state(&result(Status::Running, json!({}), Some(&fresh)), now, hour),
            State::Held { .. }
        ));
        assert!(matches!(
            state(&result(Status::Running, Value::Null, None), now, hour),
            State::Stale { .. }
        ));
        assert_eq!(
            state(&result(Status::Success, json!({}), None), now, hour),
            State::Done(Status::Success)
        );
    }
}
