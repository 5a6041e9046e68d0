//! Serving a stored file over HTTP: streamed, with its length and type,
//! `ETag`/`If-None-Match`, one byte range, a `Content-Disposition` that
//! cannot carry a header, `nosniff`, and active content (SVG, HTML, text)
//! sandboxed so it never runs script on this origin.
use axum::body::Body as AxBody;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::files::serve::Object;
use crate::error::AppResult;
use crate::files::FileStore;

/// What the response says about the file.
pub struct Served<'a> {
    /// The bytes: the file, or one of its thumbnails.
    pub object: &'a Object,
    /// The stored name (the server's, `[a-z0-9_.]`).
    pub name: &'a str,
    /// `?download=1`: save rather than show.
    pub download: bool,
    /// Protected files are not kept by shared caches.
    pub private: bool,
}

/// The response for a GET of the file, honouring `If-None-Match` and `Range`.
pub async fn respond(store: &FileStore, f: &Served<'_>, req: &HeaderMap) -> AppResult<Response> {
    let mut headers = HeaderMap::new();
    let object = f.object;
    let content_type = object.content_type.as_str();
    let etag = format!("\"{}\"", object.etag);
    headers.insert(header::ETAG, value(&etag));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if f.private {
            "private, no-store"
        } else {
            "public, max-age=2592000, immutable"
        }),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let active = !(content_type.starts_with("image/") && content_type != "image/svg+xml")
        && content_type != "application/pdf";
    if active {
        // Shown on our origin, SVG or HTML could run script: a sandbox and
        // no sources make it inert.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'; style-src 'unsafe-inline'"),
        );
    }
    let inline = !f.download && content_type != "text/html";
    let safe_name: String = f
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .collect();
    let disposition = format!(
        "{}; filename=\"{safe_name}\"",
        if inline { "inline" } else { "attachment" }
    );
    headers.insert(header::CONTENT_DISPOSITION, value(&disposition));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if if_none_match(req, &etag) {
        headers.remove(header::CONTENT_TYPE);
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let range = match req.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(r) => match parse_range(r, object.size) {
            RangeAsk::Whole => None,
            RangeAsk::Part(start, end) => Some(start..end),
            RangeAsk::Unsatisfiable => {
                headers.insert(
                    header::CONTENT_RANGE,
                    value(&format!("bytes */{}", object.size)),
                );
                return Ok((StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response());
            }
        },
    };
    let got = store.read(&object.storage_key, range.clone()).await?;
    let len = got.range.end - got.range.start;
    headers.insert(header::CONTENT_LENGTH, value(&len.to_string()));
    let status = if range.is_some() {
        headers.insert(
            header::CONTENT_RANGE,
            value(&format!(
                "bytes {}-{}/{}",
                got.range.start,
                got.range.end.saturating_sub(1),
                got.size
            )),
        );
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    Ok((status, headers, AxBody::from_stream(got.stream)).into_response())
}

fn value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""))
}

fn if_none_match(req: &HeaderMap, etag: &str) -> bool {
    req.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        })
    })
}

#[derive(Debug, PartialEq)]
enum RangeAsk {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

/// One `bytes=` range (several, or a malformed header, get the whole file).
fn parse_range(header: &str, size: u64) -> RangeAsk {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAsk::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(s), Ok(e)) if s <= e => (s, e.saturating_add(1).min(size)),
        (Ok(s), Err(_)) if b.is_empty() => (s, size),
        (Err(_), Ok(n)) if a.is_empty() && n > 0 => (size.saturating_sub(n), size),
        _ => return RangeAsk::Whole,
    };
    if start >= size || start >= end {
        RangeAsk::Unsatisfiable
    } else {
        RangeAsk::Part(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::{RangeAsk, parse_range};

    #[test]
    fn byte_ranges_parse_as_rfc_9110_says() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeAsk::Part(0, 10));
        assert_eq!(parse_range("bytes=90-", 100), RangeAsk::Part(90, 100));
        assert_eq!(parse_range("bytes=-10", 100), RangeAsk::Part(90, 100));
        assert_eq!(parse_range("bytes=50-500", 100), RangeAsk::Part(50, 100));
        assert_eq!(parse_range("bytes=100-", 100), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeAsk::Whole);
        assert_eq!(parse_range("items=0-1", 100), RangeAsk::Whole);
    }
}
