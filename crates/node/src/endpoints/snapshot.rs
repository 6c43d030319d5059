//! `GET|HEAD /node/snapshot` and `/node/snapshot/{snapshot_name}` (spec/ccf-api.md §1.1): where
//! a joining node downloads the latest committed snapshot, by byte ranges as CCF serves it.

use cloister_types::ApiError;

use crate::endpoints::common::unreachable_template;
use crate::endpoints::{EndpointContext, Handler, handler};
use crate::rpc::{Endpoint, EndpointRegistry, Forwarding, Mode, PathTemplate, Response};

/// Installs the snapshot endpoints: unauthenticated, read-only, never forwarded.
pub fn install(registry: &mut EndpointRegistry<Handler>) {
    for method in ["GET", "HEAD"] {
        for (path, run) in [
            ("/snapshot", handler(latest)),
            ("/snapshot/{snapshot_name}", handler(download)),
        ] {
            registry.install(Endpoint {
                method: method.to_owned(),
                template: PathTemplate::parse(path).unwrap_or_else(|| unreachable_template(path)),
                policies: Vec::new(),
                mode: Mode::ReadOnly,
                forwarding: Forwarding::Never,
                handler: run,
            });
        }
    }
}

/// 308 to the latest committed snapshot newer than `since`.
fn latest(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let since = match ctx.request.query_param("since") {
        None => 0,
        Some(text) => text.parse::<u64>().map_err(|_| {
            ApiError::new(
                400,
                "InvalidQueryParameterValue",
                format!("Value '{text}' in 'since' is not a valid seqno"),
            )
        })?,
    };
    let snapshot = ctx
        .node
        .snapshot
        .filter(|snapshot| snapshot.seqno.0 > since)
        .ok_or_else(|| {
            ApiError::new(
                404,
                "ResourceNotFound",
                format!("This node has no committed snapshots since {since}"),
            )
        })?;
    Ok(Response {
        status: 308,
        headers: vec![(
            "location".to_owned(),
            format!("/node/snapshot/{}", snapshot.name),
        )],
        body: Vec::new(),
    })
}

/// The snapshot's size (HEAD), bytes (GET) or a byte range of it (`range: bytes=a-b`).
fn download(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let name = ctx.params.get("snapshot_name").cloned().unwrap_or_default();
    let snapshot = ctx
        .node
        .snapshot
        .filter(|snapshot| snapshot.name == name)
        .ok_or_else(|| {
            ApiError::new(
                404,
                "ResourceNotFound",
                format!("This node does not have a snapshot named {name}"),
            )
        })?;
    let total = snapshot.bytes.len();
    let mut headers = vec![
        (
            "content-type".to_owned(),
            "application/octet-stream".to_owned(),
        ),
        ("accept-ranges".to_owned(), "bytes".to_owned()),
    ];
    if ctx.request.method == "HEAD" {
        headers.push(("content-length".to_owned(), total.to_string()));
        return Ok(Response {
            status: 200,
            headers,
            body: Vec::new(),
        });
    }
    let Some(range) = ctx.request.header("range") else {
        return Ok(Response {
            status: 200,
            headers,
            body: snapshot.bytes.clone(),
        });
    };
    let (start, end) = parse_range(range, total)?;
    headers.push((
        "content-range".to_owned(),
        format!("bytes {start}-{end}/{total}"),
    ));
    Ok(Response {
        status: 206,
        headers,
        body: snapshot.bytes[start..=end].to_vec(),
    })
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n`, clamped to the file (CCF 6.0.16 and later).
fn parse_range(range: &str, total: usize) -> Result<(usize, usize), ApiError> {
    let bad = |why: &str| {
        ApiError::new(
            400,
            "InvalidHeaderValue",
            format!("Invalid range header '{range}': {why}"),
        )
    };
    let spec = range
        .strip_prefix("bytes=")
        .ok_or_else(|| bad("only the bytes unit is supported"))?;
    let (first, last) = spec
        .split_once('-')
        .ok_or_else(|| bad("expected start-end"))?;
    if total == 0 {
        return Err(bad("the snapshot is empty"));
    }
    let last_byte = total - 1;
    let (start, end) = match (first.trim(), last.trim()) {
        ("", "") => return Err(bad("expected start-end")),
        ("", suffix) => {
            let n: usize = suffix
                .parse()
                .map_err(|_| bad("the suffix is not a number"))?;
            (total.saturating_sub(n), last_byte)
        }
        (start, "") => {
            let start: usize = start
                .parse()
                .map_err(|_| bad("the start is not a number"))?;
            (start, last_byte)
        }
        (start, end) => {
            let start: usize = start
                .parse()
                .map_err(|_| bad("the start is not a number"))?;
            let end: usize = end.parse().map_err(|_| bad("the end is not a number"))?;
            (start, end.min(last_byte))
        }
    };
    if start > end {
        return Err(bad("the start is past the end"));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_parsed_and_clamped_as_ccf_does() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), (0, 9));
        assert_eq!(parse_range("bytes=90-200", 100).unwrap(), (90, 99));
        assert_eq!(parse_range("bytes=95-", 100).unwrap(), (95, 99));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), (90, 99));
        for bad in ["items=0-1", "bytes=5", "bytes=9-2", "bytes=a-b", "bytes=-"] {
            assert_eq!(parse_range(bad, 100).unwrap_err().status, 400, "{bad}");
        }
    }
}
