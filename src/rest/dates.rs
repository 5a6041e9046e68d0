//! Dates as the REST dialects write them.

/// RFC 3339 with milliseconds and `Z`, as Cocobase and urBackend send dates.
pub fn iso_ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
