//! The page's address: its query string, and URLs resolved against it.

/// Resolves `url` against the page's address: the worker runs from a blob URL, where a
/// relative URL means nothing.
pub fn absolute_url(url: &str) -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .and_then(|base| web_sys::Url::new_with_base(url, &base).ok())
        .map(|u| u.href())
        .unwrap_or_else(|| url.to_string())
}

/// The host of `url` when it is on another origin than the page (`None`: same origin).
pub fn foreign_host(url: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let page = web_sys::Url::new(&location.href().ok()?).ok()?;
    let target = web_sys::Url::new_with_base(url, &page.href()).ok()?;
    (target.origin() != page.origin()).then(|| target.host())
}

/// This page's address (origin and path) with `query` as its query string: a share link.
pub fn share_link(query: &str) -> String {
    web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!(
                "{}{}?{query}",
                l.origin().ok()?,
                l.pathname().ok()?
            ))
        })
        .unwrap_or_default()
}

/// Reads `name` from the page's query string.
pub fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get(name).filter(|v| !v.is_empty())
}
