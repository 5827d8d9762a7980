//! The HTTP pieces every route shares: answers, GitHub's error bodies, query strings and
//! pagination with `Link` headers.

use serde_json::{json, Value};

/// An answer before the common headers are added.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
}

#[derive(Debug)]
pub(crate) enum Body {
    Json(Value),
    Text(String),
    Empty,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Json(body),
        }
    }

    /// GitHub's error body: `{"message", "documentation_url", "status"}`.
    pub(crate) fn error(status: u16, message: &str, docs: &str) -> Reply {
        Reply::json(
            status,
            json!({ "message": message, "documentation_url": docs, "status": status.to_string() }),
        )
    }

    pub(crate) fn not_found(docs: &str) -> Reply {
        Reply::error(404, "Not Found", docs)
    }

    /// 422 `Validation Failed` with GitHub's `errors` list.
    pub(crate) fn invalid(docs: &str, resource: &str, problems: &[String]) -> Reply {
        let errors: Vec<Value> = problems
            .iter()
            .map(|p| json!({ "resource": resource, "code": "invalid", "message": p }))
            .collect();
        Reply::json(
            422,
            json!({
                "message": "Validation Failed",
                "errors": errors,
                "documentation_url": docs,
                "status": "422",
            }),
        )
    }

    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

pub(crate) fn secondary_rate_limit_body() -> String {
    json!({
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
        "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        "status": "403",
    })
    .to_string()
}

/// The reason phrase GitHub's error bodies use for a status.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Bad credentials",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        422 => "Validation Failed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Server Error",
        503 => "Service Unavailable",
        504 => "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request and contact us if the problem persists.",
        _ => "Error",
    }
}

/// `%XX` decoded (and `+` as a space when `plus` is set, as in a query).
pub(crate) fn percent_decode(text: &str, plus: bool) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A decoded query string, in order.
#[derive(Debug, Default)]
pub(crate) struct Query(pub(crate) Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(query: Option<&str>) -> Query {
        let pairs = query
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
                None => (percent_decode(p, true), String::new()),
            })
            .collect();
        Query(pairs)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A query value escaped for a `Link` URL.
fn escape(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One page of `items` as GitHub cuts it (`per_page` default 30, at most 100; `page` from 1),
/// with the `Link` header for the others.
pub(crate) fn paginate(
    items: Vec<Value>,
    query: &Query,
    base_url: &str,
    path: &str,
) -> (Vec<Value>, Option<String>) {
    let per_page = query
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = query
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    if last == 1 {
        return (slice, None);
    }
    let url = |n: usize| {
        let mut params: Vec<String> = query
            .0
            .iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
            .collect();
        params.push(format!("per_page={per_page}"));
        params.push(format!("page={n}"));
        format!("<{base_url}{path}?{}>", params.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", url(page - 1)));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
    }
    (slice, Some(links.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode() {
        let q = Query::parse(Some("check_name=vouch%3A%20main&per_page=100&page=2&x"));
        assert_eq!(q.get("check_name"), Some("vouch: main"));
        assert_eq!(q.get("page"), Some("2"));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(percent_decode("a%2", false), "a%2");
        assert_eq!(percent_decode("%zz%41", false), "%zzA");
    }

    #[test]
    fn pages_and_links() {
        let items: Vec<Value> = (0..250).map(|i| json!(i)).collect();
        let q = Query::parse(Some("state=open&per_page=100&page=2"));
        let (page, link) = paginate(items, &q, "http://h", "/r");
        assert_eq!(page.len(), 100);
        assert_eq!(page[0], json!(100));
        let link = link.unwrap();
        assert!(
            link.contains("<http://h/r?state=open&per_page=100&page=3>; rel=\"next\""),
            "{link}"
        );
        assert!(link.contains("rel=\"prev\""));
        let (page, link) = paginate(vec![json!(1)], &Query::default(), "http://h", "/r");
        assert_eq!((page.len(), link), (1, None));
    }
}
