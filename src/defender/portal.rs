//! Deep links into the Defender portal for an IP, an alert or a device, opened by the console and
//! written into case reports.

/// `https://security.microsoft.com/alerts/{id}?tid={tenant}`: the tenant id makes the portal
/// open in the right tenant for analysts who work in several.
pub fn alert_link(portal: &str, tenant: Option<&str>, id: &str) -> String {
    with_tenant(
        format!("{}/alerts/{}", portal.trim_end_matches('/'), percent(id)),
        tenant,
    )
}

/// `https://security.microsoft.com/ip/{ip}/overview?tid={tenant}`.
pub fn ip_link(portal: &str, tenant: Option<&str>, ip: &str) -> String {
    with_tenant(
        format!(
            "{}/ip/{}/overview",
            portal.trim_end_matches('/'),
            percent(ip)
        ),
        tenant,
    )
}

/// `https://security.microsoft.com/machines/v2/{id}/overview?tid={tenant}`: a device's page.
pub fn device_link(portal: &str, tenant: Option<&str>, id: &str) -> String {
    with_tenant(
        format!(
            "{}/machines/v2/{}/overview",
            portal.trim_end_matches('/'),
            percent(id)
        ),
        tenant,
    )
}

/// `url` for `tenant` when it is known, joined to a query the url already has (a kind's own
/// link builds on this and [`percent`]).
pub fn with_tenant(url: String, tenant: Option<&str>) -> String {
    let join = if url.contains('?') { '&' } else { '?' };
    match tenant {
        Some(tid) => format!("{url}{join}tid={}", percent(tid)),
        None => url,
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986), so an id can never break
/// out of its path segment. IPv6 colons are encoded too, which the portal accepts.
pub fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_joins_a_query_the_link_already_has() {
        let page = "https://security.microsoft.com/ip/10.0.0.1/overview".to_owned();
        assert_eq!(
            with_tenant(page.clone(), Some("t 1")),
            format!("{page}?tid=t%201")
        );
        let query = "https://security.microsoft.com/domains?urlDomain=a.example".to_owned();
        assert_eq!(
            with_tenant(query.clone(), Some("t1")),
            format!("{query}&tid=t1")
        );
        assert_eq!(with_tenant(query.clone(), None), query);
    }
}
