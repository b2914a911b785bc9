//! What every HTTP client of this workspace shares (the b5 transport here, the SCIM client in
//! the facade): which hosts may be spoken to in plain HTTP, reading an answer's body with a
//! size cap, and reading a server's "wait this long" header.
//!
//! The wire is hostile until proven otherwise: a body is read as a stream and refused as soon
//! as it passes the cap (or at once when its `Content-Length` says it will), so a server that
//! answers gigabytes costs at most the cap in memory; a body that drips slowly ends at the
//! request's total timeout, which the HTTP client applies to the body as well.

use std::time::{Duration, SystemTime};

use url::{Host, Url};

/// The default cap on one answer's body: 64 MiB. The largest answers a real account gives are
/// the people and vault listings; 10,000 people read in one listing are about 5 MiB of JSON, so
/// the cap is a generous multiple of the largest real answer. Configurable per client.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// The longest wait a server may ask for in a retry header before it is read as "give up":
/// one day. Longer values (and negative, non-finite or unparsable ones) are ignored.
const MAX_RETRY_HEADER_WAIT: Duration = Duration::from_secs(86_400);

/// Whether a URL's host is a loopback address (`127.0.0.0/8`, `::1`, `localhost` and names
/// under `.localhost`): the only hosts spoken to in plain `http://` unless insecure HTTP is
/// allowed on purpose.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The body is (or says it will be) larger than the cap; reading stopped at the cap.
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The request's total time ran out while the body was arriving.
    Timeout,
    /// The connection failed while the body was arriving.
    Transport(reqwest::Error),
}

/// Reads a response body, refusing it once it passes `limit` bytes.
///
/// A declared `Content-Length` above the cap is refused before any byte is read; otherwise the
/// body is read chunk by chunk and refused as soon as the total passes the cap, so memory stays
/// near `limit` whatever the server sends.
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ReadError> {
    if response
        .content_length()
        .is_some_and(|declared| declared > limit as u64)
    {
        return Err(ReadError::TooLarge { limit });
    }
    let mut body = Vec::with_capacity(
        response
            .content_length()
            .map_or(0, |n| usize::try_from(n).unwrap_or(limit).min(limit)),
    );
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(ReadError::TooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(ReadError::Timeout),
            Err(e) => return Err(ReadError::Transport(e)),
        }
    }
}

/// A reqwest error as text, without its URL (which may carry ids, and for some callers
/// secrets), with up to four of its causes: what the error is, then why.
pub fn describe_error(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = if error.is_connect() {
        "connection failed".to_owned()
    } else if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_request() {
        "request failed".to_owned()
    } else if error.is_body() || error.is_decode() {
        "reading the answer failed".to_owned()
    } else {
        "HTTP error".to_owned()
    };
    let mut source = error.source();
    let mut depth = 0;
    while let Some(cause) = source {
        if depth >= 4 {
            break;
        }
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
        depth += 1;
    }
    text
}

/// Reads a wait in seconds, as b5's `X-Rate-Limit-Retry-In` gives it (`"2"`, `"0.5"`).
/// Negative, non-finite, unparsable or absurd (over a day) values are `None`.
pub fn parse_retry_seconds(value: &str) -> Option<Duration> {
    let seconds = value.trim().parse::<f64>().ok()?;
    if !seconds.is_finite() || seconds < 0.0 || seconds > MAX_RETRY_HEADER_WAIT.as_secs_f64() {
        return None;
    }
    Some(Duration::from_secs_f64(seconds))
}

/// Reads an HTTP `Retry-After` value: delay seconds (`"120"`) or an HTTP date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, and the obsolete forms HTTP allows), measured from `now`.
/// A date in the past is a zero wait; unparsable values, and waits over a day, are `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: u64 = value.parse().ok()?;
        let wait = Duration::from_secs(seconds);
        return (wait <= MAX_RETRY_HEADER_WAIT).then_some(wait);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
    (wait <= MAX_RETRY_HEADER_WAIT).then_some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for yes in [
            "http://127.0.0.1:1/",
            "http://127.9.9.9/",
            "http://[::1]:8/",
            "http://localhost/",
            "http://a.LOCALHOST/",
        ] {
            assert!(is_loopback(&Url::parse(yes).unwrap()), "{yes}");
        }
        for no in [
            "http://10.0.0.1/",
            "http://localhost.example.com/",
            "http://my.1password.com/",
            "http://[::2]/",
        ] {
            assert!(!is_loopback(&Url::parse(no).unwrap()), "{no}");
        }
    }

    #[test]
    fn retry_seconds() {
        assert_eq!(parse_retry_seconds(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_seconds("0.5"), Some(Duration::from_millis(500)));
        for bad in ["-1", "NaN", "inf", "x", "", "86401", "1e300"] {
            assert_eq!(parse_retry_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn retry_after_seconds_or_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        // The obsolete RFC 850 form HTTP still allows.
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in [
            "",
            "-5",
            "soon",
            "99999999",
            "Thu, 22 Oct 2015 07:28:01 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }
}
